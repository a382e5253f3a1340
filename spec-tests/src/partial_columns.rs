//! `networking` / `gossip_partial_data_column_sidecar` (fulu): partial column messages as
//! gossipsub partial messages carry them. Each message goes through what a node runs on a
//! received triple: [`pheme_gossip::PartialColumns::receive`] with the group ID
//! (`0x00 || SSZ(PartialDataColumnGroupID)` from the case's group ID file), the partial
//! sidecar's SSZ (the partial message: no snappy, no message-id) and the column index, at the
//! case's clock, with the reference validator for the header's stateful checks and the case's
//! finalized slot. One assembler per case: validated headers carry over to later messages.

use std::collections::BTreeMap;
use std::path::Path;

use crate::networking::{
    Decoded, NetworkingCount, Setup, decode_named, expected_verdict, setup, stand_in,
};
use crate::{CasePath, Reader};

/// The handler's name.
pub(crate) const HANDLER: &str = "gossip_partial_data_column_sidecar";

/// `MAX_BLOB_COMMITMENTS_PER_BLOCK` (minimal, as mainnet).
const B: usize = 4096;

/// The SSZ of a named file, `Err` if it does not decode.
fn ssz_of(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    stem: &str,
) -> Result<Result<Vec<u8>, String>, String> {
    Ok(match decode_named(reader, dir, case, stem, None)? {
        Decoded::Ok(bytes) => Ok(bytes),
        Decoded::Rejected(e) => Err(e),
    })
}

pub(crate) fn run(
    reader: &Reader,
    dir: &Path,
    case: &CasePath,
    coverage: &mut BTreeMap<String, NetworkingCount>,
) -> Result<(), String> {
    let Setup {
        meta,
        chain,
        fork,
        reference,
    } = setup(reader, dir, case, "partial_data_column_sidecar")?;
    let base_ms = meta["current_time_ms"].as_u64().unwrap_or(0);
    let mut columns = pheme_gossip::PartialColumns::<B>::new(
        pheme_gossip::PartialColumnsConfig::for_chain(&chain),
    );
    columns.set_finalized_slot(reference.finalized().0 * chain.slots_per_epoch());
    // Headers the case says were validated before its messages.
    for seen in meta["seen_partial_data_column_headers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let stem = seen["header"]
            .as_str()
            .ok_or("a seen header without header")?;
        let bytes =
            ssz_of(reader, dir, case, stem)?.map_err(|e| format!("{stem} does not decode: {e}"))?;
        let header: pheme_types::minimal::fulu::PartialDataColumnHeader =
            pheme_types::decode_untrusted(&bytes).map_err(|e| crate::chain_text(&e))?;
        let root = columns
            .insert_header(header)
            .map_err(|e| format!("{stem}: {}", crate::chain_text(&e)))?;
        if seen["block_root"].as_str() != Some(format!("0x{}", hex::encode(root)).as_str()) {
            return Err(format!("{stem}: its root is not the entry's block_root"));
        }
    }
    // The messages' sender (the cases have one).
    let peer = libp2p_identity::Keypair::ed25519_from_bytes([1; 32])
        .map_err(|e| e.to_string())?
        .public()
        .to_peer_id();
    let count = coverage
        .entry(format!("{}/{}", case.fork, case.handler))
        .or_default();
    count.cases += 1;
    for message in meta["messages"]
        .as_array()
        .ok_or("meta.yaml has no messages")?
    {
        let field = |name: &str| {
            message[name]
                .as_str()
                .ok_or_else(|| format!("a message without {name}"))
        };
        let (stem, expected) = (field("message")?, field("expected")?);
        let group = ssz_of(reader, dir, case, field("group_id")?)?
            .map_err(|e| format!("the group ID does not decode: {e}"))?;
        let group_id = [&[pheme_gossip::GROUP_ID_VERSION][..], &group].concat();
        let column = message["column_index"]
            .as_u64()
            .ok_or("a message without column_index")?;
        let bytes = ssz_of(reader, dir, case, stem)?;
        let offset = message["offset_ms"].as_u64().unwrap_or(0);
        let clock =
            pheme_gossip::GossipClock::new(&chain, chain.genesis_time * 1000 + base_ms + offset);
        let (before, calls) = (reference.stood_in(), reference.calls());
        reference.set_stand_in(Some(stand_in(expected)?));
        let got = match &bytes {
            Ok(bytes) => columns.receive(
                pheme_gossip::Inbound {
                    peer,
                    column,
                    fork,
                    group_id: &group_id,
                    message: Some(bytes),
                    metadata: None,
                },
                &clock,
                &reference,
            ),
            Err(_) => {
                return Err(format!("{stem}: the message file does not decode"));
            }
        };
        reference.set_stand_in(None);
        if reference.stood_in() > before {
            count.stood_in += 1;
        } else {
            count.computed += 1;
        }
        if reference.calls() > calls {
            count.reached += 1;
            if got.verdict != pheme_gossip::Verdict::Accept {
                count.refused += 1;
            }
        }
        let want = expected_verdict(expected);
        if got.verdict != want {
            return Err(format!(
                "{stem}: Pheme says {} ({}), the case expects {expected}{}",
                got.verdict.name(),
                got.error.map(|e| crate::chain_text(&e)).unwrap_or_default(),
                message["reason"]
                    .as_str()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(())
}
