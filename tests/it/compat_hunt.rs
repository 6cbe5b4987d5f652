//! Replay of the recorder's `hunt` group (tests/fixtures/docker/hunt-*, record-hunt.sh), in
//! the order and on the store it was recorded with: option, label and name corners of
//! `volume create`, filters combined and formats in `volume ls`, `inspect` with a name
//! missing, prune's label filters, template functions. The group's `rm` cases (a volume in
//! use: myvol names its holder) and `prune --filter until` (myvol takes podman's filter) are
//! in known-differences.txt.

use crate::compat::Replay;

#[test]
fn hunt_as_docker() {
    let mut r = Replay::new();
    r.cases(&[
        "hunt-create-opt-o-empty",
        "hunt-create-opt-o-empty-inspect",
        "hunt-create-opt-repeat-key",
        "hunt-create-opt-repeat-key-inspect",
        "hunt-create-opt-eq-in-value",
        "hunt-create-opt-eq-in-value-inspect",
        "hunt-create-opt-upper",
        "hunt-create-opt-space-key",
        "hunt-create-label-empty-value",
        "hunt-create-label-empty-value-inspect",
        "hunt-create-label-only-eq",
        "hunt-create-label-space-key",
        "hunt-create-label-space-key-inspect",
        "hunt-create-label-unicode",
        "hunt-create-label-unicode-inspect",
        "hunt-create-label-file",
        "hunt-name-dot-end",
        "hunt-name-dash-end",
        "hunt-name-underscore-end",
        "hunt-name-dots",
        "hunt-name-digit-first",
        "hunt-name-two",
        "hunt-name-dash-first",
        "hunt-name-colon",
        "hunt-name-at",
        "hunt-name-dotdot-only",
        "hunt-name-256",
    ]);
    r.setup(&["volume", "rm", "0fx-h", "fx"]);
    r.setup(&["volume", "create", "--label", "a=b", "--label", "c=d", "fx-h-l1"]);
    r.setup(&["volume", "create", "--label", "a=c", "fx-h-l2"]);
    r.setup(&["volume", "create", "fx-h-l3"]);
    r.setup(&["volume", "create", "FX-h-up"]);
    r.hold("fx-h-l2");
    r.cases(&[
        "hunt-ls-name-driver",
        "hunt-ls-driver-or",
        "hunt-ls-driver-upper",
        "hunt-ls-label-two-values",
        "hunt-ls-label-key-and-value",
        "hunt-ls-label-eq-eq",
        "hunt-ls-label-empty",
        "hunt-ls-dangling-label",
        "hunt-ls-not-dangling-label",
        "hunt-ls-name-dot",
        "hunt-ls-name-case",
        "hunt-ls-name-alternation",
        "hunt-ls-name-ci-flag",
        "hunt-ls-name-value-spaces",
        "hunt-ls-label-not-key",
        "hunt-ls-table-mountpoint",
        "hunt-ls-scope-size",
        "hunt-ls-labels",
        "hunt-ls-label-missing",
        "hunt-ls-table-upper",
        "hunt-ls-table-nospace",
        "hunt-ls-table-leading-space",
        "hunt-ls-table-trailing-space",
        "hunt-ls-newline-escape",
        "hunt-ls-table-literal",
        "hunt-ls-json-upper",
        "hunt-ls-json-space",
        "hunt-ls-q-table",
        "hunt-ls-table-no-rows",
        "hunt-inspect-json-missing",
        "hunt-inspect-missing-first",
        "hunt-inspect-dotjson-missing",
        "hunt-inspect-labels-key",
        "hunt-inspect-json-upper",
        "hunt-inspect-twice-same",
        "hunt-inspect-size",
        "hunt-prune-label-and",
        "hunt-prune-label-not-empty",
        "hunt-prune-label-empty",
        "hunt-prune-name",
        "hunt-prune-driver",
    ]);
    r.release("fx-h-l2");
    r.setup(&[
        "volume",
        "create",
        "--label",
        "b=2",
        "--label",
        "a=1",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "fx-h-tp",
    ]);
    r.cases(&[]);
    r.finish();
}
