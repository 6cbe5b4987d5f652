//! myvol: a Docker-compatible volume manager for Linux, with no daemon.
//!
//! The library holds everything but the command line: volume names, the managed store, the
//! mount-spec grammar, rendering (tables, JSON, Go templates). It never prints and never exits;
//! the `myvol` binary parses argv, calls in here, and renders errors once.

pub mod name;
pub mod output;
pub mod spec;
pub mod text;
