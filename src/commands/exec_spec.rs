//! `myvol exec-spec FILE` (hidden plumbing): read an [`ExecFile`] (the executable part of a
//! run plan, as JSON) and run it, as `runc run` runs a `config.json`. The exit status is the
//! command's (128+N when signal N killed it), 125 when myvol failed, 126 or 127 when the
//! command could not be executed or found.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use myvol::plan::RunError;
use myvol::runtime::{self, Exec, ExecFile, MountRef};
use myvol::store::{Lease, Store, layout};
use myvol::text::errno_text;

use super::run::command_ended;
use super::{ExitStatus, Failure, Io, Result, volume_name};

pub fn myvol_exec_spec(store: &Store, file: &Path, io: &mut Io<'_>) -> Result {
    let failed = |m: String| Failure::new(ExitStatus::RunFailed, m);
    let mut text = Vec::new();
    let read = if file == Path::new("-") {
        io.input.read_to_end(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut text))
    };
    read.map_err(|e| failed(format!("read exec spec {}: {}", file.display(), errno_text(&e))))?;
    let spec: ExecFile =
        serde_json::from_slice(&text).map_err(|e| failed(format!("invalid exec spec {}: {e}", file.display())))?;
    let exec = spec.exec();
    runtime::validate(&exec).map_err(|e| failed(format!("invalid exec spec: {e}")))?;
    runtime::check_rootfs(exec.rootfs).map_err(|e| failed(e.to_string()))?;
    runtime::check_input(exec.process.tty, exec.process.interactive)
        .map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    let leases = leases_for(store, &exec)?;
    io.out.flush()?;
    command_ended(runtime::execute(store, &exec, leases).map_err(RunError::from)?)
}

/// Volumes of this store bound by the spec (`<root>/volumes/<name>/_data[/…]`) are leased for
/// the run's whole life, as `myvol run` does, so `volume rm` sees them in use.
fn leases_for(store: &Store, exec: &Exec<'_>) -> Result<Vec<Lease>> {
    let volumes = store.root().join(layout::VOLUMES_DIR);
    let mut names = BTreeSet::new();
    for m in &exec.mounts {
        let MountRef::Bind(b) = m else { continue };
        let Ok(rest) = b.source.strip_prefix(&volumes) else { continue };
        let mut c = rest.components();
        if let (Some(name), Some(data)) = (c.next(), c.next())
            && data.as_os_str() == layout::DATA_DIR
        {
            names.insert(name.as_os_str().to_string_lossy().into_owned());
        }
    }
    names
        .iter()
        .map(|n| {
            volume_name(n).and_then(|n| store.lease(&n, "run")).map_err(|e| Failure::new(ExitStatus::RunFailed, e))
        })
        .collect()
}
