//! `myvol exec-spec FILE` (hidden plumbing): read an [`ExecSpec`] as JSON and run it. The
//! exit status is the command's (128+N when signal N killed it), 125 when myvol failed, 126
//! or 127 when the command could not be executed or found.

use std::io::Read;
use std::path::Path;

use myvol::run::{self, ExecSpec};
use myvol::store::Store;

use super::{Failure, Io, Result};

/// Status for a failure of myvol itself, as `docker run` gives it.
const SETUP: u8 = run::status::SETUP as u8;

pub fn run(store: &Store, file: &Path, io: &mut Io<'_>) -> Result {
    let mut text = Vec::new();
    let read = if file == Path::new("-") {
        io.input.read_to_end(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut text))
    };
    read.map_err(|e| {
        Failure::new(SETUP, format!("read exec spec {}: {}", file.display(), myvol::store::errno_text(&e)))
    })?;
    let spec: ExecSpec = serde_json::from_slice(&text)
        .map_err(|e| Failure::new(SETUP, format!("invalid exec spec {}: {e}", file.display())))?;
    io.out.flush()?;
    match run::execute(store, &spec, Vec::new()) {
        Ok(0) => Ok(()),
        Ok(code) => Err(Failure::many(code.clamp(0, 255) as u8, Vec::new())),
        Err(e) => Err(Failure::new(e.exit_code().clamp(0, 255) as u8, e)),
    }
}
