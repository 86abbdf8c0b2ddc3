//! The `Allow` header of a 405 answer (RFC 9110 §15.5.6: "the origin server MUST generate
//! an Allow header field … containing a list of the target resource's currently supported
//! methods"). The table is read once from the served OpenAPI document, so it names exactly
//! the methods the document declares for each path.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Path templates (`/api/v1/patrons/{card_number}`) with the methods declared for each.
/// Also names the template a request's path matches, for the metrics' `route` label.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowTable {
    routes: Vec<Entry>,
}

/// One template: its segments, its text, and its methods as an `Allow` value.
#[derive(Debug, Clone)]
struct Entry {
    segments: Vec<Segment>,
    template: Arc<str>,
    allow: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

fn segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

impl AllowTable {
    /// The table of an OpenAPI document (JSON text); the served document's own paths
    /// (`/openapi.json`, `/docs`) answer GET.
    pub(crate) fn from_spec(spec: &str) -> Self {
        let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // A path may appear more than once in the document (one entry per API group that
        // declares it), so the entries are read as a list, not a map that keeps the last.
        let doc: Document = serde_json::from_str(spec).unwrap_or_default();
        for (path, item) in doc.paths.0 {
            let Some(ops) = item.as_object() else {
                continue;
            };
            let methods = by_path.entry(path).or_default();
            for m in ops.keys() {
                let known = matches!(
                    m.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                );
                let m = m.to_ascii_uppercase();
                if known && !methods.contains(&m) {
                    methods.push(m);
                }
            }
        }
        for own in ["/openapi.json", "/docs"] {
            by_path
                .entry(own.to_owned())
                .or_insert_with(|| vec!["GET".into()]);
        }
        let mut routes: Vec<Entry> = by_path
            .into_iter()
            .map(|(path, mut methods)| {
                if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
                    methods.push("HEAD".into());
                }
                methods.sort_by_key(|m| order(m));
                Entry {
                    segments: segments(&path),
                    template: path.into(),
                    allow: methods.join(", "),
                }
            })
            .collect();
        // A literal segment beats a parameter (`/patrons/{card}` vs a fixed path).
        routes.sort_by_key(|e| {
            e.segments
                .iter()
                .map(|s| usize::from(*s == Segment::Param))
                .collect::<Vec<_>>()
        });
        Self { routes }
    }

    /// The declared template `path` matches, if any.
    fn find(&self, path: &str) -> Option<&Entry> {
        let parts = path.split('/').filter(|s| !s.is_empty());
        let n = parts.clone().count();
        self.routes.iter().find(|e| {
            e.segments.len() == n
                && e.segments.iter().zip(parts.clone()).all(|(s, p)| match s {
                    Segment::Param => true,
                    Segment::Literal(l) => l == p,
                })
        })
    }

    /// The template (`/api/v1/patrons/{card_number}`) `path` matches; `None` if no declared
    /// path matches.
    pub(crate) fn template(&self, path: &str) -> Option<Arc<str>> {
        self.find(path).map(|e| e.template.clone())
    }

    /// The methods declared for the path of a request, as an `Allow` value; `None` if no
    /// declared path matches.
    pub(crate) fn allow(&self, path: &str) -> Option<String> {
        self.find(path).map(|e| e.allow.clone())
    }
}

/// The OpenAPI document `spec` with one entry per path. poem-openapi writes a path once per
/// API group that declares it (`GET /patrons` with the readers, `POST /patrons` with the
/// staff), and a JSON reader keeps only the last of duplicate keys, so the document as
/// generated hides operations from every client generator and fuzzer. The operations of a
/// path's entries are merged into one entry; the rest of the document is kept as it is.
/// A document that does not parse is returned unchanged.
pub(crate) fn one_entry_per_path(spec: &str) -> String {
    let (Ok(mut whole), Ok(doc)) = (
        serde_json::from_str::<serde_json::Value>(spec),
        serde_json::from_str::<Document>(spec),
    ) else {
        return spec.to_owned();
    };
    let mut paths = serde_json::Map::new();
    for (path, item) in doc.paths.0 {
        let serde_json::Value::Object(ops) = item else {
            continue;
        };
        match paths.get_mut(&path) {
            Some(serde_json::Value::Object(merged)) => merged.extend(ops),
            _ => {
                paths.insert(path, serde_json::Value::Object(ops));
            }
        }
    }
    whole["paths"] = serde_json::Value::Object(paths);
    standard_formats(&mut whole);
    serde_json::to_string_pretty(&whole).unwrap_or_else(|_| spec.to_owned())
}

