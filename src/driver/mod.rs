//! Volume drivers: the local driver's options, and the client for Docker volume plugins (any
//! other driver name is looked up as a plugin, which fails as Docker fails when it is missing).

pub mod local;
pub mod plugin;

/// The name of the built-in driver.
pub const LOCAL: &str = "local";
