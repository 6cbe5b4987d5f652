//! What an import may take from the disk. An archive is hostile input: a few hundred kilobytes
//! of zstd can stand for terabytes of zeros. While unpacking, the space and inodes written
//! are counted (what is written, not what is read: compressed or plain, sparse holes not
//! counted), and the import stops with an error
//! - before the content written exceeds `--max-size`, if given;
//! - before the free space of the filesystem the store is on would fall below the reserve
//!   (`--min-free`, by default 5% of the filesystem or 1 GiB, whichever is smaller), or its
//!   free inodes below 5% of its inodes (when it counts inodes, and the reserve is not 0).
//!
//! The filesystem is asked (`fstatvfs`) again whenever half of the headroom it reported last
//! time has been written, so the checks cost a system call per few megabytes at most, and
//! still see what other processes write meanwhile.

use std::os::fd::BorrowedFd;

use thiserror::Error;

use crate::units::bytes_size;

/// The default reserve: this share of the filesystem (percent)…
pub const DEFAULT_MIN_FREE_PERCENT: u8 = 5;
/// …but never more than this.
pub const DEFAULT_MIN_FREE_CAP: u64 = 1 << 30;
/// Each member counts this much towards the next look at the filesystem (its inode and
/// directory entry take space that the content count does not see).
const ENTRY_COST: u64 = 512;

/// How much free space an import leaves on the store's filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinFree {
    /// 5% of the filesystem or 1 GiB, whichever is smaller.
    Default,
    /// This many bytes.
    Bytes(u64),
    /// This share of the filesystem, in percent (0 to 100).
    Percent(u8),
}

impl MinFree {
    /// `SIZE` (binary units as Docker's sizes: `512m`, `2g`) or `PCT%` (`10%`).
    pub fn parse(s: &str) -> Result<MinFree, String> {
        if let Some(pct) = s.trim().strip_suffix('%') {
            return match pct.trim().parse::<u8>() {
                Ok(p) if p <= 100 => Ok(MinFree::Percent(p)),
                _ => Err(format!("invalid percentage: {s:?} (0% to 100%)")),
            };
        }
        crate::units::ram_in_bytes(s).map(MinFree::Bytes).map_err(|e| e.to_string())
    }

    /// The reserve in bytes, on a filesystem of `total` bytes.
    pub fn bytes(self, total: u64) -> u64 {
        let share = |p: u8| (u128::from(total) * u128::from(p) / 100) as u64;
        match self {
            MinFree::Default => share(DEFAULT_MIN_FREE_PERCENT).min(DEFAULT_MIN_FREE_CAP),
            MinFree::Bytes(n) => n,
            MinFree::Percent(p) => share(p),
        }
    }

    /// The inode reserve on a filesystem of `total` inodes.
    fn inodes(self, total: u64) -> u64 {
        match self {
            MinFree::Bytes(0) | MinFree::Percent(0) => 0,
            _ => (u128::from(total) * u128::from(DEFAULT_MIN_FREE_PERCENT) / 100) as u64,
        }
    }

    fn describe(self) -> String {
        match self {
            MinFree::Default => format!(
                "the default reserve: {DEFAULT_MIN_FREE_PERCENT}% of the filesystem or {}, whichever is smaller",
                bytes_size(DEFAULT_MIN_FREE_CAP)
            ),
            MinFree::Bytes(n) => format!("--min-free {}", bytes_size(n)),
            MinFree::Percent(p) => format!("--min-free {p}%"),
        }
    }
}

/// The limits of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of file content to write (`--max-size`).
    pub max_size: Option<u64>,
    /// The free space to leave (`--min-free`).
    pub min_free: MinFree,
    /// The volume's size limit (`-o size=…`): the most bytes of file content it can hold.
    pub volume_size: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_size: None, min_free: MinFree::Default, volume_size: None }
    }
}

/// An import that would have gone past its limits.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LimitError {
    #[error("the archive unpacks to more than {} (--max-size)", bytes_size(*max))]
    MaxSize { max: u64 },
    #[error("the archive unpacks to more than the volume's size limit of {}", bytes_size(*max))]
    VolumeSize { max: u64 },
    #[error(
        "stopped before the store's filesystem runs out of space: {} free, {} must stay free ({})",
        bytes_size(*free),
        bytes_size(*reserve),
        why
    )]
    Space { free: u64, reserve: u64, why: String },
    #[error("stopped before the store's filesystem runs out of inodes: {free} free, {reserve} must stay free ({why})")]
    Inodes { free: u64, reserve: u64, why: String },
}

