//! Processes a test starts, and waiting for them: a child is killed and reaped when the test
//! ends, also when it fails; waits poll a condition against a deadline instead of sleeping a
//! fixed time.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a test waits for something that normally takes milliseconds.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A child process that is killed (with its process group, for `group`) and reaped on drop
/// unless it has already ended.
pub struct Spawned {
    child: Child,
    group: bool,
}

impl Spawned {
    /// Spawn `c`; panics if it cannot start.
    #[track_caller]
    pub fn new(c: &mut Command) -> Spawned {
        Spawned { child: c.spawn().unwrap_or_else(|e| panic!("spawn {c:?}: {e}")), group: false }
    }

    /// Spawn `c` as the leader of a new process group, all of which is killed on drop.
    #[track_caller]
    pub fn group(c: &mut Command) -> Spawned {
        std::os::unix::process::CommandExt::process_group(c, 0);
        let mut s = Spawned::new(c);
        s.group = true;
        s
    }

    /// Spawn `c` with stdout piped and wait (up to `PATIENCE`) for its first line, which must
    /// be `line`; returns the child and the rest of its stdout.
    #[track_caller]
    pub fn ready(c: &mut Command, line: &str) -> (Spawned, BufReader<ChildStdout>) {
        let mut s = Spawned::new(c.stdout(Stdio::piped()));
        let (first, rest) = first_line(s.child.stdout.take().unwrap());
        assert_eq!(first, line, "{c:?} did not say it was ready");
        (s, rest)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Wait for the exit; its code, or -1 for a death by signal.
    pub fn wait(&mut self) -> i32 {
        self.child.wait().expect("wait").code().unwrap_or(-1)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let sig = nix::sys::signal::Signal::SIGKILL;
            let _ = if self.group { nix::sys::signal::killpg(pid, sig) } else { nix::sys::signal::kill(pid, sig) };
        }
        let _ = self.child.wait();
    }
}

/// The first line of `out` (up to `PATIENCE`), and the reader for the rest.
#[track_caller]
pub fn first_line(out: ChildStdout) -> (String, BufReader<ChildStdout>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        let _ = tx.send((line, r));
    });
    // On a timeout the reader thread ends when the child (killed by its guard) closes stdout.
    rx.recv_timeout(PATIENCE).expect("no line from the child")
}

/// Poll `ok` until it holds; panic naming `what` after `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    while !ok() {
        assert!(start.elapsed() < timeout, "{what}: not after {timeout:?}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Wait until `path` exists (a process's sign that it got somewhere).
#[track_caller]
pub fn wait_for_path(path: &std::path::Path) {
    wait_until(&format!("{} appears", path.display()), PATIENCE, || path.exists());
}
