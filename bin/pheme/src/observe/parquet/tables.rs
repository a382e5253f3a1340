//! The five tables' schemas and the builders their rows go into. docs/observer.md describes
//! every column; keep the two in step.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMillisecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use pheme_network::{
    ControlEvent, PartialEvent, PeerEvent, PeerEventKind, ScoreBreakdown, TraceRecord,
};
use pheme_spec::SlotClock;

use super::dataset::Table;

/// Declares a table's columns once: the builders, their Arrow fields (in order), their
/// construction and the batch they finish into.
macro_rules! columns {
    ($(#[$m:meta])* $name:ident { $($col:ident: $builder:ty = $new:expr => $field:expr,)* }) => {
        $(#[$m])*
        struct $name {
            $($col: $builder,)*
        }

        impl $name {
            fn new() -> Self {
                Self { $($col: $new,)* }
            }

            /// Empty columns with their schema.
            fn built() -> Built<Self> {
                Built {
                    cols: Self::new(),
                    schema: Arc::new(Schema::new(vec![$($field,)*])),
                    rows: 0,
                }
            }

            fn finish(&mut self) -> Vec<ArrayRef> {
                vec![$(Arc::new(self.$col.finish()) as ArrayRef,)*]
            }
        }
    };
}

fn ts(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        false,
    )
}

fn ts_builder() -> TimestampMillisecondBuilder {
    TimestampMillisecondBuilder::new().with_timezone("UTC")
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn u32f(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::UInt32, nullable)
}

fn u64f(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::UInt64, nullable)
}

fn f64f(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Float64, nullable)
}

fn list(name: &str, item: DataType) -> Field {
    list_of(name, item, false)
}

fn list_of(name: &str, item: DataType, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("item", item, true))),
        nullable,
    )
}

fn boolf(name: &str) -> Field {
    Field::new(name, DataType::Boolean, false)
}

/// The slot of a time and the milliseconds into it (`None` before genesis).
fn slot_and_offset(clock: &SlotClock, ms: u64) -> (Option<u64>, Option<u64>) {
    let slot = clock.slot_at_ms(ms);
    (
        slot,
        slot.map(|s| ms.saturating_sub(clock.slot_start_ms(s))),
    )
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A table's columns, its schema and its row count.
struct Built<C> {
    cols: C,
    schema: SchemaRef,
    rows: usize,
}

impl<C> Built<C> {
    fn batch(&mut self, finish: fn(&mut C) -> Vec<ArrayRef>) -> Result<RecordBatch, ArrowError> {
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), finish(&mut self.cols))
    }
}

/// The [`Table`] methods every table has alike.
macro_rules! table_basics {
    ($cols:ident) => {
        fn schema(&self) -> SchemaRef {
            self.t.schema.clone()
        }

        fn len(&self) -> usize {
            self.t.rows
        }

        fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
            self.t.batch($cols::finish)
        }
    };
}

// ----- messages -----

columns! {
    /// `messages`' columns.
    MessageColumns {
        arrival: TimestampMillisecondBuilder = ts_builder() => ts("arrival_time"),
        verdict_time: TimestampMillisecondBuilder = ts_builder() => ts("verdict_time"),
        validation_ms: UInt32Builder = UInt32Builder::new() => u32f("validation_ms", false),
        slot: UInt64Builder = UInt64Builder::new() => u64f("slot", true),
        slot_offset_ms: UInt64Builder = UInt64Builder::new() => u64f("slot_offset_ms", true),
        topic: StringBuilder = StringBuilder::new() => utf8("topic", false),
        kind: StringBuilder = StringBuilder::new() => utf8("kind", true),
        subnet: UInt32Builder = UInt32Builder::new() => u32f("subnet", true),
        fork_digest: StringBuilder = StringBuilder::new() => utf8("fork_digest", true),
        message_id: StringBuilder = StringBuilder::new() => utf8("message_id", true),
        source: StringBuilder = StringBuilder::new() => utf8("source", false),
        wire_bytes: UInt32Builder = UInt32Builder::new() => u32f("wire_bytes", false),
        ssz_bytes: UInt32Builder = UInt32Builder::new() => u32f("ssz_bytes", true),
        stage: StringBuilder = StringBuilder::new() => utf8("stage", false),
        verdict: StringBuilder = StringBuilder::new() => utf8("verdict", false),
        reason: StringBuilder = StringBuilder::new() => utf8("reason", false),
        duplicates: UInt32Builder = UInt32Builder::new() => u32f("duplicates", false),
        duplicate_from: ListBuilder<StringBuilder> = ListBuilder::new(StringBuilder::new())
            => list("duplicate_from", DataType::Utf8),
        block_slot: UInt64Builder = UInt64Builder::new() => u64f("block_slot", true),
        block_root: StringBuilder = StringBuilder::new() => utf8("block_root", true),
    }
}

