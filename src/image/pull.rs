//! `docker pull`: manifest (or index, and then the platform's manifest), config, and the
//! layers the store lacks, fetched a few at a time. Each layer streams from the socket through
//! the digest check of the blob, into the blob file kept for `save`, through the
//! decompressor, through the digest check of the uncompressed tar (the config's diff ID), into
//! the confined extractor in layer mode: no temporary copy of the compressed blob is read back.
//! A blob or layer is published only once every check passed, so an interrupted pull leaves
//! complete ones that the next pull does not fetch again.

use std::io::{self, BufReader, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::ImageError;
use super::credentials::{DockerConfig, server_key};
use super::digest::{Algorithm, Digest, HashReader, Hasher, TeeReader};
use super::oci::{self, Document, ImageConfig, LayerKind};
use super::platform::Platform;
use super::reference::Reference;
use super::registry::{Client, RegistryOptions};
use super::store::{BlobRef, ImageRecord, ImageStore, Job, LayerRef, Needs, RECORD_FORMAT};
use crate::archive::import::{UnpackOptions, unpack_with};
use crate::archive::{Silent, decoder};

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// `--platform`; the host's when `None`.
    pub platform: Option<Platform>,
    pub registry: RegistryOptions,
    /// Layers fetched at a time.
    pub parallel: usize,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions { platform: None, registry: RegistryOptions::default(), parallel: 3 }
    }
}

/// What happens to a layer, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEvent {
    /// Already in the store.
    AlreadyExists,
    /// Queued.
    Waiting,
    /// Bytes received so far of `total`.
    Downloading { done: u64, total: u64 },
    /// Unpacked from a blob the store already had.
    FromStore,
    /// Checked and published.
    Complete,
}

/// Told what a pull does; implementations must be cheap and thread-safe.
pub trait PullProgress: Sync {
    /// One of Docker's status lines (`latest: Pulling from library/busybox`, `Digest: …`,
    /// `Status: …`).
    fn message(&self, _line: &str) {}
    /// A layer's state; `id` is the first 12 hex digits of its blob digest.
    fn layer(&self, _id: &str, _event: LayerEvent) {}
}

/// No progress reporting.
pub struct Quiet;
impl PullProgress for Quiet {}

/// The outcome of a pull.
#[derive(Debug, Clone)]
pub struct PullReport {
    /// The reference pulled, as Docker prints it last (`docker.io/library/busybox:latest`).
    pub reference: Reference,
    pub id: Digest,
    /// The manifest's (or index's) digest: the repository digest.
    pub digest: Digest,
    /// New content or a moved tag (`Downloaded newer image`), else `Image is up to date`.
    pub newer: bool,
}

