//! Layer mode: what a member's name means for overlayfs (whiteouts, opaque directories, AUFS
//! bookkeeping), and the whiteouts and opaque marks written for them.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::path::{join, open_in, parent_error};
use super::{OverlayXattrs, Step, Unpacker};
use crate::fsutil;

/// The prefix of a whiteout member's last component.
pub const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// AUFS metadata names (and the opaque marker among them).
pub const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
/// A directory's opaque marker.
pub const WHITEOUT_OPAQUE: &[u8] = b".wh..wh..opq";

/// What a layer member's name means for overlayfs.
pub(super) enum Whiteout<'n> {
    None,
    /// AUFS bookkeeping (`.wh..wh.plnk`, …): skipped.
    Meta,
    /// `DIR/.wh..wh..opq`: DIR is opaque.
    Opaque,
    /// `DIR/.wh.NAME`: NAME is deleted.
    Entry(&'n [u8]),
    Refused(&'static str),
}

pub(super) fn whiteout_kind<'n>(comps: &[&'n [u8]]) -> Whiteout<'n> {
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

impl Unpacker<'_> {
    /// Layer mode: mark directory `dir` (made if missing) opaque.
    pub(super) fn opaque(&mut self, dir: &[&[u8]], x: OverlayXattrs) -> Result<(), Step> {
        self.open_or_make(dir)?;
        let fd = open_in(self.staging, &join(dir), OFlags::RDONLY | OFlags::DIRECTORY).map_err(parent_error)?;
        rfs::fsetxattr(&fd, x.opaque(), b"y", rfs::XattrFlags::empty()).map_err(|e| Step::Io(e.into()))?;
        self.stats.whiteouts += 1;
        Ok(())
    }

    /// Layer mode: delete what this layer has at `comps` and leave overlayfs's whiteout, a
    /// 0/0 character device (which needs no privilege since Linux 5.8).
    pub(super) fn whiteout(&mut self, comps: &[&[u8]]) -> Result<(), Step> {
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
}
