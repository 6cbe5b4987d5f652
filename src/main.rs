//! The `myvol` binary: parse argv, hand it to its command, render errors once, exit with
//! Docker's status codes ([`commands::ExitStatus`]).

#![deny(unsafe_code)]

mod cli;
mod commands;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use commands::{ExitStatus, Failure, Io};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let result = commands::dispatch(cli, &mut Io { out: &mut out, input: &mut input });
    let flushed = out.flush();
    drop(out);
    match (result, flushed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Ok(()), Err(e)) => render(Failure::from(e)),
        (Err(f), _) => render(f),
    }
}

/// Print each message as one `Error: …` line and return the exit status. A closed stdout
/// (`myvol volume ls | head -1`) ends quietly. Every message goes through
/// [`myvol::text::for_terminal`]: whatever text from outside it holds, it is one line, with no
/// control or bidi character, and bounded.
fn render(f: Failure) -> ExitCode {
    if f.broken_pipe {
        return ExitCode::SUCCESS;
    }
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for m in &f.messages {
        let _ = writeln!(err, "Error: {}", myvol::text::for_terminal(m));
    }
    ExitCode::from(f.status.code())
}

/// Turn a clap error into Docker's wording and status: flag errors exit 125, argument-count
/// errors exit 1, help and version print to stdout and exit 0.
fn clap_exit(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let ctx_str = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        Some(ContextValue::StyledStr(v)) => v.to_string(),
        _ => String::new(),
    };
    let command = command_path(&ctx_str(ContextKind::Usage));
    let (code, msg) = match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = ctx_str(ContextKind::InvalidArg);
            if arg.starts_with('-') && command == "myvol run" {
                // Docker names the whole cluster a shorthand came in.
                let cluster = std::env::args()
                    .skip(1)
                    .find(|a| a.starts_with('-') && a.contains(arg.trim_start_matches('-')))
                    .unwrap_or(arg.clone());
                (ExitStatus::Usage, cli::run::flag_error(if arg.starts_with("--") { &arg } else { &cluster }))
            } else if arg.starts_with('-') {
                let flag = arg.split('=').next().unwrap_or(&arg).to_owned();
                let msg = if flag.starts_with("--") {
                    format!("unknown flag: {flag}")
                } else {
                    // clap names the one letter; Docker names the whole cluster it came in.
                    let letter = flag.trim_start_matches('-').to_owned();
                    let cluster = std::env::args()
                        .skip(1)
                        .find(|a| a.starts_with('-') && !a.starts_with("--") && a[1..].contains(letter.as_str()))
                        .unwrap_or(flag.clone());
                    format!("unknown shorthand flag: '{letter}' in {cluster}")
                };
                (ExitStatus::Usage, msg)
            } else {
                {
                    let n = max_args(&command);
                    let msg = match n {
                        0 => format!("'{command}' accepts no arguments"),
                        1 => format!("'{command}' requires at most 1 argument"),
                        n => format!("'{command}' requires at most {n} arguments"),
                    };
                    (ExitStatus::Failure, msg)
                }
            }
        }
        ErrorKind::MissingRequiredArgument => {
            (ExitStatus::Failure, format!("'{command}' requires at least 1 argument"))
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let arg = ctx_str(ContextKind::InvalidArg);
            let flag = arg.split_whitespace().next().unwrap_or("").to_owned();
            let value = ctx_str(ContextKind::InvalidValue);
            let reason = e.source().map(|s| s.to_string()).unwrap_or_else(|| first_line(&e));
            (ExitStatus::Usage, format!("invalid argument \"{value}\" for \"{flag}\" flag: {reason}"))
        }
        ErrorKind::NoEquals
        | ErrorKind::TooManyValues
        | ErrorKind::WrongNumberOfValues
        | ErrorKind::ArgumentConflict => (ExitStatus::Usage, first_line(&e)),
        ErrorKind::InvalidSubcommand => {
            let sub = ctx_str(ContextKind::InvalidSubcommand);
            (ExitStatus::Usage, format!("unknown command \"{sub}\" for \"{command}\""))
        }
        _ => (ExitStatus::Usage, first_line(&e)),
    };
    render(Failure::new(code, format!("{msg}\nSee '{command} --help'.").lines().next().unwrap_or("")))
}

use std::error::Error as _;

fn first_line(e: &clap::Error) -> String {
    let s = e.render().to_string();
    let line = s.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// `myvol volume create` from clap's usage text `Usage: myvol volume create [OPTIONS] …`.
fn command_path(usage: &str) -> String {
    let usage = usage.trim().trim_start_matches("Usage:").trim();
    let words: Vec<&str> = usage
        .split_whitespace()
        .take_while(|w| {
            !w.starts_with('[')
                && !w.starts_with('<')
                && !w.starts_with('-')
                && !w.chars().all(|c| c.is_uppercase() || c == '.' || c == '_')
        })
        .collect();
    if words.is_empty() { "myvol".to_owned() } else { words.join(" ") }
}

/// How many positional arguments a command takes (for Docker's "accepts at most" message).
fn max_args(path: &str) -> usize {
    let mut cmd = cli::Cli::command();
    // Arguments are defined lazily (cli::Lazy): build the tree before looking at them.
    cmd.build();
    for w in path.split_whitespace().skip(1) {
        match cmd.find_subcommand(w) {
            Some(c) => cmd = c.clone(),
            None => break,
        }
    }
    cmd.get_positionals().count()
}
