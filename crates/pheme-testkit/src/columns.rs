//! Real data columns: seeded blobs through c-kzg's trusted setup into cells and cell proofs,
//! with a seeded inclusion proof and the block body root it leads to, so that a column passes
//! the stateless checks of `data_column_sidecar_{subnet}` (and its cells those of partial
//! columns).

use pheme_types::mainnet::fulu::DataColumnSidecar;
use pheme_types::primitives::{Cell, KzgCommitment, KzgProof};
use pheme_types::ssz_rs::{List, Vector};

use crate::fixtures::FixtureError;

/// `MAX_BLOB_COMMITMENTS_PER_BLOCK` (every preset's).
const B: usize = 4096;

/// Bytes of a blob.
const BLOB_BYTES: usize = 131_072;

/// Why a column could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ColumnError {
    /// c-kzg refused an input (cannot happen with the seeded blobs).
    #[error("c-kzg: {0:?}")]
    Kzg(c_kzg::Error),
    /// A list or vector did not fit its type.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// A column index over the 128 columns.
    #[error("column {0} out of range")]
    Column(u64),
}

/// The columns `columns` of a block at `slot` carrying `blobs` seeded blobs (`seed` picks the
/// blob data and the header's proposer), each a full `DataColumnSidecar`.
pub fn block_columns(
    slot: u64,
    blobs: usize,
    seed: u64,
    columns: &[u64],
) -> Result<Vec<DataColumnSidecar>, ColumnError> {
    let settings = c_kzg::ethereum_kzg_settings(0);
    let mut commitments = Vec::with_capacity(blobs);
    let mut cells: Vec<Vec<Cell>> = vec![Vec::with_capacity(blobs); columns.len()];
    let mut proofs: Vec<Vec<KzgProof>> = vec![Vec::with_capacity(blobs); columns.len()];
    for b in 0..blobs {
        let blob =
            c_kzg::Blob::from_bytes(&seeded_blob(seed, b as u64)).map_err(ColumnError::Kzg)?;
        let c = settings
            .blob_to_kzg_commitment(&blob)
            .map_err(ColumnError::Kzg)?;
        commitments.push(wrong_length(KzgCommitment::try_from(
            &c.to_bytes().into_inner()[..],
        ))?);
        let (cs, ps) = settings
            .compute_cells_and_kzg_proofs(&blob)
            .map_err(ColumnError::Kzg)?;
        for (k, &col) in columns.iter().enumerate() {
            let i = usize::try_from(col).map_err(|_| ColumnError::Column(col))?;
            let (cell, proof) = cs.get(i).zip(ps.get(i)).ok_or(ColumnError::Column(col))?;
            cells[k].push(wrong_length(Cell::try_from(&cell.to_bytes()[..]))?);
            proofs[k].push(wrong_length(KzgProof::try_from(
                &proof.to_bytes().into_inner()[..],
            ))?);
        }
    }
    let kzg_commitments: List<KzgCommitment, B> = list(commitments)?;
    // A seeded inclusion proof (four nodes) and the body root it leads to from the
    // commitments' root at `blob_kzg_commitments`' subtree index (11).
    let leaf = pheme_types::root_of(&kzg_commitments).unwrap_or_default();
    let branch: Vec<[u8; 32]> = (0..4u8)
        .map(|i| [i.wrapping_add(1) ^ (seed as u8); 32])
        .collect();
    let body_root = pheme_gossip::merkle_branch_root(leaf, &branch, 11);
    let proof = Vector::try_from(branch.iter().map(|b| (*b).into()).collect::<Vec<_>>())
        .map_err(|_| FixtureError::Bits("inclusion proof".into()))?;
    let mut out = Vec::with_capacity(columns.len());
    for ((&index, cells), proofs) in columns.iter().zip(cells).zip(proofs) {
        let mut s = DataColumnSidecar {
            index,
            column: list(cells)?,
            kzg_commitments: kzg_commitments.clone(),
            kzg_proofs: list(proofs)?,
            kzg_commitments_inclusion_proof: proof.clone(),
            ..Default::default()
        };
        s.signed_block_header.message.slot = slot;
        s.signed_block_header.message.proposer_index = seed;
        s.signed_block_header.message.body_root = body_root.into();
        out.push(s);
    }
    Ok(out)
}

/// A blob of seeded field elements (each 32-byte element's top byte zero, so below the
/// modulus).
fn seeded_blob(seed: u64, index: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; BLOB_BYTES];
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed.rotate_left(17) ^ index;
    for (i, byte) in bytes.iter_mut().enumerate() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = if i % 32 == 0 { 0 } else { x as u8 };
    }
    bytes
}

fn list<T: pheme_types::ssz_rs::SimpleSerialize>(v: Vec<T>) -> Result<List<T, B>, ColumnError> {
    List::try_from(v).map_err(|_| ColumnError::Fixture(FixtureError::Bits("list".into())))
}

fn wrong_length<T>(r: Result<T, pheme_types::primitives::WrongLength>) -> Result<T, ColumnError> {
    r.map_err(|e| ColumnError::Fixture(e.into()))
}
