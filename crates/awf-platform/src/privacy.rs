//! The privacy endpoints: consent receipts (`/v1/consents`), telemetry ingest and deletion per
//! purpose (`/v1/telemetry/{purpose}`), the summary of what the platform holds
//! (`/v1/account/data`), and the dev-only marketing list.
//!
//! The platform's **consent state** for a purpose is the `granted` of the account's receipt
//! with the highest `ledger_seq` for that purpose (ties: the one stored last); without a
//! receipt it is not granted. `account_operation` is granted for every registered account:
//! registering is accepting the policy. A granted receipt covers the purpose only under the
//! wording it was given for (D10): when the policy in force says the purpose's wording took effect
//! in a later version (`since_version`) than the receipt's `policy_version`, or does not cover
//! the purpose at all, the state is not granted until a new receipt arrives. Telemetry of a
//! purpose whose state is not granted is refused (403 `consent_required`) before its body is
//! read; deleting it is always allowed, so that a withdrawal can be followed by deletion.

use std::collections::BTreeMap;
use std::sync::Arc;

use awf_platform_api::{
    ConsentReceipt, ConsentReceipts, HeldCategory, HeldData, IngestAck, PlatformErrorCode, Purpose, PurposeDataDeleted,
    ReceiptAck, TelemetryBatch, PURPOSE_HEADER,
};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::http::ApiJson;
use crate::routes::{rfc3339, Authed};
use crate::store::StoredReceipt;
use crate::{policy, Platform, MAX_TELEMETRY_BATCH, MAX_TELEMETRY_DATA_BYTES, TELEMETRY_RETENTION_DAYS};

type S = State<Arc<Platform>>;

/// The purposes whose data `/v1/telemetry/{purpose}` takes (as documented).
pub use awf_platform_api::openapi::TELEMETRY_PURPOSES;

fn stamp(p: &Platform) -> String {
    rfc3339(OffsetDateTime::from_unix_timestamp(p.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

/// The latest receipt (by ledger position, then arrival) of `purpose` among `receipts`.
fn latest(receipts: &[StoredReceipt], purpose: Purpose) -> Option<&StoredReceipt> {
    receipts.iter().filter(|r| r.receipt.purpose == purpose).max_by_key(|r| (r.receipt.ledger_seq, r.stored_seq))
}

/// The account's consent state for `purpose` (see the module documentation): `Err` holds why it
/// is not granted, as said to the client.
pub fn consent_state(p: &Platform, account_id: &str, purpose: Purpose) -> Result<Result<(), String>, ApiError> {
    if matches!(purpose, Purpose::AccountOperation | Purpose::ServiceInformation) {
        return Ok(Ok(()));
    }
    let receipts = p.store.receipts(account_id)?;
    Ok(match latest(&receipts, purpose) {
        Some(r) if r.receipt.granted => policy::covers(&policy::latest(&p.store)?, purpose, r.receipt.policy_version),
        _ => Err(format!(
            "No consent for {} is on record: send a receipt of the consent before its data.",
            purpose.as_str()
        )),
    })
}

// Validation: the rules the OpenAPI document states for these bodies
// (`awf-platform-api/src/openapi.rs`, `CONSTRAINTS`).

/// `YYYY-MM-DDThh:mm:ss` (`T`, `t` or a space between), then anything without control
/// characters (fraction, `Z` or offset), at most 40 characters.
pub fn rfc3339ish(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    s.chars().count() <= 40
        && digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't' | b' '))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && !s.chars().any(char::is_control)
}

pub fn receipt(r: &ConsentReceipt) -> Result<(), ApiError> {
    let id_ok = (1..=64).contains(&r.receipt_id.len())
        && r.receipt_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !id_ok {
        return Err(ApiError::invalid("receipt_id", "The receipt id is 1 to 64 letters, digits, '_' or '-'."));
    }
    if r.purpose == Purpose::ServiceInformation {
        return Err(ApiError::invalid("purpose", "Service information needs no consent, so it has no receipt."));
    }
    if !rfc3339ish(&r.at) {
        return Err(ApiError::invalid("at", "`at` is an RFC 3339 date and time of at most 40 characters."));
    }
    if r.policy_version > i32::MAX as u32 {
        return Err(ApiError::invalid("policy_version", "The policy version is at most 2^31 - 1."));
    }
    if !(1..=32).contains(&r.method.chars().count()) {
        return Err(ApiError::invalid("method", "The method is 1 to 32 characters."));
    }
    if r.ledger_hash.len() != 64 || !r.ledger_hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(ApiError::invalid("ledger_hash", "The ledger hash is 64 lowercase hex digits (SHA-256)."));
    }
    if r.ledger_seq == 0 || r.ledger_seq > i64::MAX as u64 {
        return Err(ApiError::invalid("ledger_seq", "The ledger position starts at 1 (at most 2^63 - 1)."));
    }
    Ok(())
}

