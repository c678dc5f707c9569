//! The route handlers of the v1 contract, and the router that wires them with the shared
//! middleware. Each handler validates its input completely before it changes anything, so a
//! rejected request leaves no trace but the statistics.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use awf_platform_api::{
    AccountProfile, AgeBand, Capabilities, GuardianRecord, Limits, LoginRequest, PlatformErrorCode, PolicyDocument,
    ProfilePatch, PublishPolicy, RefreshRequest, Region, RegisterRequest, RequestStats, SessionGrant, SmsCodeRequest,
    SmsCodeSent, SmsMessage, TokenPair, API_VERSION, SESSION_COOKIE,
};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use axum::{Json, Router};
use rand::RngCore;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::{self, ACCESS_PREFIX, REFRESH_PREFIX};
use crate::error::ApiError;
use crate::http::{self, cookie, set_cookie, ApiJson, ClientIp};
use crate::store::{AccountRecord, RefreshRecord, SessionRecord, SmsRecord};
use crate::{policy, privacy, rights, sync, validate, Platform, SMS_MAX_ATTEMPTS, SMS_RESEND_SECS};

type S = State<Arc<Platform>>;

pub fn router(state: Arc<Platform>) -> Router {
    Router::new()
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/region", get(region))
        .route("/v1/policy", get(current_policy))
        .route("/v1/policy/{version}", get(policy_version))
        .route("/v1/auth/sms-code", post(sms_code))
        .route("/v1/auth/register", post(register))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/account/profile", get(get_profile).patch(patch_profile))
        .route("/v1/account/data", get(privacy::held_data))
        .route("/v1/consents", get(privacy::list_receipts).post(privacy::post_receipt))
        .route("/v1/telemetry/{purpose}", post(privacy::ingest).delete(privacy::delete_purpose_data))
        .route("/v1/receipt-keys", get(rights::receipt_keys))
        .route("/v1/account/data/erase", post(rights::erase))
        .route("/v1/account/cancel", post(rights::cancel))
        .route(
            "/v1/requests",
            get(rights::list_requests)
                .post(rights::submit_request)
                .layer(DefaultBodyLimit::max(crate::MAX_REQUEST_BODY_BYTES)),
        )
        .route("/v1/requests/{id}", get(rights::get_request).delete(rights::delete_request))
        .route("/v1/admin/requests", get(rights::admin_list))
        .route("/v1/admin/requests/{id}/answer", post(rights::admin_answer))
        .route(
            "/v1/items/{kind}/{id}",
            get(sync::get_item)
                .put(sync::put_item)
                .delete(sync::delete_item)
                .layer(DefaultBodyLimit::max(http::ITEM_BODY_LIMIT)),
        )
        // Two segments after /v1/items: no clash with /v1/items/{kind}/{id} (three).
        .route("/v1/items/batch", post(sync::put_items).layer(DefaultBodyLimit::max(http::BATCH_BODY_LIMIT)))
        .route("/v1/changes", get(sync::changes))
        .route("/v1/uploads", post(sync::create_upload))
        .route(
            "/v1/uploads/{id}",
            head(sync::upload_offset)
                .patch(sync::upload_chunk)
                .layer(DefaultBodyLimit::max(awf_platform_api::sync::MAX_UPLOAD_CHUNK_BYTES)),
        )
        .route("/v1/uploads/{id}/content", get(sync::upload_content))
        .route("/v1/dev/sync-stats", get(sync::dev_sync_stats))
        .route("/v1/dev/sms-outbox", get(dev_sms_outbox))
        .route("/v1/dev/stats", get(dev_stats))
        .route("/v1/dev/marketing-recipients", get(privacy::dev_marketing_recipients))
        .route("/v1/dev/policy", post(dev_publish_policy))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::middleware))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(http::panic_response))
        .with_state(state)
}

pub(crate) fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    // Whole seconds: the wire promises RFC 3339, not a precision.
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

// Service information.

