//! `voluntary_exit`, `proposer_slashing`, `attester_slashing`, `bls_to_execution_change`.

use std::collections::BTreeSet;

use pheme_spec::Fork;
use pheme_types::capella::SignedBlsToExecutionChange;
use pheme_types::phase0::{AttestationData, ProposerSlashing, SignedVoluntaryExit};

use crate::context::CheckContext;
use crate::seen::SeenSet;
use crate::verdict::gossip_errors;

/// Operations are deduplicated per validator for the node's lifetime (bounded by capacity);
/// they carry no slot to prune by.
const NO_SLOT: u64 = 0;

gossip_errors! {
    /// Why an operation is not forwarded.
    pub enum OperationError {
        #[error("an operation for validator {validator} was already seen")]
        AlreadySeen { validator: u64 } => Ignore, "already_seen",
        #[error("proposer slashing headers are for different slots")]
        SlotsDiffer => Reject, "slots_differ",
        #[error("proposer slashing headers are from different proposers")]
        ProposersDiffer => Reject, "proposers_differ",
        #[error("proposer slashing headers are identical")]
        HeadersEqual => Reject, "headers_equal",
        #[error("every index of the attester slashing was already slashed on gossip")]
        NothingNew => Ignore, "nothing_new",
        #[error("the two attestations are not slashable")]
        NotSlashable => Reject, "not_slashable",
        #[error("BLS changes are gossiped from capella on")]
        BeforeCapella => Ignore, "before_capella",
        #[error("the BLS change's signature does not verify under its own pubkey")]
        BadSignature => Reject, "bad_signature",
    }
}

/// The `voluntary_exit` handler: first exit per validator. The rest needs state.
#[derive(Debug, Default)]
pub struct VoluntaryExitHandler {
    seen: SeenSet<u64>,
}

impl VoluntaryExitHandler {
    /// Checks an exit; returns the validator to record.
    pub fn check(
        &self,
        e: &SignedVoluntaryExit,
        _ctx: &CheckContext<'_>,
    ) -> Result<u64, OperationError> {
        let v = e.message.validator_index;
        if self.seen.contains(NO_SLOT, &v) {
            return Err(OperationError::AlreadySeen { validator: v });
        }
        Ok(v)
    }

    /// Records an accepted exit.
    pub fn commit(&mut self, validator: u64) {
        self.seen.insert(NO_SLOT, validator);
    }
}

/// The `proposer_slashing` handler: the structural REJECTs and first per proposer.
#[derive(Debug, Default)]
pub struct ProposerSlashingHandler {
    seen: SeenSet<u64>,
}

impl ProposerSlashingHandler {
    /// Checks a slashing; returns the proposer to record.
    pub fn check(
        &self,
        s: &ProposerSlashing,
        _ctx: &CheckContext<'_>,
    ) -> Result<u64, OperationError> {
        let (h1, h2) = (&s.signed_header_1.message, &s.signed_header_2.message);
        if self.seen.contains(NO_SLOT, &h1.proposer_index) {
            return Err(OperationError::AlreadySeen {
                validator: h1.proposer_index,
            });
        }
        if h1.slot != h2.slot {
            return Err(OperationError::SlotsDiffer);
        }
        if h1.proposer_index != h2.proposer_index {
            return Err(OperationError::ProposersDiffer);
        }
        if h1 == h2 {
            return Err(OperationError::HeadersEqual);
        }
        Ok(h1.proposer_index)
    }

    /// Records an accepted slashing.
    pub fn commit(&mut self, proposer: u64) {
        self.seen.insert(NO_SLOT, proposer);
    }
}

/// The parts of an attester slashing the checks read, from either form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttesterSlashingView {
    /// `attestation_1.data`.
    pub data_1: AttestationData,
    /// `attestation_2.data`.
    pub data_2: AttestationData,
    /// Indices in both attestations.
    pub intersection: Vec<u64>,
}

