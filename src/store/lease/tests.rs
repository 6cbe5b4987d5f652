//! Tests of leases: live while held, stale once the holder is gone, pinned leases, the second
//! name in `tmp/`, what a killed holder leaves, and the readers' lock.

use super::*;
use crate::store::StoreError;
use crate::store::layout::{LEASES_DIR, TMP_DIR};
use crate::store::testutil::*;

fn leases_dir(t: &TempStore, v: &str) -> std::path::PathBuf {
    t.root().join(VOLUMES_DIR).join(v).join(LEASES_DIR)
}

#[test]
fn a_lease_lives_while_held_and_its_file_goes_with_it() {
    let t = TempStore::new();
    t.create("v1");
    let (a, b) = (t.store.lease(&name("v1"), "run").unwrap(), t.store.lease(&name("v1"), "mount").unwrap());
    let mut ids = vec![a.id().to_owned(), b.id().to_owned()];
    ids.sort();
    assert_eq!(t.store.users(&name("v1")).unwrap(), ids);
    assert_eq!(a.volume(), &name("v1"));
    let info: LeaseInfo = serde_json::from_slice(&std::fs::read(leases_dir(&t, "v1").join(a.id())).unwrap()).unwrap();
    assert_eq!((info.pid, info.holder.as_str(), info.mounted), (std::process::id(), "run", false));
    drop(a);
    assert_eq!(t.store.users(&name("v1")).unwrap(), [b.id()]);
    drop(b);
    assert!(entries(&leases_dir(&t, "v1")).is_empty());
    assert!(matches!(t.store.lease(&name("nope"), "run"), Err(StoreError::NotFound(n)) if n == "nope"));
}

#[test]
fn a_stale_lease_is_not_live_and_is_reaped_only_when_asked() {
    let t = TempStore::new();
    t.create("v1");
    let lease = t.store.lease(&name("v1"), "run").unwrap();
    let id = lease.id().to_owned();
    // A holder that died: its lock is gone, its file stays.
    lease.abandon();
    assert!(t.store.users(&name("v1")).unwrap().is_empty());
    let vdir = t.open_dir("volumes/v1");
    assert!(live(vdir.as_fd()).unwrap().is_empty());
    assert_eq!(entries(&leases_dir(&t, "v1")), [id.as_str()], "a query removes nothing");
    // An unpublished leftover of a crashed acquire.
    std::fs::write(leases_dir(&t, "v1").join(format!("{LEASE_NEW_PREFIX}x")), "").unwrap();
    assert!(reap_and_list(vdir.as_fd()).unwrap().is_empty());
    assert!(entries(&leases_dir(&t, "v1")).is_empty());
}

#[test]
fn a_dead_lease_that_records_a_plugin_mount_keeps_the_volume_in_use() {
    let t = TempStore::new();
    t.create("v1");
    let mut lease = t.store.lease(&name("v1"), "run").unwrap();
    lease.mark_mounted().unwrap();
    let id = lease.id().to_owned();
    lease.abandon();
    let vdir = t.open_dir("volumes/v1");
    assert!(live(vdir.as_fd()).unwrap().is_empty(), "no live holder");
    assert_eq!(reap_and_list(vdir.as_fd()).unwrap(), [id.as_str()], "but the mount is not undone");
    assert_eq!(entries(&leases_dir(&t, "v1")), [id.as_str()]);
    let leases = t.open_dir(&format!("volumes/v1/{LEASES_DIR}"));
    let dead = dead_in(leases.as_fd()).unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].mounted && dead[0].id == id);
}

