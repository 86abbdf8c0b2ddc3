//! Replays the fuzz corpus (`fuzz/corpus/parse_request/`) through the parser: this is how
//! CI runs it without a nightly toolchain. Seeds named `ok_*` must parse, `err_*` must be
//! refused; anything else (inputs found by the fuzzer) must only not panic.

use std::fs;
use std::path::Path;

use library_sip2::{Charset, Request, Response};

#[test]
fn fuzz_corpus_replays_without_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_request");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(&path).unwrap();
        let parsed = Request::parse(&bytes);
        let _ = Request::parse_with(&bytes, Charset::Latin1);
        let _ = Response::parse(&bytes);
        if name.starts_with("ok_") {
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
        } else if name.starts_with("err_") {
            assert!(parsed.is_err(), "{name}: {parsed:?}");
        }
        seen += 1;
    }
    assert!(seen >= 12, "only {seen} corpus files in {}", dir.display());
}