/// `messages`: one row per received message (first copy), whatever stage judged it.
pub struct Messages {
    t: Built<MessageColumns>,
    clock: SlotClock,
}

impl Messages {
    /// The table, with the chain's clock for slots.
    pub fn new(clock: SlotClock) -> Self {
        Self {
            t: MessageColumns::built(),
            clock,
        }
    }
}

impl Table for Messages {
    type Row = TraceRecord;
    const NAME: &'static str = "messages";

    table_basics!(MessageColumns);

    fn push(&mut self, r: TraceRecord) {
        let c = &mut self.t.cols;
        c.arrival.append_value(r.arrival_ms as i64);
        c.verdict_time.append_value(r.verdict_ms as i64);
        c.validation_ms
            .append_value(clamp32(r.verdict_ms.saturating_sub(r.arrival_ms)));
        let (slot, offset) = slot_and_offset(&self.clock, r.arrival_ms);
        c.slot.append_option(slot);
        c.slot_offset_ms.append_option(offset);
        let parsed = r.topic.parse::<pheme_codec::GossipTopic>().ok();
        c.kind.append_option(parsed.map(|t| t.kind.base_name()));
        c.subnet
            .append_option(parsed.and_then(|t| t.kind.subnet()).map(clamp32));
        c.fork_digest
            .append_option(parsed.map(|t| t.fork_digest.to_string()));
        c.topic.append_value(&r.topic);
        c.message_id
            .append_option((!r.message_id.is_empty()).then_some(&r.message_id));
        c.source.append_value(&r.source);
        c.wire_bytes.append_value(clamp32(r.wire_bytes as u64));
        c.ssz_bytes
            .append_option(r.ssz_bytes.map(|b| clamp32(b as u64)));
        c.stage.append_value(r.stage);
        c.verdict.append_value(r.verdict);
        c.reason.append_value(r.reason);
        c.duplicates.append_value(clamp32(r.duplicates));
        for p in &r.duplicate_from {
            c.duplicate_from.values().append_value(p);
        }
        c.duplicate_from.append(true);
        c.block_slot.append_option(r.block_slot);
        c.block_root.append_option(r.block_root.as_deref());
        self.t.rows += 1;
    }

    fn time_ms(r: &TraceRecord) -> u64 {
        r.arrival_ms
    }
}

// ----- payloads -----

/// A captured first copy: its record's identity and its wire data.
pub struct CapturedPayload {
    /// Arrival, unix milliseconds.
    pub arrival_ms: u64,
    /// The message-id, hex (empty when unknown).
    pub message_id: String,
    /// The topic string.
    pub topic: String,
    /// The first copy's sender.
    pub source: String,
    /// `transform`, `router`, `queue` or `validation`.
    pub stage: &'static str,
    /// `accept`, `ignore`, `reject`.
    pub verdict: &'static str,
    /// The verdict's reason.
    pub reason: &'static str,
    /// The data as it came on the wire (snappy).
    pub data: bytes::Bytes,
}

columns! {
    /// `payloads`' columns.
    PayloadColumns {
        arrival: TimestampMillisecondBuilder = ts_builder() => ts("arrival_time"),
        message_id: StringBuilder = StringBuilder::new() => utf8("message_id", true),
        topic: StringBuilder = StringBuilder::new() => utf8("topic", false),
        source: StringBuilder = StringBuilder::new() => utf8("source", false),
        stage: StringBuilder = StringBuilder::new() => utf8("stage", false),
        verdict: StringBuilder = StringBuilder::new() => utf8("verdict", false),
        reason: StringBuilder = StringBuilder::new() => utf8("reason", false),
        data: BinaryBuilder = BinaryBuilder::new() => Field::new("data", DataType::Binary, false),
    }
}

/// `payloads`: the wire data of captured first copies (`--capture`).
pub struct Payloads {
    t: Built<PayloadColumns>,
}

impl Default for Payloads {
    fn default() -> Self {
        Self {
            t: PayloadColumns::built(),
        }
    }
}

