//! The connection handler: one outbound stream (opened at once, so the peer's protocol is
//! known) that writes the router's frames, and one inbound stream (a newer one replaces it)
//! whose frames go to the router.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{AsyncWrite, future};
use libp2p::core::upgrade::{InboundUpgrade, OutboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionHandler, ConnectionHandlerEvent, Stream, StreamProtocol, SubstreamProtocol,
};
use pheme_router::{Frame, Protocol};

use super::io::{FrameReader, FrameWriter, ReadItem};

/// Frames handed to the behaviour in one event at most.
const MAX_FRAMES_PER_EVENT: usize = 256;
/// Bytes of frames handed to the behaviour in one event (a frame over it goes alone).
const MAX_BYTES_PER_EVENT: usize = 1 << 20;

/// The meshsub protocols, newest first.
#[derive(Debug, Clone)]
pub struct MeshsubUpgrade;

impl UpgradeInfo for MeshsubUpgrade {
    type Info = StreamProtocol;
    type InfoIter = std::vec::IntoIter<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        Protocol::ALL
            .iter()
            .map(|p| StreamProtocol::new(p.as_str()))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

impl InboundUpgrade<Stream> for MeshsubUpgrade {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = future::Ready<Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, stream: Stream, info: StreamProtocol) -> Self::Future {
        future::ready(Ok((stream, info)))
    }
}

impl OutboundUpgrade<Stream> for MeshsubUpgrade {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = future::Ready<Result<Self::Output, Self::Error>>;

    fn upgrade_outbound(self, stream: Stream, info: StreamProtocol) -> Self::Future {
        future::ready(Ok((stream, info)))
    }
}

/// From the behaviour.
#[derive(Debug)]
pub enum HandlerIn {
    /// Write this frame.
    Send(Frame),
}

/// To the behaviour.
#[derive(Debug)]
pub enum HandlerOut {
    /// A stream negotiated this protocol (the first one settles the peer's features).
    Negotiated(Protocol),
    /// Frames arrived (every whole one at hand, in order).
    Frames(Vec<Bytes>),
    /// A frame over the limit was skipped.
    Oversized(usize),
    /// A frame handed in was written and flushed.
    Sent,
    /// The peer does not speak meshsub.
    Unsupported,
}

enum Outbound {
    /// Not requested yet.
    Idle,
    /// Requested from the swarm.
    Opening,
    /// Open, nothing being written.
    Ready(Stream),
    /// Writing a frame.
    Writing(Stream, FrameWriter),
    /// Flushing what was written; `frames` frames are then confirmed.
    Flushing(Stream, usize),
    /// Gone (unsupported, or failed).
    Closed,
}

/// The handler of one connection.
pub struct Handler {
    max_frame: usize,
    reader: FrameReader,
    inbound: Option<Stream>,
    outbound: Outbound,
    pending: VecDeque<Frame>,
    /// Frames written since the last flush.
    unflushed: usize,
    events: VecDeque<HandlerOut>,
    negotiated: bool,
}

