//! `myvol volume export` and `myvol volume import`.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use myvol::archive::limits::{Limits, MinFree};
use myvol::archive::{self, ArchiveError, Compression, Encoder, Progress};
use myvol::fsutil::NewFile;
use myvol::store::Store;

use super::{ExitStatus, Failure, Io, Result, volume_name};
use crate::cli::volume::{CompressArg, ExportArgs, ImportArgs};

/// A progress bar on stderr: bytes, rate and entries. Drawn only when stderr is a terminal
/// (and not `--quiet`); otherwise every call is a cheap no-op.
struct Bar {
    bar: Option<ProgressBar>,
    entries: AtomicU64,
}

impl Bar {
    fn new(quiet: bool, total: Option<u64>) -> Bar {
        if quiet || !io::stderr().is_terminal() {
            return Bar { bar: None, entries: AtomicU64::new(0) };
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template(
                    "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg} entries, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {binary_bytes} {binary_bytes_per_sec} {msg} entries")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        Bar { bar: Some(bar), entries: AtomicU64::new(0) }
    }

    fn done(&self) {
        if let Some(b) = &self.bar {
            b.set_message(self.entries.load(Ordering::Relaxed).to_string());
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    fn entry(&self) {
        if let Some(b) = &self.bar {
            let n = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
            if n % 256 == 1 {
                b.set_message(n.to_string());
            }
        }
    }
}

fn archive_failure(op: &str, name: &str, e: ArchiveError) -> Failure {
    Failure::new(ExitStatus::Failure, format!("{op} {name}: {e}"))
}

/// How `export` ends when its output pipe was closed before the archive was whole
/// (`myvol volume export v | head -c 100`): quietly, but as a failure, with the status a
/// shell shows for `tar` or `docker save` killed by SIGPIPE (141), so that `set -o pipefail`
/// and backup scripts see that the archive was cut.
fn output_closed() -> Failure {
    Failure::quiet(ExitStatus::Signal(libc::SIGPIPE as u8))
}

pub fn export(store: &Store, a: ExportArgs, io: &mut Io<'_>) -> Result {
    let to_stdout = a.output.as_deref().is_none_or(|p| p == Path::new("-"));
    if to_stdout && io::stdout().is_terminal() {
        return Err(Failure::new(
            ExitStatus::Failure,
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        ));
    }
    let compression = match a.compress {
        Some(CompressArg::None) => Compression::None,
        Some(CompressArg::Gzip) => Compression::Gzip,
        Some(CompressArg::Zstd) => Compression::Zstd,
        None => match &a.output {
            Some(p) if !to_stdout => Compression::from_file_name(p.file_name().unwrap_or_default()),
            _ => Compression::None,
        },
    };
    let (lease, data) = myvol::driver::open_for_export(store, &volume_name(&a.name)?)
        .map_err(|e| Failure::new(super::ExitStatus::Failure, e.to_string().trim()))?;
    let bar = Bar::new(a.quiet, None);
    let result = if to_stdout {
        write_archive(data.as_fd(), &mut *io.out, compression, &bar)
            .map_err(|e| if e.is_broken_pipe() { output_closed() } else { archive_failure("export", &a.name, e) })
    } else {
        let path = a.output.unwrap_or_default();
        export_to_file(&path, data.as_fd(), compression, &bar).map_err(|e| match e {
            FileFailure::Open(e) => Failure::new(
                ExitStatus::Failure,
                format!("export {}: create {}: {}", a.name, path.display(), errno(&e)),
            ),
            FileFailure::Archive(e) if e.is_broken_pipe() => output_closed(),
            FileFailure::Archive(e) => archive_failure("export", &a.name, e),
        })
    };
    bar.done();
    drop(lease);
    result
}

fn errno(e: &io::Error) -> String {
    myvol::text::errno_text(e)
}

fn write_archive(
    data: BorrowedFd<'_>,
    out: &mut dyn Write,
    compression: Compression,
    bar: &Bar,
) -> std::result::Result<(), ArchiveError> {
    let buffered = BufWriter::with_capacity(1 << 20, out);
    let mut enc = Encoder::new(buffered, compression).map_err(|source| ArchiveError::Write { source })?;
    // Uncompressed: large files go straight from the page cache to stdout (sendfile).
    let stdout = io::stdout();
    let direct = (compression == Compression::None).then(|| stdout.as_fd());
    archive::export::export_direct(data, &mut enc, direct, bar)?;
    let mut buffered = enc.finish().map_err(|source| ArchiveError::Write { source })?;
    buffered.flush().map_err(|source| ArchiveError::Write { source })?;
    Ok(())
}

enum FileFailure {
    Open(io::Error),
    Archive(ArchiveError),
}

/// Write the archive to `path` so that it appears under its name only once complete: a
/// regular file is written unnamed and linked in at the end (see [`NewFile`]), so a cron job
/// killed midway leaves neither a half-written backup under the real name nor a temporary
/// beside it. A `path` that exists and is not a regular file (a FIFO, `/dev/null`) is
/// written directly.
fn export_to_file(
    path: &Path,
    data: BorrowedFd<'_>,
    compression: Compression,
    bar: &Bar,
) -> std::result::Result<(), FileFailure> {
    let direct = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
    let run = |file: &mut File| -> std::result::Result<(), ArchiveError> {
        // The same open file twice: what the BufWriter flushes and what sendfile writes share
        // one file offset.
        let dup = file.try_clone().ok().filter(|_| compression == Compression::None);
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let mut enc = Encoder::new(buffered, compression).map_err(|source| ArchiveError::Write { source })?;
        archive::export::export_direct(data, &mut enc, dup.as_ref().map(|f| f.as_fd()), bar)?;
        let mut buffered = enc.finish().map_err(|source| ArchiveError::Write { source })?;
        buffered.flush().map_err(|source| ArchiveError::Write { source })?;
        Ok(())
    };
    if direct {
        let mut file = File::options().write(true).open(path).map_err(FileFailure::Open)?;
        return run(&mut file).map_err(FileFailure::Archive);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = path.file_name().unwrap_or(OsStr::new("archive"));
    let mut out = NewFile::create(&dir, base).map_err(FileFailure::Open)?;
    run(out.file()).map_err(FileFailure::Archive)?;
    // The mode a plain `> FILE` would give, not the private one used while writing.
    out.persist(0o644 & !umask()).map_err(|source| FileFailure::Archive(ArchiveError::Write { source }))
}

fn umask() -> u32 {
    // Read by setting and restoring: the process is single-threaded here.
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    rustix::process::umask(old);
    old.bits()
}

pub fn import(store: &Store, a: ImportArgs, io: &mut Io<'_>) -> Result {
    let from_stdin = a.source.as_deref().is_none_or(|p| p == Path::new("-"));
    if from_stdin && io::stdin().is_terminal() {
        return Err(Failure::new(
            ExitStatus::Failure,
            "cowardly refusing to read an archive from a terminal. Give a FILE or redirect",
        ));
    }
    let file = match &a.source {
        Some(p) if !from_stdin => Some(File::open(p).map_err(|e| {
            Failure::new(ExitStatus::Failure, format!("import {}: open {}: {}", a.name, p.display(), errno(&e)))
        })?),
        _ => None,
    };
    let total = file.as_ref().and_then(|f| f.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len());
    let name = volume_name(&a.name)?;
    // A volume with a size limit can hold no more than that (a disk image is made from what is
    // unpacked, aside: the check stops a too large archive early).
    let volume_size = store.get(&name).ok().and_then(|v| v.quota).map(|q| q.size);
    let limits = Limits { max_size: a.max_size, min_free: a.min_free.unwrap_or(MinFree::Default), volume_size };
    // For a volume that --create makes, the slot is the whole new volume, built aside: it
    // appears only when finish_import publishes it, content and all.
    let slot = store.begin_import(&name, a.force, a.create).map_err(|e| {
        let missing = matches!(e, myvol::store::StoreError::NotFound(_));
        let f = super::store_failure(store, e);
        if missing { f.with_hint("Add --create to create the volume and import into it") } else { f }
    })?;
    let bar = Bar::new(a.quiet, total);
    let stats = match file {
        Some(f) => archive::import::unpack_within(f, slot.staging(), &bar, limits),
        None => archive::import::unpack_within(&mut *io.input, slot.staging(), &bar, limits),
    };
    bar.done();
    // On failure the slot is dropped: the staging directory goes, the volume is untouched
    // (or, with --create, never appears).
    let stats = stats.map_err(|e| archive_failure("import", &a.name, e))?;
    store.finish_import(slot, a.force).map_err(|e| super::store_failure(store, e))?;
    if !a.quiet {
        if stats.devices_skipped > 0 {
            eprintln!(
                "Warning: {} device node(s) not created: creating device nodes needs root",
                stats.devices_skipped
            );
        }
        if stats.owners_not_kept > 0 {
            eprintln!(
                "Warning: {} entr(ies) keep your own uid/gid: setting other owners needs root",
                stats.owners_not_kept
            );
        }
    }
    Ok(())
}
