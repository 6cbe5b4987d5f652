//! Bakes the build's facts into the binary for `myvol version`: the git commit it was built
//! from (when built from a git checkout) and the compiler's version.

use std::process::Command;

fn main() {
    let output = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    if let Some(commit) = output("git", &["rev-parse", "--short=7", "HEAD"]) {
        println!("cargo:rustc-env=MYVOL_GIT_COMMIT={commit}");
        // Build again when HEAD moves: HEAD itself, the branch it points to, packed refs.
        let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
        watch.extend(output("git", &["symbolic-ref", "-q", "HEAD"]));
        for name in watch {
            // A path that does not exist would make every build run this script again.
            if let Some(path) = output("git", &["rev-parse", "--git-path", &name])
                && std::path::Path::new(&path).exists()
            {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    if let Some(version) = output(&rustc, &["--version"]) {
        println!("cargo:rustc-env=MYVOL_RUSTC_VERSION={version}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
