//! Repository rules, checked as plain tests (`cargo test` runs them) and by
//! `cargo xtask tidy`. In the manner of rust-analyzer's tidy tests: the architecture's
//! invariants are stated as absences and checked by code, not by review.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates whose default build is pure: no runtime, no database, no HTTP. The domain crates,
/// and the SIP2 codec (its TCP server, when it comes, sits behind a non-default feature).
pub const DOMAIN_CRATES: &[&str] = &[
    "library-sip2",
    "library-core",
    "library-credentials",
    "library-fines",
    "library-circulation",
    "library-reader-services",
    "library-premises",
];

/// What a domain crate's normal dependency tree must not contain.
pub const FORBIDDEN_IN_DOMAIN: &[&str] = &[
    "tokio",
    "sea-orm",
    "sea-query",
    "sqlx",
    "poem",
    "poem-openapi",
    "hyper",
    "reqwest",
    "chrono",
];

/// Runs every check; returns every problem found.
pub fn check_all(root: &Path) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    problems.extend(crate_manifests(root));
    problems.extend(domain_layering(root));
    problems.extend(adapter_layering(root));
    problems.extend(application_layering(root));
    problems.extend(app_independence(root));
    problems.extend(docs_in_sync(root));
    problems.extend(no_unexplained_ignores(root));
    problems.extend(no_conflict_markers(root));
    problems.extend(no_outside_citations(root));
    problems.extend(markdown_links(root));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn member_dirs(root: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    for group in ["crates", "apps"] {
        let Ok(entries) = fs::read_dir(root.join(group)) else {
            continue;
        };
        for entry in entries.flatten() {
            let manifest = entry.path().join("Cargo.toml");
            if manifest.exists() {
                out.push((
                    format!("{group}/{}", entry.file_name().to_string_lossy()),
                    manifest,
                ));
            }
        }
    }
    out.sort();
    out
}

fn package_name(manifest: &str) -> Option<String> {
    manifest.lines().map(str::trim).find_map(|l| {
        l.strip_prefix("name = \"")
            .and_then(|rest| rest.strip_suffix('"'))
            .map(str::to_owned)
    })
}

/// Every crate: named after its folder, unpublished, workspace lints.
fn crate_manifests(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (dir, manifest) in member_dirs(root) {
        let text = fs::read_to_string(&manifest).unwrap_or_default();
        let name = package_name(&text).unwrap_or_default();
        let folder = dir.rsplit('/').next().unwrap_or_default();
        let expected = if dir.starts_with("crates/") {
            format!("library-{folder}")
        } else {
            folder.to_owned()
        };
        if name != expected {
            problems.push(format!("{dir}: package is `{name}`, expected `{expected}`"));
        }
        if !text.contains("publish.workspace = true") {
            problems.push(format!("{dir}: missing `publish.workspace = true`"));
        }
        if !text.contains("[lints]\nworkspace = true") {
            problems.push(format!("{dir}: missing `[lints] workspace = true`"));
        }
    }
    problems
}

/// Domain crates depend on no runtime, database or HTTP crate (normal dependencies).
fn domain_layering(root: &Path) -> Vec<String> {
    layering(
        root,
        DOMAIN_CRATES,
        &[],
        FORBIDDEN_IN_DOMAIN,
        "domain crates must stay free of runtimes, databases and HTTP",
    )
}

/// The inbound adapters (HTTP, SIP2 with its server) speak to the domain through ports,
/// never to the database adapter: they do not depend on `library-persistence`.
fn adapter_layering(root: &Path) -> Vec<String> {
    layering(
        root,
        INBOUND_ADAPTERS,
        &["--all-features"],
        &["library-persistence"],
        "inbound adapters reach the database only through ports",
    )
}

/// The application layer knows no database, no HTTP and no wire format: the adapters
/// implement its interfaces and call its services, never the other way.
fn application_layering(root: &Path) -> Vec<String> {
    layering(
        root,
        APPLICATION_CRATES,
        &["--all-features"],
        FORBIDDEN_IN_APPLICATION,
        "the application layer depends on no adapter",
    )
}

