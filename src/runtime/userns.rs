//! Rootless runs: the id maps of the run's user namespace, written by the supervisor while the
//! child waits (docs/security.md §1.15). With `newuidmap`/`newgidmap` installed and ranges
//! for the user in `/etc/subuid` and `/etc/subgid`, the user is root inside and the range
//! follows from 1; otherwise the single mapping of the user to root, after writing `deny` to
//! `setgroups`, which any user may do. Host uid 0 never appears in a map: only the caller's
//! own ids and its delegated ranges do.

use std::io;
use std::path::Path;
use std::process::Command;

use thiserror::Error;

/// A subordinate id range: `start` and `count`.
type Range = (u32, u32);

/// The first range of `/etc/subuid`-format `text` for the user `name` or `id`.
pub fn sub_range(text: &str, name: &str, id: u32) -> Option<Range> {
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        let (who, start, count) = (f.next()?, f.next()?, f.next()?);
        if who != name && who != id.to_string() {
            return None;
        }
        let (start, count) = (start.parse().ok()?, count.parse().ok()?);
        (count > 0).then_some((start, count))
    })
}

/// The host's name for `uid`, from `/etc/passwd` read as text.
fn user_name(uid: u32) -> String {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    super::user::parse_passwd(&text).into_iter().find(|e| e.uid == uid).map(|e| e.name).unwrap_or_default()
}

fn helper(name: &str) -> Option<String> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().map(|d| format!("{d}/{name}")).find(|p| Path::new(p).exists())
}

/// How many ids, counted from 0, a rootless run's user namespace maps: 0 is the caller's own
/// id; with subordinate ranges, 1… are the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    pub uids: u32,
    pub gids: u32,
}

/// What a rootless run's id maps will be, decided before the run starts from `/etc/subuid`,
/// `/etc/subgid` and the helpers `newuidmap`/`newgidmap`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The caller's name (its uid when `/etc/passwd` has none), as the files name it.
    user: String,
    uid: u32,
    gid: u32,
    subuid: Option<Range>,
    subgid: Option<Range>,
    helpers: Option<(String, String)>,
}

impl Plan {
    /// The plan for the calling user.
    pub fn read() -> Plan {
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let name = user_name(uid);
        let range = |file: &str| std::fs::read_to_string(file).ok().and_then(|t| sub_range(&t, &name, uid));
        let (subuid, subgid) = (range("/etc/subuid"), range("/etc/subgid"));
        let helpers = helper("newuidmap").zip(helper("newgidmap"));
        let user = if name.is_empty() { uid.to_string() } else { name };
        Plan { user, uid, gid, subuid, subgid, helpers }
    }

    /// The ranges and helpers, when all are there: the range mapping.
    fn ranges(&self) -> Option<(Range, Range, &(String, String))> {
        Some((self.subuid?, self.subgid?, self.helpers.as_ref()?))
    }

    /// The ids the run will map.
    pub fn mapped(&self) -> Mapped {
        match self.ranges() {
            Some(((_, u), (_, g), _)) => Mapped { uids: u.saturating_add(1), gids: g.saturating_add(1) },
            None => Mapped { uids: 1, gids: 1 },
        }
    }

    /// Whether a process may become `uid:gid` with supplementary `groups` in the run: each id
    /// must be mapped. With the single mapping, `setgroups` is denied and the groups are
    /// dropped (as runc drops them), so only the ranges' groups are checked.
    pub fn check(&self, uid: u32, gid: u32, groups: &[u32]) -> Result<(), Unmapped> {
        let m = self.mapped();
        let unmapped = |g: &u32| *g >= m.gids && *g != gid;
        let group = if m.gids > 1 { groups.iter().copied().find(unmapped) } else { None };
        if uid < m.uids && gid < m.gids && group.is_none() {
            return Ok(());
        }
        Err(Unmapped {
            uid,
            gid,
            group,
            user: crate::text::escape_control(&self.user).into_owned(),
            mapped: m,
            no_ranges: self.subuid.is_none() || self.subgid.is_none(),
            no_helpers: self.helpers.is_none(),
        })
    }

    /// Write the id maps of the (waiting) child `pid`'s user namespace: the range mapping
    /// through the setuid helpers (`0 → own id`, `1.. → range`), or, without ranges or
    /// when a helper fails, the single mapping of the caller's ids to 0.
    pub fn write_maps(&self, pid: i32) -> io::Result<()> {
        if let Some((subuid, subgid, (uidmap, gidmap))) = self.ranges()
            && [(uidmap, self.uid, subuid), (gidmap, self.gid, subgid)]
                .into_iter()
                .all(|(prog, id, range)| map_with(prog, pid, id, range))
        {
            return Ok(());
        }
        let proc = format!("/proc/{pid}");
        let write = |file: &str, text: String| {
            std::fs::write(format!("{proc}/{file}"), text)
                .map_err(|e| io::Error::new(e.kind(), format!("write {proc}/{file}: {e}")))
        };
        write("setgroups", "deny".to_owned())?;
        write("uid_map", format!("0 {} 1\n", self.uid))?;
        write("gid_map", format!("0 {} 1\n", self.gid))?;
        Ok(())
    }
}

