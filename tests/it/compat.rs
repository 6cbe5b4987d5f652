//! Replays of what the real Docker CLI printed (tests/fixtures/docker, recorded with
//! tests/fixtures/record-docker.sh): each case runs the same arguments through myvol on the
//! same store state and compares exit code, stdout and stderr after normalisation.
