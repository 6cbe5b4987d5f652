//! Crash injection for tests. Built only with the `failpoints` feature: then, when the
//! environment variable `MYVOL_FAILPOINT` names a point, the process kills itself with SIGKILL
//! there, exactly as a crash or `kill -9` would; with `stop:NAME`, it stops itself there
//! (SIGSTOP), so that a test can act at that instant and let it go on (SIGCONT). Without the
//! feature, `hit` is a no-op.
//!
//! The library's own unit tests cannot be killed, but they can look: `observe` runs a hook
//! at every point this thread reaches (to copy the store as a crash at that instant would
//! leave it, or to check what is locked there).

#[cfg(any(test, feature = "failpoints"))]
pub fn hit(name: &str) {
    #[cfg(test)]
    observer::notify(name);
    #[cfg(feature = "failpoints")]
    if let Some(v) = std::env::var_os("MYVOL_FAILPOINT") {
        if v == name {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
            std::process::abort();
        }
        if v.to_str().and_then(|v| v.strip_prefix("stop:")) == Some(name) {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
        }
    }
}

#[cfg(not(any(test, feature = "failpoints")))]
#[inline(always)]
pub fn hit(_name: &str) {}

#[cfg(test)]
pub use observer::observe;

#[cfg(test)]
mod observer {
    use std::cell::RefCell;

    type Hook = Box<dyn FnMut(&str)>;

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    /// Run `f` with `hook` called at every failpoint this thread reaches meanwhile (not at
    /// those the hook itself reaches).
    pub fn observe<R>(hook: impl FnMut(&str) + 'static, f: impl FnOnce() -> R) -> R {
        struct Reset(Option<Hook>);
        impl Drop for Reset {
            fn drop(&mut self) {
                let old = self.0.take();
                HOOK.with(|h| *h.borrow_mut() = old);
            }
        }
        let old = HOOK.with(|h| h.borrow_mut().replace(Box::new(hook)));
        let _reset = Reset(old);
        f()
    }

    pub(super) fn notify(name: &str) {
        let Some(mut hook) = HOOK.with(|h| h.borrow_mut().take()) else {
            return;
        };
        hook(name);
        HOOK.with(|h| {
            let mut slot = h.borrow_mut();
            if slot.is_none() {
                *slot = Some(hook);
            }
        });
    }
}
