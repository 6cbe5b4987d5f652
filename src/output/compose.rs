//! `compose config`: the normalised project printed as Docker Compose v2 prints it, in YAML
//! (Go's yaml.v3 encoder: block style, two-space indent, its quoting and key order) or JSON
//! (Go's `encoding/json`, indented), every `$` doubled so the output reads back the same.
//! And `up`'s log lines: [`LogStyle`], Compose's prefixes and status lines.

mod config;
mod log;
mod yaml;

pub use config::{config_json, config_yaml, escape_dollars, project_node};
pub use log::{LogStyle, RESET_LINE};
pub use yaml::{Node, to_yaml, yaml_key_cmp};
