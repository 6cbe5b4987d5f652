//! Pure rendering into a writer: Docker's tables, JSON, and Go-style `--format` templates.

pub mod tabwriter;
pub mod template;
