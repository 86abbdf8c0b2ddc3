//! The stylesheet and the script, embedded in the binary (the server may have no internet)
//! and served under names that carry a hash of their content, so they are cached for a
//! year and a new release is fetched at once.

use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Response, handler};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../assets/site.css");
const JS: &str = include_str!("../assets/site.js");
const ICON: &str = include_str!("../assets/icon.svg");

struct Asset {
    path: String,
    body: &'static str,
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    Asset {
        path: format!("{stem}.{hash}.{ext}"),
        body,
        content_type,
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        asset("site", "css", CSS, "text/css; charset=utf-8"),
        asset("site", "js", JS, "text/javascript; charset=utf-8"),
        asset("icon", "svg", ICON, "image/svg+xml"),
    ]
});

/// The URL of the stylesheet.
pub(crate) fn css_url() -> String {
    format!("/static/{}", ASSETS[0].path)
}

/// The URL of the script.
pub(crate) fn js_url() -> String {
    format!("/static/{}", ASSETS[1].path)
}

/// The URL of the icon.
pub(crate) fn icon_url() -> String {
    format!("/static/{}", ASSETS[2].path)
}

/// `GET /static/{name}`: an asset by its hashed name, cached for a year; 404 otherwise.
#[handler]
pub(crate) fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == name) {
        Some(a) => Response::builder()
            .header(header::CONTENT_TYPE, a.content_type)
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .body(a.body),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CACHE_CONTROL, "no-store")
            .finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        assert!(css_url().starts_with("/static/site.") && css_url().ends_with(".css"));
        assert!(js_url().ends_with(".js"));
        assert_eq!(css_url().len(), "/static/site.".len() + 12 + ".css".len());
    }
}
