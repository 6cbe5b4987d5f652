//! Trust at the edges, through the real binary: text from outside (names, labels, options,
//! paths, archive members) never reaches the terminal raw, never splits an
//! error into two, and never floods it.

use std::process::Stdio;

use crate::env::{Out, TestEnv, path_str};

/// How much of an echoed value an error shows (`myvol::text::ECHO_MAX`).
const ECHO: usize = myvol::text::ECHO_MAX;

/// `myvol ARGS` with `input` on its stdin.
fn with_stdin(t: &TestEnv, args: &[&str], input: &[u8]) -> Out {
    use std::io::Write;
    let mut c = t.cmd();
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn myvol");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().expect("wait myvol");
    writer.join().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: t.filter(&String::from_utf8_lossy(&o.stdout)),
        stderr: t.filter(&String::from_utf8_lossy(&o.stderr)),
    }
}

/// Assert one `Error: …` line, with no raw control character, and return it.
#[track_caller]
fn one_clean_line(o: &Out) -> &str {
    assert_eq!(o.stderr.lines().count(), 1, "one error line: {o:#?}");
    assert!(!o.stderr.trim_end().chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)), "{o:?}");
    o.stderr.trim_end()
}

// ---- 1. text from outside -------------------------------------------------------------

#[test]
fn names_are_escaped_one_line_and_cut() {
    let t = TestEnv::new();
    // After `--`, as an unknown name: Docker's `get NAME: no such volume`, escaped.
    t.expect(
        &["volume", "inspect", "--", "ab\t\x1b[31mred"],
        1,
        "[]\n",
        "Error: get ab\\t\\x1b[31mred: no such volume\n",
    );
    // A newline cannot forge a second message; a bidi control cannot reorder the line.
    t.expect(
        &["volume", "rm", "a\nError: forged\u{202e}x"],
        1,
        "",
        "Error: get a\\nError: forged\\u{202e}x: no such volume\n",
    );
    // An invalid name on create: echoed twice, escaped both times (once as Go quotes it).
    t.expect(
        &["volume", "create", "x\x1b]0;pwned\x07"],
        1,
        "",
        "Error: create x\\x1b]0;pwned\\x07: \"x\\x1b]0;pwned\\a\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path\n",
    );
    // 100,000 characters: cut to ECHO_MAX with the length, wherever they are echoed.
    let huge = "a".repeat(100_000);
    let cut = format!("{}…[100000 bytes]", "a".repeat(ECHO));
    t.expect(&["volume", "inspect", &huge], 1, "[]\n", &format!("Error: get {cut}: no such volume\n"));
    let o = t.run(&["volume", "create", &format!("{huge}!")]);
    let cut_bang = format!("{}…[100001 bytes]", "a".repeat(ECHO));
    assert_eq!(
        (o.code, one_clean_line(&o)),
        (
            1,
            format!(
                "Error: create {cut_bang}: \"{}\"…[100001 bytes] includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
                "a".repeat(ECHO)
            )
            .as_str()
        )
    );
    assert!(o.stderr.len() < 3 * ECHO, "{} bytes", o.stderr.len());
    assert_eq!(t.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn labels_options_and_filters_are_escaped() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "--label", "k\x1b[31m=v\nw", "lv"]);
    // Tables escape; JSON escapes by its rules.
    t.expect(
        &["volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}"],
        0,
        "VOLUME NAME   LABELS\nlv            k\\x1b[31m=v\\nw\n",
        "",
    );
    let json = t.ok(&["volume", "inspect", "-f", "{{json .Labels}}", "lv"]);
    assert_eq!(json, "{\"k\\u001b[31m\":\"v\\nw\"}\n");
    // An option the local driver refuses, as Docker quotes it, escaped; a huge one cut.
    t.expect(
        &["volume", "create", "-o", "ty\x1b[31mpe=x", "v1"],
        1,
        "",
        "Error: create v1: invalid option: \"ty\\x1b[31mpe\"\n",
    );
    let key = "k".repeat(50_000);
    let o = t.run(&["volume", "create", "-o", &format!("{key}=1"), "v1"]);
    assert_eq!(one_clean_line(&o), format!("Error: create v1: invalid option: \"{}\"…[50000 bytes]", "k".repeat(ECHO)));
    // A filter key and a filter value.
    t.expect(&["volume", "ls", "--filter", "bo\x1bgus=1"], 1, "", "Error: invalid filter 'bo\\x1bgus'\n");
    t.expect(&["volume", "ls", "--filter", "dangling=\x1b[2J"], 1, "", "Error: invalid filter 'dangling=[\\x1b[2J]'\n");
}

#[test]
fn paths_are_escaped() {
    let t = TestEnv::new();
    let file = t.dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    // --root under a regular file, with a control character.
    let root = format!("{}/x\x1b[31m", file.display());
    let o = t.run(&["--root", &root, "volume", "ls"]);
    assert_eq!(
        (o.code, one_clean_line(&o)),
        (1, format!("Error: open {}/x\\x1b[31m: not a directory", file.display()).as_str())
    );
    // Bind sources of a run, refused before anything runs (--dry-run needs no root).
    let rootfs = t.dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    let rootfs = path_str(&rootfs);
    let missing = format!("{}/no\x1b[31msuch\u{202e}", t.dir.path().display());
    let o = t.run(&["run", "--dry-run", "--mount", &format!("type=bind,src={missing},dst=/x"), rootfs, "true"]);
    assert_eq!(
        (o.code, one_clean_line(&o)),
        (
            125,
            format!(
                "Error: invalid mount config for type \"bind\": bind source path does not exist: {}/no\\x1b[31msuch\\u{{202e}}",
                t.dir.path().display()
            )
            .as_str()
        )
    );
    let o = t.run(&["run", "--dry-run", "-v", "/src:/dst:z\x1b[5m", rootfs, "true"]);
    assert_eq!((o.code, one_clean_line(&o)), (125, "Error: invalid mode: z\\x1b[5m"));
}

#[test]
fn archive_member_names_are_escaped_and_bounded() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "av"]);
    let mut b = tar::Builder::new(Vec::new());
    let mut name = b"../\x1b[31m".to_vec();
    name.extend(std::iter::repeat_n(b'n', 100_000));
    b.append_pax_extensions([("path", &name[..])]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("harmless").unwrap();
    h.set_size(0);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    let archive = b.into_inner().unwrap();
    let o = with_stdin(&t, &["volume", "import", "av", "-"], &archive);
    assert_eq!(o.code, 1, "{o:#?}");
    let line = one_clean_line(&o);
    assert!(line.starts_with("Error: import av: archive member ../\\x1b[31mnnn"), "{line:.200}");
    // However long the name, the line is bounded (by the edge's cut).
    assert!(line.len() < myvol::text::MESSAGE_MAX + 100, "{} bytes", line.len());
    assert!(line.ends_with(" bytes]"), "{}", &line[line.len() - 60..]);
}
