//! The flags of Docker's image verbs that myvol leaves out: refused with `myvol images does
//! not support --tree` (status 125), as `run`'s are ([`super::run_flags`]), so that a command
//! line copied from Docker says what is missing instead of `unknown flag`.

/// A flag's long name and shorthand.
type Flag = (&'static str, Option<char>);

/// Per command (its words after `myvol`, every alias listed), the Docker CLI 28 flags myvol
/// does not support.
const UNSUPPORTED: &[(&[&str], &[Flag])] = &[
    // `docker image ls --tree` (experimental in Docker 28): the layer tree of multi-platform
    // images.
    (&["images", "image ls"], &[("tree", None)]),
    // `--platform`: one platform of a multi-platform image; myvol stores one platform per
    // image.
    (&["rmi", "image rm"], &[("platform", None)]),
    (&["image inspect"], &[("platform", None)]),
];

/// The table of `command` (`myvol image ls`), if it has one.
fn table(command: &str) -> Option<&'static [Flag]> {
    let words = command.strip_prefix("myvol ")?;
    UNSUPPORTED.iter().find(|(names, _)| names.contains(&words)).map(|(_, flags)| *flags)
}

/// `name` if it is one of `command`'s unsupported flags' long names.
pub fn unsupported_long(command: &str, name: &str) -> Option<&'static str> {
    table(command)?.iter().find(|(l, _)| *l == name).map(|(l, _)| *l)
}

/// The long name of `command`'s unsupported flag whose shorthand is `c`.
pub fn unsupported_short(command: &str, c: char) -> Option<&'static str> {
    table(command)?.iter().find(|(_, s)| *s == Some(c)).map(|(l, _)| *l)
}
