//! The `/metrics` endpoint: Pheme's metrics (a `metrics` recorder rendered by
//! metrics-exporter-prometheus) followed by libp2p's (a prometheus-client registry); beside it
//! the live status page, `/status` over `/status.json` (see [`super::status`]).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use pheme_network::SharedRecorder;
use prometheus_client::registry::Registry;

use super::status::{self, Board};
use crate::error::CliError;

/// Buckets of arrival-to-verdict times, seconds.
const VALIDATION_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
];
/// How often histogram samples are folded into their buckets when nobody scrapes: until then
/// metrics-exporter-prometheus keeps every sample (8 bytes per gossip message).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Buckets of peer scores.
const SCORE_BUCKETS: &[f64] = &[
    -16_000.0, -8_000.0, -4_000.0, -1_000.0, -100.0, -10.0, 0.0, 1.0, 5.0, 10.0, 50.0, 100.0,
];

/// The running endpoint.
#[derive(Clone)]
pub struct Server {
    libp2p: Arc<OnceLock<Registry>>,
    status: Arc<OnceLock<Arc<Board>>>,
}

impl Server {
    /// Adds libp2p's registry to what the endpoint renders (once the swarm has registered in it).
    pub fn set_libp2p(&self, registry: Registry) {
        let _ = self.libp2p.set(registry);
    }

    /// Serves the status page from `board` (once the node is up).
    pub fn set_status(&self, board: Arc<Board>) {
        let _ = self.status.set(board);
    }
}

fn response(
    body: String,
    content_type: &'static str,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut r = tiny_http::Response::from_string(body);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes()) {
        r.add_header(h);
    }
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Cache-Control"[..], &b"no-store"[..]) {
        r.add_header(h);
    }
    r
}

fn render(handle: &PrometheusHandle, libp2p: &OnceLock<Registry>) -> String {
    handle.run_upkeep();
    let mut text = handle.render();
    if let Some(r) = libp2p.get() {
        let mut more = String::new();
        if prometheus_client::encoding::text::encode(&mut more, r).is_ok() {
            text.push_str(&more);
        }
    }
    text
}

/// Binds `addr` and serves `/metrics` from a thread of its own.
pub fn start(addr: SocketAddr) -> Result<(SharedRecorder, Server), CliError> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("pheme_gossip_validation_seconds".into()),
            VALIDATION_BUCKETS,
        )
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full("pheme_peer_score".into()), SCORE_BUCKETS)
        })
        .map_err(|e| CliError::Usage(format!("metrics buckets: {e}")))?
        // Per-peer series stop being set when the peer leaves: let them expire.
        .idle_timeout(MetricKindMask::GAUGE, Some(Duration::from_secs(60)))
        .build_recorder();
    let handle = recorder.handle();
    let http = tiny_http::Server::http(addr).map_err(|e| CliError::Io {
        path: format!("metrics listener {addr}").into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let server = Server {
        libp2p: Arc::new(OnceLock::new()),
        status: Arc::new(OnceLock::new()),
    };
    let libp2p = server.libp2p.clone();
    let status = server.status.clone();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("pheme-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| CliError::Io {
            path: "metrics upkeep thread".into(),
            source: e,
        })?;
    std::thread::Builder::new()
        .name("pheme-metrics".into())
        .spawn(move || {
            for request in http.incoming_requests() {
                let path = request.url().split('?').next().unwrap_or_default();
                let response = match (path, status.get()) {
                    ("/metrics", _) => response(
                        render(&handle, &libp2p),
                        "text/plain; version=0.0.4; charset=utf-8",
                    ),
                    ("/" | "/status", Some(_)) => {
                        response(status::PAGE.to_owned(), "text/html; charset=utf-8")
                    }
                    ("/status.json", Some(board)) => {
                        response(board.json(), "application/json; charset=utf-8")
                    }
                    ("/" | "/status" | "/status.json", None) => {
                        response("starting\n".into(), "text/plain; charset=utf-8")
                            .with_status_code(503)
                    }
                    _ => response(
                        "see /metrics and /status\n".into(),
                        "text/plain; charset=utf-8",
                    )
                    .with_status_code(404),
                };
                let _ = request.respond(response);
            }
        })
        .map_err(|e| CliError::Io {
            path: "metrics thread".into(),
            source: e,
        })?;
    tracing::info!(target: "pheme::observe", %addr, "metrics on /metrics, status page on /status");
    Ok((Arc::new(recorder), server))
}
