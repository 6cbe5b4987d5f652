//! Command lines → what myvol does with them: the parsed command (as its Debug text, checked
//! by fragments), or the exit status and stderr. Each row is Docker CLI 28's behaviour for the
//! same command line (pflag and cobra), with `docker` read as `myvol`, unless it says
//! otherwise.

use super::*;

/// What a command line gives: `Ok(debug text of the parsed command)`, or the exit status with
/// what goes to stderr (help that goes to stdout is `(0, "stdout: …")`).
fn outcome(args: &[&str]) -> Result<String, (u8, String)> {
    let argv: Vec<OsString> = std::iter::once("myvol").chain(args.iter().copied()).map(OsString::from).collect();
    match parse(argv) {
        Ok(cli) => Ok(format!("{cli:?}")),
        Err(Early::Error(f)) => Err((f.status.code(), rendered(&f))),
        Err(Early::Help { text, stderr: true }) => Err((0, format!("stderr help: {}", text.lines().next().unwrap_or("")))),
        Err(Early::Help { text, stderr: false }) => Err((0, format!("stdout: {}", text.lines().next().unwrap_or("")))),
        Err(Early::Version) => Err((0, "version".to_owned())),
    }
}

/// Command lines that parse, and fragments of what they mean.
#[test]
fn accepted_as_pflag_accepts_them() {
    let cases: &[(&[&str], &[&str])] = &[
        // Booleans: repeated, or with a value ParseBool reads.
        (&["volume", "ls", "-q", "-q"], &["quiet: true"]),
        (&["volume", "ls", "-qq"], &["quiet: true"]),
        (&["volume", "ls", "--quiet=false"], &["quiet: false"]),
        (&["volume", "ls", "-q=false"], &["quiet: false"]),
        (&["volume", "ls", "-q", "--quiet=0"], &["quiet: false"]),
        (&["volume", "ls", "--quiet=f", "-q"], &["quiet: true"]),
        (&["volume", "ls", "--quiet=TRUE"], &["quiet: true"]),
        (&["volume", "ls", "--quiet=T"], &["quiet: true"]),
        (&["volume", "ls", "--quiet=True"], &["quiet: true"]),
        (&["volume", "ls", "--quiet=1"], &["quiet: true"]),
        (&["volume", "ls", "-q=F", "-f", "name=a"], &["quiet: false", "\"name=a\""]),
        (&["volume", "rm", "-f", "-f", "a"], &["force: true"]),
        (&["volume", "rm", "-f=true", "a"], &["force: true"]),
        (&["volume", "rm", "--force=T", "a"], &["force: true"]),
        (&["volume", "prune", "-a", "-a", "-f"], &["all: true", "force: true"]),
        (&["volume", "prune", "-af"], &["all: true", "force: true"]),
        (&["run", "--rm=true", "/"], &["rm: true"]),
        (&["run", "--rm=false", "/"], &["rm: false"]),
        // Values: the last one wins; lists add up.
        (&["volume", "ls", "--format", "a", "--format", "b"], &["format: Some(\"b\")"]),
        (&["volume", "create", "--driver", "a", "-d", "b", "x"], &["driver: \"b\""]),
        (&["volume", "create", "--name", "a", "--name", "b"], &["name_flag: Some(\"b\")"]),
        (&["volume", "create", "-o", "a=1", "--opt=b=2", "-oc=3"], &["opts: [\"a=1\", \"b=2\", \"c=3\"]"]),
        (&["volume", "create", "--name=", "x"], &["name: Some(\"x\")", "name_flag: Some(\"\")"]),
        // A value is the next word, whatever it looks like.
        (&["volume", "ls", "--format", "-q"], &["format: Some(\"-q\")", "quiet: false"]),
        (&["volume", "ls", "--format", "--quiet"], &["format: Some(\"--quiet\")"]),
        (&["volume", "inspect", "-f", "--", "v"], &["format: Some(\"--\")", "names: [\"v\"]"]),
        (&["volume", "ls", "-f=name=x"], &["filters: [\"name=x\"]"]),
        (&["volume", "ls", "-fname=x"], &["filters: [\"name=x\"]"]),
        // `-f=` is `-f` with the value "=" (pflag needs a value after `=`); `--filter=` is "".
        (&["volume", "ls", "-f="], &["filters: [\"=\"]"]),
        (&["volume", "ls", "--filter="], &["filters: [\"\"]"]),
        (&["volume", "create", "-d=", "x"], &["driver: \"=\""]),
        (&["volume", "create", "-o=", "x"], &["opts: [\"=\"]"]),
        (&["volume", "create", "-ox=", "v"], &["opts: [\"x=\"]"]),
        (&["volume", "create", "-d==", "v"], &["driver: \"=\""]),
        // Arguments: `--` ends the flags; `-` and "" are arguments; flags may follow them.
        (&["volume", "rm", "--", "-f"], &["force: false", "names: [\"-f\"]"]),
        (&["volume", "rm", "-"], &["names: [\"-\"]"]),
        (&["volume", "rm", ""], &["names: [\"\"]"]),
        (&["volume", "rm", "a", "-f"], &["force: true", "names: [\"a\"]"]),
        (&["volume", "create", "--", "-ab"], &["name: Some(\"-ab\")"]),
        // Global flags anywhere.
        (&["--root", "/r", "volume", "ls"], &["root: Some(\"/r\")"]),
        (&["volume", "ls", "--root=/r"], &["root: Some(\"/r\")"]),
        (&["--root=/r", "volume", "ls", "--root", "/s"], &["root: Some(\"/s\")"]),
        // `run`: short flags with their value attached; flags end at ROOTFS.
        (&["run", "-v=/h:/data", "/"], &["volumes: [\"/h:/data\"]"]),
        (&["run", "-v/data", "/"], &["volumes: [\"/data\"]"]),
        (&["run", "-e=A=1", "-eB=2", "/"], &["env: [\"A=1\", \"B=2\"]"]),
        (&["run", "-itv", "/d", "/"], &["interactive: true", "tty: true", "volumes: [\"/d\"]"]),
        (&["run", "-w=/w", "/"], &["workdir: Some(\"/w\")"]),
        (&["run", "/", "ls", "-la"], &["args: [\"/\", \"ls\", \"-la\"]"]),
        (&["run", "/", "sh", "-c", "-v", "--rm"], &["rm: false", "args: [\"/\", \"sh\", \"-c\", \"-v\", \"--rm\"]"]),
        (&["run", "--dry-run", "/", "--dry-run"], &["dry_run: true", "args: [\"/\", \"--dry-run\"]"]),
        (&["run", "--", "-dir"], &["args: [\"-dir\"]"]),
        (&["run", "-h", "host", "/"], &["hostname: Some(\"host\")"]),
        (&["run", "--net=none", "/"], &["network: \"none\""]),
        (&["run", "--mount", "type=tmpfs,dst=/t", "/"], &["mounts: [\"type=tmpfs,dst=/t\"]"]),
        // `run IMAGE`: --pull, -q; --rootfs DIR needs no IMAGE, every argument is COMMAND.
        (&["run", "--pull", "never", "-q", "busybox", "sh"], &["pull: \"never\"", "quiet: true", "args: [\"busybox\", \"sh\"]"]),
        (&["run", "busybox"], &["pull: \"missing\"", "rootfs: None", "args: [\"busybox\"]"]),
        (&["run", "--rootfs", "/r"], &["rootfs: Some(\"/r\")", "args: []"]),
        (&["run", "--rootfs=./r", "ls", "-la"], &["rootfs: Some(\"./r\")", "args: [\"ls\", \"-la\"]"]),
        (&["run", "--mount", "type=image,src=busybox,dst=/i", "app"], &["mounts: [\"type=image,src=busybox,dst=/i\"]"]),
        // The cluster-volume flags that do not ask for a cluster volume are ignored, as in Docker.
        (&["volume", "create", "--secret", "k=v", "v"], &["name: Some(\"v\")"]),
        (&["volume", "create", "--topology-required=a=b", "--topology-preferred", "c=d", "v"], &["name: Some(\"v\")"]),
        (&["volume", "ls", "--cluster"], &["cluster: true"]),
        (&["volume", "update", "--availability", "drain", "v"], &["availability: Some(\"drain\")"]),
        (&["version", "--format", "{{.Client.Version}}"], &["Version"]),
    ];
    for (args, fragments) in cases {
        let got = outcome(args).unwrap_or_else(|e| panic!("myvol {}: {e:?}", args.join(" ")));
        for f in *fragments {
            assert!(got.contains(f), "myvol {}: {f:?} not in {got}", args.join(" "));
        }
    }
}

