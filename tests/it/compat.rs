//! Replays of what the real Docker CLI printed (tests/fixtures/docker, recorded with
//! tests/fixtures/record-docker.sh against Engine 20.10 and CLI 28): each case runs the same
//! arguments through myvol, on the same store state the recording script set up, and
//! compares exit code, stdout and stderr after normalisation:
//! - Docker's daemon errors (`Error response from daemon: X`) and CLI errors (`docker: X` plus
//!   usage lines) are one line `Error: X` in myvol, with `docker` read as `myvol`;
//! - timestamps and 64-hex ids (anonymous names, container and lease ids) are masked; the
//!   order of `Deleted Volumes:` (Go map order in Docker) is sorted;
//! - where myvol follows current Docker (Engine 28) and the recording engine is 20.10, the
//!   case says so and states the difference instead of being compared blindly.

use std::collections::HashMap;

use myvol::store::{Lease, Store};

use crate::env::{Fixture, TestEnv, mask_ids, mask_times};

#[track_caller]
fn fixture(case: &str) -> Fixture {
    fixture_in("docker", case)
}

#[track_caller]
fn fixture_in(set: &str, case: &str) -> Fixture {
    crate::env::fixture(&format!("{set}/{case}.json"))
}

/// Docker's stderr as myvol prints it: one `Error: …` line per error; of the usage text
/// that follows a usage error, only its last line, which says where to read more (Docker's
/// `SRun '…` typo in "requires at most" corrected).
fn docker_stderr(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with(' ') {
            continue;
        }
        if ["Run '", "See '", "SRun '"].iter().any(|p| line.starts_with(p)) {
            out.push_str(
                &line.strip_prefix('S').filter(|l| l.starts_with("Run")).unwrap_or(line).replace("'docker ", "'myvol "),
            );
            out.push('\n');
            continue;
        }
        let body =
            line.strip_prefix("Error response from daemon: ").or_else(|| line.strip_prefix("docker: ")).unwrap_or(line);
        // Engine 20.10 capitalises this message; current Docker does not.
        let body = body
            .replace("Invalid filter", "invalid filter")
            .replace("'docker ", "'myvol ")
            .replace("unknown command: docker ", "unknown command: myvol ");
        out.push_str("Error: ");
        out.push_str(&body);
        out.push('\n');
    }
    out
}

/// Mask what differs between any two runs, and sort Go-map-ordered lists.
fn normalize(s: &str) -> String {
    let s = mask_ids(&mask_times(s));
    match s.split_once("Deleted Volumes:\n") {
        Some((head, rest)) => {
            let (names, tail) = rest.split_once("\n\n").unwrap_or((rest, ""));
            let mut names: Vec<&str> = names.lines().collect();
            names.sort();
            format!("{head}Deleted Volumes:\n{}\n\n{tail}", names.join("\n"))
        }
        None => s,
    }
}

/// One replay scenario: a store, the leases standing in for Docker's containers, and the
/// anonymous names created so far (to substitute for Docker's in later commands).
pub(crate) struct Replay {
    t: TestEnv,
    leases: HashMap<String, Lease>,
    anon: Vec<String>,
    failures: Vec<String>,
}

impl Replay {
    pub(crate) fn new() -> Replay {
        Replay { t: TestEnv::with_docker_root_len(), leases: HashMap::new(), anon: Vec::new(), failures: Vec::new() }
    }

    pub(crate) fn setup(&mut self, args: &[&str]) -> String {
        let out = self.t.ok(args);
        if args.len() == 2 && args[1] == "create" {
            self.anon.push(out.trim().to_owned());
        }
        out
    }

    /// A container using the volume, in Docker; a lease holder in myvol.
    pub(crate) fn hold(&mut self, volume: &str) {
        let lease = Store::new(&self.t.root).lease(&volume.parse().unwrap(), "compat").unwrap();
        self.leases.insert(volume.to_owned(), lease);
    }

