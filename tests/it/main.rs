//! Integration tests through the real `myvol` binary: one test binary, one harness (`env`).

mod env;
mod plugin_server;
mod registry;

mod archive;
mod compat;
mod compat_gaps;
mod compat_hunt;
mod compose;
mod compose_run;
mod concurrency;
#[cfg(feature = "failpoints")]
mod crash;
mod drivers;
mod exec;
mod extras;
mod formats;
mod image;
mod image_client;
#[cfg(feature = "failpoints")]
mod image_crash;
mod lease;
mod owned;
mod plugin;
mod plugin_client;
mod rclone;
mod run;
mod run_dry;
mod run_etc;
mod run_image;
mod template_abuse;
#[cfg(feature = "failpoints")]
mod torture;
mod trust_edges;
mod trust_store;
mod volume;
