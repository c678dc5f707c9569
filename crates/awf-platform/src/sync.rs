//! Consented sync, the platform's side (SPEC C1–C6; the wire contract is
//! `awf-platform-api/src/sync.rs`): items with revisions (`/v1/items/{kind}/{id}`, and many
//! puts in one request, `/v1/items/batch`), the change feed (`/v1/changes`), resumable uploads
//! (`/v1/uploads`) and the dev-only counts (`/v1/dev/sync-stats`). Storage is `sync_store.rs`.
//!
//! **Consent.** A `PUT` (and a batch of them), the upload routes that carry data (`POST`,
//! `PATCH`) and the read of an upload's content (`GET /v1/uploads/{id}/content`, which sends the
//! data to a device) must declare `x-awf-purpose: developer_data_hosting` (400 otherwise) and
//! need the account's granted receipt for it (403 `consent_required`, checked before the body is
//! read). **Cross-border rule:** an account records the region of the platform it registered with
//! (`AccountProfile::region`); when this platform's region (`--region`) is another one, the data
//! would be stored outside the account's region, so `cross_border_transfer` must be granted too.
//! Reading (`GET`, `HEAD`, the feed) and deleting need no consent beyond the account's: they
//! return or remove what is already held.
//!
//! **Order of checks**, so that a refusal changes nothing: authentication, path, purpose,
//! consent, precondition (428), idempotency key, body, attestation; then the write (one
//! transaction).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use awf_platform_api::sync::{
    BatchAnswer, BatchResult, BatchWrite, BatchWrites, IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, MAX_BATCH_WRITES,
    MAX_CHANGES_PAGE, MAX_ITEM_BODY_BYTES, MAX_UPLOAD_BYTES, MAX_UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_TYPE,
    UPLOAD_OFFSET_HEADER, UPLOAD_SHA256_HEADER,
};
use awf_platform_api::{
    Changes, DeletionScope, ItemDeleted, ItemKind, ItemState, ItemWrite, NewUpload, PlatformErrorCode, Purpose,
    SyncStats, UploadState, IDEMPOTENCY_HEADER, PURPOSE_HEADER,
};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::http::ApiJson;
use crate::privacy::{consent_state, rfc3339ish};
use crate::routes::{rfc3339, Authed};
use crate::sync_store::{PendingWrite, UploadRecord, WriteOp, WriteOutcome};
use crate::Platform;

type S = State<Arc<Platform>>;

/// Header set on an answer replayed from an idempotency record.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