async fn capabilities(State(p): S) -> Result<Json<Capabilities>, ApiError> {
    let policy_version = policy::latest(&p.store)?.version;
    Ok(Json(Capabilities {
        api_version: API_VERSION.to_string(),
        server: format!("awf-platform {}", env!("CARGO_PKG_VERSION")),
        region: p.config.region.clone(),
        policy_version,
        features: [
            "auth",
            "profile",
            "cookies",
            "policy",
            "consents",
            "telemetry",
            "data_summary",
            "deletion_receipts",
            "erasure",
            "cancellation",
            "rights_requests",
            "sync",
            "uploads",
            "batch_writes",
        ]
        .map(String::from)
        .to_vec(),
        dev_mode: p.config.dev,
        limits: Limits {
            access_token_ttl_secs: p.config.access_ttl_secs,
            refresh_token_ttl_secs: p.config.refresh_ttl_secs,
            failed_logins_per_minute: crate::FAILED_LOGINS_PER_MINUTE,
            sms_code_ttl_secs: p.config.sms_code_ttl_secs,
        },
    }))
}

async fn region(State(p): S) -> Json<Region> {
    Json(p.config.region.clone())
}

async fn current_policy(State(p): S) -> Result<Json<PolicyDocument>, ApiError> {
    Ok(Json(policy::latest(&p.store)?))
}

/// `GET /v1/policy/{version}`: any published version; 404 for a version that does not exist
/// (or a segment that is not a version number).
async fn policy_version(
    State(p): S,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<PolicyDocument>, ApiError> {
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, PlatformErrorCode::NotFound, "No policy version of that number.");
    let Ok(Path(segment)) = path else { return Err(not_found()) };
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_found());
    }
    let version: u32 = segment.parse().map_err(|_| not_found())?;
    policy::version(&p.store, version)?.map(Json).ok_or_else(not_found)
}

// SMS codes.

async fn sms_code(State(p): S, ApiJson(req): ApiJson<SmsCodeRequest>) -> Result<Response, ApiError> {
    let key = validate::phone_key(&req.phone, "phone")?;
    let now = unix_now();
    if let Some(previous) = p.store.sms(&key)? {
        let elapsed = now.saturating_sub(previous.sent_at).max(0) as u64;
        if elapsed < SMS_RESEND_SECS {
            return Err(ApiError::rate_limited(
                SMS_RESEND_SECS - elapsed,
                "A code was sent to this phone moments ago; wait before asking for another.",
            ));
        }
    }
    let code = auth::new_sms_code();
    let ttl = p.config.sms_code_ttl_secs;
    let record = SmsRecord {
        code_hash: auth::sha256_hex(&format!("{key}:{code}")),
        sent_at: now,
        expires_at: now.saturating_add(ttl as i64),
        attempts: 0,
    };
    p.store.put_sms(&key, &record)?;
    if p.config.dev {
        // The development "gateway": a clear line on stdout and the outbox.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "SMS to {}: your AiWellFlow verification code is {code}", req.phone);
            let _ = out.flush();
        }
        let mut outbox = p.outbox.lock().unwrap_or_else(|e| e.into_inner());
        outbox.push(SmsMessage { phone: req.phone.clone(), code, sent_at: rfc3339(OffsetDateTime::now_utc()) });
    } else {
        eprintln!(
            "awf-platform: no SMS gateway is configured, so a verification code could not be delivered \
             (run with --dev to use the development outbox)"
        );
    }
    let body = SmsCodeSent { expires_in_secs: ttl, resend_after_secs: SMS_RESEND_SECS };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Checks (and on success consumes) the SMS code for a phone.
fn check_sms_code(p: &Platform, key: &str, code: &str) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            PlatformErrorCode::SmsCodeInvalid,
            "The SMS code is wrong; check it or ask for a new one.",
        )
        .with_field("sms_code")
    };
    let Some(mut record) = p.store.sms(key)? else { return Err(invalid()) };
    if unix_now() >= record.expires_at {
        p.store.remove_sms(key)?;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            PlatformErrorCode::SmsCodeExpired,
            "The SMS code has expired; ask for a new one.",
        )
        .with_field("sms_code"));
    }
    if record.attempts >= SMS_MAX_ATTEMPTS {
        p.store.remove_sms(key)?;
        return Err(invalid());
    }
    if auth::sha256_hex(&format!("{key}:{code}")) != record.code_hash {
        record.attempts += 1;
        if record.attempts >= SMS_MAX_ATTEMPTS {
            // Void after five wrong tries: the next attempt needs a new code.
            p.store.remove_sms(key)?;
        } else {
            p.store.put_sms(key, &record)?;
        }
        return Err(invalid());
    }
    p.store.remove_sms(key)?;
    Ok(())
}

