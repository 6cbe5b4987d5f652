//! The command line read as Docker's CLI reads it: cobra finds the command, pflag parses its
//! flags, then cobra checks the number of arguments. The flags themselves are clap's (this
//! module reads the built clap tree); only the rules are pflag's:
//!
//! - `--flag=value`, `--flag value`, `-f value`, `-fvalue`, `-f=value`; a boolean takes no
//!   value unless it is attached with `=` (`--quiet=false`, `-q=0`), read with Go's
//!   `strconv.ParseBool`; short booleans cluster (`-qf x`);
//! - a flag's value is the next word whatever it looks like (`--format -q`);
//! - a flag given twice: the last value wins (lists append);
//! - `--` ends the flags; `-` alone is an argument;
//! - the first error, left to right, is the one reported; flag errors come before `--help`,
//!   which comes before the argument count;
//! - `run` stops reading flags at its first argument (IMAGE), as `docker run` does; it needs
//!   one unless `--rootfs` names the root filesystem.
//!
//! The result is either Docker's error, or what the command line means, written so that clap
//! reads it the same way (flags as `--long=value`, booleans settled, arguments after `--`).

use std::collections::BTreeMap;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};
use myvol::text::go_quote;

use super::UsageError;
use super::{cluster, image_flags, run_flags};
use crate::commands::ExitStatus;

/// What a command line asks for, once it has passed pflag's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run the command: the command line in a form clap reads as pflag did.
    Run(Vec<String>),
    /// `-h` (false) or `--help` (true): the command's help, on stdout; `--help` gives the
    /// long descriptions.
    Help(bool),
    /// `-V`, `--version`.
    Version,
    /// A command group without a subcommand (`myvol volume`): its help, on stderr, exit 0
    /// (Docker's `ShowHelp`).
    GroupHelp,
    /// `myvol help [COMMAND…]`: that command's help, on stdout.
    HelpTopic(Vec<String>),
}

/// The command reached (`["myvol", "volume", "ls"]`) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub path: Vec<String>,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Value,
    Help,
    Version,
}

/// One flag of the command being parsed.
struct Flag<'a> {
    arg: &'a Arg,
    kind: Kind,
    /// One of `volume create`'s cluster-volume flags ([`cluster`]): known, never given to clap.
    cluster: bool,
}

impl Flag<'_> {
    /// pflag's name for the flag in messages: `-q, --quiet`, or `--format`.
    fn display(&self) -> String {
        match (self.arg.get_short(), self.arg.get_long()) {
            (Some(s), Some(l)) => format!("-{s}, --{l}"),
            (None, Some(l)) => format!("--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, None) => self.arg.get_id().to_string(),
        }
    }

    /// The flag as clap reads it, with its value attached.
    fn canonical(&self, value: Option<&str>) -> String {
        let name = match (self.arg.get_long(), self.arg.get_short()) {
            (Some(l), _) => format!("--{l}"),
            (None, Some(s)) => format!("-{s}"),
            (None, None) => unreachable!("a flag has a long or a short name"),
        };
        match value {
            Some(v) => format!("{name}={v}"),
            None => name,
        }
    }
}

/// The flags a command accepts: its own, and the global ones clap propagated to it.
struct Flags<'a>(Vec<Flag<'a>>);

impl<'a> Flags<'a> {
    fn of(cmd: &'a Command) -> Flags<'a> {
        Flags(
            cmd.get_arguments()
                .filter(|a| !a.is_positional())
                .map(|arg| {
                    let kind = match arg.get_action() {
                        ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count => Kind::Bool,
                        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong => Kind::Help,
                        ArgAction::Version => Kind::Version,
                        _ => Kind::Value,
                    };
                    Flag { arg, kind, cluster: false }
                })
                .collect(),
        )
    }

    fn long(&self, name: &str) -> Option<&Flag<'a>> {
        self.0
            .iter()
            .find(|f| f.arg.get_long() == Some(name) || f.arg.get_all_aliases().is_some_and(|a| a.contains(&name)))
    }

    fn short(&self, c: char) -> Option<&Flag<'a>> {
        self.0
            .iter()
            .find(|f| f.arg.get_short() == Some(c) || f.arg.get_all_short_aliases().is_some_and(|a| a.contains(&c)))
    }

    fn version(&self) -> Option<&Flag<'a>> {
        self.0.iter().find(|f| f.kind == Kind::Version)
    }

    /// Whether cobra's stripFlags takes the word after `tok` for its value when it looks for
    /// the command's name: after `--flag` or a lone `-f` without `=`, unless the flag is known
    /// to be a boolean (an unknown one is taken to have a value).
    fn takes_next(&self, tok: &str) -> bool {
        if tok.contains('=') {
            return false;
        }
        let flag = if let Some(long) = tok.strip_prefix("--") {
            self.long(long)
        } else {
            let mut c = tok.chars().skip(1);
            match (c.next(), c.next()) {
                (Some(s), None) => self.short(s),
                _ => return false,
            }
        };
        flag.is_none_or(|f| f.kind == Kind::Value)
    }
}

