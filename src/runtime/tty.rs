//! `-t`: a pseudo-terminal for the command, as runc's console socket does it. The child opens
//! the master on the run's own devpts instance (after `pivot_root`, so `tty` inside says
//! `/dev/pts/0`), makes the slave its controlling terminal and stdio, and passes the master to
//! the supervisor over a socket (`SCM_RIGHTS`). The supervisor puts the user's terminal in raw
//! mode, copies bytes both ways, and copies the window size on start and on SIGWINCH.

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
/// SIGWINCH to the pty's size, other signals of `set` to `pid`. Returns how the command
/// ended, as [`super::wait_exit`] does.
pub fn proxy(pid: Pid, master: OwnedFd, interactive: bool, set: &SigSet) -> io::Result<super::Exit> {
    let sfd = SignalFd::with_flags(set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let stdin = rustix::stdio::stdin();
    let stdout = rustix::stdio::stdout();
    let mut stdin_open = interactive;
    let mut master_open = true;
    let mut status = None;
    let mut buf = vec![0u8; 32 * 1024];
    copy_winsize(master.as_fd());
    loop {
        if status.is_none() {
            status = super::try_reap(pid)?;
        }
        if let Some(exit) = status
            && !master_open
        {
            return Ok(exit);
        }
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if master_open {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
        }
        // Once the command has ended, only drain what it left in the pty.
        let timeout = if status.is_some() { PollTimeout::ZERO } else { PollTimeout::NONE };
        match poll(&mut fds, timeout) {
            Ok(0) if status.is_some() => master_open = false,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<bool> = fds.iter().map(|f| f.any().unwrap_or(false)).collect();
        let mut i = 1;
        if ready[0] {
            while let Ok(Some(info)) = sfd.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGCHLD) | Err(_) => {}
                    Ok(Signal::SIGWINCH) => copy_winsize(master.as_fd()),
                    Ok(sig) => {
                        let _ = nix::sys::signal::kill(pid, sig);
                    }
                }
            }
        }
        if master_open {
            if ready[i] {
                match rustix::io::read(&master, &mut buf) {
                    Ok(0) | Err(Errno::IO) => master_open = false,
                    Ok(n) => {
                        if write_all(stdout, &buf[..n]).is_err() {
                            master_open = false;
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
                Ok(0) | Err(Errno::IO) => {
                    // End of input: the terminal's end-of-file character, as a user's ^D.
                    let eof = termios::tcgetattr(&master)
                        .map(|t| t.special_codes[termios::SpecialCodeIndex::VEOF])
                        .unwrap_or(4);
                    let _ = write_all(master.as_fd(), &[eof]);
                    stdin_open = false;
                }
                Ok(n) => {
                    if write_all(master.as_fd(), &buf[..n]).is_err() {
                        stdin_open = false;
                    }
                }
                Err(Errno::INTR | Errno::AGAIN) => {}
                Err(_) => stdin_open = false,
            }
        }
    }
}
