//! `-t`: a pseudo-terminal for the command, as runc's console socket does it. The child opens
//! the master on the run's own devpts instance (after `pivot_root`, so `tty` inside says
//! `/dev/pts/0`), makes the slave its controlling terminal and stdio, and passes the master to
//! the supervisor over a socket (`SCM_RIGHTS`). The supervisor copies the pty's output to its
//! stdout, and with `-i` puts the user's terminal in raw mode and copies its keys to the pty;
//! it copies the window size on start and on SIGWINCH.
//!
//! A terminal has no end of input: a pty turns its `VEOF` character into an end of file only
//! for a reader in canonical mode, and a program that changes the mode (a shell's line editor)
//! may read it as a key or discard it. So `-i -t` takes its input from a terminal only
//! ([`check_input`], Docker's rule), and when that terminal hangs up the supervisor hangs up
//! the pty (it closes the master): the command reads an end of file or `EIO`, whatever its
//! mode, instead of waiting for keys that will never come.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage, SendFlags,
};
use rustix::termios::{self, OptionalActions, Termios};

/// The child side: open a new pty on `/dev/ptmx` (the run's devpts), make its slave the
/// controlling terminal and fds 0–2, give the slave to `owner`, and send the master to the
/// supervisor over `sock`.
pub fn child_setup(sock: BorrowedFd<'_>, owner: Option<(u32, u32)>) -> io::Result<()> {
    let master = rustix::pty::openpt(rustix::pty::OpenptFlags::RDWR | rustix::pty::OpenptFlags::NOCTTY)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let name = rustix::pty::ptsname(&master, Vec::new())?;
    let slave = rustix::fs::open(name.as_c_str(), OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())?;
    if let Some((uid, gid)) = owner {
        rustix::fs::fchown(&slave, Some(rustix::fs::Uid::from_raw(uid)), Some(rustix::fs::Gid::from_raw(gid)))?;
    }
    rustix::process::ioctl_tiocsctty(&slave)?;
    nix::unistd::dup2_stdin(&slave)?;
    nix::unistd::dup2_stdout(&slave)?;
    nix::unistd::dup2_stderr(&slave)?;
    let fds = [master.as_fd()];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut buf = SendAncillaryBuffer::new(&mut space);
    buf.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(sock, &[io::IoSlice::new(b"t")], &mut buf, SendFlags::empty())?;
    Ok(())
}

/// `-i -t` with a standard input that is not a terminal (`echo x | myvol run -it …`), refused
/// as Docker's client refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the input device is not a TTY")]
pub struct NotATty;

/// Docker's rule (docker/cli `CheckTty`): a terminal for the command (`tty`) fed from myvol's
/// standard input (`interactive`) needs that input to be a terminal. `-t` alone is fine
/// with any input: it is not read.
pub fn check_input(tty: bool, interactive: bool) -> Result<(), NotATty> {
    if tty && interactive && !termios::isatty(rustix::stdio::stdin()) { Err(NotATty) } else { Ok(()) }
}

/// The supervisor side: receive the master from the child.
pub fn receive_master(sock: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    rustix::net::recvmsg(sock, &mut [io::IoSliceMut::new(&mut byte)], &mut anc, RecvFlags::CMSG_CLOEXEC)?;
    for msg in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = msg
            && let Some(fd) = fds.next()
        {
            return Ok(fd);
        }
    }
    Err(io::Error::other("the run sent no terminal"))
}

/// The user's terminal in raw mode until dropped.
pub struct RawMode {
    fd: BorrowedFd<'static>,
    saved: Termios,
}

impl RawMode {
    /// Raw mode on stdin when it is a terminal; `None` otherwise.
    pub fn enter() -> Option<RawMode> {
        let fd = rustix::stdio::stdin();
        let saved = termios::tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(fd, OptionalActions::Now, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}

/// Copy the user's window size (stdin's, else stdout's) to the pty.
pub fn copy_winsize(master: BorrowedFd<'_>) {
    let ws = termios::tcgetwinsize(rustix::stdio::stdin()).or_else(|_| termios::tcgetwinsize(rustix::stdio::stdout()));
    if let Ok(ws) = ws {
        let _ = termios::tcsetwinsize(master, ws);
    }
}

fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                let mut p = [PollFd::new(fd, PollFlags::POLLOUT)];
                let _ = poll(&mut p, PollTimeout::NONE);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Proxy until the command ends: the pty's output to stdout, stdin (with `-i`) to the pty,
/// SIGWINCH to the pty's size, other signals of `set` to `pid`. When stdin ends (its terminal
/// hung up), the pty is hung up too: the master is closed, so the command's reads end, in any
/// terminal mode. Returns how the command ended, as [`super::wait_exit`] does.
pub fn proxy(pid: Pid, master: OwnedFd, interactive: bool, set: &SigSet) -> io::Result<super::Exit> {
    let sfd = SignalFd::with_flags(set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let stdin = rustix::stdio::stdin();
    let stdout = rustix::stdio::stdout();
    let mut stdin_open = interactive;
    // `None` once the pty is drained or hung up.
    let mut master = Some(master);
    let mut status = None;
    let mut buf = vec![0u8; 32 * 1024];
    if let Some(m) = &master {
        copy_winsize(m.as_fd());
    }
    loop {
        if status.is_none() {
            status = super::try_reap(pid)?;
        }
        if let Some(exit) = status
            && master.is_none()
        {
            return Ok(exit);
        }
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(m) = &master {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
        }
        // Once the command has ended, only drain what it left in the pty.
        let timeout = if status.is_some() { PollTimeout::ZERO } else { PollTimeout::NONE };
        let drained = match poll(&mut fds, timeout) {
            Ok(0) => status.is_some(),
            Ok(_) => false,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let ready: Vec<bool> = fds.iter().map(|f| f.any().unwrap_or(false)).collect();
        drop(fds);
        if drained {
            master = None;
            continue;
        }
        let mut i = 1;
        if ready[0] {
            while let Ok(Some(info)) = sfd.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGCHLD) | Err(_) => {}
                    Ok(Signal::SIGWINCH) => {
                        if let Some(m) = &master {
                            copy_winsize(m.as_fd());
                        }
                    }
                    Ok(sig) => {
                        let _ = nix::sys::signal::kill(pid, sig);
                    }
                }
            }
        }
        if let Some(m) = &master {
            if ready[i] {
                match rustix::io::read(m, &mut buf) {
                    Ok(0) | Err(Errno::IO) => master = None,
                    Ok(n) => {
                        if write_all(stdout, &buf[..n]).is_err() {
                            master = None;
                        }
                    }
                    Err(Errno::INTR | Errno::AGAIN) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            i += 1;
        }
        if stdin_open && ready.get(i).copied().unwrap_or(false) {
            match rustix::io::read(stdin, &mut buf) {
                Ok(n) if n > 0 => {
                    if let Some(m) = &master
                        && write_all(m.as_fd(), &buf[..n]).is_err()
                    {
                        stdin_open = false;
                    }
                }
                Err(Errno::INTR | Errno::AGAIN) => {}
                // End of input (the user's terminal hung up), or an error reading it: hang
                // up the command's terminal. No end-of-file character is sent: it would be
                // a key to a command whose terminal is in raw mode, and lost to one that
                // flushes its input.
                _ => {
                    stdin_open = false;
                    master = None;
                }
            }
        }
    }
}
