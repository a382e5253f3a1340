//! PeerDAS custody (fulu `das-core`): which custody groups a node keeps, and their columns.

use ethereum_types::U256;
use sha2::{Digest, Sha256};

/// `NUMBER_OF_CUSTODY_GROUPS` (config; 128 on every network).
pub const NUMBER_OF_CUSTODY_GROUPS: u64 = 128;
/// `NUMBER_OF_COLUMNS` (preset; 128).
pub const NUMBER_OF_COLUMNS: u64 = 128;

/// A custody group count above `NUMBER_OF_CUSTODY_GROUPS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("custody group count {0} is above {NUMBER_OF_CUSTODY_GROUPS}")]
pub struct CustodyError(pub u64);

/// `get_custody_groups(node_id, custody_group_count)`: starting at the node id, each
/// `uint64_le(sha256(uint256_le(id))[0:8]) % NUMBER_OF_CUSTODY_GROUPS` not yet taken, until
/// `custody_group_count` are taken; ids wrap from 2^256 - 1 to 0. Sorted.
///
/// ```
/// use pheme_spec::{U256, get_custody_groups};
/// assert_eq!(get_custody_groups(U256::zero(), 4).unwrap(), vec![1, 17, 87, 102]);
/// assert_eq!(get_custody_groups(U256::zero(), 128).unwrap().len(), 128);
/// ```
pub fn get_custody_groups(
    node_id: U256,
    custody_group_count: u64,
) -> Result<Vec<u64>, CustodyError> {
    if custody_group_count > NUMBER_OF_CUSTODY_GROUPS {
        return Err(CustodyError(custody_group_count));
    }
    if custody_group_count == NUMBER_OF_CUSTODY_GROUPS {
        return Ok((0..NUMBER_OF_CUSTODY_GROUPS).collect());
    }
    let mut groups: Vec<u64> = Vec::with_capacity(custody_group_count as usize);
    let mut current = node_id;
    while (groups.len() as u64) < custody_group_count {
        let digest = Sha256::digest(current.to_little_endian());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let group = u64::from_le_bytes(first) % NUMBER_OF_CUSTODY_GROUPS;
        if !groups.contains(&group) {
            groups.push(group);
        }
        current = current.overflowing_add(U256::one()).0;
    }
    groups.sort_unstable();
    Ok(groups)
}

/// `compute_columns_for_custody_group(custody_group)`.
pub fn compute_columns_for_custody_group(custody_group: u64) -> Result<Vec<u64>, CustodyError> {
    if custody_group >= NUMBER_OF_CUSTODY_GROUPS {
        return Err(CustodyError(custody_group));
    }
    let per_group = NUMBER_OF_COLUMNS / NUMBER_OF_CUSTODY_GROUPS;
    Ok((0..per_group)
        .map(|i| NUMBER_OF_CUSTODY_GROUPS * i + custody_group)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers computed independently (Python hashlib) from the spec's definition.
    #[test]
    fn known_answers() {
        assert_eq!(
            get_custody_groups(U256::zero(), 4).unwrap(),
            vec![1, 17, 87, 102]
        );
        assert_eq!(
            get_custody_groups(U256::MAX, 8).unwrap(),
            vec![1, 17, 19, 42, 47, 75, 87, 102],
            "wraps to 0"
        );
        let id = U256::from(0x1234_5678_90ab_cdefu64) << 128;
        assert_eq!(get_custody_groups(id, 4).unwrap(), vec![5, 27, 87, 90]);
    }

    #[test]
    fn bounds() {
        assert_eq!(get_custody_groups(U256::one(), 129), Err(CustodyError(129)));
        assert_eq!(
            get_custody_groups(U256::one(), 0).unwrap(),
            Vec::<u64>::new()
        );
        assert_eq!(compute_columns_for_custody_group(5).unwrap(), vec![5]);
        assert!(compute_columns_for_custody_group(128).is_err());
    }
}
