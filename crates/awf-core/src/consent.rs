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
use crate::storage::{Batch, Storage, Tree};

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
        let mut b = Batch::default();
        b.put(Tree::Consents, purpose.as_str(), serde_json::to_vec(&record).expect("consent serialises"));
        self.storage.commit(b)?;
        Ok(record)
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
