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

use std::ffi::{CString, OsStr};
use std::io::{self, BufReader, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Gid, Mode, OFlags, ResolveFlags, Timespec, Timestamps, Uid};
use rustix::io::Errno;
use tar::EntryType;

use super::limits::{Budget, LimitError, Limits};
use super::{ArchiveError, Progress};
use crate::copy::{proc_path, tolerate_xattr_set};
use crate::fsutil;

const CHUNK: usize = 128 << 10;
/// The most read after the end-of-archive marker: GNU tar's largest record (a blocking factor
/// of 2048), which holds the rest of the last record and a compression trailer.
pub const TRAILER_MAX: u64 = 1 << 20;
/// Granularity of hole detection in sparse members.
const HOLE_BLOCK: usize = 4096;

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

/// The prefix of a whiteout member's last component.
pub const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// AUFS metadata names (and the opaque marker among them).
pub const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
/// A directory's opaque marker.
pub const WHITEOUT_OPAQUE: &[u8] = b".wh..wh..opq";

/// What a layer member's name means for overlayfs.
enum Whiteout<'n> {
    None,
    /// AUFS bookkeeping (`.wh..wh.plnk`, …): skipped.
    Meta,
    /// `DIR/.wh..wh..opq`: DIR is opaque.
    Opaque,
    /// `DIR/.wh.NAME`: NAME is deleted.
    Entry(&'n [u8]),
    Refused(&'static str),
}

fn whiteout_kind<'n>(comps: &[&'n [u8]]) -> Whiteout<'n> {
    let Some((last, parents)) = comps.split_last() else { return Whiteout::None };
    if parents.iter().any(|c| c.starts_with(WHITEOUT_META_PREFIX)) {
        return Whiteout::Meta;
    }
    if parents.iter().any(|c| c.starts_with(WHITEOUT_PREFIX)) {
        return Whiteout::Refused("path through a whiteout (refused)");
    }
    if *last == WHITEOUT_OPAQUE {
        return Whiteout::Opaque;
    }
    if last.starts_with(WHITEOUT_META_PREFIX) {
        return Whiteout::Meta;
    }
    match last.strip_prefix(WHITEOUT_PREFIX) {
        None => Whiteout::None,
        Some(b"" | b"." | b"..") => Whiteout::Refused("whiteout of '.', '..' or nothing (refused)"),
        Some(name) => Whiteout::Entry(name),
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

/// The member's name as components: `Err` with the reason when it is refused.
pub fn components(name: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if name.contains(&0) {
        return Err("name contains a NUL byte (refused)");
    }
    if name.starts_with(b"/") {
        return Err("absolute name (refused)");
    }
    let comps: Vec<&[u8]> = name.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
    if comps.iter().any(|c| *c == b"..") {
        return Err("name contains '..' (refused)");
    }
    Ok(comps)
}

fn join(comps: &[&[u8]]) -> Vec<u8> {
    comps.join(&b'/')
}

fn resolve_flags() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_XDEV
}

/// `openat2` beneath `dir` with symlinks, magic links and mount crossings refused (the
/// component-wise `O_NOFOLLOW` walk of [`fsutil::open_beneath`] on kernels without it).
fn open_in(dir: BorrowedFd<'_>, path: &[u8], flags: OFlags) -> io::Result<OwnedFd> {
    let path = if path.is_empty() { b".".as_slice() } else { path };
    let flags = flags | OFlags::CLOEXEC;
    for _ in 0..16 {
        match rfs::openat2(dir, OsStr::from_bytes(path), flags, Mode::empty(), resolve_flags()) {
            Err(Errno::AGAIN) => continue,
            Err(Errno::NOSYS) => return fsutil::open_beneath(dir, OsStr::from_bytes(path), flags, Mode::empty()),
            other => return other.map_err(io::Error::from),
        }
    }
    Err(Errno::AGAIN.into())
}

/// A PAX time: `SECONDS[.FRACTION]`, possibly negative.
fn parse_pax_time(v: &[u8]) -> Option<Timespec> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let sec: i64 = sec.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = frac.as_bytes().iter().take(9).map(|b| i64::from(b - b'0')).collect::<Vec<_>>();
    digits.resize(9, 0);
    let nsec = digits.iter().fold(0i64, |a, d| a * 10 + d);
    Some(if neg && nsec > 0 {
        Timespec { tv_sec: -sec - 1, tv_nsec: 1_000_000_000 - nsec }
    } else if neg {
        Timespec { tv_sec: -sec, tv_nsec: 0 }
    } else {
        Timespec { tv_sec: sec, tv_nsec: nsec }
    })
}

