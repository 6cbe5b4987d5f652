//! Tests of `volume create`: names, drivers, options, labels, ownership and size limits at
//! create, and what a crash at each step leaves.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use super::*;
use crate::store::ExternalDriver;
use crate::store::testutil::*;

#[test]
fn create_publishes_a_complete_volume_and_finds_it_again() {
    let t = TempStore::new();
    let c = t.store.create(request("v1")).unwrap();
    assert!(c.created);
    assert_eq!(c.volume.name, name("v1"));
    assert_eq!(c.volume.labels, None);
    assert_eq!(c.volume.options, None);
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(t.data("v1")), DATA_MODE);
    assert_eq!(mode(t.root().join("volumes/v1")), VOLUME_DIR_MODE);
    assert!(t.entries(TMP_DIR).is_empty());
    let again = t.store.create(request("v1")).unwrap();
    assert!(!again.created);
    assert_eq!(again.volume, c.volume);
}

#[test]
fn anonymous_volumes_get_a_generated_name_and_dockers_label() {
    let t = TempStore::new();
    let c = t.store.create(CreateRequest::default()).unwrap();
    assert!(c.created && c.volume.name.looks_anonymous() && c.volume.is_anonymous());
    assert_eq!(t.store.get(&c.volume.name).unwrap(), c.volume);
}

#[test]
fn invalid_options_fail_only_a_new_local_volume() {
    let t = TempStore::new();
    let bad = || CreateRequest {
        options: [("bogus".to_owned(), "1".to_owned())].into(),
        invalid_options: Some("invalid option: \"bogus\"".into()),
        ..request("v1")
    };
    let e = t.store.create(bad()).unwrap_err();
    assert_eq!(e.to_string(), "create v1: invalid option: \"bogus\"");
    assert!(t.store.names().unwrap().is_empty());
    assert!(t.entries(TMP_DIR).is_empty());
    // An existing volume is returned whatever the options, as Docker does.
    t.create("v1");
    let c = t.store.create(bad()).unwrap();
    assert!(!c.created);
    assert_eq!(c.volume.options, None);
}

#[test]
fn another_driver_for_an_existing_name_is_a_conflict() {
    let t = TempStore::new();
    t.create("v1");
    let e = t.store.create(CreateRequest { driver: "other".into(), ..request("v1") }).unwrap_err();
    assert!(matches!(e, StoreError::Conflict { ref existing, .. } if existing == LOCAL_DRIVER), "{e}");
    // Naming the driver it has is fine; an unknown driver for a new name is not found.
    assert!(!t.store.create(CreateRequest { driver: LOCAL_DRIVER.into(), ..request("v1") }).unwrap().created);
    let e = t.store.create(CreateRequest { driver: "other".into(), ..request("v2") }).unwrap_err();
    assert_eq!(e.to_string(), "create v2: error looking up volume plugin other: plugin \"other\" not found");
}

/// An external driver that records what it was asked, and checks that the store lock is
/// held while it is asked.
#[derive(Debug)]
struct Recorder {
    root: PathBuf,
    calls: std::sync::Mutex<Vec<String>>,
    refuse: bool,
}

impl ExternalDriver for Recorder {
    fn create(
        &self,
        driver: &str,
        name: &VolumeName,
        options: Option<&BTreeMap<String, String>>,
    ) -> std::result::Result<String, BoxedError> {
        assert!(!lock_is_free(&self.root), "the store lock is held while the driver creates");
        self.calls.lock().unwrap().push(format!("create {driver} {name} {options:?}"));
        if self.refuse { Err("the plugin says no".into()) } else { Ok("global".into()) }
    }
    fn remove(&self, driver: &str, name: &VolumeName) -> std::result::Result<(), BoxedError> {
        assert!(!lock_is_free(&self.root), "the store lock is held while the driver removes");
        self.calls.lock().unwrap().push(format!("remove {driver} {name}"));
        if self.refuse { Err("the plugin says no".into()) } else { Ok(()) }
    }
    fn find(&self, driver: &str) -> std::result::Result<(), BoxedError> {
        if driver == "there" { Ok(()) } else { Err(format!("no {driver}").into()) }
    }
}

fn with_recorder(refuse: bool) -> (TempStore, Arc<Recorder>) {
    let mut t = TempStore::new();
    let r = Arc::new(Recorder { root: t.root().to_owned(), calls: Default::default(), refuse });
    t.store = t.store.clone().with_external(r.clone());
    (t, r)
}