    pub(crate) fn release(&mut self, volume: &str) {
        self.leases.remove(volume);
    }

    /// Replay `case`, optionally with a changed command line and expected output.
    pub(crate) fn case_with(
        &mut self,
        case: &str,
        edit_args: impl FnOnce(&mut Vec<String>),
        edit_expected: impl FnOnce(&mut (i32, String, String)),
    ) {
        let f = fixture(case);
        assert_eq!(f.cmd[0], "docker", "{case}");
        let mut args: Vec<String> = f.cmd[1..].to_vec();
        // Docker's anonymous names in the command become ours, in order.
        let hex = regex::Regex::new("^[0-9a-f]{64}$").unwrap();
        let mut anon = self.anon.iter();
        for a in args.iter_mut().filter(|a| hex.is_match(a)) {
            *a = anon.next().expect("no anonymous volume to stand in").clone();
        }
        edit_args(&mut args);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = match &f.stdin {
            Some(s) => self.t.run_stdin(&argv, s),
            None => self.t.run(&argv),
        };
        if argv.len() == 2 && argv[1] == "create" && o.code == 0 {
            self.anon.push(o.stdout.trim().to_owned());
        }
        let mut want = (f.exit, normalize(&f.stdout), mask_ids(&mask_times(&docker_stderr(&f.stderr))));
        edit_expected(&mut want);
        // Who uses a volume is myvol's own line after Docker's "in use" error (its wording is
        // tested in tests/it/volume.rs).
        let holders = regex::Regex::new(r"(?m)^Used by .*$").unwrap();
        let got = (
            o.code,
            normalize(&o.stdout),
            holders.replace_all(&mask_ids(&mask_times(&o.stderr)), "Used by <HOLDER>").into_owned(),
        );
        if got != want {
            self.failures.push(format!("case {case}: myvol {}\n  want: {:?}\n  got:  {:?}", argv.join(" "), want, got));
        }
    }

    pub(crate) fn case(&mut self, case: &str) {
        self.case_with(case, |_| {}, |_| {});
    }

    /// Replay `case` expecting `want` (status, stdout, stderr) where myvol follows Engine 28
    /// and the recording engine (20.10, API 1.41) answered otherwise.
    pub(crate) fn case_engine28(&mut self, case: &str, want: (i32, &str, &str)) {
        self.case_with(case, |_| {}, |w| *w = (want.0, want.1.to_owned(), want.2.to_owned()));
    }

    /// A case whose output is help text: the same status, the help on the same stream (stdout
    /// for `--help`, stderr for a command group without its subcommand), naming the command.
    pub(crate) fn help_case(&mut self, case: &str, names: &str) {
        let f = fixture(case);
        let argv: Vec<&str> = f.cmd[1..].iter().map(String::as_str).collect();
        let o = self.t.run(&argv);
        let want = (f.exit, !f.stdout.is_empty(), !f.stderr.is_empty());
        let got = (o.code, !o.stdout.is_empty(), !o.stderr.is_empty());
        let text = if o.stdout.is_empty() { &o.stderr } else { &o.stdout };
        if got != want || !text.contains(names) {
            self.failures.push(format!(
                "case {case}: myvol {}\n  want: (status, stdout?, stderr?) {want:?}, help naming {names:?}\n  got: {got:?}\n{text}",
                argv.join(" ")
            ));
        }
    }

    pub(crate) fn cases(&mut self, cases: &[&str]) {
        for c in cases {
            self.case(c);
        }
    }

    #[track_caller]
    pub(crate) fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} case(s) differ from Docker:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

