//! Crash injection for tests. Built only with the `failpoints` feature: then, when the
//! environment variable `MYVOL_FAILPOINT` names a point, the process kills itself with SIGKILL
//! there, exactly as a crash or `kill -9` would. Without the feature, `hit` is a no-op.

#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    if std::env::var_os("MYVOL_FAILPOINT").is_some_and(|v| v == name) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        std::process::abort();
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