impl Table for Payloads {
    type Row = CapturedPayload;
    const NAME: &'static str = "payloads";

    table_basics!(PayloadColumns);

    fn push(&mut self, p: CapturedPayload) {
        let c = &mut self.t.cols;
        c.arrival.append_value(p.arrival_ms as i64);
        c.message_id
            .append_option((!p.message_id.is_empty()).then_some(&p.message_id));
        c.topic.append_value(&p.topic);
        c.source.append_value(&p.source);
        c.stage.append_value(p.stage);
        c.verdict.append_value(p.verdict);
        c.reason.append_value(p.reason);
        c.data.append_value(&p.data);
        self.t.rows += 1;
    }

    fn time_ms(p: &CapturedPayload) -> u64 {
        p.arrival_ms
    }
}

// ----- control -----

columns! {
    /// `control`'s columns.
    ControlColumns {
        time: TimestampMillisecondBuilder = ts_builder() => ts("time"),
        peer: StringBuilder = StringBuilder::new() => utf8("peer", false),
        direction: StringBuilder = StringBuilder::new() => utf8("direction", false),
        kind: StringBuilder = StringBuilder::new() => utf8("kind", false),
        topic: StringBuilder = StringBuilder::new() => utf8("topic", true),
        message_ids: UInt32Builder = UInt32Builder::new() => u32f("message_ids", false),
        backoff_secs: UInt64Builder = UInt64Builder::new() => u64f("backoff_secs", true),
        px_peers: UInt32Builder = UInt32Builder::new() => u32f("px_peers", false),
    }
}

/// `control`: one row per GRAFT, PRUNE, IHAVE, IWANT, IDONTWANT entry, in and out.
pub struct Control {
    t: Built<ControlColumns>,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            t: ControlColumns::built(),
        }
    }
}

impl Table for Control {
    type Row = ControlEvent;
    const NAME: &'static str = "control";

    table_basics!(ControlColumns);

    fn push(&mut self, e: ControlEvent) {
        let (c, r) = (&mut self.t.cols, &e.record);
        c.time.append_value(e.at_ms as i64);
        c.peer.append_value(r.peer.to_string());
        c.direction.append_value(r.direction.name());
        c.kind.append_value(r.kind.name());
        c.topic.append_option(r.topic.as_deref());
        c.message_ids.append_value(r.message_ids);
        c.backoff_secs.append_option(r.backoff_secs);
        c.px_peers.append_value(r.px_peers);
        self.t.rows += 1;
    }

    fn time_ms(e: &ControlEvent) -> u64 {
        e.at_ms
    }
}

// ----- peers -----

/// A row of the peers table: an event, or a score snapshot.
pub enum PeerRow {
    /// A connection, identify answer, goodbye, ban or disconnection.
    Event(PeerEvent),
    /// A peer's score and its components, once an epoch.
    Score {
        /// When it was taken, unix milliseconds.
        at_ms: u64,
        /// The epoch.
        epoch: u64,
        /// The score.
        score: ScoreBreakdown,
    },
}

fn topic_fields() -> Fields {
    let mut f = vec![utf8("topic", false)];
    f.extend(["p1", "p2", "p3", "p3b", "p4"].map(|n| f64f(n, false)));
    Fields::from(f)
}

columns! {
    /// `peers`' columns.
    PeerColumns {
        time: TimestampMillisecondBuilder = ts_builder() => ts("time"),
        event: StringBuilder = StringBuilder::new() => utf8("event", false),
        peer: StringBuilder = StringBuilder::new() => utf8("peer", false),
        direction: StringBuilder = StringBuilder::new() => utf8("direction", true),
        address: StringBuilder = StringBuilder::new() => utf8("address", true),
        agent: StringBuilder = StringBuilder::new() => utf8("agent", true),
        protocol_version: StringBuilder = StringBuilder::new() => utf8("protocol_version", true),
        gossipsub: StringBuilder = StringBuilder::new() => utf8("gossipsub", true),
        goodbye_reason: UInt64Builder = UInt64Builder::new() => u64f("goodbye_reason", true),
        epoch: UInt64Builder = UInt64Builder::new() => u64f("epoch", true),
        score: Float64Builder = Float64Builder::new() => f64f("score", true),
        p1: Float64Builder = Float64Builder::new() => f64f("p1", true),
        p2: Float64Builder = Float64Builder::new() => f64f("p2", true),
        p3: Float64Builder = Float64Builder::new() => f64f("p3", true),
        p3b: Float64Builder = Float64Builder::new() => f64f("p3b", true),
        p4: Float64Builder = Float64Builder::new() => f64f("p4", true),
        topic_cap_cut: Float64Builder = Float64Builder::new() => f64f("topic_cap_cut", true),
        p5: Float64Builder = Float64Builder::new() => f64f("p5", true),
        p6: Float64Builder = Float64Builder::new() => f64f("p6", true),
        p7: Float64Builder = Float64Builder::new() => f64f("p7", true),
        residual: Float64Builder = Float64Builder::new() => f64f("residual", true),
        topics: ListBuilder<StructBuilder> =
            ListBuilder::new(StructBuilder::from_fields(topic_fields(), 0))
            => list("topics", DataType::Struct(topic_fields())),
    }
}

