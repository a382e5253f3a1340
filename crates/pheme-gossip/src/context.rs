//! What a check knows besides the message.

use pheme_spec::Fork;

use crate::clock::GossipClock;

/// Inputs of a stateless check.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The wall clock on the message's chain.
    pub clock: GossipClock<'a>,
    /// The fork of the topic's digest.
    pub fork: Fork,
    /// The topic's subnet, for subnet topics.
    pub subnet: Option<u64>,
    /// Committees per slot, when the caller knows them (a beacon node from its state, an
    /// observer from the active validator count); the subnet check needs them.
    pub committees_per_slot: Option<u64>,
}
