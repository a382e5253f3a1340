//! A loopback network around a real `pheme observe` process: a short-slot fulu chain written as
//! a `config.yaml` (so the observer and the test's nodes share it), Pheme nodes in the test
//! process that publish real gossip to the observer every slot (valid messages of every kind,
//! and from a "bad" node messages whose right verdict is REJECT), and helpers that poll the
//! observer's endpoints. Every process the test starts is killed when its guard drops.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pheme_network::libp2p::{Multiaddr, PeerId};
use pheme_network::{NetworkConfig, NetworkHandle, Subnets};
use pheme_spec::{ChainSpec, GossipKind, unix_now_ms};
use pheme_testkit::fixtures;

/// Slots of the test chain: short, so traffic comes every couple of seconds.
pub const SLOT_MS: u64 = 2_000;
/// How long the helpers wait for something that should happen (a loaded 2-core machine runs
/// several test binaries at once).
pub const PATIENCE: Duration = Duration::from_secs(90);

/// A fulu chain (every fork at genesis, mainnet types) with [`SLOT_MS`] slots, genesis a few
/// epochs back, as a `config.yaml` in `dir` and as the spec loaded back from it.
pub fn chain(dir: &Path) -> (ChainSpec, PathBuf) {
    let spec = fixtures::chain(SLOT_MS, 8, 40, 0, &[]).unwrap();
    let mut yaml = format!(
        "PRESET_BASE: mainnet\nCONFIG_NAME: pheme-loopback\nSLOTS_PER_EPOCH: {}\n\
         SLOT_DURATION_MS: {}\nGENESIS_TIME: {}\nGENESIS_VALIDATORS_ROOT: '0x{}'\n",
        spec.preset.slots_per_epoch,
        spec.slot_duration_ms,
        spec.genesis_time,
        spec.genesis_validators_root
    );
    for f in &spec.forks {
        let prefix = f.fork.config_prefix();
        yaml.push_str(&format!("{prefix}_FORK_VERSION: '0x{}'\n", f.version));
        if f.fork != pheme_spec::Fork::Phase0 {
            yaml.push_str(&format!("{prefix}_FORK_EPOCH: {}\n", f.epoch));
        }
    }
    let path = dir.join("config.yaml");
    std::fs::write(&path, yaml).unwrap();
    let loaded = pheme_spec::load_network(path.to_str().unwrap()).unwrap();
    assert_eq!(loaded.fork_digest_at(1), spec.fork_digest_at(1));
    (loaded, path)
}

/// A port whose TCP, UDP (discv5) and next UDP (QUIC) numbers are free on loopback.
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if port < 65_000
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port + 1)).is_ok()
        {
            return port;
        }
    }
}

/// A child process killed (and reaped) when dropped, whatever the test did.
pub struct Guard {
    pub child: Option<Child>,
}

impl Guard {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Guard {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Guard { child: Some(child) }
    }

