//! Rights in one click (D7–D9): deleting everything the platform holds while keeping the account,
//! the deletion ledger, rights requests and complaints, and account cancellation.
//!
//! Cancellation, step by step:
//! 1. the account name typed must be the signed-in account's, and the developer must confirm
//!    that it is irreversible: otherwise nothing happens;
//! 2. the profile is **locked at once**: a record of the pending cancellation (with a fresh
//!    idempotency key) and the re-entered password (a profile secret: the OS keyring, or sealed
//!    in a passphrase profile) are written; from then on every command but a few (status, the
//!    cancellation itself, export) answers `account_locked`;
//! 3. the platform is asked to cancel the account (`POST /v1/account/cancel` with the key). It
//!    answers with a signed deletion receipt, verified against the platform's published key;
//! 4. the profile is crypto-shredded ([`awf_core::Profile::shred`]: key first, then every keyring
//!    entry, then every file); nothing is opened in its place until `profile_retry`;
//! 5. the receipt (and what the shred did) stays available through `account_cancellation` for
//!    the rest of the run, for the UI to show and offer for saving.
//!
//! When the platform cannot be reached at step 3, the profile stays locked and the request is
//! retried — by [`Api::resume_cancellation`], which the connectivity check and the background
//! worker ([`spawn_background`]) call — until the platform confirms; the idempotency key makes a
//! retry of a cancellation whose answer was lost return the first receipt. A refusal (wrong
//! password, wrong name) unlocks the profile again and says why.

use std::collections::BTreeMap;
use std::sync::Arc;

use awf_core::shred::ShredReport;
use awf_core::SecretString;
use awf_egress::EgressError;
use awf_platform_api::DeletionReceipt;
pub use awf_platform_api::{NewRightsRequest, RightsRequest};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, ErrorCode};
use crate::session::Api;

/// The record of a pending cancellation (meta tree).
const PENDING_RECORD: &str = "account-cancellation";
/// The re-entered password, kept only while the cancellation is pending.
const PASSWORD_SECRET: &str = "cancel-password";
/// Secrets the layers above store (registered since they are stored; named here too for
/// profiles that stored them before names were registered).
const KNOWN_SECRETS: &[&str] = &["platform-tokens", "platform-cookies", PASSWORD_SECRET];

/// Commands that still answer while a cancellation is pending: the status, the cancellation,
/// connectivity, and export (the developer's last copy of the data).
pub(crate) const ALLOWED_WHILE_LOCKED: &[&str] = &[
    "app_status",
    "profile_retry",
    "profile_unlock",
    "account_cancellation",
    "account_cancel",
    "platform_status",
    "platform_check",
    "policy_current",
    "export_start",
    "export_status",
    "export_cancel",
    "export_verify",
    "export_categories",
    "job_progress",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    requested_at: String,
    idempotency_key: String,
    account_id: String,
    account_name: String,
    attempts: u32,
    last_attempt_at: Option<String>,
    last_error: Option<String>,
}

/// `account_cancel`.
#[derive(Clone, Deserialize, TS)]
pub struct CancelAccountForm {
    /// The account password, re-entered.
    pub password: String,
    /// The account name, typed exactly.
    pub account_name: String,
    /// The developer confirmed that cancellation is irreversible.
    pub confirm_irreversible: bool,
}

impl std::fmt::Debug for CancelAccountForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelAccountForm").field("account_name", &self.account_name).finish_non_exhaustive()
    }
}

/// Where an account cancellation stands.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CancellationStatus {
    /// None asked.
    None,
    /// Asked; the profile is locked until the platform confirms.
    Pending {
        account_name: String,
        requested_at: String,
        attempts: u32,
        last_attempt_at: Option<String>,
        last_error: Option<String>,
    },
    /// Done: the platform's receipt and what was destroyed here.
    Completed {
        receipt: DeletionReceipt,
        /// The receipt's signature checked against the key the platform publishes.
        receipt_verified: bool,
        /// Why it did not verify, if it did not.
        verify_error: Option<String>,
        shred: ShredReport,
    },
}

/// A deletion recorded in the ledger, as the UI shows it.
pub type DeletionEntry = awf_core::receipts::DeletionEntry;

/// `deletions`: the ledger and whether its chain holds.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeletionLedgerView {
    pub entries: Vec<DeletionEntry>,
    /// A sentence naming the first entry that does not hold, if any.
    pub problem: Option<String>,
}

impl Api {
    fn pending(&self) -> Result<Option<Pending>, ApiError> {
        Ok(self.profile()?.record(PENDING_RECORD)?)
    }

