//! Jobs: a pull or a load in progress, in a private flock-ed directory of `tmp/`, staging
//! layers and blobs and publishing each with one rename.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::records::{LayerMeta, Needs};
use super::{
    BLOBS_DIR, DIR_MODE, FILE_MODE, ImageStore, LAYER_DIFF, LAYER_META, LAYERS_DIR, NEEDS_FILE, TMP_DIR, blob_rel,
};
use crate::fsutil;
use crate::image::ImageError;
use crate::image::digest::{Algorithm, Digest};

impl ImageStore {
    /// Start a job (a pull or a load): a private directory in `tmp/`, flock-ed while the
    /// returned [`Job`] lives, recording what the job will reference so that garbage
    /// collection keeps it.
    pub fn begin_job(&self, needs: &Needs) -> Result<Job, ImageError> {
        let l = self.lock()?;
        let tmp = fsutil::open_dir(l.dir.as_fd(), OsStr::new(TMP_DIR)).map_err(|e| self.io("open", TMP_DIR, e))?;
        let name = fsutil::random_suffix();
        rfs::mkdirat(&tmp, name.as_str(), Mode::from_raw_mode(DIR_MODE))
            .map_err(|e| self.io("mkdir", &format!("{TMP_DIR}/{name}"), e))?;
        let made = (|| -> io::Result<OwnedFd> {
            let dir = fsutil::open_dir(tmp.as_fd(), OsStr::new(&name))?;
            fsutil::try_lock_exclusive(dir.as_fd())?;
            let data = serde_json::to_vec(needs).map_err(io::Error::other)?;
            fsutil::write_new(dir.as_fd(), OsStr::new(NEEDS_FILE), &data, FILE_MODE)?;
            Ok(dir)
        })();
        match made {
            Ok(dir) => {
                let images =
                    rfs::openat(&l.dir, c".", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                        .map_err(|e| self.io("open", "", e))?;
                Ok(Job { store: self.clone(), images, tmp, name, dir, needs: std::sync::Mutex::new(needs.clone()) })
            }
            Err(e) => {
                let _ = fsutil::remove_tree(tmp.as_fd(), OsStr::new(&name));
                Err(self.io("mkdir", &format!("{TMP_DIR}/{name}"), e))
            }
        }
    }
}

/// A pull or load in progress (see [`ImageStore::begin_job`]). Dropping it removes its
/// private directory; what it published stays.
#[derive(Debug)]
pub struct Job {
    store: ImageStore,
    images: OwnedFd,
    tmp: OwnedFd,
    pub(super) name: String,
    dir: OwnedFd,
    needs: std::sync::Mutex<Needs>,
}

/// A layer being unpacked by a job: `tmp/<job>/<hex>/diff`.
#[derive(Debug)]
pub struct StagedLayer {
    name: String,
    dir: OwnedFd,
    diff: OwnedFd,
}

impl StagedLayer {
    /// The empty directory to unpack into.
    pub fn diff(&self) -> BorrowedFd<'_> {
        self.diff.as_fd()
    }
}

/// A blob being written by a job: `tmp/<job>/<hex>`.
#[derive(Debug)]
pub struct StagedBlob {
    name: String,
    pub file: std::fs::File,
}

impl Job {
    /// Add to what this job will reference (before publishing it), under the store lock so
    /// that a garbage collection sees either the old list or the new one.
    pub fn need(&self, layers: &[Digest], blobs: &[Digest]) -> Result<(), ImageError> {
        let mut needs = self.needs.lock().unwrap_or_else(|e| e.into_inner());
        let before = (needs.layers.len(), needs.blobs.len());
        for l in layers {
            if !needs.layers.contains(l) {
                needs.layers.push(l.clone());
            }
        }
        for b in blobs {
            if !needs.blobs.contains(b) {
                needs.blobs.push(b.clone());
            }
        }
        if (needs.layers.len(), needs.blobs.len()) == before {
            return Ok(());
        }
        let data = serde_json::to_vec(&*needs)
            .map_err(|e| self.store.io("write", &self.rel(NEEDS_FILE), io::Error::other(e)))?;
        let l = self.store.lock()?;
        fsutil::write_atomic(l.tmp.as_fd(), self.dir.as_fd(), OsStr::new(NEEDS_FILE), &data, FILE_MODE)
            .map_err(|e| self.store.io("write", &self.rel(NEEDS_FILE), e))
    }

    pub fn store(&self) -> &ImageStore {
        &self.store
    }

    fn rel(&self, name: &str) -> String {
        format!("{TMP_DIR}/{}/{name}", self.name)
    }

    /// A new empty layer directory.
    pub fn stage_layer(&self) -> Result<StagedLayer, ImageError> {
        let name = format!("l-{}", fsutil::random_suffix());
        let made = (|| -> io::Result<(OwnedFd, OwnedFd)> {
            rfs::mkdirat(&self.dir, name.as_str(), Mode::from_raw_mode(DIR_MODE))?;
            let dir = fsutil::open_dir(self.dir.as_fd(), OsStr::new(&name))?;
            rfs::mkdirat(&dir, LAYER_DIFF, Mode::from_raw_mode(0o755))?;
            let diff = fsutil::open_dir(dir.as_fd(), OsStr::new(LAYER_DIFF))?;
            Ok((dir, diff))
        })();
        let (dir, diff) = made.map_err(|e| self.store.io("mkdir", &self.rel(&name), e))?;
        Ok(StagedLayer { name, dir, diff })
    }