const LS: &str = "Run 'myvol volume ls --help' for more information\n";
const CREATE: &str = "Run 'myvol volume create --help' for more information\n";
const RUN: &str = "Run 'myvol run --help' for more information\n";

/// Command lines that do not parse: the exit status and stderr, Docker's error first.
#[test]
fn refused_as_docker_refuses_them() {
    let err = |msg: &str, hint: &str| format!("Error: {msg}\n{hint}");
    let cases: Vec<(&[&str], u8, String)> = vec![
        // Flags: pflag's words, docker/cli's status (125) and pointer to the help.
        (&["volume", "ls", "-q=x"], 125, err("invalid argument \"x\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing \"x\": invalid syntax", LS)),
        (&["volume", "ls", "--quiet=yes"], 125, err("invalid argument \"yes\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing \"yes\": invalid syntax", LS)),
        (&["volume", "ls", "--quiet="], 125, err("invalid argument \"\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing \"\": invalid syntax", LS)),
        (&["volume", "ls", "--size=2"], 125, err("invalid argument \"2\" for \"--size\" flag: strconv.ParseBool: parsing \"2\": invalid syntax", LS)),
        (&["volume", "ls", "--format"], 125, err("flag needs an argument: --format", LS)),
        (&["volume", "ls", "-f"], 125, err("flag needs an argument: 'f' in -f", LS)),
        (&["volume", "ls", "-qf"], 125, err("flag needs an argument: 'f' in -f", LS)),
        (&["volume", "ls", "-qx"], 125, err("unknown shorthand flag: 'x' in -x", LS)),
        (&["volume", "ls", "-xq"], 125, err("unknown shorthand flag: 'x' in -xq", LS)),
        (&["volume", "ls", "-q="], 125, err("unknown shorthand flag: '=' in -=", LS)),
        (&["volume", "ls", "-fq"], 125, err("invalid argument \"q\" for \"-f, --filter\" flag: bad format of filter (expected name=value)", LS)),
        (&["volume", "create", "-o"], 125, err("flag needs an argument: 'o' in -o", CREATE)),
        (&["volume", "create", "--bogus", "x"], 125, err("unknown flag: --bogus", CREATE)),
        (&["volume", "create", "--bogus=1"], 125, err("unknown flag: --bogus", CREATE)),
        (&["volume", "create", "-ab"], 125, err("unknown shorthand flag: 'a' in -ab", CREATE)),
        (&["volume", "create", "-dx", "-x"], 125, err("unknown shorthand flag: 'x' in -x", CREATE)),
        (&["volume", "ls", "--=x"], 125, err("bad flag syntax: --=x", LS)),
        (&["volume", "ls", "---q"], 125, err("bad flag syntax: ---q", LS)),
        (&["volume", "ls", "-f", "name"], 125, err("invalid argument \"name\" for \"-f, --filter\" flag: bad format of filter (expected name=value)", LS)),
        (&["volume", "create", "--label", "=x"], 125, err("invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name", CREATE)),
        (&["volume", "create", "--label", "a\"b c=d"], 125, err("invalid argument \"a\\\"b c=d\" for \"--label\" flag: label 'a\"b c' contains whitespaces", CREATE)),
        (&["volume", "create", "--limit-bytes", "x"], 125, err("invalid argument \"x\" for \"--limit-bytes\" flag: invalid size: 'x'", CREATE)),
        // A cluster volume: refused as by an engine without swarm (after docker/cli's --name check).
        (&["volume", "create", "--group", "g", "v"], 1, "Error: This node is not a swarm manager. myvol has no swarm mode, so it cannot create cluster volumes (--group)\n".into()),
        (&["volume", "create", "--scope=multi", "--limit-bytes", "1g", "--scope", "single"], 1, "Error: This node is not a swarm manager. myvol has no swarm mode, so it cannot create cluster volumes (--scope, --limit-bytes)\n".into()),
        (&["volume", "create", "--name", "a", "--type", "mount", "b"], 1, "Error: conflicting options: cannot specify a volume-name through both --name and as a positional arg\n".into()),
        (&["volume", "create", "--group", "g", "a", "b"], 1, err("'myvol volume create' requires at most 1 argument", CREATE)),
        (&["volume", "create", "--group"], 125, err("flag needs an argument: --group", CREATE)),
        (&["volume", "ls", "--group", "g"], 125, err("unknown flag: --group", LS)),
        (&["volume", "export", "--compress", "xz", "v"], 125, err("invalid argument \"xz\" for \"--compress\" flag: valid values are none, gzip, zstd", "Run 'myvol volume export --help' for more information\n")),
        (&["volume", "ls", "--version=x"], 125, err("invalid argument \"x\" for \"-V, --version\" flag: strconv.ParseBool: parsing \"x\": invalid syntax", LS)),
        // The first error from the left wins; flag errors come before the argument count.
        (&["volume", "ls", "x", "--bogus"], 125, err("unknown flag: --bogus", LS)),
        (&["volume", "ls", "-q=x", "--bogus"], 125, err("invalid argument \"x\" for \"-q, --quiet\" flag: strconv.ParseBool: parsing \"x\": invalid syntax", LS)),
        (&["volume", "ls", "--quiet=false", "--bogus"], 125, err("unknown flag: --bogus", LS)),
        (&["volume", "ls", "--bogus", "--help"], 125, err("unknown flag: --bogus", LS)),
        (&["volume", "ls", "--help", "--bogus"], 125, err("unknown flag: --bogus", LS)),
        (&["volume", "create", "a", "b", "--label", "=x"], 125, err("invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name", CREATE)),
        // Argument counts: cobra's checks in docker/cli's words (status 1).
        (&["volume", "ls", "--", "-q"], 1, err("'myvol volume ls' accepts no arguments", LS)),
        (&["volume", "ls", "x"], 1, err("'myvol volume ls' accepts no arguments", LS)),
        (&["volume", "ls", "--quiet=false", "x"], 1, err("'myvol volume ls' accepts no arguments", LS)),
        (&["volume", "prune", "x"], 1, err("'myvol volume prune' accepts no arguments", "Run 'myvol volume prune --help' for more information\n")),
        (&["volume", "create", "a", "b"], 1, err("'myvol volume create' requires at most 1 argument", CREATE)),
        (&["volume", "inspect"], 1, err("'myvol volume inspect' requires at least 1 argument", "See 'myvol volume inspect --help' for more information\n")),
        (&["volume", "rm", "-f"], 1, err("'myvol volume rm' requires at least 1 argument", "See 'myvol volume rm --help' for more information\n")),
        (&["volume", "rename", "a"], 1, err("'myvol volume rename' requires 2 arguments", "Run 'myvol volume rename --help' for more information\n")),
        (&["volume", "update"], 1, err("'myvol volume update' requires 1 argument", "Run 'myvol volume update --help' for more information\n")),
        (&["run"], 1, err("'myvol run' requires at least 1 argument", "See 'myvol run --help' for more information\n")),
        (&["run", "--rm"], 1, err("'myvol run' requires at least 1 argument", "See 'myvol run --help' for more information\n")),
        (&["completion"], 1, err("'myvol completion' requires 1 argument", "Run 'myvol completion --help' for more information\n")),
        (&["completion", "tcsh"], 1, err("invalid argument \"tcsh\" for \"myvol completion\": valid values are bash, zsh, fish", "Run 'myvol completion --help' for more information\n")),
        // podman's verbs: podman's words and status, no pointer.
        (&["volume", "exists"], 125, "Error: accepts 1 arg(s), received 0\n".into()),
        (&["volume", "exists", "a", "b"], 125, "Error: accepts 1 arg(s), received 2\n".into()),
        (&["volume", "mount"], 125, "Error: requires at least 1 arg(s), only received 0\n".into()),
        (&["volume", "unmount"], 125, "Error: requires at least 1 arg(s), only received 0\n".into()),
        (&["volume", "export"], 125, "Error: accepts 1 arg(s), received 0\n".into()),
        (&["volume", "import"], 125, "Error: accepts between 1 and 2 arg(s), received 0\n".into()),
        (&["volume", "import", "a", "b", "c"], 125, "Error: accepts between 1 and 2 arg(s), received 3\n".into()),
        // Commands.
        (&["volume", "bogus"], 1, err("unknown command: myvol volume bogus", "Run 'myvol volume --help' for more information\n")),
        (&["volume", "help"], 1, err("unknown command: myvol volume help", "Run 'myvol volume --help' for more information\n")),
        (&["bogus"], 1, err("unknown command: myvol bogus", "Run 'myvol --help' for more information\n")),
        (&["system", "bogus", "-x"], 125, err("unknown shorthand flag: 'x' in -x", "Run 'myvol system --help' for more information\n")),
        // cobra's search for the command takes an unknown flag's next word for its value.
        (&["volume", "--bogus", "ls"], 125, err("unknown flag: --bogus", "Run 'myvol volume --help' for more information\n")),
        (&["volume", "-x", "ls"], 125, err("unknown shorthand flag: 'x' in -x", "Run 'myvol volume --help' for more information\n")),
        (&["volume", "--bogus=1", "ls"], 125, err("unknown flag: --bogus", LS)),
        (&["--bogus", "volume"], 125, err("unknown flag: --bogus", "Run 'myvol --help' for more information\n")),
        (&["help", "bogus"], 1, "Error: unknown help topic: bogus\n".into()),
        (&["help", "volume", "bogus"], 1, "Error: unknown help topic: bogus\n".into()),
        (&["help", "volume", "bogus", "more"], 1, "Error: unknown help topic: bogus more\n".into()),
        (&["volume", "-v"], 125, err("unknown shorthand flag: 'v' in -v", "Run 'myvol volume --help' for more information\n")),
        // `run`: Docker's flags that myvol leaves out, named as such.
        (&["run", "-itd", "/"], 125, err("myvol run does not support -d/--detach", RUN)),
        (&["run", "--name", "x", "/"], 125, err("myvol run does not support --name", RUN)),
        (&["run", "--privileged=true", "/"], 125, err("myvol run does not support --privileged", RUN)),
        (&["run", "-Q", "/"], 125, err("unknown shorthand flag: 'Q' in -Q", RUN)),
        (&["run", "-v"], 125, err("flag needs an argument: 'v' in -v", RUN)),
        (&["run", "--rootfs"], 125, err("flag needs an argument: --rootfs", RUN)),
        (&["run", "--platform", "linux/arm64", "busybox"], 125, err("myvol run does not support --platform", RUN)),
        (&["run", "-q"], 1, err("'myvol run' requires at least 1 argument", "See 'myvol run --help' for more information\n")),
        (&["run", "--mount", "type=volume,src=v", "/"], 125, err("invalid argument \"type=volume,src=v\" for \"--mount\" flag: target is required", RUN)),
        // The image verbs: Docker's flags that myvol leaves out, named as such; their arguments.
        (&["images", "--tree"], 125, err("myvol images does not support --tree", "Run 'myvol images --help' for more information\n")),
        (&["image", "ls", "--tree"], 125, err("myvol image ls does not support --tree", "Run 'myvol image ls --help' for more information\n")),
        (&["image", "list", "--tree=true"], 125, err("myvol image ls does not support --tree", "Run 'myvol image ls --help' for more information\n")),
        (&["rmi", "--platform", "linux/amd64", "x"], 125, err("myvol rmi does not support --platform", "Run 'myvol rmi --help' for more information\n")),
        (&["image", "rm", "--platform=linux", "x"], 125, err("myvol image rm does not support --platform", "Run 'myvol image rm --help' for more information\n")),
        (&["image", "inspect", "--platform", "linux", "x"], 125, err("myvol image inspect does not support --platform", "Run 'myvol image inspect --help' for more information\n")),
        (&["pull", "--tree", "x"], 125, err("unknown flag: --tree", "Run 'myvol pull --help' for more information\n")),
        (&["pull"], 1, err("'myvol pull' requires 1 argument", "Run 'myvol pull --help' for more information\n")),
        (&["tag", "a"], 1, err("'myvol tag' requires 2 arguments", "Run 'myvol tag --help' for more information\n")),
        (&["images", "a", "b"], 1, err("'myvol images' requires at most 1 argument", "Run 'myvol images --help' for more information\n")),
        (&["rmi"], 1, err("'myvol rmi' requires at least 1 argument", "See 'myvol rmi --help' for more information\n")),
        (&["logout", "a", "b"], 1, err("'myvol logout' requires at most 1 argument", "Run 'myvol logout --help' for more information\n")),
    ];
    for (args, status, stderr) in cases {
        assert_eq!(outcome(args), Err((status, stderr)), "myvol {}", args.join(" "));
    }
}