// Sessions.

struct Issued {
    grant: SessionGrant,
    cookie: String,
}

fn issue_session(p: &Platform, profile: AccountProfile) -> Result<Issued, ApiError> {
    let access = auth::new_token(ACCESS_PREFIX);
    let refresh = auth::new_token(REFRESH_PREFIX);
    let cookie_value = auth::new_token("awfs_");
    let now = unix_now();
    let access_hash = auth::sha256_hex(&access);
    let session = SessionRecord {
        account_id: profile.account_id.clone(),
        access_expires_at: now.saturating_add(p.config.access_ttl_secs as i64),
        refresh_hash: auth::sha256_hex(&refresh),
        cookie_hash: auth::sha256_hex(&cookie_value),
    };
    let refresh_record = RefreshRecord {
        account_id: profile.account_id.clone(),
        access_hash: access_hash.clone(),
        expires_at: now.saturating_add(p.config.refresh_ttl_secs as i64),
    };
    p.store.put_session(&access_hash, &session, &refresh_record)?;
    let cookie = format!(
        "{SESSION_COOKIE}={cookie_value}; Max-Age={}; Path=/v1; HttpOnly; SameSite=Strict",
        p.config.access_ttl_secs
    );
    let tokens = TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer".into(),
        expires_in_secs: p.config.access_ttl_secs,
        refresh_expires_in_secs: p.config.refresh_ttl_secs,
    };
    Ok(Issued { grant: SessionGrant { account: profile, tokens }, cookie })
}

fn grant_response(status: StatusCode, issued: Issued) -> Response {
    let mut response = (status, Json(issued.grant)).into_response();
    set_cookie(response.headers_mut(), &issued.cookie);
    response
}

/// An authenticated caller: by `Authorization: Bearer awfa_…`, else by the session cookie.
pub struct Authed {
    pub account_id: String,
    access_hash: String,
}

impl FromRequestParts<Arc<Platform>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, p: &Arc<Platform>) -> Result<Self, Self::Rejection> {
        let access_hash = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
                let (scheme, token) = value.trim().split_once(' ').ok_or_else(ApiError::unauthorized)?;
                if !scheme.eq_ignore_ascii_case("bearer") || !token.trim().starts_with(ACCESS_PREFIX) {
                    return Err(ApiError::unauthorized());
                }
                auth::sha256_hex(token.trim())
            }
            None => {
                let value = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(ApiError::unauthorized)?;
                p.store.access_hash_by_cookie(&auth::sha256_hex(&value))?.ok_or_else(ApiError::unauthorized)?
            }
        };
        let session = p.store.session(&access_hash)?.ok_or_else(ApiError::unauthorized)?;
        if unix_now() >= session.access_expires_at {
            return Err(ApiError::token_expired());
        }
        Ok(Authed { account_id: session.account_id, access_hash })
    }
}

// Registration and log-in.

