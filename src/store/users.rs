//! Who uses a volume: its live leases, said in words (what kind of user, its process and
//! command line, since when), for `volume inspect -f '{{json .Users}}'`, `volume ls --format
//! '{{.Users}}'` and the "in use" errors. Read without the store lock: a holder that died is
//! never shown (its lease lock is gone), and its lease file is reaped by the next mutation.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::fd::AsFd;

use super::layout::{LEASES_DIR, VOLUMES_DIR, rel};
use super::lease::{self, LeaseInfo, PIN_PREFIX, READER_ID};
use super::{Result, Store};
use crate::fsutil;
use crate::name::VolumeName;

/// One user of a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The lease id (`pin-…` for a `volume mount`).
    pub id: String,
    /// What uses it: `run`, `mount` (`volume mount`), `export`, `import`, `clone`.
    pub kind: String,
    /// The process holding it (a `volume mount` outlives its process: none).
    pub pid: Option<u32>,
    /// That process's command line, its words quoted as a shell would need them.
    pub command: Option<String>,
    /// RFC 3339, when it started using the volume.
    pub since: String,
    /// It only reads the volume.
    pub read_only: bool,
    /// Its process is gone, but it left a driver mount that is not undone yet (the next myvol
    /// command retries): it still counts as a user for `rm` and `prune`.
    pub ended: bool,
    /// The holder's labels (a run's; Compose's runs name their project and service there).
    pub labels: BTreeMap<String, String>,
}

impl User {
    fn from_info(id: &str, info: LeaseInfo, alive: bool) -> User {
        let pinned = id.starts_with(PIN_PREFIX);
        let pid = (!pinned).then_some(info.pid);
        User {
            id: id.to_owned(),
            kind: info.holder,
            command: if alive { pid.and_then(command_line) } else { None },
            pid,
            since: info.started_at,
            read_only: info.read_only,
            ended: !alive && !pinned,
            labels: info.labels,
        }
    }

    /// `compose project P, service S` for a Compose run (either alone when only one label is
    /// there), from its labels as recorded (outside text: escape before printing).
    pub fn compose_names(&self) -> Option<String> {
        let project = self.labels.get(COMPOSE_PROJECT_LABEL);
        let service = self.labels.get(COMPOSE_SERVICE_LABEL);
        match (project, service) {
            (Some(p), Some(s)) => Some(format!("compose project {p}, service {s}")),
            (Some(p), None) => Some(format!("compose project {p}")),
            (None, Some(s)) => Some(format!("compose service {s}")),
            (None, None) => None,
        }
    }
}

/// The label naming a run's Compose project.
pub const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";
/// The label naming a run's Compose service.
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";

impl Store {
    /// The live users of volume `name`, the oldest first (none: not in use, or no such
    /// volume). A reader's lock on a read-only mount of the store is not seen (looking for it
    /// takes a lock of its own).
    pub fn users_of(&self, name: &VolumeName) -> Result<Vec<User>> {
        let Some(h) = self.open_read()? else {
            return Ok(Vec::new());
        };
        let Ok(vdir) = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)) else {
            return Ok(Vec::new());
        };
        let Some(leases) = lease::open_leases_dir(vdir.as_fd(), false).map_err(|e| self.io("read", VOLUMES_DIR, e))?
        else {
            return Ok(Vec::new());
        };
        Ok(live_users(leases.as_fd()))
    }

    /// For each of `names`, whether a live process uses it (`ls -f dangling=…`, `in-use=…`,
    /// `{{.InUse}}`): one look at its `leases/`, in parallel; a volume that vanished is not in
    /// use.
    pub fn in_use_each(&self, names: &[VolumeName]) -> Vec<bool> {
        let Ok(Some(h)) = self.open_read() else {
            return vec![false; names.len()];
        };
        crate::par::par_map(names, |name| {
            // One open: a volume never used has no `leases/`.
            match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, LEASES_DIR))) {
                Ok(leases) => lease::any_live_in(leases.as_fd()).unwrap_or(false),
                Err(_) => false,
            }
        })
    }

    /// [`Store::users_of`] for each of `names`, in parallel, with one look at the store.
    pub fn users_of_each(&self, names: &[VolumeName]) -> Vec<Vec<User>> {
        let Ok(Some(h)) = self.open_read() else {
            return vec![Vec::new(); names.len()];
        };
        crate::par::par_map(names, |name| {
            match fsutil::open_dir(h.volumes.as_fd(), OsStr::new(&rel(name, LEASES_DIR))) {
                Ok(leases) => live_users(leases.as_fd()),
                Err(_) => Vec::new(),
            }
        })
    }

    /// The user behind lease `id` of volume `name`, alive or not (an "in use" error names
    /// the leases it saw); `None` when the lease file is gone or unreadable.
    pub fn lease_user(&self, name: &VolumeName, id: &str) -> Option<User> {
        if id == READER_ID {
            return None;
        }
        let h = self.open_read().ok()??;
        let vdir = fsutil::open_dir(h.volumes.as_fd(), OsStr::new(name)).ok()?;
        let leases = fsutil::open_dir(vdir.as_fd(), OsStr::new(LEASES_DIR)).ok()?;
        let info = read_info(leases.as_fd(), id)?;
        let alive = id.starts_with(PIN_PREFIX) || lease::is_live(leases.as_fd(), id);
        Some(User::from_info(id, info, alive))
    }

    /// [`Store::lease_user`] for each of `ids` that can still be read, the oldest first (the
    /// order of `.Users`).
    pub fn lease_users(&self, name: &VolumeName, ids: &[String]) -> Vec<User> {
        let mut users: Vec<User> = ids.iter().filter_map(|id| self.lease_user(name, id)).collect();
        oldest_first(&mut users);
        users
    }
}