pub fn batch(b: &TelemetryBatch) -> Result<(), ApiError> {
    if b.events.is_empty() || b.events.len() > MAX_TELEMETRY_BATCH {
        return Err(ApiError::invalid("events", format!("A batch has 1 to {MAX_TELEMETRY_BATCH} items.")));
    }
    for (i, e) in b.events.iter().enumerate() {
        if !(1..=64).contains(&e.id.chars().count()) {
            return Err(ApiError::invalid(&format!("events[{i}].id"), "An item's id is 1 to 64 characters."));
        }
        if !(1..=64).contains(&e.kind.chars().count()) {
            return Err(ApiError::invalid(&format!("events[{i}].kind"), "An item's kind is 1 to 64 characters."));
        }
        if e.at.chars().count() > 40 {
            return Err(ApiError::invalid(&format!("events[{i}].at"), "An item's `at` is at most 40 characters."));
        }
        // Serialising a `Value` cannot fail; an error would count as too large.
        let size = serde_json::to_vec(&e.data).map_or(usize::MAX, |v| v.len());
        if size > MAX_TELEMETRY_DATA_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                PlatformErrorCode::PayloadTooLarge,
                format!("An item's data is at most {MAX_TELEMETRY_DATA_BYTES} bytes of JSON."),
            )
            .with_field(format!("events[{i}].data")));
        }
    }
    Ok(())
}

/// The purpose named by the path: one of [`TELEMETRY_PURPOSES`], else 404 (an unknown name and a
/// purpose that is not telemetry alike: there is no such resource).
fn telemetry_purpose(path: Result<Path<String>, PathRejection>) -> Result<Purpose, ApiError> {
    let Ok(Path(name)) = path else { return Err(ApiError::not_found()) };
    Purpose::parse(&name).filter(|p| TELEMETRY_PURPOSES.contains(p)).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            PlatformErrorCode::NotFound,
            "No telemetry of that purpose: it is one of security_device_info, usage_analytics, crash_reports, research.",
        )
    })
}

/// Deletes the account's telemetry older than the retention period (lazily: on ingest and on
/// reading the data summary).
fn purge_expired(p: &Platform, account_id: &str) -> Result<(), ApiError> {
    let cutoff = p.now().saturating_sub(TELEMETRY_RETENTION_DAYS * 86_400);
    for purpose in TELEMETRY_PURPOSES {
        p.store.purge_telemetry_before(account_id, purpose, cutoff)?;
    }
    Ok(())
}

// Consent receipts.

pub async fn post_receipt(
    State(p): S,
    auth: Authed,
    ApiJson(r): ApiJson<ConsentReceipt>,
) -> Result<Response, ApiError> {
    receipt(&r)?;
    // A receipt cannot cover wording that has not been published yet.
    let in_force = policy::latest(&p.store)?.version;
    if r.policy_version > in_force {
        return Err(ApiError::invalid(
            "policy_version",
            format!("Policy version {} has not been published; the version in force is {in_force}.", r.policy_version),
        ));
    }
    let stored_at = stamp(&p);
    Ok(match p.store.put_receipt(&auth.account_id, &r, &stored_at)? {
        None => (StatusCode::CREATED, Json(ReceiptAck { receipt_id: r.receipt_id, stored_at })).into_response(),
        Some(first) => {
            (StatusCode::OK, Json(ReceiptAck { receipt_id: first.receipt.receipt_id, stored_at: first.stored_at }))
                .into_response()
        }
    })
}

pub async fn list_receipts(State(p): S, auth: Authed) -> Result<Json<ConsentReceipts>, ApiError> {
    let receipts = p.store.receipts(&auth.account_id)?.into_iter().map(|r| r.receipt).collect();
    Ok(Json(ConsentReceipts { receipts }))
}

