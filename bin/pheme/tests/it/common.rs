//! Running the real `pheme` binary.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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

/// Held for its whole run by each heavy test: the four Lodestar interop scenarios (`interop`,
/// `interop_bad_peer`, `interop_relay`: Lodestar nodes on 2 s slots, Pheme observers, a bad
/// peer), the two peering observers of `observe` and `pheme bench ingest` (`bench`: a load
/// level whose throughput it asserts). They were separate test binaries, which cargo runs one
/// after another (only interop's two scenarios shared a binary and ran side by side); in this
/// one binary the harness runs tests on parallel threads, and on a 2-core machine two of them
/// together could miss their slot and throughput deadlines. So they take turns; the light
/// tests still run beside them. Interop's two scenarios share their turn, as they shared
/// their binary.
static HEAVY: RwLock<()> = RwLock::new(());

/// Waits for the other heavy tests (see [`HEAVY`]); the turn lasts as long as the guard. A
/// heavy test that failed does not stop the next one (the lock's poison is ignored).
pub fn heavy() -> RwLockWriteGuard<'static, ()> {
    HEAVY.write().unwrap_or_else(PoisonError::into_inner)
}

/// A turn shared with the other tests that take this one (interop's altair and capella
/// scenarios, which always ran side by side), exclusive of every [`heavy`] test.
pub fn heavy_shared() -> RwLockReadGuard<'static, ()> {
    HEAVY.read().unwrap_or_else(PoisonError::into_inner)
}

/// A free loopback port whose next one (QUIC's) is free too.
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if port < 65_000 && std::net::UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Runs `sql` in DuckDB, returns its rows as JSON arrays.
pub fn duckdb(sql: &str) -> Vec<serde_json::Value> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import duckdb, json, sys\n\
             rows = duckdb.connect().execute(sys.argv[1]).fetchall()\n\
             print(json.dumps([list(r) for r in rows], default=str))",
            sql,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "duckdb failed on {sql}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn count(sql: &str) -> u64 {
    duckdb(sql)[0][0].as_u64().unwrap()
}
