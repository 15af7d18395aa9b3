//! Finding (and freshly building) the `gatehouse` binary, and password hashes
//! made by the binary itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The password every harness user has.
pub const PASSWORD: &str = "correct horse battery staple";

/// The workspace root: the folder above this crate.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent folder")
        .to_path_buf()
}

/// Where cargo builds: `$CARGO_TARGET_DIR`, or `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// The `gatehouse` binary under test: `$GATEHOUSE_BIN` if set, otherwise the
/// workspace's debug build, rebuilt once per test process so a test never
/// runs against a stale binary.
pub fn gatehouse_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("GATEHOUSE_BIN") {
            return PathBuf::from(bin);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-p", "gatehouse", "--bin", "gatehouse"])
            .current_dir(workspace_root());
        // Cargo gives a test process this crate's package variables; a build
        // that inherits them sees e.g. CARGO_MANIFEST_DIR "changed" and
        // recompiles crates that track it (ring, and all of pingora after
        // it), costing every test binary a minute.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_for_tests = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
                || name == "CARGO_PRIMARY_PACKAGE"
                || name == "CARGO_TARGET_TMPDIR";
            if set_for_tests {
                build.env_remove(name.as_ref());
            }
        }
        let output = build
            .output()
            .expect("run cargo build for the gatehouse binary");
        assert!(
            output.status.success(),
            "building gatehouse failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bin = target_dir().join("debug").join("gatehouse");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
}

/// A `Command` for the binary under test, with logs kept readable.
pub fn gatehouse_command() -> Command {
    let mut command = Command::new(gatehouse_bin());
    command.env_remove("GATEHOUSE_CONFIG");
    command
}

/// Hashes `password` with `gatehouse hash-password` (password on stdin).
pub fn hash_password(password: &str) -> String {
    let mut child = gatehouse_command()
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gatehouse hash-password");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password");
    let output = child.wait_with_output().expect("wait for hash-password");
    assert!(
        output.status.success(),
        "gatehouse hash-password failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 hash")
        .trim()
        .to_string()
}

/// The argon2id hash of [`PASSWORD`], made once per test process: argon2 with
/// OWASP parameters is deliberately slow.
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let hash = hash_password(PASSWORD);
        assert!(
            hash.starts_with("$argon2id$"),
            "hash-password printed {hash:?}, not an argon2id PHC string"
        );
        hash
    })
}
