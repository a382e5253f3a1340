//! `networking` / `gossip_*`: every block and message of a case decodes with the fork's type,
//! its `hash_tree_root` equals the one in its file name, and every message's verdict, computed
//! by Pheme with the reference stateful validator ([`crate::refval`]), is the case's.
//!
//! Each message goes through what a node runs: [`pheme_gossip::GossipValidator::validate`] on the
//! wire bytes, on the topic with the chain's real fork digest, at the case's clock
//! (`current_time_ms + offset_ms` after the state's genesis): bounded snappy, message-id, SSZ
//! decoding, the topic handler's stateless checks, then the reference validator over the case's
//! anchor state, blocks and finalized checkpoint; accepted messages update the seen caches. A
//! verdict "stands in" only where the reference validator says it cannot decide: then the
//! case's verdict is its decision, and the message is counted apart.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use pheme_types::ssz_rs::SimpleSerialize;

use crate::refval::{AnchorState, EpochView, PayloadStatus, ReferenceValidator};
use crate::{CasePath, Reader};

/// What decoding a message file gave.
pub(crate) enum Decoded {
    /// It decoded (these SSZ bytes) and its root matches its name.
    Ok(Vec<u8>),
    /// It did not decode: the stateless verdict is REJECT.
    Rejected(String),
}

/// Decodes a message file, checks that it re-encodes to the same bytes, and, unless
/// `root_in_name` is `None`, that its `hash_tree_root` is the one in its name.
///
/// Block files are the exception: they decode to exactly the fork's `SignedBeaconBlock` (and
/// re-encode byte for byte), but their names match neither that root (as the vectors README
/// says), nor the `BeaconBlock` root, nor either with a zero state root or signature, in any of
/// the 286 block files; so blocks are checked by decoding only.
fn decode<T: SimpleSerialize>(
    reader: &Reader,
    path: &Path,
    root_in_name: Option<&str>,
    transform: Option<&Transform>,
) -> Result<Decoded, String> {
    let bytes = match transform {
        // A gossip message: Pheme's transform (bounded snappy and the message-id).
        Some(t) => {
            let raw = reader.bytes(path)?;
            match pheme_codec::decode_gossip(&t.topic, t.fork, &raw, t.bounds).ssz {
                Ok(bytes) => bytes,
                Err(e) => return Ok(Decoded::Rejected(e.to_string())),
            }
        }
        None => match reader.snappy(path) {
            Ok(bytes) => bytes,
            Err(e) => return Ok(Decoded::Rejected(e)),
        },
    };
    let mut value = match <T as pheme_types::ssz_rs::Deserialize>::deserialize(&bytes) {
        Ok(v) => v,
        Err(e) => return Ok(Decoded::Rejected(format!("SSZ: {e}"))),
    };
    let again = pheme_types::ssz_rs::serialize(&value).map_err(|e| format!("encode: {e}"))?;
    if again != bytes {
        return Err(format!(
            "{}: re-encoding differs from the file",
            path.display()
        ));
    }
    if let Some(want) = root_in_name {
        let root = value
            .hash_tree_root()
            .map_err(|e| format!("hash_tree_root: {e}"))?;
        let got = hex::encode(root.as_ref());
        if got != want {
            return Err(format!(
                "{}: root 0x{got} differs from the name's",
                path.display()
            ));
        }
    }
    Ok(Decoded::Ok(bytes))
}

/// How a gossip message of the case's topic is transformed.
pub(crate) struct Transform {
    topic: String,
    fork: pheme_spec::Fork,
    bounds: pheme_codec::SszBounds,
}

macro_rules! by_prefix {
    ($preset:ident :: $fork:ident, $prefix:expr, $reader:expr, $path:expr, $root:expr, $transform:expr; $($name:literal => $ty:ident),* $(,)?) => {
        match $prefix {
            "block" => decode::<pheme_types::$preset::$fork::SignedBeaconBlock>($reader, $path, None, None),
            $($name => decode::<pheme_types::$preset::$fork::$ty>($reader, $path, Some($root), $transform),)*
            other => Err(format!("unknown message prefix {other:?} at {}", stringify!($fork))),
        }
    };
}