#[test]
fn create_as_docker() {
    let mut r = Replay::new();
    r.cases(&["create-named", "create-again", "create-again-labels", "create-again-inspect", "create-anon"]);
    // Engine ≥ 23 labels anonymous volumes; the 20.10 recording has `"Labels": null`.
    r.case_with(
        "create-anon-inspect",
        |_| {},
        |w| {
            w.1 = w.1.replace(
                "\"Labels\": null",
                "\"Labels\": {\n            \"com.docker.volume.anonymous\": \"\"\n        }",
            )
        },
    );
    r.cases(&[
        "create-labels",
        "create-labels-inspect",
        "create-label-eq-in-value",
        "create-label-eq-in-value-inspect",
        "create-tmpfs",
        "create-tmpfs-inspect",
        "create-opt-bogus",
        "create-opt-o-only",
        "create-opt-type-only",
        "create-opt-device-only",
        "create-opt-no-value",
        "create-size-abc",
        "create-driver-missing",
        "create-driver-local",
        "create-driver-empty",
        "create-driver-empty-inspect",
        "create-name-short",
        "create-name-slash",
        "create-name-dash",
        "create-name-dash-noend",
        "create-name-space",
        "create-name-dot-first",
        "create-name-underscore-first",
        "create-name-300",
        "create-name-255",
        "create-label-empty-key",
        "create-label-space",
        "create-label-space-value",
        "create-two-args",
        "create-name-flag",
        "create-name-conflict",
        "create-unknown-flag",
    ]);
    // Docker's engine without XFS project quotas refuses `size`; myvol enforces it with a
    // project quota or a disk image, which needs root.
    let root = rustix::process::geteuid().is_root();
    r.case_with(
        "create-size-10m",
        |_| {},
        |w| {
            if root {
                *w = (0, "fx-size10m\n".into(), String::new());
            } else {
                w.2 = w.2.replace(
                    "no quota support\n",
                    "no quota support: a size limit needs root (a project quota, or a disk image on a loop device)\n",
                );
            }
        },
    );
    r.finish();
}

#[test]
fn inspect_as_docker() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "fx-plain"]);
    r.setup(&[
        "volume",
        "create",
        "--label",
        "a=b",
        "--label",
        "c",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=10m",
        "fx-lab",
    ]);
    r.cases(&[
        "inspect-plain",
        "inspect-labels-options",
        "inspect-two",
        "inspect-some-missing",
        "inspect-missing",
        "inspect-two-missing",
        "inspect-prefix",
        "inspect-f-name",
        "inspect-f-name-missing",
        "inspect-f-json",
        "inspect-f-json-labels",
        "inspect-f-json-labels-none",
        "inspect-f-json-options-none",
        "inspect-f-labels",
        "inspect-f-labels-none",
        "inspect-f-options",
        "inspect-f-index-label",
        "inspect-f-index-label-missing",
        "inspect-f-index-label-nil",
        "inspect-f-label-func",
        "inspect-f-syntax-error",
        "inspect-f-bogus-field",
        "inspect-format-json",
        "inspect-format-json-one",
        "inspect-format-json-missing",
        "inspect-f-createdat",
        "inspect-f-status",
        "inspect-f-dot",
        "inspect-f-dot-labels",
        "inspect-f-mountpoint",
        "inspect-f-literal",
        "inspect-f-empty",
        "inspect-no-args",
    ]);
    r.finish();
}

