//! Exit statuses: the one type every command fails with (through [`super::Failure`]), and the
//! table that gives `myvol run`'s failures `docker run`'s statuses.

use std::io;

use myvol::driver::local::LocalMountError;
use myvol::driver::plugin::PluginError;
use myvol::driver::{DriverError, PluginDriverError};
use myvol::plan::{AttachError, PlanError, RunError};
use myvol::runtime::{ChildFailure, ExecError, Exit};
use myvol::store::StoreError;

/// How the process ends, in Docker's CLI's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0.
    Success,
    /// 1: a command failed (for `docker volume`, what the daemon refuses), or was given too
    /// many or too few arguments.
    Failure,
    /// 64: an inspect `--format` template that does not parse.
    Template,
    /// 125: a flag, or a flag's value, that does not parse.
    Usage,
    /// 125: `myvol run` failed before its command could start (Docker: the daemon or runc
    /// failed).
    RunFailed,
    /// 126: the command exists but cannot be executed.
    CannotInvoke,
    /// 127: the command was not found.
    NotFound,
    /// The run's command exited with this status.
    Command(u8),
    /// 128+N: signal N killed the run's command.
    Signal(u8),
}

impl ExitStatus {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Template => 64,
            ExitStatus::Usage | ExitStatus::RunFailed => 125,
            ExitStatus::CannotInvoke => 126,
            ExitStatus::NotFound => 127,
            ExitStatus::Command(code) => code,
            ExitStatus::Signal(n) => 128u8.saturating_add(n),
        }
    }

    /// `docker run`'s status for a failure of `myvol run` (or `myvol exec-spec`), decided by
    /// what failed, never by the wording of the message.
    ///
    /// Docker's CLI gives a failed `docker run` 125, except that it gives 127 when the error
    /// text says `executable file not found` or `no such file or directory`, and 126 when it
    /// says `permission denied` or `is a directory` (`runStartContainerErr`, docker/cli
    /// `cli/command/container/run.go`). Those words are runc's for a command it cannot find,
    /// and the C library's for `ENOENT`, `EACCES` and `EISDIR`. myvol knows which of these it
    /// has, so the table goes by error variant and errno:
    ///
    /// | stage | failure | status |
    /// |---|---|---|
    /// | plan | a mount spec Docker rejects, the data-root propagation rule, an empty rootfs | 125 |
    /// | plan | looking up or checking a volume ([`StoreError`]) | by errno, else 125 |
    /// | plan | a bind source that cannot be examined (`stat`) | by errno |
    /// | plan | the rootfs, an `--env-file`, `-e`, `-u`, a process the runtime refuses | 125 |
    /// | plan | the image (or an image mount's) not in the store, unreadable; no command | 125 |
    /// | attach | creating or leasing a volume ([`StoreError`]) | by errno, else 125 |
    /// | attach | mounting a volume's driver options, or its content dir ([`DriverError`]) | by errno, else 125 |
    /// | attach | a volume plugin's answer: text from outside myvol | Docker's rule on the text |
    /// | attach | creating a missing `-v` bind source (`mkdir`) | by errno |
    /// | attach | finding the mount a shared or slave bind's source is on | by errno |
    /// | attach | a propagation the source's mount cannot give (Docker's `ensureShared`) | 125 |
    /// | attach | leasing an image (removed since it was planned) | 125 |
    /// | execute | the run directory, the supervisor's own steps, a setup step in the run (a mount, the working directory, `/dev/null`, privileges…) | by errno, else 125 |
    /// | execute | a rule of runc's or Docker's checked in the run (proc-safety, a working directory that is a file, a target that is the root, a subpath that escapes, an image's user not in the image) | 125 |
    /// | execute | the command not found: no executable file in `PATH`, or `ENOENT` on its path | 127 |
    /// | execute | the command cannot be executed: not executable (`EACCES`), a directory (`EISDIR`) | 126 |
    /// | (command) | `execve` failed once the command was found (`ENOEXEC`…): the command's own failure, status 255 | — |
    /// | execute | `-i -t` with an input that is not a terminal (checked first, by `run` before planning) | 1 |
    ///
    /// By errno: `ENOENT` 127, `EACCES` and `EISDIR` 126, any other 125 (also an error with no
    /// errno). A store error carries an errno when it wraps an `io::Error` (creating a volume's
    /// directory, reading the store, copying); a plugin's failure reaches myvol as the plugin's
    /// text (its `Err`, or the connection error), as it reaches Docker's daemon.
    pub fn of_run_error(e: &RunError) -> ExitStatus {
        match e {
            RunError::Plan(e) => match e {
                PlanError::Volume(e) => of_store_error(e),
                PlanError::BindSourceStat { source, .. } | PlanError::BindSourceCreate { source, .. } => {
                    of_errno(source)
                }
                PlanError::Spec(_)
                | PlanError::DataRootPropagation { .. }
                | PlanError::EmptyRootfs
                | PlanError::Rootfs(_)
                | PlanError::EnvFile { .. }
                | PlanError::Env(_)
                | PlanError::User(_)
                | PlanError::Invalid(_)
                | PlanError::Image(_)
                | PlanError::NoCommand
                | PlanError::ChownRefused { .. }
                | PlanError::Unmapped(_)
                | PlanError::Labels(_) => ExitStatus::RunFailed,
            },
            RunError::Attach(e) => match e {
                AttachError::Volume(e) => of_store_error(e),
                AttachError::Driver(e) => of_driver_error(e),
                AttachError::BindSource { source, .. } | AttachError::SourceMount { source, .. } => of_errno(source),
                AttachError::NotShared { .. }
                | AttachError::NotSharedOrSlave { .. }
                | AttachError::NoSourceMount(_)
                | AttachError::Image(_) => ExitStatus::RunFailed,
            },
            RunError::Exec(e) => match e {
                ExecError::Child { failure: ChildFailure::NotFound, .. } => ExitStatus::NotFound,
                ExecError::Child { failure: ChildFailure::CannotExecute, .. } => ExitStatus::CannotInvoke,
                ExecError::Child { failure: ChildFailure::Setup, errno, .. } => {
                    errno.map_or(ExitStatus::RunFailed, of_raw_errno)
                }
                ExecError::RunDir(e) => of_store_error(e),
                ExecError::Supervisor { source, .. } => of_errno(source),
                // docker/cli's own check, before any container exists: a plain error, 1.
                ExecError::NotATty(_) => ExitStatus::Failure,
            },
        }
    }
}

