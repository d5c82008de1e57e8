//! Revocation and suspension as W3C Bitstring Status Lists (Bitstring Status List v1.0).
//!
//! - **One list per purpose**: `revocation` (final) and `suspension` (may be lifted). Every
//!   certificate holds an entry in each, at a **random** index of the purpose's current list, so
//!   an index says nothing about when or to whom a certificate was issued.
//! - A list has [`LIST_SIZE`] entries (131,072 bits, 16 KiB — the specification's minimum, for
//!   herd privacy). When the current list has no room for a protocol's certificates, the next
//!   list is opened; lists are numbered from 1 and never change their URL:
//!   `{base}/status/{purpose}/{list}`.
//! - The list is a `BitstringStatusListCredential` whose `encodedList` is the bitstring, GZIP
//!   compressed and multibase-encoded (`u` + base64url without padding). Index 0 is the most
//!   significant bit of the first byte. It is signed as a `vc+jwt` by the register's key and built
//!   from the database on every request, so it reflects a change at once.
//!
//! Multibase here is one prefix letter on base64url; it is written by hand rather than with a
//! multibase crate.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// Entries per list.
pub const LIST_SIZE: u32 = 131_072;

/// What a list says about the certificates whose bit is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Revocation,
    Suspension,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Purpose::Revocation, Purpose::Suspension]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A certificate's place in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub purpose: Purpose,
    pub list: i32,
    pub index: i32,
}

/// The URL of a list.
pub fn list_url(base_url: &str, purpose: Purpose, list: i32) -> String {
    format!("{base_url}/status/{}/{list}", purpose.as_str())
}

impl Entry {
    /// The `BitstringStatusListEntry` a credential carries.
    pub fn to_json(&self, base_url: &str) -> Value {
        let list = list_url(base_url, self.purpose, self.list);
        json!({
            "id": format!("{list}#{}", self.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose.as_str(),
            "statusListIndex": self.index.to_string(),
            "statusListCredential": list,
        })
    }
}

/// The bitstring with `set` indices on, GZIP-compressed and multibase base64url-encoded.
/// Indices outside the list are ignored (they cannot be assigned).
pub fn encode(set: &[i32]) -> String {
    let mut bits = vec![0u8; (LIST_SIZE / 8) as usize];
    for &index in set {
        if let Ok(i) = usize::try_from(index)
            && i < LIST_SIZE as usize
        {
            bits[i / 8] |= 0x80 >> (i % 8);
        }
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gzip.write_all(&bits);
    let compressed = gzip.finish().unwrap_or_default();
    format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
}

/// Whether `index` is set in an encoded list (for tests and verifiers of our own lists).
pub fn is_set(encoded: &str, index: u32) -> Result<bool, String> {
    let data = encoded
        .strip_prefix('u')
        .ok_or("not multibase base64url (no `u` prefix)")?;
    let compressed = URL_SAFE_NO_PAD.decode(data).map_err(|e| e.to_string())?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(u64::from(LIST_SIZE) / 8 + 1)
        .read_to_end(&mut bits)
        .map_err(|e| e.to_string())?;
    let byte = bits
        .get(index as usize / 8)
        .ok_or("index beyond the list")?;
    Ok(byte & (0x80 >> (index % 8)) != 0)
}

/// The unsecured `BitstringStatusListCredential` of one list.
pub fn list_credential(
    base_url: &str,
    purpose: Purpose,
    list: i32,
    set: &[i32],
    now: DateTime<Utc>,
) -> Value {
    let url = list_url(base_url, purpose, list);
    json!({
        "@context": [crate::credential::VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": crate::credential::issuer(base_url),
        "validFrom": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": encode(set),
        },
    })
}

/// Picks `count` distinct free indices of a list at random, given the indices already taken.
pub fn pick_free(taken: &std::collections::HashSet<i32>, count: usize) -> Option<Vec<i32>> {
    let free = LIST_SIZE as usize - taken.len();
    if count > free {
        return None;
    }
    let mut chosen = std::collections::HashSet::with_capacity(count);
    let mut picked = Vec::with_capacity(count);
    // Rejection sampling; a list is opened anew long before it is full enough for this to spin
    // (see `db::status::allocate`, which keeps lists at most three-quarters full).
    while picked.len() < count {
        let index = (rand_core::RngCore::next_u32(&mut rand_core::OsRng) % LIST_SIZE) as i32;
        if !taken.contains(&index) && chosen.insert(index) {
            picked.push(index);
        }
    }
    Some(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_is_16_kib_of_zeros_compressed() {
        let encoded = encode(&[]);
        assert!(encoded.starts_with('u'));
        let compressed = URL_SAFE_NO_PAD.decode(&encoded[1..]).expect("base64url");
        let mut bits = Vec::new();
        flate2::read::GzDecoder::new(compressed.as_slice())
            .read_to_end(&mut bits)
            .expect("gzip");
        assert_eq!(bits.len(), 16 * 1024);
        assert!(bits.iter().all(|b| *b == 0));
    }

    #[test]
    fn index_zero_is_the_leftmost_bit() {
        let encoded = encode(&[0, 9, 131_071]);
        let compressed = URL_SAFE_NO_PAD.decode(&encoded[1..]).expect("base64url");
        let mut bits = Vec::new();
        flate2::read::GzDecoder::new(compressed.as_slice())
            .read_to_end(&mut bits)
            .expect("gzip");
        assert_eq!(bits[0], 0b1000_0000);
        assert_eq!(bits[1], 0b0100_0000);
        assert_eq!(bits[16 * 1024 - 1], 0b0000_0001);
        for (index, expected) in [
            (0, true),
            (1, false),
            (9, true),
            (131_071, true),
            (131_070, false),
        ] {
            assert_eq!(is_set(&encoded, index), Ok(expected), "{index}");
        }
    }

    #[test]
    fn free_indices_are_distinct_and_untaken() {
        let taken: std::collections::HashSet<i32> = (0..1000).collect();
        let picked = pick_free(&taken, 5000).expect("room");
        let distinct: std::collections::HashSet<i32> = picked.iter().copied().collect();
        assert_eq!(distinct.len(), 5000);
        assert!(picked.iter().all(|i| *i >= 1000 && (*i as u32) < LIST_SIZE));
        assert!(pick_free(&taken, LIST_SIZE as usize).is_none());
    }
}