/// Everything a member says about itself besides its content.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    times: Timestamps,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// A GNU pax sparse member: where its map is.
    sparse: Option<SparseLayout>,
    /// `GNU.sparse.name`: the real name of a pax sparse member.
    real_name: Option<Vec<u8>>,
}

/// The GNU sparse records of a pax header.
#[derive(Default)]
struct PaxSparse {
    name: Option<Vec<u8>>,
    real_size: Option<u64>,
    major: Option<u32>,
    map: Option<Vec<(u64, u64)>>,
}

/// How a pax sparse member describes its data segments.
enum SparseLayout {
    /// Format 0.1: `GNU.sparse.map` in the pax header; the real size.
    Map(Vec<(u64, u64)>, u64),
    /// Format 1.0: the map is at the start of the data, in decimal lines, padded to a block.
    MapInData(u64),
}

/// Sparse maps larger than this are refused (memory stays bounded).
const MAX_SPARSE_SEGMENTS: usize = 1 << 18;

/// `offset,size,offset,size,…`
fn parse_map(v: &[u8]) -> Option<Vec<(u64, u64)>> {
    let s = std::str::from_utf8(v).ok()?;
    if s.is_empty() {
        return Some(Vec::new());
    }
    let nums: Vec<u64> = s.split(',').map(|n| n.parse().ok()).collect::<Option<_>>()?;
    if !nums.len().is_multiple_of(2) || nums.len() / 2 > MAX_SPARSE_SEGMENTS {
        return None;
    }
    Some(nums.chunks(2).map(|c| (c[0], c[1])).collect())
}