impl PeerColumns {
    /// The score columns with their values (`None`: NULLs).
    fn push_score(&mut self, total: Option<f64>, s: Option<&ScoreBreakdown>) {
        let v = |f: fn(&ScoreBreakdown) -> f64| s.map(f);
        let values = [
            (&mut self.p1, v(|s| s.p1)),
            (&mut self.p2, v(|s| s.p2)),
            (&mut self.p3, v(|s| s.p3)),
            (&mut self.p3b, v(|s| s.p3b)),
            (&mut self.p4, v(|s| s.p4)),
            (&mut self.topic_cap_cut, v(|s| s.topic_cap_cut)),
            (&mut self.p5, v(|s| s.p5)),
            (&mut self.p6, v(|s| s.p6)),
            (&mut self.p7, v(|s| s.p7)),
            (&mut self.residual, v(|s| s.residual)),
        ];
        self.score.append_option(total);
        for (b, x) in values {
            b.append_option(x);
        }
        for t in s.map_or(&[][..], |s| &s.topics[..]) {
            let item = self.topics.values();
            if let Some(b) = item.field_builder::<StringBuilder>(0) {
                b.append_value(&t.topic);
            }
            for (i, x) in [t.p1, t.p2, t.p3, t.p3b, t.p4].into_iter().enumerate() {
                if let Some(b) = item.field_builder::<Float64Builder>(i + 1) {
                    b.append_value(x);
                }
            }
            item.append(true);
        }
        self.topics.append(true);
    }
}

/// `peers`: peer events and per-epoch score snapshots.
pub struct Peers {
    t: Built<PeerColumns>,
}

impl Default for Peers {
    fn default() -> Self {
        Self {
            t: PeerColumns::built(),
        }
    }
}

impl Table for Peers {
    type Row = PeerRow;
    const NAME: &'static str = "peers";

    table_basics!(PeerColumns);

    fn push(&mut self, row: PeerRow) {
        let c = &mut self.t.cols;
        let (at_ms, peer, name) = match &row {
            PeerRow::Event(e) => (e.at_ms, e.peer.to_string(), e.kind.name()),
            PeerRow::Score { at_ms, score, .. } => (*at_ms, score.peer.to_string(), "score"),
        };
        c.time.append_value(at_ms as i64);
        c.event.append_value(name);
        c.peer.append_value(peer);
        let kind = match &row {
            PeerRow::Event(e) => Some(&e.kind),
            PeerRow::Score { .. } => None,
        };
        let (mut direction, mut address, mut agent, mut version, mut gossipsub, mut goodbye) =
            (None, None, None, None, None, None);
        match kind {
            Some(PeerEventKind::Connected { outbound, addr }) => {
                direction = Some(if *outbound { "outbound" } else { "inbound" });
                address = Some(addr.to_string());
            }
            Some(PeerEventKind::Identified {
                agent: a,
                protocol_version: v,
            }) => {
                agent = Some(a.as_str());
                version = Some(v.as_str());
            }
            Some(PeerEventKind::Gossipsub { protocol }) => gossipsub = Some(*protocol),
            Some(PeerEventKind::GoodbyeSent { reason })
            | Some(PeerEventKind::GoodbyeReceived { reason }) => goodbye = Some(*reason),
            _ => {}
        }
        c.direction.append_option(direction);
        c.address.append_option(address);
        c.agent.append_option(agent);
        c.protocol_version.append_option(version);
        c.gossipsub.append_option(gossipsub);
        c.goodbye_reason.append_option(goodbye);
        match &row {
            PeerRow::Score { epoch, score, .. } => {
                c.epoch.append_value(*epoch);
                c.push_score(Some(score.total), Some(score));
            }
            PeerRow::Event(PeerEvent {
                kind: PeerEventKind::Banned { score },
                ..
            }) => {
                c.epoch.append_null();
                c.push_score(Some(*score), None);
            }
            PeerRow::Event(_) => {
                c.epoch.append_null();
                c.push_score(None, None);
            }
        }
        self.t.rows += 1;
    }