#[test]
fn pinned_leases_are_live_until_removed() {
    let t = TempStore::new();
    t.create("v1");
    let vdir = t.open_dir("volumes/v1");
    let id = pin(t.open_dir(TMP_DIR).as_fd(), vdir.as_fd(), "mount").unwrap();
    assert!(t.entries(TMP_DIR).is_empty(), "written aside, then linked in");
    let pinned = format!("{PIN_PREFIX}{id}");
    assert_eq!(t.store.users(&name("v1")).unwrap(), [pinned.as_str()]);
    assert_eq!(reap_and_list(vdir.as_fd()).unwrap(), [pinned.as_str()]);
    let leases = t.open_dir(&format!("volumes/v1/{LEASES_DIR}"));
    let pins = pins_in(leases.as_fd());
    assert_eq!(pins.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
}

#[test]
fn a_lease_has_a_second_name_in_tmp_and_both_go_with_it() {
    let t = TempStore::new();
    t.create("v1");
    let lease = t.store.lease_as(&name("v1"), "export", Access::ReadOnly).unwrap();
    let index = format!("{LEASE_INDEX_PREFIX}{}", lease.id());
    assert_eq!(t.entries(TMP_DIR), [index.as_str()]);
    let info: LeaseInfo =
        serde_json::from_slice(&std::fs::read(leases_dir(&t, "v1").join(lease.id())).unwrap()).unwrap();
    assert!(info.read_only);
    assert_eq!(info.volume.as_deref(), Some("v1"));
    // A live lease is not a leftover.
    t.create("v2");
    assert_eq!(t.entries(TMP_DIR), [index.as_str()]);
    assert_eq!(t.store.users(&name("v1")).unwrap(), [lease.id()]);
    drop(lease);
    assert!(t.entries(TMP_DIR).is_empty());
    assert!(entries(&leases_dir(&t, "v1")).is_empty());
}

#[test]
fn what_a_killed_holder_leaves_is_removed_by_the_next_mutation_of_anything() {
    let t = TempStore::new();
    t.create("v1");
    // As a holder killed after publishing leaves it: both names, nothing locked.
    let id = crate::name::random_hex_id();
    let mut info = new_info(&id, "export");
    info.volume = Some("v1".into());
    let index = t.root().join(TMP_DIR).join(format!("{LEASE_INDEX_PREFIX}{id}"));
    std::fs::write(&index, serde_json::to_vec(&info).unwrap()).unwrap();
    std::fs::create_dir_all(leases_dir(&t, "v1")).unwrap();
    std::fs::hard_link(&index, leases_dir(&t, "v1").join(&id)).unwrap();
    // Killed before publishing: the tmp/ name alone; a pin being written.
    std::fs::write(t.root().join(TMP_DIR).join(format!("{LEASE_INDEX_PREFIX}{}", "0".repeat(64))), "").unwrap();
    std::fs::write(t.root().join(TMP_DIR).join(format!("{PIN_STAGING_PREFIX}x")), "{}").unwrap();
    // A dead lease that records a plugin mount stays for the mount reconciliation.
    let mut mounted = t.store.lease(&name("v1"), "run").unwrap();
    mounted.mark_mounted().unwrap();
    let mounted_id = mounted.id().to_owned();
    mounted.abandon();
    assert!(t.store.users(&name("v1")).unwrap().is_empty());
    t.create("unrelated");
    assert!(t.entries(TMP_DIR).is_empty());
    assert_eq!(entries(&leases_dir(&t, "v1")), [mounted_id.as_str()]);
}

#[test]
fn a_readers_lock_keeps_a_volume_from_mutations() {
    let t = TempStore::new();
    t.create("v1");
    let volumes = t.open_dir(VOLUMES_DIR);
    let reader = acquire_reader(volumes.as_fd(), &name("v1")).unwrap().unwrap();
    assert_eq!(reader.id(), READER_ID);
    let e = t.store.remove(&name("v1"), false).unwrap_err();
    assert_eq!(e.to_string(), format!("remove v1: volume is in use - [{READER_ID}]"));
    let e = t.store.rename(&name("v1"), &name("v2")).unwrap_err();
    assert_eq!(e.to_string(), format!("rename v1: volume is in use - [{READER_ID}]"));
    drop(reader);
    t.store.remove(&name("v1"), false).unwrap();
    assert!(acquire_reader(volumes.as_fd(), &name("v1")).unwrap().is_none());
}

#[test]
fn lease_records_carry_labels_and_older_ones_still_read() {
    // A lease written before labels existed.
    let old = r#"{"id":"ab","pid":7,"holder":"run","started_at":"2025-01-01T00:00:00Z","volume":"v1"}"#;
    let info: LeaseInfo = serde_json::from_str(old).unwrap();
    assert!(info.labels.is_empty());
    assert!(!serde_json::to_string(&info).unwrap().contains("labels"), "no labels, no key");
    let t = TempStore::new();
    t.create("v1");
    let labels: std::collections::BTreeMap<String, String> =
        [("com.docker.compose.project".to_owned(), "p".to_owned())].into();
    let req = crate::store::CreateRequest { name: Some(name("v1")), ..Default::default() };
    let (_, lease) = t.store.create_leased(req, "run", Access::ReadWrite, &labels).unwrap();
    let user = t.store.lease_user(&name("v1"), lease.id()).unwrap();
    assert_eq!(user.labels, labels);
    assert_eq!(user.compose_names().as_deref(), Some("compose project p"));
    // A record no reader would read whole is refused before anything is made.
    let huge = [("k".to_owned(), "x".repeat(crate::fsutil::MAX_META_BYTES as usize))].into();
    let req = crate::store::CreateRequest { name: Some(name("v1")), ..Default::default() };
    assert!(t.store.create_leased(req, "run", Access::ReadWrite, &huge).is_err());
    assert_eq!(t.store.users_of(&name("v1")).unwrap().len(), 1);
}
