//! Volume drivers. Only the local driver exists so far; any other driver name is looked up as
//! a Docker volume plugin, which fails as Docker fails when the plugin is missing.

pub mod local;

/// The name of the built-in driver.
pub const LOCAL: &str = "local";