async fn register(State(p): S, ApiJson(req): ApiJson<RegisterRequest>) -> Result<Response, ApiError> {
    validate::account_name(&req.account_name, "account_name")?;
    let phone_key = validate::phone_key(&req.phone, "phone")?;
    validate::password(&req.password)?;
    let now = OffsetDateTime::now_utc();
    let dob = validate::date_of_birth(&req.date_of_birth, now.date())?;
    if !req.sms_code.bytes().all(|b| b.is_ascii_digit()) || req.sms_code.len() != 6 {
        return Err(ApiError::invalid("sms_code", "The SMS code is the 6 digits sent to the phone."));
    }
    let in_force = policy::latest(&p.store)?.version;
    if req.policy_version != in_force {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            PlatformErrorCode::PolicyOutdated,
            format!("Policy version {in_force} is in force: read and accept it first."),
        )
        .with_field("policy_version"));
    }

    // The age gate (§7).
    let band = validate::age_band(validate::age_on(dob, now.date()));
    let guardian = if band == AgeBand::Adult {
        None
    } else {
        let required = || {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                PlatformErrorCode::GuardianRequired,
                "Users under 18 need a guardian's consent: the guardian's name, phone and attestation.",
            )
            .with_field("guardian")
        };
        let g = req.guardian.as_ref().ok_or_else(required)?;
        let name = g.name.trim();
        if name.is_empty()
            || g.name.chars().count() > 64
            || g.name.chars().any(char::is_control)
            || !g.attestation
            || validate::phone_key(&g.phone, "guardian").is_err()
        {
            return Err(required());
        }
        Some(GuardianRecord { name: name.to_string(), phone: g.phone.clone(), consented_at: rfc3339(now) })
    };

    let name_taken = || {
        ApiError::new(StatusCode::CONFLICT, PlatformErrorCode::AccountExists, "This account name is taken.")
            .with_field("account_name")
    };
    let phone_taken = || {
        ApiError::new(StatusCode::CONFLICT, PlatformErrorCode::PhoneInUse, "This phone belongs to another account.")
            .with_field("phone")
    };
    if p.store.account_id_by_name(&req.account_name)?.is_some() {
        return Err(name_taken());
    }
    if p.store.account_id_by_phone(&phone_key)?.is_some() {
        return Err(phone_taken());
    }
    check_sms_code(&p, &phone_key, &req.sms_code)?;

    let password = req.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())?;

    let mut id = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let account_id = format!("acc_{}", hex::encode(id));
    // Claims are atomic: of two concurrent registrations of one name, one gets 409.
    if !p.store.claim_name(&req.account_name, &account_id)? {
        return Err(name_taken());
    }
    if !p.store.claim_phone(&phone_key, &account_id)? {
        p.store.release_name(&req.account_name)?;
        return Err(phone_taken());
    }
    let stamp = rfc3339(now);
    let profile = AccountProfile {
        account_id,
        account_name: req.account_name.clone(),
        phone: req.phone.clone(),
        display_name: None,
        email: None,
        organisation: None,
        date_of_birth: req.date_of_birth.clone(),
        age_band: band,
        sensitive_personal_information: band == AgeBand::Child,
        guardian,
        region: p.config.region.code.clone(),
        policy_version_accepted: req.policy_version,
        created_at: stamp.clone(),
        updated_at: stamp,
    };
    p.store.put_account(&AccountRecord { profile: profile.clone(), password_hash })?;
    let issued = issue_session(&p, profile)?;
    Ok(grant_response(StatusCode::CREATED, issued))
}

async fn login(State(p): S, ClientIp(ip): ClientIp, ApiJson(req): ApiJson<LoginRequest>) -> Result<Response, ApiError> {
    // Keys are bounded so that a huge login string cannot bloat the limiter.
    let login_key: String = req.login.trim().to_lowercase().chars().take(64).collect();
    let keys = [format!("login:{login_key}"), format!("ip:{}", ip.map(|i| i.to_string()).unwrap_or_default())];
    let now = Instant::now();
    if let Some(wait) = keys.iter().filter_map(|k| p.login_failures.blocked(k, now)).max() {
        return Err(ApiError::rate_limited(wait, "Too many failed log-ins; wait before trying again."));
    }

    let login = req.login.trim();
    let account_id = if let Some(id) = p.store.account_id_by_name(login)? {
        Some(id)
    } else if let Ok(key) = validate::phone_key(login, "login") {
        p.store.account_id_by_phone(&key)?
    } else {
        None
    };
    let record = match account_id {
        Some(id) => p.store.account(&id)?,
        None => None,
    };
    // Unknown accounts verify against a dummy hash, so both failures take as long.
    let hash = record.as_ref().map_or_else(|| p.dummy_hash.clone(), |r| r.password_hash.clone());
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(|_| ApiError::internal())?;
    match record {
        Some(record) if ok => {
            let issued = issue_session(&p, record.profile)?;
            Ok(grant_response(StatusCode::OK, issued))
        }
        _ => {
            for k in &keys {
                p.login_failures.record_failure(k, now);
            }
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                PlatformErrorCode::InvalidCredentials,
                "Wrong account or password.",
            ))
        }
    }
}

