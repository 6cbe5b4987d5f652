//! YAML documents into [`Value`] trees, the way Compose's loader (Go's yaml.v3) reads them:
//! plain scalars resolved to null, booleans, integers, floats or strings by yaml.v3's rules,
//! anchors and aliases, merge keys (`<<`), several documents in one file, and Compose's own
//! `!reset` and `!override` tags.
//!
//! The parser is `saphyr-parser` (events only); the tree is built here, so that what an
//! alias expands to is bounded: a "billion laughs" file is refused, not expanded.

mod scalar;

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Tag};

use super::value::{Map, Path, Value};

use scalar::resolve_scalar;
pub use scalar::{resolve_plain, resolves_to_non_string};

/// How deep a document may nest. Compose files nest a handful of levels; the bound keeps the
/// recursive steps after parsing off the end of the stack.
pub const MAX_DEPTH: usize = 256;

/// How many nodes aliases may copy into one document, in all.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// What a `!reset` or `!override` tag asks of the files merged before this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetKind {
    /// `!reset`: drop the value the earlier files set at this path.
    Reset,
    /// `!override`: replace the value the earlier files set at this path instead of merging.
    Override,
}

/// One YAML document: its tree and the paths its `!reset`/`!override` tags name.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    /// The line (1-based) where the document's root node starts.
    pub line: usize,
    pub resets: Vec<(Vec<String>, ResetKind)>,
}

/// A YAML error, worded as yaml.v3 words its own (`yaml: line N: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct YamlError(pub String);

fn err_at(line: usize, msg: impl std::fmt::Display) -> YamlError {
    YamlError(format!("yaml: line {line}: {msg}"))
}

/// A node while its collection is open.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        path: Vec<String>,
        line: usize,
    },
    Map {
        entries: Vec<(Value, Value, usize)>,
        key: Option<(Value, usize)>,
        anchor: usize,
        path: Vec<String>,
        line: usize,
    },
}

/// A parser error with the line yaml.v3 gives: for an error inside a collection, the
/// (0-based) line where the collection starts, or failing that where the problem is; for
/// the others, the line where the problem is.
fn parse_error(e: &saphyr_parser::ScanError, stack: &[Frame]) -> YamlError {
    let info = e.info();
    let in_collection = ["while parsing a block mapping", "while parsing a block collection", "while parsing a flow"]
        .iter()
        .any(|c| info.starts_with(c));
    let msg = problem(info);
    if !in_collection {
        return err_at(e.marker().line(), msg);
    }
    let context = match stack.last() {
        Some(Frame::Seq { line, .. } | Frame::Map { line, .. }) => line.saturating_sub(1),
        None => 0,
    };
    let line = if context != 0 { context } else { e.marker().line().saturating_sub(1) };
    if line == 0 { YamlError(format!("yaml: {msg}")) } else { err_at(line, msg) }
}