fn is_flag(tok: &str) -> bool {
    tok.starts_with('-') && tok.len() > 1
}

/// Read `args` (without the program name) against the built command tree `root`.
pub fn parse(root: &Command, args: &[String]) -> Result<Parsed, UsageError> {
    let mut cmd = root;
    let mut path = vec![root.get_name().to_owned()];
    // The words left once the command's names are taken out, in order.
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    // cobra's Find: the first word that is not a flag (nor a flag's value) names a subcommand.
    'find: while cmd.has_subcommands() {
        let flags = Flags::of(cmd);
        let mut j = i;
        while let Some(tok) = args.get(j) {
            if tok == "--" {
                break 'find;
            }
            if is_flag(tok) {
                j += if flags.takes_next(tok) { 2 } else { 1 };
                continue;
            }
            match cmd.find_subcommand(tok) {
                Some(sub) => {
                    rest.extend(args[i..j].iter().map(String::as_str));
                    path.push(sub.get_name().to_owned());
                    cmd = sub;
                    i = j + 1;
                    continue 'find;
                }
                None => break 'find,
            }
        }
        break;
    }
    rest.extend(args[i.min(args.len())..].iter().map(String::as_str));
    parse_flags(cmd, path, &rest)
}

/// pflag's parse of one command's flags, then cobra's checks.
fn parse_flags(cmd: &Command, path: Vec<String>, words: &[&str]) -> Result<Parsed, UsageError> {
    let command = path.join(" ");
    let is_run = path.len() == 2 && path[1] == "run";
    // Commands whose flags end at the first argument (pflag's SetInterspersed(false)).
    let not_interspersed = is_run || command == "myvol compose run";
    let cluster_flags = if command == "myvol volume create" { cluster::create_flags() } else { Vec::new() };
    let mut flags = Flags::of(cmd);
    flags.0.extend(cluster_flags.iter().map(|arg| Flag { arg, kind: Kind::Value, cluster: true }));
    let flags = flags;
    // Docker Compose's flag errors are its own: the message alone, exit status 1.
    let compose = path.get(1).is_some_and(|p| p == "compose");
    let flag_error = |message: String| match compose {
        true => UsageError { status: ExitStatus::Failure, message, hint: None },
        false => UsageError::flag(&command, message),
    };

    let mut state = State::default();
    let mut positionals: Vec<String> = Vec::new();
    let mut only_args = false;
    let mut k = 0;
    while k < words.len() {
        let tok = words[k];
        k += 1;
        if only_args || (not_interspersed && !positionals.is_empty()) {
            positionals.push(tok.to_owned());
            continue;
        }
        if tok == "--" {
            only_args = true;
            continue;
        }
        if !is_flag(tok) {
            positionals.push(tok.to_owned());
            continue;
        }
        // Each flag occurrence: the flag and the value given (None: a boolean without one).
        let long = tok.starts_with("--");
        let (flag, value): (&Flag<'_>, Option<String>) = if let Some(body) = tok.strip_prefix("--") {
            let (name, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            if name.is_empty() || name.starts_with('-') {
                return Err(flag_error(format!("bad flag syntax: {tok}")));
            }
            let Some(flag) = flags.long(name) else {
                return Err(flag_error(unknown_long(&command, is_run, name)));
            };
            let value = match (flag.kind, attached) {
                (Kind::Value, None) => match words.get(k) {
                    Some(next) => {
                        k += 1;
                        Some((*next).to_owned())
                    }
                    None => return Err(flag_error(format!("flag needs an argument: {tok}"))),
                },
                (_, v) => v.map(str::to_owned),
            };
            (flag, value)
        } else {
            // A cluster of shorthands, read as pflag's parseSingleShortArg reads it: booleans,
            // then at most one flag with a value. `-f=VALUE` needs a VALUE: `-f=` is `-f` with
            // the value "=" (and `-q=` is `-q` then an unknown `-=`). Errors name what is left
            // of the cluster (`-qx`: 'x' in -x).
            let mut shorthands = &tok[1..];
            let mut taken = None;
            while let Some(c) = shorthands.chars().next() {
                let rest = &shorthands[c.len_utf8()..];
                // `docker -v` prints the version: at the top, myvol's `-v` is `-V` (below, `-v`
                // is `run`'s `--volume`).
                let top_v = || (c == 'v' && path.len() == 1).then(|| flags.version()).flatten();
                let Some(flag) = flags.short(c).or_else(top_v) else {
                    return Err(flag_error(unknown_short(&command, is_run, c, &format!("-{shorthands}"))));
                };
                let attached = rest.strip_prefix('=').filter(|v| !v.is_empty());
                if let Some(v) = attached {
                    taken = Some((flag, Some(v.to_owned())));
                    break;
                }
                if flag.kind != Kind::Value {
                    state.set(flag, None, false).map_err(&flag_error)?;
                    shorthands = rest;
                    continue;
                }
                let value = if !rest.is_empty() {
                    rest.to_owned()
                } else if let Some(next) = words.get(k) {
                    k += 1;
                    (*next).to_owned()
                } else {
                    return Err(flag_error(format!("flag needs an argument: '{c}' in -{shorthands}")));
                };
                taken = Some((flag, Some(value)));
                break;
            }
            match taken {
                Some(t) => t,
                None => continue,
            }
        };
        state.set(flag, value, long).map_err(&flag_error)?;
    }

    if let Some(long) = state.help {
        return Ok(Parsed { path, action: Action::Help(long) });
    }
    if state.version {
        return Ok(Parsed { path, action: Action::Version });
    }
    if cmd.has_subcommands() {
        return match positionals.first() {
            None => Ok(Parsed { path, action: Action::GroupHelp }),
            Some(first) if path.len() == 1 && first == "help" => {
                Ok(Parsed { path, action: Action::HelpTopic(positionals[1..].to_vec()) })
            }
            Some(first) => Err(UsageError::unknown_command(&command, first)),
        };
    }
    // `run --rootfs DIR` needs no IMAGE; otherwise `run` needs one (clap's rule is
    // `required_unless_present`, which the arity below does not see).
    let needs_image = is_run && !state.canonical.iter().any(|f| f.starts_with("--rootfs="));
    check_count(cmd, &command, positionals.len(), usize::from(needs_image))?;
    if !state.cluster.is_empty() {
        // docker/cli checks --name against VOLUME first, then the engine refuses the volume.
        let named = state.canonical.iter().rev().find_map(|f| f.strip_prefix("--name=")).is_some_and(|n| !n.is_empty());
        if named && !positionals.is_empty() {
            return Err(UsageError {
                status: ExitStatus::Failure,
                message:
                    "conflicting options: cannot specify a volume-name through both --name and as a positional arg"
                        .to_owned(),
                hint: None,
            });
        }
        return Err(cluster::refused(&state.cluster));
    }

    let mut argv = path.clone();
    argv.extend(state.canonical);
    argv.extend(state.bools.into_values().filter(|(_, on)| *on).map(|(name, _)| name));
    argv.push("--".to_owned());
    argv.extend(positionals);
    Ok(Parsed { path, action: Action::Run(argv) })
}

/// What the flags said so far.
#[derive(Default)]
struct State {
    /// The value flags, as clap reads them (`--long=value`), in order.
    canonical: Vec<String>,
    /// Each boolean's last value, with its name for clap.
    bools: BTreeMap<String, (String, bool)>,
    /// `-h` (false) or `--help` (true) was given.
    help: Option<bool>,
    version: bool,
    /// The cluster-volume flags given that ask for a cluster volume (`--group`…).
    cluster: Vec<String>,
}

impl State {
    /// Record one occurrence of a flag, its value checked as the flag's own parser checks
    /// it. `long`: the flag was given by its long name.
    fn set(&mut self, flag: &Flag<'_>, value: Option<String>, long: bool) -> Result<(), String> {
        let on = match (&value, flag.kind) {
            (Some(v), Kind::Bool | Kind::Help | Kind::Version) => myvol::text::parse_go_bool(v).ok_or_else(|| {
                format!(
                    "invalid argument {} for \"{}\" flag: strconv.ParseBool: parsing {}: invalid syntax",
                    go_quote(v),
                    flag.display(),
                    go_quote(v)
                )
            })?,
            _ => true,
        };
        match flag.kind {
            Kind::Bool => {
                self.bools.insert(flag.arg.get_id().to_string(), (flag.canonical(None), on));
            }
            Kind::Help if on => self.help = Some(self.help.unwrap_or(false) || long),
            Kind::Help => {}
            Kind::Version => self.version |= on,
            Kind::Value => {
                let v = value.unwrap_or_default();
                check_value(flag.arg, &v).map_err(|reason| {
                    format!("invalid argument {} for \"{}\" flag: {reason}", go_quote(&v), flag.display())
                })?;
                if !flag.cluster {
                    self.canonical.push(flag.canonical(Some(&v)));
                } else if let Some(name) = flag.arg.get_long().filter(|l| cluster::makes_cluster(l)) {
                    let name = format!("--{name}");
                    if !self.cluster.contains(&name) {
                        self.cluster.push(name);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Check a flag's value with the flag's own value parser (a one-flag clap command), and
/// say why it is refused.
fn check_value(arg: &Arg, value: &str) -> Result<(), String> {
    let probe = Arg::new("value")
        .long("value")
        .action(ArgAction::Set)
        .allow_hyphen_values(true)
        .value_parser(arg.get_value_parser().clone());
    let Err(e) =
        Command::new("probe").no_binary_name(true).arg(probe).try_get_matches_from([format!("--value={value}")])
    else {
        return Ok(());
    };
    Err(match e.kind() {
        ErrorKind::InvalidValue => match e.get(ContextKind::ValidValue) {
            Some(ContextValue::Strings(v)) => format!("valid values are {}", v.join(", ")),
            _ => "invalid value".to_owned(),
        },
        _ => match std::error::Error::source(&e) {
            Some(s) => s.to_string(),
            None => first_line(&e),
        },
    })
}

/// The first line of a clap error, without its `error: ` lead.
pub fn first_line(e: &clap::Error) -> String {
    let s = e.render().to_string();
    let line = s.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

fn unknown_long(command: &str, is_run: bool, name: &str) -> String {
    if let Some(long) = run_flags::unsupported_long(name).filter(|_| is_run) {
        return format!("myvol run does not support --{long}");
    }
    match image_flags::unsupported_long(command, name) {
        Some(long) => format!("{command} does not support --{long}"),
        None => format!("unknown flag: --{name}"),
    }
}

fn unknown_short(command: &str, is_run: bool, c: char, tok: &str) -> String {
    if let Some(long) = run_flags::unsupported_short(c).filter(|_| is_run) {
        return format!("myvol run does not support -{c}/--{long}");
    }
    match image_flags::unsupported_short(command, c) {
        Some(long) => format!("{command} does not support -{c}/--{long}"),
        None => format!("unknown shorthand flag: '{c}' in {tok}"),
    }
}

/// How many arguments a command takes: the fewest (at least `min`) and the most (None: no
/// limit).
fn arity(cmd: &Command, min: usize) -> (usize, Option<usize>) {
    let mut min = min;
    let mut max = Some(0usize);
    for p in cmd.get_positionals() {
        let range = p.get_num_args().unwrap_or_else(|| 1.into());
        if p.is_required_set() {
            min += range.min_values().max(1);
        }
        max = match (max, range.max_values()) {
            (Some(m), n) if n != usize::MAX => Some(m + n),
            _ => None,
        };
    }
    (min, max)
}

/// Commands whose argument-count errors are podman's (the verbs podman has and Docker has not).
const PODMAN_VERBS: &[&str] = &[
    "myvol volume exists",
    "myvol volume mount",
    "myvol volume unmount",
    "myvol volume export",
    "myvol volume import",
];

/// cobra's check of the number of arguments, in docker/cli's words (or podman's).
fn check_count(cmd: &Command, command: &str, n: usize, min: usize) -> Result<(), UsageError> {
    let (min, max) = arity(cmd, min);
    if n >= min && max.is_none_or(|m| n <= m) {
        return Ok(());
    }
    let s = |k: usize| if k == 1 { "" } else { "s" };
    if PODMAN_VERBS.contains(&command) {
        let message = match max {
            Some(m) if m == min => format!("accepts {m} arg(s), received {n}"),
            Some(m) => format!("accepts between {min} and {m} arg(s), received {n}"),
            None => format!("requires at least {min} arg(s), only received {n}"),
        };
        return Err(UsageError { status: ExitStatus::Usage, message, hint: None });
    }
    let (message, verb) = match max {
        Some(0) => (format!("'{command}' accepts no arguments"), "Run"),
        Some(m) if m == min => (format!("'{command}' requires {m} argument{}", s(m)), "Run"),
        Some(m) if min == 0 => (format!("'{command}' requires at most {m} argument{}", s(m)), "Run"),
        Some(m) => (format!("'{command}' requires at least {min} and at most {m} argument{}", s(m)), "Run"),
        None => (format!("'{command}' requires at least {min} argument{}", s(min)), "See"),
    };
    Err(UsageError {
        status: ExitStatus::Failure,
        message,
        hint: Some(format!("{verb} '{command} --help' for more information")),
    })
}
