//! `myvol image …` and the top-level image verbs (`pull`, `images`, `rmi`, `tag`, `load`,
//! `save`, `login`, `logout`): Docker's flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Lazy;

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Display detailed information on one or more images
    #[command(override_usage = "myvol image inspect [OPTIONS] IMAGE [IMAGE...]")]
    Inspect(Lazy<InspectArgs>),

    /// Load an image from a tar archive or STDIN
    #[command(override_usage = "myvol image load [OPTIONS]", long_about = LOAD_ABOUT)]
    Load(Lazy<LoadArgs>),

    /// List images
    #[command(visible_alias = "list", override_usage = "myvol image ls [OPTIONS] [REPOSITORY[:TAG]]")]
    Ls(Lazy<LsArgs>),

    /// Remove unused images
    ///
    /// Removes dangling images (no tag); with --all, every image that no run uses. Layers
    /// that no remaining image uses are deleted with them.
    #[command(override_usage = "myvol image prune [OPTIONS]")]
    Prune(Lazy<PruneArgs>),

    /// Download an image from a registry
    #[command(override_usage = "myvol image pull [OPTIONS] NAME[:TAG|@DIGEST]", long_about = PULL_ABOUT)]
    Pull(Lazy<PullArgs>),

    /// Remove one or more images
    ///
    /// Untags the image; when its last reference goes, deletes it and the layers no other
    /// image uses. An image a run uses cannot be deleted (only untagged, with -f).
    #[command(visible_aliases = ["rmi", "remove"], override_usage = "myvol image rm [OPTIONS] IMAGE [IMAGE...]")]
    Rm(Lazy<RmArgs>),

    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    #[command(override_usage = "myvol image save [OPTIONS] IMAGE [IMAGE...]", long_about = SAVE_ABOUT)]
    Save(Lazy<SaveArgs>),

    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    #[command(override_usage = "myvol image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")]
    Tag(Lazy<TagArgs>),
}

pub const PULL_ABOUT: &str = "Download an image from a registry

Fetches the image's manifest (choosing the host's platform, or --platform, from a
multi-platform index), its configuration and the layers the store does not have yet,
several at a time. Every blob is checked against its digest as it streams, and every layer
against the configuration's diff ID; layers are unpacked once and shared by every image
that has them. Credentials come from ~/.docker/config.json (myvol login, or docker login).
Registries on loopback addresses and those listed in daemon.json's insecure-registries are
tried over HTTPS without certificate checks, then plain HTTP. See docs/image.md.";

pub const LOAD_ABOUT: &str = "Load an image from a tar archive or STDIN

Reads archives written by docker save (both forms), podman save (docker-archive and
oci-archive) and OCI image layouts, plain or compressed with gzip or zstd. Layers go
through the same checks and confined extractor as pulled ones.";

pub const SAVE_ABOUT: &str = "Save one or more images to a tar archive (streamed to STDOUT by default)

Writes Docker 25's form: an OCI image layout (index.json, blobs/sha256/...) with
manifest.json for older readers. Layers are written as they were pulled (compressed or not),
so manifest digests are kept. Refuses to write to a terminal.";

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The image: a repository name, with a tag (default latest) or a digest
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub name: String,

    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,

    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,

    /// Set platform if server is multi-platform capable (os[/arch[/variant]])
    #[arg(long, value_name = "PLATFORM", env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,

    /// Skip image verification (always: myvol checks digests, not signatures)
    #[arg(long = "disable-content-trust", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", hide = true)]
    pub disable_content_trust: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// List only this repository's images (a glob, as with --filter reference=)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,

    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    pub all: bool,

    /// Show digests
    #[arg(long)]
    pub digests: bool,

    /// Filter output based on conditions provided (dangling=, label=, reference=, before=, since=)
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,

    /// Format output using a custom template:
    /// 'table':            Print output in table format with column headers (default)
    /// 'table TEMPLATE':   Print output in table format using the given Go template
    /// 'json':             Print in JSON format
    /// 'TEMPLATE':         Print output using the given Go template
    /// (default: imagesFormat of $DOCKER_CONFIG/config.json when set, else 'table')
    #[arg(long, value_name = "FORMAT", verbatim_doc_comment)]
    pub format: Option<String>,

    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a custom template:
    /// 'json':             Print in JSON format
    /// 'TEMPLATE':         Print output using the given Go template
    #[arg(short, long, value_name = "FORMAT", verbatim_doc_comment)]
    pub format: Option<String>,

    /// The images: names, IDs or unique ID prefixes
    #[arg(value_name = "IMAGE", required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force removal of the image
    #[arg(short, long)]
    pub force: bool,

    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,

    /// The images to remove: names (each untagged), IDs or unique ID prefixes
    #[arg(value_name = "IMAGE", required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,

    /// Provide filter values (e.g. "until=<timestamp>", "label=<key>=<value>")
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,

    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image to tag: a name, an ID or a unique ID prefix
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,

    /// The new name: a repository, with a tag (default latest)
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,

    /// Load only the given platform variant (os[/arch[/variant]])
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Save only the given platform variant (os[/arch[/variant]])
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,

    /// The images to save: names, IDs or unique ID prefixes
    #[arg(value_name = "IMAGE", required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry to log in to (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,

    /// Username
    #[arg(short, long, value_name = "USERNAME")]
    pub username: Option<String>,

    /// Password or Personal Access Token (PAT)
    #[arg(short, long, value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Take the Password or Personal Access Token (PAT) from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry to log out from (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}