fn stamp(p: &Platform) -> String {
    rfc3339(OffsetDateTime::from_unix_timestamp(p.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, PlatformErrorCode::NotFound, what.to_string())
}

/// `[A-Za-z0-9_-]{1,max}`.
fn simple_id(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The item named by the path: an unknown kind or a malformed id is no such resource (404).
fn item_path(path: Result<Path<(String, String)>, PathRejection>) -> Result<(ItemKind, String), ApiError> {
    let missing =
        || not_found("No such item: the kind is agent, plugin, dataset or table, the id 1 to 64 of A–Z a–z 0–9 _ -.");
    let Ok(Path((kind, id))) = path else { return Err(missing()) };
    let kind = ItemKind::parse(&kind).ok_or_else(missing)?;
    if !simple_id(&id, 64) {
        return Err(missing());
    }
    Ok((kind, id))
}

/// The request declares `developer_data_hosting`, and the account's receipts grant it (and, for
/// an account of another region, `cross_border_transfer`).
fn hosting_consent(p: &Platform, auth: &Authed, headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers.get(PURPOSE_HEADER).and_then(|v| v.to_str().ok()).and_then(Purpose::parse);
    if declared != Some(Purpose::DeveloperDataHosting) {
        return Err(ApiError::invalid(
            PURPOSE_HEADER,
            "Developer data is sent with `x-awf-purpose: developer_data_hosting`.",
        ));
    }
    let refuse = |why: String| {
        ApiError::new(StatusCode::FORBIDDEN, PlatformErrorCode::ConsentRequired, why).with_field(PURPOSE_HEADER)
    };
    if let Err(why) = consent_state(p, &auth.account_id, Purpose::DeveloperDataHosting)? {
        return Err(refuse(why));
    }
    let account = p.store.account(&auth.account_id)?.ok_or_else(ApiError::unauthorized)?;
    if account.profile.region != p.config.region.code {
        if let Err(why) = consent_state(p, &auth.account_id, Purpose::CrossBorderTransfer)? {
            return Err(refuse(format!(
                "This platform stores data in region {}, outside your account's region {}: cross-border transfer \
                 needs its own consent. {why}",
                p.config.region.code, account.profile.region
            )));
        }
    }
    Ok(())
}

/// The revision a write expects: `If-Match: "<n>"` or `If-None-Match: *` (0); 428 without.
fn expected_revision(headers: &HeaderMap) -> Result<u64, ApiError> {
    let if_match = headers.get(IF_MATCH_HEADER);
    let if_none = headers.get(IF_NONE_MATCH_HEADER);
    let bad_match = || {
        ApiError::invalid(
            IF_MATCH_HEADER,
            "If-Match is the expected revision, e.g. \"3\" (\"0\": the item must not exist).",
        )
    };
    match (if_match, if_none) {
        (None, None) => Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            PlatformErrorCode::RevisionRequired,
            "Say which revision you are changing: If-Match: \"<revision>\", or If-None-Match: * for a new item.",
        )),
        (Some(_), Some(_)) => Err(ApiError::invalid(IF_NONE_MATCH_HEADER, "Send If-Match or If-None-Match, not both.")),
        (None, Some(v)) => match v.to_str().map(str::trim) {
            Ok("*") => Ok(0),
            _ => {
                Err(ApiError::invalid(IF_NONE_MATCH_HEADER, "If-None-Match takes only `*` (the item must not exist)."))
            }
        },
        (Some(v), None) => {
            let text = v.to_str().map_err(|_| bad_match())?.trim();
            let digits = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
            if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad_match());
            }
            digits.parse().map_err(|_| bad_match())
        }
    }
}

/// The `Idempotency-Key`, when sent: 1–64 of `[A-Za-z0-9_-]`.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    match v.to_str() {
        Ok(k) if simple_id(k, 64) => Ok(Some(k.to_string())),
        _ => Err(ApiError::invalid(IDEMPOTENCY_HEADER, "The idempotency key is 1 to 64 letters, digits, '_' or '-'.")),
    }
}

fn fingerprint(method: &str, kind: ItemKind, id: &str, expected: u64, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), kind.as_str().as_bytes(), id.as_bytes(), expected.to_string().as_bytes(), body] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

fn json_response(status: u16, body: Value, replayed: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut r = (status, Json(body)).into_response();
    if replayed {
        r.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    r
}

use serde_json::Value;

fn conflict_response(c: awf_platform_api::SyncConflict) -> Response {
    (StatusCode::PRECONDITION_FAILED, Json(c)).into_response()
}

fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        PlatformErrorCode::IdempotencyKeyReused,
        "This idempotency key was used for another request: make a new key for each change.",
    )
    .with_field(IDEMPOTENCY_HEADER)
}

/// Runs a write on a blocking thread (it waits for the account's lock and for the flush).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ApiError::internal())?
}

