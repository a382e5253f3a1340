//! `ssz_static`: every case decodes, re-encodes to the same bytes, has the expected
//! `hash_tree_root`, equals `value.yaml`, and survives a Beacon API JSON round trip.

use std::path::Path;

use pheme_types::ssz_rs::SimpleSerialize;
use serde_json::Value;

use crate::{CasePath, Reader};

fn check<T>(reader: &Reader, dir: &Path) -> Result<(), String>
where
    T: SimpleSerialize
        + serde::Serialize
        + serde::de::DeserializeOwned
        + PartialEq
        + std::fmt::Debug,
{
    let bytes = reader.snappy(&dir.join("serialized.ssz_snappy"))?;
    check_gossip_bounds(dir, bytes.len())?;
    let mut value = <T as pheme_types::ssz_rs::Deserialize>::deserialize(&bytes)
        .map_err(|e| format!("decode: {e}"))?;
    let again = pheme_types::ssz_rs::serialize(&value).map_err(|e| format!("encode: {e}"))?;
    if again != bytes {
        return Err(format!(
            "re-encoding gives {} bytes that differ from the {} read",
            again.len(),
            bytes.len()
        ));
    }
    let roots = reader.yaml(&dir.join("roots.yaml"))?;
    let want = roots["root"].as_str().ok_or("roots.yaml has no root")?;
    let root = value
        .hash_tree_root()
        .map_err(|e| format!("hash_tree_root: {e}"))?;
    let got = format!("0x{}", hex::encode(root.as_ref()));
    if got != want {
        return Err(format!("hash_tree_root {got}, expected {want}"));
    }
    let yaml = reader.yaml(&dir.join("value.yaml"))?;
    let json = serde_json::to_value(&value).map_err(|e| format!("to JSON: {e}"))?;
    if let Some(path) = first_difference(&normalize(&json), &normalize(&yaml), String::new()) {
        return Err(format!("differs from value.yaml at {path}"));
    }
    let back: T = serde_json::from_value(json).map_err(|e| format!("from JSON: {e}"))?;
    if back != value {
        return Err("JSON round trip changes the value".into());
    }
    Ok(())
}

/// For the types gossip carries: every case fits the codec's size bounds (exact for fixed-size
/// types). `ssz_max` cases fill values, not lists, to their limits, so they do not reach the
/// variable-size maxima.
fn check_gossip_bounds(dir: &Path, len: usize) -> Result<(), String> {
    use pheme_spec::{Fork, GossipKind};
    let parts: Vec<String> = dir
        .iter()
        .rev()
        .take(6)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let [_case, _suite, handler, _runner, fork, preset] = &parts[..] else {
        return Ok(());
    };
    let fork: Fork = fork.parse().map_err(|e| format!("{e}"))?;
    let kind = match handler.as_str() {
        "SignedAggregateAndProof" => GossipKind::BeaconAggregateAndProof,
        "Attestation" if fork < Fork::Electra => GossipKind::BeaconAttestation(0),
        "SingleAttestation" => GossipKind::BeaconAttestation(0),
        "AttesterSlashing" => GossipKind::AttesterSlashing,
        "ProposerSlashing" => GossipKind::ProposerSlashing,
        "SignedVoluntaryExit" => GossipKind::VoluntaryExit,
        "SignedBLSToExecutionChange" => GossipKind::BlsToExecutionChange,
        "SyncCommitteeMessage" => GossipKind::SyncCommittee(0),
        "SignedContributionAndProof" => GossipKind::SyncCommitteeContributionAndProof,
        "BlobSidecar" => GossipKind::BlobSidecar(0),
        "DataColumnSidecar" => GossipKind::DataColumnSidecar(0),
        "SignedExecutionPayloadBid" => GossipKind::ExecutionPayloadBid,
        "SignedExecutionPayloadEnvelope" => GossipKind::ExecutionPayload,
        "PayloadAttestationMessage" => GossipKind::PayloadAttestationMessage,
        "SignedProposerPreferences" => GossipKind::ProposerPreferences,
        "SignedInclusionList" => GossipKind::InclusionList,
        _ => return Ok(()),
    };
    let bounds = pheme_codec::gossip_bounds(&crate::chain_for(preset)?, kind, fork);
    if !bounds.admits(len) {
        return Err(format!(
            "{len} bytes, outside the gossip bounds {}..={}",
            bounds.min, bounds.max
        ));
    }
    Ok(())
}

