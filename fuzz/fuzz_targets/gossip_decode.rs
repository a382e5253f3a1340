//! Gossip payload decode per topic kind, through the validator's real entry point
//! (`GossipValidator::validate_stateless`: topic resolution, bounded snappy, SSZ, the topic's
//! stateless checks). The body, and the input layout, are `pheme_gossip::fuzzing::gossip_decode`
//! so that crashes replay in `cargo test -p pheme-gossip --test it fuzz_regressions`.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // ssz_rs 0.9 panics on a list offset past the end; `pheme_types::decode_untrusted` catches
    // that. libFuzzer's hook would abort at the panic before it is caught: let those through.
    // Any other panic (or one that is not caught) still aborts.
    HOOK.call_once(|| {
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info
                .location()
                .is_some_and(|l| l.file().contains("/ssz_rs-"))
            {
                aborting(info);
            }
        }));
    });
    if let Err(why) = pheme_gossip::fuzzing::gossip_decode(data) {
        panic!("{why}");
    }
});
