//! Tar stream → staging directory. The `tar` crate only parses; every filesystem step is an
//! `*at` call relative to a directory fd inside the staging root (docs/security.md, "2.5"):
//!
//! 1. a member's name (PAX `path` and GNU long names applied, as bytes) must be relative and
//!    free of `..` and NUL; `./` prefixes and repeated slashes are harmless;
//! 2. its parent is opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//!    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)`; missing parents are made one component at a
//!    time, and a parent that is a symlink (or not a directory) refuses the whole archive;
//! 3. the leaf is created with `O_CREAT | O_EXCL | O_NOFOLLOW`, `mkdirat`, `symlinkat` (target
//!    stored verbatim, never followed), `mknodat` or `linkat`. An existing entry is unlinked
//!    first (an empty directory too; a directory over a directory merges): nothing that
//!    exists is ever opened for writing. Hard-link sources are resolved by the same rules and
//!    must be non-directories inside the staging root;
//! 4. owner (numeric), xattrs, mode and times go through the new fd or with
//!    `AT_SYMLINK_NOFOLLOW`; directory modes and times are applied at the end, deepest first.
//!
//! The whole archive must be read: members, then the end-of-archive marker; what follows the
//! marker is read too, up to [`TRAILER_MAX`] bytes (record padding, and the compression trailer
//! then checked: a gzip CRC, the last zstd frame), and anything beyond is ignored, as GNU tar
//! ignores it (so `/dev/zero`, an empty archive followed by endless zeros, ends at once). What
//! is written is counted against [`Limits`] (`--max-size`, the disk reserve). Any failure
//! returns an error and leaves the staging directory for the caller to delete.
//!
//! **Layer mode** ([`UnpackOptions::layer`]) unpacks an image layer into overlayfs's format,
//! through the same steps: a whiteout member `.wh.NAME` removes what this layer has at NAME
//! and leaves a 0/0 character device there (overlayfs's whiteout); `.wh..wh..opq` marks its
//! directory opaque with the `trusted.overlay.opaque` xattr (`user.overlay.opaque` for a
//! rootless store, mounted with `userxattr`); other `.wh..wh.` names are AUFS bookkeeping and
//! are skipped, as Docker does. A whiteout naming `.`, `..` or nothing, and a path through a
//! whiteout, refuse the layer. overlayfs's own xattrs (`trusted.overlay.*`, `user.overlay.*`)
//! carried by members are dropped: a layer must not forge redirects or opaque marks.

mod entry;
mod layer;
mod meta;
mod path;
mod sparse;
#[cfg(test)]
mod tests;

use std::io::{self, BufReader, Read};
use std::os::fd::{BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, FileType, Mode, OFlags, Timestamps};
use tar::EntryType;

use super::limits::{Budget, LimitError, Limits};
use super::{ArchiveError, Progress};

pub use layer::{WHITEOUT_META_PREFIX, WHITEOUT_OPAQUE, WHITEOUT_PREFIX};
use layer::{Whiteout, whiteout_kind};
use meta::MetaError;
pub use path::components;
use path::open_in;

const CHUNK: usize = 128 << 10;
/// The most read after the end-of-archive marker: GNU tar's largest record (a blocking factor
/// of 2048), which holds the rest of the last record and a compression trailer.
pub const TRAILER_MAX: u64 = 1 << 20;

/// What an import unpacked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    pub entries: u64,
    /// Bytes of file content unpacked (holes excluded).
    pub bytes: u64,
    /// Entries whose owner could not be set without privilege (they keep ours).
    pub owners_not_kept: u64,
    /// Device nodes left out because creating them needs privilege.
    pub devices_skipped: u64,
    /// Layer mode: whiteouts and opaque markers unpacked.
    pub whiteouts: u64,
}

/// How [`unpack_with`] reads and writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnpackOptions {
    /// The stream is a tar as it is: no gzip/zstd sniffing (the caller decompressed it).
    pub raw: bool,
    /// Unpack an image layer in overlayfs's format (module docs).
    pub layer: Option<OverlayXattrs>,
    /// What may be written (`--max-size`, the disk's reserve).
    pub limits: Limits,
}

/// The xattr namespace of overlayfs's markers in a layer: `trusted.overlay.*` (root) or
/// `user.overlay.*` (a rootless store, whose overlays are mounted with `userxattr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayXattrs {
    Trusted,
    User,
}

