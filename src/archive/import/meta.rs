//! What a member says about itself besides its content: mode, owner, times (PAX times
//! included), xattrs (overlayfs's own dropped in layer mode) and GNU sparse records.

use std::io::{self, Read};

use rustix::fs::{Timespec, Timestamps};

use super::Unpacker;
use super::sparse::{PaxSparse, SparseLayout, parse_map};

/// A PAX time: `SECONDS[.FRACTION]`, possibly negative.
pub(super) fn parse_pax_time(v: &[u8]) -> Option<Timespec> {
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
pub(super) struct Meta {
    pub(super) mode: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) times: Timestamps,
    pub(super) xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// A GNU pax sparse member: where its map is.
    pub(super) sparse: Option<SparseLayout>,
    /// `GNU.sparse.name`: the real name of a pax sparse member.
    pub(super) real_name: Option<Vec<u8>>,
}

impl Unpacker<'_> {
    pub(super) fn meta<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<Meta, MetaError> {
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
}
pub(super) enum MetaError {
    Read(io::Error),
    Bad(&'static str),
}
