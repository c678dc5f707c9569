//! [`PlatformClient`]: the typed calls of the platform contract, and the signed-in session.
//!
//! Tokens are kept as one secret of the profile (the OS keyring; sealed under the passphrase key
//! on machines without a keyring service), read only when a call needs them, refreshed before
//! they expire or when the platform says they have, and deleted at log-out.

use std::sync::Mutex;

use awf_core::telemetry::TELEMETRY_PURPOSES;
use awf_core::SecretString;
use awf_platform_api::{
    AccountProfile, Capabilities, ErrorBody, LoginRequest, PlatformErrorCode, PolicyDocument, ProfilePatch, Purpose,
    RefreshRequest, RegisterRequest, SessionGrant, SmsCodeRequest, SmsCodeSent,
};
use awf_platform_api::{
    CancelAccount, DeletionReceipt, NewRightsRequest, ReceiptKeys, RightsRequest, RightsRequests, IDEMPOTENCY_HEADER,
};
use awf_platform_api::{
    ConsentReceipt, ConsentReceipts, HeldData, IngestAck, PurposeDataDeleted, ReceiptAck, TelemetryBatch,
    TelemetryEvent,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EgressError;
use crate::gate::{Auth, Gate};

/// The profile secret holding the platform tokens.
const TOKENS_SECRET: &str = "platform-tokens";
/// The cached copy of the account profile, for showing offline.
const ACCOUNT_RECORD: &str = "platform-account";
/// Refresh this many seconds before the access token expires.
const REFRESH_MARGIN_SECS: i64 = 30;

/// The stored form of the tokens (serialised only into a [`SecretString`]).
#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    refresh_token: String,
    /// Unix seconds.
    access_expires_at: i64,
}

impl Drop for StoredTokens {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access_token.zeroize();
        self.refresh_token.zeroize();
    }
}

/// The signed-in state as far as this machine knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Tokens are held for this profile.
    pub signed_in: bool,
    /// The account as last fetched from the platform.
    pub account: Option<AccountProfile>,
}

/// Typed platform calls over the [`Gate`].
pub struct PlatformClient {
    gate: Gate,
    /// Serialises token refreshes so two calls never spend one refresh token twice.
    refresh_lock: Mutex<()>,
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl PlatformClient {
    pub fn new(gate: Gate) -> PlatformClient {
        PlatformClient { gate, refresh_lock: Mutex::new(()) }
    }

    /// The gate every call goes through.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    fn interpret<T: DeserializeOwned>(path: &str, status: u16, body: &[u8]) -> Result<T, EgressError> {
        if status >= 400 {
            return Err(match serde_json::from_slice::<ErrorBody>(body) {
                Ok(body) => EgressError::Platform { status, body },
                Err(e) => EgressError::BadResponse {
                    path: path.to_string(),
                    detail: format!("HTTP {status} without a valid error body: {e}"),
                },
            });
        }
        // A 204 has no body; callers expecting `()` accept `null`.
        let body = if body.is_empty() { b"null".as_slice() } else { body };
        serde_json::from_slice(body)
            .map_err(|e| EgressError::BadResponse { path: path.to_string(), detail: e.to_string() })
    }