// Telemetry.

pub async fn ingest(
    State(p): S,
    auth: Authed,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<ApiJson<TelemetryBatch>, ApiError>,
) -> Result<Response, ApiError> {
    let purpose = telemetry_purpose(path)?;
    let declared = headers.get(PURPOSE_HEADER).and_then(|v| v.to_str().ok()).and_then(Purpose::parse);
    if declared != Some(purpose) {
        return Err(ApiError::invalid(
            PURPOSE_HEADER,
            format!("Telemetry of purpose {0} is sent with `{PURPOSE_HEADER}: {0}`.", purpose.as_str()),
        ));
    }
    // Refused before the body is even read: without consent the platform takes nothing.
    if let Err(why) = consent_state(&p, &auth.account_id, purpose)? {
        return Err(
            ApiError::new(StatusCode::FORBIDDEN, PlatformErrorCode::ConsentRequired, why).with_field(PURPOSE_HEADER)
        );
    }
    let ApiJson(b) = body?;
    batch(&b)?;
    purge_expired(&p, &auth.account_id)?;
    let accepted = p.store.ingest(&auth.account_id, purpose, &b.events, p.now())?;
    Ok((StatusCode::ACCEPTED, Json(IngestAck { accepted })).into_response())
}

pub async fn delete_purpose_data(
    State(p): S,
    auth: Authed,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<PurposeDataDeleted>, ApiError> {
    let purpose = telemetry_purpose(path)?;
    let deleted = p.store.delete_telemetry(&auth.account_id, purpose)?;
    let receipt = crate::rights::purpose_receipt(&p, &auth.account_id, purpose, deleted);
    Ok(Json(PurposeDataDeleted { purpose, deleted, receipt: Some(receipt) }))
}

// What the platform holds.

fn duration_words(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{} days", s / 86_400),
        s if s >= 3_600 => format!("{} hours", s / 3_600),
        s => format!("{s} seconds"),
    }
}

pub async fn held_data(State(p): S, auth: Authed) -> Result<Json<HeldData>, ApiError> {
    purge_expired(&p, &auth.account_id)?;
    let account = &auth.account_id;
    let lifetime = p.config.refresh_ttl_secs.max(p.config.access_ttl_secs);
    let mut categories = vec![
        HeldCategory { category: "account".into(), count: 1, retention: "until you cancel the account".into() },
        HeldCategory {
            category: "sessions".into(),
            count: p.store.active_sessions(account, crate::routes::unix_now())?,
            retention: format!("until log-out or expiry ({})", duration_words(lifetime)),
        },
        HeldCategory {
            category: "consent_receipts".into(),
            count: p.store.receipts(account)?.len() as u64,
            retention: "until you cancel the account (proof of consent)".into(),
        },
    ];
    for purpose in TELEMETRY_PURPOSES {
        categories.push(HeldCategory {
            category: format!("telemetry:{}", purpose.as_str()),
            count: p.store.telemetry_count(account, purpose)?,
            retention: format!(
                "{TELEMETRY_RETENTION_DAYS} days, or until you ask for its deletion (as withdrawing consent does)"
            ),
        });
    }
    categories.push(HeldCategory {
        category: "rights_requests".into(),
        count: p.store.request_count(account)?,
        retention: "until you erase your data or cancel the account".into(),
    });
    for (category, count) in p.store.sync.counts(account)? {
        let retention = match category.as_str() {
            "sync_replays" => "30 days (answers kept for retried writes)",
            "item_tombstones" => {
                "until you erase your data or cancel the account (tells your other devices of deletions)"
            }
            "uploads" => "until you delete the dataset, erase your data or cancel the account; unfinished ones 7 days",
            _ => "until you delete it, erase your data or cancel the account",
        };
        categories.push(HeldCategory { category, count, retention: retention.into() });
    }
    Ok(Json(HeldData { categories }))
}

// Development.