/// The application layer's crates (checked with every feature on).
pub const APPLICATION_CRATES: &[&str] = &["library-app"];

/// What the application layer's dependency tree must not contain.
pub const FORBIDDEN_IN_APPLICATION: &[&str] = &[
    "library-persistence",
    "library-http",
    "library-sip2",
    "library-web",
    "library-setup",
    "sea-orm",
    "sea-query",
    "sqlx",
    "poem",
    "poem-openapi",
    "hyper",
    "reqwest",
];

/// The apps are composition roots: none depends on another (what two apps share lives in
/// a crate, such as `library-setup`).
fn app_independence(root: &Path) -> Vec<String> {
    let apps: Vec<String> = member_dirs(root)
        .iter()
        .filter(|(dir, _)| dir.starts_with("apps/"))
        .filter_map(|(_, m)| package_name(&fs::read_to_string(m).unwrap_or_default()))
        .collect();
    let mut problems = Vec::new();
    for app in &apps {
        let others: Vec<&str> = apps
            .iter()
            .filter(|other| *other != app)
            .map(String::as_str)
            .collect();
        problems.extend(layering(
            root,
            &[app.as_str()],
            &["--all-features"],
            &others,
            "an app depends on no other app",
        ));
    }
    problems
}

/// Inbound adapter crates (checked with every feature on).
pub const INBOUND_ADAPTERS: &[&str] = &["library-http", "library-sip2", "library-web"];

/// Each crate of `crates` present in the workspace: its normal dependency tree (with
/// `features` flags) names none of `forbidden`.
fn layering(
    root: &Path,
    crates: &[&str],
    features: &[&str],
    forbidden: &[&str],
    why: &str,
) -> Vec<String> {
    let present: Vec<String> = member_dirs(root)
        .iter()
        .filter_map(|(_, m)| package_name(&fs::read_to_string(m).unwrap_or_default()))
        .collect();
    let mut problems = Vec::new();
    for krate in crates.iter().filter(|k| present.iter().any(|p| p == *k)) {
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["tree", "--offline", "-p", krate, "-e", "normal"])
            .args(features)
            .args(["--prefix", "none", "--format", "{p}"])
            .output();
        match output {
            Ok(o) if o.status.success() => problems.extend(forbidden_in_tree(
                krate,
                &String::from_utf8_lossy(&o.stdout),
                forbidden,
                why,
            )),
            Ok(o) => problems.push(format!(
                "cargo tree -p {krate} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(e) => problems.push(format!("cargo tree -p {krate} could not start: {e}")),
        }
    }
    problems
}

/// The lines of a `cargo tree --prefix none --format {p}` output of `krate` that name a
/// `forbidden` package (each reported once).
fn forbidden_in_tree(krate: &str, tree: &str, forbidden: &[&str], why: &str) -> Vec<String> {
    let mut found: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|dep| forbidden.contains(dep))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
        .into_iter()
        .map(|dep| format!("{krate} depends on {dep} ({why})"))
        .collect()
}

/// README shows the test command; the architecture map names every crate.
fn docs_in_sync(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let readme = fs::read_to_string(root.join("README.md")).unwrap_or_default();
    if !readme.contains("cargo xtask test") {
        problems.push("README.md does not show the test command `cargo xtask test`".into());
    }
    let map = fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap_or_default();
    for (dir, manifest) in member_dirs(root) {
        let name =
            package_name(&fs::read_to_string(manifest).unwrap_or_default()).unwrap_or_default();
        if !map.contains(&format!("`{name}`")) {
            problems.push(format!(
                "docs/ARCHITECTURE.md does not describe `{name}` ({dir})"
            ));
        }
    }
    problems
}