    /// Throw a staged layer away.
    pub fn discard_layer(&self, l: StagedLayer) {
        drop(l.diff);
        drop(l.dir);
        let _ = fsutil::remove_tree(self.dir.as_fd(), OsStr::new(&l.name));
    }

    /// Publish a staged, verified layer as `layers/<hex of diff_id>` (one rename). When the
    /// store has it already (another pull was faster), ours is discarded.
    pub fn publish_layer(&self, l: StagedLayer, diff_id: &Digest) -> Result<(), ImageError> {
        let size = fsutil::apparent_size(l.diff.as_fd()).map_err(|e| self.store.io("read", &self.rel(&l.name), e))?;
        let meta = serde_json::to_vec(&LayerMeta { diff_id: diff_id.clone(), size }).unwrap_or_default();
        fsutil::write_new(l.dir.as_fd(), OsStr::new(LAYER_META), &meta, FILE_MODE)
            .map_err(|e| self.store.io("write", &self.rel(&l.name), e))?;
        rfs::fsync(&l.dir).map_err(|e| self.store.io("sync", &self.rel(&l.name), e))?;
        let target = format!("{LAYERS_DIR}/{}", diff_id.hex());
        let layers = fsutil::open_dir(self.images.as_fd(), OsStr::new(LAYERS_DIR))
            .map_err(|e| self.store.io("open", LAYERS_DIR, e))?;
        crate::failpoint::hit("image-before-layer-publish");
        match rfs::renameat_with(&self.dir, l.name.as_str(), &layers, diff_id.hex(), rfs::RenameFlags::NOREPLACE) {
            Ok(()) => {
                let _ = rfs::fsync(&layers);
                Ok(())
            }
            Err(Errno::EXIST | Errno::NOTEMPTY) => {
                self.discard_layer(l);
                Ok(())
            }
            Err(e) => Err(self.store.io("rename", &target, e)),
        }
    }

    /// A new blob file to write into.
    pub fn stage_blob(&self) -> Result<StagedBlob, ImageError> {
        let name = format!("b-{}", fsutil::random_suffix());
        let fd = rfs::openat(
            &self.dir,
            name.as_str(),
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(FILE_MODE),
        )
        .map_err(|e| self.store.io("create", &self.rel(&name), e))?;
        Ok(StagedBlob { name, file: std::fs::File::from(fd) })
    }

    /// Publish a staged blob whose content the caller verified to be `digest` (after an
    /// fsync of the file, or of its filesystem).
    pub fn publish_blob(&self, b: StagedBlob, digest: &Digest) -> Result<(), ImageError> {
        drop(b.file);
        let alg = digest.algorithm().name();
        let blobs = fsutil::open_dir(self.images.as_fd(), OsStr::new(BLOBS_DIR))
            .map_err(|e| self.store.io("open", BLOBS_DIR, e))?;
        match rfs::mkdirat(&blobs, alg, Mode::from_raw_mode(DIR_MODE)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(self.store.io("mkdir", BLOBS_DIR, e)),
        }
        let algdir =
            fsutil::open_dir(blobs.as_fd(), OsStr::new(alg)).map_err(|e| self.store.io("open", BLOBS_DIR, e))?;
        rfs::renameat(&self.dir, b.name.as_str(), &algdir, digest.hex())
            .map_err(|e| self.store.io("rename", &blob_rel(digest), e))?;
        let _ = rfs::fsync(&algdir);
        Ok(())
    }

    /// Throw a staged blob away.
    pub fn discard_blob(&self, b: StagedBlob) {
        drop(b.file);
        let _ = rfs::unlinkat(&self.dir, b.name.as_str(), AtFlags::empty());
    }

    /// Store a small blob (a config, a manifest) whose bytes are in memory.
    pub fn put_blob(&self, digest: &Digest, data: &[u8]) -> Result<(), ImageError> {
        let mut h = crate::image::digest::Hasher::new(digest.algorithm());
        h.update(data);
        if h.finish() != *digest {
            return Err(ImageError::DigestMismatch {
                what: "blob".into(),
                expected: digest.to_string(),
                actual: Digest::of(data).to_string(),
            });
        }
        if self.store.has_blob(digest) {
            return Ok(());
        }
        let mut b = self.stage_blob()?;
        b.file
            .write_all(data)
            .and_then(|()| b.file.sync_all())
            .map_err(|e| self.store.io("write", &self.rel(&b.name), e))?;
        self.publish_blob(b, digest)
    }

    /// Whether the algorithm of every digest this job writes is supported for blobs.
    pub fn supports(d: &Digest) -> bool {
        matches!(d.algorithm(), Algorithm::Sha256 | Algorithm::Sha384 | Algorithm::Sha512)
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // Still holding the directory's flock: no cleaner works on it meanwhile.
        let _ = fsutil::remove_tree(self.tmp.as_fd(), OsStr::new(&self.name));
    }
}
