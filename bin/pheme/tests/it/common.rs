//! Running the real `pheme` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn pheme(args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_pheme"))
        .args(args)
        .output()
        .expect("run pheme");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "pheme {args:?} panicked:\n{}",
        run.stderr
    );
    run
}

/// A fresh empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pheme-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The repository's devnet config fixture.
pub fn devnet_config() -> String {
    format!(
        "{}/../../crates/pheme-spec/testdata/devnet/config.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}