/// The accounts whose marketing consent state is granted: the list an SMS campaign would use.
pub async fn dev_marketing_recipients(State(p): S) -> Result<Json<Vec<String>>, ApiError> {
    if !p.config.dev {
        return Err(ApiError::not_found());
    }
    let mut by_account: BTreeMap<String, Vec<StoredReceipt>> = BTreeMap::new();
    for (account, r) in p.store.all_receipts()? {
        if r.receipt.purpose == Purpose::Marketing {
            by_account.entry(account).or_default().push(r);
        }
    }
    let in_force = policy::latest(&p.store)?;
    let mut recipients = Vec::new();
    for (account, receipts) in by_account {
        if latest(&receipts, Purpose::Marketing).is_some_and(|r| {
            r.receipt.granted && policy::covers(&in_force, Purpose::Marketing, r.receipt.policy_version).is_ok()
        }) && p.store.account(&account)?.is_some()
        {
            recipients.push(account);
        }
    }
    Ok(Json(recipients))
}

#[cfg(test)]
mod tests {
    use super::*;
    use awf_platform_api::TelemetryEvent;
    use serde_json::json;

    fn good_receipt() -> ConsentReceipt {
        ConsentReceipt {
            receipt_id: "01J0000000000000000000000A".into(),
            purpose: Purpose::UsageAnalytics,
            granted: true,
            at: "2026-03-01T08:00:00.123+08:00".into(),
            policy_version: 1,
            method: "consent_centre".into(),
            ledger_seq: 1,
            ledger_hash: "ab".repeat(32),
        }
    }

    type Mutation = Box<dyn Fn(&mut ConsentReceipt)>;

    fn field(r: Result<(), ApiError>) -> Option<String> {
        r.err().and_then(|e| e.body.field)
    }

    #[test]
    fn receipts_are_validated_field_by_field() {
        assert!(receipt(&good_receipt()).is_ok());
        let cases: Vec<(&str, Mutation)> = vec![
            ("receipt_id", Box::new(|r| r.receipt_id.clear())),
            ("receipt_id", Box::new(|r| r.receipt_id = "a".repeat(65))),
            ("receipt_id", Box::new(|r| r.receipt_id = "a b".into())),
            ("purpose", Box::new(|r| r.purpose = Purpose::ServiceInformation)),
            ("at", Box::new(|r| r.at.clear())),
            ("at", Box::new(|r| r.at = "yesterday".into())),
            ("at", Box::new(|r| r.at = format!("2026-03-01T08:00:00.{}Z", "1".repeat(30)))),
            ("at", Box::new(|r| r.at = "2026-03-01T08:00:00\nZ".into())),
            ("policy_version", Box::new(|r| r.policy_version = u32::MAX)),
            ("method", Box::new(|r| r.method.clear())),
            ("method", Box::new(|r| r.method = "m".repeat(33))),
            ("ledger_hash", Box::new(|r| r.ledger_hash = "AB".repeat(32))),
            ("ledger_hash", Box::new(|r| r.ledger_hash = "ab".repeat(31))),
            ("ledger_seq", Box::new(|r| r.ledger_seq = 0)),
            ("ledger_seq", Box::new(|r| r.ledger_seq = u64::MAX)),
        ];
        for (expected, mutate) in cases {
            let mut r = good_receipt();
            mutate(&mut r);
            assert_eq!(field(receipt(&r)).as_deref(), Some(expected), "{r:?}");
        }
        for ok in ["2026-03-01T08:00:00Z", "2026-03-01 08:00:00+00:00", "2026-03-01t08:00:00z"] {
            assert!(rfc3339ish(ok), "{ok}");
        }
    }

    #[test]
    fn batches_are_validated() {
        let event = |id: &str| TelemetryEvent { id: id.into(), kind: "k".into(), at: String::new(), data: json!(null) };
        assert!(batch(&TelemetryBatch { events: vec![event("1")] }).is_ok());
        assert_eq!(field(batch(&TelemetryBatch { events: vec![] })).as_deref(), Some("events"));
        let many = TelemetryBatch { events: (0..=MAX_TELEMETRY_BATCH).map(|i| event(&i.to_string())).collect() };
        assert_eq!(field(batch(&many)).as_deref(), Some("events"));
        assert_eq!(
            field(batch(&TelemetryBatch { events: vec![event("1"), event("")] })).as_deref(),
            Some("events[1].id")
        );
        let mut big = event("1");
        big.data = json!("x".repeat(MAX_TELEMETRY_DATA_BYTES));
        let e = batch(&TelemetryBatch { events: vec![big] }).unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.body.field.as_deref(), Some("events[0].data"));
    }
}
