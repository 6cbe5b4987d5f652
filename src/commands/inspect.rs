//! `inspect`'s output, as docker/cli's inspector writes it, for every kind of object: an
//! indented JSON array (the default), compact JSON (`--format json`), or a template run once
//! per object. A template's output streams, each object's held back while the output is small
//! (Docker prints nothing of an object whose template fails); a failed template is an error of
//! that object, reported at the end with the others.

use std::io::Write;

use myvol::output::{FormatError, Spill, go_json, go_json_indent, template};

use super::{ExitStatus, Failure, Result};

enum Mode {
    Indented,
    Json,
    Template(template::Template),
}

pub(super) struct Inspector<'a> {
    mode: Mode,
    spill: Spill<'a>,
    found: Vec<serde_json::Value>,
    rendered: bool,
    errors: Vec<String>,
}

impl<'a> Inspector<'a> {
    /// The inspector for `--format` (none or empty: indented JSON); a template that does not
    /// parse is refused before any object is looked at.
    pub(super) fn new(format: Option<&str>, out: &'a mut dyn Write) -> Result<Self> {
        let mode = match format {
            None | Some("") => Mode::Indented,
            Some("json") => Mode::Json,
            Some(f) => Mode::Template(
                template::Template::parse(f).map_err(|e| Failure::new(ExitStatus::Template, FormatError::Parse(e)))?,
            ),
        };
        Ok(Inspector { mode, spill: Spill::new(out), found: Vec::new(), rendered: false, errors: Vec::new() })
    }

    /// Whether the objects go through a template (so only its value is needed).
    pub(super) fn templated(&self) -> bool {
        matches!(self.mode, Mode::Template(_))
    }

    /// One object found, in a JSON mode: its JSON.
    pub(super) fn push(&mut self, json: serde_json::Value) {
        self.found.push(json);
    }

    /// One object found, through the template: `dot` is the template's value of it.
    pub(super) fn render(&mut self, dot: &template::Value) -> Result {
        let Mode::Template(t) = &self.mode else { unreachable!("render is for templated inspectors") };
        let mark = self.spill.mark();
        match t.execute(dot, &mut self.spill) {
            Ok(()) => {
                self.spill.write_all(b"\n")?;
                self.rendered = true;
            }
            Err(template::TemplateError::Write(e)) => return Err(e.into()),
            Err(e) => {
                self.spill.rollback(mark);
                self.errors.push(FormatError::Exec(e).to_string());
            }
        }
        Ok(())
    }

    /// An object not found (or not readable): its error, reported at the end.
    pub(super) fn error(&mut self, e: String) {
        self.errors.push(e);
    }

    /// The array (JSON modes), the output written, then every error (exit 1).
    pub(super) fn finish(mut self) -> Result {
        match self.mode {
            Mode::Indented => writeln!(self.spill, "{}", go_json_indent(&serde_json::Value::Array(self.found)))?,
            Mode::Json => writeln!(self.spill, "{}", go_json(&serde_json::Value::Array(self.found), true))?,
            // Docker's template inspector prints a newline when nothing rendered.
            Mode::Template(_) if !self.rendered => self.spill.write_all(b"\n")?,
            Mode::Template(_) => {}
        }
        self.spill.commit()?;
        if self.errors.is_empty() { Ok(()) } else { Err(Failure::many(ExitStatus::Failure, self.errors)) }
    }
}