impl From<Exit> for ExitStatus {
    fn from(e: Exit) -> ExitStatus {
        match e {
            Exit::Code(0) => ExitStatus::Success,
            Exit::Code(code) => ExitStatus::Command(code),
            Exit::Signal(n) => ExitStatus::Signal(n),
        }
    }
}

/// A store error: by the errno of the `io::Error` it wraps; a plugin's answer by its text.
fn of_store_error(e: &StoreError) -> ExitStatus {
    match e {
        StoreError::CreateDir { source, .. } | StoreError::Copy { source, .. } | StoreError::Io { source, .. } => {
            of_errno(source)
        }
        StoreError::Store { source, .. } => of_store_error(source),
        StoreError::Driver { source, .. } => match source.downcast_ref::<PluginDriverError>() {
            Some(e) => of_plugin_error(e),
            None => of_plugin_text(&source.to_string()),
        },
        _ => ExitStatus::RunFailed,
    }
}

/// A driver error: by the errno of the mount(2), umount(2) or file operation that failed; a
/// plugin's answer by its text.
fn of_driver_error(e: &DriverError) -> ExitStatus {
    match e {
        DriverError::Store(e) => of_store_error(e),
        DriverError::Mount { source, .. } | DriverError::Unmount { source, .. } => match source.as_ref() {
            LocalMountError::Mount { error, .. }
            | LocalMountError::Unmount { target: _, error }
            | LocalMountError::Loop { image: _, error } => of_errno(error),
            LocalMountError::MissingDevice | LocalMountError::Resolve { .. } | LocalMountError::DeviceUrl { .. } => {
                ExitStatus::RunFailed
            }
        },
        DriverError::Io { source, .. } => of_errno(source),
        DriverError::PluginMount { source, .. } | DriverError::PluginUnmount { source, .. } => of_plugin_error(source),
    }
}

/// Docker's rule, for the errno its text would show: `ENOENT` ("no such file or directory")
/// 127, `EACCES` ("permission denied") and `EISDIR` ("is a directory") 126.
fn of_errno(e: &io::Error) -> ExitStatus {
    e.raw_os_error().map_or(ExitStatus::RunFailed, of_raw_errno)
}

fn of_raw_errno(errno: i32) -> ExitStatus {
    match errno {
        libc::ENOENT => ExitStatus::NotFound,
        libc::EACCES | libc::EISDIR => ExitStatus::CannotInvoke,
        _ => ExitStatus::RunFailed,
    }
}

