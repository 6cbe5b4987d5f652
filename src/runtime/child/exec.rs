//! The last steps: the process's environment and command resolved, privileges dropped
//! (user, groups, capabilities), then exec, with PATH looked up as Go's `exec.LookPath`.

use std::convert::Infallible;
use std::ffi::CString;
use std::io;

use rustix::fs::{self as rfs, FileType, Mode};
use rustix::io::Errno;
use rustix::thread::{CapabilitySet, CapabilitySets};

use super::{DEFAULT_PATH, Ready, SetupError, default_caps, step};
use crate::runtime::Process;
use crate::sys;
use crate::text::{echo, errno_text};

fn cstring(s: &str) -> CString {
    // validate() refused NUL bytes in every string of the process.
    CString::new(s).unwrap_or_default()
}

pub(super) fn prepare_exec(process: &Process, hostname: &str) -> Result<Ready, SetupError> {
    // Docker's order (`CreateDaemonEnvironment`): PATH (the process's own, in place of the
    // default), HOSTNAME, then the rest.
    let mut env: Vec<String> = Vec::new();
    let has = |env: &[String], k: &str| env.iter().any(|e| e.split_once('=').is_some_and(|(key, _)| key == k));
    let own_path = process.env.iter().rev().find(|e| e.starts_with("PATH="));
    env.push(own_path.cloned().unwrap_or_else(|| format!("PATH={DEFAULT_PATH}")));
    env.push(format!("HOSTNAME={hostname}"));
    env.extend(process.env.iter().filter(|e| !e.starts_with("HOSTNAME=") && !e.starts_with("PATH=")).cloned());
    if !has(&env, "HOME") {
        let uid = process.user.map(|u| u.0).unwrap_or(0);
        env.push(if uid == 0 { "HOME=/root".to_owned() } else { "HOME=/".to_owned() });
    }
    let path = env.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH).to_owned();
    Ok(Ready {
        argv: process.command.iter().map(|a| cstring(a)).collect(),
        envp: env.iter().map(|e| cstring(e)).collect(),
        name: process.command[0].clone(),
        path,
    })
}

/// Drop the bounding set to Docker's defaults, clear the ambient set, switch to the run's
/// uid/gid (no supplementary groups) and leave Docker's set effective only for uid 0.
pub(super) fn drop_privileges(user: Option<(u32, u32)>, groups: &[u32], rootless: bool) -> io::Result<()> {
    let keep = default_caps();
    for n in 0..64u32 {
        let cap = CapabilitySet::from_bits_retain(1 << n);
        if keep.contains(cap) {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(cap) {
            Ok(()) => {}
            Err(Errno::INVAL) => break, // past the kernel's last capability
            Err(e) => return Err(e.into()),
        }
    }
    match rustix::thread::clear_ambient_capability_set() {
        Ok(()) | Err(Errno::INVAL) => {}
        Err(e) => return Err(e.into()),
    }
    let (uid, gid) = user.unwrap_or((0, 0));
    let groups: Vec<nix::unistd::Gid> = groups.iter().map(|g| nix::unistd::Gid::from_raw(*g)).collect();
    match nix::unistd::setgroups(&groups) {
        // A user namespace with `setgroups` denied (the single rootless mapping): the process
        // has no supplementary group to drop, and may set none, as runc silently sets none.
        Err(nix::errno::Errno::EPERM) if rootless => {}
        r => r?,
    }
    let g = nix::unistd::Gid::from_raw(gid);
    nix::unistd::setresgid(g, g, g)?;
    let u = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setresuid(u, u, u)?;
    let caps = if uid == 0 { keep } else { CapabilitySet::empty() };
    rustix::thread::set_capabilities(
        None,
        CapabilitySets { effective: caps, permitted: caps, inheritable: CapabilitySet::empty() },
    )?;
    Ok(())
}

/// The last steps: restore what the command should inherit (umask 022, default signal
/// dispositions, an empty signal mask), find the command as runc does (Go's `exec.LookPath`:
/// a name with a `/` as it is, else the first executable file of that name in `PATH`), mark
/// every fd but 0–2 close-on-exec, and exec.
///
/// A failure to find the command is the run's failure, reported to the supervisor. Once it
/// is found, the run counts as started, as in Docker: if `execve` itself fails (a file of an
/// unknown format, a script whose interpreter is missing), the message goes to the command's
/// own stderr and the status is 255, as runc's init ends.
pub(super) fn exec_command(p: &Ready) -> Result<Infallible, SetupError> {
    rustix::process::umask(Mode::from_raw_mode(0o022));
    sys::reset_signal_dispositions();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
    let path = look_path(p)?;
    sys::cloexec_from(3).map_err(step("mark file descriptors close-on-exec"))?;
    let e = nix::unistd::execve(&cstring(&path), &p.argv, &p.envp).unwrap_err();
    let line = format!("exec {}: {}\n", echo(&path), errno_text(&e.into()));
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
    sys::exit_now(LATE_EXEC_FAILED)
}

/// The status of a run whose `execve` failed after the command was found (runc's init).
const LATE_EXEC_FAILED: i32 = 255;

/// Go's `exec.LookPath` in the run: the path to execute, or why there is none.
fn look_path(p: &Ready) -> Result<String, SetupError> {
    if p.name.contains('/') {
        return match find_executable(&p.name) {
            Ok(()) => Ok(p.name.clone()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Err(SetupError::NoSuchFile(p.name.clone())),
            Err(err) => Err(SetupError::Exec { path: p.name.clone(), err }),
        };
    }
    for dir in p.path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let full = format!("{}/{}", dir.trim_end_matches('/'), p.name);
        if find_executable(&full).is_ok() {
            return Ok(full);
        }
    }
    Err(SetupError::NotFound(p.name.clone()))
}

/// Go's `findExecutable`: the file exists, is not a directory, and may be executed.
fn find_executable(path: &str) -> io::Result<()> {
    let st = rfs::stat(path)?;
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    rfs::access(path, rfs::Access::EXEC_OK)?;
    Ok(())
}
