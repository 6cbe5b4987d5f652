//! `myvol system df`, `myvol version`, `myvol completion`, `myvol man`.

use clap::CommandFactory;
use myvol::image::ImageStore;
use myvol::output::system::{DfRow, ImageUsage, render_summary, render_verbose, render_verbose_format};
use myvol::output::{FormatError, natural_cmp, template};
use myvol::store::{Store, Usage, Volume};

use super::{ExitStatus, Failure, Io, Result};
use crate::cli::system::{CompletionArgs, DfArgs, ManArgs, Shell, SystemCommand, VersionArgs};
use crate::cli::{Cli, Lazy};

pub fn dispatch(store: &Store, cmd: SystemCommand, io: &mut Io<'_>) -> Result {
    match cmd {
        SystemCommand::Df(Lazy(a)) => df(store, a, io),
    }
}

/// Local volumes whose content is in the store (Docker's disk usage counts those without
/// options; a size limit is an option that keeps the content in the store), naturally
/// sorted, with their usage; volumes that vanish meanwhile are left out.
fn local_usage(store: &Store) -> Result<Vec<(Volume, Usage)>> {
    let (mut vols, _unreadable) = store.list()?;
    vols.retain(|v| v.driver == myvol::driver::LOCAL && !myvol::store::mounted_from_options(v.options.as_ref()));
    vols.sort_unstable_by(|x, y| natural_cmp(x.name.as_str(), y.name.as_str()));
    let names: Vec<_> = vols.iter().map(|v| v.name.clone()).collect();
    let usage = store.usage(&names);
    Ok(vols.into_iter().zip(usage).filter_map(|(v, u)| u.ok().map(|u| (v, u))).collect())
}

fn df(store: &Store, a: DfArgs, io: &mut Io<'_>) -> Result {
    let images = ImageStore::new(store.root()).list().map_err(|e| Failure::new(ExitStatus::Failure, e))?;
    let (shared, layers_size) = myvol::image::store::disk_usage(&images);
    let images = ImageUsage { images: &images, shared: &shared, layers_size };
    let vols = local_usage(store)?;
    let format = a.format.as_deref().filter(|f| !f.is_empty());
    let fail = |e| Failure::format(ExitStatus::Failure, e);
    match (a.verbose, format) {
        (true, None | Some("table")) => render_verbose(&images, &vols, io.out).map_err(fail)?,
        (true, Some(f)) => render_verbose_format(&images, &vols, f, io.out).map_err(fail)?,
        (false, f) => render_summary(&DfRow::summary(&images, &vols), f, io.out).map_err(fail)?,
    }
    Ok(())
}

/// The git commit this binary was built from (short), when it was built from a checkout.
const GIT_COMMIT: &str = match option_env!("MYVOL_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// `rustc 1.95.0 (59807616e 2026-04-14)`: the compiler that built this binary.
const RUSTC_VERSION: &str = match option_env!("MYVOL_RUSTC_VERSION") {
    Some(v) => v,
    None => "unknown",
};

/// What `-V` prints, in the shape of `docker --version`.
pub fn version_line() -> String {
    format!("myvol version {}, build {GIT_COMMIT}", env!("CARGO_PKG_VERSION"))
}

/// Go's names for the architectures, as Docker prints `OS/Arch`.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// `myvol version`: the client part of `docker version` (myvol has no server), and the store.
pub fn version(store: &Store, a: VersionArgs, io: &mut Io<'_>) -> Result {
    let rustc = RUSTC_VERSION.split_whitespace().nth(1).unwrap_or(RUSTC_VERSION);
    let root = store.root().display().to_string();
    let client = serde_json::json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "GitCommit": GIT_COMMIT,
        "RustVersion": rustc,
        "Os": std::env::consts::OS,
        "Arch": go_arch(),
        "Root": root,
    });
    let text = match a.format.as_deref().filter(|f| !f.is_empty()) {
        None => format!(
            "Client: myvol\n Version:           {}\n Git commit:        {GIT_COMMIT}\n Rust version:      {rustc}\n OS/Arch:           {}/{}\n Root:              {}\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            go_arch(),
            myvol::text::escape_control(&root),
        ),
        Some(f) => {
            let all = serde_json::json!({ "Client": client });
            let f = if f == "json" { "{{json .}}" } else { f };
            let template =
                template::Template::parse(f).map_err(|e| Failure::new(ExitStatus::Template, FormatError::Parse(e)))?;
            let mut out = Vec::new();
            template
                .execute(&myvol::output::volume::json_value(&all), &mut out)
                .map_err(|e| Failure::new(ExitStatus::Failure, FormatError::Exec(e)))?;
            out.push(b'\n');
            String::from_utf8_lossy(&out).into_owned()
        }
    };
    io.out.write_all(text.as_bytes())?;
    Ok(())
}