#[test]
fn ls_as_docker() {
    let mut r = Replay::new();
    r.case("ls-none");
    for v in ["fx-1", "fx-01", "fx-1a", "fx-a", "fx-B", "fx-b2"] {
        r.setup(&["volume", "create", v]);
    }
    r.setup(&["volume", "create", "--label", "a=b", "--label", "c", "fx-2"]);
    r.setup(&["volume", "create", "--label", "a=zz", "fx-10"]);
    r.setup(&["volume", "create", "--label", "a=b", "FX-b"]);
    r.setup(&["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "fx-opt"]);
    r.hold("fx-10");
    // Not replayed: ls-default-all lists the recording daemon's other volumes;
    // ls-filter-dangling-both is accepted as "true" by Engine 20.10 and refused by current
    // Docker (`invalid filter 'dangling=[false true]'`), which myvol follows.
    r.cases(&[
        "ls-table",
        "ls-q",
        "ls-format-table",
        "ls-format-json",
        "ls-format-json-dot",
        "ls-format-table-all",
        "ls-format-table-cluster",
        "ls-format-label",
        "ls-format-table-label",
        "ls-format-table-only-name",
        "ls-format-no-table-tab",
        "ls-format-raw",
        "ls-format-bogus-field",
        "ls-format-syntax-error",
        "ls-q-format",
        "ls-filter-name",
        "ls-filter-name-anchored",
        "ls-filter-name-case",
        "ls-filter-name-bad-regex",
        "ls-filter-name-empty",
        "ls-filter-name-or",
        "ls-filter-driver",
        "ls-filter-driver-prefix",
        "ls-filter-label",
        "ls-filter-label-value",
        "ls-filter-label-nomatch",
        "ls-filter-label-and",
        "ls-filter-label-empty-value",
        "ls-filter-dangling-true",
        "ls-filter-dangling-false",
        "ls-filter-dangling-1",
        "ls-filter-dangling-yes",
        "ls-filter-bogus",
        "ls-filter-label-not",
        "ls-filter-no-equals",
        "ls-filter-name-and-label",
        "ls-empty",
        "ls-empty-q",
        "ls-empty-json",
        "ls-args",
        "list-alias",
    ]);
    r.finish();
}

#[test]
fn labels_with_control_characters_as_docker() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "--label", "t=a\tb", "--label", "n=c\nd", "fx-weird"]);
    r.setup(&["volume", "create", "fx-weirdz"]);
    r.cases(&["ls-weird-labels-json", "ls-weird-labels-inspect"]);
    // Docker writes the raw tab and newline into its table, which breaks the columns; myvol
    // escapes them so that every row stays one line.
    r.case_with(
        "ls-weird-labels-table",
        |_| {},
        |w| {
            w.1 = "VOLUME NAME   LABELS          DRIVER\nfx-weird      n=c\\nd,t=a\\tb   local\nfx-weirdz                     local\n"
                .into()
        },
    );
    r.finish();
}

#[test]
fn rm_as_docker() {
    let mut r = Replay::new();
    for v in ["fx-r1", "fx-r2", "fx-r3", "fx-used"] {
        r.setup(&["volume", "create", v]);
    }
    r.cases(&["rm-one", "rm-some-missing"]);
    r.setup(&["volume", "create", "fx-r4"]);
    r.cases(&["rm-twice", "rm-missing", "rm-f-missing"]);
    r.hold("fx-used");
    let holder = |w: &mut (i32, String, String)| w.2.push_str("Used by <HOLDER>\n");
    r.case_with("rm-in-use", |_| {}, holder);
    r.case_with("rm-in-use-f", |_| {}, holder);
    r.release("fx-used");
    r.cases(&["rm-after-container-rm", "rm-no-args", "remove-alias"]);
    r.finish();
}

