//! What volumes take: sizes and in-use counts (`volume ls --size`, `system df`), read without
//! the store lock.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;

use super::layout::*;
use super::lease;
use super::{Result, Store, StoreError};
use crate::fsutil;
use crate::name::VolumeName;
use crate::par::par_map;

/// What `volume ls --size` and `system df` show for one volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Apparent size of the content: non-directories, hard links once, this mount only.
    pub size: u64,
    /// Live in-use leases.
    pub links: u64,
}

impl Store {
    /// Size and in-use count of each named volume, walked in parallel; `NotFound` for one
    /// that does not exist (or vanished).
    pub fn usage(&self, names: &[VolumeName]) -> Vec<Result<Usage>> {
        let h = match self.open_read() {
            Ok(Some(h)) => h,
            Ok(None) => return names.iter().map(|n| Err(StoreError::NotFound(n.to_string()))).collect(),
            Err(e) => {
                let msg = e.to_string();
                return names.iter().map(|_| Err(self.io("open", "", io::Error::other(msg.clone())))).collect();
            }
        };
        par_map(names, |name| {
            let gone = |e: io::Error| {
                if e.raw_os_error() == Some(libc::ENOENT) {
                    StoreError::NotFound(name.to_string())
                } else {
                    self.io("read", &root_rel(name, DATA_DIR), e)
                }
            };
            let vdir = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)).map_err(gone)?;
            let size = content_size(vdir.as_fd()).map_err(gone)?;
            let links = lease::live(vdir.as_fd()).map_err(gone)?.len() as u64;
            Ok(Usage { size, links })
        })
    }

    /// [`content_size`] of volume `name` (0 if it cannot be read).
    pub(super) fn content_size(&self, volumes: BorrowedFd<'_>, name: &VolumeName) -> u64 {
        fsutil::open_dir(volumes, OsStr::new(name)).and_then(|vdir| content_size(vdir.as_fd())).unwrap_or(0)
    }

    /// The apparent size of a volume's content (non-directories, hard links once).
    pub fn size(&self, name: &VolumeName) -> Result<u64> {
        let Some(h) = self.open_read()? else {
            return Err(StoreError::NotFound(name.to_string()));
        };
        let fd = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, DATA_DIR))).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOENT) {
                StoreError::NotFound(name.to_string())
            } else {
                self.io("open", VOLUMES_DIR, e)
            }
        })?;
        fsutil::apparent_size(fd.as_fd()).map_err(|e| self.io("read", VOLUMES_DIR, e))
    }
}

/// The space the content of the volume whose directory is `vdir` takes. For a disk image, the
/// blocks its filesystem uses for files and directories (what `df` shows as used): from
/// statfs(2) of its mount while it is mounted, else from its superblock. Otherwise the
/// apparent size of `_data` (non-directories, hard links once, this mount only), as Docker's.
pub fn content_size(vdir: BorrowedFd<'_>) -> io::Result<u64> {
    let image = match rfs::openat(vdir, DISK_IMAGE, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
    {
        Ok(fd) => fd,
        Err(Errno::NOENT) => {
            let data = fsutil::open_dir(vdir, OsStr::new(DATA_DIR))?;
            return fsutil::apparent_size(data.as_fd());
        }
        Err(e) => return Err(e.into()),
    };
    if fsutil::is_mount_root(vdir, OsStr::new(DATA_DIR))? {
        let data = fsutil::open_dir(vdir, OsStr::new(DATA_DIR))?;
        let st = rfs::fstatfs(&data)?;
        return Ok((st.f_blocks.saturating_sub(st.f_bfree)).saturating_mul(st.f_frsize as u64));
    }
    let mut sb = [0u8; 1024];
    let n = rustix::io::pread(&image, &mut sb, 1024)?;
    ext4_used(&sb[..n]).ok_or_else(|| io::Error::other("not an ext4 image"))
}

/// What an ext4 superblock (the 1024 bytes at offset 1024) says the filesystem uses for files
/// and directories: blocks, minus the free ones and the filesystem's own overhead (recorded
/// by mke2fs ≥ 1.46), in bytes. Accurate once the filesystem is unmounted.
pub fn ext4_used(sb: &[u8]) -> Option<u64> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(sb.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u64::from(u32::from_le_bytes(sb.get(o..o + 4)?.try_into().ok()?)));
    if u16_at(0x38)? != 0xEF53 {
        return None;
    }
    let wide = u32_at(0x60)? & 0x80 != 0;
    let hi = |o: usize| if wide { u32_at(o).map(|h| h << 32) } else { Some(0) };
    let blocks = u32_at(0x04)? | hi(0x150)?;
    let free = u32_at(0x0C)? | hi(0x158)?;
    let overhead = u32_at(0x248)?;
    let block_size = 1024u64.checked_shl(u32::try_from(u32_at(0x18)?).ok()?)?;
    Some(blocks.saturating_sub(free).saturating_sub(overhead).saturating_mul(block_size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::*;

    #[test]
    fn sizes_and_users_in_the_order_asked() {
        let t = TempStore::new();
        let mut names = Vec::new();
        for i in 0..20 {
            let n = format!("v{i}");
            t.create(&n);
            std::fs::write(t.data(&n).join("f"), vec![0u8; i * 100]).unwrap();
            std::fs::hard_link(t.data(&n).join("f"), t.data(&n).join("again")).unwrap();
            names.push(name(&n));
        }
        names.push(name("missing"));
        let _lease = t.store.lease(&name("v3"), "run").unwrap();
        let usage = t.store.usage(&names);
        for (i, u) in usage[..20].iter().enumerate() {
            let u = u.as_ref().unwrap();
            assert_eq!(u.size, i as u64 * 100, "hard links counted once");
            assert_eq!(u.links, u64::from(i == 3));
            assert_eq!(t.store.size(&names[i]).unwrap(), u.size);
        }
        assert!(matches!(&usage[20], Err(StoreError::NotFound(n)) if n == "missing"));
        assert!(matches!(t.store.size(&name("missing")), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn no_store_means_no_volumes() {
        let t = TempStore::new();
        let usage = t.store.usage(&[name("v1")]);
        assert!(matches!(&usage[0], Err(StoreError::NotFound(n)) if n == "v1"));
        assert!(!t.root().exists());
    }
}