/// Help and the version: `--help`/`-h` and `myvol help …` on stdout; a command group without
/// a subcommand prints its help on stderr and exits 0 (Docker's `ShowHelp`).
#[test]
fn help_and_version() {
    let cases: &[(&[&str], &str)] = &[
        (&["--help"], "stdout: A Docker-compatible volume manager for Linux, with no daemon."),
        (&["-h"], "stdout: A Docker-compatible volume manager for Linux, with no daemon"),
        (&["help"], "stdout: A Docker-compatible volume manager for Linux, with no daemon."),
        (&["help", "volume", "create"], "stdout: Create a volume"),
        (&["volume", "create", "--help"], "stdout: Create a volume"),
        (&["volume", "create", "-h"], "stdout: Create a volume"),
        (&["volume", "ls", "extra", "--help"], "stdout: List volumes"),
        (&["volume", "ls", "--help=false", "--help"], "stdout: List volumes"),
        (&["run", "--help"], "stdout: Create and run a new container from an image (or a root filesystem directory)"),
        (&["volume"], "stderr help: Manage volumes"),
        (&["--root", "/r", "volume"], "stderr help: Manage volumes"),
        (&[], "stderr help: A Docker-compatible volume manager for Linux, with no daemon"),
        (&["-V"], "version"),
        (&["-v"], "version"),
        (&["--version"], "version"),
        (&["volume", "ls", "--version"], "version"),
    ];
    for (args, want) in cases {
        assert_eq!(outcome(args), Err((0, (*want).to_owned())), "myvol {}", args.join(" "));
    }
    // `--help=false` alone asks for nothing: the command runs.
    assert!(outcome(&["volume", "ls", "--help=false"]).is_ok());
}

/// `--root` and `--version` are in `myvol --help` only; every command's arguments say what
/// they are.
#[test]
fn help_texts() {
    let root = help(&["myvol".into()], false).unwrap();
    assert!(root.contains("--root") && root.contains("--version"), "{root}");
    let mut all = Cli::command();
    all.build();
    let mut paths = Vec::new();
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_owned());
            walk(sub, p.clone(), out);
            out.push(p);
        }
    }
    walk(&all, vec!["myvol".into()], &mut paths);
    for path in &paths {
        let text = help(path, true).unwrap();
        assert!(!text.contains("--root <") && !text.contains("--version"), "{path:?}: {text}");
    }
    let mut cmd = all.clone();
    for path in &paths {
        cmd = all.clone();
        let mut c = &mut cmd;
        for w in &path[1..] {
            c = c.find_subcommand_mut(w).unwrap();
        }
        for p in c.get_positionals() {
            assert!(p.get_help().is_some(), "{path:?}: argument {} has no description", p.get_id());
        }
    }
    drop(cmd);
    assert!(help(&["myvol".into(), "bogus".into()], false).is_none());
}
