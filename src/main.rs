//! The `myvol` binary: parse argv, hand it to its command, render the error once, exit with
//! Docker's status codes ([`commands::ExitStatus`]).

#![deny(unsafe_code)]

mod cli;
mod commands;
mod usage;

use std::io::{self, Write};
use std::process::ExitCode;

use commands::{Failure, Io};

fn main() -> ExitCode {
    let cli = match usage::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(early) => return early.finish(),
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
        (Ok(()), Err(e)) => usage::render(Failure::from(e)),
        (Err(f), _) => usage::render(f),
    }
}
