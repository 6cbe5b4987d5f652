//! myvol: a Docker-compatible volume manager for Linux, with no daemon.
//!
//! The library holds everything but the command line: volume names, the managed store, the
//! local driver's options, the mount-spec grammar, the run plan and the runtime that executes
//! it, and rendering (tables, JSON, Go templates). It never prints and never exits; the
//! `myvol` binary parses argv, calls in here, and renders errors once.

// `unsafe` lives in `sys` alone (STYLE: one syscall boundary), each block with its invariant.
#![deny(unsafe_code)]

pub mod archive;
pub mod compose;
pub mod copy;
pub mod driver;
pub mod failpoint;
pub mod filter;
pub mod fsutil;
pub mod image;
pub mod name;
pub mod output;
pub mod par;
pub mod plan;
pub mod runtime;
pub mod spec;
pub mod store;
#[allow(unsafe_code)]
pub mod sys;
pub mod text;
pub mod timestamp;
pub mod units;