/// Pull `reference` (a tag is added when it has neither tag nor digest) into `store`.
pub fn pull(
    store: &ImageStore,
    reference: &Reference,
    opts: &PullOptions,
    progress: &dyn PullProgress,
) -> Result<PullReport, ImageError> {
    let reference = reference.tag_name_only();
    let creds = DockerConfig::load()?.get(&server_key(reference.domain()))?;
    let client = Client::new(&reference, &opts.registry, creds);
    let mut conn = client.conn()?;
    client.ping(&mut conn)?;
    let (tag_or_digest, by_digest) = match (reference.digest(), reference.tag()) {
        (Some(d), _) => (d.to_string(), true),
        (None, Some(t)) => (t.to_owned(), false),
        (None, None) => unreachable!("tag_name_only adds a tag"),
    };
    let (bytes, content_type) = client.manifest(&mut conn, &tag_or_digest, &reference)?;
    let top_digest = match reference.digest() {
        Some(d) => d.clone(),
        None => Digest::of(&bytes),
    };
    progress.message(&format!("{tag_or_digest}: Pulling from {}", reference.remote_path()));
    let wanted = opts.platform.clone().unwrap_or_else(Platform::host);
    let (manifest, manifest_bytes, manifest_desc) = match oci::parse_document(&bytes, content_type.as_deref())? {
        Document::Manifest(m) => {
            let media = m.media_type.clone().or(content_type.clone()).unwrap_or_else(|| oci::OCI_MANIFEST.to_owned());
            let desc = BlobRef { digest: top_digest.clone(), media_type: media, size: bytes.len() as u64 };
            (m, bytes.to_vec(), desc)
        }
        Document::Index(index) => {
            let chosen =
                choose_manifest(&index, &wanted).ok_or_else(|| ImageError::NoMatchingManifest(wanted.to_string()))?;
            let (mb, mct) = client.manifest(&mut conn, chosen.digest.as_str(), &reference)?;
            let m = match oci::parse_document(&mb, mct.as_deref().or(Some(&chosen.media_type)))? {
                Document::Manifest(m) => m,
                Document::Index(_) => {
                    return Err(ImageError::Config("an index inside an index is not supported".into()));
                }
            };
            let media = m.media_type.clone().unwrap_or_else(|| chosen.media_type.clone());
            let desc = BlobRef { digest: chosen.digest.clone(), media_type: media, size: mb.len() as u64 };
            (m, mb.to_vec(), desc)
        }
    };
    match manifest.config.media_type.as_str() {
        oci::OCI_CONFIG | oci::DOCKER_CONFIG | "" | "application/octet-stream" => {}
        other => {
            return Err(ImageError::Config(format!(
                "Encountered remote {}(unknown) when fetching",
                crate::text::echo(other).quoted()
            )));
        }
    }
    // The config: from the store when it has it, else from the registry.
    let config_digest = manifest.config.digest.clone();
    if config_digest.algorithm() != Algorithm::Sha256 {
        return Err(ImageError::Config(format!("config {config_digest}: image IDs are sha256 digests")));
    }
    let raw_config =
        match store.open_read()?.and_then(|dir| store.read_blob(std::os::fd::AsFd::as_fd(&dir), &config_digest).ok()) {
            Some(b) => b,
            None => {
                let mut r = client.blob(&mut conn, &config_digest)?;
                let mut buf = Vec::new();
                (&mut r)
                    .take(oci::MAX_DOCUMENT + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| ImageError::Config(format!("reading the image config: {e}")))?;
                let mut h = Hasher::new(config_digest.algorithm());
                h.update(&buf);
                let got = h.finish();
                if got != config_digest {
                    return Err(ImageError::DigestMismatch {
                        what: "image config".into(),
                        expected: config_digest.to_string(),
                        actual: got.to_string(),
                    });
                }
                buf
            }
        };
    let config = ImageConfig::parse(&raw_config)?;
    if opts.platform.is_none() && !config.os.is_empty() && config.os != wanted.os {
        return Err(ImageError::Config(format!(
            "cannot download image with operating system {} when requesting {}",
            crate::text::echo(&config.os).quoted(),
            crate::text::go_quote(&wanted.os)
        )));
    }
    let layers = check_layers(&manifest, &config)?;
    // What this pull will reference, kept by garbage collection while it runs.
    let needs = Needs {
        layers: layers.iter().map(|l| l.diff_id.clone()).collect(),
        blobs: layers
            .iter()
            .map(|l| l.digest.clone())
            .chain([config_digest.clone(), manifest_desc.digest.clone()])
            .collect(),
    };
    let job = store.begin_job(&needs)?;
    let mut todo: Vec<&LayerRef> = Vec::new();
    for l in &layers {
        if todo.iter().any(|t| t.diff_id == l.diff_id) {
            continue;
        }
        if store.has_layer(&l.diff_id) {
            progress.layer(l.digest.short(), LayerEvent::AlreadyExists);
        } else {
            progress.layer(l.digest.short(), LayerEvent::Waiting);
            todo.push(l);
        }
    }
    let downloaded = fetch_layers(&client, &job, &todo, opts.parallel.max(1), progress)?;
    let record = ImageRecord {
        format: RECORD_FORMAT,
        id: config_digest.clone(),
        config_size: raw_config.len() as u64,
        manifest: Some(manifest_desc),
        layers,
        added_at: jiff::Timestamp::now().to_string(),
        last_tag_time: None,
    };
    let canonical = reference.canonical(top_digest.clone());
    let refs: Vec<Reference> =
        if by_digest { vec![canonical.clone()] } else { vec![canonical, reference.without_digest()] };
    let pointed_before = store
        .open_read()?
        .and_then(|dir| store.read_repositories(std::os::fd::AsFd::as_fd(&dir)).ok())
        .and_then(|r| r.get(&reference).cloned());
    store.commit(&job, record, &raw_config, Some(&manifest_bytes), &refs, false)?;
    drop(job);
    progress.message(&format!("Digest: {top_digest}"));
    let newer = downloaded || pointed_before.as_ref() != Some(&config_digest);
    let familiar = reference.familiar_string();
    progress.message(&if newer {
        format!("Status: Downloaded newer image for {familiar}")
    } else {
        format!("Status: Image is up to date for {familiar}")
    });
    Ok(PullReport { reference, id: config_digest, digest: top_digest, newer })
}

/// The index entry for `wanted`: the best-ranked platform, the first among equals.
pub fn choose_manifest<'i>(index: &'i oci::Index, wanted: &Platform) -> Option<&'i oci::Descriptor> {
    index
        .manifests
        .iter()
        .filter(|d| matches!(d.media_type.as_str(), oci::OCI_MANIFEST | oci::DOCKER_MANIFEST | ""))
        .filter_map(|d| d.platform.as_ref().and_then(|p| wanted.rank(p)).map(|r| (r, d)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, d)| d)
}