/// The command line: pflag's rules for flags (booleans with values, repeats, attached values,
/// missing values), cobra's for commands and arguments and which error comes first, the names
/// Docker's client trims or refuses, and the cluster-volume flags.
#[test]
fn command_line_as_docker() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "fx-a"]);
    r.setup(&["volume", "create", "fx-sp"]);
    r.cases(&[
        "cli-bool-repeat",
        "cli-bool-cluster",
        "cli-bool-false",
        "cli-bool-short-false",
        "cli-bool-upper",
        "cli-bool-t",
        "cli-bool-bad",
        "cli-bool-bad-long",
        "cli-bool-empty",
        "cli-rm-f-twice",
        "cli-rm-f-true",
        "cli-rm-force-T",
        "cli-format-twice",
        "cli-format-dash-value",
        "cli-filter-attached",
        "cli-filter-equals",
        "cli-driver-twice",
        "cli-name-empty-flag",
        "cli-name-flag-and-empty",
        "cli-format-missing",
        "cli-filter-missing",
        "cli-opt-missing",
        "cli-bogus-equals",
        "cli-bad-flag-syntax",
        "cli-label-quote",
        "cli-dashdash-arg",
        "cli-arg-then-bad-flag",
        "cli-bad-bool-then-bad-flag",
        "cli-help-then-bad-flag",
        "cli-help-bogus",
        "cli-bogus-command",
        "cli-volume-help-word",
        "cli-version-args",
        "cli-rm-empty",
        "cli-rm-f-empty",
        "cli-rm-blank",
        "cli-inspect-empty",
        "cli-inspect-empty-and-one",
        "cli-inspect-spaces",
        "cli-rm-spaces",
        "cli-create-empty",
        "cli-create-driver-missing-existing",
        "cli-create-limit-bytes-bad",
        "volume-bogus-subcommand",
        "cli-filter-long-equals",
        "cli-flag-after-arg",
        "cli-format-after-format",
        "cli-quiet-then-false",
        "cli-filter-empty",
        "cli-label-twice",
        "cli-label-twice-inspect",
        "cli-label-empty",
        "cli-opt-empty",
        "cli-opt-empty-key",
        "cli-opt-twice",
        "cli-opt-twice-inspect",
        "cli-driver-empty-equals",
        "cli-create-twice-same",
        "cli-name-unicode",
        "cli-volume-bogus-flag",
        "cli-system-df-bogus",
        "cli-system-bogus",
        "cli-version-format",
        "cli-driver-equals-empty",
        "cli-bool-equals-empty",
        "cli-bool-then-unknown",
        "cli-unknown-then-bool",
        "cli-bool-then-missing",
        "cli-value-takes-rest",
        "cli-unknown-takes-command",
    ]);
    // docker/cli reports a flag given between `volume` and `ls` alone, status 1 (its own
    // top-level parsing); myvol as `ls`'s flag error, as for any other place of the flag.
    r.case_with(
        "cli-flag-before-command",
        |_| {},
        |w| {
            *w = (
                125,
                String::new(),
                "Error: unknown flag: --bogus\nRun 'myvol volume ls --help' for more information\n".into(),
            )
        },
    );
    r.case_engine28("cli-short-equals-empty", (1, "", "Error: invalid filter\n"));
    // Docker echoes the name raw, a tab included; myvol escapes what it echoes (docs/security.md).
    r.case_with("cli-inspect-tab", |_| {}, |w| w.2 = w.2.replace('\t', "\\t"));
    r.help_case("cli-volume-h", "myvol volume <COMMAND>");
    r.help_case("cli-create-help-extra", "myvol volume create");
    // The prompt: only `y` or `Y` (spaces around it trimmed) confirms. API 1.41 prompts for
    // "all local volumes"; Engine 28 without -a for anonymous ones.
    for case in ["cli-prune-force-false", "cli-prune-yes-word", "cli-prune-y-upper", "cli-prune-y-spaces"] {
        r.case_with(case, |_| {}, |w| w.1 = w.1.replace("remove all local volumes", "remove anonymous local volumes"));
    }
    r.help_case("cli-arg-then-help", "myvol volume ls");
    r.help_case("cli-ls-help", "myvol volume ls");
    r.help_case("cli-help-volume-create", "myvol volume create");
    r.help_case("cli-no-command", "myvol [OPTIONS] <COMMAND>");
    r.help_case("cli-volume-help", "myvol volume <COMMAND>");
    r.help_case("volume-no-subcommand", "myvol volume <COMMAND>");
    r.help_case("create-help", "myvol volume create");
    // Cluster volumes: API 1.41 refuses the flags (`requires API version 1.42`); an Engine 28
    // without swarm refuses a cluster volume, ignores --secret alone (docker/cli tests a flag
    // named "secrets"), lists no cluster volume, and `update` looks the volume up first.
    r.case_engine28(
        "cli-create-cluster",
        (1, "", "Error: This node is not a swarm manager. myvol has no swarm mode, so it cannot create cluster volumes (--group)\n"),
    );
    r.case_engine28("cli-create-secret", (0, "fx-cs\n", ""));
    r.case_engine28("cli-ls-cluster", (0, "VOLUME NAME   GROUP     DRIVER    AVAILABILITY   STATUS\n", ""));
    r.case_engine28("cli-update-missing", (1, "", "Error: get fx-missing: no such volume\n"));
    r.case_engine28("volume-update", (1, "", "Error: can only update cluster volumes\n"));
    r.finish();
}

