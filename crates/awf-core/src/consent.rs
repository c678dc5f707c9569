//! Consent state per [`Purpose`]: what the developer has granted or withdrawn, when, under which
//! policy version and how. The egress gate asks [`Consents::allows`] before every request.
//!
//! Invariant: a purpose never recorded is withdrawn (off). Only
//! [`Purpose::ServiceInformation`] is allowed without consent: it sends no personal data and
//! must work before the policy can be read and accepted.

use serde::{Deserialize, Serialize};

pub use awf_platform_api::Purpose;

use crate::clock;
use crate::error::{CoreError, Result};
use crate::ledger::{self, LedgerEntry, LedgerHead, LedgerProblem};
use crate::storage::{Batch, Storage, Tree};

/// Meta key of the ledger head (last sequence number and hash).
pub(crate) const LEDGER_HEAD_KEY: &[u8] = b"ledger/head";
/// Meta key of the highest ledger entry whose receipt the platform acknowledged.
const RECEIPTS_ACKED_KEY: &[u8] = b"ledger/receipts_acked";

/// The result of [`Consents::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerReport {
    /// The chain is intact and ends at the recorded head.
    pub intact: bool,
    /// Entries read.
    pub entries: u64,
    /// What is wrong, naming the entry.
    pub problem: Option<LedgerProblem>,
    /// `problem` in a sentence.
    pub message: Option<String>,
}

/// How a consent was given or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    /// Ticked "I accept the privacy policy" on the sign-up form.
    SignUpForm,
    /// Ticked "I accept the privacy policy" on the log-in form.
    LogInForm,
    /// Switched in the consent centre.
    ConsentCentre,
    /// `awf consent grant|withdraw` or `awf login --accept-policy`.
    Cli,
}

/// The current state of one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentRecord {
    pub purpose: Purpose,
    pub granted: bool,
    /// When it was last changed.
    pub at: String,
    /// The policy version in force when it was given or withdrawn.
    pub policy_version: u32,
    pub method: ConsentMethod,
}

/// Consent operations on an open profile.
pub struct Consents<'a> {
    pub(crate) storage: &'a Storage,
}

impl Consents<'_> {
    /// The recorded state of `purpose`, if any.
    pub fn get(&self, purpose: Purpose) -> Result<Option<ConsentRecord>> {
        match self.storage.get(Tree::Consents, purpose.as_str().as_bytes())? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| CoreError::Corrupt { detail: format!("consent record `{}`: {e}", purpose.as_str()) }),
        }
    }

    /// Whether a request of `purpose` may leave the machine now.
    pub fn allows(&self, purpose: Purpose) -> Result<bool> {
        if purpose == Purpose::ServiceInformation {
            return Ok(true);
        }
        Ok(self.get(purpose)?.is_some_and(|r| r.granted))
    }

    /// Grants or withdraws `purpose`; durable when it returns.
    pub fn set(
        &self,
        purpose: Purpose,
        granted: bool,
        policy_version: u32,
        method: ConsentMethod,
    ) -> Result<ConsentRecord> {
        if purpose == Purpose::ServiceInformation {
            return Err(CoreError::invalid("purpose", "service_information needs no consent and cannot be withdrawn"));
        }
        let record = ConsentRecord { purpose, granted, at: clock::now(), policy_version, method };
        let head = self.head()?;
        let entry = ledger::next_entry(head.as_ref(), purpose, granted, record.at.clone(), policy_version, method);
        let new_head = LedgerHead { seq: entry.seq, hash: entry.hash.clone() };
        // State, ledger entry and head change together or not at all.
        let mut b = Batch::default();
        b.put(Tree::Consents, purpose.as_str(), serde_json::to_vec(&record).expect("consent serialises"));
        b.put(Tree::ConsentLedger, entry.seq.to_be_bytes().to_vec(), serde_json::to_vec(&entry).expect("serialises"));
        b.put(Tree::Meta, LEDGER_HEAD_KEY, serde_json::to_vec(&new_head).expect("serialises"));
        self.storage.commit(b)?;
        Ok(record)
    }

    fn head(&self) -> Result<Option<LedgerHead>> {
        match self.storage.get(Tree::Meta, LEDGER_HEAD_KEY)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| CoreError::Corrupt { detail: format!("ledger head: {e}") }),
        }
    }

    fn stored_entries(&self) -> Result<Vec<(u64, LedgerEntry)>> {
        self.storage
            .scan_prefix(Tree::ConsentLedger, b"")?
            .into_iter()
            .map(|(k, v)| {
                let pos = <[u8; 8]>::try_from(k.as_slice())
                    .map(u64::from_be_bytes)
                    .map_err(|_| CoreError::Corrupt { detail: "a ledger key has the wrong size".into() })?;
                let e: LedgerEntry = serde_json::from_slice(&v)
                    .map_err(|e| CoreError::Corrupt { detail: format!("ledger entry at {pos}: {e}") })?;
                Ok((pos, e))
            })
            .collect()
    }

    /// The whole ledger, oldest first.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        Ok(self.stored_entries()?.into_iter().map(|(_, e)| e).collect())
    }

    /// Walks the hash chain: any edited, removed or reordered entry is named.
    pub fn verify(&self) -> Result<LedgerReport> {
        let entries = self.stored_entries()?;
        let head = self.head()?;
        let result = ledger::verify(&entries, head.as_ref());
        Ok(LedgerReport {
            intact: result.is_ok(),
            entries: entries.len() as u64,
            message: result.as_ref().err().map(LedgerProblem::describe),
            problem: result.err(),
        })
    }

    /// Ledger entries whose receipt the platform has not acknowledged yet, oldest first.
    pub fn unacknowledged(&self) -> Result<Vec<LedgerEntry>> {
        let acked = self.acknowledged_upto()?;
        Ok(self.ledger()?.into_iter().filter(|e| e.seq > acked).collect())
    }

    /// The highest entry the platform acknowledged (0: none).
    pub fn acknowledged_upto(&self) -> Result<u64> {
        Ok(self
            .storage
            .get(Tree::Meta, RECEIPTS_ACKED_KEY)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Records that the platform acknowledged receipts up to entry `seq`.
    pub fn set_acknowledged(&self, seq: u64) -> Result<()> {
        let mut b = Batch::default();
        b.put(Tree::Meta, RECEIPTS_ACKED_KEY, seq.to_be_bytes().to_vec());
        self.storage.commit(b)
    }

    /// Forgets acknowledgements (signing in to another account or platform: its receipts must
    /// be sent again).
    pub fn reset_acknowledged(&self) -> Result<()> {
        self.set_acknowledged(0)
    }

    #[cfg(test)]
    pub(crate) fn tamper_for_test(&self, pos: u64, entry: Option<&LedgerEntry>) -> Result<()> {
        let mut b = Batch::default();
        match entry {
            Some(e) => b.put(Tree::ConsentLedger, pos.to_be_bytes().to_vec(), serde_json::to_vec(e).unwrap()),
            None => b.delete(Tree::ConsentLedger, pos.to_be_bytes().to_vec()),
        };
        self.storage.commit(b)
    }

    /// Every recorded purpose, in the order of [`Purpose::ALL`].
    pub fn list(&self) -> Result<Vec<ConsentRecord>> {
        let mut out = Vec::new();
        for p in Purpose::ALL {
            if let Some(r) = self.get(p)? {
                out.push(r);
            }
        }
        Ok(out)
    }
}