#[test]
fn an_external_volume_is_created_by_its_driver_under_the_lock_and_recorded() {
    let (t, r) = with_recorder(false);
    let req = CreateRequest { driver: "plug".into(), options: [("k".into(), "v".into())].into(), ..request("p1") };
    let c = t.store.create(req).unwrap();
    assert!(c.created);
    assert_eq!((c.volume.driver.as_str(), c.volume.scope.as_str()), ("plug", "global"));
    assert_eq!(t.store.get(&name("p1")).unwrap(), c.volume);
    assert_eq!(*r.calls.lock().unwrap(), [r#"create plug p1 Some({"k": "v"})"#]);
    assert!(t.store.find_driver("p2", "there").is_ok());
    assert_eq!(t.store.find_driver("p2", "gone").unwrap_err().to_string(), "create p2: no gone");
}

#[test]
fn a_driver_that_refuses_leaves_no_record() {
    let (t, _) = with_recorder(true);
    let e = t.store.create(CreateRequest { driver: "plug".into(), ..request("p1") }).unwrap_err();
    assert_eq!(e.to_string(), "create p1: the plugin says no");
    assert!(t.store.names().unwrap().is_empty());
}

fn local_meta(name: &str) -> Vec<u8> {
    VolumeMeta {
        format: FORMAT_VERSION,
        name: name.into(),
        driver: LOCAL_DRIVER.into(),
        created_at: String::new(),
        labels: None,
        options: None,
        scope: None,
        owner: None,
        quota: None,
    }
    .encode()
    .unwrap()
}

#[test]
fn a_build_that_failed_leaves_nothing() {
    let t = TempStore::new();
    let h = t.store.open_write().unwrap();
    let meta = local_meta("v1");
    let e = t
        .store
        .build_volume(&h, &name("v1"), &meta, |data| {
            rfs::mkdirat(data, "half-filled", Mode::from_raw_mode(0o755))?;
            Err(io::Error::from_raw_os_error(libc::ENOSPC))
        })
        .unwrap_err();
    let want = format!("mkdir {}: no space left on device", t.root().join("volumes/v1").display());
    assert!(e.to_string().ends_with(&want), "{e}");
    assert!(t.entries(TMP_DIR).is_empty());
    assert!(t.entries(VOLUMES_DIR).is_empty());
}

#[test]
fn a_name_taken_while_building_fails_and_removes_the_build() {
    let t = TempStore::new();
    let h = t.store.open_write().unwrap();
    let b = t.store.start_build(&h, &name("v1")).unwrap();
    assert_eq!(t.entries(TMP_DIR).len(), 1);
    std::fs::create_dir(t.root().join("volumes/v1")).unwrap();
    let meta = local_meta("v1");
    let e = t.store.finish_build(&h, b, &meta).unwrap_err();
    assert!(matches!(e, StoreError::CreateDir { ref source, .. } if source.raw_os_error() == Some(libc::EEXIST)));
    assert!(t.entries(TMP_DIR).is_empty());
    assert!(t.entries("volumes/v1").is_empty());
}

#[test]
fn a_crash_before_publishing_leaves_a_leftover_the_next_mutation_removes() {
    let t = TempStore::new();
    drop(t.store.open_write().unwrap()); // the store exists: store.json is written
    let crashes = Crashes::default();
    failpoint::observe(crashes.hook(t.root()), || t.create("v1"));
    assert_eq!(crashes.points(), ["create-after-mkdir", "create-before-publish", "create-after-publish"]);
    for point in ["create-after-mkdir", "create-before-publish"] {
        let (_dir, crashed) = crashes.at(point);
        assert!(crashed.names().unwrap().is_empty(), "{point}");
        assert_eq!(entries(&crashed.root().join(TMP_DIR)).len(), 1, "{point}");
        // The next mutation (of any volume) cleans up; the name is free again.
        assert!(crashed.create(request("v2")).unwrap().created);
        assert!(entries(&crashed.root().join(TMP_DIR)).is_empty(), "{point}");
        assert!(crashed.create(request("v1")).unwrap().created, "{point}");
    }
    let (_dir, crashed) = crashes.at("create-after-publish");
    let v = crashed.get(&name("v1")).unwrap();
    assert_eq!(v.driver, LOCAL_DRIVER);
    assert!(crashed.root().join("volumes/v1/_data").is_dir());
    assert!(entries(&crashed.root().join(TMP_DIR)).is_empty());
}

#[test]
fn a_build_is_flock_ed_so_that_cleaners_skip_it() {
    let t = TempStore::new();
    let store = t.store.clone();
    // Cleaners remove what they can lock (see open.rs); a build must never be lockable.
    let root = t.root().to_owned();
    failpoint::observe(
        move |point| {
            if point == "create-before-publish" {
                let tmp = root.join(TMP_DIR);
                assert_eq!(entries(&tmp).len(), 1);
                for e in entries(&tmp) {
                    let fd = dir_fd(&tmp.join(e));
                    assert!(!fsutil::try_lock_exclusive(fd.as_fd()).unwrap(), "the build is flock-ed");
                }
            }
        },
        || assert!(store.create(request("v1")).unwrap().created),
    );
}

#[test]
fn concurrent_creates_of_one_name_one_wins_the_others_return_it() {
    let t = TempStore::new();
    let results: Vec<Created> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8).map(|_| s.spawn(|| t.store.create(request("same")).unwrap())).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|c| c.created).count(), 1);
    for c in &results {
        assert_eq!(c.volume, results[0].volume);
    }
    assert_eq!(t.entries(VOLUMES_DIR), ["same"]);
    assert!(t.entries(TMP_DIR).is_empty());
}

