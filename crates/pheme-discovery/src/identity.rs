//! One secp256k1 key for both libp2p and discv5, and peer ids of remote records.

use std::fmt;

use discv5::Enr;
use discv5::enr::{CombinedKey, CombinedPublicKey, EnrKey, EnrPublicKey, NodeId};
use libp2p::PeerId;
use libp2p::identity::{Keypair, PublicKey, secp256k1};

use crate::error::IdentityError;

/// The node's secp256k1 identity: the libp2p [`Keypair`] (and so the [`PeerId`]) and the discv5
/// [`CombinedKey`] (and so the ENR's node id) come from the same secret, as every eth2 client
/// does, so peers can map an ENR to the libp2p peer they dial.
#[derive(Clone)]
pub struct LocalIdentity {
    keypair: secp256k1::Keypair,
}

impl LocalIdentity {
    /// A fresh random key.
    pub fn generate() -> Self {
        LocalIdentity {
            keypair: secp256k1::Keypair::generate(),
        }
    }

    /// The identity of a 32-byte secp256k1 secret (the big-endian scalar, as in a node key file).
    pub fn from_secret_bytes(secret: [u8; 32]) -> Result<Self, IdentityError> {
        let mut secret = secret;
        let sk = secp256k1::SecretKey::try_from_bytes(&mut secret)
            .map_err(|_| IdentityError::InvalidSecretKey)?;
        Ok(LocalIdentity {
            keypair: secp256k1::Keypair::from(sk),
        })
    }

    /// The 32-byte secret, to persist it.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.keypair.secret().to_bytes()
    }

    /// The libp2p keypair (for the swarm's transport and identify).
    pub fn keypair(&self) -> Keypair {
        Keypair::from(self.keypair.clone())
    }

    /// The libp2p peer id.
    pub fn peer_id(&self) -> PeerId {
        PublicKey::from(self.keypair.public().clone()).to_peer_id()
    }

    /// The discv5 key signing the local ENR (a new value each call: `CombinedKey` is not `Clone`).
    pub fn enr_key(&self) -> Result<CombinedKey, IdentityError> {
        let mut bytes = self.keypair.secret().to_bytes();
        CombinedKey::secp256k1_from_bytes(&mut bytes).map_err(|_| IdentityError::InvalidSecretKey)
    }

    /// The discv5 node id (keccak256 of the uncompressed public key).
    pub fn node_id(&self) -> Result<NodeId, IdentityError> {
        Ok(NodeId::from(self.enr_key()?.public()))
    }
}

impl fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("peer_id", &self.peer_id())
            .finish_non_exhaustive()
    }
}

/// The libp2p peer id of an ENR public key (secp256k1 only, as eth2 requires).
pub fn peer_id_from_public_key(key: &CombinedPublicKey) -> Result<PeerId, IdentityError> {
    match key {
        CombinedPublicKey::Secp256k1(_) => {
            let compressed = key.encode();
            peer_id_from_secp256k1_bytes(&compressed)
        }
        CombinedPublicKey::Ed25519(_) => Err(IdentityError::NotSecp256k1),
    }
}

/// The libp2p peer id of a secp256k1 public key, compressed (33 bytes) or not (65 bytes).
pub fn peer_id_from_secp256k1_bytes(bytes: &[u8]) -> Result<PeerId, IdentityError> {
    let pk =
        secp256k1::PublicKey::try_from_bytes(bytes).map_err(|_| IdentityError::InvalidPublicKey)?;
    Ok(PublicKey::from(pk).to_peer_id())
}

/// The libp2p peer id of the key that signed `enr`.
pub fn peer_id_from_enr(enr: &Enr) -> Result<PeerId, IdentityError> {
    peer_id_from_public_key(&enr.public_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_secret_two_identities() {
        let id = LocalIdentity::generate();
        let key = id.enr_key().unwrap();
        let enr = Enr::builder().build(&key).unwrap();
        assert_eq!(peer_id_from_enr(&enr).unwrap(), id.peer_id());
        assert_eq!(enr.node_id(), id.node_id().unwrap());
        assert_eq!(id.keypair().public().to_peer_id(), id.peer_id());
        let again = LocalIdentity::from_secret_bytes(id.secret_bytes()).unwrap();
        assert_eq!(again.peer_id(), id.peer_id());
    }

    #[test]
    fn bad_keys_are_errors() {
        assert_eq!(
            LocalIdentity::from_secret_bytes([0; 32]).unwrap_err(),
            IdentityError::InvalidSecretKey
        );
        assert_eq!(
            peer_id_from_secp256k1_bytes(&[5; 33]).unwrap_err(),
            IdentityError::InvalidPublicKey
        );
        assert!(peer_id_from_secp256k1_bytes(&[]).is_err());
        let ed = CombinedKey::generate_ed25519();
        let enr = Enr::builder().build(&ed).unwrap();
        assert_eq!(
            peer_id_from_enr(&enr).unwrap_err(),
            IdentityError::NotSecp256k1
        );
    }
}
