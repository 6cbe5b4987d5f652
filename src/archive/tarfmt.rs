//! Writing tar headers: POSIX ustar with pax extended headers (`x`) for what ustar cannot
//! hold (long or non-ASCII-safe names, nanosecond times, large ids and sizes, xattrs as
//! `SCHILY.xattr.*`), and GNU old-style sparse members (`S`) for files with holes, which GNU
//! tar, Go's archive/tar and the `tar` crate all read.

use std::io::{self, Write};

pub const BLOCK: usize = 512;

/// Member types written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    HardLink,
    Symlink,
    Char,
    Block,
    Dir,
    Fifo,
    Sparse,
}

impl Kind {
    fn flag(self) -> u8 {
        match self {
            Kind::File => b'0',
            Kind::HardLink => b'1',
            Kind::Symlink => b'2',
            Kind::Char => b'3',
            Kind::Block => b'4',
            Kind::Dir => b'5',
            Kind::Fifo => b'6',
            Kind::Sparse => b'S',
        }
    }
}

/// One member's header fields.
pub struct Member<'a> {
    pub name: &'a [u8],
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of data that follow the header (for sparse members: the data segments only).
    pub size: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: u32,
    pub link: &'a [u8],
    pub dev_major: u32,
    pub dev_minor: u32,
    pub xattrs: &'a [(Vec<u8>, Vec<u8>)],
    /// Sparse members: the data segments `(offset, length)` and the real size.
    pub sparse: Option<(&'a [(u64, u64)], u64)>,
}

/// Write `v` into `dst` as NUL-terminated octal, or as GNU base-256 when it does not fit.
/// (No `format!`: this runs several times per member.)
fn num(dst: &mut [u8], v: u64) {
    let digits = dst.len() - 1;
    if fits_octal(v, dst.len()) {
        let mut x = v;
        for d in dst[..digits].iter_mut().rev() {
            *d = b'0' + (x & 7) as u8;
            x >>= 3;
        }
        dst[digits] = 0;
    } else {
        dst.fill(0);
        let n = dst.len();
        for (i, b) in v.to_be_bytes().iter().rev().enumerate() {
            if i < n {
                dst[n - 1 - i] = *b;
            }
        }
        dst[0] |= 0x80;
    }
}

/// Append `v` in decimal.
fn push_decimal(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut x = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn decimal_len(v: usize) -> usize {
    let mut n = 1;
    let mut x = v / 10;
    while x > 0 {
        n += 1;
        x /= 10;
    }
    n
}

fn fits_octal(v: u64, len: usize) -> bool {
    v < 1u64 << (3 * (len - 1))
}

/// `LEN key=value\n`, LEN counting itself.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while decimal_len(len) + body != len {
        len = decimal_len(len) + body;
    }
    push_decimal(out, len as u64);
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn checksum(h: &mut [u8; BLOCK]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    // Six octal digits, NUL, space (as GNU tar).
    num(&mut h[148..155], u64::from(sum));
    h[155] = b' ';
}

#[allow(clippy::too_many_arguments)]
fn base_header(name: &[u8], flag: u8, mode: u32, uid: u64, gid: u64, size: u64, mtime: i64, gnu: bool) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    num(&mut h[100..108], u64::from(mode & 0o7777));
    num(&mut h[108..116], uid);
    num(&mut h[116..124], gid);
    num(&mut h[124..136], size);
    num(&mut h[136..148], mtime.max(0) as u64);
    h[156] = flag;
    if gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    h
}

fn pad(w: &mut impl Write, len: u64) -> io::Result<()> {
    let rem = (len % BLOCK as u64) as usize;
    if rem != 0 {
        w.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
    }
    Ok(())
}