/// Segments must be in order, not overlap, and end within the real size.
fn valid_map(map: &[(u64, u64)], real_size: u64) -> bool {
    let mut end = 0u64;
    for &(off, len) in map {
        let Some(e) = off.checked_add(len) else { return false };
        if off < end || e > real_size {
            return false;
        }
        end = e;
    }
    true
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

    fn meta<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<Meta, MetaError> {
        let mut xattrs = Vec::new();
        let (mut mtime, mut atime) = (None, None);
        let mut sparse = PaxSparse::default();
        if let Some(exts) = entry.pax_extensions().map_err(MetaError::Read)? {
            for ext in exts {
                let ext = ext.map_err(MetaError::Read)?;
                let key = ext.key_bytes();
                if let Some(x) = key.strip_prefix(b"SCHILY.xattr.") {
                    if x.is_empty() || x.contains(&0) {
                        return Err(MetaError::Bad("invalid xattr name (refused)"));
                    }
                    if self.layer.is_some() && (x.starts_with(b"trusted.overlay.") || x.starts_with(b"user.overlay.")) {
                        continue;
                    }
                    xattrs.push((x.to_vec(), ext.value_bytes().to_vec()));
                } else if key == b"mtime" {
                    mtime = parse_pax_time(ext.value_bytes());
                } else if key == b"atime" {
                    atime = parse_pax_time(ext.value_bytes());
                } else if key == b"GNU.sparse.name" {
                    sparse.name = Some(ext.value_bytes().to_vec());
                } else if key == b"GNU.sparse.realsize" || key == b"GNU.sparse.size" {
                    sparse.real_size = std::str::from_utf8(ext.value_bytes()).ok().and_then(|v| v.parse().ok());
                } else if key == b"GNU.sparse.major" {
                    sparse.major = std::str::from_utf8(ext.value_bytes()).ok().and_then(|v| v.parse().ok());
                } else if key == b"GNU.sparse.map" {
                    sparse.map =
                        Some(parse_map(ext.value_bytes()).ok_or(MetaError::Bad("invalid sparse map (refused)"))?);
                } else if key == b"GNU.sparse.offset" || key == b"GNU.sparse.numbytes" {
                    return Err(MetaError::Bad("GNU sparse format 0.0 is not supported (refused)"));
                }
            }
        }
        let h = entry.header();
        let raw = h.as_bytes();
        // A field left blank (all NUL or spaces, as some writers do) reads as 0; anything
        // else that does not parse refuses the member.
        let field = |r: std::io::Result<u64>, range: std::ops::Range<usize>| match r {
            Ok(v) => Ok(v),
            Err(_) if raw[range].iter().all(|&b| b == 0 || b == b' ') => Ok(0),
            Err(_) => Err(MetaError::Bad("unreadable header field (refused)")),
        };
        let mode = field(h.mode().map(u64::from), 100..108)? as u32 & 0o7777;
        let uid = u32::try_from(field(h.uid(), 108..116)?).map_err(|_| MetaError::Bad("uid out of range (refused)"))?;
        let gid = u32::try_from(field(h.gid(), 116..124)?).map_err(|_| MetaError::Bad("gid out of range (refused)"))?;
        let mtime = match mtime {
            Some(t) => t,
            None => Timespec { tv_sec: i64::try_from(field(h.mtime(), 136..148)?).unwrap_or(i64::MAX), tv_nsec: 0 },
        };
        let atime = atime.unwrap_or(mtime);
        let sparse_name = sparse.name.take();
        let sparse = match sparse {
            PaxSparse { real_size: Some(size), major: Some(1), .. } => Some(SparseLayout::MapInData(size)),
            PaxSparse { real_size: Some(size), map: Some(map), .. } => Some(SparseLayout::Map(map, size)),
            PaxSparse { real_size: None, major: None, map: None, .. } => None,
            _ => return Err(MetaError::Bad("incomplete GNU sparse records (refused)")),
        };
        Ok(Meta {
            mode,
            uid,
            gid,
            times: Timestamps { last_access: atime, last_modification: mtime },
            xattrs,
            sparse,
            real_name: sparse_name,
        })
    }

    /// The parent directory of `comps` (all but the last component), made if missing.
    fn parent(&mut self, comps: &[&[u8]]) -> Result<BorrowedFd<'_>, Step> {
        let parent = &comps[..comps.len() - 1];
        let path = join(parent);
        if self.cache.as_ref().is_none_or(|(p, _)| *p != path) {
            let fd = self.open_or_make(parent)?;
            self.cache = Some((path, fd));
        }
        match &self.cache {
            Some((_, fd)) => Ok(fd.as_fd()),
            None => Err(Step::Io(Errno::NOENT.into())),
        }
    }

    fn open_or_make(&mut self, dirs: &[&[u8]]) -> Result<OwnedFd, Step> {
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        match open_in(self.staging, &join(dirs), flags) {
            Ok(fd) => return Ok(fd),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(parent_error(e)),
        }
        // Make what is missing, one component at a time, each opened by the same rules.
        let mut cur = open_in(self.staging, b"", flags).map_err(Step::Io)?;
        for (i, c) in dirs.iter().enumerate() {
            match rfs::mkdirat(&cur, OsStr::from_bytes(c), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(Step::Io(e.into())),
            }
            cur = open_in(self.staging, &join(&dirs[..=i]), flags).map_err(parent_error)?;
        }
        Ok(cur)
    }

    /// Make room for a new entry `leaf` in `parent`: unlink what is there (an empty
    /// directory included). `Ok(true)` when a directory is there and `dir` says the new
    /// member is one too (they merge).
    fn clear(&mut self, comps: &[&[u8]], dir: bool) -> Result<bool, Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        let parent = self.parent(comps)?;
        let st = match rfs::statat(parent, leaf, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(false),
            Err(e) => return Err(Step::Io(e.into())),
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            if dir {
                return Ok(true);
            }
            match rfs::unlinkat(parent, leaf, AtFlags::REMOVEDIR) {
                Ok(()) => {}
                Err(Errno::NOTEMPTY | Errno::EXIST) => {
                    return Err(Step::Refused("would replace a non-empty directory (refused)"));
                }
                Err(e) => return Err(Step::Io(e.into())),
            }
        } else {
            rfs::unlinkat(parent, leaf, AtFlags::empty()).map_err(|e| Step::Io(e.into()))?;
        }
        // A directory may have gone: forget the cached parent.
        self.cache = None;
        Ok(false)
    }

    /// Run `create`; if the name exists, clear it and try once more.
    fn create<T>(
        &mut self,
        comps: &[&[u8]],
        create: impl Fn(BorrowedFd<'_>, &OsStr) -> rustix::io::Result<T>,
    ) -> Result<T, Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        match create(self.parent(comps)?, leaf) {
            Ok(t) => return Ok(t),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(Step::Io(e.into())),
        }
        self.clear(comps, false)?;
        create(self.parent(comps)?, leaf).map_err(|e| Step::Io(e.into()))
    }

    fn file<R: Read>(
        &mut self,
        comps: &[&[u8]],
        entry: &mut tar::Entry<'_, R>,
        meta: &Meta,
        sparse: bool,
    ) -> Result<(), Step> {
        let fd = self.create(comps, |dir, leaf| {
            rfs::openat(
                dir,
                leaf,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
        })?;
        if let Some(layout) = &meta.sparse {
            self.pax_sparse_data(fd.as_fd(), entry, layout)?;
            self.finish_fd(fd.as_fd(), meta).map_err(Step::Io)?;
            return Ok(());
        }
        let size = entry.size();
        let mut off = 0u64;
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Step::Read(e)),
            };
            let mut i = 0;
            while i < n {
                // Sparse members come back with their holes as zeros: skip whole zero blocks
                // so that holes stay holes.
                let block_end = if sparse {
                    let o = off + i as u64;
                    let next = (o / HOLE_BLOCK as u64 + 1) * HOLE_BLOCK as u64;
                    (i + (next - o) as usize).min(n)
                } else {
                    n
                };
                let chunk = &self.buf[i..block_end];
                if !(sparse && chunk.iter().all(|&b| b == 0)) {
                    self.budget.content(self.staging, chunk.len() as u64).map_err(Step::Limit)?;
                    write_all_at(fd.as_fd(), chunk, off + i as u64).map_err(Step::Io)?;
                }
                i = block_end;
            }
            off += n as u64;
            self.stats.bytes += n as u64;
        }
        if off != size {
            return Err(Step::Truncated);
        }
        if sparse {
            rfs::ftruncate(&fd, size).map_err(|e| Step::Io(e.into()))?;
        }
        self.finish_fd(fd.as_fd(), meta).map_err(Step::Io)?;
        Ok(())
    }

    /// The data of a GNU pax sparse member (formats 0.1 and 1.0): each segment is written at
    /// its offset, the rest stays a hole.
    fn pax_sparse_data<R: Read>(
        &mut self,
        fd: BorrowedFd<'_>,
        entry: &mut tar::Entry<'_, R>,
        layout: &SparseLayout,
    ) -> Result<(), Step> {
        let stored = entry.size();
        let (map, real_size, consumed) = match layout {
            SparseLayout::Map(map, size) => (map.clone(), *size, 0u64),
            SparseLayout::MapInData(size) => {
                let (map, used) = read_data_map(entry)?;
                (map, *size, used)
            }
        };
        if !valid_map(&map, real_size) {
            return Err(Step::Refused("invalid sparse map (refused)"));
        }
        let data: u64 = map.iter().map(|s| s.1).sum();
        if consumed.checked_add(data) != Some(stored) {
            return Err(Step::Refused("sparse map does not match the member's size (refused)"));
        }
        for &(off, len) in &map {
            let mut done = 0u64;
            while done < len {
                let want = usize::try_from(len - done).unwrap_or(usize::MAX).min(self.buf.len());
                let n = match entry.read(&mut self.buf[..want]) {
                    Ok(0) => return Err(Step::Truncated),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Step::Read(e)),
                };
                self.budget.content(self.staging, n as u64).map_err(Step::Limit)?;
                write_all_at(fd, &self.buf[..n], off + done).map_err(Step::Io)?;
                done += n as u64;
            }
            self.stats.bytes += len;
        }
        rfs::ftruncate(fd, real_size).map_err(|e| Step::Io(e.into()))?;
        Ok(())
    }

    fn dir(&mut self, comps: &[&[u8]], meta: &Meta) -> Result<(), Step> {
        let fd = if comps.is_empty() {
            open_in(self.staging, b"", OFlags::RDONLY | OFlags::DIRECTORY).map_err(Step::Io)?
        } else {
            let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
            let made = rfs::mkdirat(self.parent(comps)?, leaf, Mode::from_raw_mode(0o700));
            match made {
                Ok(()) => {}
                Err(Errno::EXIST) => {
                    if !self.clear(comps, true)? {
                        rfs::mkdirat(self.parent(comps)?, leaf, Mode::from_raw_mode(0o700))
                            .map_err(|e| Step::Io(e.into()))?;
                    }
                }
                Err(e) => return Err(Step::Io(e.into())),
            }
            rfs::openat(
                self.parent(comps)?,
                leaf,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Step::Io(e.into()))?
        };
        self.owner(rfs::fchown(&fd, Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid)))).map_err(Step::Io)?;
        for (k, v) in &meta.xattrs {
            let k = OsStr::from_bytes(k);
            tolerate_xattr_set(k, rfs::fsetxattr(&fd, k, v, rfs::XattrFlags::empty())).map_err(Step::Io)?;
        }
        // Owner-writable until the end, so that later members can go in.
        rfs::fchmod(&fd, Mode::from_raw_mode(0o700)).map_err(|e| Step::Io(e.into()))?;
        self.deferred.push(Deferred {
            path: join(comps),
            depth: comps.len(),
            mode: meta.mode,
            times: meta.times.clone(),
        });
        Ok(())
    }

    fn symlink(&mut self, comps: &[&[u8]], target: &[u8], meta: &Meta) -> Result<(), Step> {
        let target = CString::new(target).map_err(|_| Step::Refused("link target contains a NUL byte (refused)"))?;
        self.create(comps, |dir, leaf| rfs::symlinkat(target.as_c_str(), dir, leaf))?;
        self.finish_at(comps, meta, false)
    }

    fn hard_link(&mut self, comps: &[&[u8]], target: &[u8]) -> Result<(), Step> {
        let tcomps = match components(target) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => return Err(Step::Refused("hard link to the archive's root (refused)")),
            Err("absolute name (refused)") => return Err(Step::Refused("hard link to an absolute path (refused)")),
            Err(_) => return Err(Step::Refused("hard link target outside the archive (refused)")),
        };
        if tcomps == comps {
            return Ok(()); // a link to itself: nothing to do
        }
        let tparent = open_in(self.staging, &join(&tcomps[..tcomps.len() - 1]), OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT) => Step::Refused("hard link to a member not in the archive (refused)"),
                _ => parent_error(e),
            })?;
        let tleaf = OsStr::from_bytes(tcomps[tcomps.len() - 1]);
        match rfs::statat(&tparent, tleaf, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                return Err(Step::Refused("hard link to a directory (refused)"));
            }
            Ok(_) => {}
            Err(Errno::NOENT) => return Err(Step::Refused("hard link to a member not in the archive (refused)")),
            Err(e) => return Err(Step::Io(e.into())),
        }
        self.create(comps, |dir, leaf| rfs::linkat(&tparent, tleaf, dir, leaf, AtFlags::empty()))
    }

    fn special(&mut self, comps: &[&[u8]], ft: FileType, dev: rfs::Dev, meta: &Meta) -> Result<(), Step> {
        let device = ft != FileType::Fifo;
        if device && !self.root {
            self.stats.devices_skipped += 1;
            return Ok(());
        }
        match self.create(comps, |dir, leaf| rfs::mknodat(dir, leaf, ft, Mode::from_raw_mode(0o600), dev)) {
            Ok(()) => {}
            // Root in a user namespace may not make devices either.
            Err(Step::Io(e)) if device && e.raw_os_error() == Some(libc::EPERM) => {
                self.stats.devices_skipped += 1;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        self.finish_at(comps, meta, true)
    }

    /// Layer mode: mark directory `dir` (made if missing) opaque.
    fn opaque(&mut self, dir: &[&[u8]], x: OverlayXattrs) -> Result<(), Step> {
        self.open_or_make(dir)?;
        let fd = open_in(self.staging, &join(dir), OFlags::RDONLY | OFlags::DIRECTORY).map_err(parent_error)?;
        rfs::fsetxattr(&fd, x.opaque(), b"y", rfs::XattrFlags::empty()).map_err(|e| Step::Io(e.into()))?;
        self.stats.whiteouts += 1;
        Ok(())
    }

    /// Layer mode: delete what this layer has at `comps` and leave overlayfs's whiteout, a
    /// 0/0 character device (which needs no privilege since Linux 5.8).
    fn whiteout(&mut self, comps: &[&[u8]]) -> Result<(), Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        let parent = self.parent(comps)?;
        match rfs::statat(parent, leaf, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                fsutil::remove_tree(parent, leaf).map_err(Step::Io)?;
                self.cache = None;
            }
            Ok(_) => rfs::unlinkat(parent, leaf, AtFlags::empty()).map_err(|e| Step::Io(e.into()))?,
            Err(Errno::NOENT) => {}
            Err(e) => return Err(Step::Io(e.into())),
        }
        let parent = self.parent(comps)?;
        rfs::mknodat(parent, leaf, FileType::CharacterDevice, Mode::empty(), rfs::makedev(0, 0))
            .map_err(|e| Step::Io(e.into()))?;
        self.stats.whiteouts += 1;
        Ok(())
    }

    /// `chown` may fail without privilege: the entry keeps our ids (rootless import).
    fn owner(&mut self, r: rustix::io::Result<()>) -> io::Result<()> {
        match r {
            Err(Errno::PERM | Errno::INVAL) if !self.root => {
                self.stats.owners_not_kept += 1;
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// Owner, xattrs, mode, times of a new file, in that order (`chown` clears setuid).
    fn finish_fd(&mut self, fd: BorrowedFd<'_>, meta: &Meta) -> io::Result<()> {
        self.owner(rfs::fchown(fd, Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid))))?;
        for (k, v) in &meta.xattrs {
            let k = OsStr::from_bytes(k);
            tolerate_xattr_set(k, rfs::fsetxattr(fd, k, v, rfs::XattrFlags::empty()))?;
        }
        rfs::fchmod(fd, Mode::from_raw_mode(meta.mode))?;
        rfs::futimens(fd, &meta.times)?;
        Ok(())
    }

    /// The same for entries that cannot be opened (symlinks, FIFOs, devices).
    fn finish_at(&mut self, comps: &[&[u8]], meta: &Meta, chmod: bool) -> Result<(), Step> {
        let leaf = OsStr::from_bytes(comps[comps.len() - 1]);
        let parent = self.parent(comps)?;
        let chown = rfs::chownat(
            parent,
            leaf,
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        );
        let p = proc_path(parent, leaf);
        let mut r: io::Result<()> = Ok(());
        for (k, v) in &meta.xattrs {
            let k = OsStr::from_bytes(k);
            r = r.and_then(|()| tolerate_xattr_set(k, rfs::lsetxattr(&p, k, v, rfs::XattrFlags::empty())));
        }
        let r = r
            .and_then(|()| {
                if chmod {
                    rfs::chmodat(parent, leaf, Mode::from_raw_mode(meta.mode), AtFlags::empty())?;
                }
                Ok(())
            })
            .and_then(|()| Ok(rfs::utimensat(parent, leaf, &meta.times, AtFlags::SYMLINK_NOFOLLOW)?));
        // chown first in effect: its result is checked after the others ran on the same
        // entry, which is equivalent since a failed chown changed nothing.
        self.owner(chown).map_err(Step::Io)?;
        r.map_err(Step::Io)
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

enum MetaError {
    Read(io::Error),
    Bad(&'static str),
}

/// One member's failure.
enum Step {
    Refused(&'static str),
    Io(io::Error),
    Read(io::Error),
    Truncated,
    Limit(LimitError),
}

/// Format 1.0's map at the start of the data: a count, then offset and size per segment,
/// one decimal number per line, padded with NULs to a block. Returns the map and the bytes
/// it took (whole blocks).
fn read_data_map<R: Read>(entry: &mut R) -> Result<(Vec<(u64, u64)>, u64), Step> {
    let bad = || Step::Refused("invalid sparse map (refused)");
    let mut block = [0u8; 512];
    let mut used = 0u64;
    let mut pos = block.len();
    let mut next_number = |entry: &mut R| -> Result<u64, Step> {
        let mut v: u64 = 0;
        let mut digits = 0;
        loop {
            if pos == block.len() {
                entry.read_exact(&mut block).map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => Step::Truncated,
                    _ => Step::Read(e),
                })?;
                used += 512;
                pos = 0;
            }
            let b = block[pos];
            pos += 1;
            match b {
                b'0'..=b'9' if digits < 20 => {
                    v = v.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))).ok_or_else(bad)?;
                    digits += 1;
                }
                b'\n' if digits > 0 => return Ok(v),
                _ => return Err(bad()),
            }
        }
    };
    let count = next_number(entry)?;
    if count > MAX_SPARSE_SEGMENTS as u64 {
        return Err(bad());
    }
    let mut map = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let off = next_number(entry)?;
        let len = next_number(entry)?;
        map.push((off, len));
    }
    Ok((map, used))
}

