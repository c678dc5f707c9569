//! The consent ledger: an append-only, hash-chained record of every consent given or withdrawn.
//!
//! Each entry's hash covers its content and the previous entry's hash, and the ledger head
//! (last sequence number and hash) is written in the same transaction as the entry. [`verify`]
//! walks the chain and names the first entry that was edited, removed or moved. Values are also
//! sealed like every record of the store, so bytes changed on disk fail authentication before
//! the chain is even read; the chain guards the ledger's meaning against anyone (or any bug)
//! holding the key, and the platform keeps a receipt of every entry as an outside anchor.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::consent::{ConsentMethod, Purpose};

/// Hash of the (empty) chain before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerEntry {
    /// 1-based position in the ledger.
    pub seq: u64,
    pub purpose: Purpose,
    pub granted: bool,
    /// RFC 3339.
    pub at: String,
    pub policy_version: u32,
    pub method: ConsentMethod,
    /// The id of the receipt sent to the platform for this entry.
    pub receipt_id: String,
    /// What a [`ConsentMethod::PiiAttestation`] entry attests to: `<kind>/<id>@<sha256>#<findings>`
    /// (absent on consent entries; hashed only when present, so older ledgers verify unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over this entry's fields and `prev_hash`.
    pub hash: String,
}

/// The last entry's position and hash, stored beside the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHead {
    pub seq: u64,
    pub hash: String,
}

/// What [`verify`] found wrong, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LedgerProblem {
    /// The entry's content no longer matches its hash.
    Edited { seq: u64 },
    /// An entry is missing before this position (a gap, or the chain does not link).
    Removed { seq: u64 },
    /// The entry is not where it was written.
    Reordered { seq: u64 },
    /// The ledger ends before (or after) the recorded head.
    Truncated { expected_last: u64, found_last: u64 },
}

impl LedgerProblem {
    /// A sentence naming the entry.
    pub fn describe(&self) -> String {
        match self {
            LedgerProblem::Edited { seq } => format!("entry {seq} was edited after it was written"),
            LedgerProblem::Removed { seq } => format!("an entry before entry {seq} was removed"),
            LedgerProblem::Reordered { seq } => format!("entry {seq} is out of order"),
            LedgerProblem::Truncated { expected_last, found_last } => {
                format!("the ledger should end at entry {expected_last} but ends at entry {found_last}")
            }
        }
    }
}

