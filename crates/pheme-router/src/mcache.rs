//! The gossip side of the message cache: per heartbeat window, the ids of the messages
//! accepted or published in it, kept as encoded IHAVE entries per topic.
//!
//! An id is encoded once, when its message is accepted; a window's entries are sealed at the
//! heartbeat that closes it and then shared by every IHAVE of the next `history_gossip`
//! heartbeats. (The messages themselves stay in their records, served to IWANT until their
//! mcache time, `history_length` heartbeats, is over.)

use std::collections::{HashMap, VecDeque};

use bytes::{Bytes, BytesMut};

use crate::wire;

/// Ids per IHAVE entry (about 11 KB: an entry fits a frame's control budget).
pub(crate) const IDS_PER_ENTRY: usize = 500;

/// One topic's ids in one window.
#[derive(Debug, Default)]
struct TopicIds {
    /// Sealed entries, oldest first, with their id counts.
    entries: Vec<(Bytes, usize)>,
    /// Encoded id fields not yet sealed into an entry.
    open: BytesMut,
    open_ids: usize,
}

#[derive(Debug, Default)]
struct Window {
    topics: HashMap<u32, TopicIds>,
}

/// Windows of gossip ids, the newest last.
#[derive(Debug)]
pub(crate) struct GossipWindows {
    windows: VecDeque<Window>,
    keep: usize,
}

impl GossipWindows {
    /// Keeps the ids of the last `keep` windows (`history_gossip`).
    pub fn new(keep: usize) -> Self {
        let mut windows = VecDeque::new();
        windows.push_back(Window::default());
        Self {
            windows,
            keep: keep.max(1),
        }
    }

    /// Adds an id on topic `t` (whose name is `topic`) to the current window.
    pub fn push(&mut self, t: u32, topic: &Bytes, id: &[u8]) {
        let Some(w) = self.windows.back_mut() else {
            return;
        };
        let ids = w.topics.entry(t).or_default();
        wire::put_id(&mut ids.open, 2, id);
        ids.open_ids += 1;
        if ids.open_ids >= IDS_PER_ENTRY {
            ids.seal(topic);
        }
    }

    /// Closes the current window (its open ids sealed with `topic_name(t)`), opens a new one
    /// and forgets windows beyond `keep`. Returns, per topic, the entries of the last `keep`
    /// closed windows, newest first, with their id counts.
    pub fn shift(
        &mut self,
        topic_name: impl Fn(u32) -> Bytes,
    ) -> HashMap<u32, Vec<(Bytes, usize)>> {
        if let Some(w) = self.windows.back_mut() {
            for (t, ids) in &mut w.topics {
                ids.seal(&topic_name(*t));
            }
        }
        let mut out: HashMap<u32, Vec<(Bytes, usize)>> = HashMap::new();
        for w in self.windows.iter().rev().take(self.keep) {
            for (t, ids) in &w.topics {
                out.entry(*t)
                    .or_default()
                    .extend(ids.entries.iter().rev().cloned());
            }
        }
        self.windows.push_back(Window::default());
        while self.windows.len() > self.keep {
            self.windows.pop_front();
        }
        out
    }
}

impl TopicIds {
    fn seal(&mut self, topic: &Bytes) {
        if self.open_ids == 0 {
            return;
        }
        let body = std::mem::take(&mut self.open).freeze();
        self.entries
            .push((wire::ihave_entry(topic, &body), self.open_ids));
        self.open_ids = 0;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::BufMut;
    use prost::Message as _;

    #[test]
    fn windows_give_the_last_ids_as_ihave_entries() {
        let topic = Bytes::from_static(b"/t");
        let mut g = GossipWindows::new(2);
        let id = |i: u32| i.to_be_bytes().repeat(5);
        for i in 0..3 {
            g.push(0, &topic, &id(i));
        }
        let first = g.shift(|_| topic.clone());
        assert_eq!(first[&0].iter().map(|e| e.1).sum::<usize>(), 3);
        for i in 3..(3 + IDS_PER_ENTRY as u32 + 1) {
            g.push(0, &topic, &id(i));
        }
        let second = g.shift(|_| topic.clone());
        let entries = &second[&0];
        assert_eq!(
            entries.iter().map(|e| e.1).collect::<Vec<_>>(),
            vec![1, 500, 3]
        );
        // Entries concatenate into a ControlMessage whose ids are the ones pushed.
        let mut body = BytesMut::new();
        for (e, _) in entries {
            body.put_slice(e);
        }
        let c = wire::ControlMessage::decode(body.freeze()).unwrap();
        let ids: usize = c.ihave.iter().map(|i| i.message_ids.len()).sum();
        assert_eq!(ids, 504);
        assert!(
            c.ihave
                .iter()
                .all(|i| i.topic_id.as_deref() == Some(&b"/t"[..]))
        );
        // A third shift forgets the first window.
        let third = g.shift(|_| topic.clone());
        assert_eq!(third[&0].iter().map(|e| e.1).sum::<usize>(), 501);
    }
}