fn validate_write(w: &ItemWrite) -> Result<(), ApiError> {
    if !w.body.is_object() {
        return Err(ApiError::invalid("body", "The item's body is a JSON object."));
    }
    let size = serde_json::to_vec(&w.body).map_or(usize::MAX, |v| v.len());
    if size > MAX_ITEM_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            PlatformErrorCode::PayloadTooLarge,
            format!("An item's body is at most {MAX_ITEM_BODY_BYTES} bytes of JSON."),
        )
        .with_field("body"));
    }
    if let Some(origin) = &w.origin {
        if origin.is_empty() || origin.chars().count() > 128 || origin.chars().any(char::is_control) {
            return Err(ApiError::invalid("origin", "The origin is 1 to 128 characters without control characters."));
        }
    }
    if let Some(a) = &w.attestation {
        if a.ledger_seq == 0 || a.ledger_seq > i64::MAX as u64 {
            return Err(ApiError::invalid("attestation.ledger_seq", "The ledger position starts at 1."));
        }
        if a.ledger_hash.len() != 64 || !a.ledger_hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ApiError::invalid("attestation.ledger_hash", "The ledger hash is 64 lowercase hex digits."));
        }
        if !rfc3339ish(&a.attested_at) {
            return Err(ApiError::invalid(
                "attestation.attested_at",
                "An RFC 3339 date and time of at most 40 characters.",
            ));
        }
    }
    if w.pii_findings > 0 && w.attestation.as_ref().is_none_or(|a| a.findings < w.pii_findings) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            PlatformErrorCode::AttestationRequired,
            "This item holds personal information: send the developer's attestation that the people concerned \
             consented (covering every finding) with it.",
        )
        .with_field("attestation"));
    }
    Ok(())
}

// Items.

pub async fn put_item(
    State(p): S,
    auth: Authed,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Result<ApiJson<ItemWrite>, ApiError>,
) -> Result<Response, ApiError> {
    let (kind, id) = item_path(path)?;
    hosting_consent(&p, &auth, &headers)?;
    let expected = expected_revision(&headers)?;
    let idem = idempotency_key(&headers)?;
    let ApiJson(write) = body?;
    validate_write(&write)?;
    let canonical = serde_json::to_vec(&write).map_err(|_| ApiError::internal())?;
    let print = fingerprint("PUT", kind, &id, expected, &canonical);
    let now = p.now();
    let updated_at = stamp(&p);
    let outcome = blocking(move || {
        let op = WriteOp::Put {
            body: write.body,
            pii_findings: write.pii_findings,
            attestation: write.attestation,
            origin: write.origin,
        };
        let idem = idem.as_deref().map(|k| (k, print.as_str()));
        let answer = |s: &ItemState| serde_json::to_value(s).unwrap_or(Value::Null);
        Ok(p.store.sync.write(&auth.account_id, kind, &id, expected, idem, op, &updated_at, now, &answer)?)
    })
    .await?;
    Ok(match outcome {
        WriteOutcome::Applied { status, body, .. } => json_response(status, body, false),
        WriteOutcome::Replay { status, body } => json_response(status, body, true),
        WriteOutcome::KeyReused => return Err(key_reused()),
        WriteOutcome::Conflict(c) => conflict_response(c),
        WriteOutcome::NotFound => return Err(ApiError::internal()),
    })
}

