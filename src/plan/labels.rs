//! A run's labels: `-l/--label KEY[=VALUE]` and `--label-file FILE`, as docker/cli builds a
//! container's labels (`opts.ReadKVStrings`, then `ConvertKVStringsToMap`): the files first,
//! in order, then the flags, a later value of a key replacing the earlier one. A label file
//! has the env file's syntax (comments, blank lines, no whitespace in a key); a line with a
//! key alone sets nothing. A flag without `=` sets the key to `""`.
//!
//! The labels are recorded in every volume lease the run takes, and read back by `volume
//! inspect`'s `.Users` and the "in use" hints: [`check_size`] keeps them small enough that a
//! lease stays quick to read.

use std::collections::BTreeMap;
use std::io;

use thiserror::Error;

use super::env::{self, EnvError};
use crate::text::{echo, errno_text};

/// The most a run's labels may take, as the JSON a lease records them in.
pub const MAX_LABELS_BYTES: usize = 64 * 1024;

/// Why a run's labels cannot be taken.
#[derive(Debug, Error)]
pub enum LabelError {
    /// A `--label-file` that cannot be read (docker/cli's words: the open error).
    #[error("open {}: {}", echo(path), errno_text(source))]
    File {
        path: String,
        #[source]
        source: io::Error,
    },
    /// A bad line in a `--label-file` (docker/cli's words, shared with env files).
    #[error(transparent)]
    Syntax(#[from] EnvError),
    /// Labels too large to record in the run's volume leases.
    #[error(
        "labels too large: they take {size} bytes, more than the limit of {MAX_LABELS_BYTES} bytes (64 KiB) a run may record in its volume leases"
    )]
    TooLarge { size: usize },
}

/// The labels of a run: the label files' lines (each file's text given with its path), then
/// the `-l` values (already checked by the flag parser), as docker/cli merges them.
pub fn merge(files: &[(String, String)], flags: &[String]) -> Result<BTreeMap<String, String>, LabelError> {
    let mut entries = Vec::new();
    for (_, text) in files {
        entries.extend(env::env_file(text, &|_| None)?);
    }
    entries.extend(flags.iter().cloned());
    let labels: BTreeMap<String, String> = entries
        .into_iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e, String::new()),
        })
        .collect();
    check_size(&labels)?;
    Ok(labels)
}

/// Read the `--label-file`s, then [`merge`] them with the `-l` values.
pub fn read(files: &[String], flags: &[String]) -> Result<BTreeMap<String, String>, LabelError> {
    let mut texts = Vec::with_capacity(files.len());
    for path in files {
        let bytes = std::fs::read(path).map_err(|source| LabelError::File { path: path.clone(), source })?;
        texts.push((path.clone(), String::from_utf8_lossy(&bytes).into_owned()));
    }
    merge(&texts, flags)
}

/// Refuse labels whose JSON would exceed [`MAX_LABELS_BYTES`].
pub fn check_size(labels: &BTreeMap<String, String>) -> Result<(), LabelError> {
    if labels.is_empty() {
        return Ok(());
    }
    let size = serde_json::to_vec(labels).map_or(usize::MAX, |v| v.len());
    if size > MAX_LABELS_BYTES {
        return Err(LabelError::TooLarge { size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(files: &[&str], flags: &[&str]) -> Result<Vec<(String, String)>, String> {
        let files: Vec<(String, String)> = files.iter().map(|t| ("f".to_owned(), (*t).to_owned())).collect();
        let flags: Vec<String> = flags.iter().map(|s| (*s).to_owned()).collect();
        merge(&files, &flags).map(|l| l.into_iter().collect()).map_err(|e| e.to_string())
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn files_then_flags_later_wins() {
        assert_eq!(
            m(&["\u{feff}# c\n\na=1\n  b= spaced \nalone\nc=\"q\"\n", "a=2\n"], &["b=flag", "d", "e=x=y", "f="]),
            Ok(kv(&[("a", "2"), ("b", "flag"), ("c", "\"q\""), ("d", ""), ("e", "x=y"), ("f", "")]))
        );
        assert_eq!(m(&[], &[]), Ok(vec![]));
    }

    #[test]
    fn bad_label_files_are_refused_with_docker_words() {
        assert_eq!(m(&["=v"], &[]), Err("poorly formatted environment: no variable name on line '=v'".into()));
        assert_eq!(m(&["a b=c"], &[]), Err("poorly formatted environment: variable 'a b' contains whitespaces".into()));
        let e = read(&["/nonexistent/labels".to_owned()], &[]).unwrap_err().to_string();
        assert_eq!(e, "open /nonexistent/labels: no such file or directory");
    }

    #[test]
    fn huge_labels_are_refused() {
        let big = format!("k={}", "x".repeat(MAX_LABELS_BYTES));
        let e = m(&[], &[&big]).unwrap_err();
        assert!(e.starts_with("labels too large: they take 65544 bytes, more than the limit of 65536"), "{e}");
        let fits = format!("k={}", "x".repeat(MAX_LABELS_BYTES - 10));
        assert!(m(&[], &[&fits]).is_ok());
    }
}
