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

/// Meta key of the terms of the newest policy version known (see [`PolicyTerms`]).
pub(crate) const POLICY_TERMS_KEY: &[u8] = b"record/policy-terms";

/// Which policy version is the newest known, and from which version each purpose's current
/// wording dates. A consent given under an older version than a purpose's `since_version` no
/// longer covers it: [`Consents::allows`] says no until the user consents again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PolicyTerms {
    pub version: u32,
    pub purposes: Vec<(Purpose, u32)>,
}

impl PolicyTerms {
    /// The version in which `purpose`'s current wording took effect (0 when the terms do not
    /// name it: nothing is asked again).
    pub fn since(&self, purpose: Purpose) -> u32 {
        self.purposes.iter().find(|(p, _)| *p == purpose).map_or(0, |(_, v)| *v)
    }
}

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
    /// The developer attested that the people whose personal information a dataset or table
    /// holds consented to its hosting (policy §1.5 4.4); the entry's `subject` names it.
    PiiAttestation,
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

    /// Whether a request of `purpose` may leave the machine now: it was granted, under a policy
    /// version no older than the one that last changed the purpose's wording.
    pub fn allows(&self, purpose: Purpose) -> Result<bool> {
        if purpose == Purpose::ServiceInformation {
            return Ok(true);
        }
        let Some(record) = self.get(purpose)?.filter(|r| r.granted) else { return Ok(false) };
        Ok(record.policy_version >= self.terms()?.since(purpose))
    }

    /// Granted purposes whose consent predates their current wording: asked again, blocked until then.
    pub fn needing_reconsent(&self) -> Result<Vec<Purpose>> {
        let terms = self.terms()?;
        Ok(self
            .list()?
            .into_iter()
            .filter(|r| r.granted && r.policy_version < terms.since(r.purpose))
            .map(|r| r.purpose)
            .collect())
    }

    /// The terms of the newest policy version known (default: none recorded).
    pub fn terms(&self) -> Result<PolicyTerms> {
        match self.storage.get(Tree::Meta, POLICY_TERMS_KEY)? {
            None => Ok(PolicyTerms::default()),
            Some(v) => {
                serde_json::from_slice(&v).map_err(|e| CoreError::Corrupt { detail: format!("policy terms: {e}") })
            }
        }
    }

    /// Records the terms of a newer policy version (an older one is ignored).
    pub fn set_terms(&self, terms: &PolicyTerms) -> Result<()> {
        if terms.version < self.terms()?.version {
            return Ok(());
        }
        let mut b = Batch::default();
        b.put(Tree::Meta, POLICY_TERMS_KEY, serde_json::to_vec(terms).expect("terms serialise"));
        self.storage.commit(b)
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

    /// Records a PII attestation in the ledger (not a change of any purpose's state); durable
    /// when it returns. `subject` is `<kind>/<id>@<sha256>#<findings>`.
    pub fn attest(&self, subject: String) -> Result<LedgerEntry> {
        let policy_version = self.get(Purpose::DeveloperDataHosting)?.map_or(0, |r| r.policy_version);
        let head = self.head()?;
        let entry = ledger::next_attestation(head.as_ref(), subject, clock::now(), policy_version);
        let new_head = LedgerHead { seq: entry.seq, hash: entry.hash.clone() };
        let mut b = Batch::default();
        b.put(Tree::ConsentLedger, entry.seq.to_be_bytes().to_vec(), serde_json::to_vec(&entry).expect("serialises"));
        b.put(Tree::Meta, LEDGER_HEAD_KEY, serde_json::to_vec(&new_head).expect("serialises"));
        self.storage.commit(b)?;
        Ok(entry)
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