/// The manifest's layers, paired with the config's diff IDs (Docker's rule: as many of one as
/// of the other).
pub fn check_layers(manifest: &oci::Manifest, config: &ImageConfig) -> Result<Vec<LayerRef>, ImageError> {
    let mut out = Vec::new();
    for l in &manifest.layers {
        match oci::layer_kind(&l.media_type) {
            LayerKind::Tar => {}
            LayerKind::Foreign => {
                return Err(ImageError::Config(format!(
                    "foreign layer {} (media type {}) is not supported",
                    l.digest,
                    crate::text::echo(&l.media_type)
                )));
            }
            LayerKind::Other => return Err(ImageError::Document(oci::DocumentError::MediaType(l.media_type.clone()))),
        }
    }
    // Image IDs and diff IDs name directories of the store: sha256, as Docker requires.
    if let Some(d) = config.rootfs.diff_ids.iter().find(|d| d.algorithm() != Algorithm::Sha256) {
        return Err(ImageError::Config(format!("diff ID {d}: only sha256 diff IDs are supported")));
    }
    if manifest.layers.len() != config.rootfs.diff_ids.len() {
        return Err(ImageError::Config("layers from manifest don't match image configuration".into()));
    }
    for (l, diff) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        out.push(LayerRef {
            digest: l.digest.clone(),
            media_type: l.media_type.clone(),
            size: l.size,
            diff_id: diff.clone(),
        });
    }
    Ok(out)
}

/// Fetch and unpack `todo` on `parallel` threads. `Ok(true)` when anything was downloaded.
fn fetch_layers(
    client: &Client,
    job: &Job,
    todo: &[&LayerRef],
    parallel: usize,
    progress: &dyn PullProgress,
) -> Result<bool, ImageError> {
    if todo.is_empty() {
        return Ok(false);
    }
    let next = AtomicUsize::new(0);
    let cancel = AtomicBool::new(false);
    let failure: Mutex<Option<ImageError>> = Mutex::new(None);
    let downloaded = AtomicBool::new(false);
    let workers = parallel.min(todo.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut conn = None;
                loop {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(layer) = todo.get(i) else { return };
                    let r = fetch_one(client, &mut conn, job, layer, &cancel, progress, &downloaded);
                    if let Err(e) = r {
                        cancel.store(true, Ordering::Relaxed);
                        let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
                        // The first real error wins over the "cancelled" of the others.
                        if f.is_none() {
                            *f = Some(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(downloaded.load(Ordering::Relaxed)),
    }
}

fn fetch_one(
    client: &Client,
    conn: &mut Option<super::registry::http::Conn>,
    job: &Job,
    layer: &LayerRef,
    cancel: &AtomicBool,
    progress: &dyn PullProgress,
    downloaded: &AtomicBool,
) -> Result<(), ImageError> {
    let id = layer.digest.short().to_owned();
    let report = |done: u64| progress.layer(&id, LayerEvent::Downloading { done, total: layer.size });
    let local = match job.store().open_blob(&layer.digest)? {
        Some(file) => {
            // Completed by an earlier, interrupted pull: unpacked from the store, not fetched.
            progress.layer(&id, LayerEvent::FromStore);
            match ingest_layer(
                job,
                file,
                Expect::Blob(&layer.digest, layer.size),
                Some(&layer.diff_id),
                false,
                &|_| {},
                cancel,
            ) {
                Ok(_) => true,
                // Damaged on disk: thrown away and fetched again.
                Err(ImageError::DigestMismatch { .. }) => {
                    job.store().discard_damaged_blob(&layer.digest)?;
                    false
                }
                Err(e) => return Err(e),
            }
        }
        None => false,
    };
    if !local {
        if conn.is_none() {
            *conn = Some(client.conn()?);
        }
        let c = conn.as_mut().ok_or_else(|| ImageError::Config("no connection".into()))?;
        let body = client.blob(c, &layer.digest)?;
        downloaded.store(true, Ordering::Relaxed);
        ingest_layer(job, body, Expect::Blob(&layer.digest, layer.size), Some(&layer.diff_id), true, &report, cancel)?;
    }
    progress.layer(&id, LayerEvent::Complete);
    Ok(())
}

/// What a layer stream is expected to be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect<'a> {
    /// A blob of this digest and size.
    Blob(&'a Digest, u64),
    /// Unknown: its sha256 is computed (and, when `Some`, must be this one).
    Any(Option<&'a Digest>),
}

/// What [`ingest_layer`] stored.
#[derive(Debug, Clone)]
pub(crate) struct Ingested {
    pub digest: Digest,
    pub size: u64,
    pub diff_id: Digest,
}

/// Reports bytes and stops when told to.
struct Watch<'a, R> {
    inner: R,
    done: u64,
    report: &'a dyn Fn(u64),
    cancel: &'a AtomicBool,
    last: u64,
}

impl<R: Read> Read for Watch<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("cancelled: another layer failed"));
        }
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if self.done - self.last >= 256 << 10 || n == 0 {
            self.last = self.done;
            (self.report)(self.done);
        }
        Ok(n)
    }
}

