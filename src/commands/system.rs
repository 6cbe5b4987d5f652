//! `myvol system df`, `myvol completion`, `myvol man`.

use clap::CommandFactory;
use myvol::output::natural_cmp;
use myvol::output::system::{DfRow, render_summary, render_verbose, render_verbose_format};
use myvol::store::{Store, Usage, Volume};

use super::{ExitStatus, Failure, Io, Result};
use crate::cli::system::{CompletionArgs, DfArgs, Shell, SystemCommand};
use crate::cli::{Cli, Lazy};

pub fn dispatch(store: &Store, cmd: SystemCommand, io: &mut Io<'_>) -> Result {
    match cmd {
        SystemCommand::Df(Lazy(a)) => df(store, a, io),
    }
}

/// Local volumes without driver options (what Docker's disk usage counts), naturally
/// sorted, with their usage; volumes that vanish meanwhile are left out.
fn local_usage(store: &Store) -> Result<Vec<(Volume, Usage)>> {
    let (mut vols, _unreadable) = store.list()?;
    vols.retain(|v| v.driver == myvol::driver::LOCAL && v.options.is_none());
    vols.sort_unstable_by(|x, y| natural_cmp(x.name.as_str(), y.name.as_str()));
    let names: Vec<_> = vols.iter().map(|v| v.name.clone()).collect();
    let usage = store.usage(&names);
    Ok(vols.into_iter().zip(usage).filter_map(|(v, u)| u.ok().map(|u| (v, u))).collect())
}

fn df(store: &Store, a: DfArgs, io: &mut Io<'_>) -> Result {
    let vols = local_usage(store)?;
    let format = a.format.as_deref().filter(|f| !f.is_empty());
    match (a.verbose, format) {
        (true, None | Some("table")) => render_verbose(&vols, io.out)?,
        (true, Some(f)) => {
            render_verbose_format(&vols, f, io.out).map_err(|e| Failure::format(ExitStatus::Failure, e))?
        }
        (false, f) => {
            render_summary(&DfRow::summary(&vols), f, io.out).map_err(|e| Failure::format(ExitStatus::Failure, e))?
        }
    }
    Ok(())
}

pub fn completion(a: CompletionArgs, io: &mut Io<'_>) -> Result {
    let mut cmd = Cli::command();
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, "myvol", io.out);
    Ok(())
}

/// The manual page: clap_mangen's page for `myvol`, then a section per command with its
/// description, usage and options, so that `man myvol` documents every verb.
pub fn man(io: &mut Io<'_>) -> Result {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    let mut leaves = Vec::new();
    collect_leaves(&cmd, &mut leaves);
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
    io.out.write_all(&out)?;
    Ok(())
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