/// Before a run: whether its process may become `uid:gid` with `groups` (always, as root; in
/// a rootless run, when its user namespace will map them).
pub fn check_ids_mapped(uid: u32, gid: u32, groups: &[u32]) -> Result<(), Unmapped> {
    if rustix::process::geteuid().is_root() {
        return Ok(());
    }
    Plan::read().check(uid, gid, groups)
}

/// Run helper `prog` (`newuidmap` or `newgidmap`) for `pid`: `0 → id`, `1.. → range`.
fn map_with(prog: &str, pid: i32, id: u32, (start, count): Range) -> bool {
    Command::new(prog)
        .arg(pid.to_string())
        .args(["0", &id.to_string(), "1", "1", &start.to_string(), &count.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A rootless run's user or group that its user namespace does not map: the process could
/// not become it (`setuid` would fail with EINVAL).
#[derive(Debug, Clone, Error)]
#[error(
    "cannot run as {uid}:{gid}{}: insufficient UIDs or GIDs available in the run's user namespace ({}): {}",
    group.map(|g| format!(" with group {g}")).unwrap_or_default(),
    self.what_is_mapped(),
    self.what_to_do()
)]
pub struct Unmapped {
    uid: u32,
    gid: u32,
    /// A supplementary group that is not mapped (the user and primary group are).
    group: Option<u32>,
    user: String,
    mapped: Mapped,
    no_ranges: bool,
    no_helpers: bool,
}

impl Unmapped {
    fn what_is_mapped(&self) -> String {
        let Mapped { uids, gids } = self.mapped;
        if (uids, gids) == (1, 1) {
            "a rootless run maps only your own uid and gid, as 0:0".to_owned()
        } else {
            format!("it maps uids 0-{} and gids 0-{}", uids - 1, gids - 1)
        }
    }

    fn what_to_do(&self) -> String {
        let user = &self.user;
        let ranges = format!(
            "add subordinate ranges for {user} to /etc/subuid and /etc/subgid \
             (`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`)"
        );
        let helpers = "install newuidmap and newgidmap (package uidmap)";
        match (self.no_ranges, self.no_helpers) {
            (true, true) => format!("for other ids, {ranges} and {helpers}"),
            (true, false) => format!("for other ids, {ranges}"),
            (false, true) => {
                format!("for other ids, {helpers}, which map {user}'s ranges in /etc/subuid and /etc/subgid")
            }
            (false, false) => format!("give {user} larger ranges in /etc/subuid and /etc/subgid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subuid_lines() {
        let text = "alice:100000:65536\n1001:200000:1000\nbob:1:0\n";
        assert_eq!(sub_range(text, "alice", 1000), Some((100000, 65536)));
        assert_eq!(sub_range(text, "carol", 1001), Some((200000, 1000)));
        assert_eq!(sub_range(text, "bob", 5), None);
        assert_eq!(sub_range(text, "dave", 7), None);
    }

    fn plan(ranges: bool, helpers: bool) -> Plan {
        Plan {
            user: "alice".into(),
            uid: 1000,
            gid: 1000,
            subuid: ranges.then_some((100000, 65536)),
            subgid: ranges.then_some((100000, 1000)),
            helpers: helpers.then(|| ("/usr/bin/newuidmap".into(), "/usr/bin/newgidmap".into())),
        }
    }

    #[test]
    fn only_mapped_ids_may_be_the_runs() {
        let single = plan(false, true);
        assert_eq!(single.mapped(), Mapped { uids: 1, gids: 1 });
        // Groups are dropped with the single mapping (setgroups is denied): not checked.
        assert!(single.check(0, 0, &[0, 5000]).is_ok());
        let e = single.check(1000, 0, &[0]).unwrap_err().to_string();
        assert_eq!(
            e,
            "cannot run as 1000:0: insufficient UIDs or GIDs available in the run's user namespace (a rootless run \
             maps only your own uid and gid, as 0:0): for other ids, add subordinate ranges for alice to /etc/subuid \
             and /etc/subgid (`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice`)"
        );
        let e = plan(false, false).check(0, 7, &[]).unwrap_err().to_string();
        assert!(e.starts_with("cannot run as 0:7: "), "{e}");
        assert!(e.ends_with(" and install newuidmap and newgidmap (package uidmap)"), "{e}");
        // Ranges without the helpers: the single mapping, and the helpers are what is missing.
        let e = plan(true, false).check(1000, 1000, &[]).unwrap_err().to_string();
        assert!(
            e.ends_with(": for other ids, install newuidmap and newgidmap (package uidmap), which map alice's ranges in /etc/subuid and /etc/subgid"),
            "{e}"
        );
        let ranges = plan(true, true);
        assert_eq!(ranges.mapped(), Mapped { uids: 65537, gids: 1001 });
        assert!(ranges.check(65536, 1000, &[1000, 0, 999]).is_ok());
        let e = ranges.check(65537, 0, &[]).unwrap_err().to_string();
        assert!(e.contains("(it maps uids 0-65536 and gids 0-1000): give alice larger ranges"), "{e}");
        // A supplementary group outside the range is named.
        let e = ranges.check(1, 1, &[1, 2000]).unwrap_err().to_string();
        assert!(e.starts_with("cannot run as 1:1 with group 2000: "), "{e}");
    }
}
