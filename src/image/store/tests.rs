use super::remove::is_single_reference;
use super::*;

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
