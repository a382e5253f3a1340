//! `pheme observe`'s selection (`--topics`, `--agents`) and its live status page, on loopback
//! with Pheme nodes publishing real gossip; the page is rendered by headless Chromium.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{heavy, temp_dir};
use crate::loopback::{self, Guard, Observer, PATIENCE, PeerSpec, Publishers, status_peers};

const LIGHTHOUSE: &str = "Lighthouse/v7.1.0-test/x86_64-linux";

#[test]
fn observe_keeps_the_selected_topics_and_agents() {
    let _heavy = heavy();
    let dir = temp_dir("selection");
    let (chain, config) = loopback::chain(&dir);
    let mut obs = loopback::observer(
        &config,
        &dir,
        &[
            "--no-discovery",
            "--topics",
            "beacon_block",
            "--agents",
            "LIGHTHOUSE,prysm",
        ],
    );
    let mut nodes = Publishers::start(
        &chain,
        &[
            PeerSpec {
                agent: LIGHTHOUSE,
                bad: false,
                discovery: false,
            },
            PeerSpec {
                agent: "pheme/0.1.0-test",
                bad: false,
                discovery: false,
            },
        ],
        Some(obs.addr()),
    );
    nodes.publish_every_slot(&chain, 4);
    // And a peer that never identifies itself.
    loopback::garbage_sender(&nodes.rt, &chain, obs.addr(), 1);
    let (kept, dropped) = (nodes.peers[0].id.to_string(), nodes.peers[1].id.to_string());

    // One topic: beacon_block at the one digest in use.
    obs.wait("one subscribed topic", |o| {
        o.metric("pheme_topics_subscribed") == Some(1.0)
    });
    // The Lighthouse peer stays and is in the one mesh; the other is said goodbye (2,
    // irrelevant network) once it identified itself.
    obs.wait("the agent filter", |o| {
        o.metric("pheme_peers_filtered_total{reason=\"agent\"}") == Some(1.0)
            && o.status().is_some_and(|s| {
                let peers = s["network"]["peers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let kept_mesh = peers
                    .iter()
                    .find(|p| p["peer"] == kept.as_str())
                    .map(|p| p["mesh"].clone());
                kept_mesh == Some(serde_json::json!(["beacon_block"]))
                    && !peers.iter().any(|p| p["peer"] == dropped.as_str())
            })
    });
    assert_eq!(
        obs.metric("pheme_goodbyes_sent_total{reason=\"2\"}"),
        Some(1.0)
    );
    // Only beacon_block messages arrive, and they are accepted.
    obs.wait("accepted blocks", |o| {
        o.status().is_some_and(|s| {
            let rows = s["traffic"]["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            !rows.is_empty()
                && rows.iter().all(|r| r["kind"] == "beacon_block")
                && rows[0]["accept"].as_u64() > Some(0)
        })
    });
    let s = obs.status().unwrap();
    let mesh = s["network"]["mesh"].as_array().unwrap();
    assert_eq!(mesh.len(), 1, "{mesh:?}");
    assert_eq!(mesh[0]["kind"], "beacon_block");
    assert_eq!(s["node"]["selection"]["agents"][0], "LIGHTHOUSE");
    // The dropped peer keeps dialling (it has the observer as a static peer) but is kept out:
    // two redial intervals later it was not let in and filtered again.
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(
        obs.metric("pheme_peers_filtered_total{reason=\"agent\"}"),
        Some(1.0)
    );
    let s = obs.status().unwrap();
    assert!(!status_peers(&s).contains(&dropped), "{s}");
    // The silent peer goes 15 s after it connected (DEFAULT_IDENTIFY_TIMEOUT).
    obs.wait("the unidentified peer dropped", |o| {
        o.metric("pheme_peers_filtered_total{reason=\"unidentified\"}") == Some(1.0)
    });
    obs.wait("only the kept peer", |o| {
        o.status()
            .is_some_and(|s| status_peers(&s) == [kept.clone()] && s["network"]["filtered"] == 2)
    });
    drop(nodes);
    drop(obs);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn observe_refuses_unknown_topic_kinds() {
    let run = crate::common::pheme(&[
        "observe",
        "--network",
        &crate::common::devnet_config(),
        "--no-discovery",
        "--listen",
        "127.0.0.1",
        "--port",
        "0",
        "--topics",
        "beacon_block,beacon_attestation_3",
    ]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("unknown topic kind \"beacon_attestation_3\" (topic kinds are beacon_block,"),
        "{}",
        run.stderr
    );
}

/// Runs headless Chromium on `url` with `args`, its stdout to `out`; waits at most
/// [`PATIENCE`].
fn chromium(dir: &Path, url: &str, args: &[&str], out: &Path) {
    let profile = dir.join(format!("chromium-profile-{}", args.len()));
    let stdout = std::fs::File::create(out).unwrap();
    let mut guard = Guard::spawn(
        "chromium",
        Command::new("chromium")
            .args(["--headless=new", "--no-sandbox", "--disable-gpu"])
            .args(["--disable-dev-shm-usage", "--hide-scrollbars"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url)
            .stdout(stdout)
            .stderr(Stdio::null())
            .stdin(Stdio::null()),
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = guard.exited() {
            assert!(status.success(), "chromium {args:?} failed: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "chromium {args:?} timed out");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The observer among four nodes (Lighthouse, Prysm and Teku agents publishing valid gossip,
/// a Nimbus one publishing messages whose verdict is REJECT), ready for the page.
fn busy_observer(dir: &Path) -> (Observer, Publishers) {
    let (chain, config) = loopback::chain(dir);
    let mut obs = loopback::observer(&config, dir, &["--no-discovery"]);
    let agent = |agent, bad| PeerSpec {
        agent,
        bad,
        discovery: false,
    };
    let mut nodes = Publishers::start(
        &chain,
        &[
            agent(LIGHTHOUSE, false),
            agent("Prysm/v6.0.4/test", false),
            agent("teku/v25.6.0/linux-x86_64/test", false),
            agent("Nimbus/v25.7.0-test", true),
        ],
        Some(obs.addr()),
    );
    nodes.publish_every_slot(&chain, 16);
    loopback::garbage_sender(&nodes.rt, &chain, obs.addr(), 2);
    let good: Vec<String> = nodes.peers[..3].iter().map(|p| p.id.to_string()).collect();
    obs.wait("identified peers, traffic, a rejection and scores", |o| {
        o.status().is_some_and(|s| {
            let peers = s["network"]["peers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let identified = good.iter().all(|id| {
                peers
                    .iter()
                    .any(|p| p["peer"] == id.as_str() && p["agent"].is_string())
            });
            let scored = peers.iter().any(|p| p["score"]["p2"].as_f64() > Some(0.0));
            let accepted = s["traffic"]["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|r| r["accept"].as_u64() > Some(0)));
            let rejected = s["traffic"]["rejections"]
                .as_array()
                .is_some_and(|r| !r.is_empty());
            identified && scored && accepted && rejected
        })
    });
    (obs, nodes)
}

#[test]
fn the_status_page_renders_peers_and_score_components_in_chromium() {
    let _heavy = heavy();
    let dir = temp_dir("status-page");
    let (obs, nodes) = busy_observer(&dir);
    let url = format!("http://{}/status", obs.http);

    // The page as served: HTML, self-contained, and no peer in it before its script runs.
    let resp = ureq::get(&url).call().unwrap();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    let raw = obs.get("/status").unwrap();
    assert!(
        !raw.contains("http://") && !raw.contains("https://"),
        "external asset"
    );
    let good: Vec<String> = nodes.peers[..3].iter().map(|p| p.id.to_string()).collect();
    assert!(good.iter().all(|id| !raw.contains(id.as_str())));

    // Rendered by Chromium after its fetch of /status.json.
    let dom_path = dir.join("dom.html");
    chromium(
        &dir,
        &url,
        &["--virtual-time-budget=15000", "--dump-dom"],
        &dom_path,
    );
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    for id in &good {
        let row = dom
            .split("<tr ")
            .find(|r| r.contains(&format!("data-peer=\"{id}\"")))
            .unwrap_or_else(|| panic!("peer {id} not rendered:\n{dom}"));
        // Shown as its tail on a wide screen, whole on a phone.
        assert!(
            row.contains(&format!("\u{2026}{}", &id[id.len() - 10..])),
            "{row}"
        );
        assert!(row.contains(&format!(">{id}</span>")), "{row}");
        for c in ["p1", "p2", "p3", "p3b", "p4", "p5", "p6", "p7", "residual"] {
            assert!(
                row.contains(&format!("data-component=\"{c}\"")),
                "no {c} for {id}: {row}"
            );
        }
    }
    assert!(dom.contains(LIGHTHOUSE), "agents not rendered");
    assert!(dom.contains("data-label=\"P2 first deliveries\""));
    // Every kind the nodes publish valid messages of has its row, and the rejections theirs.
    for kind in ["beacon_block", "beacon_attestation", "sync_committee"] {
        assert!(
            dom.contains(&format!("data-kind=\"{kind}\"")),
            "no {kind} row"
        );
    }
    assert!(dom.contains("class=\"rejection\""), "no rejection rendered");
    // The last fetch succeeded: the error line is hidden and empty.
    assert!(
        dom.contains("<div id=\"error\" style=\"display: none;\"></div>"),
        "the page reports an error"
    );

    // `scripts/status-screenshot.sh` sets this to regenerate docs/images/status-page.png.
    if let Ok(png) = std::env::var("PHEME_STATUS_SCREENSHOT") {
        // Taken at once: the loopback nodes publish on a few subnets only, so within some
        // slots the mesh delivery penalty (P3) on the silent topics prunes them from the
        // meshes (the page shows that too, but an empty mesh makes a poor picture).
        let shot = format!("--screenshot={png}");
        // A phone's width, say 390,1600, shows the card layout.
        let window = format!(
            "--window-size={}",
            std::env::var("PHEME_STATUS_WINDOW").unwrap_or_else(|_| "1360,1120".into())
        );
        chromium(
            &dir,
            &url,
            &[
                "--virtual-time-budget=15000",
                window.as_str(),
                shot.as_str(),
            ],
            &dir.join("screenshot.log"),
        );
        assert!(Path::new(&png).exists());
    }
    drop(nodes);
    drop(obs);
    std::fs::remove_dir_all(dir).unwrap();
}