/// The live users in a `leases/` directory, the oldest first.
fn live_users(leases: std::os::fd::BorrowedFd<'_>) -> Vec<User> {
    let ids = lease::live_in(leases).unwrap_or_default();
    let mut users: Vec<User> = ids
        .iter()
        .filter_map(|id| {
            let info = read_info(leases, id)?;
            // Checked again after the read: a holder that ended meanwhile is not shown.
            lease::is_live(leases, id).then(|| User::from_info(id, info, true))
        })
        .collect();
    oldest_first(&mut users);
    users
}

/// Sort `users` by when they started, then by lease id. By instant: RFC 3339 texts with
/// fractions of different lengths do not sort as text.
fn oldest_first(users: &mut [User]) {
    let when = |u: &User| u.since.parse::<jiff::Timestamp>().ok();
    users.sort_by(|a, b| when(a).cmp(&when(b)).then_with(|| a.id.cmp(&b.id)));
}

fn read_info(leases: std::os::fd::BorrowedFd<'_>, id: &str) -> Option<LeaseInfo> {
    let bytes = fsutil::read_small_file(leases, OsStr::new(id)).ok()?;
    let info: LeaseInfo = serde_json::from_slice(&bytes).ok()?;
    let bare = id.strip_prefix(PIN_PREFIX).unwrap_or(id);
    (info.id == bare).then_some(info)
}

/// The command line of process `pid`, its words quoted as a shell would need them, the first
/// one by its file name (`myvol run -v db:/data /srv/rootfs app`).
pub fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            let w = String::from_utf8_lossy(w);
            if i == 0 { w.rsplit('/').next().unwrap_or(&w).to_owned() } else { shell_quote(&w) }
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `word` as a shell reads it back: as is when it is safe, else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Access;
    use crate::store::testutil::*;

    #[test]
    fn users_are_the_live_leases_in_words() {
        let t = TempStore::new();
        t.create("v1");
        assert!(t.store.users_of(&name("v1")).unwrap().is_empty());
        assert!(t.store.users_of(&name("missing")).unwrap().is_empty());
        let export = t.store.lease_as(&name("v1"), "export", Access::ReadOnly).unwrap();
        let pin = t.store.pin(&name("v1"), "mount").unwrap();
        // A holder that died: never shown.
        t.store.lease(&name("v1"), "run").unwrap().abandon();
        let users = t.store.users_of(&name("v1")).unwrap();
        assert_eq!(users.len(), 2, "{users:?}");
        let e = users.iter().find(|u| u.kind == "export").unwrap();
        assert_eq!((e.id.as_str(), e.pid, e.read_only, e.ended), (export.id(), Some(std::process::id()), true, false));
        assert!(e.command.as_deref().is_some_and(|c| !c.is_empty()));
        let m = users.iter().find(|u| u.kind == "mount").unwrap();
        assert_eq!((m.id.clone(), m.pid, m.command.clone()), (format!("{PIN_PREFIX}{pin}"), None, None));
        drop(export);
        assert_eq!(t.store.users_of(&name("v1")).unwrap().len(), 1);
    }

    #[test]
    fn a_lease_named_by_an_error_is_described_alive_or_not() {
        let t = TempStore::new();
        t.create("v1");
        let mut lease = t.store.lease(&name("v1"), "run").unwrap();
        let id = lease.id().to_owned();
        assert!(!t.store.lease_user(&name("v1"), &id).unwrap().ended);
        lease.mark_mounted().unwrap();
        lease.abandon();
        let u = t.store.lease_user(&name("v1"), &id).unwrap();
        assert_eq!((u.kind.as_str(), u.pid, u.command, u.ended), ("run", Some(std::process::id()), None, true));
        assert!(t.store.lease_user(&name("v1"), "nope").is_none());
        assert!(t.store.lease_user(&name("v1"), READER_ID).is_none());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("a-b/c:d"), "a-b/c:d");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
    }
}
