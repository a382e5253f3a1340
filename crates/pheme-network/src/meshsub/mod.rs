//! Pheme's router on libp2p: a `NetworkBehaviour` and connection handler that carry meshsub
//! streams (length-prefixed frames, bounded before they are allocated) and drive the sans-IO
//! [`pheme_router::Router`]. This is the only place the router meets sockets and the clock: the
//! behaviour reads `Instant::now()`, runs the heartbeat on one timer, and moves frames between
//! the router and the connections' handlers.

mod handler;
mod io;

use std::collections::{HashMap, VecDeque};
use std::future::Future as _;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use libp2p::core::transport::PortUse;
use libp2p::core::{ConnectedPoint, Endpoint};
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, NotifyHandler,
    THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use pheme_router::{Event, PeerConnection, Router};

pub use handler::{Handler, HandlerIn, HandlerOut};

use crate::service::ip_of;
use crate::transform::Eth2Transform;

#[derive(Debug)]
struct Conn {
    id: ConnectionId,
    outbound: bool,
    ip: Option<IpAddr>,
    added: bool,
}

/// The behaviour: Pheme's router behind libp2p connections. Its events are the router's.
pub struct Meshsub {
    router: Router<Eth2Transform>,
    conns: HashMap<PeerId, Conn>,
    timer: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
    out: VecDeque<ToSwarm<Event, HandlerIn>>,
    waker: Option<Waker>,
    max_frame: usize,
}

impl Meshsub {
    /// A behaviour around `router`.
    pub fn new(router: Router<Eth2Transform>) -> Self {
        let max_frame = router.config().max_transmit_size();
        Self {
            router,
            conns: HashMap::new(),
            timer: None,
            out: VecDeque::new(),
            waker: None,
            max_frame,
        }
    }

    /// The router.
    pub fn router(&self) -> &Router<Eth2Transform> {
        &self.router
    }

    /// The router, to subscribe, publish, report verdicts and set scores; the behaviour is
    /// woken (once until its next poll) to send what that queued.
    pub fn router_mut(&mut self) -> &mut Router<Eth2Transform> {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        &mut self.router
    }

    fn connected(&mut self, peer: PeerId, id: ConnectionId, endpoint: &ConnectedPoint) {
        let (outbound, addr) = match endpoint {
            ConnectedPoint::Dialer { address, .. } => (true, address),
            ConnectedPoint::Listener { send_back_addr, .. } => (false, send_back_addr),
        };
        self.conns.entry(peer).or_insert(Conn {
            id,
            outbound,
            ip: ip_of(addr),
            added: false,
        });
    }
}

impl NetworkBehaviour for Meshsub {
    type ConnectionHandler = Handler;
    type ToSwarm = Event;

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.connected(
            peer,
            id,
            &ConnectedPoint::Listener {
                local_addr: local_addr.clone(),
                send_back_addr: remote_addr.clone(),
            },
        );
        Ok(Handler::new(self.max_frame))
    }

    fn handle_established_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.connected(
            peer,
            id,
            &ConnectedPoint::Dialer {
                address: addr.clone(),
                role_override,
                port_use,
            },
        );
        Ok(Handler::new(self.max_frame))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(ConnectionClosed {
            peer_id,
            connection_id,
            ..
        }) = event
            && self
                .conns
                .get(&peer_id)
                .is_some_and(|c| c.id == connection_id)
        {
            self.conns.remove(&peer_id);
            self.router.remove_peer(Instant::now(), &peer_id);
        }
    }

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        let Some(conn) = self.conns.get_mut(&peer).filter(|c| c.id == connection) else {
            // A second connection to the peer: its streams are not used.
            return;
        };
        let now = Instant::now();
        match event {
            HandlerOut::Negotiated(protocol) => {
                if !conn.added {
                    conn.added = true;
                    let info = PeerConnection {
                        protocol,
                        outbound: conn.outbound,
                        ip: conn.ip,
                    };
                    self.router.add_peer(now, peer, info);
                }
            }
            HandlerOut::Frames(frames) => {
                if conn.added {
                    for frame in frames {
                        self.router.handle_rpc(now, &peer, frame);
                    }
                }
            }
            HandlerOut::Oversized(len) => self.router.oversized_frame(now, &peer, len),
            HandlerOut::Sent => self.router.sent(&peer),
            HandlerOut::Unsupported => {
                tracing::debug!(target: "pheme::network::meshsub", %peer, "peer does not speak meshsub");
            }
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        if let Some(e) = self.out.pop_front() {
            return Poll::Ready(e);
        }
        let now = Instant::now();
        if now >= self.router.poll_timeout() {
            self.router.tick(now);
        }
        // One timer, always set to the router's next timeout (the heartbeat, or a batched
        // forward due before it).
        let due = self.router.poll_timeout();
        let (at, timer) = self
            .timer
            .get_or_insert_with(|| (due, Box::pin(tokio::time::sleep_until(due.into()))));
        if *at != due {
            *at = due;
            timer.as_mut().reset(due.into());
        }
        if timer.as_mut().poll(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
        while let Some(t) = self.router.poll_transmit(now) {
            match self.conns.get(&t.peer) {
                Some(c) => self.out.push_back(ToSwarm::NotifyHandler {
                    peer_id: t.peer,
                    handler: NotifyHandler::One(c.id),
                    event: HandlerIn::Send(t.frame),
                }),
                None => self.router.sent(&t.peer),
            }
        }
        while let Some(e) = self.router.poll_event() {
            self.out.push_back(ToSwarm::GenerateEvent(e));
        }
        match self.out.pop_front() {
            Some(e) => Poll::Ready(e),
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
