//! Topic parsing: whatever parses as a gossip topic (or a topic kind) prints back to exactly
//! the same string, and printing then parsing gives the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pheme_codec::GossipTopic;
use pheme_spec::GossipKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(topic) = text.parse::<GossipTopic>() {
        let printed = topic.to_string();
        assert_eq!(printed, text, "topic does not print back");
        assert_eq!(printed.parse::<GossipTopic>().ok(), Some(topic));
    }
    if let Ok(kind) = text.parse::<GossipKind>() {
        let printed = kind.to_string();
        assert_eq!(printed, text, "kind does not print back");
        assert_eq!(printed.parse::<GossipKind>().ok(), Some(kind));
    }
});
