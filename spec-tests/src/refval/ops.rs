//! The operations' stateful checks: voluntary exits (deneb's EIP-7044 domain), proposer
//! slashings, attester slashings and BLS to execution changes, against the head state (the
//! anchor).

use pheme_gossip::payload::minimal::AttesterSlashing;
use pheme_types::capella::SignedBlsToExecutionChange;
use pheme_types::phase0::{AttestationData, ProposerSlashing, SignedVoluntaryExit};

use super::spec::{self, Domains};
use super::{Check, ReferenceValidator, reject};

/// `validate_voluntary_exit_gossip` (deneb): the checks after the seen cache.
pub(super) fn voluntary_exit(r: &ReferenceValidator, e: &SignedVoluntaryExit) -> Result<(), Check> {
    let exit = &e.message;
    let Some(v) = usize::try_from(exit.validator_index)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("validator_index_out_of_range");
    };
    let current = spec::epoch_at(r.anchor.slot);
    if !spec::is_active(v, current) {
        return reject("validator_not_active");
    }
    if v.exit_epoch != spec::FAR_FUTURE_EPOCH {
        return reject("exit_already_initiated");
    }
    if current < exit.epoch {
        return reject("exit_epoch_in_future");
    }
    if current
        < v.activation_epoch
            .saturating_add(spec::SHARD_COMMITTEE_PERIOD)
    {
        return reject("not_active_long_enough");
    }
    let domain = r
        .domains
        .compute(spec::DOMAIN_VOLUNTARY_EXIT, r.capella_version);
    let Some(root) = spec::root_of(exit) else {
        return reject("unhashable");
    };
    if !spec::bls_verify(
        &v.pubkey.0,
        &spec::signing_root(root, domain),
        &e.signature.0,
    ) {
        return reject("bad_exit_signature");
    }
    Ok(())
}

/// `validate_proposer_slashing_gossip`: the checks after the seen cache and the headers'
/// shape (Pheme's).
pub(super) fn proposer_slashing(r: &ReferenceValidator, s: &ProposerSlashing) -> Result<(), Check> {
    let h1 = &s.signed_header_1.message;
    let h2 = &s.signed_header_2.message;
    if h1.slot != h2.slot {
        return reject("header_slots_differ");
    }
    if h1.proposer_index != h2.proposer_index {
        return reject("header_proposers_differ");
    }
    if h1 == h2 {
        return reject("headers_equal");
    }
    let Some(v) = usize::try_from(h1.proposer_index)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("proposer_index_out_of_range");
    };
    if !spec::is_slashable(v, spec::epoch_at(r.anchor.slot)) {
        return reject("proposer_not_slashable");
    }
    for signed in [&s.signed_header_1, &s.signed_header_2] {
        let domain = r.domains.get(
            spec::DOMAIN_BEACON_PROPOSER,
            spec::epoch_at(signed.message.slot),
        );
        let Some(root) = spec::root_of(&signed.message) else {
            return reject("unhashable");
        };
        if !spec::bls_verify(
            &v.pubkey.0,
            &spec::signing_root(root, domain),
            &signed.signature.0,
        ) {
            return reject("bad_slashing_signature");
        }
    }
    Ok(())
}

/// `is_valid_indexed_attestation`: indices non-empty, sorted and unique, and the aggregate
/// signature of their keys over the data (indices must be in range).
pub(super) fn valid_indexed_attestation(
    r: &ReferenceValidator,
    indices: &[u64],
    data: &AttestationData,
    signature: &[u8],
) -> bool {
    if indices.is_empty() || indices.windows(2).any(|w| w[0] >= w[1]) {
        return false;
    }
    let mut keys = Vec::with_capacity(indices.len());
    for i in indices {
        match usize::try_from(*i)
            .ok()
            .and_then(|i| r.anchor.validators.get(i))
        {
            Some(v) => keys.push(v.pubkey.0.as_slice()),
            None => return false,
        }
    }
    let Some(root) = spec::root_of(data) else {
        return false;
    };
    let domain = r
        .domains
        .get(spec::DOMAIN_BEACON_ATTESTER, data.target.epoch);
    spec::bls_fast_aggregate_verify(&keys, &spec::signing_root(root, domain), signature)
}