/// poem-openapi names a `time::Date` `"format": "naive-date"`, a name of its own that no
/// client or fuzzer knows (so they send any string, and get 400). The server reads exactly
/// an RFC 3339 `full-date` (`2021-03-05`), which is OpenAPI's `"format": "date"`: the
/// document says so. And it writes unsigned integers (`"format": "uint64"`, ...) without
/// their `minimum` and `maximum`, although a number outside is refused (400): the
/// document says so.
fn standard_formats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            match map.get("format").and_then(serde_json::Value::as_str) {
                Some("naive-date") => {
                    map.insert("format".into(), "date".into());
                }
                // An unsigned number: anything below 0 or past its width is 400, as for any
                // wrong type.
                Some(format @ ("uint8" | "uint16" | "uint32" | "uint64")) => {
                    let max = match format {
                        "uint8" => u64::from(u8::MAX),
                        "uint16" => u64::from(u16::MAX),
                        "uint32" => u64::from(u32::MAX),
                        _ => u64::MAX,
                    };
                    map.entry("minimum").or_insert(0.into());
                    map.entry("maximum").or_insert(max.into());
                }
                _ => {}
            }
            map.values_mut().for_each(standard_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}

/// The part of an OpenAPI document the table reads.
#[derive(Debug, Default, serde::Deserialize)]
struct Document {
    #[serde(default)]
    paths: Entries,
}

/// A JSON object's entries in order, duplicate keys kept.
#[derive(Debug, Default)]
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

fn order(method: &str) -> usize {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_declared_by_two_groups_becomes_one_entry_with_both_operations() {
        let spec = r#"{"openapi": "3.0.0", "paths": {
            "/api/v1/patrons": {"get": {"summary": "search"}},
            "/api/v1/health": {"get": {}},
            "/api/v1/patrons": {"post": {"summary": "register"}}
        }, "components": {"schemas": {}}}"#;
        let merged = one_entry_per_path(spec);
        assert_eq!(merged.matches("\"/api/v1/patrons\"").count(), 1, "{merged}");
        let doc: serde_json::Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(doc["paths"]["/api/v1/patrons"]["get"]["summary"], "search");
        assert_eq!(
            doc["paths"]["/api/v1/patrons"]["post"]["summary"],
            "register"
        );
        assert_eq!(
            doc["paths"]["/api/v1/health"],
            serde_json::json!({"get": {}})
        );
        assert_eq!(doc["openapi"], "3.0.0");
        assert_eq!(one_entry_per_path("not json"), "not json");
    }

    #[test]
    fn the_methods_of_the_matching_template_in_a_fixed_order() {
        let spec = r#"{"paths": {
            "/api/v1/patrons": {"get": {}, "post": {}},
            "/api/v1/patrons/{card_number}": {"get": {}},
            "/api/v1/patrons/{card_number}": {"patch": {}, "parameters": []},
            "/api/v1/patrons/{card_number}/holds/{id}": {"delete": {}, "patch": {}}
        }}"#;
        let t = AllowTable::from_spec(spec);
        assert_eq!(
            t.allow("/api/v1/patrons").as_deref(),
            Some("GET, HEAD, POST")
        );
        assert_eq!(
            t.allow("/api/v1/patrons/21000000000017").as_deref(),
            Some("GET, HEAD, PATCH")
        );
        assert_eq!(
            t.allow("/api/v1/patrons/2100/holds/7").as_deref(),
            Some("PATCH, DELETE")
        );
        assert_eq!(t.allow("/openapi.json").as_deref(), Some("GET, HEAD"));
        assert_eq!(t.allow("/api/v1/nowhere"), None);
        assert_eq!(t.allow("/api/v1/patrons/a/b"), None);
        assert_eq!(
            t.template("/api/v1/patrons/21000000000017").as_deref(),
            Some("/api/v1/patrons/{card_number}")
        );
        assert_eq!(
            t.template("/api/v1/patrons").as_deref(),
            Some("/api/v1/patrons")
        );
        assert_eq!(t.template("/api/v1/nowhere"), None);
    }
}
