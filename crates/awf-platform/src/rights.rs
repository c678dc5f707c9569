//! The data-subject rights (policy §6, SPEC D7–D9): signed deletion receipts and the key that
//! signs them, erasure of everything held for an account (the account stays), account
//! cancellation, rights requests and complaints, and the operator's answers.
//!
//! Files in the data directory (both created on first start, mode 0600, never logged):
//! `receipt-signing-key` (the Ed25519 seed, hex, and when it was made) and `admin-token` (the
//! bearer token of the `/v1/admin/…` routes, which `awf-platform admin …` reads).
//!
//! **What erasure keeps.** `POST /v1/account/data/erase` deletes the telemetry of every purpose
//! and the rights requests (with their attachments). It keeps the account (that is the point),
//! its sessions (the caller stays signed in) and its consent receipts: they are the record of the
//! consents the account still runs under (withdrawing is how a consent ends; the client's ledger
//! and the platform's must agree), and PIPL art. 14/15 consent must be demonstrable while the
//! processing it covers goes on. Cancellation deletes them too.
//!
//! **What cancellation keeps.** Nothing of the account; only, when the client sent an
//! `Idempotency-Key`, the signed receipt under the key's SHA-256 for 30 days, so that a retry whose
//! first answer was lost gets it again. The receipt holds the account's random id, the counts
//! and the time: no name, phone or content. The policy (§6.1) asks no register of cancellations,
//! so none other is kept.
//!
//! **What remains on disk.** sled keeps deleted records' bytes in its segment files until it
//! rewrites them; the account's content is sealed with a key of its own, kept outside sled
//! (`keys.rs`): erasure replaces the key (the account record and receipts are sealed again with
//! the new one) and cancellation destroys it, so that those bytes no longer open.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use awf_platform_api::rights::{
    MAX_ANSWER_CHARS, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_NAME_CHARS, MAX_REQUEST_TEXT_CHARS,
};
use awf_platform_api::{
    AdminRightsRequest, AdminRightsRequests, AnswerRequest, AttachmentInfo, DeletionReceipt, DeletionScope,
    PlatformErrorCode, Purpose, ReceiptKey, ReceiptKeys, RequestCategory, RequestStatus, RightsRequest, RightsRequests,
    IDEMPOTENCY_HEADER,
};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::auth;
use crate::error::ApiError;
use crate::http::ApiJson;
use crate::routes::{rfc3339, Authed};
use crate::{validate, Platform};

type S = State<Arc<Platform>>;

/// The file holding the receipt signing key.
pub const SIGNING_KEY_FILE: &str = "receipt-signing-key";
/// The file holding the admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
/// Prefix of the admin token (distinct from access tokens, `awfa_`).
pub const ADMIN_PREFIX: &str = "awfadmin_";
/// The largest body of `POST /v1/requests`: five attachments of 2 MiB in base64, and the text.
pub const MAX_REQUEST_BODY_BYTES: usize = 15 * 1024 * 1024;

/// The platform's receipt signing key and its published form.
pub struct ReceiptSigner {
    key: SigningKey,
    pub published: ReceiptKey,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    algorithm: String,
    /// The 32-byte Ed25519 seed, hex.
    seed: String,
    created_at: String,
}

/// Writes `contents` to a new file readable by its owner only.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