/// `POST /v1/items/batch`: many `PUT`s in one request (the contract's "Many writes in one
/// request"). Sign-in, the purpose and the consents are checked once, then the size of the batch
/// (400 `invalid_input`, field `writes`, for none or more than [`MAX_BATCH_WRITES`]); a refusal of
/// the whole changes nothing. Each write is then checked as its `PUT` would be (id, idempotency
/// key, body), and a refused one gets its own result — the status and `ErrorBody` its `PUT`
/// would have had, `field` naming the write's field (`id`, `idempotency_key`, `write.body`, …) —
/// while the others are applied, in order, under one lock and one flush. Each write's
/// fingerprint is its `PUT`'s, so a key replays across the two routes.
pub async fn put_items(
    State(p): S,
    auth: Authed,
    headers: HeaderMap,
    body: Result<ApiJson<BatchWrites>, ApiError>,
) -> Result<Json<BatchAnswer>, ApiError> {
    hosting_consent(&p, &auth, &headers)?;
    let ApiJson(batch) = body?;
    if batch.writes.is_empty() || batch.writes.len() > MAX_BATCH_WRITES {
        return Err(ApiError::invalid("writes", format!("A batch holds 1 to {MAX_BATCH_WRITES} writes.")));
    }
    // Per write: its refusal now, or its place among the writes the store applies.
    let mut answers: Vec<Option<BatchResult>> = Vec::with_capacity(batch.writes.len());
    let (mut order, mut pending) = (Vec::new(), Vec::new());
    for (i, w) in batch.writes.into_iter().enumerate() {
        match batch_write(w) {
            Ok(write) => {
                order.push(i);
                pending.push(write);
                answers.push(None);
            }
            Err(refused) => answers.push(Some(refused_result(refused))),
        }
    }
    let now = p.now();
    let updated_at = stamp(&p);
    let outcomes = if pending.is_empty() {
        Vec::new()
    } else {
        blocking(move || {
            let answer = |s: &ItemState| serde_json::to_value(s).unwrap_or(Value::Null);
            Ok(p.store.sync.write_many(&auth.account_id, &pending, &updated_at, now, &answer)?)
        })
        .await?
    };
    if outcomes.len() != order.len() {
        return Err(ApiError::internal());
    }
    for (i, outcome) in order.into_iter().zip(outcomes) {
        answers[i] = Some(match outcome {
            WriteOutcome::Applied { status, body } => applied_result(status, body, false),
            WriteOutcome::Replay { status, body } => applied_result(status, body, true),
            WriteOutcome::KeyReused => refused_result(key_reused().with_field("idempotency_key")),
            WriteOutcome::Conflict(c) => BatchResult {
                status: StatusCode::PRECONDITION_FAILED.as_u16(),
                replayed: false,
                item: None,
                conflict: Some(c),
                error: None,
            },
            // A put never answers it.
            WriteOutcome::NotFound => refused_result(ApiError::internal()),
        });
    }
    let results = answers.into_iter().map(|a| a.unwrap_or_else(|| refused_result(ApiError::internal()))).collect();
    Ok(Json(BatchAnswer { results }))
}

/// One write of a batch, checked as its `PUT` would be (after the consents): its id, its
/// idempotency key, its body; its fingerprint is the `PUT`'s.
fn batch_write(w: BatchWrite) -> Result<PendingWrite, ApiError> {
    if !simple_id(&w.id, 64) {
        return Err(not_found("No such item: the id is 1 to 64 of A–Z a–z 0–9 _ -.").with_field("id"));
    }
    if !simple_id(&w.idempotency_key, 64) {
        return Err(ApiError::invalid(
            "idempotency_key",
            "The idempotency key is 1 to 64 letters, digits, '_' or '-'.",
        ));
    }
    validate_write(&w.write).map_err(|e| match e.body.field.clone() {
        Some(field) => e.with_field(format!("write.{field}")),
        None => e,
    })?;
    let canonical = serde_json::to_vec(&w.write).map_err(|_| ApiError::internal())?;
    let print = fingerprint("PUT", w.kind, &w.id, w.expected_revision, &canonical);
    Ok(PendingWrite {
        kind: w.kind,
        id: w.id,
        expected: w.expected_revision,
        idempotency: Some((w.idempotency_key, print)),
        op: WriteOp::Put {
            body: w.write.body,
            pii_findings: w.write.pii_findings,
            attestation: w.write.attestation,
            origin: w.write.origin,
        },
    })
}

fn refused_result(e: ApiError) -> BatchResult {
    BatchResult { status: e.status.as_u16(), replayed: false, item: None, conflict: None, error: Some(e.body) }
}

fn applied_result(status: u16, body: Value, replayed: bool) -> BatchResult {
    BatchResult { status, replayed, item: serde_json::from_value(body).ok(), conflict: None, error: None }
}