impl OverlayXattrs {
    /// The opaque-directory xattr.
    pub fn opaque(self) -> &'static str {
        match self {
            OverlayXattrs::Trusted => "trusted.overlay.opaque",
            OverlayXattrs::User => "user.overlay.opaque",
        }
    }
}

/// Unpack the tar stream `input` (plain, gzip or zstd, sniffed) into the empty directory
/// `staging`, within the default [`Limits`] (no size limit; the disk's reserve kept).
/// `progress` is told the bytes read from `input` and the members unpacked.
pub fn unpack(input: impl Read, staging: BorrowedFd<'_>, progress: &dyn Progress) -> Result<ImportStats, ArchiveError> {
    unpack_with(input, staging, progress, UnpackOptions::default())
}

/// [`unpack`] within `limits`.
pub fn unpack_within(
    input: impl Read,
    staging: BorrowedFd<'_>,
    progress: &dyn Progress,
    limits: Limits,
) -> Result<ImportStats, ArchiveError> {
    unpack_with(input, staging, progress, UnpackOptions { limits, ..UnpackOptions::default() })
}

/// [`unpack`], with options: a stream that is already decompressed, an image layer, limits.
pub fn unpack_with(
    input: impl Read,
    staging: BorrowedFd<'_>,
    progress: &dyn Progress,
    opts: UnpackOptions,
) -> Result<ImportStats, ArchiveError> {
    let read_err = |source: io::Error| ArchiveError::Read { source };
    let counted = Counting { inner: input, progress };
    // Smaller than CHUNK: large reads of member data bypass this buffer (one copy fewer).
    let buffered = BufReader::with_capacity(64 * 1024, counted);
    let decoded: Box<dyn Read> =
        if opts.raw { Box::new(buffered) } else { super::decoder(buffered).map_err(read_err)? };
    let mut archive = tar::Archive::new(EofWatch { inner: decoded, eof: false });
    let mut u = Unpacker {
        staging,
        root: rustix::process::geteuid().is_root(),
        layer: opts.layer,
        cache: None,
        deferred: Vec::new(),
        buf: vec![0u8; CHUNK],
        stats: ImportStats::default(),
        progress,
        budget: Budget::new(opts.limits),
    };
    for (seen, entry) in archive.entries().map_err(read_err)?.enumerate() {
        let entry = entry.map_err(|source| {
            // A first header that does not read: the input is something else entirely.
            if seen == 0 { ArchiveError::NotTar { source } } else { read_err(source) }
        })?;
        u.member(entry)?;
    }
    let mut rest = archive.into_inner();
    if rest.eof {
        // The end-of-archive marker never came: the stream was cut at a member boundary.
        return Err(ArchiveError::Truncated);
    }
    // Read what follows the marker (record padding), so that the compression trailer is
    // checked: a corrupt gzip CRC or zstd frame fails here. Bounded: what comes after that
    // is not the archive's, and may never end.
    io::copy(&mut (&mut rest).take(TRAILER_MAX), &mut io::sink()).map_err(read_err)?;
    u.finish()?;
    Ok(u.stats)
}

/// Counts the bytes read from the input for the progress display.
struct Counting<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes(n as u64);
        Ok(n)
    }
}

/// Remembers whether the (decompressed) stream reached its end.
struct EofWatch<R> {
    inner: R,
    eof: bool,
}

impl<R: Read> Read for EofWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}

/// A directory whose mode and times are applied at the end.
struct Deferred {
    path: Vec<u8>,
    depth: usize,
    mode: u32,
    times: Timestamps,
}

struct Unpacker<'a> {
    staging: BorrowedFd<'a>,
    root: bool,
    layer: Option<OverlayXattrs>,
    /// The last parent directory opened, by its path below the staging root.
    cache: Option<(Vec<u8>, OwnedFd)>,
    deferred: Vec<Deferred>,
    buf: Vec<u8>,
    stats: ImportStats,
    progress: &'a dyn Progress,
    budget: Budget,
}