    /// Whether a cancellation is pending (the profile is then locked).
    pub fn is_locked(&self) -> bool {
        self.profile().ok().and_then(|p| p.record::<Pending>(PENDING_RECORD).ok().flatten()).is_some()
    }

    /// `account_cancellation`: where a cancellation stands (a pending one is retried first when
    /// the platform can be reached).
    pub fn cancellation_status(&self) -> Result<CancellationStatus, ApiError> {
        if let Some(done) = self.cancelled_slot().lock().expect("cancel lock").clone() {
            return Ok(done);
        }
        match self.resume_cancellation() {
            Some(r) => r,
            None => Ok(CancellationStatus::None),
        }
    }

    /// `account_cancel`: locks the profile and asks the platform to cancel the account.
    pub fn cancel_account(&self, f: CancelAccountForm) -> Result<CancellationStatus, ApiError> {
        if let Some(p) = self.pending()? {
            // Asked already: the lock stands; try again now.
            return self.attempt(p);
        }
        if !f.confirm_irreversible {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                "Cancelling the account is irreversible: confirm that you understand before going on.",
            )
            .field("confirm_irreversible"));
        }
        if f.password.is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidInput, "Enter your password again.").field("password"));
        }
        let client = self.platform()?;
        let session = client.session()?;
        let account = match (session.signed_in, session.account) {
            (true, Some(a)) => a,
            _ => return Err(EgressError::NotSignedIn.into()),
        };
        if f.account_name != account.account_name {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("Type the account name exactly as it is: {}.", account.account_name),
            )
            .field("account_name"));
        }
        let profile = self.profile()?;
        let pending = Pending {
            requested_at: awf_core::clock::now(),
            idempotency_key: format!("cancel-{}", ulid::Ulid::new()),
            account_id: account.account_id.clone(),
            account_name: account.account_name.clone(),
            attempts: 0,
            last_attempt_at: None,
            last_error: None,
        };
        // The password first: a pending record without it could never be retried.
        profile.put_secret(PASSWORD_SECRET, &SecretString::new(f.password))?;
        profile.save_record(PENDING_RECORD, Some(&pending))?;
        // The shred needs the only reference to the profile.
        drop((profile, client));
        self.attempt(pending)
    }

    /// Retries a pending cancellation; `None` when there is none.
    pub fn resume_cancellation(&self) -> Option<Result<CancellationStatus, ApiError>> {
        if let Some(done) = self.cancelled_slot().lock().expect("cancel lock").clone() {
            return Some(Ok(done));
        }
        let pending = match self.pending() {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        Some(self.attempt(pending))
    }

    fn attempt(&self, mut pending: Pending) -> Result<CancellationStatus, ApiError> {
        // One attempt at a time (the worker and a command may race).
        let _turn = self.cancel_turn().lock().expect("cancel turn");
        if let Some(done) = self.cancelled_slot().lock().expect("cancel lock").clone() {
            return Ok(done);
        }
        let profile = self.profile()?;
        let client = self.platform()?;
        let password = profile.secret(PASSWORD_SECRET)?.ok_or_else(|| {
            ApiError::new(ErrorCode::Internal, "The pending cancellation lost its password: enter it again.")
        })?;
        pending.attempts += 1;
        pending.last_attempt_at = Some(awf_core::clock::now());
        match client.cancel_account(&password, &pending.account_name, &pending.idempotency_key) {
            Ok(receipt) => {
                let verified = client.receipt_keys().map_err(ApiError::from).and_then(|keys| {
                    keys.verify(&receipt).map_err(|e| {
                        ApiError::new(ErrorCode::BadResponse, format!("The receipt does not verify: {e:?}"))
                    })
                });
                drop(client);
                drop(profile);
                let shred = self.shred_profile()?;
                let done = CancellationStatus::Completed {
                    receipt_verified: verified.is_ok(),
                    verify_error: verified.err().map(|e| e.message),
                    receipt,
                    shred,
                };
                *self.cancelled_slot().lock().expect("cancel lock") = Some(done.clone());
                Ok(done)
            }
            Err(e @ (EgressError::Unreachable { .. } | EgressError::BadResponse { .. })) => {
                pending.last_error = Some(e.to_string());
                profile.save_record(PENDING_RECORD, Some(&pending))?;
                Ok(status_of(&pending))
            }
            Err(EgressError::Platform { status, body }) if status >= 500 || status == 429 => {
                pending.last_error = Some(format!("the platform answered {status}: {}", body.message));
                profile.save_record(PENDING_RECORD, Some(&pending))?;
                Ok(status_of(&pending))
            }
            Err(e) => {
                // Refused (wrong password or name, no session): nothing was cancelled; unlock.
                profile.save_record::<Pending>(PENDING_RECORD, None)?;
                profile.delete_secret(PASSWORD_SECRET)?;
                Err(e.into())
            }
        }
    }

    /// Destroys the open profile. Nothing is opened in its place: the API answers
    /// `profile_not_open` until `profile_retry` starts a new, empty profile, so that the developer
    /// sees the receipt first and no file is in the data directory until then.
    fn shred_profile(&self) -> Result<ShredReport, ApiError> {
        *self.platform_slot().lock().expect("platform lock") = None;
        let gone =
            ApiError::new(ErrorCode::ProfileNotOpen, "This profile was destroyed when the account was cancelled.")
                .hint("Start over to create a new, empty profile.");
        let profile = self.take_profile(gone)?;
        Ok(profile.shred(KNOWN_SECRETS)?)
    }

    /// `platform_data_erase`: deletes everything the platform holds for the account but keeps
    /// the account; the platform's signed receipt goes into the deletion ledger.
    pub fn erase_platform_data(&self) -> Result<DeletionEntry, ApiError> {
        let client = self.platform()?;
        let receipt = client.erase_all_data()?;
        if let Err(e) = client
            .receipt_keys()
            .map_err(ApiError::from)
            .and_then(|k| k.verify(&receipt).map_err(|e| ApiError::new(ErrorCode::BadResponse, format!("{e:?}"))))
        {
            return Err(ApiError::new(
                ErrorCode::BadResponse,
                format!("The platform deleted the data but its receipt does not verify: {}", e.message),
            ));
        }
        Ok(self.profile()?.deletions().append(
            "everything the platform holds (the account kept)",
            BTreeMap::new(),
            Some(receipt),
        )?)
    }

    /// `deletions`: the deletion ledger.
    pub fn deletions(&self) -> Result<DeletionLedgerView, ApiError> {
        let profile = self.profile()?;
        let d = profile.deletions();
        Ok(DeletionLedgerView { entries: d.list()?, problem: d.verify()?.err().map(|p| p.describe()) })
    }

    /// `rights_request_new`: a rights request or complaint, sent to the platform.
    pub fn new_rights_request(&self, r: NewRightsRequest) -> Result<RightsRequest, ApiError> {
        Ok(self.platform()?.submit_request(&r)?)
    }

    /// `rights_requests`: the account's requests and their status.
    pub fn rights_requests(&self) -> Result<Vec<RightsRequest>, ApiError> {
        Ok(self.platform()?.requests()?)
    }
}

