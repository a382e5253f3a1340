//! Counting active validators from a standard Beacon API, streaming.
//!
//! `GET /eth/v1/beacon/states/head/validators?status=active` answers one JSON object per
//! validator (about 250 bytes each: ~250 MB on mainnet). The body is parsed as it arrives and
//! only a counter is kept; the whole body is bounded by [`MAX_BODY_BYTES`].

use std::fmt;
use std::io::BufReader;
use std::time::Duration;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Largest response accepted (room for 8 million validators).
pub const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Connection timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for the node to start answering.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed for the whole exchange: a node that trickles bytes does not hang the command
/// (mainnet's ~250 MB body needs ~0.14 MB/s to fit).
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Why the Beacon API gave no count.
#[derive(Debug, thiserror::Error)]
pub enum BeaconApiError {
    /// No connection, or it broke.
    #[error("beacon API at {url} is unreachable: {reason}")]
    Unreachable {
        /// The node.
        url: String,
        /// Transport error.
        reason: String,
    },
    /// A non-2xx status.
    #[error("beacon API at {url} answered HTTP {status}")]
    Status {
        /// The node.
        url: String,
        /// HTTP status.
        status: u16,
    },
    /// A body that is not a validators list.
    #[error("beacon API at {url} answered something that is not a validators list: {reason}")]
    Garbage {
        /// The node.
        url: String,
        /// Parser message.
        reason: String,
    },
    /// A well-formed list without a single active validator.
    #[error("beacon API at {url} reports no active validator")]
    NoneActive {
        /// The node.
        url: String,
    },
}

/// Counts the active validators at `head` of the node at `base_url`.
pub fn count_active_validators(base_url: &str) -> Result<u64, BeaconApiError> {
    let base = base_url.trim_end_matches('/');
    let url = format!("{base}/eth/v1/beacon/states/head/validators?status=active");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(RESPONSE_TIMEOUT))
        .timeout_global(Some(TOTAL_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .get(&url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| BeaconApiError::Unreachable {
            url: base.to_owned(),
            reason: e.to_string(),
        })?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(BeaconApiError::Status {
            url: base.to_owned(),
            status,
        });
    }
    let reader = response
        .into_body()
        .into_with_config()
        .limit(MAX_BODY_BYTES)
        .reader();
    let count = count_active_in(BufReader::new(reader)).map_err(|e| BeaconApiError::Garbage {
        url: base.to_owned(),
        reason: e.to_string(),
    })?;
    if count == 0 {
        return Err(BeaconApiError::NoneActive {
            url: base.to_owned(),
        });
    }
    Ok(count)
}

/// Counts validators whose `status` starts with `active` in a `{"data": [...]}` body.
pub fn count_active_in(reader: impl std::io::Read) -> Result<u64, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let count = de.deserialize_map(Body)?;
    de.end()?;
    Ok(count)
}

struct Body;

impl<'de> Visitor<'de> for Body {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a \"data\" list")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut count = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "data" {
                count = Some(map.next_value_seed(Entries)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        count.ok_or_else(|| de::Error::missing_field("data"))
    }
}

struct Entries;

impl<'de> DeserializeSeed<'de> for Entries {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of validators")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        #[derive(Deserialize)]
        struct Entry {
            status: String,
        }
        let mut n = 0;
        while let Some(entry) = seq.next_element::<Entry>()? {
            n += u64::from(entry.status.starts_with("active"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_active_entries() {
        let body = r#"{"execution_optimistic":false,"finalized":false,"data":[
            {"index":"0","balance":"32000000000","status":"active_ongoing","validator":{"pubkey":"0xaa","slashed":false}},
            {"index":"1","balance":"0","status":"withdrawal_done","validator":{}},
            {"index":"2","balance":"1","status":"active_exiting","validator":{}},
            {"index":"3","balance":"1","status":"active_slashed","validator":{}}]}"#;
        assert_eq!(count_active_in(body.as_bytes()).unwrap(), 3);
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "",
            "[]",
            "{\"data\":3}",
            "{\"data\":[{\"index\":\"0\"}]}",
            "{\"other\":1}",
            "{\"data\":[]} trailing",
            "<html>",
        ] {
            assert!(count_active_in(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