macro_rules! common_types {
    ($p:ident, $f:ident, $x:expr, $r:expr, $path:expr, $root:expr, $t:expr; $($extra:tt)*) => {
        by_prefix!($p::$f, $x, $r, $path, $root, $t;
            "aggregate" => SignedAggregateAndProof,
            "proposer_slashing" => ProposerSlashing, "attester_slashing" => AttesterSlashing,
            "voluntary_exit" => SignedVoluntaryExit, $($extra)*)
    };
}

macro_rules! altair_types {
    ($p:ident, $f:ident, $x:expr, $r:expr, $path:expr, $root:expr, $t:expr; $($extra:tt)*) => {
        common_types!($p, $f, $x, $r, $path, $root, $t; "sync_committee_message" => SyncCommitteeMessage,
            "contribution" => SignedContributionAndProof, $($extra)*)
    };
}

/// Gloas's topics and messages, with the fork's types (heze's bids and blocks are its own).
macro_rules! gloas_types {
    ($p:ident, $f:ident, $x:expr, $r:expr, $path:expr, $root:expr, $t:expr) => {
        altair_types!($p, $f, $x, $r, $path, $root, $t; "single_attestation" => SingleAttestation,
            "bls_to_execution_change" => SignedBlsToExecutionChange, "data_column_sidecar" => DataColumnSidecar,
            "execution_payload_bid" => SignedExecutionPayloadBid,
            "execution_payload_envelope" => SignedExecutionPayloadEnvelope,
            "payload_attestation_message" => PayloadAttestationMessage,
            "proposer_preferences" => SignedProposerPreferences)
    };
}

macro_rules! forks {
    ($p:ident, $fork:expr, $x:expr, $r:expr, $path:expr, $root:expr, $t:expr) => {
        match $fork {
            "phase0" => common_types!($p, phase0, $x, $r, $path, $root, $t; "attestation" => Attestation),
            "altair" => altair_types!($p, altair, $x, $r, $path, $root, $t; "attestation" => Attestation),
            "bellatrix" => altair_types!($p, bellatrix, $x, $r, $path, $root, $t; "attestation" => Attestation),
            "capella" => altair_types!($p, capella, $x, $r, $path, $root, $t; "attestation" => Attestation,
                "bls_to_execution_change" => SignedBlsToExecutionChange),
            "deneb" => altair_types!($p, deneb, $x, $r, $path, $root, $t; "attestation" => Attestation,
                "bls_to_execution_change" => SignedBlsToExecutionChange, "blob_sidecar" => BlobSidecar),
            "electra" => altair_types!($p, electra, $x, $r, $path, $root, $t; "single_attestation" => SingleAttestation,
                "bls_to_execution_change" => SignedBlsToExecutionChange, "blob_sidecar" => BlobSidecar),
            "fulu" => altair_types!($p, fulu, $x, $r, $path, $root, $t; "single_attestation" => SingleAttestation,
                "bls_to_execution_change" => SignedBlsToExecutionChange, "data_column_sidecar" => DataColumnSidecar,
                "partial_data_column_sidecar" => PartialDataColumnSidecar,
                "partial_data_column_group_id" => PartialDataColumnGroupID,
                "partial_data_column_header" => PartialDataColumnHeader),
            "gloas" => gloas_types!($p, gloas, $x, $r, $path, $root, $t),
            "heze" => gloas_types!($p, heze, $x, $r, $path, $root, $t),
            other => Err(format!("unknown fork {other:?}")),
        }
    };
}

pub(crate) fn decode_named(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    stem: &str,
    transform: Option<&Transform>,
) -> Result<Decoded, String> {
    let (prefix, root) = stem
        .rsplit_once("_0x")
        .ok_or_else(|| format!("{stem}: no _0x<root> in the name"))?;
    let path = dir.join(format!("{stem}.ssz_snappy"));
    match case.preset.as_str() {
        "mainnet" => forks!(
            mainnet,
            case.fork.as_str(),
            prefix,
            reader,
            &path,
            root,
            transform
        ),
        "minimal" => forks!(
            minimal,
            case.fork.as_str(),
            prefix,
            reader,
            &path,
            root,
            transform
        ),
        other => Err(format!("unknown preset {other:?}")),
    }
}

