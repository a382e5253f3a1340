//! Slot clock arithmetic at millisecond precision, on real network timings.

use pheme_spec::{Network, SlotClock};

#[test]
fn mainnet_and_gnosis_slots() {
    let mainnet = Network::Mainnet.chain_spec().unwrap().clock();
    let genesis_ms = 1_606_824_023_000;
    assert_eq!(mainnet.slot_at_ms(genesis_ms), Some(0));
    assert_eq!(mainnet.slot_at_ms(genesis_ms + 11_999), Some(0));
    assert_eq!(mainnet.slot_at_ms(genesis_ms + 12_000), Some(1));
    assert_eq!(mainnet.ms_into_slot(genesis_ms + 12_345), Some(345));
    assert_eq!(mainnet.ms_until_next_slot(genesis_ms + 12_345), 11_655);
    assert_eq!(mainnet.ms_until_next_slot(genesis_ms - 10), 10);
    // Fulu activated at epoch 411392 = slot 13164544.
    assert_eq!(mainnet.slot_start_ms(13_164_544) / 1000, 1_764_798_551);

    let gnosis = Network::Gnosis.chain_spec().unwrap().clock();
    assert_eq!(gnosis.slot_duration().as_millis(), 5_000);
    assert_eq!(gnosis.slot_at_ms(1_638_993_340_000 + 5_001), Some(1));
}

#[test]
fn sub_second_slots_and_saturation() {
    let clock = SlotClock::new(0, 750);
    assert_eq!(clock.slot_at_ms(1_499), Some(1));
    assert_eq!(clock.slot_at_ms(1_500), Some(2));
    assert_eq!(clock.slot_start_ms(u64::MAX), u64::MAX);
}