fn status_of(p: &Pending) -> CancellationStatus {
    CancellationStatus::Pending {
        account_name: p.account_name.clone(),
        requested_at: p.requested_at.clone(),
        attempts: p.attempts,
        last_attempt_at: p.last_attempt_at.clone(),
        last_error: p.last_error.clone(),
    }
}

/// The error every other command answers while a cancellation is pending.
pub fn locked() -> ApiError {
    ApiError::new(ErrorCode::AccountLocked, "This account is being cancelled: the profile is locked.")
        .hint("The cancellation completes as soon as the platform can be reached; you can still export your data.")
}

/// The background worker: retries a pending cancellation, and syncs (see [`crate::sync`]), every
/// `every` while the process runs (the desktop shell and
/// the bridge start it): a cancellation asked offline completes without the developer doing
/// anything once the platform is back.
pub fn spawn_background(api: &Arc<Api>, every: std::time::Duration) {
    let weak = Arc::downgrade(api);
    let _ = std::thread::Builder::new().name("awf-background".into()).spawn(move || {
        for tick in 1u64.. {
            std::thread::sleep(every);
            let Some(api) = weak.upgrade() else { return };
            if api.is_locked() {
                let _ = api.resume_cancellation();
            } else {
                // Sync (nothing is sent without the hosting consent): due changes every tick,
                // a pull every sixth.
                api.sync_tick(tick, 6);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    /// Every command that answers while the profile is locked is a real command.
    #[test]
    fn the_locked_allow_list_names_real_commands() {
        let names: Vec<&str> = crate::commands::table().iter().map(|c| c.name).collect();
        for allowed in super::ALLOWED_WHILE_LOCKED {
            assert!(names.contains(allowed), "`{allowed}` is not a command");
        }
    }
}