/// Parse every document of `src`.
pub fn parse_documents(src: &str) -> Result<Vec<Document>, YamlError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut parser = Parser::new_from_str(src);
    let mut docs = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut root_line = 1usize;
    let mut resets: Vec<(Vec<String>, ResetKind)> = Vec::new();
    let mut alias_nodes = 0usize;
    // A tag seen on a collection start, applied when it ends.
    let mut collection_tags: Vec<Option<ResetKind>> = Vec::new();

    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => return Err(parse_error(&e, &stack)),
        };
        let line = span.start.line();
        let node: Option<(Value, usize, Option<ResetKind>)> = match event {
            Event::StreamStart | Event::Nothing => None,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                anchors.clear();
                root = None;
                resets = Vec::new();
                alias_nodes = 0;
                None
            }
            Event::DocumentEnd => {
                docs.push(Document {
                    value: root.take().unwrap_or(Value::Null),
                    line: root_line,
                    resets: std::mem::take(&mut resets),
                });
                None
            }
            Event::Alias(id) => {
                let v = anchors.get(&id).cloned().ok_or_else(|| err_at(line, "unknown anchor referenced"))?;
                alias_nodes += v.node_count();
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err(YamlError("yaml: document contains excessive aliasing".to_owned()));
                }
                Some((v, 0, None))
            }
            Event::Scalar(text, style, anchor, tag) => {
                if stack.is_empty() {
                    root_line = line;
                }
                let kind = reset_kind(tag.as_deref());
                let v = resolve_scalar(&text, style, tag.as_deref()).map_err(|m| err_at(line, m))?;
                Some((v, anchor, kind))
            }
            Event::SequenceStart(anchor, tag) => {
                if stack.is_empty() {
                    root_line = line;
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError(format!("yaml: exceeded max depth of {MAX_DEPTH}")));
                }
                let path = child_path(&stack);
                collection_tags.push(reset_kind(tag.as_deref()));
                stack.push(Frame::Seq { items: Vec::new(), anchor, path, line });
                None
            }
            Event::MappingStart(anchor, tag) => {
                if stack.is_empty() {
                    root_line = line;
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError(format!("yaml: exceeded max depth of {MAX_DEPTH}")));
                }
                let path = child_path(&stack);
                collection_tags.push(reset_kind(tag.as_deref()));
                stack.push(Frame::Map { entries: Vec::new(), key: None, anchor, path, line });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { items, anchor, .. }) => {
                    Some((Value::Seq(items), anchor, collection_tags.pop().flatten()))
                }
                _ => return Err(err_at(line, "did not find expected node content")),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map { entries, anchor, path, .. }) => {
                    let m = build_map(entries, &path)?;
                    Some((Value::Map(m), anchor, collection_tags.pop().flatten()))
                }
                _ => return Err(err_at(line, "did not find expected key")),
            },
        };
        let Some((value, anchor, kind)) = node else { continue };
        if anchor != 0 {
            anchors.insert(anchor, value.clone());
        }
        // Where this node goes, and under which path (for !reset / !override).
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq { items, path, .. }) => {
                if let Some(k) = kind {
                    let mut p = path.clone();
                    p.push(items.len().to_string());
                    resets.push((p, k.clone()));
                    if k == ResetKind::Reset {
                        continue;
                    }
                }
                items.push(value);
            }
            Some(Frame::Map { entries, key, path, .. }) => match key.take() {
                None => *key = Some((value, line)),
                Some((k, kline)) => {
                    if let Some(kind) = kind {
                        let mut p = path.clone();
                        if let Value::Str(s) = &k
                            && s != "<<"
                        {
                            p.push(s.clone());
                        }
                        resets.push((p, kind.clone()));
                        if kind == ResetKind::Reset {
                            continue;
                        }
                    }
                    entries.push((k, value, kline));
                }
            },
        }
    }
    if let Some(v) = root.take() {
        docs.push(Document { value: v, line: root_line, resets });
    }
    Ok(docs)
}

/// The problem of a parser message without its context (`while parsing a block mapping, `),
/// as yaml.v3 reports it.
fn problem(info: &str) -> &str {
    match info.strip_prefix("while ") {
        Some(rest) => rest.split_once(", ").map_or(info, |(_, p)| p),
        None => info,
    }
}

fn reset_kind(tag: Option<&Tag>) -> Option<ResetKind> {
    let tag = tag?;
    if tag.handle != "!" {
        return None;
    }
    match tag.suffix.as_str() {
        "reset" => Some(ResetKind::Reset),
        "override" => Some(ResetKind::Override),
        _ => None,
    }
}

/// The path of a node about to be opened inside the current top of the stack.
fn child_path(stack: &[Frame]) -> Vec<String> {
    match stack.last() {
        None => Vec::new(),
        Some(Frame::Seq { items, path, .. }) => {
            let mut p = path.clone();
            p.push(items.len().to_string());
            p
        }
        Some(Frame::Map { key, path, .. }) => {
            let mut p = path.clone();
            match key {
                Some((Value::Str(s), _)) if s == "<<" => {}
                Some((k, _)) => p.push(key_text(k)),
                None => p.push(String::new()),
            }
            p
        }
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        other => other.go_sprint(),
    }
}

/// Build a mapping: string keys only (Compose refuses others), no key twice, and merge keys
/// (`<<: *base` or `<<: [*a, *b]`) filling in the keys the mapping does not set itself.
fn build_map(entries: Vec<(Value, Value, usize)>, path: &[String]) -> Result<Map, YamlError> {
    let mut m = Map::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    let mut merges: Vec<Value> = Vec::new();
    for (k, v, line) in entries {
        let key = match k {
            Value::Str(s) => s,
            other => {
                let location =
                    if path.is_empty() { "at top level".to_owned() } else { format!("in {}", path.join(".")) };
                return Err(YamlError(format!("non-string key {location}: {}", go_sharp_v(&other))));
            }
        };
        if key == "<<" {
            merges.push(v);
            continue;
        }
        if let Some(first) = lines.get(&key) {
            return Err(YamlError(format!("line {line}: mapping key {key:?} already defined at line {first}")));
        }
        lines.insert(key.clone(), line);
        m.insert(key, v);
    }
    for merge in merges {
        let sources = match merge {
            Value::Map(src) => vec![src],
            Value::Seq(items) => {
                let mut maps = Vec::new();
                for item in items {
                    match item {
                        Value::Map(src) => maps.push(src),
                        _ => {
                            return Err(YamlError(
                                "yaml: map merge requires map or sequence of maps as the value".into(),
                            ));
                        }
                    }
                }
                maps
            }
            _ => return Err(YamlError("yaml: map merge requires map or sequence of maps as the value".into())),
        };
        for src in sources {
            for (k, v) in src {
                m.entry(k).or_insert(v);
            }
        }
    }
    Ok(m)
}

