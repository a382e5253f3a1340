//! A real Prometheus (Debian's `prometheus`, installed by `scripts/install-test-deps.sh`)
//! scrapes a `pheme observe` among loopback nodes that publish real gossip, and every query of
//! the Grafana dashboard, through Prometheus's HTTP API, returns series.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{heavy, temp_dir};
use crate::loopback::{self, Guard, PATIENCE, PeerSpec, Publishers, free_port};

/// Every `expr` of the dashboard, with its panel's title.
fn dashboard_queries() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana/pheme-observe.json"
    );
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            out.push((
                panel["title"].as_str().unwrap().to_owned(),
                t["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

/// The number of series `expr` returns now (`None` when Prometheus does not answer).
fn series(prometheus: &str, expr: &str) -> Option<usize> {
    let body = ureq::get(&format!("http://{prometheus}/api/v1/query"))
        .query("query", expr)
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    assert_eq!(v["status"], "success", "{expr}: {body}");
    v["data"]["result"].as_array().map(Vec::len)
}

#[test]
fn prometheus_answers_every_dashboard_query() {
    let _heavy = heavy();
    let started = Instant::now();
    let dir = temp_dir("prometheus");
    let (chain, config) = loopback::chain(&dir);
    // Three honest nodes (the first runs discv5, the observer's bootnode) and one whose
    // messages are REJECTed.
    let spec = |agent, bad, discovery| PeerSpec {
        agent,
        bad,
        discovery,
    };
    let mut nodes = Publishers::start(
        &chain,
        &[
            spec("Lighthouse/v7.1.0-test", false, true),
            spec("Prysm/v6.0.4/test", false, false),
            spec("teku/v25.6.0/test", false, false),
            spec("Nimbus/v25.7.0-test", true, false),
        ],
        None,
    );
    let enr = nodes.enr();
    let obs = loopback::observer(
        &config,
        &dir,
        &[
            "--enr-address",
            "127.0.0.1",
            "--boot-nodes",
            &enr,
            "--peers",
            // The other nodes dial nobody but the first: the observer dials them.
            &nodes
                .peers
                .iter()
                .skip(1)
                .map(|p| {
                    let h = p.handle.clone();
                    let addr = loopback::wait_async(&nodes.rt, || {
                        let h = h.clone();
                        async move { h.snapshot().await.ok()?.listen.first().cloned() }
                    })
                    .unwrap();
                    addr.to_string()
                })
                .collect::<Vec<_>>()
                .join(","),
        ],
    );
    nodes.publish_every_slot(&chain, 16);
    loopback::garbage_sender(&nodes.rt, &chain, obs.addr(), 2);

    let web = format!("127.0.0.1:{}", free_port());
    let prom_config = dir.join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: pheme\n    static_configs:\n      - targets: ['{}']\n",
            obs.http
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let mut prometheus = Guard::spawn(
        "prometheus",
        Command::new("prometheus")
            .arg(format!("--config.file={}", prom_config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .arg("--log.level=warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null()),
    );

    let queries = dashboard_queries();
    assert!(queries.len() >= 20, "{} queries", queries.len());
    // Prometheus up, the observer scraped, and then every query answered with series (the
    // rate windows need two scrapes, the ban and the rejections a few slots of traffic).
    let deadline = Instant::now() + PATIENCE + Duration::from_secs(30);
    let mut empty: Vec<(String, String)>;
    loop {
        if let Some(status) = prometheus.exited() {
            let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
            panic!("prometheus exited ({status}): {log}");
        }
        empty = Vec::new();
        let up = series(&web, "up{job=\"pheme\"} == 1");
        if up == Some(1) {
            for (title, expr) in &queries {
                let expr = expr.replace("$instance", ".+");
                if series(&web, &expr).unwrap_or(0) == 0 {
                    empty.push((title.clone(), expr));
                }
            }
            if empty.is_empty() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus up: {up:?}; queries without series: {empty:#?}\nobserver log:\n{}",
            obs.log_text()
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    eprintln!(
        "all {} dashboard queries returned series after {:.1} s",
        queries.len(),
        started.elapsed().as_secs_f64()
    );
    drop(prometheus);
    drop(obs);
    drop(nodes);
    std::fs::remove_dir_all(dir).unwrap();
}
