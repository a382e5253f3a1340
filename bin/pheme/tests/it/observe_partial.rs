//! `pheme observe --partial-columns`: a libp2p-gossipsub peer with the Partial Messages
//! extension (`pheme_testkit::partial`) publishes a real column (c-kzg cells and proofs) as
//! partial messages to the observer on loopback; the observer's `partials` table (read back
//! with DuckDB) and its `--trace` JSON lines say which cells came from whom, and when.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pheme_network::params::topic_name;
use pheme_network::transform::{SnappyTransform, message_id_fn};
use pheme_spec::{GossipKind, unix_now_ms};
use pheme_testkit::partial::{PartialPeer, RefColumn};

use crate::common::{count, duckdb, pheme, temp_dir};
use crate::loopback;

/// The column the proposer publishes, and its blobs.
const COLUMN: u64 = 5;
const BLOBS: usize = 6;

fn slot_now(chain: &pheme_spec::ChainSpec) -> u64 {
    chain.clock().slot_at_ms(unix_now_ms()).unwrap()
}

/// The trace file's partial-message lines so far.
fn partial_lines(trace: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(trace)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["record"] == "partial")
        .collect()
}

#[test]
fn a_libp2p_peer_s_partial_column_is_recorded_cell_by_cell() {
    let _heavy = crate::common::heavy();
    let dir = temp_dir("observe-partial");
    let (chain, config) = loopback::chain(&dir);
    let (out_dir, trace) = (dir.join("out"), dir.join("trace.jsonl"));
    let mut obs = loopback::observer(
        &config,
        &dir,
        &[
            "--no-discovery",
            "--partial-columns",
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--trace",
            trace.to_str().unwrap(),
        ],
    );
    // Its metrics endpoint comes up before the swarm listens.
    obs.wait("its listen addresses", |o| {
        o.status().is_some_and(|s| {
            s["network"]["listen"]
                .as_array()
                .is_some_and(|l| !l.is_empty())
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (proposer, root, slot) = rt.block_on(async {
        let transform = SnappyTransform::new(Arc::new(chain.clone()));
        let id = message_id_fn(&transform);
        let proposer =
            PartialPeer::start(transform, id, chain.max_message_size() as usize).unwrap();
        // Column 5's topic at the current digest (a fulu chain with no BPO: one digest).
        let digest = chain.fork_digest_at(chain.epoch_of(slot_now(&chain)));
        let topic = topic_name(digest, GossipKind::DataColumnSidecar(COLUMN));
        proposer.subscribe(&topic, true);
        proposer.dial(&obs.addr());
        let deadline = Instant::now() + Duration::from_secs(40);
        while proposer.mesh(&topic).await.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the observer never joined the mesh"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let slot = slot_now(&chain);
        let s = tokio::task::spawn_blocking(move || {
            pheme_testkit::columns::block_columns(slot, BLOBS, 21, &[COLUMN])
                .unwrap()
                .remove(0)
        })
        .await
        .unwrap();
        let root = pheme_types::root_of(&s.signed_block_header.message).unwrap();
        proposer.publish_partial(&topic, RefColumn::full(&s).unwrap());
        // The trace is flushed every second: wait for the column's completion there.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !partial_lines(&trace).iter().any(|l| l["completed"] == true) {
            assert!(
                Instant::now() < deadline,
                "no completed partial record: {:?}",
                partial_lines(&trace)
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (proposer, root, slot)
    });
    // The status page counts them (refreshed every 2 s).
    std::thread::sleep(Duration::from_millis(2_500));
    let received = obs.status().unwrap()["network"]["partial"]["received"]
        .as_u64()
        .unwrap();
    let pid = obs.guard.child.as_ref().unwrap().id();
    let stopped = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = obs.guard.exited() {
            break status;
        }
        assert!(Instant::now() < deadline, "the observer did not stop");
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = obs.log_text();
    assert!(status.success(), "{log}");
    let parquet_line = log.lines().find(|l| l.contains("parquet: ")).unwrap();
    eprintln!("{parquet_line}");

    let rows = duckdb(&format!(
        "select peer, \"column\", block_root, header, cells, novel_cells, verdict, completed, \
         strftime(time at time zone 'UTC', '%Y-%m-%d') = date::varchar and hour(time at time zone 'UTC') = hour::int, slot, has, wants \
         from read_parquet('{}/table=partials/**/*.parquet', hive_partitioning = true) order by time",
        out_dir.display()
    ));
    let lines = partial_lines(&trace);
    eprintln!(
        "{} partial rows, {} partial trace lines: {:?}",
        rows.len(),
        lines.len(),
        rows
    );
    assert!(
        parquet_line.contains(&format!(
            " partials {} rows in 1 files (dropped 0, lost 0);",
            rows.len()
        )),
        "{parquet_line}"
    );
    assert_eq!(rows.len(), lines.len());
    assert_eq!(rows.len() as u64, received, "the status page's count");
    assert!(rows.len() >= 2, "a header, then cells: {rows:?}");
    let peer = proposer.peer.to_string();
    let hex_root = format!("0x{}", hex::encode(root));
    let mut cells: Vec<u64> = Vec::new();
    for (row, line) in rows.iter().zip(&lines) {
        assert_eq!(row[0], peer.as_str());
        assert_eq!(row[1], COLUMN);
        assert_eq!(row[2], hex_root.as_str());
        assert_eq!(row[6], "accept", "{row:?}");
        assert_eq!(row[8], true, "partition of {row:?}");
        assert!(row[9].as_u64().is_some_and(|s| s >= slot), "{row:?}");
        // The proposer's metadata: it has every cell and wants none.
        assert_eq!(row[10], serde_json::json!((0..BLOBS).collect::<Vec<_>>()));
        assert_eq!(row[11], serde_json::json!([]));
        // The JSON line says the same.
        assert_eq!(line["peer"], row[0]);
        assert_eq!(line["column"], row[1]);
        assert_eq!(line["block_root"], row[2]);
        assert_eq!(line["header"], row[3]);
        assert_eq!(line["cells"], row[4]);
        assert_eq!(line["novel_cells"], row[5]);
        assert_eq!(line["completed"], row[7]);
        assert_eq!((&line["has"], &line["wants"]), (&row[10], &row[11]));
        cells.extend(
            row[4]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap()),
        );
    }
    // The header came first, and once; every cell once (the observer lacked them all), the
    // last of them completed the column.
    assert_eq!(rows[0][3], true, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r[3] == true).count(), 1, "{rows:?}");
    cells.sort_unstable();
    assert_eq!(cells, (0..BLOBS as u64).collect::<Vec<_>>());
    let novel: u64 = rows.iter().map(|r| r[5].as_u64().unwrap()).sum();
    assert_eq!(novel, BLOBS as u64);
    assert_eq!(rows.iter().filter(|r| r[7] == true).count(), 1);
    // Which cells came from whom, and when (docs/observer.md's query).
    let per_peer = count(&format!(
        "select sum(len(cells)) from read_parquet('{}/table=partials/**/*.parquet') where peer = '{peer}'",
        out_dir.display()
    ));
    assert_eq!(per_peer, BLOBS as u64);
    drop(rt);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn partial_columns_need_pheme_s_router() {
    let run = pheme(&[
        "observe",
        "--router",
        "libp2p",
        "--partial-columns",
        "--duration",
        "1s",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--partial-columns needs --router pheme"),
        "{}",
        run.stderr
    );
}
