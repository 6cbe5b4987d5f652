//! Rootless runs: the id maps of the run's user namespace, written by the supervisor while the
//! child waits (docs/security.md §1.15). With `newuidmap`/`newgidmap` installed and ranges
//! for the user in `/etc/subuid` and `/etc/subgid`, the user is root inside and the range
//! follows from 1; otherwise the single mapping of the user to root, after writing `deny` to
//! `setgroups`, which any user may do. Host uid 0 never appears in a map: only the caller's
//! own ids and its delegated ranges do.

use std::io;
use std::path::Path;
use std::process::Command;

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

/// Map through the setuid helpers: `0 → id`, `1.. → range`.
fn with_helpers(pid: i32, uid: u32, gid: u32) -> Option<()> {
    let name = user_name(uid);
    let subuid = sub_range(&std::fs::read_to_string("/etc/subuid").ok()?, &name, uid)?;
    let subgid = sub_range(&std::fs::read_to_string("/etc/subgid").ok()?, &name, uid)?;
    let (uidmap, gidmap) = (helper("newuidmap")?, helper("newgidmap")?);
    for (prog, id, (start, count)) in [(uidmap, uid, subuid), (gidmap, gid, subgid)] {
        let ok = Command::new(&prog)
            .arg(pid.to_string())
            .args(["0", &id.to_string(), "1", "1", &start.to_string(), &count.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    Some(())
}

/// Write the id maps of the (waiting) child `pid`'s user namespace.
pub fn write_maps(pid: i32) -> io::Result<()> {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    if with_helpers(pid, uid, gid).is_some() {
        return Ok(());
    }
    let proc = format!("/proc/{pid}");
    let write = |file: &str, text: String| {
        std::fs::write(format!("{proc}/{file}"), text)
            .map_err(|e| io::Error::new(e.kind(), format!("write {proc}/{file}: {e}")))
    };
    write("setgroups", "deny".to_owned())?;
    write("uid_map", format!("0 {uid} 1\n"))?;
    write("gid_map", format!("0 {gid} 1\n"))?;
    Ok(())
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
}