/// The gossip handlers this runner knows, with the topic each case's meta.yaml must name.
const HANDLERS: [(&str, &str); 15] = [
    ("gossip_beacon_block", "beacon_block"),
    (
        "gossip_beacon_aggregate_and_proof",
        "beacon_aggregate_and_proof",
    ),
    ("gossip_beacon_attestation", "beacon_attestation"),
    ("gossip_voluntary_exit", "voluntary_exit"),
    ("gossip_proposer_slashing", "proposer_slashing"),
    ("gossip_attester_slashing", "attester_slashing"),
    ("gossip_sync_committee_message", "sync_committee"),
    (
        "gossip_sync_committee_contribution_and_proof",
        "sync_committee_contribution_and_proof",
    ),
    ("gossip_bls_to_execution_change", "bls_to_execution_change"),
    ("gossip_blob_sidecar", "blob_sidecar"),
    ("gossip_data_column_sidecar", "data_column_sidecar"),
    ("gossip_execution_payload_bid", "execution_payload_bid"),
    ("gossip_execution_payload_envelope", "execution_payload"),
    (
        "gossip_payload_attestation_message",
        "payload_attestation_message",
    ),
    ("gossip_proposer_preferences", "proposer_preferences"),
];

/// The topic of a message file's prefix, where a case mixes topics.
const PREFIX_TOPICS: [(&str, &str); 4] = [
    ("proposer_preferences", "proposer_preferences"),
    ("execution_payload_envelope", "execution_payload"),
    ("execution_payload_bid", "execution_payload_bid"),
    ("payload_attestation_message", "payload_attestation_message"),
];

/// The case's chain: its config.yaml (all forks up to the case's at epoch 0) with the state's
/// genesis, or the same shape built from the preset when the case has no config.
fn case_chain(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    state: &[u8],
) -> Result<pheme_spec::ChainSpec, String> {
    let mut genesis_time = [0u8; 8];
    genesis_time.copy_from_slice(&state[..8]);
    let genesis_time = u64::from_le_bytes(genesis_time);
    let gvr = hex::encode(&state[8..40]);
    let config = dir.join("config.yaml");
    if config.exists() {
        let text = String::from_utf8(reader.bytes(&config)?).map_err(|e| e.to_string())?;
        let text =
            format!("{text}\nGENESIS_TIME: {genesis_time}\nGENESIS_VALIDATORS_ROOT: '0x{gvr}'\n");
        return pheme_spec::parse_config_yaml(&text, &config, dir, "case")
            .map_err(|e| e.to_string());
    }
    let fork: pheme_spec::Fork = case.fork.parse().map_err(|e| format!("{e}"))?;
    let mut chain = crate::chain_for(&case.preset)?;
    chain.genesis_time = genesis_time;
    if case.preset == "minimal" {
        chain.slot_duration_ms = 6_000;
    }
    for (i, entry) in chain.forks.iter_mut().enumerate() {
        entry.epoch = if entry.fork <= fork {
            0
        } else {
            pheme_spec::FAR_FUTURE_EPOCH
        };
        // The minimal config's versions (`configs/minimal.yaml`): `0x0<fork>000001`.
        if case.preset == "minimal" {
            let index = u8::try_from(i).map_err(|_| "too many forks".to_owned())?;
            entry.version = pheme_spec::ForkVersion([index, 0, 0, 1]);
        }
    }
    chain.blob_schedule.clear();
    Ok(chain)
}