impl Handler {
    /// A handler that reads frames of up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Self {
            max_frame,
            reader: FrameReader::new(max_frame),
            inbound: None,
            outbound: Outbound::Idle,
            pending: VecDeque::new(),
            unflushed: 0,
            events: VecDeque::new(),
            negotiated: false,
        }
    }

    fn negotiated(&mut self, p: &StreamProtocol) {
        if self.negotiated {
            return;
        }
        if let Some(protocol) = Protocol::from_name(p.as_ref()) {
            self.negotiated = true;
            self.events.push_back(HandlerOut::Negotiated(protocol));
        }
    }

    /// Drives the outbound stream: writes pending frames back to back, flushes once, confirms.
    fn poll_outbound(&mut self, cx: &mut Context<'_>) {
        loop {
            match std::mem::replace(&mut self.outbound, Outbound::Closed) {
                Outbound::Ready(stream) => match self.pending.pop_front() {
                    Some(frame) => {
                        self.outbound = Outbound::Writing(stream, FrameWriter::start(&frame))
                    }
                    None if self.unflushed > 0 => {
                        let n = std::mem::take(&mut self.unflushed);
                        self.outbound = Outbound::Flushing(stream, n);
                    }
                    None => {
                        self.outbound = Outbound::Ready(stream);
                        return;
                    }
                },
                Outbound::Writing(mut stream, mut w) => match w.poll_write(&mut stream, cx) {
                    Poll::Ready(Ok(())) => {
                        self.unflushed += 1;
                        self.outbound = Outbound::Ready(stream);
                    }
                    Poll::Ready(Err(e)) => {
                        tracing::debug!(target: "pheme::network::meshsub", error = %e, "outbound stream failed");
                        self.outbound = Outbound::Idle;
                        // The frame and those written but not flushed are lost; the router
                        // learns they are done so its window reopens.
                        for _ in 0..=self.unflushed {
                            self.events.push_back(HandlerOut::Sent);
                        }
                        self.unflushed = 0;
                    }
                    Poll::Pending => {
                        self.outbound = Outbound::Writing(stream, w);
                        return;
                    }
                },
                Outbound::Flushing(mut stream, n) => {
                    match std::pin::Pin::new(&mut stream).poll_flush(cx) {
                        Poll::Ready(result) => {
                            if let Err(e) = result {
                                tracing::debug!(target: "pheme::network::meshsub", error = %e, "flush failed");
                            }
                            for _ in 0..n {
                                self.events.push_back(HandlerOut::Sent);
                            }
                            self.outbound = Outbound::Ready(stream);
                        }
                        Poll::Pending => {
                            self.outbound = Outbound::Flushing(stream, n);
                            return;
                        }
                    }
                }
                other => {
                    self.outbound = other;
                    return;
                }
            }
        }
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = HandlerIn;
    type ToBehaviour = HandlerOut;
    type InboundProtocol = MeshsubUpgrade;
    type OutboundProtocol = MeshsubUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        SubstreamProtocol::new(MeshsubUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        !matches!(self.outbound, Outbound::Closed) || self.inbound.is_some()
    }

    fn on_behaviour_event(&mut self, event: HandlerIn) {
        match event {
            HandlerIn::Send(frame) => {
                if matches!(self.outbound, Outbound::Closed) {
                    // Nowhere to write: confirm at once so the router does not wait.
                    self.events.push_back(HandlerOut::Sent);
                } else {
                    self.pending.push_back(frame);
                }
            }
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Self::ToBehaviour>> {
        if let Some(e) = self.events.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(e));
        }
        if matches!(self.outbound, Outbound::Idle) {
            self.outbound = Outbound::Opening;
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(MeshsubUpgrade, ()),
            });
        }
        self.poll_outbound(cx);
        // Every whole frame at hand goes to the behaviour in one event.
        let mut frames = Vec::new();
        let mut bytes = 0;
        while let Some(stream) = self.inbound.as_mut() {
            if frames.len() >= MAX_FRAMES_PER_EVENT || bytes >= MAX_BYTES_PER_EVENT {
                // More may be buffered: come back for it.
                cx.waker().wake_by_ref();
                break;
            }
            match self.reader.poll_next(stream, cx) {
                Poll::Ready(Some(Ok(ReadItem::Frame(b)))) => {
                    bytes += b.len();
                    frames.push(b);
                    continue;
                }
                Poll::Ready(Some(Ok(ReadItem::Oversized(n)))) => {
                    self.events.push_back(HandlerOut::Oversized(n));
                }
                Poll::Ready(Some(Err(e))) => {
                    tracing::debug!(target: "pheme::network::meshsub", error = %e, "inbound stream refused");
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        self.events
                            .push_back(HandlerOut::Oversized(self.max_frame + 1));
                    }
                    self.inbound = None;
                    self.reader = FrameReader::new(self.max_frame);
                }
                Poll::Ready(None) => {
                    self.inbound = None;
                    self.reader = FrameReader::new(self.max_frame);
                }
                Poll::Pending => {}
            }
            break;
        }
        if !frames.is_empty() {
            self.events.push_front(HandlerOut::Frames(frames));
        }
        match self.events.pop_front() {
            Some(e) => Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(e)),
            None => Poll::Pending,
        }
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol, (), ()>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: (stream, p),
                ..
            }) => {
                self.negotiated(&p);
                // A newer inbound stream replaces the old one.
                self.inbound = Some(stream);
                self.reader = FrameReader::new(self.max_frame);
            }
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: (stream, p),
                ..
            }) => {
                self.negotiated(&p);
                self.outbound = Outbound::Ready(stream);
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { error, .. }) => {
                tracing::debug!(target: "pheme::network::meshsub", %error, "no meshsub stream");
                self.outbound = Outbound::Closed;
                let dropped = self.pending.len();
                self.pending.clear();
                for _ in 0..dropped {
                    self.events.push_back(HandlerOut::Sent);
                }
                if !self.negotiated {
                    self.events.push_back(HandlerOut::Unsupported);
                }
            }
            _ => {}
        }
    }
}