/// Every ignored test says why (`ignore = "reason"`), so nobody wonders whether it may go.
fn no_unexplained_ignores(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut stack = vec![root.join("crates"), root.join("apps"), root.join("xtask")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap_or_default();
                let needle = concat!("#[", "ignore]");
                if text.contains(needle) {
                    problems.push(format!(
                        "{}: an ignored test without a reason",
                        path.display()
                    ));
                }
            }
        }
    }
    problems
}

/// A line that only a merge left unresolved writes.
fn is_conflict_marker(line: &str) -> bool {
    let marker = |c: char| {
        line.len() >= 7 && line.chars().take(7).all(|x| x == c) && {
            let rest = &line[7..];
            rest.is_empty() || rest.starts_with(' ')
        }
    };
    (marker('<') || marker('>')) || line == "======="
}

/// Every file git tracks, with its text: `Cargo.lock` and files that are not UTF-8 text
/// (binary files) left out.
fn tracked_text_files(root: &Path) -> Vec<(String, String)> {
    let Ok(out) = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
    else {
        return Vec::new();
    };
    out.stdout
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|name| name != "Cargo.lock")
        .filter_map(|name| {
            let text = fs::read_to_string(root.join(&name)).ok()?;
            Some((name, text))
        })
        .collect()
}

/// Tracked text files with merge-conflict markers (`Cargo.lock` and binary files aside).
fn no_conflict_markers(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, text) in tracked_text_files(root) {
        if let Some(n) = text.lines().position(is_conflict_marker) {
            problems.push(format!("{name}:{}: a merge-conflict marker", n + 1));
        }
    }
    problems
}

/// The folder beside the repository where documents outside it were kept. Spelled with
/// `concat!`, here and below, so that this file does not cite them itself.
const SHARED: &str = concat!("shared", "/");

/// What a file cites when it points at a document that is not in the repository: the
/// specification and research files the docs were first written from. The repository's
/// own documents are `README.md` and `docs/` (`policy.md`, `http.md`, `sip2.md`, ...).
const OUTSIDE_DOCUMENTS: &[&str] = &[
    concat!("product", ".md"),
    concat!("http-api", ".md"),
    concat!("hkpl", "-rules"),
    concat!("circulation", "-fines"),
    concat!("credentials", "-security"),
    concat!("rust", "-stack", ".md"),
    SHARED,
];

/// The lines of `text` (the file `name`) that cite a document outside the repository.
fn outside_citations(name: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for cited in OUTSIDE_DOCUMENTS {
            if line.contains(*cited) {
                problems.push(format!(
                    "{name}:{}: cites `{cited}`, which is not in the repository",
                    n + 1
                ));
                break;
            }
        }
    }
    problems
}

/// No tracked file (`Cargo.lock` and binary files aside) cites a document that is not in
/// the repository: the docs must stand on their own.
fn no_outside_citations(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, text) in tracked_text_files(root) {
        problems.extend(outside_citations(&name, &text));
    }
    problems
}

/// The anchor a heading gets, as GitHub makes it: lower case, spaces to `-`, every
/// character but letters, digits, `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c == ' ' {
                Some('-')
            } else if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

/// Whether `line` opens or closes a fenced code block.
fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

/// The anchors of the headings of a Markdown text, in order; a repeated heading gets `-1`,
/// `-2`, ... as on GitHub.
fn heading_anchors(text: &str) -> Vec<String> {
    let mut bases: Vec<String> = Vec::new();
    let mut anchors = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if is_fence(line) {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let repeats = bases.iter().filter(|b| **b == base).count();
        anchors.push(if repeats == 0 {
            base.clone()
        } else {
            format!("{base}-{repeats}")
        });
        bases.push(base);
    }
    anchors
}

/// The relative link targets of a Markdown text with their line numbers: `[text](target)`
/// outside code blocks and code spans, web and mail addresses left out.
fn relative_links(text: &str) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    let mut fenced = false;
    let mut in_code = false;
    for (n, line) in text.lines().enumerate() {
        if is_fence(line) {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        if line.trim().is_empty() {
            // A code span never runs past its paragraph.
            in_code = false;
            continue;
        }
        let mut visible = String::new();
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                visible.push(c);
            }
        }
        let mut rest = visible.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or_default();
            if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
                links.push((n + 1, target.to_owned()));
            }
            rest = &rest[end..];
        }
    }
    links
}