impl ReceiptSigner {
    /// Loads the key from the data directory, creating it on first start.
    pub fn load_or_create(dir: &Path) -> std::io::Result<ReceiptSigner> {
        let path = dir.join(SIGNING_KEY_FILE);
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
        if !path.exists() {
            let mut seed = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut seed);
            let file = KeyFile {
                algorithm: "ed25519".into(),
                seed: hex::encode(seed),
                created_at: rfc3339(OffsetDateTime::now_utc()),
            };
            let json = serde_json::to_vec_pretty(&file).map_err(|_| bad("cannot serialise"))?;
            write_private(&path, &json)?;
        }
        let file: KeyFile = serde_json::from_slice(&std::fs::read(&path)?).map_err(|_| bad("not a key file"))?;
        let seed: [u8; 32] = hex::decode(&file.seed)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the seed is not 32 bytes of hex"))?;
        let key = SigningKey::from_bytes(&seed);
        let published = ReceiptKey::from_verifying_key(&key.verifying_key(), &file.created_at);
        Ok(ReceiptSigner { key, published })
    }

    /// A receipt of a completed deletion, signed.
    pub fn receipt(&self, account_id: &str, scope: DeletionScope, deleted: BTreeMap<String, u64>) -> DeletionReceipt {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let mut receipt = DeletionReceipt {
            receipt_id: format!("del_{}", hex::encode(id)),
            account_id: account_id.to_string(),
            scope,
            deleted,
            completed_at: rfc3339(OffsetDateTime::now_utc()),
            key_id: self.published.key_id.clone(),
            signature: String::new(),
        };
        receipt.sign(&self.key);
        receipt
    }
}

/// Reads the admin token's hash, creating the token file on first start.
pub fn load_or_create_admin_token(dir: &Path) -> std::io::Result<String> {
    let path = dir.join(ADMIN_TOKEN_FILE);
    if !path.exists() {
        write_private(&path, auth::new_token(ADMIN_PREFIX).as_bytes())?;
    }
    let token = std::fs::read_to_string(&path)?;
    let token = token.trim();
    if !token.starts_with(ADMIN_PREFIX) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: not an admin token (delete it to make a new one)", path.display()),
        ));
    }
    Ok(auth::sha256_hex(token))
}

/// 422 `invalid_input` naming the field: a well-formed body that breaks a rule.
fn unprocessable(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, PlatformErrorCode::InvalidInput, message).with_field(field)
}

fn now_stamp(p: &Platform) -> String {
    rfc3339(OffsetDateTime::from_unix_timestamp(p.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

// Receipts.

pub async fn receipt_keys(State(p): S) -> Json<ReceiptKeys> {
    Json(ReceiptKeys { keys: vec![p.signer.published.clone()] })
}

/// `DELETE /v1/telemetry/{purpose}` answers with this receipt too.
pub fn purpose_receipt(p: &Platform, account_id: &str, purpose: Purpose, deleted: u64) -> DeletionReceipt {
    let counts = BTreeMap::from([(format!("telemetry:{}", purpose.as_str()), deleted)]);
    p.signer.receipt(account_id, DeletionScope::PurposeData { purpose }, counts)
}

// Erasure.

pub async fn erase(State(p): S, auth: Authed) -> Result<Json<DeletionReceipt>, ApiError> {
    let deleted = p.store.erase_account_data(&auth.account_id)?;
    Ok(Json(p.signer.receipt(&auth.account_id, DeletionScope::AllData, deleted)))
}

// Cancellation.

#[derive(Deserialize)]
pub struct CancelBody {
    password: String,
    account_name: String,
}

/// The idempotency key's hash, when the header is present: 16–128 characters of `A–Z a–z 0–9 _ -`.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    let valid = value.to_str().ok().filter(|v| {
        (16..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    match valid {
        Some(v) => Ok(Some(auth::sha256_hex(v))),
        None => Err(unprocessable(IDEMPOTENCY_HEADER, "The idempotency key is 16 to 128 letters, digits, '_' or '-'.")),
    }
}

pub async fn cancel(
    State(p): S,
    headers: HeaderMap,
    auth: Result<Authed, ApiError>,
    body: Result<ApiJson<CancelBody>, ApiError>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    // One cancellation at a time: a retry racing its first attempt waits for its answer.
    let _guard = p.cancelling.lock().await;
    let now = p.now();
    p.store.purge_cancellations(now)?;
    if let Some(key) = &key {
        // A retry of a cancellation that succeeded: the account (and so the token) is gone, but
        // the answer is the same.
        if let Some(receipt) = p.store.cancellation(key, now)? {
            return Ok((StatusCode::OK, Json(receipt)).into_response());
        }
    }
    let auth = auth?;
    let ApiJson(body) = body?;
    let record = p.store.account(&auth.account_id)?.ok_or_else(ApiError::unauthorized)?;

    // Password attempts count like failed log-ins (a stolen access token must not become a way
    // to guess the password).
    let limit_key = format!("cancel:{}", auth.account_id);
    let instant = std::time::Instant::now();
    if let Some(wait) = p.login_failures.blocked(&limit_key, instant) {
        return Err(ApiError::rate_limited(wait, "Too many wrong passwords; wait before trying again."));
    }
    let hash = record.password_hash.clone();
    let password = body.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(|_| ApiError::internal())?;
    if !ok {
        p.login_failures.record_failure(&limit_key, instant);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, PlatformErrorCode::InvalidCredentials, "Wrong password."));
    }
    if body.account_name != record.profile.account_name {
        return Err(unprocessable(
            "account_name",
            "The account name does not match: type it exactly as it is (case included) to confirm.",
        ));
    }

    let phone_key = validate::phone_key(&record.profile.phone, "phone").unwrap_or_default();
    let deleted = p.store.delete_account(&auth.account_id, &phone_key)?;
    // What this process holds of the account in memory: failed log-ins by name and phone, and
    // (development mode) the SMS outbox.
    for login in [&record.profile.account_name, &record.profile.phone] {
        let login: String = login.trim().to_lowercase().chars().take(64).collect();
        p.login_failures.forget(&format!("login:{login}"));
    }
    p.login_failures.forget(&limit_key);
    p.outbox
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|m| validate::phone_key(&m.phone, "phone").map_or(true, |k| k != phone_key));

    let receipt = p.signer.receipt(&auth.account_id, DeletionScope::Account, deleted);
    if let Some(key) = &key {
        p.store.put_cancellation(key, &receipt, now)?;
    }
    let mut response = (StatusCode::OK, Json(receipt)).into_response();
    crate::http::set_cookie(
        response.headers_mut(),
        &format!("{}=; Max-Age=0; Path=/v1; HttpOnly; SameSite=Strict", awf_platform_api::SESSION_COOKIE),
    );
    Ok(response)
}