    fn time_ms(row: &PeerRow) -> u64 {
        match row {
            PeerRow::Event(e) => e.at_ms,
            PeerRow::Score { at_ms, .. } => *at_ms,
        }
    }
}

// ----- partials -----

columns! {
    /// `partials`' columns.
    PartialColumns {
        time: TimestampMillisecondBuilder = ts_builder() => ts("time"),
        slot: UInt64Builder = UInt64Builder::new() => u64f("slot", true),
        slot_offset_ms: UInt64Builder = UInt64Builder::new() => u64f("slot_offset_ms", true),
        peer: StringBuilder = StringBuilder::new() => utf8("peer", false),
        topic: StringBuilder = StringBuilder::new() => utf8("topic", false),
        column: UInt32Builder = UInt32Builder::new() => u32f("column", false),
        block_root: StringBuilder = StringBuilder::new() => utf8("block_root", true),
        wire_bytes: UInt32Builder = UInt32Builder::new() => u32f("wire_bytes", false),
        header: BooleanBuilder = BooleanBuilder::new() => boolf("header"),
        cells: ListBuilder<UInt32Builder> = ListBuilder::new(UInt32Builder::new())
            => list("cells", DataType::UInt32),
        novel_cells: UInt32Builder = UInt32Builder::new() => u32f("novel_cells", false),
        has: ListBuilder<UInt32Builder> = ListBuilder::new(UInt32Builder::new())
            => list_of("has", DataType::UInt32, true),
        wants: ListBuilder<UInt32Builder> = ListBuilder::new(UInt32Builder::new())
            => list_of("wants", DataType::UInt32, true),
        verdict: StringBuilder = StringBuilder::new() => utf8("verdict", false),
        reason: StringBuilder = StringBuilder::new() => utf8("reason", false),
        completed: BooleanBuilder = BooleanBuilder::new() => boolf("completed"),
    }
}

/// Appends a list of blob indices (`None`: NULL).
fn append_cells(b: &mut ListBuilder<UInt32Builder>, cells: Option<&[u32]>) {
    if let Some(cells) = cells {
        b.values().append_slice(cells);
    }
    b.append(cells.is_some());
}

/// `partials`: one row per partial message (`--partial-columns`): which cells came from whom,
/// and when.
pub struct Partials {
    t: Built<PartialColumns>,
    clock: SlotClock,
}

impl Partials {
    /// The table, with the chain's clock for slots.
    pub fn new(clock: SlotClock) -> Self {
        Self {
            t: PartialColumns::built(),
            clock,
        }
    }
}

impl Table for Partials {
    type Row = PartialEvent;
    const NAME: &'static str = "partials";

    table_basics!(PartialColumns);

    fn push(&mut self, e: PartialEvent) {
        let c = &mut self.t.cols;
        c.time.append_value(e.at_ms as i64);
        let (slot, offset) = slot_and_offset(&self.clock, e.at_ms);
        c.slot.append_option(slot);
        c.slot_offset_ms.append_option(offset);
        c.peer.append_value(e.peer.to_string());
        c.topic.append_value(&e.topic);
        c.column.append_value(clamp32(e.column));
        c.block_root
            .append_option(e.block_root.map(|r| format!("0x{}", hex::encode(r))));
        c.wire_bytes.append_value(clamp32(e.wire_bytes as u64));
        c.header.append_value(e.header);
        append_cells(&mut c.cells, Some(&e.cells));
        c.novel_cells.append_value(clamp32(e.novel_cells as u64));
        append_cells(&mut c.has, e.has.as_deref());
        append_cells(&mut c.wants, e.wants.as_deref());
        c.verdict.append_value(e.verdict);
        c.reason.append_value(e.reason);
        c.completed.append_value(e.completed);
        self.t.rows += 1;
    }

    fn time_ms(e: &PartialEvent) -> u64 {
        e.at_ms
    }
}