fn sized(name: &str, size: &str) -> CreateRequest {
    CreateRequest { options: [("size".to_owned(), size.to_owned())].into(), ..request(name) }
}

#[test]
fn the_owner_is_set_in_the_build_and_recorded() {
    use std::os::unix::fs::MetadataExt;
    let t = TempStore::new();
    let root = rustix::process::geteuid().is_root();
    let uid = if root { 1234 } else { rustix::process::geteuid().as_raw() };
    let owner = OwnerRequest { uid: Some(uid), gid: None, mode: Some(0o2750) };
    let c = t.store.create(CreateRequest { owner: Some(owner), ..request("v1") }).unwrap();
    let md = std::fs::metadata(t.data("v1")).unwrap();
    assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (uid, rustix::process::getegid().as_raw(), 0o2750));
    let o = c.volume.owner.unwrap();
    assert_eq!((o.uid, o.mode), (uid, 0o2750));
    assert_eq!(t.store.get(&name("v1")).unwrap().owner, Some(o));
    assert_eq!(t.store.get(&name("v1")).unwrap().quota, None);
    // An owner the caller may not give: nothing is made.
    if !root {
        let e = t
            .store
            .create(CreateRequest { owner: Some(OwnerRequest { uid: Some(0), ..owner }), ..request("v2") })
            .unwrap_err();
        assert!(e.to_string().starts_with("create v2: chown "), "{e}");
        assert!(t.store.get(&name("v2")).is_err());
    }
    assert!(t.entries(TMP_DIR).is_empty());
}

#[test]
fn a_size_without_limits_is_refused_as_docker_without_quotas() {
    let t = TempStore::new();
    let e = t.store.create(sized("v1", "10m")).unwrap_err();
    assert_eq!(e.to_string(), "create v1: quota size requested but no quota support");
    assert!(t.store.names().unwrap().is_empty());
    assert!(t.store.create(sized("v2", "0")).unwrap().created, "size 0 is no limit");
}

#[test]
fn a_size_limit_is_set_up_in_the_build_and_recorded() {
    let limits = FakeLimits::new(crate::store::QuotaMode::Image);
    let mut t = TempStore::new();
    t.store = t.store.clone().with_limits(limits.clone());
    let c = t.store.create(sized("img", "10m")).unwrap();
    let q = c.volume.quota.unwrap();
    assert_eq!((q.mode, q.size, q.project_id), (crate::store::QuotaMode::Image, 10 << 20, None));
    assert_eq!(limits.calls(), [format!("create {} None 755 follows=false", 10 << 20)]);
    assert!(t.root().join("volumes/img/disk.img").is_file(), "made in the build, published with it");
    assert_eq!(t.store.get(&name("img")).unwrap().quota, Some(q));
    // Project ids: each new one above those the store's volumes record.
    let p = |n: &str| {
        let req = CreateRequest {
            options: [("size".into(), "1m".into()), ("quota".into(), "project".into())].into(),
            ..request(n)
        };
        t.store.create(req).unwrap().volume.quota.unwrap().project_id.unwrap()
    };
    let first = p("p1");
    assert_eq!(p("p2"), first + 1);
    assert!(t.entries(TMP_DIR).is_empty());
}

#[test]
fn create_leased_returns_a_live_lease() {
    let t = TempStore::new();
    let (c, lease) = t.store.create_leased(request("v1"), "run", Access::ReadWrite, &Default::default()).unwrap();
    assert!(c.created);
    assert_eq!(t.store.users(&name("v1")).unwrap(), [lease.id()]);
    drop(lease);
    assert!(t.store.users(&name("v1")).unwrap().is_empty());
}