// Rights requests.

#[derive(Deserialize)]
pub struct RawAttachment {
    name: String,
    media_type: String,
    content_base64: String,
}

#[derive(Deserialize)]
pub struct RawRequest {
    category: String,
    text: String,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

/// A text of 1 to `max` characters with more than white space, and no control characters but
/// line breaks and tabs.
fn text(value: &str, max: usize, field: &str) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        return Err(unprocessable(field, "Write something: the text is empty."));
    }
    if value.chars().count() > max {
        return Err(unprocessable(field, format!("At most {max} characters.")));
    }
    if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(unprocessable(field, "Control characters other than line breaks and tabs are not allowed."));
    }
    Ok(value.to_string())
}

fn attachment_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=MAX_ATTACHMENT_NAME_CHARS).contains(&n)
        && name.trim() == name
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\'))
}

/// `type/subtype`, each a restricted name of RFC 6838 (letters, digits, `!#$&-^_.+`, starting
/// with a letter or digit, at most 63 characters).
fn media_type(value: &str) -> bool {
    let part = |s: &str| {
        (1..=63).contains(&s.len())
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    value.split_once('/').is_some_and(|(t, s)| part(t) && part(s))
}

const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The most base64 characters of one attachment (2 MiB decoded, padded).
pub const MAX_ATTACHMENT_BASE64_CHARS: usize = MAX_ATTACHMENT_BYTES.div_ceil(3) * 4;

fn new_request(raw: RawRequest, now: String) -> Result<(RightsRequest, Vec<Vec<u8>>), ApiError> {
    let category = RequestCategory::parse(&raw.category).ok_or_else(|| {
        unprocessable(
            "category",
            "The category is one of access, correction, deletion, portability, withdrawal, complaint.",
        )
    })?;
    let text = text(&raw.text, MAX_REQUEST_TEXT_CHARS, "text")?;
    if raw.attachments.len() > MAX_ATTACHMENTS {
        return Err(unprocessable("attachments", format!("At most {MAX_ATTACHMENTS} attachments.")));
    }
    let mut infos = Vec::new();
    let mut files = Vec::new();
    for (i, a) in raw.attachments.into_iter().enumerate() {
        if !attachment_name(&a.name) {
            return Err(unprocessable(
                &format!("attachments[{i}].name"),
                format!(
                    "A file name is 1 to {MAX_ATTACHMENT_NAME_CHARS} characters without '/', '\\', control characters \
                     or surrounding spaces, and not '.' or '..'."
                ),
            ));
        }
        if !media_type(&a.media_type) {
            return Err(unprocessable(
                &format!("attachments[{i}].media_type"),
                "The media type is `type/subtype`, such as application/pdf or image/png.",
            ));
        }
        let field = format!("attachments[{i}].content_base64");
        if a.content_base64.len() > MAX_ATTACHMENT_BASE64_CHARS {
            return Err(unprocessable(&field, format!("An attachment is at most {MAX_ATTACHMENT_BYTES} bytes.")));
        }
        let bytes = BASE64
            .decode(a.content_base64.as_bytes())
            .map_err(|_| unprocessable(&field, "The content is not valid standard base64."))?;
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(unprocessable(&field, format!("An attachment is at most {MAX_ATTACHMENT_BYTES} bytes.")));
        }
        infos.push(AttachmentInfo {
            name: a.name,
            media_type: a.media_type,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
        files.push(bytes);
    }
    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let request = RightsRequest {
        id: format!("req_{}", hex::encode(id)),
        category,
        text,
        attachments: infos,
        status: RequestStatus::Open,
        answer: None,
        created_at: now,
        answered_at: None,
    };
    Ok((request, files))
}

pub async fn submit_request(
    State(p): S,
    auth: Authed,
    ApiJson(raw): ApiJson<RawRequest>,
) -> Result<Response, ApiError> {
    let (request, files) = new_request(raw, now_stamp(&p))?;
    p.store.put_request(&auth.account_id, &request, &files)?;
    Ok((StatusCode::CREATED, Json(request)).into_response())
}

pub async fn list_requests(State(p): S, auth: Authed) -> Result<Json<RightsRequests>, ApiError> {
    Ok(Json(RightsRequests { requests: p.store.requests(&auth.account_id)? }))
}

fn request_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, PlatformErrorCode::NotFound, "No request of yours has that id.")
}