/// The spec's YAML writes integers plainly, the Beacon API as decimal strings: compare both as
/// strings, hex in lower case.
pub(crate) fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(s.to_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{path} (fields {:?} vs {:?})",
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>()
                ));
            }
            x.iter().find_map(|(k, v)| match y.get(k) {
                Some(w) => first_difference(v, w, format!("{path}.{k}")),
                None => Some(format!("{path}.{k} (missing)")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {} vs {}", short(a), short(b))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}...", &s[..80])
    } else {
        s
    }
}

macro_rules! handlers {
    ($preset:ident :: $fork:ident, $handler:expr, $reader:expr, $dir:expr; $($name:literal => $ty:ident),* $(,)?) => {
        match $handler {
            $($name => check::<pheme_types::$preset::$fork::$ty>($reader, $dir),)*
            other => Err(format!("unknown ssz_static handler {other:?} at {}", stringify!($fork))),
        }
    };
}

macro_rules! phase0_types {
    ($p:ident, $f:ident, $h:expr, $r:expr, $d:expr; $($extra:tt)*) => {
        handlers!($p::$f, $h, $r, $d;
            "AggregateAndProof" => AggregateAndProof, "Attestation" => Attestation,
            "AttestationData" => AttestationData, "AttesterSlashing" => AttesterSlashing,
            "BeaconBlock" => BeaconBlock, "BeaconBlockHeader" => BeaconBlockHeader,
            "Checkpoint" => Checkpoint, "Eth1Data" => Eth1Data, "ForkData" => ForkData,
            "IndexedAttestation" => IndexedAttestation, "ProposerSlashing" => ProposerSlashing,
            "SignedAggregateAndProof" => SignedAggregateAndProof, "SignedBeaconBlock" => SignedBeaconBlock,
            "SignedBeaconBlockHeader" => SignedBeaconBlockHeader, "SignedVoluntaryExit" => SignedVoluntaryExit,
            "SigningData" => SigningData, "VoluntaryExit" => VoluntaryExit, $($extra)*)
    };
}

macro_rules! altair_types {
    ($p:ident, $f:ident, $h:expr, $r:expr, $d:expr; $($extra:tt)*) => {
        phase0_types!($p, $f, $h, $r, $d;
            "ContributionAndProof" => ContributionAndProof,
            "SignedContributionAndProof" => SignedContributionAndProof,
            "SyncAggregatorSelectionData" => SyncAggregatorSelectionData,
            "SyncCommitteeContribution" => SyncCommitteeContribution,
            "SyncCommitteeMessage" => SyncCommitteeMessage, $($extra)*)
    };
}

macro_rules! capella_types {
    ($p:ident, $f:ident, $h:expr, $r:expr, $d:expr; $($extra:tt)*) => {
        altair_types!($p, $f, $h, $r, $d;
            "BLSToExecutionChange" => BlsToExecutionChange,
            "SignedBLSToExecutionChange" => SignedBlsToExecutionChange, $($extra)*)
    };
}