/// Filters whose words or order changed after Engine 20.10: myvol follows Engine 28
/// (daemon/volume/service: `GetBoolOrDefault` for dangling, `withPrune` for all, read before
/// the keys are checked; the CLI's own -a/--filter all check first).
#[test]
fn filters_as_engine_28() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "fx-f1"]);
    r.cases(&["filter-dangling-upper", "filter-dangling-true-yes", "filter-dangling-empty", "filter-key-case"]);
    r.case_engine28("filter-empty-key", (1, "", "Error: invalid filter\n"));
    r.case_engine28("prune-filter-all-T", (0, "Total reclaimed space: 0B\n", ""));
    let not_bool = "Error: invalid filter 'all': strconv.ParseBool: parsing \"yes\": invalid syntax\n";
    r.case_engine28("prune-filter-all-yes", (1, "", not_bool));
    r.case_engine28("prune-filter-all-and-bogus", (1, "", not_bool));
    r.case_engine28(
        "prune-filter-all-twice",
        (1, "", "Error: invalid filter 'all=[0 1]': only one value is expected\n"),
    );
    r.case_engine28(
        "prune-a-filter-all-0",
        (1, "", "Error: conflicting options: cannot specify both --all and --filter all=1\n"),
    );
    r.t.expect(&["volume", "ls", "-q"], 0, "fx-f1\n", "");
    r.finish();
}

/// A change to an expected (status, stdout, stderr).
type Edit = dyn Fn(&mut (i32, String, String));

/// podman's verbs (exists, mount, unmount, export, import): podman's argument counts and
/// words where myvol takes what podman takes; the differences are myvol's on purpose
/// (docs/volume.md).
#[test]
fn podman_verbs_as_podman() {
    let t = TestEnv::new();
    t.ok(&["volume", "create", "fx-a"]);
    let mut failures = Vec::new();
    let podman = |case: &str, edit: &Edit| {
        let f = fixture_in("podman", case);
        assert_eq!(f.cmd[..2], ["podman", "volume"], "{case}");
        let argv: Vec<&str> = f.cmd[1..].iter().map(String::as_str).collect();
        let o = t.run(&argv);
        // podman's pointer after a flag error is myvol's (Docker's) line.
        let stderr = regex::Regex::new(r"(?m)^See 'podman (.*)'$")
            .unwrap()
            .replace_all(&f.stderr, "Run 'myvol $1' for more information")
            .into_owned();
        let mut want = (f.exit, f.stdout, stderr);
        edit(&mut want);
        let got = (o.code, t.filter(&o.stdout), o.stderr);
        (got != want)
            .then(|| format!("case podman/{case}: myvol {}\n  want: {want:?}\n  got:  {got:?}", argv.join(" ")))
    };
    let same = &|_: &mut (i32, String, String)| {};
    let missing =
        &|w: &mut (i32, String, String)| *w = (1, String::new(), "Error: get fx-missing: no such volume\n".into());
    let several = &|w: &mut (i32, String, String)| w.2 = "Error: requires at least 1 arg(s), only received 0\n".into();
    let import_range = |n: usize| {
        move |w: &mut (i32, String, String)| w.2 = format!("Error: accepts between 1 and 2 arg(s), received {n}\n")
    };
    let (import0, import3) = (import_range(0), import_range(3));
    let cases: Vec<(&str, &Edit)> = vec![
        ("exists-empty", same),
        ("exists-no-args", same),
        ("exists-two", same),
        ("export-no-args", same),
        ("ls-bool-bad", same),
        // myvol's mount and unmount take one or more volumes; a missing volume is worded as
        // in Docker's other verbs, exit 1; import's FILE may be absent (standard input).
        ("mount-no-args", several),
        ("unmount-no-args", several),
        ("mount-missing", missing),
        ("export-missing", missing),
        ("import-no-args", &import0),
        ("import-three", &import3),
    ];
    for (case, edit) in cases {
        failures.extend(podman(case, edit));
    }
    assert!(failures.is_empty(), "{} case(s) differ from podman:\n{}", failures.len(), failures.join("\n"));
}