/// Go's `%#v` of a scalar key.
fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Str(s) => format!("{s:?}"),
        other => other.go_sprint(),
    }
}

/// Parse one document where exactly one is expected (the `name:` probe, env files…).
pub fn parse_one(src: &str) -> Result<Value, YamlError> {
    Ok(parse_documents(src)?.into_iter().next().map(|d| d.value).unwrap_or(Value::Null))
}

impl Path {
    /// The path of a reset entry.
    pub fn from_parts(parts: &[String]) -> Path {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        Path::new(&refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Value {
        parse_one(src).unwrap()
    }

    #[test]
    fn scalars_resolve_as_yaml_v3() {
        let cases: &[(&str, Value)] = &[
            ("a: 1", Value::Int(1)),
            ("a: 0x1F", Value::Int(31)),
            ("a: 0o17", Value::Int(15)),
            ("a: 0755", Value::Int(493)),
            ("a: 1_000", Value::Int(1000)),
            ("a: 0b101", Value::Int(5)),
            ("a: 1.5", Value::Float(1.5)),
            ("a: 1e3", Value::Float(1000.0)),
            ("a: .5", Value::Float(0.5)),
            ("a: true", Value::Bool(true)),
            ("a: False", Value::Bool(false)),
            ("a: yes", Value::Str("yes".into())),
            ("a: on", Value::Str("on".into())),
            ("a: ~", Value::Null),
            ("a:", Value::Null),
            ("a: null", Value::Null),
            ("a: '1'", Value::Str("1".into())),
            ("a: \"true\"", Value::Str("true".into())),
            ("a: 12:30", Value::Str("12:30".into())),
            ("a: 2001-12-14", Value::Str("2001-12-14".into())),
            ("a: +1", Value::Int(1)),
            ("a: 1.", Value::Float(1.0)),
            ("a: !!str 1", Value::Str("1".into())),
        ];
        for (src, want) in cases {
            let got = one(src);
            assert_eq!(got.as_map().unwrap()["a"], *want, "{src}");
        }
    }

    #[test]
    fn merge_keys_fill_in_missing_keys() {
        let v = one("base: &b {image: x, environment: {A: 1}}\nsvc:\n  <<: *b\n  environment: {B: 2}\n");
        let svc = v.as_map().unwrap()["svc"].as_map().unwrap();
        assert_eq!(svc["image"], Value::Str("x".into()));
        assert_eq!(svc["environment"].as_map().unwrap().len(), 1);
        let v = one("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
        let c = v.as_map().unwrap()["c"].as_map().unwrap();
        assert_eq!(c["x"], Value::Int(1));
        assert_eq!(c["y"], Value::Int(2));
    }

    #[test]
    fn duplicate_and_non_string_keys_are_refused() {
        let e = parse_one("services:\n  w:\n    image: x\n    image: y\n").unwrap_err();
        assert_eq!(e.0, "line 4: mapping key \"image\" already defined at line 3");
        let e = parse_one("services:\n  w: {}\n  1: {}\n").unwrap_err();
        assert_eq!(e.0, "non-string key in services: 1");
        let e = parse_one("1: x\n").unwrap_err();
        assert_eq!(e.0, "non-string key at top level: 1");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_documents(&src).unwrap_err();
        assert_eq!(e.0, "yaml: document contains excessive aliasing");
    }

    #[test]
    fn deep_nesting_is_refused() {
        // The parser's own recursion limit or ours, whichever comes first.
        let src = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse_documents(&src).unwrap_err();
        assert!(e.0.contains("exceeded max depth") || e.0.contains("recursion limit exceeded"), "{}", e.0);
        let src = "[".repeat(100) + &"]".repeat(100);
        assert!(parse_documents(&src).is_ok());
    }

    #[test]
    fn reset_and_override_tags_are_recorded() {
        let docs =
            parse_documents("services:\n  w:\n    volumes: !reset []\n    environment: !override {A: 1}\n").unwrap();
        assert_eq!(docs.len(), 1);
        let w = docs[0].value.as_map().unwrap()["services"].as_map().unwrap()["w"].as_map().unwrap();
        assert!(!w.contains_key("volumes"));
        assert!(w.contains_key("environment"));
        assert_eq!(docs[0].resets.len(), 2);
        assert_eq!(docs[0].resets[0].0, vec!["services", "w", "volumes"]);
        assert_eq!(docs[0].resets[0].1, ResetKind::Reset);
        assert_eq!(docs[0].resets[1].1, ResetKind::Override);
    }

    #[test]
    fn several_documents() {
        let docs = parse_documents("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}