/// Write the headers of one member (pax header first when needed). The caller then writes
/// exactly `m.size` bytes of data and calls [`finish_data`].
pub fn write_header(w: &mut impl Write, m: &Member<'_>) -> io::Result<()> {
    let mut pax = Vec::new();
    let short_name = m.name.len() <= 100;
    if !short_name {
        pax_record(&mut pax, b"path", m.name);
    }
    if m.link.len() > 100 {
        pax_record(&mut pax, b"linkpath", m.link);
    }
    if m.mtime_nsec != 0 || m.mtime_sec < 0 || !fits_octal(m.mtime_sec as u64, 12) {
        // -1.25 s is sec -2, nsec 750000000.
        let (neg, sec, nsec) = if m.mtime_sec < 0 && m.mtime_nsec != 0 {
            (true, (-(m.mtime_sec + 1)) as u64, 1_000_000_000 - m.mtime_nsec)
        } else if m.mtime_sec < 0 {
            (true, m.mtime_sec.unsigned_abs(), 0)
        } else {
            (false, m.mtime_sec as u64, m.mtime_nsec)
        };
        let mut v = Vec::with_capacity(32);
        if neg {
            v.push(b'-');
        }
        push_decimal(&mut v, sec);
        if nsec != 0 {
            v.push(b'.');
            let mut frac = [b'0'; 9];
            let mut x = nsec;
            for d in frac.iter_mut().rev() {
                *d = b'0' + (x % 10) as u8;
                x /= 10;
            }
            let keep = frac.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
            v.extend_from_slice(&frac[..keep]);
        }
        pax_record(&mut pax, b"mtime", &v);
    }
    if !fits_octal(m.uid, 8) {
        pax_record(&mut pax, b"uid", m.uid.to_string().as_bytes());
    }
    if !fits_octal(m.gid, 8) {
        pax_record(&mut pax, b"gid", m.gid.to_string().as_bytes());
    }
    if m.sparse.is_none() && !fits_octal(m.size, 12) {
        pax_record(&mut pax, b"size", m.size.to_string().as_bytes());
    }
    for (k, v) in m.xattrs {
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(k);
        pax_record(&mut pax, &key, v);
    }
    if !pax.is_empty() {
        let mut pname = b"./PaxHeaders/".to_vec();
        let base = m.name.rsplit(|&b| b == b'/').find(|c| !c.is_empty()).unwrap_or(b".");
        pname.extend_from_slice(&base[..base.len().min(80)]);
        let mut h = base_header(&pname, b'x', 0o644, 0, 0, pax.len() as u64, m.mtime_sec, false);
        checksum(&mut h);
        w.write_all(&h)?;
        w.write_all(&pax)?;
        pad(w, pax.len() as u64)?;
    }
    let gnu = m.sparse.is_some();
    let mut h = base_header(m.name, m.kind.flag(), m.mode, m.uid, m.gid, m.size, m.mtime_sec, gnu);
    let l = m.link.len().min(100);
    h[157..157 + l].copy_from_slice(&m.link[..l]);
    if matches!(m.kind, Kind::Char | Kind::Block) {
        num(&mut h[329..337], u64::from(m.dev_major));
        num(&mut h[337..345], u64::from(m.dev_minor));
    }
    let mut ext_blocks: Vec<[u8; BLOCK]> = Vec::new();
    if let Some((segments, real)) = m.sparse {
        num(&mut h[483..495], real);
        let mut segs: Vec<(u64, u64)> = segments.to_vec();
        // A file that ends in a hole ends with an empty segment at its size (as GNU tar).
        if segs.last().is_none_or(|&(o, l)| o + l < real) {
            segs.push((real, 0));
        }
        let (first, rest) = segs.split_at(segs.len().min(4));
        for (i, &(o, l)) in first.iter().enumerate() {
            num(&mut h[386 + i * 24..398 + i * 24], o);
            num(&mut h[398 + i * 24..410 + i * 24], l);
        }
        if !rest.is_empty() {
            h[482] = 1;
        }
        let chunks: Vec<&[(u64, u64)]> = rest.chunks(21).collect();
        for (ci, chunk) in chunks.iter().enumerate() {
            let mut e = [0u8; BLOCK];
            for (i, &(o, l)) in chunk.iter().enumerate() {
                num(&mut e[i * 24..i * 24 + 12], o);
                num(&mut e[i * 24 + 12..i * 24 + 24], l);
            }
            if ci + 1 < chunks.len() {
                e[504] = 1;
            }
            ext_blocks.push(e);
        }
    }
    checksum(&mut h);
    w.write_all(&h)?;
    for e in &ext_blocks {
        w.write_all(e)?;
    }
    Ok(())
}

/// Pad a member's data of `size` bytes to the block size.
pub fn finish_data(w: &mut impl Write, size: u64) -> io::Result<()> {
    pad(w, size)
}

/// The end-of-archive marker: two zero blocks.
pub fn write_end(w: &mut impl Write) -> io::Result<()> {
    w.write_all(&[0u8; 2 * BLOCK])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        let mut v = Vec::new();
        pax_record(&mut v, b"path", b"abc");
        assert_eq!(v, b"12 path=abc\n");
        let mut v = Vec::new();
        pax_record(&mut v, b"k", &[b'x'; 93]);
        assert_eq!(v.len(), 99);
        assert!(v.starts_with(b"99 k="));
        // The boundary where the length gains a digit by counting itself.
        let mut v = Vec::new();
        pax_record(&mut v, b"k", &[b'x'; 94]);
        assert_eq!(v.len(), 101);
        assert!(v.starts_with(b"101 k="));
    }

    #[test]
    fn numbers_fall_back_to_base_256() {
        let mut f = [0u8; 8];
        num(&mut f, 0o755);
        assert_eq!(&f, b"0000755\0");
        num(&mut f, 1 << 40);
        assert_eq!(f[0], 0x80);
        assert_eq!(&f[1..], &(1u64 << 40).to_be_bytes()[1..]);
        let mut v = Vec::new();
        push_decimal(&mut v, 0);
        push_decimal(&mut v, 1234567890);
        assert_eq!(v, b"01234567890");
    }

    #[test]
    fn mtimes_go_to_pax_with_their_nanoseconds() {
        let mut out = Vec::new();
        let m = |sec, nsec| Member {
            name: b"./f",
            kind: Kind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime_sec: sec,
            mtime_nsec: nsec,
            link: b"",
            dev_major: 0,
            dev_minor: 0,
            xattrs: &[],
            sparse: None,
        };
        for (sec, nsec, want) in [
            (1_700_000_000, 120_000_000, &b"23 mtime=1700000000.12\n"[..]),
            (-2, 750_000_000, &b"15 mtime=-1.25\n"[..]),
            (-5, 0, &b"12 mtime=-5\n"[..]),
        ] {
            out.clear();
            write_header(&mut out, &m(sec, nsec)).unwrap();
            assert_eq!(&out[512..512 + want.len()], want, "{sec}.{nsec}");
        }
        out.clear();
        write_header(&mut out, &m(1_700_000_000, 0)).unwrap();
        assert_eq!(out.len(), 512, "whole seconds need no pax header");
        assert_eq!(&out[136..148], b"14524770400\0");
    }
}