pub async fn delete_item(
    State(p): S,
    auth: Authed,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (kind, id) = item_path(path)?;
    let expected = expected_revision(&headers)?;
    let idem = idempotency_key(&headers)?;
    let print = fingerprint("DELETE", kind, &id, expected, b"");
    let now = p.now();
    let updated_at = stamp(&p);
    let platform = p.clone();
    let outcome = blocking(move || {
        let p = platform;
        let idem = idem.as_deref().map(|k| (k, print.as_str()));
        let account = auth.account_id.clone();
        let uploads = match kind {
            ItemKind::Dataset => Some(p.store.sync.dataset_upload_count(&account, &id)?),
            _ => None,
        };
        let answer = |s: &ItemState| {
            let mut deleted = BTreeMap::from([(format!("items:{}", kind.as_str()), 1)]);
            if let Some(n) = uploads {
                deleted.insert("uploads".into(), n);
            }
            let scope = DeletionScope::Item { kind: kind.as_str().to_string(), id: s.id.clone() };
            let receipt = p.signer.receipt(&account, scope, deleted);
            serde_json::to_value(ItemDeleted { state: s.clone(), receipt }).unwrap_or(Value::Null)
        };
        let outcome =
            p.store.sync.write(&account, kind, &id, expected, idem, WriteOp::Delete, &updated_at, now, &answer)?;
        // A dataset's uploads go with it.
        if let (WriteOutcome::Applied { .. }, ItemKind::Dataset) = (&outcome, kind) {
            p.store.sync.delete_dataset_uploads(&account, &id)?;
        }
        Ok(outcome)
    })
    .await?;
    Ok(match outcome {
        WriteOutcome::Applied { status, body, .. } => json_response(status, body, false),
        WriteOutcome::Replay { status, body } => json_response(status, body, true),
        WriteOutcome::KeyReused => return Err(key_reused()),
        WriteOutcome::Conflict(c) => conflict_response(c),
        WriteOutcome::NotFound => return Err(not_found("No such item (or it is already deleted).")),
    })
}

pub async fn get_item(
    State(p): S,
    auth: Authed,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<ItemState>, ApiError> {
    let (kind, id) = item_path(path)?;
    let item = p.store.sync.item(&auth.account_id, kind, &id)?.ok_or_else(|| not_found("No such item."))?;
    Ok(Json(item.state))
}

pub async fn changes(
    State(p): S,
    auth: Authed,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Changes>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::invalid("after", "The query string is malformed."))?;
    let number = |name: &str, default: u64| -> Result<u64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) => {
                v.parse().map_err(|_| ApiError::invalid(name, "Out of range."))
            }
            Some(_) => Err(ApiError::invalid(name, "A whole number.")),
        }
    };
    let after = number("after", 0)?;
    // Cursors are counted from 1 and never pass 2^63 - 1 (as documented).
    if after > i64::MAX as u64 {
        return Err(ApiError::invalid("after", "A cursor is at most 2^63 - 1."));
    }
    let limit = number("limit", 500)?;
    if !(1..=u64::from(MAX_CHANGES_PAGE)).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("From 1 to {MAX_CHANGES_PAGE}.")));
    }
    let (changes, more) = p.store.sync.changes(&auth.account_id, after, limit as usize)?;
    let next = changes.last().map_or(after, |c| c.cursor);
    Ok(Json(Changes { changes, next, more }))
}

// Uploads.