/// Unpack one layer stream into the job: blob digest and size checked, the blob kept
/// (`keep_blob`), the uncompressed tar's digest checked against `diff_id` when given, and
/// both published once every check passed.
pub(crate) fn ingest_layer(
    job: &Job,
    input: impl Read,
    expect: Expect<'_>,
    diff_id: Option<&Digest>,
    keep_blob: bool,
    report: &dyn Fn(u64),
    cancel: &AtomicBool,
) -> Result<Ingested, ImageError> {
    let (algorithm, limit) = match expect {
        Expect::Blob(d, size) => (d.algorithm(), Some(size)),
        Expect::Any(Some(d)) => (d.algorithm(), None),
        Expect::Any(None) => (Algorithm::Sha256, None),
    };
    let mut blob = if keep_blob { Some(job.stage_blob()?) } else { None };
    let staged = match job.stage_layer() {
        Ok(s) => s,
        Err(e) => {
            if let Some(b) = blob {
                job.discard_blob(b);
            }
            return Err(e);
        }
    };
    let mut outer = HashReader::new(Watch { inner: input, done: 0, report, cancel, last: 0 }, algorithm, limit);
    let result = {
        let mut tee = TeeReader { inner: &mut outer, sink: blob.as_mut().map(|b| &mut b.file) };
        let unpacked = {
            let buffered = BufReader::with_capacity(256 << 10, &mut tee);
            match decoder(buffered) {
                Ok(decoded) => {
                    let mut diff = HashReader::new(decoded, Algorithm::Sha256, None);
                    let opts = UnpackOptions {
                        raw: true,
                        layer: Some(job.store().overlay_xattrs()),
                        ..UnpackOptions::default()
                    };
                    let r = unpack_with(&mut diff, staged.diff(), &Silent, opts);
                    r.map(|_| diff.finish().0).map_err(ImageError::Layer)
                }
                Err(e) => Err(ImageError::Layer(crate::archive::ArchiveError::Read { source: e })),
            }
        };
        // Everything that follows (the compressed stream's end, padding) is part of the blob.
        let drained = io::copy(&mut tee, &mut io::sink());
        match (unpacked, drained) {
            (Ok(d), Ok(_)) => Ok(d),
            (Ok(_), Err(e)) => Err(ImageError::Layer(crate::archive::ArchiveError::Read { source: e })),
            (Err(e), _) => Err(e),
        }
    };
    let count = outer.count();
    let (digest, _) = outer.finish();
    // A blob that is not what the manifest announced is refused by its digest, whatever its
    // content did to the extractor.
    let digest_error = match expect {
        Expect::Blob(d, size) if digest != *d || count != size => Some(ImageError::DigestMismatch {
            what: "filesystem layer".into(),
            expected: d.to_string(),
            actual: digest.to_string(),
        }),
        Expect::Any(Some(d)) if digest != *d => Some(ImageError::DigestMismatch {
            what: "filesystem layer".into(),
            expected: d.to_string(),
            actual: digest.to_string(),
        }),
        _ => None,
    };
    let outcome = match (digest_error, result) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(e),
        (None, Ok(diff)) => match diff_id {
            Some(want) if *want != diff => {
                Err(ImageError::DiffIdMismatch { index: 0, expected: want.to_string(), actual: diff.to_string() })
            }
            _ => Ok(diff),
        },
    };
    let diff = match outcome {
        Ok(d) => d,
        Err(e) => {
            if let Some(b) = blob {
                job.discard_blob(b);
            }
            job.discard_layer(staged);
            return Err(e);
        }
    };
    if let Some(b) = blob {
        if let Err(e) = b.file.sync_data() {
            job.discard_blob(b);
            job.discard_layer(staged);
            return Err(ImageError::Io { op: "sync", path: job.store().dir(), source: e });
        }
        job.need(std::slice::from_ref(&diff), std::slice::from_ref(&digest))?;
        job.publish_blob(b, &digest)?;
    } else {
        job.need(std::slice::from_ref(&diff), &[])?;
    }
    crate::failpoint::hit("image-after-blob");
    job.publish_layer(staged, &diff)?;
    Ok(Ingested { digest, size: count, diff_id: diff })
}