    /// Whether it exited (and how), without waiting.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A running `pheme observe` with its metrics and status endpoint.
pub struct Observer {
    pub guard: Guard,
    pub port: u16,
    /// `127.0.0.1:port` of `/metrics` and `/status`.
    pub http: String,
    pub log: PathBuf,
}

/// Starts `pheme observe` on the chain of `config`, on loopback, with `args` added (its output
/// goes to `dir/observer.log`, so a full pipe never stops it).
pub fn observer(config: &Path, dir: &Path, args: &[&str]) -> Observer {
    let port = free_port();
    let http = format!("127.0.0.1:{}", free_port());
    let log = dir.join("observer.log");
    let out = std::fs::File::create(&log).unwrap();
    let guard = Guard::spawn(
        "pheme observe",
        Command::new(env!("CARGO_BIN_EXE_pheme"))
            .arg("observe")
            .args(["--network", config.to_str().unwrap()])
            .args(["--active-validators", "1000000"])
            .args(["--listen", "127.0.0.1", "--trusted-ips", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--metrics", &http])
            .args(["--duration", "600s"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null()),
    );
    let mut o = Observer {
        guard,
        port,
        http,
        log,
    };
    o.wait("its metrics endpoint", |o| o.get("/metrics").is_some());
    o
}

impl Observer {
    /// The observer's address for peers to dial.
    pub fn addr(&self) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{}", self.port).parse().unwrap()
    }

    /// GET `path` on the metrics endpoint.
    pub fn get(&self, path: &str) -> Option<String> {
        ureq::get(&format!("http://{}{path}", self.http))
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()
    }

    /// `/status.json`, parsed.
    pub fn status(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.get("/status.json")?).ok()
    }

    /// The value of a series on `/metrics` (`name{labels}` as rendered).
    pub fn metric(&self, series: &str) -> Option<f64> {
        let text = self.get("/metrics")?;
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// Polls until `pred` holds, for at most [`PATIENCE`]; panics with the log otherwise.
    pub fn wait(&mut self, what: &str, mut pred: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(status) = self.guard.exited() {
                panic!("the observer exited ({status}):\n{}", self.log_text());
            }
            if pred(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("timed out waiting for {what}:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// One of the test's nodes.
pub struct Peer {
    pub handle: NetworkHandle,
    pub id: PeerId,
    /// Publishes messages whose right verdict is REJECT instead of valid ones.
    pub bad: bool,
}

/// The test's nodes and the runtime they run on; dropping it stops them.
pub struct Publishers {
    pub peers: Vec<Peer>,
    pub rt: tokio::runtime::Runtime,
    traffic: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Publishers {
    fn drop(&mut self) {
        if let Some(t) = self.traffic.take() {
            t.abort();
        }
    }
}

/// What a test node is.
pub struct PeerSpec {
    pub agent: &'static str,
    pub bad: bool,
    /// Runs discv5 on loopback (its ENR is then in its snapshot).
    pub discovery: bool,
}

impl Publishers {
    /// Starts one node per spec on loopback, each dialling `dial` (and the first node).
    pub fn start(chain: &ChainSpec, specs: &[PeerSpec], dial: Option<Multiaddr>) -> Publishers {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut peers = Vec::new();
        let mut first: Option<Multiaddr> = None;
        for spec in specs {
            let mut b = NetworkConfig::builder(chain.clone())
                .listen("/ip4/127.0.0.1/tcp/0".parse().unwrap())
                .target_peers(20)
                .subnets(Subnets::All)
                .active_validators(1_000_000)
                .ip_colocation_whitelist(vec!["127.0.0.1".parse().unwrap()])
                .agent_version(spec.agent);
            if let Some(d) = &dial {
                b = b.peer(d.clone());
            }
            if let Some(f) = &first {
                b = b.peer(f.clone());
            }
            if spec.discovery {
                use std::net::{Ipv4Addr, SocketAddrV4};
                let mut disc = pheme_network::pheme_discovery::DiscoveryConfig::builder();
                disc.listen_v4(Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))
                    .listen_v6(None)
                    .enr_ip4(Some(Ipv4Addr::LOCALHOST))
                    .bootnodes(Vec::new());
                b = b.discovery(disc);
            }
            let config = b.build().unwrap();
            let (handle, mut events) = {
                let _rt = rt.enter();
                pheme_network::spawn(config, pheme_gossip::NoState, None).unwrap()
            };
            rt.spawn(async move { while events.recv().await.is_some() {} });
            let addr = wait_async(&rt, || {
                let h = handle.clone();
                async move { h.snapshot().await.ok()?.listen.first().cloned() }
            })
            .expect("a listen address");
            first.get_or_insert(addr);
            peers.push(Peer {
                id: handle.local_peer_id(),
                handle,
                bad: spec.bad,
            });
        }
        Publishers {
            peers,
            rt,
            traffic: None,
        }
    }

    /// The ENR of the first node (which runs discovery).
    pub fn enr(&self) -> String {
        let h = self.peers[0].handle.clone();
        wait_async(&self.rt, || {
            let h = h.clone();
            async move { h.snapshot().await.ok()?.enr }
        })
        .expect("an ENR")
    }

    /// Publishes every slot, 50 ms into it: from each good node one message of every kind and
    /// `attestations` attestations, from each bad node two messages whose verdict is REJECT.
    pub fn publish_every_slot(&mut self, chain: &ChainSpec, attestations: u64) {
        let chain = chain.clone();
        let nodes: Vec<(NetworkHandle, bool)> = self
            .peers
            .iter()
            .map(|p| (p.handle.clone(), p.bad))
            .collect();
        self.traffic = Some(self.rt.spawn(async move {
            loop {
                let wait = chain.clock().ms_until_next_slot(unix_now_ms()) + 50;
                tokio::time::sleep(Duration::from_millis(wait)).await;
                let slot = fixtures::slot_now(&chain);
                for (i, (h, bad)) in nodes.iter().enumerate() {
                    let seed = slot * 64 + i as u64 * 8;
                    let mut msgs: Vec<(GossipKind, Vec<u8>)> = if *bad {
                        fixtures::invalid_messages(slot, seed).unwrap()
                    } else {
                        fixtures::valid_messages(&chain, slot, seed).unwrap()
                    };
                    if !*bad {
                        for a in 0..attestations {
                            let committee = a % 64;
                            let attester = seed * 1_000 + a;
                            msgs.push((
                                GossipKind::BeaconAttestation(committee),
                                fixtures::attestation(&chain, slot, committee, attester).unwrap(),
                            ));
                        }
                    }
                    for (kind, ssz) in msgs {
                        // No peer on the topic yet, or a copy already seen: not this test's
                        // concern.
                        let _ = h.publish_ssz(kind, ssz).await;
                    }
                }
            }
        }));
    }
}

/// Polls an async `f` on `rt` until it returns Some (for at most [`PATIENCE`]).
pub fn wait_async<T, F, Fut>(rt: &tokio::runtime::Runtime, f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    rt.block_on(pheme_testkit::wait_for(PATIENCE, f))
}

/// The peer ids listed in `/status.json`.
pub fn status_peers(status: &serde_json::Value) -> Vec<String> {
    status["network"]["peers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["peer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A peer that speaks plain libp2p-gossipsub without Pheme's transform (no identify either)
/// and publishes `count` messages of random bytes on `beacon_block` every slot: what the
/// observer's snappy transform refuses. Runs on `rt` until the runtime stops.
pub fn garbage_sender(
    rt: &tokio::runtime::Runtime,
    chain: &ChainSpec,
    dial: Multiaddr,
    count: u64,
) {
    use pheme_network::libp2p::futures::StreamExt;
    use pheme_network::libp2p::gossipsub;
    let epoch = chain.epoch_of(fixtures::slot_now(chain));
    let topic = gossipsub::IdentTopic::new(pheme_network::params::topic_name(
        chain.fork_digest_at(epoch),
        GossipKind::BeaconBlock,
    ));
    let mut gs = pheme_testkit::raw::gossipsub().unwrap();
    gs.subscribe(&topic).unwrap();
    let chain = chain.clone();
    let _rt = rt.enter();
    let keypair = pheme_network::libp2p::identity::Keypair::generate_secp256k1();
    let mut swarm = pheme_testkit::raw::swarm(keypair, gs).unwrap();
    swarm.dial(dial).unwrap();
    rt.spawn(async move {
        let mut n = 0u64;
        loop {
            let wait = chain.clock().ms_until_next_slot(unix_now_ms()) + 300;
            let sleep = tokio::time::sleep(Duration::from_millis(wait));
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = swarm.select_next_some() => {}
                    _ = &mut sleep => break,
                }
            }
            for _ in 0..count {
                n += 1;
                // Before the observer's subscription arrives there is no one to send to.
                let _ = swarm
                    .behaviour_mut()
                    .publish(topic.clone(), fixtures::bytes(n, 64 + (n % 64) as usize));
            }
        }
    });
}
