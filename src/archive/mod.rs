//! Volume archives: [`export`] writes a volume's content as a tar stream, [`import`] reads a
//! tar stream (plain, gzip or zstd) into a staging directory that the store then swaps in.
//!
//! The `tar` crate is used only as a parser on the import side (never `unpack`/`unpack_in`,
//! see docs/security.md); the export side writes its own headers (POSIX pax over ustar, GNU
//! old-style sparse members for files with holes), which GNU tar, Go's archive/tar (podman)
//! and the `tar` crate all read.

pub mod export;
pub mod import;
pub mod limits;
mod tarfmt;

use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;

use thiserror::Error;

use crate::text::escape_bytes;

/// What went wrong while writing or reading an archive. Member names are escaped (control
/// and bidi characters, invalid UTF-8) before they reach a message.
#[derive(Debug, Error)]
pub enum ArchiveError {
    /// A member that would land outside the volume, or that the extractor refuses.
    #[error("archive member {}: {reason}", escape_bytes(member))]
    Refused { member: Vec<u8>, reason: &'static str },
    /// A member whose creation failed.
    #[error("archive member {}: {}", escape_bytes(member), crate::text::errno_text(source))]
    Member {
        member: Vec<u8>,
        #[source]
        source: io::Error,
    },
    /// The stream itself: truncated, corrupt headers, a bad gzip or zstd frame. The parser's
    /// message may quote header bytes from the archive: they are escaped.
    #[error("reading the archive: {}", crate::text::escape_control(&crate::text::errno_text(source)))]
    Read {
        #[source]
        source: io::Error,
    },
    /// The stream is not a tar archive at all (its first header does not read as one).
    #[error("reading the archive: not a tar archive ({})", crate::text::escape_control(&crate::text::errno_text(source)))]
    NotTar {
        #[source]
        source: io::Error,
    },
    /// Unpacking further would go past `--max-size` or eat into the disk's reserve.
    #[error("{0}")]
    Limit(#[from] limits::LimitError),
    /// The stream ended without the end-of-archive marker.
    #[error("reading the archive: unexpected end of the stream (truncated archive?)")]
    Truncated,
    /// An entry of the volume that could not be read for export.
    #[error("reading {}: {}", path.display(), crate::text::errno_text(source))]
    Source {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing the archive failed (a closed pipe included).
    #[error("writing the archive: {}", crate::text::errno_text(source))]
    Write {
        #[source]
        source: io::Error,
    },
}

impl ArchiveError {
    /// The failure is a closed output pipe (`myvol volume export v | head -c1`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ArchiveError::Write { source } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Compression of an archive stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// From a file name: `.gz`/`.tgz` is gzip, `.zst`/`.tzst` is zstd, anything else none.
    pub fn from_file_name(name: &std::ffi::OsStr) -> Compression {
        let n = name.as_encoded_bytes();
        if n.ends_with(b".gz") || n.ends_with(b".tgz") {
            Compression::Gzip
        } else if n.ends_with(b".zst") || n.ends_with(b".tzst") || n.ends_with(b".zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// From the first bytes of a stream (magic numbers).
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Told about progress as the archive moves; implementations must be cheap (called per
/// chunk and per entry). The library never draws anything itself.
pub trait Progress {
    /// `n` more bytes of content went through.
    fn bytes(&self, _n: u64) {}
    /// One more entry was written or unpacked.
    fn entry(&self) {}
}

/// No progress reporting.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}

/// A writer that compresses with `compression`. [`Encoder::finish`] must be called to write
/// the trailer (gzip CRC, the last zstd frame).
pub enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// zstd at level 3 (the `zstd` tool's default) on every core; gzip at level 6.
    pub fn new(w: W, compression: Compression) -> io::Result<Encoder<W>> {
        Ok(match compression {
            Compression::None => Encoder::Plain(w),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(w, flate2::Compression::default())),
            Compression::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(w, 3)?;
                // As the zstd tool does: corruption is detected on import.
                z.include_checksum(true)?;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
                if cores > 1 {
                    // Only fails when libzstd lacks threads: then one thread it is.
                    if z.multithread(cores).is_ok() {
                        // Small jobs (512 KiB) and a 512 KiB window keep the buffers of the workers in
                        // flight to a few MiB (the defaults reach 100 MiB at level 3).
                        z.set_parameter(zstd::zstd_safe::CParameter::JobSize(512 << 10))?;
                        z.window_log(19)?;
                    }
                }
                Encoder::Zstd(z)
            }
        })
    }

    /// Write the compression trailer and return the inner writer, flushed.
    pub fn finish(self) -> io::Result<W> {
        let mut w = match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(g) => g.finish()?,
            Encoder::Zstd(z) => z.finish()?,
        };
        w.flush()?;
        Ok(w)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

/// A reader that undoes the compression sniffed from the first bytes of `r`.
pub fn decoder<'a, R: BufRead + 'a>(mut r: R) -> io::Result<Box<dyn Read + 'a>> {
    let head = r.fill_buf()?;
    Ok(match Compression::sniff(head) {
        Compression::None => Box::new(r),
        // Concatenated gzip members (pigz, `cat a.gz b.gz`) are one stream.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_from_names_and_magic() {
        use std::ffi::OsStr;
        assert_eq!(Compression::from_file_name(OsStr::new("b.tar.zst")), Compression::Zstd);
        assert_eq!(Compression::from_file_name(OsStr::new("b.tar.gz")), Compression::Gzip);
        assert_eq!(Compression::from_file_name(OsStr::new("b.tgz")), Compression::Gzip);
        assert_eq!(Compression::from_file_name(OsStr::new("b.tar")), Compression::None);
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
        assert_eq!(Compression::sniff(b"./\0\0"), Compression::None);
        assert_eq!(Compression::sniff(b""), Compression::None);
    }

    #[test]
    fn refused_members_are_escaped() {
        let e = ArchiveError::Refused { member: b"a\x1b[2J\xff".to_vec(), reason: "x" };
        assert_eq!(e.to_string(), "archive member a\\x1b[2J\\xff: x");
    }
}