async fn refresh(State(p): S, ApiJson(req): ApiJson<RefreshRequest>) -> Result<Response, ApiError> {
    if !req.refresh_token.starts_with(REFRESH_PREFIX) {
        return Err(ApiError::unauthorized());
    }
    // Taking the record revokes the refresh token: a second use finds nothing.
    let record = p.store.take_refresh(&auth::sha256_hex(&req.refresh_token))?.ok_or_else(ApiError::unauthorized)?;
    p.store.revoke_session(&record.access_hash)?;
    if unix_now() >= record.expires_at {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            PlatformErrorCode::TokenExpired,
            "The refresh token has expired: sign in again.",
        ));
    }
    let account = p.store.account(&record.account_id)?.ok_or_else(ApiError::unauthorized)?;
    let issued = issue_session(&p, account.profile)?;
    Ok(grant_response(StatusCode::OK, issued))
}

async fn logout(State(p): S, auth: Authed) -> Result<Response, ApiError> {
    p.store.revoke_session(&auth.access_hash)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(response.headers_mut(), &format!("{SESSION_COOKIE}=; Max-Age=0; Path=/v1; HttpOnly; SameSite=Strict"));
    Ok(response)
}

// Profile.

fn account_of(p: &Platform, auth: &Authed) -> Result<AccountRecord, ApiError> {
    p.store.account(&auth.account_id)?.ok_or_else(ApiError::unauthorized)
}

async fn get_profile(State(p): S, auth: Authed) -> Result<Json<AccountProfile>, ApiError> {
    Ok(Json(account_of(&p, &auth)?.profile))
}

async fn patch_profile(
    State(p): S,
    auth: Authed,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<Json<AccountProfile>, ApiError> {
    let mut record = account_of(&p, &auth)?;
    // Validate everything before changing anything.
    let display_name =
        patch.display_name.as_deref().map(|v| validate::optional_text(v, 64, "display_name")).transpose()?;
    let email = patch.email.as_deref().map(validate::email).transpose()?;
    let organisation =
        patch.organisation.as_deref().map(|v| validate::optional_text(v, 128, "organisation")).transpose()?;
    if let Some(name) = &patch.account_name {
        validate::account_name(name, "account_name")?;
        let old = record.profile.account_name.clone();
        if name.to_lowercase() != old.to_lowercase() {
            if !p.store.claim_name(name, &record.profile.account_id)? {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    PlatformErrorCode::AccountExists,
                    "This account name is taken.",
                )
                .with_field("account_name"));
            }
            p.store.release_name(&old)?;
        }
        record.profile.account_name = name.clone();
    }
    if let Some(v) = display_name {
        record.profile.display_name = v;
    }
    if let Some(v) = email {
        record.profile.email = v;
    }
    if let Some(v) = organisation {
        record.profile.organisation = v;
    }
    record.profile.updated_at = rfc3339(OffsetDateTime::now_utc());
    p.store.put_account(&record)?;
    Ok(Json(record.profile))
}

// Development endpoints.

async fn dev_sms_outbox(
    State(p): S,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<SmsMessage>>, ApiError> {
    if !p.config.dev {
        return Err(ApiError::not_found());
    }
    let Query(query) = query.map_err(|_| ApiError::invalid("phone", "The query string is malformed."))?;
    let wanted = query.get("phone").map(|ph| validate::phone_key(ph, "phone").unwrap_or_else(|_| ph.clone()));
    let outbox = p.outbox.lock().unwrap_or_else(|e| e.into_inner());
    let messages = outbox
        .iter()
        .filter(|m| match &wanted {
            None => true,
            Some(w) => validate::phone_key(&m.phone, "phone").is_ok_and(|k| &k == w),
        })
        .cloned()
        .collect();
    Ok(Json(messages))
}

/// Development only: publishes a policy version (the rules are in `policy.rs`).
async fn dev_publish_policy(State(p): S, body: Result<ApiJson<PublishPolicy>, ApiError>) -> Result<Response, ApiError> {
    if !p.config.dev {
        return Err(ApiError::not_found());
    }
    let ApiJson(req) = body?;
    let published_at = rfc3339(OffsetDateTime::from_unix_timestamp(p.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH));
    let document = policy::publish(&p.store, &req, published_at)?;
    Ok((StatusCode::CREATED, Json(document)).into_response())
}

async fn dev_stats(State(p): S, _headers: HeaderMap) -> Result<Json<RequestStats>, ApiError> {
    if !p.config.dev {
        return Err(ApiError::not_found());
    }
    Ok(Json(p.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()))
}
