//! Repository rules, checked as plain tests (`cargo test` runs them) and by
//! `cargo xtask tidy`. In the manner of rust-analyzer's tidy tests: the architecture's
//! invariants are stated as absences and checked by code, not by review.

use std::fs;
use std::path::Path;
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
    problems.extend(docs_in_sync(root));
    problems.extend(no_unexplained_ignores(root));
    problems.extend(no_conflict_markers(root));
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
    let present: Vec<String> = member_dirs(root)
        .iter()
        .filter_map(|(_, m)| package_name(&fs::read_to_string(m).unwrap_or_default()))
        .collect();
    let mut problems = Vec::new();
    for krate in DOMAIN_CRATES
        .iter()
        .filter(|k| present.iter().any(|p| p == *k))
    {
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args([
                "tree",
                "--offline",
                "-p",
                krate,
                "-e",
                "normal",
                "--prefix",
                "none",
                "--format",
                "{p}",
            ])
            .output();
        let output = match output {
            Ok(o) if o.status.success() => o,
            Ok(o) => {
                problems.push(format!(
                    "cargo tree -p {krate} failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
                continue;
            }
            Err(e) => {
                problems.push(format!("cargo tree -p {krate} could not start: {e}"));
                continue;
            }
        };
        let tree = String::from_utf8_lossy(&output.stdout);
        for line in tree.lines() {
            let dep = line.split_whitespace().next().unwrap_or_default();
            if FORBIDDEN_IN_DOMAIN.contains(&dep) {
                problems.push(format!("{krate} depends on {dep} (domain crates must stay free of runtimes, databases and HTTP)"));
            }
        }
    }
    problems
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

/// Tracked text files with merge-conflict markers (`Cargo.lock` and binary files aside).
fn no_conflict_markers(root: &Path) -> Vec<String> {
    let Ok(out) = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
    else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        if name == "Cargo.lock" {
            continue;
        }
        let Ok(text) = fs::read_to_string(root.join(name.as_ref())) else {
            continue;
        };
        if let Some(n) = text.lines().position(is_conflict_marker) {
            problems.push(format!("{name}:{}: a merge-conflict marker", n + 1));
        }
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
    fn the_layering_check_would_catch_a_forbidden_dependency() {
        // The check reads `cargo tree` lines; a line naming tokio must be reported.
        let line = "tokio v1.48.0";
        assert!(FORBIDDEN_IN_DOMAIN.contains(&line.split_whitespace().next().unwrap()));
    }
}
