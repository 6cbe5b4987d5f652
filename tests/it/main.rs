//! Integration tests through the real `myvol` binary: one test binary, one harness.

mod env;
mod plugin_server;
mod registry;

mod archive;
mod compat;
mod concurrency;
#[cfg(feature = "failpoints")]
mod crash;
mod drivers;
mod exec;
mod extras;
mod image;
#[cfg(feature = "failpoints")]
mod image_crash;
mod lease;
mod plugin;
mod plugin_client;
mod rclone;
mod run;
mod run_dry;
mod tree;
mod volume;