impl<'a> Unpacker<'a> {
    fn member<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader || kind.as_byte() == b'V' {
            return Ok(());
        }
        self.budget.entry(self.staging)?;
        let meta = self.meta(&mut entry).map_err(|e| match e {
            MetaError::Read(source) => ArchiveError::Read { source },
            MetaError::Bad(reason) => ArchiveError::Refused { member: entry.path_bytes().into_owned(), reason },
        })?;
        // A pax sparse member's header name is `…/GNUSparseFile.N/NAME`; the real one is here.
        let name = match &meta.real_name {
            Some(n) => n.clone(),
            None => entry.path_bytes().into_owned(),
        };
        let refused = |reason: &'static str| ArchiveError::Refused { member: name.clone(), reason };
        let comps = components(&name).map_err(refused)?;
        let member_err = |source: io::Error| ArchiveError::Member { member: name.clone(), source };
        let whiteout = match self.layer {
            Some(x) => match whiteout_kind(&comps) {
                Whiteout::None => None,
                Whiteout::Meta => return Ok(()),
                Whiteout::Refused(reason) => return Err(refused(reason)),
                Whiteout::Opaque => Some(self.opaque(&comps[..comps.len() - 1], x)),
                Whiteout::Entry(leaf) => {
                    let mut target = comps[..comps.len() - 1].to_vec();
                    target.push(leaf);
                    Some(self.whiteout(&target))
                }
            },
            None => None,
        };
        let step = match kind {
            _ if whiteout.is_some() => whiteout.unwrap_or(Ok(())),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                if comps.is_empty() {
                    return Err(refused("the archive's root is not a directory (refused)"));
                }
                if meta.sparse.is_some() && kind != EntryType::Regular {
                    return Err(refused("GNU sparse records on a member that is not a file (refused)"));
                }
                self.file(&comps, &mut entry, &meta, kind == EntryType::GNUSparse)
            }
            EntryType::Directory => self.dir(&comps, &meta),
            k if k.as_byte() == b'D' => self.dir(&comps, &meta),
            EntryType::Symlink | EntryType::Link => {
                if comps.is_empty() {
                    return Err(refused("the archive's root is not a directory (refused)"));
                }
                let Some(target) = entry.link_name_bytes().map(|t| t.into_owned()) else {
                    return Err(refused("link without a target (refused)"));
                };
                if kind == EntryType::Symlink {
                    self.symlink(&comps, &target, &meta)
                } else {
                    self.hard_link(&comps, &target)
                }
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                if comps.is_empty() {
                    return Err(refused("the archive's root is not a directory (refused)"));
                }
                let (major, minor) = (
                    entry.header().device_major().ok().flatten().unwrap_or(0),
                    entry.header().device_minor().ok().flatten().unwrap_or(0),
                );
                let ft = match kind {
                    EntryType::Char => FileType::CharacterDevice,
                    EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                self.special(&comps, ft, rfs::makedev(major, minor), &meta)
            }
            _ => return Err(refused("unsupported member type (refused)")),
        };
        match step {
            Ok(()) => {}
            Err(Step::Refused(reason)) => return Err(refused(reason)),
            Err(Step::Io(e)) => return Err(member_err(e)),
            Err(Step::Truncated) => return Err(ArchiveError::Truncated),
            Err(Step::Read(source)) => return Err(ArchiveError::Read { source }),
            Err(Step::Limit(e)) => return Err(e.into()),
        }
        self.stats.entries += 1;
        self.progress.entry();
        Ok(())
    }

    /// Directory modes and times, deepest first; then everything to disk.
    fn finish(&mut self) -> Result<(), ArchiveError> {
        self.cache = None;
        let mut deferred = std::mem::take(&mut self.deferred);
        deferred.sort_by_key(|d| std::cmp::Reverse(d.depth));
        for d in &deferred {
            let err = |source: io::Error| ArchiveError::Member { member: d.path.clone(), source };
            let fd = match open_in(self.staging, &d.path, OFlags::RDONLY | OFlags::DIRECTORY) {
                Ok(fd) => fd,
                // Replaced by a later member: nothing to apply.
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP)) => continue,
                Err(e) => return Err(err(e)),
            };
            rfs::fchmod(&fd, Mode::from_raw_mode(d.mode)).map_err(|e| err(e.into()))?;
            rfs::futimens(&fd, &d.times).map_err(|e| err(e.into()))?;
        }
        // One syncfs instead of an fsync per file: everything unpacked is durable before the
        // caller swaps it in.
        rfs::syncfs(self.staging).map_err(|e| ArchiveError::Member { member: b".".to_vec(), source: e.into() })?;
        Ok(())
    }
}

/// One member's failure.
enum Step {
    Refused(&'static str),
    Io(io::Error),
    Read(io::Error),
    Truncated,
    Limit(LimitError),
}