/// The running count of one import against its [`Limits`].
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    written: u64,
    /// Bytes and inodes that may be used before the filesystem is asked again.
    space: u64,
    inodes: u64,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget { limits, written: 0, space: 0, inodes: 0 }
    }

    /// Account for `n` bytes of content about to be written on the filesystem of `fs`.
    pub fn content(&mut self, fs: BorrowedFd<'_>, n: u64) -> Result<(), LimitError> {
        if let Some(max) = self.limits.max_size
            && self.written.saturating_add(n) > max
        {
            return Err(LimitError::MaxSize { max });
        }
        if let Some(max) = self.limits.volume_size
            && self.written.saturating_add(n) > max
        {
            return Err(LimitError::VolumeSize { max });
        }
        if n > self.space {
            self.look(fs, n, 0)?;
        }
        self.space -= n;
        self.written += n;
        Ok(())
    }

    /// Account for one member about to be made (an inode, a directory entry).
    pub fn entry(&mut self, fs: BorrowedFd<'_>) -> Result<(), LimitError> {
        if ENTRY_COST > self.space || self.inodes == 0 {
            self.look(fs, ENTRY_COST, 1)?;
        }
        self.space -= ENTRY_COST;
        self.inodes -= 1;
        Ok(())
    }

    /// Ask the filesystem how much is free, and allow half of what may still be used.
    fn look(&mut self, fs: BorrowedFd<'_>, bytes: u64, inodes: u64) -> Result<(), LimitError> {
        let Ok(st) = rustix::fs::fstatvfs(fs) else {
            // A filesystem that cannot say: the limits it cannot check do not apply.
            self.space = u64::MAX;
            self.inodes = u64::MAX;
            return Ok(());
        };
        let unit = st.f_frsize.max(1);
        let (total, free) = (st.f_blocks.saturating_mul(unit), st.f_bavail.saturating_mul(unit));
        let reserve = self.limits.min_free.bytes(total);
        if free < reserve.saturating_add(bytes) {
            return Err(LimitError::Space { free, reserve, why: self.limits.min_free.describe() });
        }
        self.space = ((free - reserve) / 2).max(bytes);
        self.inodes = if st.f_files == 0 {
            u64::MAX // no inode count (btrfs): only space counts
        } else {
            let reserve = self.limits.min_free.inodes(st.f_files);
            if st.f_favail < reserve.saturating_add(inodes) {
                return Err(LimitError::Inodes { free: st.f_favail, reserve, why: self.limits.min_free.describe() });
            }
            ((st.f_favail - reserve) / 2).max(inodes)
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_free_parses_sizes_and_percentages() {
        assert_eq!(MinFree::parse("1g"), Ok(MinFree::Bytes(1 << 30)));
        assert_eq!(MinFree::parse("512MiB"), Ok(MinFree::Bytes(512 << 20)));
        assert_eq!(MinFree::parse("0"), Ok(MinFree::Bytes(0)));
        assert_eq!(MinFree::parse("10%"), Ok(MinFree::Percent(10)));
        assert_eq!(MinFree::parse("0%"), Ok(MinFree::Percent(0)));
        for bad in ["101%", "-1%", "x%", "lots", "-1g"] {
            assert!(MinFree::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_reserve_is_five_percent_capped_at_a_gibibyte() {
        assert_eq!(MinFree::Default.bytes(100 << 20), 5 << 20);
        assert_eq!(MinFree::Default.bytes(1 << 40), 1 << 30);
        assert_eq!(MinFree::Percent(50).bytes(1000), 500);
        assert_eq!(MinFree::Bytes(7).bytes(1000), 7);
        assert_eq!(MinFree::Percent(0).inodes(1000), 0);
        assert_eq!(MinFree::Default.inodes(1000), 50);
    }

    #[test]
    fn max_size_counts_content_written() {
        let dir = tempfile::tempdir().unwrap();
        let fd = std::fs::File::open(dir.path()).unwrap();
        use std::os::fd::AsFd;
        let mut b = Budget::new(Limits { max_size: Some(1000), min_free: MinFree::Bytes(0), volume_size: None });
        b.content(fd.as_fd(), 600).unwrap();
        b.entry(fd.as_fd()).unwrap();
        b.content(fd.as_fd(), 400).unwrap();
        assert_eq!(b.content(fd.as_fd(), 1), Err(LimitError::MaxSize { max: 1000 }));
        assert_eq!(
            LimitError::MaxSize { max: 1000 }.to_string(),
            "the archive unpacks to more than 1000B (--max-size)"
        );
    }

    #[test]
    fn a_reserve_larger_than_the_filesystem_stops_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fd = std::fs::File::open(dir.path()).unwrap();
        use std::os::fd::AsFd;
        let mut b = Budget::new(Limits { max_size: None, min_free: MinFree::Percent(100), volume_size: None });
        let e = b.content(fd.as_fd(), 1).unwrap_err();
        assert!(matches!(e, LimitError::Space { .. }), "{e}");
        assert!(e.to_string().ends_with("must stay free (--min-free 100%)"), "{e}");
    }
}