macro_rules! gloas_types {
    ($p:ident, $f:ident, $h:expr, $r:expr, $d:expr; $($extra:tt)*) => {
        capella_types!($p, $f, $h, $r, $d;
            "SingleAttestation" => SingleAttestation, "DataColumnSidecar" => DataColumnSidecar,
            "DataColumnsByRootIdentifier" => DataColumnsByRootIdentifier,
            "BeaconBlockBody" => BeaconBlockBody, "BuilderDepositRequest" => BuilderDepositRequest,
            "BuilderExitRequest" => BuilderExitRequest, "ConsolidationRequest" => ConsolidationRequest,
            "Deposit" => Deposit, "DepositData" => DepositData, "DepositRequest" => DepositRequest,
            "ExecutionPayload" => ExecutionPayload, "ExecutionPayloadBid" => ExecutionPayloadBid,
            "ExecutionPayloadEnvelope" => ExecutionPayloadEnvelope, "ExecutionRequests" => ExecutionRequests,
            "IndexedPayloadAttestation" => IndexedPayloadAttestation, "PayloadAttestation" => PayloadAttestation,
            "PayloadAttestationData" => PayloadAttestationData,
            "PayloadAttestationMessage" => PayloadAttestationMessage, "ProposerPreferences" => ProposerPreferences,
            "SignedExecutionPayloadBid" => SignedExecutionPayloadBid,
            "SignedExecutionPayloadEnvelope" => SignedExecutionPayloadEnvelope,
            "SignedProposerPreferences" => SignedProposerPreferences, "SyncAggregate" => SyncAggregate,
            "Withdrawal" => Withdrawal, "WithdrawalRequest" => WithdrawalRequest,
            // The beacon state and what it holds, light client messages, partial columns.
            "BeaconState" => BeaconState, "Builder" => Builder, "BuilderPendingPayment" => BuilderPendingPayment,
            "BuilderPendingWithdrawal" => BuilderPendingWithdrawal, "DepositMessage" => DepositMessage,
            "Eth1Block" => Eth1Block, "Fork" => Fork, "HistoricalSummary" => HistoricalSummary,
            "LightClientBootstrap" => LightClientBootstrap, "LightClientFinalityUpdate" => LightClientFinalityUpdate,
            "LightClientHeader" => LightClientHeader, "LightClientOptimisticUpdate" => LightClientOptimisticUpdate,
            "LightClientUpdate" => LightClientUpdate, "MatrixEntry" => MatrixEntry,
            "PartialDataColumnGroupID" => PartialDataColumnGroupID,
            "PartialDataColumnPartsMetadata" => PartialDataColumnPartsMetadata,
            "PartialDataColumnSidecar" => PartialDataColumnSidecar, "PendingConsolidation" => PendingConsolidation,
            "PendingDeposit" => PendingDeposit, "PendingPartialWithdrawal" => PendingPartialWithdrawal,
            "PowBlock" => PowBlock, "SyncCommittee" => SyncCommittee, "Validator" => Validator, $($extra)*)
    };
}

macro_rules! forks {
    ($p:ident, $case:expr, $r:expr, $d:expr) => {{
        let h = $case.handler.as_str();
        match $case.fork.as_str() {
            "phase0" => phase0_types!($p, phase0, h, $r, $d;),
            "altair" => altair_types!($p, altair, h, $r, $d;),
            "bellatrix" => altair_types!($p, bellatrix, h, $r, $d;),
            "capella" => capella_types!($p, capella, h, $r, $d;),
            "deneb" => capella_types!($p, deneb, h, $r, $d; "BlobSidecar" => BlobSidecar, "BlobIdentifier" => BlobIdentifier),
            "electra" => capella_types!($p, electra, h, $r, $d;
                "BlobSidecar" => BlobSidecar, "BlobIdentifier" => BlobIdentifier, "SingleAttestation" => SingleAttestation),
            "fulu" => capella_types!($p, fulu, h, $r, $d;
                "SingleAttestation" => SingleAttestation, "DataColumnSidecar" => DataColumnSidecar,
                "DataColumnsByRootIdentifier" => DataColumnsByRootIdentifier,
                "PartialDataColumnSidecar" => PartialDataColumnSidecar,
                "PartialDataColumnPartsMetadata" => PartialDataColumnPartsMetadata,
                "PartialDataColumnHeader" => PartialDataColumnHeader,
                "PartialDataColumnGroupID" => PartialDataColumnGroupID),
            "gloas" => gloas_types!($p, gloas, h, $r, $d;),
            "heze" => gloas_types!($p, heze, h, $r, $d;
                "InclusionList" => InclusionList, "SignedInclusionList" => SignedInclusionList),
            other => Err(format!("unknown fork {other:?}")),
        }
    }};
}

pub(crate) fn run(reader: &Reader, dir: &Path, case: &CasePath) -> Result<(), String> {
    match case.preset.as_str() {
        "mainnet" => forks!(mainnet, case, reader, dir),
        "minimal" => forks!(minimal, case, reader, dir),
        other => Err(format!("unknown preset {other:?}")),
    }
}