/// The fulu custody cases: plain functions of their `meta.yaml` inputs.
fn custody(reader: &Reader, dir: &Path, handler: &str) -> Result<(), String> {
    let text =
        String::from_utf8(reader.bytes(&dir.join("meta.yaml"))?).map_err(|e| e.to_string())?;
    // `node_id` is a uint256 written as a plain integer: read it as text, parse the rest as YAML.
    let mut node_id = None;
    let rest: String = text
        .lines()
        .filter(|l| match l.strip_prefix("node_id:") {
            Some(v) => {
                node_id = Some(v.trim().trim_matches(|c| c == '\'' || c == '"').to_owned());
                false
            }
            None => true,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let meta: serde_json::Value =
        serde_yaml_ng::from_str(&rest).map_err(|e| format!("meta.yaml: {e}"))?;
    let expected: Vec<u64> =
        serde_json::from_value(meta["result"].clone()).map_err(|e| format!("result: {e}"))?;
    let got = match handler {
        "get_custody_groups" => {
            let id = node_id.ok_or("no node_id")?;
            let id =
                pheme_spec::U256::from_dec_str(&id).map_err(|e| format!("node_id {id}: {e:?}"))?;
            let count = meta["custody_group_count"]
                .as_u64()
                .ok_or("no custody_group_count")?;
            pheme_spec::get_custody_groups(id, count).map_err(|e| e.to_string())?
        }
        _ => {
            let group = meta["custody_group"].as_u64().ok_or("no custody_group")?;
            pheme_spec::compute_columns_for_custody_group(group).map_err(|e| e.to_string())?
        }
    };
    if got != expected {
        return Err(format!("{handler} gives {got:?}, expected {expected:?}"));
    }
    Ok(())
}

/// Networking counts of one handler.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NetworkingCount {
    /// Cases run.
    pub cases: usize,
    /// Messages whose verdict Pheme and the reference validator computed.
    pub computed: usize,
    /// Messages the reference validator could not decide: the case's verdict stood in.
    pub stood_in: usize,
    /// Messages that passed Pheme's stateless checks and reached the reference validator.
    pub reached: usize,
    /// Of those, the ones it refused.
    pub refused: usize,
}

/// The case's decision where the reference validator cannot decide.
pub(crate) fn stand_in(expected: &str) -> Result<pheme_gossip::Decision, String> {
    match expected {
        "valid" => Ok(pheme_gossip::Decision::Accept),
        "ignore" => Ok(pheme_gossip::Decision::ignore("stood_in")),
        "reject" => Ok(pheme_gossip::Decision::reject("stood_in")),
        other => Err(format!("unknown expected verdict {other:?}")),
    }
}

/// The verdict a case's `expected` names (`valid`, `ignore`, else `reject`).
pub(crate) fn expected_verdict(expected: &str) -> pheme_gossip::Verdict {
    match expected {
        "valid" => pheme_gossip::Verdict::Accept,
        "ignore" => pheme_gossip::Verdict::Ignore,
        _ => pheme_gossip::Verdict::Reject,
    }
}

/// The reference validator over the case's anchor state and `blocks`, with its
/// `finalized_checkpoint`.
fn reference_validator(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    meta: &serde_json::Value,
    state: &[u8],
    chain: &pheme_spec::ChainSpec,
) -> Result<ReferenceValidator, String> {
    let fork: pheme_spec::Fork = case.fork.parse().map_err(|e| format!("{e}"))?;
    let anchor = AnchorState::decode(&case.fork, state).map_err(|e| crate::chain_text(&e))?;
    let state_root = anchor.root;
    let version = chain.fork_entry(fork).map(|f| f.version.0);
    if version != Some(anchor.fork.current_version.0) {
        return Err(format!(
            "the state's fork version 0x{} is not the chain's {:?} for {fork}",
            hex::encode(anchor.fork.current_version.0),
            version.map(hex::encode)
        ));
    }
    let mut validator = ReferenceValidator::new(anchor, chain);
    let mut roots = BTreeMap::new();
    for (i, block) in meta["blocks"].as_array().into_iter().flatten().enumerate() {
        let stem = block["block"]
            .as_str()
            .ok_or("a blocks entry without block")?;
        let ssz = match decode_named(reader, dir, case, stem, None)? {
            Decoded::Ok(ssz) => ssz,
            Decoded::Rejected(e) => return Err(format!("block {stem} does not decode: {e}")),
        };
        let failed = block["failed"].as_bool().unwrap_or(false);
        let pending = block["pending"].as_bool().unwrap_or(false);
        let status = match block["payload_status"].as_str() {
            None | Some("NOT_VALIDATED") => PayloadStatus::NotValidated,
            Some("VALID") => PayloadStatus::Valid,
            Some("INVALIDATED") => PayloadStatus::Invalidated,
            Some(other) => return Err(format!("{stem}: unknown payload_status {other:?}")),
        };
        let root = validator
            .add_block(&ssz, !failed && !pending, status)
            .map_err(|e| format!("{stem}: {}", crate::chain_text(&e)))?;
        // The anchor block commits to the anchor state: a check of the state's decoding
        // (unless the case advanced the state through empty slots after the block).
        let anchor_slot = validator.anchor().slot;
        if i == 0
            && validator.block(&root).map(|b| (b.slot, b.state_root))
                != Some((anchor_slot, state_root))
            && validator.block(&root).is_none_or(|b| b.slot == anchor_slot)
        {
            return Err(format!(
                "{stem}: the anchor block's state_root is not the state's hash_tree_root 0x{}",
                hex::encode(state_root)
            ));
        }
        // Gloas: the block's payload envelope, seen and verified. (Upstream's
        // `ignore_parent_block_hash_unknown` bid case names an envelope it does not write: the
        // payload is in the store, not among the payloads gossip has seen.)
        if let Some(payload) = block["payload"].as_str() {
            if dir.join(format!("{payload}.ssz_snappy")).exists()
                && let Decoded::Rejected(e) = decode_named(reader, dir, case, payload, None)?
            {
                return Err(format!("payload {payload} does not decode: {e}"));
            }
            validator.add_payload(&root);
        }
        roots.insert(stem.to_owned(), root);
    }
    let finalized = &meta["finalized_checkpoint"];
    if !finalized.is_null() {
        let epoch = finalized["epoch"]
            .as_u64()
            .ok_or("finalized_checkpoint without epoch")?;
        let root = match (finalized["root"].as_str(), finalized["block"].as_str()) {
            (Some(hex_root), _) => {
                let bytes = hex::decode(hex_root.trim_start_matches("0x"))
                    .map_err(|e| format!("finalized root: {e}"))?;
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| "finalized root is not 32 bytes".to_owned())?
            }
            (None, Some(stem)) => *roots
                .get(stem)
                .ok_or_else(|| format!("finalized block {stem} is not among the blocks"))?,
            _ => return Err("finalized_checkpoint without root or block".into()),
        };
        validator.set_finalized(epoch, root);
    }
    Ok(validator)
}

