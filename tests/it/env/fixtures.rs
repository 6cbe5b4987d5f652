//! The recorded Docker and podman outputs of `tests/fixtures` (see its README.md).

use std::path::{Path, PathBuf};

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

/// The names of the case directories in `dir` (one per recorded case), sorted.
pub fn case_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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
