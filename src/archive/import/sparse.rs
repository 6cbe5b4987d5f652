//! GNU pax sparse members (formats 0.1 and 1.0): their maps, read from the header or the data
//! and checked, and their data segments written at their offsets, the rest left a hole.

use std::io::{self, Read};
use std::os::fd::BorrowedFd;

use rustix::fs as rfs;

use super::entry::write_all_at;
use super::{Step, Unpacker};

/// The GNU sparse records of a pax header.
#[derive(Default)]
pub(super) struct PaxSparse {
    pub(super) name: Option<Vec<u8>>,
    pub(super) real_size: Option<u64>,
    pub(super) major: Option<u32>,
    pub(super) map: Option<Vec<(u64, u64)>>,
}

/// How a pax sparse member describes its data segments.
pub(super) enum SparseLayout {
    /// Format 0.1: `GNU.sparse.map` in the pax header; the real size.
    Map(Vec<(u64, u64)>, u64),
    /// Format 1.0: the map is at the start of the data, in decimal lines, padded to a block.
    MapInData(u64),
}

/// Sparse maps larger than this are refused (memory stays bounded).
pub(super) const MAX_SPARSE_SEGMENTS: usize = 1 << 18;

/// `offset,size,offset,size,…`
pub(super) fn parse_map(v: &[u8]) -> Option<Vec<(u64, u64)>> {
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
pub(super) fn valid_map(map: &[(u64, u64)], real_size: u64) -> bool {
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

impl Unpacker<'_> {
    /// The data of a GNU pax sparse member (formats 0.1 and 1.0): each segment is written at
    /// its offset, the rest stays a hole.
    pub(super) fn pax_sparse_data<R: Read>(
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
}
/// Format 1.0's map at the start of the data: a count, then offset and size per segment,
/// one decimal number per line, padded with NULs to a block. Returns the map and the bytes
/// it took (whole blocks).
pub(super) fn read_data_map<R: Read>(entry: &mut R) -> Result<(Vec<(u64, u64)>, u64), Step> {
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
