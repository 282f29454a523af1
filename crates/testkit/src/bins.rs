//! Workspace binaries for tests in packages that do not own them. Cargo only builds a
//! package's own binaries for its tests, so the first call builds them with the same cargo,
//! profile and target directory as the running test — and with the same package selection
//! as `cargo test --workspace` (all bins and tests), because building one package alone
//! unifies dependency features differently and would recompile half the dependency tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The target directory the running test was built into.
pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("the profile directory has a parent")
        .to_path_buf()
}

/// `<target>/debug` (or the release directory) of the running test binary.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // <target>/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("a test binary lives in <target>/<profile>/deps")
        .to_path_buf()
}

/// Returns the path of the workspace binary `bin`, building all workspace binaries first
/// (once per test process; a no-op when `cargo test --workspace` already built them).
pub fn cargo_bin(bin: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let profile_dir = profile_dir();
    let built = BUILT.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--workspace", "--bins", "--tests"])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(target_dir());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!(
                "cargo build of the workspace binaries failed: {status}"
            )),
            Err(e) => Err(format!("cannot run cargo: {e}")),
        }
    });
    if let Err(why) = built {
        panic!("{why}");
    }
    let path = profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} was not built", path.display());
    path
}
