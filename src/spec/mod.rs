//! The mount-spec grammar: `-v`, `--mount`, `--tmpfs` (being written).
