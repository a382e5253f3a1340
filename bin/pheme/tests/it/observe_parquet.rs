//! `pheme observe --out-dir`: a minute of loopback traffic (two Pheme nodes publishing valid
//! messages, the same ones twice, and garbage) into Parquet datasets, read back with DuckDB
//! (from PyPI, installed by scripts/install-test-deps.sh): row counts equal the node's
//! counters, no message twice, score components sum to the total, a captured rejected
//! message replays through `pheme decode` with the same reason; and a node killed with
//! SIGKILL leaves only complete files behind.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pheme_network::{NetworkConfig, NetworkHandle, spawn};
use pheme_spec::{ChainSpec, GossipKind, load_network, unix_now_ms};

use crate::common::{count, devnet_config, duckdb, free_port, pheme, temp_dir};

fn observe(port: u16, dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pheme"))
        .arg("observe")
        .args([
            "--network",
            &devnet_config(),
            "--active-validators",
            "16384",
        ])
        .args(["--no-discovery", "--listen", "127.0.0.1"])
        .args(["--trusted-ips", "127.0.0.1", "--port", &port.to_string()])
        .arg("--out-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A publishing Pheme node that keeps the observer dialled.
async fn publisher(chain: &ChainSpec, port: u16) -> NetworkHandle {
    let config = NetworkConfig::builder(chain.clone())
        .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .peer(format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap())
        .active_validators(16_384)
        .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
        .build()
        .unwrap();
    let (handle, mut events) = spawn(config, pheme_gossip::NoState, None).unwrap();
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    handle
}

async fn wait_mesh(h: &NetworkHandle) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if h.snapshot().await.is_ok_and(|s| {
            s.mesh
                .get("beacon_aggregate_and_proof")
                .is_some_and(|n| *n > 0)
        }) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the publisher found no mesh");
}

/// The topic kinds whose fixtures pass the devnet's (minimal preset) stateless checks.
const VALID_ON_DEVNET: [GossipKind; 3] = [
    GossipKind::SyncCommittee(1),
    GossipKind::VoluntaryExit,
    GossipKind::ProposerSlashing,
];

/// Publishes for `secs`: each slot the valid messages from every good node (the later copies
/// are duplicates, or reach the observer first), and from `bad`, for its first slots, random
/// bytes where an aggregate belongs (REJECTed by validation: they do not decode; the bad node
/// ends up banned). Returns the messages published.
async fn traffic(
    chain: &ChainSpec,
    good: &[NetworkHandle],
    bad: Option<&NetworkHandle>,
    secs: u64,
) -> u64 {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut published = 0;
    let mut seed = 1;
    while Instant::now() < end {
        let slot = chain.clock().slot_at_ms(unix_now_ms()).unwrap();
        seed += 1;
        let c = chain.clone();
        let messages = tokio::task::spawn_blocking(move || {
            pheme_testkit::fixtures::valid_messages(&c, slot, seed).unwrap()
        })
        .await
        .unwrap();
        for (kind, ssz) in messages
            .into_iter()
            .filter(|(k, _)| VALID_ON_DEVNET.contains(k))
        {
            for n in good {
                published += u64::from(n.publish_ssz(kind, ssz.clone()).await.is_ok());
            }
        }
        if let Some(bad) = bad.filter(|_| seed < 8) {
            let garbage = pheme_testkit::fixtures::bytes(seed, 300);
            let kind = GossipKind::BeaconAggregateAndProof;
            published += u64::from(bad.publish_ssz(kind, garbage).await.is_ok());
        }
        let wait = chain.clock().ms_until_next_slot(unix_now_ms()) + 50;
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    published
}

fn field(line: &str, name: &str) -> u64 {
    let key = format!("{name}=");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&key))
        .and_then(|v| v.trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn a_minute_of_traffic_reads_back_with_duckdb() {
    let _heavy = crate::common::heavy();
    let chain = load_network(&devnet_config()).unwrap();
    let dir = temp_dir("observe-parquet");
    let port = free_port();
    let node = observe(
        port,
        &dir,
        &[
            "--duration",
            "58s",
            "--capture",
            "rejected",
            "--rotate-every",
            "20s",
            "--row-group-rows",
            "200",
        ],
    );
    let rt = runtime();
    let published = rt.block_on(async {
        let good = vec![publisher(&chain, port).await, publisher(&chain, port).await];
        let bad = publisher(&chain, port).await;
        for n in good.iter().chain([&bad]) {
            wait_mesh(n).await;
        }
        // Traffic stops a few seconds before the observer does: nothing in flight at exit.
        let n = traffic(&chain, &good, Some(&bad), 40).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        n
    });
    let out = node.wait_with_output().unwrap();
    let stderr =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(published > 60, "published {published}");
    let total = stderr
        .lines()
        .find(|l| l.contains("ran ") && l.contains(": accept "))
        .unwrap_or_else(|| panic!("no total line: {stderr}"));
    let words: Vec<&str> = total.split_whitespace().collect();
    let after = |w: &str| -> u64 {
        let i = words.iter().position(|x| *x == w).unwrap();
        words[i + 1].parse().unwrap()
    };
    let (accept, ignore, reject) = (after("accept"), after("ignore"), after("reject"));
    let parquet_line = stderr.lines().find(|l| l.contains("parquet: ")).unwrap();
    eprintln!("{total}\n{parquet_line}");
    assert!(parquet_line.contains("messages"), "{parquet_line}");
    for table in ["messages", "control", "peers", "payloads"] {
        assert!(
            parquet_line.contains(&format!(" {table} ")),
            "{parquet_line}"
        );
    }
    assert_eq!(
        parquet_line.matches("(dropped 0, lost 0)").count(),
        4,
        "{parquet_line}"
    );

    let d = dir.display();
    let table =
        |t: &str| format!("read_parquet('{d}/table={t}/**/*.parquet', hive_partitioning = true)");
    // Rows equal the node's counters; no message twice.
    let messages = count(&format!("select count(*) from {}", table("messages")));
    assert_eq!(messages, accept + ignore + reject, "{total}");
    assert!(accept > 20 && reject > 2, "{total}");
    assert_eq!(
        count(&format!(
            "select count(*) - count(distinct message_id) from {} where message_id is not null",
            table("messages")
        )),
        0
    );
    assert_eq!(
        count(&format!(
            "select count(*) from {} where verdict = 'reject'",
            table("messages")
        )),
        reject
    );
    // Partitions are the arrival's UTC date and hour, slots and offsets are filled in.
    assert_eq!(
        count(&format!(
            "select count(*) from {} where strftime(arrival_time at time zone 'UTC', '%Y-%m-%d') <> date::varchar \
             or hour(arrival_time at time zone 'UTC') <> hour::int or slot is null or slot_offset_ms >= 2000",
            table("messages")
        )),
        0
    );
    // The second publisher's copies: duplicates, and who sent them.
    assert!(
        count(&format!(
            "select count(*) from {} where duplicates > 0 and len(duplicate_from) > 0",
            table("messages")
        )) > 0
    );
    // Rotation by time: a 58 s run with 20 s files gives several files per table.
    assert!(
        count(&format!(
            "select count(distinct filename) from read_parquet('{d}/table=messages/**/*.parquet', filename = true)"
        )) >= 2
    );

    // Control rows equal the router's counters.
    let control = stderr
        .lines()
        .find(|l| l.contains("router control totals"))
        .unwrap_or_else(|| panic!("no control totals: {stderr}"));
    eprintln!("{control}");
    let rows: BTreeMap<String, (u64, u64)> = duckdb(&format!(
        "select kind || '_' || direction, count(*), sum(message_ids) from {} group by 1",
        table("control")
    ))
    .into_iter()
    .map(|r| {
        (
            r[0].as_str().unwrap().to_owned(),
            (r[1].as_u64().unwrap(), r[2].as_u64().unwrap()),
        )
    })
    .collect();
    for key in [
        "graft_in",
        "graft_out",
        "prune_in",
        "prune_out",
        "ihave_in",
        "ihave_out",
        "iwant_in",
        "iwant_out",
        "idontwant_out",
    ] {
        assert_eq!(
            rows.get(key).map_or(0, |r| r.0),
            field(control, key),
            "{key}: {rows:?} vs {control}"
        );
    }
    assert_eq!(
        rows.get("idontwant_in").map_or(0, |r| r.1),
        field(control, "idontwant_in")
    );
    // Who grafts whom first depends on the heartbeats' timing: a mesh was formed either way.
    let grafts = field(control, "graft_out") + field(control, "graft_in");
    assert!(grafts > 0 && field(control, "ihave_in") > 0, "{control}");

    // Peers: the three publishers came and were identified; score snapshots sum to their
    // totals.
    assert!(
        count(&format!(
            "select count(distinct peer) from {} where event = 'connected'",
            table("peers")
        )) >= 3
    );
    assert!(
        count(&format!(
            "select count(*) from {} where event = 'identified' and agent like 'pheme%'",
            table("peers")
        )) >= 3
    );
    assert!(
        count(&format!(
            "select count(*) from {} where event = 'gossipsub' and gossipsub = '/meshsub/1.3.0'",
            table("peers")
        )) >= 3
    );
    let snapshots = count(&format!(
        "select count(*) from {} where event = 'score'",
        table("peers")
    ));
    assert!(snapshots >= 2, "{snapshots} score snapshots");
    assert_eq!(
        count(&format!(
            "select count(*) from {} where event = 'score' and \
             abs(score - (p1 + p2 + p3 + p3b + p4 - topic_cap_cut + p5 + p6 + p7 + residual)) > 1e-9",
            table("peers")
        )),
        0
    );
    assert_eq!(
        count(&format!(
            "select count(*) from {} where event = 'score' and \
             abs(p2 - coalesce(list_sum(list_transform(topics, lambda t: t.p2)), 0)) > 1e-9",
            table("peers")
        )),
        0
    );

    // Capture: every rejected first copy's wire data, and one replays with the same reason.
    assert_eq!(
        count(&format!("select count(*) from {}", table("payloads"))),
        reject
    );
    let row = &duckdb(&format!(
        "select message_id, reason from {} where stage = 'validation' limit 1",
        table("payloads")
    ))[0];
    let (id, reason) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
    let run = pheme(&[
        "decode",
        "--network",
        &devnet_config(),
        "--capture",
        &dir.display().to_string(),
        "--message-id",
        id,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let replay: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(replay["reason"], reason, "{}", run.stdout);
    assert_eq!(replay["verdict"], "reject");
    assert_eq!(replay["message_id"], format!("0x{id}"));
    assert_eq!(replay["captured"]["reason"], reason);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sigkill_leaves_only_complete_files() {
    let _heavy = crate::common::heavy();
    let chain = load_network(&devnet_config()).unwrap();
    let dir = temp_dir("observe-parquet-kill");
    let port = free_port();
    // Small row groups: the unfinished files have written row groups, and their footers.
    let mut node = observe(
        port,
        &dir,
        &[
            "--rotate-every",
            "4s",
            "--row-group-rows",
            "4",
            "--capture",
            "all",
        ],
    );
    let rt = runtime();
    rt.block_on(async {
        let good = vec![publisher(&chain, port).await];
        wait_mesh(&good[0]).await;
        traffic(&chain, &good, None, 11).await;
    });
    node.kill().unwrap(); // SIGKILL
    node.wait().unwrap();
    // Unfinished files (`.tmp-<name>.r<rows in written row groups>.partial`), and beside those
    // with written row groups the footer they need (`.tmp-<name>.footer`).
    let names: Vec<String> = walk(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    let (mut partial, mut with_footer, mut footed_rows, mut complete) = (0, 0, 0u64, 0);
    for name in &names {
        if let Some(rest) = name.strip_suffix(".partial") {
            partial += 1;
            let (file, rows) = rest
                .strip_prefix(".tmp-")
                .unwrap()
                .rsplit_once(".r")
                .unwrap();
            if names.contains(&format!(".tmp-{file}.footer")) {
                with_footer += 1;
                footed_rows += rows.parse::<u64>().unwrap();
            }
        } else if name.ends_with(".parquet") && !name.starts_with(".tmp-") {
            complete += 1;
        } else {
            assert!(name.ends_with(".footer"), "{name}");
        }
    }
    assert!(complete >= 2, "{complete} complete files");
    assert!(
        with_footer >= 1,
        "no unfinished file had written row groups: {names:?}"
    );
    // Every file the glob finds is complete: DuckDB reads them all.
    let d = dir.display();
    for t in ["messages", "control", "peers"] {
        assert!(
            count(&format!(
                "select count(*) from read_parquet('{d}/table={t}/**/*.parquet')"
            )) > 0,
            "{t}"
        );
    }
    let all =
        format!("select count(*) from read_parquet('{d}/**/*.parquet', union_by_name = true)");
    let before = count(&all);
    assert!(before > 0);
    // The next start finishes the unfinished files from their footers (a crash loses only
    // the rows still in memory), removes the rest, and says so.
    let again = observe(free_port(), &dir, &["--duration", "1s"]);
    let out = again.wait_with_output().unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let said = log
        .split("from an earlier crash: ")
        .nth(1)
        .and_then(|l| l.lines().next())
        .unwrap_or_else(|| panic!("no crash line: {log}"));
    let numbers: Vec<u64> = said
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    let [finished, kept, removed, _lost] = numbers[..] else {
        panic!("{said}")
    };
    assert_eq!(
        (finished, removed),
        (with_footer, partial - with_footer),
        "{said}"
    );
    assert!(
        kept >= footed_rows && kept > 0,
        "{said}: {footed_rows} rows named"
    );
    let after = count(&all);
    assert!(
        after >= before + kept,
        "{before} + {kept} rows, then {after}"
    );
    eprintln!(
        "after SIGKILL: {complete} complete files, {partial} unfinished, {finished} finished at the next start with {kept} rows, {removed} removed"
    );
    assert_eq!(
        walk(&dir)
            .iter()
            .filter(|p| p
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(".tmp-"))
            .count(),
        0
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