fn parent_error(e: io::Error) -> Step {
    match e.raw_os_error() {
        Some(libc::ELOOP) => Step::Refused("a parent directory is a symlink (refused)"),
        Some(libc::ENOTDIR) => Step::Refused("a parent is not a directory (refused)"),
        Some(libc::EXDEV) => Step::Refused("escapes the volume (refused)"),
        _ => Step::Io(e),
    }
}

fn write_all_at(fd: BorrowedFd<'_>, mut data: &[u8], mut off: u64) -> io::Result<()> {
    while !data.is_empty() {
        match rustix::io::pwrite(fd, data, off) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                off += n as u64;
            }
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        let ok = |n: &[u8], want: &[&[u8]]| assert_eq!(components(n).unwrap(), want, "{n:?}");
        let bad = |n: &[u8]| assert!(components(n).is_err(), "{n:?}");
        ok(b"./a/b", &[b"a", b"b"]);
        ok(b"a//b/", &[b"a", b"b"]);
        ok(b"./", &[]);
        ok(b".", &[]);
        ok(b"a/./b\xff", &[b"a", b"b\xff"]);
        ok(b"..a/b..", &[b"..a", b"b.."]);
        bad(b"/etc/passwd");
        bad(b"../x");
        bad(b"a/../../x");
        bad(b"a/..");
        bad(b"a\0b");
    }

    /// Damaged archives (random bytes flipped, cut anywhere) never panic, and whatever they
    /// do stays inside the staging directory.
    #[test]
    fn mutated_archives_never_panic_or_escape() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        b.append_data(&mut h.clone(), "d/", &[][..]).unwrap();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(5);
        b.append_data(&mut h.clone(), "d/f", &b"hello"[..]).unwrap();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h.clone(), "d/l", "f").unwrap();
        h.set_entry_type(tar::EntryType::Link);
        b.append_link(&mut h.clone(), "d/h", "d/f").unwrap();
        b.append_pax_extensions([("path", &b"long/name"[..]), ("mtime", b"1.5")]).unwrap();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(3);
        b.append_data(&mut h, "short", &b"abc"[..]).unwrap();
        let good = b.into_inner().unwrap();
        let outer = tempfile::tempdir().unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..400 {
            let mut a = good.clone();
            for _ in 0..1 + rand() % 4 {
                let at = (rand() as usize) % a.len();
                a[at] = rand() as u8;
            }
            if i % 5 == 0 {
                a.truncate((rand() as usize) % a.len());
            }
            let stage = outer.path().join(format!("s{i}"));
            std::fs::create_dir(&stage).unwrap();
            let fd = rfs::open(&stage, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
            let _ = unpack(&a[..], fd.as_fd(), &super::super::Silent);
        }
        let mut top: Vec<_> = std::fs::read_dir(outer.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        top.sort();
        assert_eq!(top.len(), 400, "something was created beside the staging directories");
    }

    /// A test member: name, type, data, and pax records written before it.
    type TestMember<'a> = (&'a str, tar::EntryType, &'a [u8], &'a [(&'a str, &'a [u8])]);

    /// A layer tar of `members`.
    fn layer_tar(members: &[TestMember<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, pax) in members {
            if !pax.is_empty() {
                b.append_pax_extensions(pax.iter().copied()).unwrap();
            }
            let mut h = tar::Header::new_gnu();
            h.set_mode(if *kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            // Written raw: the builder refuses the hostile names these tests need.
            let raw = &mut h.as_old_mut().name;
            raw.fill(0);
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn unpack_layer(tar: &[u8]) -> (tempfile::TempDir, Result<ImportStats, ArchiveError>) {
        let t = tempfile::tempdir().unwrap();
        let fd = rfs::open(t.path(), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let opts = UnpackOptions { raw: true, layer: Some(OverlayXattrs::User), ..UnpackOptions::default() };
        let r = unpack_with(tar, fd.as_fd(), &super::super::Silent, opts);
        (t, r)
    }

    fn is_whiteout(p: &std::path::Path) -> bool {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == 0)
    }

    #[test]
    fn layer_mode_whiteouts_and_opaque_directories() {
        use tar::EntryType::{Directory as D, Regular as F};
        let tar = layer_tar(&[
            ("a/", D, b"", &[]),
            ("a/f", F, b"x", &[]),
            ("a/sub/", D, b"", &[]),
            ("a/sub/deep", F, b"y", &[]),
            // A whiteout of a directory this very layer has: what it has there goes.
            ("a/.wh.sub", F, b"", &[]),
            ("b", F, b"old", &[]),
            (".wh.gone", F, b"", &[]),
            ("c/.wh..wh..opq", F, b"", &[]),
            ("c/keep", F, b"k", &[]),
            (".wh..wh.plnk/123", F, b"aufs", &[]),
            (".wh..wh.aufs", F, b"", &[]),
        ]);
        let (t, r) = unpack_layer(&tar);
        let stats = r.unwrap();
        assert_eq!(stats.whiteouts, 3);
        let p = t.path();
        assert!(is_whiteout(&p.join("gone")));
        assert!(is_whiteout(&p.join("a/sub")));
        assert_eq!(std::fs::read(p.join("a/f")).unwrap(), b"x");
        assert_eq!(std::fs::read(p.join("c/keep")).unwrap(), b"k");
        let c = rfs::open(p.join("c"), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        assert_eq!(fsutil::get_xattr(c.as_fd(), "user.overlay.opaque").unwrap().as_deref(), Some(&b"y"[..]));
        let mut names: Vec<String> =
            std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["a", "b", "c", "gone"], "no .wh. name survives, AUFS metadata is skipped");
    }

    #[test]
    fn layer_mode_refuses_whiteouts_that_escape() {
        use tar::EntryType::Regular as F;
        for name in [".wh..", ".wh...", ".wh.", "a/.wh..", "d/.wh.x/y", "../.wh.x"] {
            let (t, r) = unpack_layer(&layer_tar(&[(name, F, b"", &[])]));
            assert!(matches!(r, Err(ArchiveError::Refused { .. })), "{name}: {r:?}");
            assert!(std::fs::read_dir(t.path()).unwrap().next().is_none() || name.starts_with("d/"), "{name}");
        }
        // Outside layer mode, a `.wh.` name is an ordinary file.
        let t = tempfile::tempdir().unwrap();
        let fd = rfs::open(t.path(), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        unpack(&layer_tar(&[(".wh.x", F, b"", &[])])[..], fd.as_fd(), &super::super::Silent).unwrap();
        assert!(t.path().join(".wh.x").is_file());
    }

    #[test]
    fn layer_mode_drops_overlay_xattrs_from_members() {
        use tar::EntryType::Directory as D;
        let pax: &[(&str, &[u8])] = &[
            ("SCHILY.xattr.user.overlay.redirect", b"/etc"),
            ("SCHILY.xattr.user.overlay.opaque", b"y"),
            ("SCHILY.xattr.user.keep", b"1"),
        ];
        let (t, r) = unpack_layer(&layer_tar(&[("d/", D, b"", pax)]));
        r.unwrap();
        let d = rfs::open(t.path().join("d"), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        assert_eq!(fsutil::get_xattr(d.as_fd(), "user.overlay.redirect").unwrap(), None);
        assert_eq!(fsutil::get_xattr(d.as_fd(), "user.overlay.opaque").unwrap(), None);
        assert_eq!(fsutil::get_xattr(d.as_fd(), "user.keep").unwrap().as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn pax_times() {
        let t = |s: &str| parse_pax_time(s.as_bytes()).map(|t| (t.tv_sec, t.tv_nsec));
        assert_eq!(t("1700000000.123456789"), Some((1700000000, 123456789)));
        assert_eq!(t("1700000000.5"), Some((1700000000, 500000000)));
        assert_eq!(t("12"), Some((12, 0)));
        assert_eq!(t("-1.25"), Some((-2, 750000000)));
        assert_eq!(t("1.1234567891"), Some((1, 123456789)));
        assert_eq!(t("x"), None);
        assert_eq!(t("1.x"), None);
    }
}
