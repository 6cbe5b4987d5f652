//! `--format` templates under abuse, through the real binary: output streams (memory stays
//! bounded whatever the template produces), a closed pipe ends them at once and quietly, and
//! values a template builds are limited with an error rather than an aborted allocation.
//!
//! The child runs under an address-space limit (`ulimit -v`) far below what building the
//! output in memory would take, so that an implementation that does not stream fails here.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::TestEnv;

/// Labels on the test volume.
const LABELS: usize = 10_000;

/// The child's address-space limit: 512 MiB.
const AS_LIMIT_KIB: u64 = 512 * 1024;

/// How long a child may take to produce its first bytes, and to end once its pipe is closed
/// (generous: debug builds on a loaded machine; the streaming engine needs well under a second).
const PROMPT: Duration = Duration::from_secs(30);

/// A store with one volume, `vv`, carrying `LABELS` labels `kN=vN`.
fn env_with_labels() -> TestEnv {
    let env = TestEnv::new();
    let mut args = vec!["volume".to_owned(), "create".to_owned()];
    for i in 0..LABELS {
        args.push("--label".to_owned());
        args.push(format!("k{i}=v{i}"));
    }
    args.push("vv".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.ok(&args);
    env
}

/// `myvol ARGS` with this env's store, under the address-space limit.
fn limited(env: &TestEnv, args: &[&str]) -> Command {
    let base = env.cmd();
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!("ulimit -v {AS_LIMIT_KIB} && exec \"$0\" \"$@\"")).arg(base.get_program()).args(args);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    if let Some(dir) = base.get_current_dir() {
        c.current_dir(dir);
    }
    c
}

/// What a child did: the bytes read from its stdout, when the first of them came, its exit
/// code once its stdout was closed, and its stderr.
#[derive(Debug)]
struct Run {
    stdout: Vec<u8>,
    first_bytes: Duration,
    code: Option<i32>,
    stderr: String,
}

/// Run `c`, read at most `limit` bytes of its stdout (all of it with `usize::MAX`), close the
/// pipe as `| head -c LIMIT` does, and wait for the child (killing it after `PROMPT`).
fn head(mut c: Command, limit: usize) -> Run {
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = c.spawn().expect("spawn myvol");
    let mut err = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut stdout = Vec::new();
    let mut first_bytes = None;
    let mut buf = vec![0; 1 << 16];
    while stdout.len() < limit {
        let want = buf.len().min(limit - stdout.len());
        match out.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                first_bytes.get_or_insert_with(|| start.elapsed());
                if limit == usize::MAX {
                    // Count, do not keep, a full output.
                    stdout.resize(stdout.len() + n, 0);
                } else {
                    stdout.extend_from_slice(&buf[..n]);
                }
            }
            Err(e) => panic!("reading myvol's stdout: {e}"),
        }
    }
    drop(out);
    let closed = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if closed.elapsed() > PROMPT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        // Polling the child's exit: the readiness check itself.
        std::thread::sleep(Duration::from_millis(5));
    };
    Run { stdout, first_bytes: first_bytes.unwrap_or_else(|| start.elapsed()), code, stderr: stderr.join().unwrap() }
}

#[track_caller]
fn assert_quiet_head(run: &Run, want: &[u8]) {
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    assert_eq!(run.stdout, want);
    assert!(run.first_bytes < PROMPT, "first bytes after {:?}", run.first_bytes);
}

/// 10,000 labels × a one-million-column printf: 10 GB of output, which used to be built in
/// memory (an abort with a backtrace, exit 134). It streams, and `| head -c 100` ends it.
#[test]
fn huge_printf_output_streams_and_head_ends_it() {
    let env = env_with_labels();
    let c = limited(&env, &["volume", "inspect", "-f", r#"{{range .Labels}}{{printf "%1000000d" 1}}{{end}}"#, "vv"]);
    let run = head(c, 100);
    assert_quiet_head(&run, &[b' '; 100]);
}

/// Nested ranges over 10,000 labels: 10^8 iterations, which used to print nothing for 20 s
/// and more. Output comes at once and a closed pipe stops the loops.
#[test]
fn nested_ranges_stream_and_head_ends_them() {
    let env = env_with_labels();
    let c = limited(&env, &["volume", "inspect", "-f", "{{range .Labels}}{{range $.Labels}}{{.}}{{end}}{{end}}", "vv"]);
    let run = head(c, 100);
    // Labels sort by key: k0, k1, k10, k100, k1000, k1001, …
    let mut want = String::new();
    let mut keys: Vec<String> = (0..LABELS).map(|i| format!("k{i}")).collect();
    keys.sort();
    for k in keys {
        want.push_str(&k.replacen('k', "v", 1));
        if want.len() >= 100 {
            break;
        }
    }
    assert_quiet_head(&run, &want.as_bytes()[..100]);
}

/// The whole of a 500 MB output passes through a child limited to 512 MiB of address space:
/// it is never held in memory.
#[test]
fn full_output_larger_than_memory_limit() {
    let env = env_with_labels();
    let c = limited(&env, &["volume", "inspect", "-f", r#"{{range .Labels}}{{printf "%50000d" 7}}{{end}}"#, "vv"]);
    let run = head(c, usize::MAX);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{:?}", (run.code, &run.stderr));
    assert_eq!(run.stdout.len(), LABELS * 50_000 + 1);
}

/// A table must be buffered to be aligned; a 500 MB table row is not held whole: it reaches
/// the pipe, and `| head` ends it.
#[test]
fn huge_table_streams_and_head_ends_it() {
    let env = env_with_labels();
    let format = r#"table {{range 500000}}{{printf "%1000d" .}}{{"\t"}}{{end}}"#;
    let c = limited(&env, &["volume", "ls", "--format", format]);
    let run = head(c, 100);
    let mut want = format!("{:>1000}", 0);
    want.truncate(100);
    assert_quiet_head(&run, want.as_bytes());
}

/// Values a template holds at once are limited: doubling a string in a loop ends with an
/// error, not an allocation failure.
#[test]
fn values_past_the_limit_are_an_error() {
    let env = TestEnv::new();
    env.ok(&["volume", "create", "vv"]);
    let format = r#"{{$x := printf "%1000000d" 1}}{{range 30}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}"#;
    let o = env.run(&["volume", "inspect", "-f", format, "vv"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(o.stdout, "\n");
    assert_eq!(
        o.stderr,
        "Error: template parsing error: template: :1:49: executing \"\" at <printf \"%s%s\" $x $x>: error calling \
         printf: result exceeds the 64 MiB limit of template values\n"
    );
}