fn upload_id_ok(id: &str) -> bool {
    id.len() == 36
        && id.starts_with("upl_")
        && id[4..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn offset_headers(r: &mut Response, offset: u64, length: u64) {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&offset.to_string()) {
        h.insert(UPLOAD_OFFSET_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&length.to_string()) {
        h.insert("upload-length", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub async fn create_upload(
    State(p): S,
    auth: Authed,
    headers: HeaderMap,
    body: Result<ApiJson<NewUpload>, ApiError>,
) -> Result<Response, ApiError> {
    hosting_consent(&p, &auth, &headers)?;
    let ApiJson(new) = body?;
    if !(1..=MAX_UPLOAD_BYTES).contains(&new.length) {
        return Err(ApiError::invalid("length", format!("An upload is 1 to {MAX_UPLOAD_BYTES} bytes.")));
    }
    if new.sha256.len() != 64 || !new.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(ApiError::invalid("sha256", "The SHA-256 is 64 lowercase hex digits."));
    }
    if !simple_id(&new.dataset_id, 64) {
        return Err(ApiError::invalid("dataset_id", "The dataset id is 1 to 64 of A–Z a–z 0–9 _ -."));
    }
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let record = UploadRecord {
        upload_id: format!("upl_{}", hex::encode(raw)),
        dataset_id: new.dataset_id,
        length: new.length,
        sha256: new.sha256,
        complete: false,
        created_at: stamp(&p),
        created_unix: p.now(),
        file_nonce: None,
    };
    let state = blocking(move || {
        p.store.sync.create_upload(&auth.account_id, &record)?;
        Ok(p.store.sync.upload_state(&auth.account_id, &record)?)
    })
    .await?;
    let mut r = (StatusCode::CREATED, Json(state.clone())).into_response();
    offset_headers(&mut r, state.offset, state.length);
    Ok(r)
}

pub async fn upload_offset(
    State(p): S,
    auth: Authed,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = path else { return Err(not_found("No such upload.")) };
    if !upload_id_ok(&id) {
        return Err(not_found("No such upload."));
    }
    let record = p.store.sync.upload(&auth.account_id, &id)?.ok_or_else(|| not_found("No such upload."))?;
    let offset = p.store.sync.upload_offset(&auth.account_id, &record)?;
    let mut r = StatusCode::OK.into_response();
    offset_headers(&mut r, offset, record.length);
    Ok(r)
}

fn offset_mismatch(offset: u64, length: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::CONFLICT,
        PlatformErrorCode::UploadOffsetMismatch,
        format!("The upload is at offset {offset}: send the bytes from there (see Upload-Offset)."),
    )
    .with_field(UPLOAD_OFFSET_HEADER)
    .into_response();
    offset_headers(&mut r, offset, length);
    r
}

pub async fn upload_chunk(
    State(p): S,
    auth: Authed,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = path else { return Err(not_found("No such upload.")) };
    if !upload_id_ok(&id) {
        return Err(not_found("No such upload."));
    }
    hosting_consent(&p, &auth, &headers)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // tus's media type, or plain octets (the same bytes; generic HTTP tools send that).
    let media = content_type.split(';').next().map(str::trim).unwrap_or("");
    if media != UPLOAD_CHUNK_TYPE && media != "application/octet-stream" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PlatformErrorCode::InvalidInput,
            format!("Send a chunk as `Content-Type: {UPLOAD_CHUNK_TYPE}` (or application/octet-stream)."),
        ));
    }
    let claimed = headers
        .get(UPLOAD_OFFSET_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::invalid(UPLOAD_OFFSET_HEADER, "Upload-Offset is the offset of the chunk's first byte.")
        })?;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                PlatformErrorCode::PayloadTooLarge,
                format!("A chunk is at most {MAX_UPLOAD_CHUNK_BYTES} bytes."),
            )
        } else {
            ApiError::invalid("body", "The chunk could not be read.")
        }
    })?;
    enum Chunk {
        Done(UploadState),
        Mismatch(u64, u64),
        Digest,
    }
    let result = blocking(move || {
        let sync = &p.store.sync;
        let account = &auth.account_id;
        let _guard = sync.lock(account);
        let mut record = sync.upload(account, &id)?.ok_or_else(|| not_found("No such upload."))?;
        let offset = sync.upload_offset(account, &record)?;
        if claimed != offset {
            return Ok(Chunk::Mismatch(offset, record.length));
        }
        if record.complete || bytes.is_empty() {
            return Ok(Chunk::Done(sync.upload_state(account, &record)?));
        }
        if offset + bytes.len() as u64 > record.length {
            return Err(ApiError::invalid("body", "The chunk goes past the upload's length."));
        }
        match sync.append_upload(account, &mut record, &bytes)? {
            Ok(_) => Ok(Chunk::Done(sync.upload_state(account, &record)?)),
            Err(()) => Ok(Chunk::Digest),
        }
    })
    .await?;
    match result {
        Chunk::Done(state) => {
            let mut r = (StatusCode::OK, Json(state.clone())).into_response();
            offset_headers(&mut r, state.offset, state.length);
            Ok(r)
        }
        Chunk::Mismatch(offset, length) => Ok(offset_mismatch(offset, length)),
        Chunk::Digest => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            PlatformErrorCode::DigestMismatch,
            "The bytes do not match the upload's SHA-256: the upload was discarded; start a new one.",
        )),
    }
}

