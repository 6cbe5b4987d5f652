//! The command line built for one top-level command ([`command_for`], [`try_parse`]) against
//! the whole one.

use super::*;

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("myvol").chain(args.iter().copied()).map(OsString::from).collect()
}

/// Every command's help and usage, below `cmd` (built), with its path.
fn texts(cmd: &mut clap::Command, path: &str, out: &mut Vec<String>) {
    out.push(format!("{path}\n{}\n{}", cmd.render_usage(), cmd.render_long_help()));
    for sub in cmd.get_subcommands_mut() {
        let path = format!("{path} {}", sub.get_name());
        texts(sub, &path, out);
    }
}

/// Each top-level command, alone, is defined as in the whole command line: the same
/// subcommands, arguments, help and usage, below the same root.
#[test]
fn each_command_alone_is_defined_as_in_the_whole() {
    let mut all = Cli::command();
    all.build();
    let names: Vec<String> = all.get_subcommands().map(|c| c.get_name().to_owned()).collect();
    assert!(names.len() > 10, "{names:?}");
    for name in &names {
        let mut one = command_for(name).unwrap_or_else(|| panic!("{name}: not found"));
        one.build();
        assert_eq!(one.get_subcommands().map(|c| c.get_name()).collect::<Vec<_>>(), [name.as_str()]);
        let root_args = |c: &clap::Command| c.get_arguments().map(|a| format!("{a:?}")).collect::<Vec<_>>();
        assert_eq!(root_args(&one), root_args(&all), "{name}");
        assert_eq!(one.get_version(), all.get_version());
        assert_eq!(one.get_long_about().map(ToString::to_string), all.get_long_about().map(ToString::to_string));
        let (mut expected, mut got) = (Vec::new(), Vec::new());
        texts(all.find_subcommand_mut(name).unwrap(), name, &mut expected);
        texts(one.find_subcommand_mut(name).unwrap(), name, &mut got);
        assert_eq!(got, expected);
    }
    assert!(command_for("help").is_none() && command_for("nosuch").is_none());
}

/// Command lines parse (or fail) as `Cli::try_parse_from` parses them with every command defined.
#[test]
fn parses_as_with_every_command() {
    let cases: &[&[&str]] = &[
        &["volume", "inspect", "a"],
        &["volume", "create", "-l", "app=db", "-o", "type=tmpfs", "v"],
        &["volume", "ls", "-q", "-f", "dangling=true"],
        &["--root", "/srv/v", "volume", "ls", "-q"],
        &["--root=/srv/v", "volume", "rm", "-f", "a", "b"],
        &["volume", "ls", "--root", "/srv/v"],
        &["--root", "volume", "volume", "ls"],
        &["volume", "-V"],
        &["--version"],
        &["run", "--dry-run", "-v", "a:/data", "/", "true"],
        &["images", "-q"],
        &["compose", "-f", "x.yaml", "config"],
        &["man", "--dir", "/tmp/man"],
        &["exec-spec", "-"],
        &["completion", "tcsh"],
        &["volume", "lss"],
        &["volume", "inspect", "--bogus"],
        &["volume"],
        &["volum", "ls"],
        &["nosuch"],
        &["--help"],
        &["volume", "--help"],
        &["--root"],
        &["--root", "/srv/v"],
        &["--", "volume", "ls"],
        &[],
    ];
    for args in cases {
        let argv = argv(args);
        let got = try_parse(&argv).map(|c| format!("{c:?}")).map_err(|e| (e.kind(), e.to_string()));
        let expected = Cli::try_parse_from(&argv).map(|c| format!("{c:?}")).map_err(|e| (e.kind(), e.to_string()));
        assert_eq!(got, expected, "{args:?}");
    }
}

/// The command word is found after `--root DIR` / `--root=DIR`, and only where clap looks first.
#[test]
fn the_named_command() {
    let named = |args: &[&str]| named(&argv(args)).map(str::to_owned);
    assert_eq!(named(&["volume", "ls"]).as_deref(), Some("volume"));
    assert_eq!(named(&["--root", "/r", "images"]).as_deref(), Some("images"));
    assert_eq!(named(&["--root=/r", "run", "/"]).as_deref(), Some("run"));
    assert_eq!(named(&["--root"]), None);
    assert_eq!(named(&["--help", "volume"]), None);
    assert_eq!(named(&["-V"]), None);
    assert_eq!(named(&[]), None);
}
