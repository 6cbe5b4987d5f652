//! The recorded Docker and podman outputs of `tests/fixtures` (see its README.md).

use std::path::PathBuf;

/// One recorded command: argv, stdin, exit code and output.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Fixture {
    pub cmd: Vec<String>,
    #[serde(default)]
    pub stdin: Option<String>,
    pub exit: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `tests/fixtures` of this checkout.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture `tests/fixtures/REL` (`docker/ls-quiet.json`); panics if it is missing or bad.
#[track_caller]
pub fn fixture(rel: &str) -> Fixture {
    try_fixture(rel).unwrap_or_else(|| panic!("fixture {} is missing", fixtures_dir().join(rel).display()))
}

/// The fixture `tests/fixtures/REL`, or `None` if there is no such file; panics if it is bad.
#[track_caller]
pub fn try_fixture(rel: &str) -> Option<Fixture> {
    let path = fixtures_dir().join(rel);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display())))
}