pub async fn get_request(
    State(p): S,
    auth: Authed,
    path: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<RightsRequest>, ApiError> {
    let Ok(UrlPath(id)) = path else { return Err(request_not_found()) };
    // Another account's request is "not found" alike: its existence is not told.
    p.store.request(&auth.account_id, &id)?.map(Json).ok_or_else(request_not_found)
}

/// Deletes one of the account's requests (with its attachments): a signed receipt of scope
/// `item` (`kind` `rights_request`).
pub async fn delete_request(
    State(p): S,
    auth: Authed,
    path: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<DeletionReceipt>, ApiError> {
    let Ok(UrlPath(id)) = path else { return Err(request_not_found()) };
    if !p.store.delete_request(&auth.account_id, &id)? {
        return Err(request_not_found());
    }
    let scope = DeletionScope::Item { kind: "rights_request".into(), id };
    let deleted = BTreeMap::from([("rights_requests".to_string(), 1)]);
    Ok(Json(p.signer.receipt(&auth.account_id, scope, deleted)))
}

// The operator.

/// The caller holds the admin token (`Authorization: Bearer awfadmin_…`).
fn admin(p: &Platform, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| t.starts_with(ADMIN_PREFIX))
        .ok_or_else(ApiError::unauthorized)?;
    if auth::sha256_hex(token) != p.admin_token_hash {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

pub async fn admin_list(State(p): S, headers: HeaderMap) -> Result<Json<AdminRightsRequests>, ApiError> {
    admin(&p, &headers)?;
    let requests = p
        .store
        .all_requests()?
        .into_iter()
        .map(|(account_id, request)| AdminRightsRequest { account_id, request })
        .collect();
    Ok(Json(AdminRightsRequests { requests }))
}

pub async fn admin_answer(
    State(p): S,
    headers: HeaderMap,
    path: Result<UrlPath<String>, PathRejection>,
    body: Result<ApiJson<AnswerRequest>, ApiError>,
) -> Result<Json<RightsRequest>, ApiError> {
    admin(&p, &headers)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, PlatformErrorCode::NotFound, "No request has that id.");
    let Ok(UrlPath(id)) = path else { return Err(not_found()) };
    let ApiJson(answer) = body?;
    let answer_text = text(&answer.text, MAX_ANSWER_CHARS, "text")?;
    let account = p.store.request_owner(&id)?.ok_or_else(not_found)?;
    let mut request = p.store.request(&account, &id)?.ok_or_else(not_found)?;
    request.answer = Some(answer_text);
    request.answered_at = Some(now_stamp(&p));
    request.status = if answer.close || request.status == RequestStatus::Closed {
        RequestStatus::Closed
    } else {
        RequestStatus::Answered
    };
    p.store.update_request(&account, &request)?;
    Ok(Json(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(category: &str, text: &str, attachments: Vec<(&str, &str, String)>) -> RawRequest {
        RawRequest {
            category: category.into(),
            text: text.into(),
            attachments: attachments
                .into_iter()
                .map(|(n, m, c)| RawAttachment { name: n.into(), media_type: m.into(), content_base64: c })
                .collect(),
        }
    }

    fn field(r: Result<(RightsRequest, Vec<Vec<u8>>), ApiError>) -> Option<String> {
        let e = r.err()?;
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        e.body.field
    }

    #[test]
    fn requests_are_validated_field_by_field() {
        let now = || "2026-01-01T00:00:00Z".to_string();
        let ok =
            new_request(raw("complaint", "hello", vec![("a.pdf", "application/pdf", "aGk".into())]), now()).unwrap();
        assert_eq!(ok.0.attachments[0].size, 2);
        assert_eq!(ok.1[0], b"hi");
        assert_eq!(field(new_request(raw("gripe", "x", vec![]), now())).as_deref(), Some("category"));
        assert_eq!(field(new_request(raw("access", "  \n", vec![]), now())).as_deref(), Some("text"));
        let long = "字".repeat(MAX_REQUEST_TEXT_CHARS + 1);
        assert_eq!(field(new_request(raw("access", &long, vec![]), now())).as_deref(), Some("text"));
        assert!(new_request(raw("access", &"字".repeat(MAX_REQUEST_TEXT_CHARS), vec![]), now()).is_ok());
        let six = (0..6).map(|_| ("a", "text/plain", String::new())).collect();
        assert_eq!(field(new_request(raw("access", "x", six), now())).as_deref(), Some("attachments"));
        for bad in ["", "..", "a/b", "a\\b", " a", "a\u{0}"] {
            let r = new_request(raw("access", "x", vec![(bad, "text/plain", String::new())]), now());
            assert_eq!(field(r).as_deref(), Some("attachments[0].name"), "{bad:?}");
        }
        let r = new_request(raw("access", "x", vec![("a", "text", String::new())]), now());
        assert_eq!(field(r).as_deref(), Some("attachments[0].media_type"));
        let r = new_request(raw("access", "x", vec![("a", "text/plain", "!!!".into())]), now());
        assert_eq!(field(r).as_deref(), Some("attachments[0].content_base64"));
        let big = BASE64.encode(vec![0u8; MAX_ATTACHMENT_BYTES + 1]);
        let r = new_request(raw("access", "x", vec![("a", "text/plain", big)]), now());
        assert_eq!(field(r).as_deref(), Some("attachments[0].content_base64"));
        let max = BASE64.encode(vec![0u8; MAX_ATTACHMENT_BYTES]);
        assert!(new_request(raw("access", "x", vec![("a", "text/plain", max)]), now()).is_ok());
    }
}
