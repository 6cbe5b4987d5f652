//! Go text/template for `--format` (being written).
