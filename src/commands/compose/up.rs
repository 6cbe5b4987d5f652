//! `up`'s services as child processes: their output copied line by line under Compose's
//! prefixes, their ends reported to `up`, and the signals that stop them.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::process::Child;
use std::sync::{Arc, Mutex, mpsc};

use myvol::output::compose::LogStyle;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// What `up` hears about its services.
pub(super) enum UpEvent {
    /// Service `index`'s process has ended (its output all printed) with this status.
    Exited(usize, i32),
    /// SIGINT or SIGTERM.
    Signal,
}

/// A service `up` runs.
pub(super) struct Running {
    pub(super) name: String,
    pub(super) container: String,
    pub(super) pid: Pid,
    pub(super) ended: bool,
}

/// Where `up` writes: stdout and stderr, shared by the threads that copy the services' lines.
pub(super) struct Sinks {
    pub(super) out: Arc<Mutex<std::fs::File>>,
    pub(super) err: Arc<Mutex<std::fs::File>>,
}

impl Sinks {
    pub(super) fn say_out(&self, bytes: &[u8]) {
        write_locked(&self.out, bytes);
    }

    pub(super) fn say_err(&self, bytes: &[u8]) {
        write_locked(&self.err, bytes);
    }
}

fn write_locked(w: &Mutex<std::fs::File>, bytes: &[u8]) {
    if let Ok(mut f) = w.lock() {
        let _ = f.write_all(bytes);
    }
}

/// Signal every service still running (its process group: the run's supervisor, which
/// forwards it to the command).
pub(super) fn stop_all(running: &[Running], sig: Signal) {
    for r in running.iter().filter(|r| !r.ended) {
        let _ = nix::sys::signal::killpg(r.pid, sig);
    }
}

/// Read a service's output into prefixed lines (stdout to stdout, stderr to stderr, as
/// Compose's log consumer), and report its end once all of it is printed.
pub(super) fn start_service(
    mut child: Child,
    style: LogStyle,
    stdin_file: Option<&str>,
    index: usize,
    sinks: &Sinks,
    tx: mpsc::Sender<UpEvent>,
) {
    if let (Some(text), Some(mut w)) = (stdin_file, child.stdin.take()) {
        let text = text.to_owned();
        std::thread::spawn(move || {
            let _ = w.write_all(text.as_bytes());
        });
    }
    let out = child.stdout.take().map(|r| {
        let (style, w) = (style.clone(), sinks.out.clone());
        std::thread::spawn(move || copy_lines(r, &style, &w))
    });
    let err = child.stderr.take().map(|r| {
        let (style, w) = (style.clone(), sinks.err.clone());
        std::thread::spawn(move || copy_lines(r, &style, &w))
    });
    std::thread::spawn(move || {
        let status = child.wait();
        for t in [out, err].into_iter().flatten() {
            let _ = t.join();
        }
        let code = match status {
            Ok(s) => s.code().unwrap_or_else(|| 128 + std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(0)),
            Err(_) => 1,
        };
        let _ = tx.send(UpEvent::Exited(index, code));
    });
}

fn copy_lines(r: impl Read, style: &LogStyle, w: &Mutex<std::fs::File>) {
    let mut r = BufReader::new(r);
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                write_locked(w, &style.line(&line));
            }
        }
    }
}
