//! `myvol exec-spec FILE` (hidden plumbing): read an [`ExecSpec`] as JSON and run it. The
//! exit status is the command's (128+N when signal N killed it), 125 when myvol failed, 126
//! or 127 when the command could not be executed or found.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use myvol::run::{self, ExecSpec, MountOp};
use myvol::store::{Lease, Store, layout};

use super::{Failure, Io, Result, volume_name};

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
        Failure::new(SETUP, format!("read exec spec {}: {}", file.display(), myvol::text::errno_text(&e)))
    })?;
    let spec: ExecSpec = serde_json::from_slice(&text)
        .map_err(|e| Failure::new(SETUP, format!("invalid exec spec {}: {e}", file.display())))?;
    let leases = leases_for(store, &spec)?;
    io.out.flush()?;
    match run::execute(store, &spec, leases) {
        Ok(0) => Ok(()),
        Ok(code) => Err(Failure::many(code.clamp(0, 255) as u8, Vec::new())),
        Err(e) => Err(Failure::new(e.exit_code().clamp(0, 255) as u8, e)),
    }
}

/// Volumes of this store bound by the spec (`<root>/volumes/<name>/_data[/…]`) are leased for
/// the run's whole life, as `myvol run` does, so `volume rm` sees them in use.
fn leases_for(store: &Store, spec: &ExecSpec) -> Result<Vec<Lease>> {
    let volumes = store.root().join(layout::VOLUMES_DIR);
    let mut names = BTreeSet::new();
    for m in &spec.mounts {
        let MountOp::Bind { source, .. } = m else { continue };
        let Ok(rest) = source.strip_prefix(&volumes) else { continue };
        let mut c = rest.components();
        if let (Some(name), Some(data)) = (c.next(), c.next())
            && data.as_os_str() == layout::DATA_DIR
        {
            names.insert(name.as_os_str().to_string_lossy().into_owned());
        }
    }
    names
        .iter()
        .map(|n| volume_name(n).and_then(|n| store.lease(&n, "run")).map_err(|e| Failure::new(SETUP, e)))
        .collect()
}
