//! Copy-up: populate an empty volume with what the image has at the mount target (Docker's
//! `copyExistingContents`), with the same fd-based, link-preserving tree copy as
//! `volume clone` ([`crate::copy`]): entries opened relative to their parent with
//! `O_NOFOLLOW`, symlinks copied as links, owners, modes, times and xattrs kept, hard links
//! kept, no mount point crossed. In a user namespace, owners that are not mapped there are
//! left to the run's root, as moby does.

use std::io;
use std::os::fd::BorrowedFd;

use crate::fsutil;

/// Whether a directory has no entry at all (a single hidden file counts, as in Docker).
pub fn is_empty_dir(dir: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(fsutil::list_dir(dir)?.is_empty())
}

/// Copy the content of `src` into `dst` (both directories opened for reading); `dst` takes the
/// owner, mode and times of `src`, as Docker's volume root takes the image directory's.
pub fn copy_up(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<()> {
    crate::copy::copy_tree(src, dst).map(|_| ()).map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{self as rfs, Mode, OFlags};
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    fn open(p: &std::path::Path) -> OwnedFd {
        rfs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn copies_tree_links_and_modes_without_following() {
        let t = tempfile::tempdir().unwrap();
        let (src, dst, outside) = (t.path().join("src"), t.path().join("dst"), t.path().join("outside"));
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "host").unwrap();
        std::fs::write(src.join("sub/f"), "data").unwrap();
        std::fs::hard_link(src.join("sub/f"), src.join("hard")).unwrap();
        symlink(&outside, src.join("escape")).unwrap();
        std::fs::set_permissions(src.join("sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let (s, d) = (open(&src), open(&dst));
        assert!(is_empty_dir(d.as_fd()).unwrap());
        copy_up(s.as_fd(), d.as_fd()).unwrap();
        assert_eq!(std::fs::read_to_string(dst.join("sub/f")).unwrap(), "data");
        assert_eq!(std::fs::read_link(dst.join("escape")).unwrap(), outside);
        assert_eq!(dst.join("sub").metadata().unwrap().mode() & 0o7777, 0o750);
        assert_eq!(dst.metadata().unwrap().mode() & 0o7777, 0o1777);
        assert_eq!(dst.join("hard").metadata().unwrap().ino(), dst.join("sub/f").metadata().unwrap().ino());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    }
}