/// The start of `Range: bytes=<start>-` (the only form served); `Err` for any other.
fn range_start(headers: &HeaderMap, length: u64) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get(header::RANGE) else { return Ok(None) };
    let unsatisfiable = || {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            PlatformErrorCode::InvalidInput,
            format!("Only `Range: bytes=<start>-` with a start below the length ({length}) is served."),
        )
        .with_field("range")
    };
    let digits = v.to_str().ok().and_then(|t| t.trim().strip_prefix("bytes=")).and_then(|t| t.strip_suffix('-'));
    match digits {
        Some(d) if !d.is_empty() && d.len() <= 19 && d.bytes().all(|b| b.is_ascii_digit()) => {
            let start: u64 = d.parse().map_err(|_| unsatisfiable())?;
            if start >= length {
                return Err(unsatisfiable());
            }
            Ok(Some(start))
        }
        _ => Err(unsatisfiable()),
    }
}

/// A body fed by a blocking reader thread through a small bounded channel: constant memory.
struct ContentStream(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>);

impl futures_core::Stream for ContentStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Bytes read (and decrypted) at a time when serving an upload's content.
const CONTENT_PIECE: usize = 64 * 1024;

pub async fn upload_content(
    State(p): S,
    auth: Authed,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = path else { return Err(not_found("No such upload.")) };
    if !upload_id_ok(&id) {
        return Err(not_found("No such upload."));
    }
    hosting_consent(&p, &auth, &headers)?;
    let record = p.store.sync.upload(&auth.account_id, &id)?.ok_or_else(|| not_found("No such upload."))?;
    if !record.complete {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            PlatformErrorCode::UploadIncomplete,
            "The upload is not finished: its content is served once all bytes arrived and matched its SHA-256.",
        ));
    }
    let start = range_start(&headers, record.length)?;
    let from = start.unwrap_or(0);
    let (mut file, mut cipher) =
        p.store.sync.upload_content(&auth.account_id, &record, from)?.ok_or_else(ApiError::internal)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let mut left = record.length - from;
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        while left > 0 {
            let mut buf = vec![0u8; CONTENT_PIECE.min(usize::try_from(left).unwrap_or(CONTENT_PIECE))];
            let piece = match file.read(&mut buf) {
                Ok(0) => Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "upload file ended early")),
                Ok(n) => {
                    buf.truncate(n);
                    if let Some(c) = &mut cipher {
                        crate::keys::apply(c, &mut buf);
                    }
                    left -= n as u64;
                    Ok(Bytes::from(buf))
                }
                Err(e) => Err(e),
            };
            let failed = piece.is_err();
            // The client went away, or the file failed: stop.
            if tx.blocking_send(piece).is_err() || failed {
                break;
            }
        }
    });
    let status = if start.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut r = Response::new(axum::body::Body::from_stream(ContentStream(rx)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&(record.length - from).to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if let Ok(v) = HeaderValue::from_str(&record.sha256) {
        h.insert(UPLOAD_SHA256_HEADER, v);
    }
    if start.is_some() {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {from}-{}/{}", record.length - 1, record.length)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(r)
}

// Development.

pub async fn dev_sync_stats(State(p): S) -> Result<Json<SyncStats>, ApiError> {
    if !p.config.dev {
        return Err(ApiError::not_found());
    }
    Ok(Json(p.store.sync.stats()?))
}