pub fn completion(a: CompletionArgs, io: &mut Io<'_>) -> Result {
    let mut cmd = Cli::command();
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    // Into memory first: clap_complete panics on a write error (a closed pipe); ours ends
    // quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "myvol", &mut script);
    io.out.write_all(&script)?;
    Ok(())
}

/// `myvol man`: myvol(1), with a section per command so that one page documents every verb;
/// `myvol man COMMAND…`: that command's page; `--dir`: every page, as files. The pages list
/// their subcommands' pages (`myvol-volume-create(1)`), which `--dir` writes too. The global
/// `--root` and `--version` are on myvol(1) only, as in the help.
pub fn man(a: ManArgs, io: &mut Io<'_>) -> Result {
    let mut root = Cli::command();
    root.build();
    for sub in root.get_subcommands_mut() {
        hide_globals(sub);
    }
    if let Some(dir) = &a.dir {
        let mut pages = vec![(root.clone(), true)];
        collect_pages(&root, &mut pages);
        for (cmd, top) in pages {
            let path = dir.join(clap_mangen::Man::new(cmd.clone()).get_filename());
            std::fs::write(&path, page(&root, &cmd, top)?).map_err(|e| {
                Failure::new(ExitStatus::Failure, format!("write {}: {}", path.display(), myvol::text::errno_text(&e)))
            })?;
            writeln!(io.out, "{}", path.display())?;
        }
        return Ok(());
    }
    let mut cmd = &root;
    for word in &a.command {
        cmd = cmd.find_subcommand(word).filter(|c| !c.is_hide_set()).ok_or_else(|| {
            Failure::new(ExitStatus::Failure, format!("no manual page for myvol {}", a.command.join(" ")))
        })?;
    }
    io.out.write_all(&page(&root, cmd, a.command.is_empty())?)?;
    Ok(())
}

/// The page of `cmd`; for myvol(1) (`top`), followed by a section per command.
fn page(root: &clap::Command, cmd: &clap::Command, top: bool) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    if top {
        let mut leaves = Vec::new();
        collect_leaves(root, &mut leaves);
        for sub in leaves {
            let title = sub.get_bin_name().unwrap_or(sub.get_name()).to_owned();
            out.extend_from_slice(format!(".SH \"{}\"\n", title.to_uppercase()).as_bytes());
            let man = clap_mangen::Man::new(sub.clone());
            man.render_description_section(&mut out)?;
            man.render_synopsis_section(&mut out)?;
            if sub.get_arguments().any(|a| !a.is_hide_set()) {
                man.render_options_section(&mut out)?;
            }
        }
    }
    Ok(out)
}

/// `--root` and `--version` shown on myvol(1) only.
fn hide_globals(cmd: &mut clap::Command) {
    for id in ["root", "version"] {
        if cmd.get_arguments().any(|a| a.get_id() == id) {
            *cmd = cmd.clone().mut_arg(id, |a| a.hide(true));
        }
    }
    for sub in cmd.get_subcommands_mut() {
        hide_globals(sub);
    }
}

/// Every visible command below `cmd`, groups included (none of them is myvol(1)).
fn collect_pages(cmd: &clap::Command, out: &mut Vec<(clap::Command, bool)>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.push((sub.clone(), false));
        collect_pages(sub, out);
    }
}

fn collect_leaves(cmd: &clap::Command, out: &mut Vec<clap::Command>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.has_subcommands() {
            collect_leaves(sub, out);
        } else {
            out.push(sub.clone());
        }
    }
}