fn intersection(a: impl Iterator<Item = u64>, b: impl Iterator<Item = u64>) -> Vec<u64> {
    let a: BTreeSet<u64> = a.collect();
    b.filter(|i| a.contains(i))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Every form has the same fields (the indices bounded, or progressive from gloas on).
macro_rules! attester_slashing_view {
    ($ty:ty $(, const $g:ident)?) => {
        impl$(<const $g: usize>)? From<&$ty> for AttesterSlashingView {
            fn from(s: &$ty) -> Self {
                AttesterSlashingView {
                    data_1: s.attestation_1.data.clone(),
                    data_2: s.attestation_2.data.clone(),
                    intersection: intersection(
                        s.attestation_1.attesting_indices.iter().copied(),
                        s.attestation_2.attesting_indices.iter().copied(),
                    ),
                }
            }
        }
    };
}
attester_slashing_view!(pheme_types::phase0::AttesterSlashing);
attester_slashing_view!(pheme_types::electra::AttesterSlashing<BITS>, const BITS);
attester_slashing_view!(pheme_types::gloas::AttesterSlashing);

/// `is_slashable_attestation_data`: a double vote or a surround vote.
pub fn is_slashable_attestation_data(d1: &AttestationData, d2: &AttestationData) -> bool {
    (d1 != d2 && d1.target.epoch == d2.target.epoch)
        || (d1.source.epoch < d2.source.epoch && d2.target.epoch < d1.target.epoch)
}

/// The `attester_slashing` handler: something new to slash, and slashable data.
#[derive(Debug, Default)]
pub struct AttesterSlashingHandler {
    seen: SeenSet<u64>,
}

impl AttesterSlashingHandler {
    /// Checks a slashing; returns the indices to record.
    pub fn check(
        &self,
        s: &AttesterSlashingView,
        _ctx: &CheckContext<'_>,
    ) -> Result<Vec<u64>, OperationError> {
        if !s
            .intersection
            .iter()
            .any(|i| !self.seen.contains(NO_SLOT, i))
        {
            return Err(OperationError::NothingNew);
        }
        if !is_slashable_attestation_data(&s.data_1, &s.data_2) {
            return Err(OperationError::NotSlashable);
        }
        Ok(s.intersection.clone())
    }

    /// Records an accepted slashing's indices.
    pub fn commit(&mut self, indices: Vec<u64>) {
        for i in indices {
            self.seen.insert(NO_SLOT, i);
        }
    }
}

/// `DOMAIN_BLS_TO_EXECUTION_CHANGE`.
const DOMAIN_BLS_TO_EXECUTION_CHANGE: [u8; 4] = [0x0a, 0, 0, 0];
/// The BLS signature ciphersuite of the consensus layer (proof of possession).
const BLS_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// The signature of a BLS-to-execution change verifies under the pubkey it carries, with the
/// domain of the genesis fork version and the genesis validators root (fixed by the spec so the
/// change is valid on every fork): a check that needs no state.
pub fn bls_change_signature_valid(
    c: &SignedBlsToExecutionChange,
    chain: &pheme_spec::ChainSpec,
) -> bool {
    use pheme_types::ssz_rs::Merkleized;
    use sha2::{Digest, Sha256};
    let Ok(object_root) = c.message.clone().hash_tree_root() else {
        return false;
    };
    let genesis_version = chain.forks[0].version;
    let fork_data_root =
        pheme_spec::compute_fork_data_root(genesis_version, chain.genesis_validators_root);
    let mut domain = [0u8; 32];
    domain[..4].copy_from_slice(&DOMAIN_BLS_TO_EXECUTION_CHANGE);
    domain[4..].copy_from_slice(&fork_data_root.0[..28]);
    // hash_tree_root(SigningData { object_root, domain }) of two 32-byte leaves.
    let signing_root = Sha256::new()
        .chain_update(object_root.as_ref())
        .chain_update(domain)
        .finalize();
    let Ok(pubkey) = blst::min_pk::PublicKey::key_validate(&c.message.from_bls_pubkey) else {
        return false;
    };
    let Ok(signature) = blst::min_pk::Signature::sig_validate(&c.signature, true) else {
        return false;
    };
    signature.verify(true, &signing_root, BLS_DST, &[], &pubkey, true)
        == blst::BLST_ERROR::BLST_SUCCESS
}

/// The `bls_to_execution_change` handler: capella started, first per validator, the signature.
#[derive(Debug, Default)]
pub struct BlsChangeHandler {
    seen: SeenSet<u64>,
}

impl BlsChangeHandler {
    /// Checks a change; returns the validator to record.
    pub fn check(
        &self,
        c: &SignedBlsToExecutionChange,
        ctx: &CheckContext<'_>,
    ) -> Result<u64, OperationError> {
        let capella = ctx
            .clock
            .chain()
            .fork_entry(Fork::Capella)
            .map_or(u64::MAX, |f| f.epoch);
        if ctx.clock.current_epoch() < capella {
            return Err(OperationError::BeforeCapella);
        }
        let v = c.message.validator_index;
        if self.seen.contains(NO_SLOT, &v) {
            return Err(OperationError::AlreadySeen { validator: v });
        }
        if !bls_change_signature_valid(c, ctx.clock.chain()) {
            return Err(OperationError::BadSignature);
        }
        Ok(v)
    }

    /// Records an accepted change.
    pub fn commit(&mut self, validator: u64) {
        self.seen.insert(NO_SLOT, validator);
    }
}
