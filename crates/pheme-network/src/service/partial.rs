//! Partial messages (gossipsub's Partial Messages extension) that Pheme's router hands the
//! service.

use std::sync::Arc;

use bytes::Bytes;
use libp2p::PeerId;

use super::Service;

impl Service {
    /// A partial message from `peer` on `topic`. Counted; the router hands them out only on
    /// topics where this node enabled partial messages.
    pub(super) fn on_partial(
        &mut self,
        peer: PeerId,
        topic: Arc<str>,
        group_id: Bytes,
        message: Option<Bytes>,
        metadata: Option<Bytes>,
    ) {
        tracing::trace!(
            target: "pheme::network::partial",
            %peer,
            %topic,
            group = group_id.len(),
            parts = message.as_ref().map_or(0, Bytes::len),
            metadata = metadata.as_ref().map_or(0, Bytes::len),
            "partial message"
        );
        self.config.metrics.count(
            "pheme_partial_messages_total",
            &[("outcome", "unhandled")],
            1,
        );
    }
}