    fn call<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
    ) -> Result<T, EgressError> {
        let answer = self.gate.send(purpose, method, path, body, auth)?;
        Self::interpret(path, answer.status, &answer.body)
    }

    // --- service information (no consent needed, nothing personal sent) ---

    /// `GET /v1/capabilities`; also serves as the connectivity probe.
    pub fn capabilities(&self) -> Result<Capabilities, EgressError> {
        self.call(Purpose::ServiceInformation, Method::GET, "/v1/capabilities", None, Auth::None)
    }

    /// `GET /v1/policy`: the policy in force at the platform.
    pub fn policy(&self) -> Result<PolicyDocument, EgressError> {
        self.call(Purpose::ServiceInformation, Method::GET, "/v1/policy", None, Auth::None)
    }

    // --- account operation ---

    /// Asks the platform to send a sign-up code to `phone`.
    pub fn request_sms_code(&self, phone: &str) -> Result<SmsCodeSent, EgressError> {
        let body = serde_json::to_value(SmsCodeRequest { phone: phone.to_string() }).expect("serialises");
        self.call(Purpose::AccountOperation, Method::POST, "/v1/auth/sms-code", Some(&body), Auth::None)
    }

    /// Registers an account and signs in.
    pub fn register(&self, request: RegisterRequest) -> Result<AccountProfile, EgressError> {
        let mut body = serde_json::to_value(request).expect("serialises");
        let grant: Result<SessionGrant, _> =
            self.call(Purpose::AccountOperation, Method::POST, "/v1/auth/register", Some(&body), Auth::None);
        wipe(&mut body);
        self.adopt(grant?)
    }

    /// Signs in with an account name (or phone) and password.
    pub fn login(&self, request: LoginRequest) -> Result<AccountProfile, EgressError> {
        let mut body = serde_json::to_value(request).expect("serialises");
        let grant: Result<SessionGrant, _> =
            self.call(Purpose::AccountOperation, Method::POST, "/v1/auth/login", Some(&body), Auth::None);
        wipe(&mut body);
        self.adopt(grant?)
    }

    /// Signs out: the platform revokes the session, and the tokens, cookies and cached account
    /// are deleted here whatever the platform answered (an unreachable platform must not keep a
    /// user signed in on this machine). Returns the platform's error, if any, after cleaning up.
    pub fn logout(&self) -> Result<(), EgressError> {
        let remote = match self.load_tokens()? {
            Some(t) => {
                let access = SecretString::new(t.access_token.clone());
                self.call::<Value>(
                    Purpose::AccountOperation,
                    Method::POST,
                    "/v1/auth/logout",
                    None,
                    Auth::Bearer(&access),
                )
                .map(|_| ())
            }
            None => Ok(()),
        };
        self.forget()?;
        match remote {
            // Already expired or revoked at the platform: signing out here is all that was left.
            Err(EgressError::Platform { status: 401, .. }) => Ok(()),
            other => other,
        }
    }

    /// The account profile, fetched from the platform (and cached for offline display).
    pub fn profile(&self) -> Result<AccountProfile, EgressError> {
        let account: AccountProfile =
            self.authed(Purpose::AccountOperation, Method::GET, "/v1/account/profile", None)?;
        self.gate.profile().save_record(ACCOUNT_RECORD, Some(&account))?;
        Ok(account)
    }

    /// Corrects or supplements the profile (§6).
    pub fn update_profile(&self, patch: &ProfilePatch) -> Result<AccountProfile, EgressError> {
        let body = serde_json::to_value(patch).expect("serialises");
        let account: AccountProfile =
            self.authed(Purpose::AccountOperation, Method::PATCH, "/v1/account/profile", Some(&body))?;
        self.gate.profile().save_record(ACCOUNT_RECORD, Some(&account))?;
        Ok(account)
    }

    /// What this machine knows of the session, without asking the platform.
    pub fn session(&self) -> Result<Session, EgressError> {
        let signed_in = self.gate.profile().secret(TOKENS_SECRET)?.is_some();
        let account = self.gate.profile().record(ACCOUNT_RECORD)?;
        Ok(Session { signed_in, account })
    }

    // --- privacy ---

    /// Sends the receipts of ledger entries the platform has not acknowledged, oldest first.
    /// Returns how many were sent; stops at the first failure (the rest stay pending).
    pub fn send_receipts(&self) -> Result<usize, EgressError> {
        let consents = self.gate.profile().consents();
        let mut sent = 0;
        for e in consents.unacknowledged()? {
            let receipt = ConsentReceipt {
                receipt_id: e.receipt_id.clone(),
                purpose: e.purpose,
                granted: e.granted,
                at: e.at.clone(),
                policy_version: e.policy_version,
                method: serde_json::to_value(e.method)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                ledger_seq: e.seq,
                ledger_hash: e.hash.clone(),
            };
            let body = serde_json::to_value(&receipt).expect("serialises");
            let _: ReceiptAck = self.authed(Purpose::AccountOperation, Method::POST, "/v1/consents", Some(&body))?;
            consents.set_acknowledged(e.seq)?;
            sent += 1;
        }
        Ok(sent)
    }

    /// The receipts the platform holds for the account.
    pub fn platform_receipts(&self) -> Result<ConsentReceipts, EgressError> {
        self.authed(Purpose::AccountOperation, Method::GET, "/v1/consents", None)
    }

    /// Sends queued telemetry of every granted purpose in batches of up to 500; each batch goes
    /// under its own purpose, so the gate checks that purpose's consent. Sent items leave the
    /// queue. Returns the count sent per purpose.
    /// Items queued less than `min_age` ago stay (previewable) for a later batch.
    pub fn flush_telemetry(&self, min_age: Option<time::Duration>) -> Result<Vec<(Purpose, usize)>, EgressError> {
        let cutoff = min_age.map(|a| awf_core::clock::format(time::OffsetDateTime::now_utc() - a));
        let profile = self.gate.profile();
        let mut report = Vec::new();
        for purpose in TELEMETRY_PURPOSES {
            if !profile.consents().allows(purpose)? {
                continue;
            }
            let mut pending = profile.telemetry().pending(Some(purpose))?;
            if let Some(c) = &cutoff {
                pending.retain(|i| i.at.as_str() <= c.as_str());
            }
            let mut sent = 0;
            for chunk in pending.chunks(500) {
                let batch = TelemetryBatch {
                    events: chunk
                        .iter()
                        .map(|i| TelemetryEvent {
                            id: i.id.clone(),
                            kind: i.kind.clone(),
                            at: i.at.clone(),
                            data: i.data.clone(),
                        })
                        .collect(),
                };
                let body = serde_json::to_value(&batch).expect("serialises");
                let path = format!("/v1/telemetry/{}", purpose.as_str());
                let _: IngestAck = self.authed(purpose, Method::POST, &path, Some(&body))?;
                profile.telemetry().remove(chunk)?;
                sent += chunk.len();
            }
            if sent > 0 {
                report.push((purpose, sent));
            }
        }
        Ok(report)
    }

    /// Asks the platform to delete everything it holds for a telemetry purpose (after a
    /// withdrawal). Sent as an account operation: exercising a right needs no other consent.
    pub fn delete_purpose_data(&self, purpose: Purpose) -> Result<PurposeDataDeleted, EgressError> {
        let path = format!("/v1/telemetry/{}", purpose.as_str());
        self.authed(Purpose::AccountOperation, Method::DELETE, &path, None)
    }

    /// What the platform holds for the account, with retention.
    pub fn held_data(&self) -> Result<HeldData, EgressError> {
        self.authed(Purpose::AccountOperation, Method::GET, "/v1/account/data", None)
    }

    // --- rights (§6: deletion, cancellation, requests) ---
    //
    // All are account operations: exercising a right needs no consent beyond the account's.

    /// `GET /v1/receipt-keys`: the keys that verify the platform's deletion receipts. Service
    /// information: no consent, identifier or credentials needed.
    pub fn receipt_keys(&self) -> Result<ReceiptKeys, EgressError> {
        self.call(Purpose::ServiceInformation, Method::GET, "/v1/receipt-keys", None, Auth::None)
    }

    /// Deletes everything the platform holds for the account but the account itself, its
    /// sessions and its consent receipts; returns the platform's signed receipt (verify it with
    /// [`PlatformClient::receipt_keys`]).
    pub fn erase_all_data(&self) -> Result<DeletionReceipt, EgressError> {
        self.authed(Purpose::AccountOperation, Method::POST, "/v1/account/data/erase", None)
    }

    /// Cancels the account at the platform, irreversibly, and on success forgets the session
    /// here (tokens out of the keyring, cookies, cached account). `idempotency_key` (16–128 of
    /// `A–Z a–z 0–9 _ -`, e.g. a ULID kept with the pending cancellation) makes a retry safe: when
    /// a first attempt succeeded but its answer was lost, the retry gets the same receipt although
    /// the account and its tokens are gone. So a retry goes out even without tokens (or when they
    /// can no longer be refreshed), identified by the key alone. The password is redacted from
    /// the transmission log and wiped from the request body after use.
    ///
    /// A wrong password is `Platform { status: 401, code: invalid_credentials }` (the session is
    /// kept); a mistyped account name is `Platform { status: 422, field: account_name }`.
    pub fn cancel_account(
        &self,
        password: &SecretString,
        account_name: &str,
        idempotency_key: &str,
    ) -> Result<DeletionReceipt, EgressError> {
        let path = "/v1/account/cancel";
        let mut body = serde_json::to_value(CancelAccount {
            password: password.expose().to_string(),
            account_name: account_name.to_string(),
        })
        .expect("serialises");
        let headers = [(IDEMPOTENCY_HEADER, idempotency_key)];
        let result = (|| {
            let send = |auth: Auth<'_>| -> Result<DeletionReceipt, EgressError> {
                let answer =
                    self.gate.send_with(Purpose::AccountOperation, Method::POST, path, Some(&body), auth, &headers)?;
                Self::interpret(path, answer.status, &answer.body)
            };
            // No refresh first: an expired token still lets a replay through, and a refresh
            // after a cancellation that succeeded can only fail.
            let Some(tokens) = self.load_tokens()? else { return send(Auth::None) };
            let access = SecretString::new(tokens.access_token.clone());
            match send(Auth::Bearer(&access)) {
                Err(EgressError::Platform { status: 401, body: err })
                    if err.code == PlatformErrorCode::TokenExpired =>
                {
                    match self.refresh(&tokens) {
                        Ok(fresh) => send(Auth::Bearer(&SecretString::new(fresh.access_token.clone()))),
                        Err(EgressError::NotSignedIn) => send(Auth::None),
                        Err(e) => Err(e),
                    }
                }
                other => other,
            }
        })();
        wipe(&mut body);
        match result {
            Ok(receipt) => {
                self.forget()?;
                Ok(receipt)
            }
            Err(e) => self.signed_out_on_401(e),
        }
    }

    /// Files a rights request or complaint (D9) with its attachments.
    pub fn submit_request(&self, request: &NewRightsRequest) -> Result<RightsRequest, EgressError> {
        let body = serde_json::to_value(request).expect("serialises");
        self.authed(Purpose::AccountOperation, Method::POST, "/v1/requests", Some(&body))
    }

    /// The account's rights requests, oldest first, with status and answers.
    pub fn requests(&self) -> Result<Vec<RightsRequest>, EgressError> {
        let list: RightsRequests = self.authed(Purpose::AccountOperation, Method::GET, "/v1/requests", None)?;
        Ok(list.requests)
    }

    /// One of the account's rights requests.
    pub fn request(&self, id: &str) -> Result<RightsRequest, EgressError> {
        check_request_id(id)?;
        self.authed(Purpose::AccountOperation, Method::GET, &format!("/v1/requests/{id}"), None)
    }

    /// Deletes one of the account's rights requests at the platform; returns the signed receipt
    /// (scope `item`, kind `rights_request`).
    pub fn delete_request(&self, id: &str) -> Result<DeletionReceipt, EgressError> {
        check_request_id(id)?;
        self.authed(Purpose::AccountOperation, Method::DELETE, &format!("/v1/requests/{id}"), None)
    }

    // --- session plumbing ---

    fn adopt(&self, grant: SessionGrant) -> Result<AccountProfile, EgressError> {
        let previous: Option<AccountProfile> = self.gate.profile().record(ACCOUNT_RECORD)?;
        if previous.is_none_or(|p| p.account_id != grant.account.account_id) {
            // Another account (or the first): it holds none of this ledger's receipts yet.
            self.gate.profile().consents().reset_acknowledged()?;
        }
        let stored = StoredTokens {
            access_token: grant.tokens.access_token.clone(),
            refresh_token: grant.tokens.refresh_token.clone(),
            access_expires_at: now_unix() + grant.tokens.expires_in_secs as i64,
        };
        self.save_tokens(&stored)?;
        let SessionGrant { account, mut tokens } = grant;
        use zeroize::Zeroize;
        tokens.access_token.zeroize();
        tokens.refresh_token.zeroize();
        self.gate.profile().save_record(ACCOUNT_RECORD, Some(&account))?;
        Ok(account)
    }

    /// Signs out on this machine only (tokens, cookies, cached account), without telling the
    /// platform: used when switching to another platform address.
    pub fn forget_session(&self) -> Result<(), EgressError> {
        self.forget()
    }

    fn forget(&self) -> Result<(), EgressError> {
        self.gate.profile().delete_secret(TOKENS_SECRET)?;
        self.gate.profile().save_record::<AccountProfile>(ACCOUNT_RECORD, None)?;
        self.gate.clear_cookies()?;
        Ok(())
    }

    fn save_tokens(&self, t: &StoredTokens) -> Result<(), EgressError> {
        let json = SecretString::new(serde_json::to_string(t).expect("tokens serialise"));
        self.gate.profile().put_secret(TOKENS_SECRET, &json)?;
        Ok(())
    }

    fn load_tokens(&self) -> Result<Option<StoredTokens>, EgressError> {
        let Some(secret) = self.gate.profile().secret(TOKENS_SECRET)? else { return Ok(None) };
        serde_json::from_str(secret.expose()).map(Some).map_err(|_| {
            EgressError::Core(awf_core::CoreError::Corrupt {
                detail: "the stored platform tokens are malformed".into(),
            })
        })
    }

    fn refresh(&self, stale: &StoredTokens) -> Result<StoredTokens, EgressError> {
        let _guard = self.refresh_lock.lock().expect("refresh lock");
        // Another call may have refreshed while this one waited.
        if let Some(current) = self.load_tokens()? {
            if current.refresh_token != stale.refresh_token {
                return Ok(current);
            }
        }
        let mut body =
            serde_json::to_value(RefreshRequest { refresh_token: stale.refresh_token.clone() }).expect("serialises");
        let grant: Result<SessionGrant, _> =
            self.call(Purpose::AccountOperation, Method::POST, "/v1/auth/refresh", Some(&body), Auth::None);
        wipe(&mut body);
        match grant {
            Ok(grant) => {
                let fresh = StoredTokens {
                    access_token: grant.tokens.access_token.clone(),
                    refresh_token: grant.tokens.refresh_token.clone(),
                    access_expires_at: now_unix() + grant.tokens.expires_in_secs as i64,
                };
                self.save_tokens(&fresh)?;
                self.gate.profile().save_record(ACCOUNT_RECORD, Some(&grant.account))?;
                Ok(fresh)
            }
            Err(EgressError::Platform { status: 401, .. }) => {
                self.forget()?;
                Err(EgressError::NotSignedIn)
            }
            Err(e) => Err(e),
        }
    }

    /// A call with the access token: refreshed first when about to expire, and once more when
    /// the platform reports it expired.
    fn authed<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, EgressError> {
        // The consent check happens in the gate too; checking first avoids a refresh request
        // for a call that would be refused anyway.
        if !self.gate.profile().consents().allows(purpose)? {
            return self.call(purpose, method, path, body, Auth::None);
        }
        let mut tokens = self.load_tokens()?.ok_or(EgressError::NotSignedIn)?;
        if tokens.access_expires_at - REFRESH_MARGIN_SECS <= now_unix() {
            tokens = self.refresh(&tokens)?;
        }
        let access = SecretString::new(tokens.access_token.clone());
        match self.call(purpose, method.clone(), path, body, Auth::Bearer(&access)) {
            Err(EgressError::Platform { status: 401, body: err }) if err.code == PlatformErrorCode::TokenExpired => {
                let fresh = self.refresh(&tokens)?;
                let access = SecretString::new(fresh.access_token.clone());
                self.call(purpose, method, path, body, Auth::Bearer(&access)).or_else(|e| self.signed_out_on_401(e))
            }
            Err(e) => self.signed_out_on_401(e),
            ok => ok,
        }
    }

    /// A 401 means the session is gone (signed out here too), except `invalid_credentials`: a
    /// wrong password re-entered to confirm something (cancellation) leaves the session as it is.
    fn signed_out_on_401<T>(&self, e: EgressError) -> Result<T, EgressError> {
        match e {
            EgressError::Platform { status: 401, body } if body.code == PlatformErrorCode::InvalidCredentials => {
                Err(EgressError::Platform { status: 401, body })
            }
            EgressError::Platform { status: 401, .. } => {
                self.forget()?;
                Err(EgressError::NotSignedIn)
            }
            other => Err(other),
        }
    }
}

