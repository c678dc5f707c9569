//! [`PlatformClient`]: the typed calls of the platform contract, and the signed-in session.
//!
//! Tokens are kept as one secret of the profile (the OS keyring; sealed under the passphrase key
//! on machines without a keyring service), read only when a call needs them, refreshed before
//! they expire or when the platform says they have, and deleted at log-out.

use std::io::Write;
use std::sync::Mutex;

use awf_core::telemetry::TELEMETRY_PURPOSES;
use awf_core::SecretString;
use awf_platform_api::sync::{
    BatchAnswer, BatchWrite, BatchWrites, IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, UPLOAD_CHUNK_TYPE,
    UPLOAD_OFFSET_HEADER, UPLOAD_SHA256_HEADER,
};
use awf_platform_api::{
    AccountProfile, Capabilities, ErrorBody, LoginRequest, PlatformErrorCode, PolicyDocument, ProfilePatch, Purpose,
    RefreshRequest, RegisterRequest, SessionGrant, SmsCodeRequest, SmsCodeSent,
};
use awf_platform_api::{
    CancelAccount, DeletionReceipt, NewRightsRequest, ReceiptKeys, RightsRequest, RightsRequests, IDEMPOTENCY_HEADER,
};
use awf_platform_api::{Changes, ItemDeleted, ItemKind, ItemState, ItemWrite, NewUpload, SyncConflict, UploadState};
use awf_platform_api::{
    ConsentReceipt, ConsentReceipts, HeldData, IngestAck, PurposeDataDeleted, ReceiptAck, TelemetryBatch,
    TelemetryEvent,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::EgressError;
use crate::gate::{Answer, Auth, Gate, Payload};

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

/// How a sync `PUT` ended: applied (the new state), or refused 412 because the platform holds
/// another revision (the conflict holds it).
#[derive(Debug, Clone, PartialEq)]
pub enum PutOutcome {
    Applied(ItemState),
    Conflict(SyncConflict),
}

/// How a sync `DELETE` ended: deleted (the tombstone and the signed receipt), or a 412 conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteOutcome {
    Deleted(ItemDeleted),
    Conflict(SyncConflict),
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

    // --- consented sync (developer-data hosting) ---
    //
    // Every call goes out under `developer_data_hosting`: the gate refuses it (nothing leaves)
    // without that consent. A write carries the revision it expects (0: the item must not exist)
    // and an idempotency key (1–64 of `A–Z a–z 0–9 _ -`, one per change, kept with the outbox
    // entry): a retry with the same key gets the first answer, never a second write.

    /// Writes an item expecting `expected_revision`; a stale revision is
    /// [`PutOutcome::Conflict`], not an error. Other refusals are `EgressError::Platform` with
    /// their code (`consent_required`, `attestation_required`, `idempotency_key_reused`, …).
    pub fn put_item(
        &self,
        kind: ItemKind,
        id: &str,
        expected_revision: u64,
        idempotency_key: &str,
        item: &ItemWrite,
    ) -> Result<PutOutcome, EgressError> {
        let path = item_path(kind, id)?;
        let body = serde_json::to_value(item).expect("serialises");
        let answer = self.sync_write(Method::PUT, &path, Payload::Json(&body), expected_revision, idempotency_key)?;
        match answer.status {
            412 => Ok(PutOutcome::Conflict(Self::interpret(&path, 200, &answer.body)?)),
            status => Ok(PutOutcome::Applied(Self::interpret(&path, status, &answer.body)?)),
        }
    }

    /// Writes several items in one `POST /v1/items/batch` (at most
    /// [`awf_platform_api::sync::MAX_BATCH_WRITES`]): one outcome per write, in their order,
    /// each what [`PlatformClient::put_item`] would have returned for it. The outer error is the
    /// request's as a whole (unreachable, refused, an answer that does not match the writes).
    pub fn put_items(&self, writes: Vec<BatchWrite>) -> Result<Vec<Result<PutOutcome, EgressError>>, EgressError> {
        const PATH: &str = "/v1/items/batch";
        for w in &writes {
            item_path(w.kind, &w.id)?;
        }
        let sent: Vec<(ItemKind, String)> = writes.iter().map(|w| (w.kind, w.id.clone())).collect();
        let body = serde_json::to_value(BatchWrites { writes }).expect("serialises");
        let answer: BatchAnswer = self.authed(Purpose::DeveloperDataHosting, Method::POST, PATH, Some(&body))?;
        if answer.results.len() != sent.len() {
            return Err(EgressError::BadResponse {
                path: PATH.into(),
                detail: format!("{} results for {} writes", answer.results.len(), sent.len()),
            });
        }
        let bad = |detail: String| EgressError::BadResponse { path: PATH.into(), detail };
        let outcomes =
            answer.results.into_iter().zip(sent).map(|(r, (kind, id))| match (r.status, r.item, r.conflict, r.error) {
                (200 | 201, Some(item), _, _) if item.kind == kind && item.id == id => Ok(PutOutcome::Applied(item)),
                (412, _, Some(conflict), _) => Ok(PutOutcome::Conflict(conflict)),
                (status @ 400..=599, _, _, Some(body)) => Err(EgressError::Platform { status, body }),
                (status, ..) => Err(bad(format!(
                    "the result for {} {id} (status {status}) does not match the write",
                    kind.as_str()
                ))),
            });
        Ok(outcomes.collect())
    }

    /// Deletes an item expecting `expected_revision`: the tombstone and the platform's signed
    /// receipt, or [`DeleteOutcome::Conflict`]. An item that does not exist (or is already
    /// deleted) is `Platform { status: 404, code: not_found }`.
    pub fn delete_item(
        &self,
        kind: ItemKind,
        id: &str,
        expected_revision: u64,
        idempotency_key: &str,
    ) -> Result<DeleteOutcome, EgressError> {
        let path = item_path(kind, id)?;
        let answer = self.sync_write(Method::DELETE, &path, Payload::None, expected_revision, idempotency_key)?;
        match answer.status {
            412 => Ok(DeleteOutcome::Conflict(Self::interpret(&path, 200, &answer.body)?)),
            status => Ok(DeleteOutcome::Deleted(Self::interpret(&path, status, &answer.body)?)),
        }
    }

    /// The item as the platform holds it (a tombstone when deleted); `None` when it holds none.
    pub fn get_item(&self, kind: ItemKind, id: &str) -> Result<Option<ItemState>, EgressError> {
        let path = item_path(kind, id)?;
        match self.authed(Purpose::DeveloperDataHosting, Method::GET, &path, None) {
            Err(EgressError::Platform { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// The changes after cursor `after` (at most `limit`, 1–1000), oldest first; ask again after
    /// `next` while `more`.
    pub fn changes(&self, after: u64, limit: u32) -> Result<Changes, EgressError> {
        let path = format!("/v1/changes?after={after}&limit={limit}");
        self.authed(Purpose::DeveloperDataHosting, Method::GET, &path, None)
    }

    /// Opens a resumable upload of a dataset's bytes (length and SHA-256 known in advance).
    pub fn create_upload(&self, upload: &NewUpload) -> Result<UploadState, EgressError> {
        let body = serde_json::to_value(upload).expect("serialises");
        self.authed(Purpose::DeveloperDataHosting, Method::POST, "/v1/uploads", Some(&body))
    }

    /// How many bytes of the upload the platform holds (where to resume).
    pub fn upload_offset(&self, upload_id: &str) -> Result<u64, EgressError> {
        let path = upload_path(upload_id)?;
        let answer = self.authed_answer(Purpose::DeveloperDataHosting, Method::HEAD, &path, Payload::None, &[])?;
        if answer.status >= 400 {
            // A HEAD answer has no body: the status says what went wrong.
            let code = match answer.status {
                404 => PlatformErrorCode::NotFound,
                401 => PlatformErrorCode::Unauthorized,
                403 => PlatformErrorCode::ConsentRequired,
                _ => PlatformErrorCode::Internal,
            };
            return Err(EgressError::Platform {
                status: answer.status,
                body: ErrorBody {
                    code,
                    message: format!("HEAD {path} answered {}", answer.status),
                    field: None,
                    retry_after_secs: None,
                },
            });
        }
        header_u64(&answer, UPLOAD_OFFSET_HEADER).ok_or_else(|| EgressError::BadResponse {
            path: path.clone(),
            detail: "no valid Upload-Offset header".into(),
        })
    }

    /// Appends `bytes` (at most 8 MiB) at `offset`. A wrong offset is
    /// `Platform { status: 409, code: upload_offset_mismatch }` (ask [`PlatformClient::upload_offset`]
    /// and resume from there); the last chunk is checked against the SHA-256
    /// (`Platform { status: 422, code: digest_mismatch }`: the upload was discarded).
    pub fn upload_chunk(&self, upload_id: &str, offset: u64, bytes: &[u8]) -> Result<UploadState, EgressError> {
        let path = upload_path(upload_id)?;
        let offset = offset.to_string();
        let payload = Payload::Bytes { content_type: UPLOAD_CHUNK_TYPE, bytes };
        let answer = self.authed_answer(
            Purpose::DeveloperDataHosting,
            Method::PATCH,
            &path,
            payload,
            &[(UPLOAD_OFFSET_HEADER, offset.as_str())],
        )?;
        Self::interpret(&path, answer.status, &answer.body)
    }

    /// Streams the content of a finished upload into `dest` (never held whole in memory),
    /// through the gate (purpose `developer_data_hosting`, logged with the bytes received) and
    /// checked against the SHA-256 the platform states for it (`Upload-Sha256`); answers the
    /// bytes written and that digest. An unknown upload is `Platform { status: 404 }`, an
    /// unfinished one `Platform { status: 409, code: upload_incomplete }`; a transfer cut short or
    /// a digest that differs is `BadResponse` (what `dest` received is then not the content).
    pub fn download_upload(&self, upload_id: &str, dest: &mut dyn Write) -> Result<(u64, String), EgressError> {
        let path = format!("{}/content", upload_path(upload_id)?);
        let mut hashing = HashingWriter { inner: dest, hasher: Sha256::new(), written: 0 };
        let answer = self.authed_download(&path, &mut hashing)?;
        if answer.status >= 300 {
            return Err(Self::interpret::<Value>(&path, answer.status, &answer.body).expect_err("an error status"));
        }
        let bad = |detail: String| EgressError::BadResponse { path: path.clone(), detail };
        let stated = answer
            .headers
            .get(UPLOAD_SHA256_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| bad("no Upload-Sha256 header".into()))?;
        let length = header_u64(&answer, "content-length");
        let (written, digest) = (hashing.written, hex::encode(hashing.hasher.finalize()));
        if length.is_some_and(|l| l != written) {
            return Err(bad(format!("{written} bytes arrived of {}", length.unwrap_or(0))));
        }
        if digest != stated {
            return Err(bad(format!("the content's SHA-256 is {digest}, the platform stated {stated}")));
        }
        Ok((written, digest))
    }

    /// [`PlatformClient::download_upload`] into a new file at `dest` (removed when it fails).
    pub fn download_upload_to(&self, upload_id: &str, dest: &std::path::Path) -> Result<(u64, String), EgressError> {
        let file = std::fs::File::create(dest).map_err(|e| EgressError::BadResponse {
            path: upload_id.to_string(),
            detail: format!("cannot create {}: {e}", dest.display()),
        })?;
        let mut out = std::io::BufWriter::new(file);
        let result = self.download_upload(upload_id, &mut out).and_then(|r| {
            out.flush().map_err(|e| EgressError::BadResponse { path: upload_id.to_string(), detail: e.to_string() })?;
            Ok(r)
        });
        drop(out);
        if result.is_err() {
            let _ = std::fs::remove_file(dest);
        }
        result
    }

    /// A GET whose successful answer streams into `sink`, with the access token (refreshed as in
    /// [`PlatformClient::authed_answer`]; nothing is written to `sink` for an error answer).
    fn authed_download(&self, path: &str, sink: &mut dyn Write) -> Result<Answer, EgressError> {
        let purpose = Purpose::DeveloperDataHosting;
        if !self.gate.profile().consents().allows(purpose)? {
            return self.gate.send_to(purpose, Method::GET, path, Payload::None, Auth::None, &[], Some(sink));
        }
        let mut tokens = self.load_tokens()?.ok_or(EgressError::NotSignedIn)?;
        if tokens.access_expires_at - REFRESH_MARGIN_SECS <= now_unix() {
            tokens = self.refresh(&tokens)?;
        }
        let access = SecretString::new(tokens.access_token.clone());
        let mut answer = self.gate.send_to(
            purpose,
            Method::GET,
            path,
            Payload::None,
            Auth::Bearer(&access),
            &[],
            Some(&mut *sink),
        )?;
        if answer.status == 401
            && serde_json::from_slice::<ErrorBody>(&answer.body)
                .is_ok_and(|b| b.code == PlatformErrorCode::TokenExpired)
        {
            let fresh = self.refresh(&tokens)?;
            let access = SecretString::new(fresh.access_token.clone());
            answer =
                self.gate.send_to(purpose, Method::GET, path, Payload::None, Auth::Bearer(&access), &[], Some(sink))?;
        }
        if answer.status == 401 {
            let body = serde_json::from_slice::<ErrorBody>(&answer.body).unwrap_or(ErrorBody {
                code: PlatformErrorCode::Unauthorized,
                message: "not signed in".into(),
                field: None,
                retry_after_secs: None,
            });
            return self.signed_out_on_401(EgressError::Platform { status: 401, body });
        }
        Ok(answer)
    }

    fn sync_write(
        &self,
        method: Method,
        path: &str,
        payload: Payload<'_>,
        expected_revision: u64,
        idempotency_key: &str,
    ) -> Result<Answer, EgressError> {
        let revision = format!("\"{expected_revision}\"");
        let precondition =
            if expected_revision == 0 { (IF_NONE_MATCH_HEADER, "*") } else { (IF_MATCH_HEADER, revision.as_str()) };
        let headers = [precondition, (IDEMPOTENCY_HEADER, idempotency_key)];
        let answer = self.authed_answer(Purpose::DeveloperDataHosting, method, path, payload, &headers)?;
        if answer.status == 412 || answer.status < 400 {
            return Ok(answer);
        }
        Err(Self::interpret::<Value>(path, answer.status, &answer.body).expect_err("an error status"))
    }

    /// [`PlatformClient::authed`] for calls that need the raw answer (its status or headers):
    /// a 401 refreshes or signs out as there, every other status is returned.
    fn authed_answer(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        payload: Payload<'_>,
        extra: &[(&'static str, &str)],
    ) -> Result<Answer, EgressError> {
        if !self.gate.profile().consents().allows(purpose)? {
            return self.gate.send_payload(purpose, method, path, payload, Auth::None, extra);
        }
        let mut tokens = self.load_tokens()?.ok_or(EgressError::NotSignedIn)?;
        if tokens.access_expires_at - REFRESH_MARGIN_SECS <= now_unix() {
            tokens = self.refresh(&tokens)?;
        }
        let access = SecretString::new(tokens.access_token.clone());
        let mut answer =
            self.gate.send_payload(purpose, method.clone(), path, payload, Auth::Bearer(&access), extra)?;
        if answer.status == 401 {
            let expired = serde_json::from_slice::<ErrorBody>(&answer.body)
                .is_ok_and(|b| b.code == PlatformErrorCode::TokenExpired)
                // A HEAD answer has no body: refresh once on any 401.
                || method == Method::HEAD;
            if expired {
                let fresh = self.refresh(&tokens)?;
                let access = SecretString::new(fresh.access_token.clone());
                answer = self.gate.send_payload(purpose, method, path, payload, Auth::Bearer(&access), extra)?;
            }
        }
        if answer.status == 401 {
            let body = serde_json::from_slice::<ErrorBody>(&answer.body).unwrap_or(ErrorBody {
                code: PlatformErrorCode::Unauthorized,
                message: "not signed in".into(),
                field: None,
                retry_after_secs: None,
            });
            return self.signed_out_on_401(EgressError::Platform { status: 401, body });
        }
        Ok(answer)
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

/// `/v1/items/{kind}/{id}`; an id that is not 1–64 of `A–Z a–z 0–9 _ -` is refused here, as the
/// platform would (404), without asking it.
fn item_path(kind: ItemKind, id: &str) -> Result<String, EgressError> {
    if (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Ok(format!("/v1/items/{}/{id}", kind.as_str()));
    }
    Err(not_found("No such item: an item id is 1 to 64 of A-Z a-z 0-9 _ -."))
}

/// `/v1/uploads/{id}` for an upload id as the platform makes them (`upl_` and 32 hex digits).
fn upload_path(id: &str) -> Result<String, EgressError> {
    let hex = id.strip_prefix("upl_").unwrap_or("");
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(format!("/v1/uploads/{id}"));
    }
    Err(not_found("No such upload."))
}

fn not_found(message: &str) -> EgressError {
    EgressError::Platform {
        status: 404,
        body: ErrorBody {
            code: PlatformErrorCode::NotFound,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        },
    }
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
    written: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn header_u64(answer: &Answer, name: &str) -> Option<u64> {
    answer.headers.get(name)?.to_str().ok()?.trim().parse().ok()
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
