//! The command line as Docker's CLI takes it: what an invalid one gets (Docker's words, exit
//! status and pointer to the help), help, the version, and the command lines Docker accepts
//! that clap alone would refuse (`--quiet=false`, `-v=/h:/d`, `--format -x`).
//!
//! clap parses every command line first: that is the fast path, and all a valid command
//! usually costs. Only when clap refuses a command line, or is asked for help or the version,
//! is the command line read again with Docker's rules ([`pflag`]), against the whole command
//! tree built for it. Either that finds the error Docker would report first, or the command
//! line is valid for Docker and goes back to clap in a form clap reads the way Docker did.

mod cluster;
mod image_flags;
mod pflag;
mod run_flags;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use myvol::text::go_quote;

use crate::cli::Cli;
use crate::commands::{ExitStatus, Failure, system};
use pflag::Action;

/// A command line that does not parse: the message, its exit status (125 for a flag, 1 for
/// the arguments or the command, as Docker's CLI) and where to read more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    pub status: ExitStatus,
    pub message: String,
    /// `Run 'myvol volume ls --help' for more information`: Docker's line after the usage.
    pub hint: Option<String>,
}

impl UsageError {
    /// A flag that does not parse (pflag's error, through docker/cli's FlagErrorFunc).
    fn flag(command: &str, message: String) -> UsageError {
        UsageError {
            status: ExitStatus::Usage,
            message,
            hint: Some(format!("Run '{command} --help' for more information")),
        }
    }

    /// A word that names no subcommand of the command group `command`.
    fn unknown_command(command: &str, word: &str) -> UsageError {
        UsageError {
            status: ExitStatus::Failure,
            message: format!("unknown command: {command} {word}"),
            hint: Some(format!("Run '{command} --help' for more information")),
        }
    }
}

impl From<UsageError> for Failure {
    fn from(e: UsageError) -> Failure {
        let mut f = Failure::new(e.status, e.message);
        f.hint = e.hint;
        f
    }
}

/// What the command line asked for instead of a command to run.
#[derive(Debug)]
pub enum Early {
    /// Help text, on stdout (or on stderr, for a command group given without a subcommand).
    Help { text: String, stderr: bool },
    /// The `-V` line.
    Version,
    /// The command line does not parse.
    Error(Failure),
}

/// Parse the command line: clap first, Docker's rules when clap refuses it.
pub fn parse(argv: Vec<OsString>) -> Result<Cli, Early> {
    // clap reads `-f=` as `-f ""`; pflag as `-f` with the value "=" (`-f=VALUE` needs a
    // VALUE). Such a word skips clap's first reading.
    let short_equals = |a: &OsString| {
        let b = a.as_encoded_bytes();
        b.len() > 1 && b[0] == b'-' && b[1] != b'-' && b.ends_with(b"=")
    };
    match crate::cli::try_parse(&argv) {
        Ok(cli) if !argv.iter().any(short_equals) => Ok(cli),
        Ok(cli) => reread(Ok(cli), argv),
        Err(e) => reread(Err(e), argv),
    }
}

/// The slow path: the command line read again with Docker's rules (`clap`: what clap made
/// of it).
fn reread(clap: Result<Cli, clap::Error>, argv: Vec<OsString>) -> Result<Cli, Early> {
    // pflag reads words; what is not UTF-8 is left to clap, which refuses it where it wants
    // text, and says so.
    let Some(words) = argv.iter().skip(1).map(|a| a.to_str().map(str::to_owned)).collect::<Option<Vec<String>>>()
    else {
        return clap.map_err(|e| Early::Error(from_clap(&e, "myvol")));
    };
    let mut root = Cli::command();
    root.build();
    let parsed = pflag::parse(&root, &words).map_err(|e| Early::Error(e.into()))?;
    let command = parsed.path.join(" ");
    match parsed.action {
        Action::Run(canonical) => Cli::try_parse_from(canonical).map_err(|e| Early::Error(from_clap(&e, &command))),
        Action::Help(long) => Err(Early::Help { text: help(&parsed.path, long).unwrap_or_default(), stderr: false }),
        Action::GroupHelp => Err(Early::Help { text: help(&parsed.path, false).unwrap_or_default(), stderr: true }),
        Action::Version => Err(Early::Version),
        Action::HelpTopic(topic) => {
            // docker/cli's help command: the words that name no command are the unknown topic.
            let mut path = parsed.path;
            for (at, word) in topic.iter().enumerate() {
                path.push(word.clone());
                if help(&path, false).is_none() {
                    let unknown = topic[at..].join(" ");
                    return Err(Early::Error(Failure::new(
                        ExitStatus::Failure,
                        format!("unknown help topic: {unknown}"),
                    )));
                }
            }
            Err(Early::Help { text: help(&path, true).unwrap_or_default(), stderr: false })
        }
    }
}