/// `validate_attester_slashing_gossip`: the checks after "nothing new" and "not slashable
/// data" (Pheme's).
pub(super) fn attester_slashing(r: &ReferenceValidator, s: &AttesterSlashing) -> Result<(), Check> {
    let (a1, a2) = match s {
        AttesterSlashing::Phase0(s) => (
            (
                s.attestation_1.attesting_indices.to_vec(),
                &s.attestation_1.data,
                &s.attestation_1.signature.0,
            ),
            (
                s.attestation_2.attesting_indices.to_vec(),
                &s.attestation_2.data,
                &s.attestation_2.signature.0,
            ),
        ),
        AttesterSlashing::Electra(s) => (
            (
                s.attestation_1.attesting_indices.to_vec(),
                &s.attestation_1.data,
                &s.attestation_1.signature.0,
            ),
            (
                s.attestation_2.attesting_indices.to_vec(),
                &s.attestation_2.data,
                &s.attestation_2.signature.0,
            ),
        ),
        AttesterSlashing::Gloas(s) => (
            (
                s.attestation_1.attesting_indices.iter().copied().collect(),
                &s.attestation_1.data,
                &s.attestation_1.signature.0,
            ),
            (
                s.attestation_2.attesting_indices.iter().copied().collect(),
                &s.attestation_2.data,
                &s.attestation_2.signature.0,
            ),
        ),
    };
    if !spec::is_slashable_attestation_data(a1.1, a2.1) {
        return reject("data_not_slashable");
    }
    let n = r.anchor.validators.len() as u64;
    for (label_range, label_invalid, (indices, data, sig)) in [
        ("index_out_of_range_1", "invalid_indexed_attestation_1", &a1),
        ("index_out_of_range_2", "invalid_indexed_attestation_2", &a2),
    ] {
        if indices.iter().any(|i| *i >= n) {
            return reject(label_range);
        }
        if !valid_indexed_attestation(r, indices, data, sig.as_slice()) {
            return reject(label_invalid);
        }
    }
    let current = spec::epoch_at(r.anchor.slot);
    let slashable = a1.0.iter().filter(|i| a2.0.contains(i)).any(|i| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| r.anchor.validators.get(i))
            .is_some_and(|v| spec::is_slashable(v, current))
    });
    if !slashable {
        return reject("no_slashable_validator");
    }
    Ok(())
}

/// `validate_bls_to_execution_change_gossip`: the checks after the capella epoch and the seen
/// cache.
pub(super) fn bls_change(
    r: &ReferenceValidator,
    c: &SignedBlsToExecutionChange,
) -> Result<(), Check> {
    let change = &c.message;
    let Some(v) = usize::try_from(change.validator_index)
        .ok()
        .and_then(|i| r.anchor.validators.get(i))
    else {
        return reject("validator_index_out_of_range");
    };
    let credentials = &v.withdrawal_credentials.0;
    if credentials[0] != 0 {
        return reject("not_bls_credentials");
    }
    if credentials[1..] != spec::hash(&[&change.from_bls_pubkey.0])[1..] {
        return reject("pubkey_not_credentials");
    }
    let domains: &Domains = &r.domains;
    let domain = domains.compute(spec::DOMAIN_BLS_TO_EXECUTION_CHANGE, r.genesis_version);
    let Some(root) = spec::root_of(change) else {
        return reject("unhashable");
    };
    if !spec::bls_verify(
        &change.from_bls_pubkey.0,
        &spec::signing_root(root, domain),
        &c.signature.0,
    ) {
        return reject("bad_bls_change_signature");
    }
    Ok(())
}
