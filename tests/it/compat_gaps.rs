//! Replays of the recorder's `templates` and `repeats` groups (tests/fixtures/docker/tpl-*,
//! rep-*): Go templates and the formatter's corners, repeated flags and the cluster-volume
//! flags of `volume create`. See tests/it/compat.rs for how a case is compared.

use crate::compat::Replay;

#[test]
fn templates_as_docker() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "fx-t1"]);
    r.setup(&["volume", "create", "--label", "h=<b>&c", "fx-t2"]);
    r.cases(&[
        "tpl-ls-format-empty",
        "tpl-ls-define",
        "tpl-ls-block",
        "tpl-ls-template-missing",
        "tpl-ls-table-define",
        "tpl-inspect-define",
        "tpl-inspect-block",
        "tpl-table-lower-truncate",
        "tpl-table-upper-title",
        "tpl-table-json-dot",
        "tpl-table-json-name",
        "tpl-table-split-join",
        "tpl-ls-json-escape",
        "tpl-ls-json-dot-escape",
        "tpl-inspect-escape",
        "tpl-inspect-json-escape",
        "tpl-inspect-format-json-escape",
        "tpl-ls-ge-mixed",
        "tpl-inspect-ge-mixed",
        "tpl-ls-range-dot",
        "tpl-inspect-range-dot",
    ]);
    r.finish();
}

#[test]
fn repeated_and_cluster_flags_as_docker() {
    let mut r = Replay::new();
    r.setup(&["volume", "create", "fx-rp"]);
    // API 1.41 has no prune --all; Engine 28 takes -a twice as once.
    r.case_engine28("rep-prune-a-a", (0, "Total reclaimed space: 0B\n", ""));
    r.cases(&["rep-create-name-twice", "rep-create-name-twice-ls", "rep-create-required-bytes-bad"]);
    // API 1.41 has no cluster volumes. With Engine 28, docker/cli sends a ClusterVolumeSpec
    // for these flags, which an engine outside swarm refuses; the topology flags alone send
    // none, so they make a plain volume.
    for (case, flag) in [
        ("rep-create-availability", "--availability"),
        ("rep-create-scope", "--scope"),
        ("rep-create-sharing", "--sharing"),
        ("rep-create-type", "--type"),
        ("rep-create-required-bytes", "--required-bytes"),
        ("rep-create-limit-bytes", "--limit-bytes"),
        ("rep-create-scope-bad", "--scope"),
    ] {
        let err = format!(
            "Error: This node is not a swarm manager. myvol has no swarm mode, so it cannot create cluster volumes ({flag})\n"
        );
        r.case_engine28(case, (1, "", &err));
    }
    r.case_engine28("rep-create-topology-required", (0, "fx-cl\n", ""));
    r.case_engine28("rep-create-topology-preferred", (0, "fx-cl\n", ""));
    r.finish();
}