/// A clap error once Docker's rules have passed the command line: an argument with a value
/// it does not take (`myvol completion tcsh`), or, if clap and those rules disagree (a bug),
/// clap's first line.
fn from_clap(e: &clap::Error, command: &str) -> Failure {
    let text = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    let positional = text(ContextKind::InvalidArg).is_some_and(|a| a.starts_with('<') || a.starts_with('['));
    if e.kind() == ErrorKind::InvalidValue
        && positional
        && let (Some(value), Some(valid)) = (text(ContextKind::InvalidValue), text(ContextKind::ValidValue))
    {
        return UsageError {
            status: ExitStatus::Failure,
            message: format!("invalid argument {} for \"{command}\": valid values are {valid}", go_quote(&value)),
            hint: Some(format!("Run '{command} --help' for more information")),
        }
        .into();
    }
    UsageError::flag(command, pflag::first_line(e)).into()
}

/// The help of the command at `path` (`["myvol", "volume", "ls"]`), None if there is none;
/// `long`: with the long descriptions (`--help`, not `-h`). The global `--root` and
/// `--version` are shown in `myvol --help` only (they are accepted everywhere).
pub fn help(path: &[String], long: bool) -> Option<String> {
    let mut root = Cli::command();
    root.build();
    let mut cmd = &mut root;
    for word in path.iter().skip(1) {
        cmd = cmd.find_subcommand_mut(word)?;
    }
    if path.len() > 1 {
        for id in ["root", "version"] {
            if cmd.get_arguments().any(|a| a.get_id() == id) {
                *cmd = cmd.clone().mut_arg(id, |a| a.hide(true));
            }
        }
    }
    Some(if long { cmd.render_long_help() } else { cmd.render_help() }.to_string())
}

impl Early {
    /// Print what was asked for, or the error, and give the exit status. A closed pipe ends
    /// quietly.
    pub fn finish(self) -> ExitCode {
        match self {
            Early::Help { text, stderr } => {
                if stderr {
                    let _ = io::stderr().write_all(text.as_bytes());
                } else {
                    let _ = io::stdout().write_all(text.as_bytes());
                }
                ExitCode::SUCCESS
            }
            Early::Version => {
                let _ = writeln!(io::stdout(), "{}", system::version_line());
                ExitCode::SUCCESS
            }
            Early::Error(f) => render(f),
        }
    }
}

/// Print a failure once: each message as `Error: …` lines, then its hint; the exit status.
/// A closed stdout (`myvol volume ls | head -1`) ends quietly.
pub fn render(f: Failure) -> ExitCode {
    if f.broken_pipe {
        return ExitCode::SUCCESS;
    }
    let _ = io::stderr().write_all(rendered(&f).as_bytes());
    ExitCode::from(f.status.code())
}

/// A failure as stderr shows it: one `Error: …` line per message, then the hint's lines.
/// Everything goes through [`myvol::text::for_terminal`]: whatever text from outside a
/// message holds, it is one line, with no control or bidi character, and bounded.
fn rendered(f: &Failure) -> String {
    let mut text = String::new();
    for m in &f.messages {
        text.push_str("Error: ");
        text.push_str(&myvol::text::for_terminal(m));
        text.push('\n');
    }
    if let Some(hint) = &f.hint {
        for line in hint.lines() {
            text.push_str(&myvol::text::for_terminal(line));
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
#[rustfmt::skip] // one table row per line
mod tests;
