use super::remove::is_single_reference;
use super::*;
use crate::image::ImageError;

#[test]
fn single_reference_rule() {
    let r = |s: &str| Reference::parse_normalized(s).unwrap();
    let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert!(!is_single_reference(&[]));
    assert!(is_single_reference(&[r("a:1")]));
    assert!(!is_single_reference(&[r("a:1"), r("a:2")]));
    assert!(is_single_reference(&[r("a:1"), r(&format!("a@{d}"))]));
    assert!(!is_single_reference(&[r("a:1"), r(&format!("b@{d}"))]));
}

/// Atomic writes make their temporaries in `tmp/`, never beside their targets; the next
/// mutation removes what killed writers and jobs left there (and what older versions left
/// beside the targets), and keeps a live job's directory.
#[test]
fn the_next_mutation_cleans_temporaries_and_dead_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::new(dir.path());
    let l = store.lock().unwrap();
    let mut repos = Repositories::default();
    repos.add(&Reference::parse_normalized("busybox").unwrap(), &Digest::of(b"x"));
    store.write_repositories(&l, &repos).unwrap();
    drop(l);
    let images = dir.path().join(IMAGES_DIR);
    let names = |rel: &str| {
        let mut v: Vec<String> = std::fs::read_dir(images.join(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert!(!names("").iter().any(|n| n.starts_with(".tmp-")), "{:?}", names(""));
    assert!(names(TMP_DIR).is_empty());
    // What killed commands leave: temporaries in tmp/ and (older versions) beside their
    // targets, a dead job's directory; and a live job.
    std::fs::write(images.join(TMP_DIR).join(".tmp-repositories.json-0123456789abcdef"), "{").unwrap();
    std::fs::write(images.join(".tmp-repositories.json-00000000000000ff"), "{").unwrap();
    std::fs::write(images.join(RECORDS_DIR).join(".tmp-x.json-00000000000000ff"), "{").unwrap();
    std::fs::create_dir_all(images.join(TMP_DIR).join("dead/l-1/diff")).unwrap();
    let live = store.begin_job(&Needs::default()).unwrap();
    drop(store.lock().unwrap());
    assert_eq!(names(TMP_DIR), std::slice::from_ref(&live.name));
    assert!(!names("").iter().any(|n| n.starts_with(".tmp-")), "{:?}", names(""));
    assert!(names(RECORDS_DIR).is_empty());
    drop(live);
    assert!(names(TMP_DIR).is_empty());
    let l = store.lock().unwrap();
    assert_eq!(store.read_repositories(l.dir.as_fd()).unwrap(), repos);
}

#[test]
fn repositories_map_references() {
    let id = Digest::of(b"x");
    let mut repos = Repositories::default();
    let busybox = Reference::parse_normalized("busybox").unwrap();
    assert_eq!(repos.add(&busybox, &id), None);
    assert_eq!(repos.get(&Reference::parse_normalized("busybox:latest").unwrap()), Some(&id));
    assert_eq!(repos.references(&id).len(), 1);
    let other = Digest::of(b"y");
    assert_eq!(repos.add(&busybox, &other), Some(id.clone()));
    assert!(repos.references(&id).is_empty());
    assert_eq!(repos.remove(&busybox), Some(other));
    assert!(repos.repos.is_empty());
}

/// An image of no layers with config `config`, its blob and record written as a commit would.
fn put_image(store: &ImageStore, config: &str) -> Digest {
    let id = Digest::of(config.as_bytes());
    let l = store.lock().unwrap();
    let blobs = store.dir().join(blob_rel(&id));
    std::fs::create_dir_all(blobs.parent().unwrap()).unwrap();
    std::fs::write(blobs, config).unwrap();
    let record = ImageRecord {
        format: RECORD_FORMAT,
        id: id.clone(),
        config_size: config.len() as u64,
        manifest: None,
        layers: Vec::new(),
        added_at: "2026-01-01T00:00:00Z".into(),
        last_tag_time: None,
    };
    store.write_record(&l, &record).unwrap();
    id
}

/// A lookup that read `repositories.json` just before a pull moved the name to a new image
/// and a prune removed the old one finds the new image, not "No such image" (the name
/// existed all along); a lease on an image removed since it was resolved is refused.
#[test]
fn a_name_moved_and_its_old_image_removed_during_a_lookup_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::new(dir.path());
    let config =
        |arch: &str| format!(r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}}}}"#);
    let (old, new) = (put_image(&store, &config("amd64")), put_image(&store, &config("arm64")));
    let set = |store: &ImageStore, id: &Digest| {
        let l = store.lock().unwrap();
        let mut repos = Repositories::default();
        repos.add(&Reference::parse_normalized("app").unwrap(), id);
        store.write_repositories(&l, &repos).unwrap();
    };
    set(&store, &old);
    let (s, o, n) = (store.clone(), old.clone(), new.clone());
    let mut moved = false;
    let found = crate::failpoint::observe(
        move |point| {
            if point == "image-lookup-after-repositories" && !moved {
                moved = true;
                set(&s, &n);
                std::fs::remove_file(s.dir().join(RECORDS_DIR).join(record_name(&o))).unwrap();
            }
        },
        || store.run_image("app"),
    );
    assert_eq!(found.unwrap().id, new);
    assert!(matches!(store.lease(&old, "run"), Err(ImageError::NotFound(id)) if id == old.to_string()));
    let lease = store.lease(&new, "run").unwrap();
    assert_eq!(lease.image(), new.to_string());
}

/// A lease makes the layer of mount points a run's root stacks at its bottom, and finishes
/// one a crash left half made.
#[test]
fn a_lease_makes_the_mount_points_layer() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::new(dir.path());
    drop(store.lock().unwrap());
    let images = dir.path().join(IMAGES_DIR);
    std::fs::create_dir_all(images.join(MOUNT_POINTS_DIR).join("proc")).unwrap();
    let l = store.lock_existing().unwrap().unwrap();
    store.ensure_mount_points(l.dir.as_fd()).unwrap();
    store.ensure_mount_points(l.dir.as_fd()).unwrap();
    assert_eq!(store.mount_points_path(), images.join(MOUNT_POINTS_DIR));
    let mut names: Vec<String> = std::fs::read_dir(store.mount_points_path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["dev", "proc", "sys"]);
}

/// A lease makes Docker's init layer a run's root stacks above its image, with its modes
/// whatever the umask, and finishes one a crash left half made.
#[test]
fn a_lease_makes_the_init_layer() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::new(dir.path());
    drop(store.lock().unwrap());
    let etc = dir.path().join(IMAGES_DIR).join(INIT_DIR).join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("hostname"), "").unwrap();
    std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o700)).unwrap();
    let l = store.lock_existing().unwrap().unwrap();
    store.ensure_init_layer(l.dir.as_fd()).unwrap();
    store.ensure_init_layer(l.dir.as_fd()).unwrap();
    assert_eq!(store.init_layer_path().join("etc"), etc);
    assert_eq!(std::fs::read_link(etc.join("mtab")).unwrap(), std::path::Path::new("/proc/mounts"));
    assert_eq!(std::fs::metadata(&etc).unwrap().permissions().mode() & 0o7777, 0o755);
    for f in ["hostname", "hosts", "resolv.conf"] {
        let md = std::fs::symlink_metadata(etc.join(f)).unwrap();
        assert!(md.is_file() && md.len() == 0 && md.permissions().mode() & 0o7777 == 0o644, "{f}: {md:?}");
    }
}
