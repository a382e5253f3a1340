//! `config.yaml` loading (`pheme_spec::parse_config_yaml`, what `load_config_yaml` runs after
//! its bounded read): any text gives a chain or an error, and a chain that loads answers the
//! questions the node asks of it without panicking.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pheme_spec::MAX_CONFIG_FILE_SIZE;

fuzz_target!(|data: &[u8]| {
    if data.len() as u64 > MAX_CONFIG_FILE_SIZE {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A directory with no genesis or bootnode files: the text alone decides.
    let dir = Path::new("/nonexistent/pheme-fuzz");
    let Ok(chain) = pheme_spec::parse_config_yaml(text, &dir.join("config.yaml"), dir, "fuzz")
    else {
        return;
    };
    let schedule = chain.digest_schedule();
    for d in &schedule {
        let _ = chain.fork_digest_at(d.epoch);
        let _ = chain.next_digest_change(d.epoch);
        let _ = pheme_spec::GossipKind::all_for_fork(&chain, d.fork);
    }
    let _ = chain.clock().slot_start_ms(1 << 20);
    let _ = chain.max_message_size();
    let _ = pheme_discovery::enr_fork_id(&chain, 0);
});
