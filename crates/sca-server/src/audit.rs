//! The audit log's hash chain: pure functions, shared by the writer (which appends) and the
//! `audit-verify` command (which checks).
//!
//! `entry = "SCA1-AUDIT" || lp(u64 seq) || lp(u64 at) || lp(kind) || lp(customer) || lp(detail)`
//! (integers big-endian, texts UTF-8) and `hash = SHA-256(prev_hash || entry)`; the first entry's
//! `prev_hash` is 32 zero bytes. A row changed, removed or reordered breaks every later hash.

use sca_protocol::{lp_message, sha256};

/// `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// Longest `detail` kept, in bytes (so `lp()` always fits).
pub const MAX_DETAIL: usize = 4096;

/// The bytes an audit row hashes.
pub fn entry_bytes(seq: i64, at: i64, kind: &str, customer: &str, detail: &str) -> Vec<u8> {
    let seq = seq.to_be_bytes();
    let at = at.to_be_bytes();
    // Every field is bounded far below 65 535 bytes (detail is cut to MAX_DETAIL on append).
    lp_message(
        b"SCA1-AUDIT",
        &[&seq, &at, kind.as_bytes(), customer.as_bytes(), detail.as_bytes()],
    )
    .unwrap_or_default()
}

/// `SHA-256(prev_hash || entry)`.
pub fn chain_hash(prev: &[u8; 32], entry: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(32 + entry.len());
    buf.extend_from_slice(prev);
    buf.extend_from_slice(entry);
    sha256(&buf)
}

/// Cuts `detail` to [`MAX_DETAIL`] bytes on a character boundary.
pub fn clip_detail(detail: &str) -> &str {
    if detail.len() <= MAX_DETAIL {
        return detail;
    }
    let mut end = MAX_DETAIL;
    while !detail.is_char_boundary(end) {
        end -= 1;
    }
    &detail[..end]
}

/// One stored row, as the verifier reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// Sequence number, from 1, without gaps.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// What happened (`login_failed`, `operation_approved`, …).
    pub kind: String,
    /// The customer's user code, or empty.
    pub customer: String,
    /// Details (never a secret).
    pub detail: String,
    /// The previous row's hash.
    pub prev_hash: Vec<u8>,
    /// This row's hash.
    pub hash: Vec<u8>,
}

/// The bytes a checkpoint signs: `"SCA1-AUDIT-HEAD" || lp(u64 seq) || lp(u64 at) || lp(hash)`.
pub fn checkpoint_bytes(seq: i64, at: i64, hash: &[u8; 32]) -> Vec<u8> {
    lp_message(b"SCA1-AUDIT-HEAD", &[&seq.to_be_bytes(), &at.to_be_bytes(), hash]).unwrap_or_default()
}

/// Signs checkpoints (the bank key's ECDSA, 64 bytes).
pub type Signer = std::sync::Arc<dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync>;

/// A signed head of the chain, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Checkpoint {
    /// The last row it covers.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// That row's hash.
    pub hash: Vec<u8>,
    /// ECDSA P-256 of the bank key over [`checkpoint_bytes`].
    pub signature: Vec<u8>,
}

impl Checkpoint {
    /// The row hash it signs, if its signature holds under `bank`.
    pub fn signed_hash(&self, bank: &sca_protocol::PublicKey) -> Option<[u8; 32]> {
        let hash: [u8; 32] = self.hash.as_slice().try_into().ok()?;
        let signature = sca_protocol::Signature::from_bytes(&self.signature).ok()?;
        bank.verify(&checkpoint_bytes(self.seq, self.at, &hash), &signature)
            .then_some(hash)
    }
}

/// Why the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A sequence number is missing or out of order.
    #[error("row {seq}: expected sequence number {expected}")]
    Gap {
        /// The row's seq.
        seq: i64,
        /// What it should be.
        expected: i64,
    },
    /// `prev_hash` is not the previous row's hash.
    #[error("row {0}: prev_hash does not match the previous row")]
    Link(i64),
    /// `hash` is not SHA-256(prev_hash || entry).
    #[error("row {0}: hash does not match its content")]
    Hash(i64),
    /// A checkpoint's signature does not verify with the bank key.
    #[error("checkpoint at row {0}: the signature does not verify with the bank key")]
    CheckpointSignature(i64),
    /// A checkpoint names a row that is gone, or whose hash is another.
    #[error("checkpoint at row {0}: the chain no longer holds that row as signed (cut off or rewritten)")]
    CheckpointMismatch(i64),
    /// Rows after the newest checkpoint: nothing vouches for them.
    #[error("rows {from} to {to} come after the newest signed checkpoint")]
    UnsignedTail {
        /// First unsigned row.
        from: i64,
        /// Last row.
        to: i64,
    },
}

/// Checks rows given in `seq` order, starting after (`seq`, `hash`) = `start`.
pub fn verify_rows<'a>(
    start: (i64, [u8; 32]),
    rows: impl IntoIterator<Item = &'a AuditRow>,
) -> Result<(i64, [u8; 32]), ChainError> {
    let (mut last_seq, mut last_hash) = start;
    for row in rows {
        if row.seq != last_seq + 1 {
            return Err(ChainError::Gap {
                seq: row.seq,
                expected: last_seq + 1,
            });
        }
        if row.prev_hash.as_slice() != last_hash {
            return Err(ChainError::Link(row.seq));
        }
        let hash = chain_hash(
            &last_hash,
            &entry_bytes(row.seq, row.at, &row.kind, &row.customer, &row.detail),
        );
        if row.hash.as_slice() != hash {
            return Err(ChainError::Hash(row.seq));
        }
        (last_seq, last_hash) = (row.seq, hash);
    }
    Ok((last_seq, last_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let detail = format!("detail {seq}");
                let hash = chain_hash(&prev, &entry_bytes(seq, 1000 + seq, "k", "12345674", &detail));
                let row = AuditRow {
                    seq,
                    at: 1000 + seq,
                    kind: "k".into(),
                    customer: "12345674".into(),
                    detail,
                    prev_hash: prev.to_vec(),
                    hash: hash.to_vec(),
                };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn a_good_chain_verifies_and_any_tamper_is_found() {
        let rows = chain(5);
        assert_eq!(verify_rows((0, GENESIS), &rows).unwrap().0, 5);
        let mut edited = rows.clone();
        edited[2].detail = "changed".into();
        assert_eq!(verify_rows((0, GENESIS), &edited), Err(ChainError::Hash(3)));
        let mut removed = rows.clone();
        removed.remove(1);
        assert_eq!(
            verify_rows((0, GENESIS), &removed),
            Err(ChainError::Gap { seq: 3, expected: 2 })
        );
        let mut relinked = rows;
        relinked[3].prev_hash = vec![1; 32];
        assert_eq!(verify_rows((0, GENESIS), &relinked), Err(ChainError::Link(4)));
    }

    #[test]
    fn entry_is_length_prefixed() {
        let e = entry_bytes(1, 2, "k", "", "d");
        assert!(e.starts_with(b"SCA1-AUDIT\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01"));
        assert!(e.ends_with(b"\x00\x01k\x00\x00\x00\x01d"));
        assert_eq!(clip_detail(&"é".repeat(3000)).len(), 4096);
    }
}