/// A volume plugin's failure: what the plugin (or the connection to it) said goes by Docker's
/// rule on that text, as Docker's daemon passes it on; what myvol itself refused (an
/// untrusted socket, a mountpoint that breaks the rule, an answer too large or malformed…)
/// is a failed run, 125, whatever words it quotes.
fn of_plugin_error(e: &PluginDriverError) -> ExitStatus {
    let e = match e {
        PluginDriverError::Lookup { source, .. } | PluginDriverError::Call(source) => source.as_ref(),
        PluginDriverError::RecordMount(source) => return of_errno(source),
    };
    match e {
        PluginError::Connect { .. }
        | PluginError::Lookup { .. }
        | PluginError::Http { .. }
        | PluginError::Remote { .. }
        | PluginError::Status { .. } => of_plugin_text(&e.to_string()),
        _ => ExitStatus::RunFailed,
    }
}

/// Docker's rule itself, for text that comes from outside myvol (a volume plugin's answer),
/// which Docker's daemon passes on as it is.
fn of_plugin_text(text: &str) -> ExitStatus {
    if ["executable file not found", "no such file or directory", "system cannot find the file specified"]
        .iter()
        .any(|w| text.contains(w))
    {
        ExitStatus::NotFound
    } else if text.contains("permission denied") || text.contains("is a directory") {
        ExitStatus::CannotInvoke
    } else {
        ExitStatus::RunFailed
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use myvol::name::VolumeName;
    use myvol::runtime::{Invalid, RootfsError};
    use myvol::spec::SpecError;

    use super::*;

    fn errno(n: i32) -> io::Error {
        io::Error::from_raw_os_error(n)
    }

    #[test]
    fn codes() {
        let cases = [
            (ExitStatus::Success, 0),
            (ExitStatus::Failure, 1),
            (ExitStatus::Template, 64),
            (ExitStatus::Usage, 125),
            (ExitStatus::RunFailed, 125),
            (ExitStatus::CannotInvoke, 126),
            (ExitStatus::NotFound, 127),
            (ExitStatus::Command(42), 42),
            (ExitStatus::Signal(9), 137),
        ];
        for (status, code) in cases {
            assert_eq!(status.code(), code, "{status:?}");
        }
        assert_eq!(ExitStatus::from(Exit::Code(0)), ExitStatus::Success);
        assert_eq!(ExitStatus::from(Exit::Code(3)), ExitStatus::Command(3));
        assert_eq!(ExitStatus::from(Exit::Signal(15)).code(), 143);
    }

    /// One error per row of the table; where the status goes by errno, the message is worded
    /// so that Docker's text rule would say otherwise, proving that only the variant counts.
    #[test]
    fn docker_run_statuses_by_variant() {
        let path = || PathBuf::from("/p/no such file or directory");
        let plan = |e: PlanError| RunError::Plan(e);
        let attach = |e: AttachError| RunError::Attach(e);
        let child =
            |failure| RunError::Exec(ExecError::Child { failure, message: "permission denied".into(), errno: None });
        let setup = |errno| {
            RunError::Exec(ExecError::Child {
                failure: ChildFailure::Setup,
                message: "no such file or directory".into(),
                errno: Some(errno),
            })
        };
        let cases: Vec<(RunError, ExitStatus)> = vec![
            (
                plan(PlanError::Spec(SpecError::InvalidMode { mode: "no such file or directory".into() })),
                ExitStatus::RunFailed,
            ),
            (plan(PlanError::EmptyRootfs), ExitStatus::RunFailed),
            (
                plan(PlanError::Rootfs(RootfsError::Unusable { path: path(), source: errno(libc::ENOENT) })),
                ExitStatus::RunFailed,
            ),
            (plan(PlanError::EnvFile { path: "/e".into(), source: errno(libc::ENOENT) }), ExitStatus::RunFailed),
            (plan(PlanError::Invalid(Invalid("permission denied".into()))), ExitStatus::RunFailed),
            (
                plan(PlanError::Volume(StoreError::Io { op: "open", path: path(), source: errno(libc::ENOENT) })),
                ExitStatus::NotFound,
            ),
            (
                plan(PlanError::Volume(StoreError::Io { op: "open", path: path(), source: errno(libc::EACCES) })),
                ExitStatus::CannotInvoke,
            ),
            (
                plan(PlanError::Volume(StoreError::Io { op: "open", path: path(), source: errno(libc::EIO) })),
                ExitStatus::RunFailed,
            ),
            (plan(PlanError::Volume(StoreError::NotFound("no such file or directory".into()))), ExitStatus::RunFailed),
            (plan(PlanError::BindSourceStat { path: path(), source: errno(libc::EACCES) }), ExitStatus::CannotInvoke),
            (plan(PlanError::BindSourceCreate { path: path(), source: errno(libc::ENOTDIR) }), ExitStatus::RunFailed),
            (attach(AttachError::BindSource { path: path(), source: errno(libc::EISDIR) }), ExitStatus::CannotInvoke),
            (attach(AttachError::BindSource { path: path(), source: errno(libc::ENOENT) }), ExitStatus::NotFound),
            (
                plan(PlanError::Spec(SpecError::DuplicateMountPoint { target: "/no such file or directory".into() })),
                ExitStatus::RunFailed,
            ),
            (
                attach(AttachError::Volume(StoreError::CreateDir {
                    name: "v".into(),
                    path: path(),
                    source: errno(libc::EACCES),
                })),
                ExitStatus::CannotInvoke,
            ),
            (
                attach(AttachError::Driver(DriverError::Io { op: "open", path: path(), source: errno(libc::ENOENT) })),
                ExitStatus::NotFound,
            ),
            (
                attach(AttachError::Driver(DriverError::PluginMount {
                    name: VolumeName::parse("v1").unwrap(),
                    source: PluginError::Remote {
                        plugin: "p".into(),
                        method: "VolumeDriver.Mount",
                        err: "mount failed: permission denied".into(),
                    }
                    .into(),
                })),
                ExitStatus::CannotInvoke,
            ),
            (
                attach(AttachError::Driver(DriverError::PluginMount {
                    name: VolumeName::parse("v1").unwrap(),
                    source: PluginError::NotFound { name: "p".into() }.into(),
                })),
                ExitStatus::RunFailed,
            ),
            (
                // myvol's own refusal, whatever words of the plugin's it quotes.
                attach(AttachError::Driver(DriverError::PluginMount {
                    name: VolumeName::parse("v1").unwrap(),
                    source: PluginError::BadMountpoint {
                        plugin: "p".into(),
                        volume: "v1".into(),
                        mountpoint: "/no such file or directory".into(),
                        reason: myvol::driver::plugin::BadMountpoint::TopLevel,
                    }
                    .into(),
                })),
                ExitStatus::RunFailed,
            ),
            (
                // The connection's own words, as Docker's daemon passes them on.
                attach(AttachError::Driver(DriverError::PluginMount {
                    name: VolumeName::parse("v1").unwrap(),
                    source: PluginError::Connect {
                        plugin: "p".into(),
                        method: "VolumeDriver.Mount",
                        url: "http://p/VolumeDriver.Mount".into(),
                        dial: "unix /run/p.sock".into(),
                        source: errno(libc::ENOENT),
                        attempts: 1,
                    }
                    .into(),
                })),
                ExitStatus::NotFound,
            ),
            (child(ChildFailure::Setup), ExitStatus::RunFailed),
            // A setup step in the run goes by the errno of what failed (`-v H:/dev`: runc's
            // `stat /dev/null` fails with ENOENT, Docker exits 127).
            (setup(libc::ENOENT), ExitStatus::NotFound),
            (setup(libc::EACCES), ExitStatus::CannotInvoke),
            (setup(libc::EINVAL), ExitStatus::RunFailed),
            (attach(AttachError::NotShared { path: path(), mount_point: "/".into() }), ExitStatus::RunFailed),
            (attach(AttachError::NotSharedOrSlave { path: path(), mount_point: "/".into() }), ExitStatus::RunFailed),
            (
                attach(AttachError::SourceMount { op: "lstat", path: path(), source: errno(libc::ENOENT) }),
                ExitStatus::NotFound,
            ),
            (
                RunError::Exec(ExecError::RunDir(StoreError::Io {
                    op: "mkdir",
                    path: path(),
                    source: errno(libc::EACCES),
                })),
                ExitStatus::CannotInvoke,
            ),
            (child(ChildFailure::NotFound), ExitStatus::NotFound),
            (child(ChildFailure::CannotExecute), ExitStatus::CannotInvoke),
            (
                RunError::Exec(ExecError::Supervisor { what: "wait", source: errno(libc::ECHILD) }),
                ExitStatus::RunFailed,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(ExitStatus::of_run_error(&e), status, "{e:?}");
        }
    }

    #[test]
    fn plugin_text_follows_dockers_rule() {
        let cases = [
            ("exec: \"x\": executable file not found in $PATH", ExitStatus::NotFound),
            (
                "Post \"http://p/VolumeDriver.Mount\": dial unix /p.sock: connect: no such file or directory",
                ExitStatus::NotFound,
            ),
            ("open /d: is a directory", ExitStatus::CannotInvoke),
            ("mkdir /d: permission denied", ExitStatus::CannotInvoke),
            ("volume is busy", ExitStatus::RunFailed),
        ];
        for (text, status) in cases {
            assert_eq!(of_plugin_text(text), status, "{text}");
        }
    }
}