/// Engine 20.10 (API 1.41) prunes named volumes too; current Docker only does so with `-a`.
/// The cases that depend on it are replayed with `-a` added, which selects the same volumes.
fn with_all(args: &mut Vec<String>) {
    args.insert(2, "-a".into());
}

#[test]
fn prune_as_docker() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "fx-pn1"]);
    // Not confirming: the prompt, then nothing, exit 0. Against API 1.41 the prompt says
    // "all local volumes", as myvol's does with `-a`.
    r.case_with("prune-no-f-devnull", with_all, |_| {});
    r.case_with("prune-no-f-stdin-n", with_all, |_| {});
    r.case("prune-after-no");
    r.case_with("prune-no-f-stdin-y", with_all, |_| {});
    r.t.ok(&["volume", "rm", "-f", "fx-pn1"]);

    r.setup(&["volume", "create"]);
    r.setup(&["volume", "create", "fx-p-named"]);
    r.setup(&["volume", "create", "--label", "a=b", "fx-p-lab"]);
    r.setup(&["volume", "create", "fx-p-used"]);
    r.setup(&["volume", "create", "fx-p-data"]);
    r.setup(&["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "fx-p-opt"]);
    r.hold("fx-p-used");
    std::fs::write(r.t.data("fx-p-data").join("f"), vec![0u8; 1000]).unwrap();
    r.case_with("prune-f", with_all, |_| {});
    r.case("prune-f-nothing");
    r.cases(&["prune-filter-dangling", "prune-filter-bogus", "prune-args"]);
    r.release("fx-p-used");
    r.t.ok(&["volume", "rm", "fx-p-used", "fx-p-opt"]);

    for (l, v) in [("a=b", "fx-pl-ab"), ("a=c", "fx-pl-ac"), ("a", "fx-pl-a")] {
        r.setup(&["volume", "create", "--label", l, v]);
    }
    r.setup(&["volume", "create", "fx-pl-none"]);
    r.case_with("prune-filter-label-value", with_all, |_| {});
    r.case_with("prune-filter-label", with_all, |_| {});
    r.case("prune-filter-label-after");
    r.t.ok(&["volume", "rm", "fx-pl-none"]);

    for (l, v) in [("a=b", "fx-pl-ab"), ("a=c", "fx-pl-ac")] {
        r.setup(&["volume", "create", "--label", l, v]);
    }
    r.setup(&["volume", "create", "fx-pl-none"]);
    r.case_with("prune-filter-label-not", with_all, |_| {});
    r.case("prune-filter-label-not-after");
    r.t.ok(&["volume", "rm", "fx-pl-ab", "fx-pl-ac"]);

    for (l, v) in [("a=b", "fx-pl-ab"), ("a=c", "fx-pl-ac")] {
        r.setup(&["volume", "create", "--label", l, v]);
    }
    r.setup(&["volume", "create", "fx-pl-none"]);
    r.case_with("prune-filter-label-not-value", with_all, |_| {});
    r.case("prune-filter-label-not-value-after");
    r.finish();
}