/// What every gossip case starts from.
pub(crate) struct Setup {
    /// `meta.yaml`.
    pub meta: serde_json::Value,
    /// The case's chain.
    pub chain: pheme_spec::ChainSpec,
    /// The case's fork.
    pub fork: pheme_spec::Fork,
    /// The reference validator over the case's anchor state and blocks.
    pub reference: ReferenceValidator,
}

/// Reads a gossip case's meta (checking its topic), anchor state, chain and blocks.
pub(crate) fn setup(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    topic: &str,
) -> Result<Setup, String> {
    let meta = reader.yaml(&dir.join("meta.yaml"))?;
    if meta["topic"].as_str() != Some(topic) {
        return Err(format!(
            "meta.yaml topic {} for handler {}",
            meta["topic"], case.handler
        ));
    }
    // The anchor state gives genesis time (its first field); clocks are relative to it.
    let state = reader.snappy(&dir.join("state.ssz_snappy"))?;
    if state.len() < 40 {
        return Err("state.ssz_snappy is too short for a BeaconState".into());
    }
    let chain = case_chain(reader, dir, case, &state)?;
    if chain.preset.base.name() != case.preset {
        return Err(format!(
            "config.yaml PRESET_BASE {} in a {} case",
            chain.preset.base.name(),
            case.preset
        ));
    }
    let fork: pheme_spec::Fork = case.fork.parse().map_err(|e| format!("{e}"))?;
    let reference = reference_validator(reader, dir, case, &meta, &state, &chain)?;
    Ok(Setup {
        meta,
        chain,
        fork,
        reference,
    })
}

