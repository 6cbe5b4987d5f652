//! The cluster-volume (swarm CSI) flags of `docker volume create`. myvol has no swarm, so,
//! as Docker's CLI against an engine that is not a swarm manager, it knows them, keeps them
//! out of the help, and the "engine" refuses a cluster volume. They are not clap flags: only
//! a command line that uses one pays for them (clap refuses it, and Docker's rules read it).

use clap::{Arg, ArgAction};

use super::UsageError;
use crate::commands::ExitStatus;

/// The flags (all take a value), in docker/cli's words.
pub fn create_flags() -> Vec<Arg> {
    let flag = |long: &'static str| Arg::new(long).long(long).action(ArgAction::Set);
    vec![
        flag("availability"),
        flag("group"),
        flag("limit-bytes").value_parser(parse_mem_bytes),
        flag("required-bytes").value_parser(parse_mem_bytes),
        flag("scope"),
        flag("secret"),
        flag("sharing"),
        flag("topology-preferred"),
        flag("topology-required"),
        flag("type"),
    ]
}

/// Whether giving `long` asks for a cluster volume (docker/cli's `hasClusterVolumeOptionSet`,
/// which tests a flag named "secrets": `--secret` and `--topology-*` alone do not, and Docker
/// ignores them then).
pub fn makes_cluster(long: &str) -> bool {
    ["availability", "group", "limit-bytes", "required-bytes", "scope", "sharing", "type"].contains(&long)
}

/// An engine without swarm refusing a cluster volume (`flags`: those given, `--group`…).
pub fn refused(flags: &[String]) -> UsageError {
    UsageError {
        status: ExitStatus::Failure,
        message: format!(
            "This node is not a swarm manager. myvol has no swarm mode, so it cannot create cluster volumes ({})",
            flags.join(", ")
        ),
        hint: None,
    }
}

/// Docker's `opts.MemBytes`: a size as `units.RAMInBytes` reads it (`512m`, `1g`, `1024`).
fn parse_mem_bytes(val: &str) -> Result<String, String> {
    myvol::units::ram_in_bytes(val).map(|_| val.to_owned()).map_err(|e| e.to_string())
}