/// The hash of an entry's content chained to `prev_hash`.
pub fn entry_hash(e: &LedgerEntry) -> String {
    let mut h = Sha256::new();
    h.update(b"awf-consent-ledger/v1\n");
    let method = serde_json::to_value(e.method).expect("methods serialise");
    for field in [
        e.seq.to_string(),
        e.purpose.as_str().to_string(),
        e.granted.to_string(),
        e.at.clone(),
        e.policy_version.to_string(),
        method.as_str().unwrap_or_default().to_string(),
        e.receipt_id.clone(),
        e.prev_hash.clone(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    if let Some(subject) = &e.subject {
        h.update(b"subject");
        h.update((subject.len() as u64).to_be_bytes());
        h.update(subject.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the next entry after `prev` (the chain's head, if any).
pub fn next_entry(
    prev: Option<&LedgerHead>,
    purpose: Purpose,
    granted: bool,
    at: String,
    policy_version: u32,
    method: ConsentMethod,
) -> LedgerEntry {
    let (seq, prev_hash) = match prev {
        Some(h) => (h.seq + 1, h.hash.clone()),
        None => (1, GENESIS.to_string()),
    };
    let mut e = LedgerEntry {
        seq,
        purpose,
        granted,
        at,
        policy_version,
        method,
        receipt_id: ulid::Ulid::new().to_string(),
        subject: None,
        prev_hash,
        hash: String::new(),
    };
    e.hash = entry_hash(&e);
    e
}

/// Builds the next entry after `prev` recording the developer's attestation (policy §1.5 4.4)
/// that the people whose personal information `subject` holds consented to its hosting.
pub fn next_attestation(prev: Option<&LedgerHead>, subject: String, at: String, policy_version: u32) -> LedgerEntry {
    let mut e =
        next_entry(prev, Purpose::DeveloperDataHosting, true, at, policy_version, ConsentMethod::PiiAttestation);
    e.subject = Some(subject);
    e.hash = entry_hash(&e);
    e
}

/// Checks a ledger read in storage order (`(stored position, entry)`), against its head.
pub fn verify(entries: &[(u64, LedgerEntry)], head: Option<&LedgerHead>) -> Result<(), LedgerProblem> {
    let mut prev_hash = GENESIS.to_string();
    for (i, (position, e)) in entries.iter().enumerate() {
        let expected = i as u64 + 1;
        if e.hash != entry_hash(e) {
            return Err(LedgerProblem::Edited { seq: *position });
        }
        if e.seq != *position {
            return Err(LedgerProblem::Reordered { seq: e.seq });
        }
        if e.seq != expected || e.prev_hash != prev_hash {
            return Err(if e.seq > expected || entries.iter().all(|(_, x)| x.hash != e.prev_hash) {
                LedgerProblem::Removed { seq: e.seq }
            } else {
                LedgerProblem::Reordered { seq: e.seq }
            });
        }
        prev_hash = e.hash.clone();
    }
    let found_last = entries.last().map_or(0, |(_, e)| e.seq);
    let expected_last = head.map_or(0, |h| h.seq);
    if found_last != expected_last || head.is_some_and(|h| h.hash != prev_hash) {
        return Err(LedgerProblem::Truncated { expected_last, found_last });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ledger(n: usize) -> (Vec<(u64, LedgerEntry)>, Option<LedgerHead>) {
        let mut out: Vec<(u64, LedgerEntry)> = Vec::new();
        let mut head = None;
        for i in 0..n {
            let purpose = Purpose::ALL[1 + i % (Purpose::ALL.len() - 1)];
            let e = next_entry(
                head.as_ref(),
                purpose,
                i % 2 == 0,
                format!("2026-01-01T00:00:{:02}.000Z", i % 60),
                1,
                ConsentMethod::ConsentCentre,
            );
            head = Some(LedgerHead { seq: e.seq, hash: e.hash.clone() });
            out.push((e.seq, e));
        }
        (out, head)
    }

    #[test]
    fn an_untouched_ledger_verifies() {
        let (entries, head) = ledger(20);
        assert_eq!(verify(&entries, head.as_ref()), Ok(()));
        assert_eq!(verify(&[], None), Ok(()));
    }

    #[derive(Debug, Clone)]
    enum Tamper {
        EditGranted(usize),
        EditTime(usize),
        EditPurpose(usize),
        Remove(usize),
        Swap(usize, usize),
        DropLast,
    }

    fn tamper() -> impl Strategy<Value = (usize, Tamper)> {
        (2usize..40).prop_flat_map(|n| {
            let t = prop_oneof![
                (0..n).prop_map(Tamper::EditGranted),
                (0..n).prop_map(Tamper::EditTime),
                (0..n).prop_map(Tamper::EditPurpose),
                (0..n).prop_map(Tamper::Remove),
                (0..n, 0..n)
                    .prop_filter("two different entries", |(a, b)| a != b)
                    .prop_map(|(a, b)| Tamper::Swap(a, b)),
                Just(Tamper::DropLast),
            ];
            (Just(n), t)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Any single edit, removal or reordering of stored entries fails verification, and the
        /// problem names an entry at or next to the one tampered with.
        #[test]
        fn any_tampering_is_detected_and_located((n, t) in tamper()) {
            let (mut entries, head) = ledger(n);
            let named = match t {
                Tamper::EditGranted(i) => { entries[i].1.granted = !entries[i].1.granted; Some(i as u64 + 1) }
                Tamper::EditTime(i) => { entries[i].1.at.push('9'); Some(i as u64 + 1) }
                Tamper::EditPurpose(i) => {
                    let p = entries[i].1.purpose;
                    entries[i].1.purpose = if p == Purpose::Marketing { Purpose::Research } else { Purpose::Marketing };
                    Some(i as u64 + 1)
                }
                Tamper::Remove(i) => { entries.remove(i); None }
                Tamper::Swap(a, b) => {
                    // Swap contents but keep storage positions, as an attacker editing keys would.
                    let (ea, eb) = (entries[a].1.clone(), entries[b].1.clone());
                    entries[a].1 = eb;
                    entries[b].1 = ea;
                    None
                }
                Tamper::DropLast => { entries.pop(); None }
            };
            let problem = verify(&entries, head.as_ref()).expect_err("tampering must be detected");
            if let Some(seq) = named {
                prop_assert_eq!(problem, LedgerProblem::Edited { seq });
            }
        }
    }
}