/// A request id goes into a path: anything but `A–Z a–z 0–9 _ -` cannot be one (answered as the
/// platform would, without asking it).
fn check_request_id(id: &str) -> Result<(), EgressError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Ok(());
    }
    Err(EgressError::Platform {
        status: 404,
        body: ErrorBody {
            code: PlatformErrorCode::NotFound,
            message: "No request of yours has that id.".into(),
            field: None,
            retry_after_secs: None,
        },
    })
}

/// Overwrites every string of a request body that held a password or token.
fn wipe(v: &mut Value) {
    use zeroize::Zeroize;
    match v {
        Value::String(s) => s.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe),
        Value::Object(m) => m.values_mut().for_each(wipe),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn platform_errors_and_contract_violations_are_told_apart() {
        let body = br#"{"code":"rate_limited","message":"slow down","retry_after_secs":42}"#;
        match PlatformClient::interpret::<AccountProfile>("/v1/auth/login", 429, body) {
            Err(EgressError::Platform { status: 429, body }) => {
                assert_eq!(body.code, PlatformErrorCode::RateLimited);
                assert_eq!(body.retry_after_secs, Some(42));
            }
            other => panic!("{other:?}"),
        }
        let html = b"<html>502 Bad Gateway</html>";
        assert!(matches!(
            PlatformClient::interpret::<AccountProfile>("/v1/x", 502, html),
            Err(EgressError::BadResponse { .. })
        ));
        assert!(matches!(
            PlatformClient::interpret::<AccountProfile>("/v1/x", 200, br#"{"account_id": 5}"#),
            Err(EgressError::BadResponse { .. })
        ));
        assert!(PlatformClient::interpret::<Value>("/v1/auth/logout", 204, b"").is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        /// Whatever a platform (or something pretending to be one) answers, the client returns a
        /// value or an error; it never panics.
        #[test]
        fn arbitrary_answers_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = PlatformClient::interpret::<SessionGrant>("/v1/auth/login", status, &body);
            let _ = PlatformClient::interpret::<Capabilities>("/v1/capabilities", status, &body);
        }

        #[test]
        fn json_shaped_answers_never_panic(status in prop_oneof![Just(200u16), Just(401), Just(429), Just(500)], text in "\\{(\"[a-z_]{1,12}\":(\"[^\"]{0,8}\"|[0-9]{1,20}|null|true|\\[\\]),?){0,6}\\}") {
            let _ = PlatformClient::interpret::<AccountProfile>("/v1/account/profile", status, text.as_bytes());
        }
    }
}
