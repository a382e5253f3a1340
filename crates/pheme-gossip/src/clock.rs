//! The time rules of gossip validation, in milliseconds, with `MAXIMUM_GOSSIP_CLOCK_DISPARITY`.

use pheme_spec::{ChainSpec, Epoch, MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS, Slot};

/// Wall-clock time for validation: `now_ms` is unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct GossipClock<'a> {
    chain: &'a ChainSpec,
    now_ms: u64,
}

impl<'a> GossipClock<'a> {
    /// A clock at `now_ms` (unix milliseconds) on `chain`.
    pub fn new(chain: &'a ChainSpec, now_ms: u64) -> Self {
        Self { chain, now_ms }
    }

    /// Now, unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The chain.
    pub fn chain(&self) -> &'a ChainSpec {
        self.chain
    }

    fn slot_start_ms(&self, slot: Slot) -> u64 {
        self.chain.clock().slot_start_ms(slot)
    }

    /// The message's slot has started, allowing for clock disparity (else IGNORE: future).
    pub fn slot_started(&self, slot: Slot) -> bool {
        self.now_ms
            .saturating_add(MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS)
            >= self.slot_start_ms(slot)
    }

    /// `slot` is the current slot, allowing for disparity at both ends:
    /// `start(slot) - D <= now <= start(slot + 1) + D`.
    pub fn is_current_slot(&self, slot: Slot) -> bool {
        let d = MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS;
        self.slot_started(slot)
            && self.now_ms <= self.slot_start_ms(slot.saturating_add(1)).saturating_add(d)
    }

    /// `is_past_slot` (gloas): `slot` began more than the disparity ago, `now > start(slot) + D`.
    pub fn is_past_slot(&self, slot: Slot) -> bool {
        self.now_ms
            > self
                .slot_start_ms(slot)
                .saturating_add(MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS)
    }

    /// `epoch` is the current or the previous epoch, allowing for disparity at both ends (the
    /// deneb rule for attestations and aggregates): the window closes `D` after the end of the
    /// epoch following `epoch`, inclusive.
    pub fn is_current_or_previous_epoch(&self, epoch: Epoch) -> bool {
        let d = MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS;
        let closes = self
            .slot_start_ms(self.chain.start_slot(epoch.saturating_add(2)))
            .saturating_add(d);
        self.slot_started(self.chain.start_slot(epoch)) && self.now_ms <= closes
    }

    /// `slot` is within `ATTESTATION_PROPAGATION_SLOT_RANGE` (32) slots of now (the pre-deneb
    /// rule), with the same inclusive disparity at the closing end.
    pub fn within_propagation_range(&self, slot: Slot) -> bool {
        let d = MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS;
        self.now_ms
            <= self
                .slot_start_ms(slot.saturating_add(33))
                .saturating_add(d)
    }

    /// The epoch now.
    pub fn current_epoch(&self) -> Epoch {
        self.chain
            .epoch_of(self.chain.clock().slot_at_ms(self.now_ms).unwrap_or(0))
    }
}