/// `README.md` and every `docs/*.md`.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    if let Ok(entries) = fs::read_dir(root.join("docs")) {
        let mut docs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        docs.sort();
        files.extend(docs);
    }
    files
}

/// The broken links of one Markdown file: a relative target that names no file, or an
/// anchor that names no heading of its file. `file` is the path links are resolved from;
/// `shown` names it in the messages.
fn broken_links(file: &Path, shown: &str, text: &str) -> Vec<String> {
    let dir = file.parent().unwrap_or_else(|| Path::new("."));
    let mut problems = Vec::new();
    for (n, target) in relative_links(text) {
        let (path, anchor) = match target.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (target.as_str(), None),
        };
        let linked = dir.join(path);
        if !path.is_empty() && !linked.exists() {
            problems.push(format!("{shown}:{n}: link to `{target}`: no such file"));
            continue;
        }
        if let Some(anchor) = anchor {
            let linked_text = if path.is_empty() {
                text.to_owned()
            } else {
                fs::read_to_string(&linked).unwrap_or_default()
            };
            if !heading_anchors(&linked_text).iter().any(|a| a == anchor) {
                problems.push(format!("{shown}:{n}: link to `{target}`: no such heading"));
            }
        }
    }
    problems
}

/// Every relative link of `README.md` and `docs/*.md` resolves: to a file, and for an
/// `#anchor` to a heading of that file.
fn markdown_links(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for file in markdown_files(root) {
        let Ok(text) = fs::read_to_string(&file) else {
            problems.push(format!("{}: cannot be read", file.display()));
            continue;
        };
        let shown = file
            .strip_prefix(root)
            .unwrap_or(file.as_path())
            .display()
            .to_string();
        problems.extend(broken_links(&file, &shown, &text));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_keeps_a_merge_conflict_marker() {
        assert_eq!(no_conflict_markers(&root()), Vec::<String>::new());
        assert!(is_conflict_marker(&format!("{} HEAD", "<".repeat(7))));
        assert!(is_conflict_marker(&"=".repeat(7)));
        assert!(is_conflict_marker(&format!("{} branch", ">".repeat(7))));
        assert!(!is_conflict_marker("<<<<<<<<"));
        assert!(!is_conflict_marker("| ======= |"));
    }

    fn root() -> std::path::PathBuf {
        crate::workspace_root()
    }

    #[test]
    fn crates_are_named_after_their_folders_and_use_workspace_settings() {
        assert_eq!(crate_manifests(&root()), Vec::<String>::new());
    }

    #[test]
    fn domain_crates_have_no_runtime_database_or_http_dependency() {
        assert_eq!(domain_layering(&root()), Vec::<String>::new());
    }

    #[test]
    fn readme_and_architecture_map_are_in_sync() {
        assert_eq!(docs_in_sync(&root()), Vec::<String>::new());
    }

    #[test]
    fn every_ignore_has_a_reason() {
        assert_eq!(no_unexplained_ignores(&root()), Vec::<String>::new());
    }

    #[test]
    fn no_file_cites_a_document_outside_the_repository() {
        assert_eq!(no_outside_citations(&root()), Vec::<String>::new());
        // The check fails on a citation of each kind, and names the line.
        for cited in OUTSIDE_DOCUMENTS {
            let text = format!("fine\n//! The rule (see {cited} §7).\n");
            let problems = outside_citations("crates/x/src/lib.rs", &text);
            assert_eq!(problems.len(), 1, "{cited}");
            assert!(
                problems[0].starts_with("crates/x/src/lib.rs:2: "),
                "{problems:?}"
            );
        }
        // No path beside the repository is excused, not even a CI machine's copy of a
        // database (xtask finds that one without naming the folder).
        let copy = format!("cloned from `../{SHARED}rustsec/advisory-db.bundle`");
        assert_eq!(outside_citations("docs/x.md", &copy).len(), 1);
    }

    #[test]
    fn every_relative_markdown_link_resolves() {
        assert_eq!(markdown_links(&root()), Vec::<String>::new());
    }

    #[test]
    fn headings_get_github_anchors() {
        assert_eq!(slug("Errors and limits"), "errors-and-limits");
        assert_eq!(
            slug("Reader registration (`POST /patrons`)"),
            "reader-registration-post-patrons"
        );
        assert_eq!(
            slug("`crates/core` — `library-core`"),
            "cratescore--library-core"
        );
        let text = "# Title\n\n```\n# not a heading\n```\n## Notes\n### Notes\n#hashtag\n";
        assert_eq!(heading_anchors(text), ["title", "notes", "notes-1"]);
    }

    #[test]
    fn the_link_check_fails_on_a_missing_file_or_heading() {
        let file = root().join("docs").join("example.md");
        let text = "# Example\n\n## Known heading\n\n\
            [ok](#known-heading), [ok](http.md), [ok](http.md#errors-and-limits),\n\
            [ok](../README.md), [web](https://example.org/x.md), `[code](nowhere.md)`\n\
            [gone](nowhere.md)\n\
            [bad anchor](http.md#no-such-heading)\n\
            [bad here](#unknown)\n";
        let problems = broken_links(&file, "docs/example.md", text);
        assert_eq!(
            problems,
            [
                "docs/example.md:7: link to `nowhere.md`: no such file",
                "docs/example.md:8: link to `http.md#no-such-heading`: no such heading",
                "docs/example.md:9: link to `#unknown`: no such heading",
            ]
        );
    }

    #[test]
    fn the_layering_check_would_catch_a_forbidden_dependency() {
        // A `cargo tree` output as the check reads it: the crate, then its dependencies,
        // one per line, repeated ones marked `(*)`.
        let tree = "library-fines v0.0.0 (/w/crates/fines)\n\
                    library-core v0.0.0 (/w/crates/core)\n\
                    time v0.3.44\n\
                    tokio v1.48.0\n\
                    sqlx v0.9.0\n\
                    tokio v1.48.0 (*)\n";
        assert_eq!(
            forbidden_in_tree("library-fines", tree, FORBIDDEN_IN_DOMAIN, "pure"),
            vec![
                "library-fines depends on sqlx (pure)".to_owned(),
                "library-fines depends on tokio (pure)".to_owned(),
            ]
        );
        let clean = "library-fines v0.0.0 (/w/crates/fines)\ntime v0.3.44\n";
        assert!(forbidden_in_tree("library-fines", clean, FORBIDDEN_IN_DOMAIN, "pure").is_empty());
        // A name that merely starts like a forbidden one is not it.
        let near = "library-http v0.0.0\nlibrary-persistence-extras v1.0.0\n";
        assert!(forbidden_in_tree("library-http", near, &["library-persistence"], "x").is_empty());
    }

    #[test]
    fn inbound_adapters_do_not_depend_on_the_database_adapter() {
        assert_eq!(adapter_layering(&root()), Vec::<String>::new());
    }

    #[test]
    fn the_application_layer_depends_on_no_adapter() {
        assert_eq!(application_layering(&root()), Vec::<String>::new());
    }

    #[test]
    fn no_app_depends_on_another_app() {
        assert_eq!(app_independence(&root()), Vec::<String>::new());
        // The check reads an app's tree as it reads a crate's: an admin tool linking the
        // server would be named.
        let tree = "library-admin v0.0.0 (/w/apps/library-admin)\n\
                    library-setup v0.0.0 (/w/crates/setup)\n\
                    library-server v0.0.0 (/w/apps/library-server)\n";
        assert_eq!(
            forbidden_in_tree("library-admin", tree, &["library-server"], "apps"),
            vec!["library-admin depends on library-server (apps)".to_owned()]
        );
    }
}