pub(crate) fn run(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    coverage: &mut BTreeMap<String, NetworkingCount>,
) -> Result<(), String> {
    if matches!(
        case.handler.as_str(),
        "get_custody_groups" | "compute_columns_for_custody_group"
    ) {
        return custody(reader, dir, &case.handler);
    }
    if case.handler == crate::partial_columns::HANDLER {
        return crate::partial_columns::run(reader, dir, case, coverage);
    }
    let topic = HANDLERS
        .iter()
        .find(|(h, _)| *h == case.handler)
        .map(|(_, t)| *t)
        .ok_or_else(|| format!("unknown networking handler {:?}", case.handler))?;
    let Setup {
        meta,
        chain,
        fork,
        reference,
    } = setup(reader, dir, case, topic)?;
    let digest = chain
        .fork_digest_of(fork)
        .ok_or_else(|| format!("{fork} is not scheduled in the case's chain"))?;
    let reference = Arc::new(reference);
    let base_ms = meta["current_time_ms"].as_u64().unwrap_or(0);
    let mut gossip = pheme_gossip::GossipValidator::new(chain.clone(), reference.clone());
    let anchor_epoch = reference.anchor().slot / chain.slots_per_epoch();
    gossip.committees_per_slot = Some(
        EpochView::new(reference.anchor(), anchor_epoch, &[]).committees_per_slot(anchor_epoch),
    );
    let count = coverage
        .entry(format!("{}/{}", case.fork, case.handler))
        .or_default();
    count.cases += 1;
    for message in meta["messages"]
        .as_array()
        .ok_or("meta.yaml has no messages")?
    {
        let stem = message["message"]
            .as_str()
            .ok_or("a message without a file")?;
        let expected = message["expected"]
            .as_str()
            .ok_or("a message without expected")?;
        // Gloas cases mix topics (a bid case first sends the proposer's preferences and the
        // parent's envelope): a message's topic is its file prefix's.
        let topic = stem
            .rsplit_once("_0x")
            .and_then(|(prefix, _)| PREFIX_TOPICS.iter().find(|(p, _)| *p == prefix))
            .map_or(topic, |(_, t)| *t);
        let name = match message["subnet_id"].as_u64() {
            Some(id) => format!("{topic}_{id}"),
            None => topic.to_owned(),
        };
        let kind: pheme_spec::GossipKind = name.parse().map_err(|e| format!("{e}"))?;
        // The file itself: it decodes with the fork's type, re-encodes to the same bytes, and
        // its root is the one in its name.
        let transform = Transform {
            topic: pheme_codec::GossipTopic::new(digest, kind).to_string(),
            fork,
            bounds: pheme_codec::gossip_bounds(&chain, kind, fork),
        };
        let decoded = decode_named(reader, dir, case, stem, Some(&transform))?;
        // The verdict: Pheme's whole path with the reference validator.
        let wire = reader.bytes(&dir.join(format!("{stem}.ssz_snappy")))?;
        // The Gloas cases give each message its own `current_time_ms`, the earlier ones an
        // `offset_ms` from the case's.
        let since_genesis = match message["current_time_ms"].as_u64() {
            Some(ms) => ms,
            None => base_ms + message["offset_ms"].as_u64().unwrap_or(0),
        };
        let now_ms = chain.genesis_time * 1000 + since_genesis;
        let before = reference.stood_in();
        let calls = reference.calls();
        reference.set_stand_in(Some(stand_in(expected)?));
        let outcome = gossip.validate(&transform.topic, &wire, now_ms);
        reference.set_stand_in(None);
        if reference.stood_in() > before {
            count.stood_in += 1;
        } else {
            count.computed += 1;
        }
        let got = outcome.verdict;
        if reference.calls() > calls {
            count.reached += 1;
            if got != pheme_gossip::Verdict::Accept {
                count.refused += 1;
            }
        }
        let want = expected_verdict(expected);
        if let Decoded::Rejected(e) = decoded
            && got != pheme_gossip::Verdict::Reject
        {
            return Err(format!(
                "{stem}: does not decode ({e}), yet Pheme says {}",
                got.name()
            ));
        }
        if got != want {
            return Err(format!(
                "{stem}: Pheme says {} ({}: {}), the case expects {expected}{}",
                got.name(),
                outcome.reason,
                outcome.detail,
                message["reason"]
                    .as_str()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(())
}
