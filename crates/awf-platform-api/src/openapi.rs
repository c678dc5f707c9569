//! The OpenAPI 3.1 document of the platform API, generated from the contract types.
//!
//! The routes are declared here, on documentation-only functions, so that the document can be
//! produced without the server: the contract crate is the single source of truth, and the
//! reference platform (`awf-platform`) is checked against the committed document by
//! schemathesis (`cargo xtask schemathesis`). What every route shares — the
//! [`PURPOSE_HEADER`](crate::PURPOSE_HEADER) parameter, the 400 answer to an unknown purpose,
//! the 500 answer, and the anonymous-identifier cookie that any response may set — is added by
//! [`CrossCutting`] rather than repeated on each route, so that no route can forget it.
//!
//! `/v1/telemetry/{purpose}` is documented as its four instances (`/v1/telemetry/usage_analytics`,
//! …), one per telemetry purpose, because the ingest requires the purpose header to name the
//! path's purpose: a rule between two parameters that JSON Schema cannot state, but a fixed path
//! with a required header of one value can. Any other purpose segment gets 404 `not_found`.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{Object, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::rights::{MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES, MAX_REQUEST_TEXT_CHARS};
use crate::sync::{BatchAnswer, BatchResult, BatchWrite, BatchWrites, MAX_BATCH_WRITES, MAX_UPLOAD_BYTES};
use crate::{
    AccountProfile, AdminRightsRequest, AdminRightsRequests, AgeBand, AnswerRequest, AttachmentInfo, AttachmentUpload,
    CancelAccount, Capabilities, ConsentReceipt, ConsentReceipts, DeletionReceipt, DeletionScope, ErrorBody,
    GuardianConsent, GuardianRecord, HeldCategory, HeldData, IngestAck, Limits, LoginRequest, NewRightsRequest,
    PlatformErrorCode, PolicyDocument, PolicyPurposeTerms, ProfilePatch, PublishPolicy, Purpose, PurposeDataDeleted,
    ReceiptAck, ReceiptKey, ReceiptKeys, RefreshRequest, Region, RegisterRequest, RequestCategory, RequestStats,
    RequestStatus, RightsRequest, RightsRequests, SessionGrant, SmsCodeRequest, SmsCodeSent, SmsMessage,
    TelemetryBatch, TelemetryEvent, TokenPair, ANONYMOUS_ID_COOKIE, PURPOSE_HEADER, SESSION_COOKIE,
};
use crate::{
    Changes, ItemDeleted, ItemKind, ItemState, ItemWrite, NewUpload, PiiAttestation, SyncConflict, SyncStats,
    UploadState,
};

/// Name of the bearer security scheme (`Authorization: Bearer awfa_…`).
pub const BEARER_SCHEME: &str = "bearer";
/// Name of the operator's security scheme (`Authorization: Bearer awfadmin_…`, the token in the
/// platform's `admin-token` file).
pub const ADMIN_SCHEME: &str = "admin_token";
/// Name of the session-cookie security scheme (the [`SESSION_COOKIE`] cookie).
pub const SESSION_COOKIE_SCHEME: &str = "session_cookie";

/// The purposes whose data `/v1/telemetry/{purpose}` takes (one documented path each).
pub const TELEMETRY_PURPOSES: [Purpose; 4] =
    [Purpose::SecurityDeviceInfo, Purpose::UsageAnalytics, Purpose::CrashReports, Purpose::Research];

/// The OpenAPI document of every `/v1` route.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// [`document`] as pretty JSON with a trailing newline: the exact bytes of the committed
/// `openapi.json`.
pub fn document_json() -> String {
    // Serialising a document built from our own types cannot fail: every map key is a string.
    let mut json = document().to_pretty_json().expect("the OpenAPI document serialises to JSON");
    json.push('\n');
    json
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AiWellFlow platform API",
        version = "1",
        description = "The platform HTTP API that AiWellFlow Studio talks to, version 1. Every request \
            declares its purpose in the `x-awf-purpose` header; every error is an `ErrorBody` with a \
            closed `code`. Times are RFC 3339 in UTC; dates of birth are `YYYY-MM-DD`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "http://127.0.0.1:47800", description = "The reference platform on loopback (default port)")),
    paths(
        routes::get_capabilities,
        routes::get_region,
        routes::get_policy,
        routes::get_policy_version,
        routes::post_sms_code,
        routes::post_register,
        routes::post_login,
        routes::post_refresh,
        routes::post_logout,
        routes::get_profile,
        routes::patch_profile,
        routes::get_account_data,
        routes::post_consent,
        routes::get_consents,
        routes::post_telemetry,
        routes::delete_telemetry,
        routes::get_receipt_keys,
        routes::post_erase,
        routes::post_cancel,
        routes::post_request,
        routes::get_requests,
        routes::get_request,
        routes::delete_request,
        routes::get_admin_requests,
        routes::post_admin_answer,
        routes::get_dev_sms_outbox,
        routes::get_dev_stats,
        routes::get_dev_marketing_recipients,
        routes::post_dev_policy,
        routes::put_item,
        routes::put_items,
        routes::get_item,
        routes::delete_item,
        routes::get_changes,
        routes::post_upload,
        routes::head_upload,
        routes::patch_upload,
        routes::get_upload_content,
        routes::get_dev_sync_stats,
    ),
    components(schemas(
        Purpose, Capabilities, Limits, Region, PolicyDocument, PolicyPurposeTerms, PublishPolicy, SmsCodeRequest, SmsCodeSent, GuardianConsent,
        RegisterRequest, LoginRequest, RefreshRequest, TokenPair, SessionGrant, AgeBand, GuardianRecord,
        AccountProfile, ProfilePatch, ErrorBody, PlatformErrorCode, SmsMessage, RequestStats, ConsentReceipt,
        ReceiptAck, ConsentReceipts, TelemetryEvent, TelemetryBatch, IngestAck, PurposeDataDeleted, HeldCategory,
        HeldData, DeletionScope, DeletionReceipt, ReceiptKey, ReceiptKeys, CancelAccount, RequestCategory,
        RequestStatus, AttachmentUpload, NewRightsRequest, AttachmentInfo, RightsRequest, RightsRequests,
        AnswerRequest, AdminRightsRequest, AdminRightsRequests, ItemKind, PiiAttestation, ItemWrite, ItemState,
        SyncConflict, ItemDeleted, Changes, NewUpload, UploadState, SyncStats, BatchWrite, BatchWrites, BatchResult,
        BatchAnswer,
    )),
    modifiers(&CrossCutting),
    tags(
        (name = "service", description = "Service information: readable before any consent, sends no identifier"),
        (name = "auth", description = "Registration, log-in, token refresh and log-out"),
        (name = "account", description = "The account's profile (view, correct, supplement)"),
        (name = "privacy", description = "Consent receipts, telemetry per purpose (refused without the purpose's consent), deletion of a purpose's data, and what the platform holds"),
        (name = "rights", description = "Data-subject rights (§6): signed deletion receipts, erasure of everything held (the account stays), account cancellation, rights requests and complaints"),
        (name = "sync", description = "Consented sync (developer-data hosting): items with revisions, the change feed, resumable uploads"),
        (name = "admin", description = "The operator's routes, authorised by the platform's admin token (`<data dir>/admin-token`; `awf-platform admin …` uses them)"),
        (name = "dev", description = "Development-only endpoints, served only with `awf-platform --dev` (404 otherwise)"),
    ),
)]
struct ApiDoc;

/// Adds what every operation shares, and the security schemes.
struct CrossCutting;

impl Modify for CrossCutting {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("awfa_…")
                    .description(Some("An access token from register, log-in or refresh."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION_COOKIE_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set by register, log-in and refresh; equivalent to the bearer token.",
            ))),
        );

        components.add_security_scheme(
            ADMIN_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("awfadmin_…")
                    .description(Some(
                        "The operator's token, made at the platform's first start in `<data dir>/admin-token` (0600).",
                    ))
                    .build(),
            ),
        );

        for (schema, property, rule) in CONSTRAINTS {
            constrain(components, schema, property, rule);
        }
        privacy_schemas(components);
        rights_schemas(components);
        sync_schemas(components);

        if let Some(template) = openapi.paths.paths.remove(TELEMETRY_TEMPLATE) {
            for purpose in TELEMETRY_PURPOSES {
                openapi
                    .paths
                    .paths
                    .insert(format!("/v1/telemetry/{}", purpose.as_str()), telemetry_item(&template, purpose));
            }
        }

        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete, &mut item.head]
                .into_iter()
                .flatten()
            {
                add_shared(op);
            }
        }
    }
}

/// A validation rule of the platform, stated in JSON Schema.
struct Rule {
    pattern: Option<&'static str>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    format: Option<&'static str>,
    /// Bounds of an integer.
    range: Option<(usize, usize)>,
}

const fn pattern(p: &'static str) -> Rule {
    Rule { pattern: Some(p), min_length: None, max_length: None, format: None, range: None }
}

const fn length(min: Option<usize>, max: usize) -> Rule {
    Rule { pattern: None, min_length: min, max_length: Some(max), format: None, range: None }
}

/// `YYYY-MM-DDThh:mm:ss` then anything printable (fraction, `Z` or offset): the platform's
/// "RFC 3339-ish" check of a receipt's `at` (with at most 40 characters).
const RFC3339ISH: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// The path whose four instances are documented (see the module documentation).
const TELEMETRY_TEMPLATE: &str = "/v1/telemetry/{purpose}";

/// No control characters but tab, line feed and carriage return.
const TEXT_CONTROLS: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// No C0 or C1 control characters (what Rust's `char::is_control` rejects).
const NO_CONTROLS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// The field rules the platform enforces, so that the document states them (and schemathesis
/// generates data on both sides of them). They live here, not as attributes on the wire types,
/// because they describe the platform's validation rather than the shape of the data; the
/// reference platform's validators (`awf-platform/src/validate.rs`) enforce exactly these.
const CONSTRAINTS: &[(&str, &str, Rule)] = &[
    ("SmsCodeRequest", "phone", pattern("^\\+?[0-9]{6,15}$")),
    ("RegisterRequest", "account_name", pattern("^[A-Za-z0-9_.-]{3,32}$")),
    ("RegisterRequest", "phone", pattern("^\\+?[0-9]{6,15}$")),
    ("RegisterRequest", "password", length(Some(8), 128)),
    ("RegisterRequest", "sms_code", pattern("^[0-9]{6}$")),
    (
        "RegisterRequest",
        "date_of_birth",
        Rule {
            pattern: Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
            min_length: None,
            max_length: None,
            format: Some("date"),
            range: None,
        },
    ),
    ("GuardianConsent", "phone", pattern("^\\+?[0-9]{6,15}$")),
    (
        "GuardianConsent",
        "name",
        Rule { pattern: Some(NO_CONTROLS), min_length: Some(1), max_length: Some(64), format: None, range: None },
    ),
    ("ConsentReceipt", "receipt_id", pattern("^[0-9A-Za-z_-]{1,64}$")),
    (
        "ConsentReceipt",
        "at",
        Rule { pattern: Some(RFC3339ISH), min_length: Some(19), max_length: Some(40), format: None, range: None },
    ),
    (
        "ConsentReceipt",
        "policy_version",
        Rule { pattern: None, min_length: None, max_length: None, format: None, range: Some((0, i32::MAX as usize)) },
    ),
    ("ConsentReceipt", "method", length(Some(1), 32)),
    ("ConsentReceipt", "ledger_hash", pattern("^[0-9a-f]{64}$")),
    (
        "ConsentReceipt",
        "ledger_seq",
        Rule { pattern: None, min_length: None, max_length: None, format: None, range: Some((1, i64::MAX as usize)) },
    ),
    (
        "PublishPolicy",
        "version",
        Rule { pattern: None, min_length: None, max_length: None, format: None, range: Some((1, i32::MAX as usize)) },
    ),
    // At most 256 KiB of UTF-8 (so at most that many characters); more than white space.
    ("PublishPolicy", "zh_cn", length(Some(1), 256 * 1024)),
    ("PublishPolicy", "en", length(Some(1), 256 * 1024)),
    (
        "PolicyPurposeTerms",
        "since_version",
        Rule { pattern: None, min_length: None, max_length: None, format: None, range: Some((1, i32::MAX as usize)) },
    ),
    ("TelemetryEvent", "id", length(Some(1), 64)),
    ("TelemetryEvent", "kind", length(Some(1), 64)),
    ("TelemetryEvent", "at", length(None, 40)),
    ("ProfilePatch", "account_name", pattern("^[A-Za-z0-9_.-]{3,32}$")),
    // Rights requests: 1–5000 characters (also more than white space, which a schema cannot say),
    // no control characters but line breaks and tabs.
    (
        "NewRightsRequest",
        "text",
        Rule {
            pattern: Some(TEXT_CONTROLS),
            min_length: Some(1),
            max_length: Some(MAX_REQUEST_TEXT_CHARS),
            format: None,
            range: None,
        },
    ),
    (
        "AnswerRequest",
        "text",
        Rule { pattern: Some(TEXT_CONTROLS), min_length: Some(1), max_length: Some(5000), format: None, range: None },
    ),
    (
        "AttachmentUpload",
        "name",
        Rule {
            // No path separators or controls, no surrounding spaces; `.` and `..` are refused too.
            pattern: Some("^[^\\s/\\\\\\u0000-\\u001F\\u007F-\\u009F]([^/\\\\\\u0000-\\u001F\\u007F-\\u009F]*[^\\s/\\\\\\u0000-\\u001F\\u007F-\\u009F])?$"),
            min_length: Some(1),
            max_length: Some(128),
            format: None,
            range: None,
        },
    ),
    (
        "AttachmentUpload",
        "media_type",
        pattern("^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}$"),
    ),
    (
        "AttachmentUpload",
        "content_base64",
        Rule {
            pattern: Some("^[A-Za-z0-9+/]*={0,2}$"),
            min_length: None,
            max_length: Some(MAX_ATTACHMENT_BYTES.div_ceil(3) * 4),
            format: None,
            range: None,
        },
    ),
    (
        "ProfilePatch",
        "display_name",
        Rule { pattern: Some(NO_CONTROLS), min_length: None, max_length: Some(64), format: None, range: None },
    ),
    (
        "ProfilePatch",
        "organisation",
        Rule { pattern: Some(NO_CONTROLS), min_length: None, max_length: Some(128), format: None, range: None },
    ),
    (
        "ProfilePatch",
        "email",
        Rule {
            // Empty (clears it), or one `@` between non-empty parts without spaces or controls.
            pattern: Some("^$|^[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+@[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+$"),
            min_length: None,
            max_length: Some(254),
            format: None,
            range: None,
        },
    ),
    // Sync (`awf-platform/src/sync.rs`).
    ("PiiAttestation", "ledger_hash", pattern("^[0-9a-f]{64}$")),
    (
        "PiiAttestation",
        "ledger_seq",
        Rule { pattern: None, min_length: None, max_length: None, format: None, range: Some((1, i64::MAX as usize)) },
    ),
    (
        "PiiAttestation",
        "attested_at",
        Rule { pattern: Some(RFC3339ISH), min_length: Some(19), max_length: Some(40), format: None, range: None },
    ),
    (
        "NewUpload",
        "length",
        Rule { pattern: None, min_length: None, max_length: None, format: None, range: Some((1, MAX_UPLOAD_BYTES as usize)) },
    ),
    ("NewUpload", "sha256", pattern("^[0-9a-f]{64}$")),
    ("NewUpload", "dataset_id", pattern("^[A-Za-z0-9_-]{1,64}$")),
];

/// Pattern of an item id, an upload's dataset id and a sync idempotency key.
pub const SYNC_ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// The rules of the sync bodies that are not plain string or integer bounds.
fn sync_schemas(components: &mut utoipa::openapi::Components) {
    let object = |description: &str, nullable: bool| {
        let mut o = Object::new();
        o.schema_type =
            if nullable { SchemaType::from_iter([Type::Object, Type::Null]) } else { SchemaType::Type(Type::Object) };
        o.description = Some(description.into());
        RefOr::T(Schema::Object(o))
    };
    let Some(RefOr::T(Schema::Object(write))) = components.schemas.get_mut("ItemWrite") else {
        panic!("the OpenAPI document has no object schema ItemWrite");
    };
    write.properties.insert(
        "body".into(),
        object("The item as the client holds it: a JSON object of at most 1 MiB serialised (413 above).", false),
    );
    let mut origin = Object::with_type(SchemaType::from_iter([Type::String, Type::Null]));
    origin.min_length = Some(1);
    origin.max_length = Some(128);
    origin.pattern = Some(NO_CONTROLS.into());
    origin.description = Some("`<device>/<change>`: returned in `ItemState.origin`.".into());
    write.properties.insert("origin".into(), RefOr::T(Schema::Object(origin)));
    let Some(RefOr::T(Schema::Object(state))) = components.schemas.get_mut("ItemState") else {
        panic!("the OpenAPI document has no object schema ItemState");
    };
    state.properties.insert("body".into(), object("The item's body; null on a tombstone.", true));

    // 1 to MAX_BATCH_WRITES writes (else the whole batch is 400). A write's id and key are not
    // constrained here: a malformed one is refused in that write's result, not as a whole.
    let Some(RefOr::T(Schema::Object(batch))) = components.schemas.get_mut("BatchWrites") else {
        panic!("the OpenAPI document has no object schema BatchWrites");
    };
    let Some(RefOr::T(Schema::Array(writes))) = batch.properties.get_mut("writes") else {
        panic!("BatchWrites.writes is not an array");
    };
    writes.min_items = Some(1);
    writes.max_items = Some(MAX_BATCH_WRITES);
}

/// The rules of the rights bodies that are not string bounds (see `awf-platform/src/rights.rs`).
fn rights_schemas(components: &mut utoipa::openapi::Components) {
    let Some(RefOr::T(Schema::Object(request))) = components.schemas.get_mut("NewRightsRequest") else {
        panic!("the OpenAPI document has no object schema NewRightsRequest");
    };
    let Some(RefOr::T(Schema::Array(attachments))) = request.properties.get_mut("attachments") else {
        panic!("NewRightsRequest.attachments is not an array");
    };
    attachments.max_items = Some(MAX_ATTACHMENTS);
}

fn constrain(components: &mut utoipa::openapi::Components, schema: &str, property: &str, rule: &Rule) {
    let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
        panic!("the OpenAPI document has no object schema {schema}");
    };
    let Some(RefOr::T(Schema::Object(field))) = object.properties.get_mut(property) else {
        panic!("schema {schema} has no plain property {property}");
    };
    field.pattern = rule.pattern.map(String::from);
    field.min_length = rule.min_length;
    field.max_length = rule.max_length;
    if let Some(format) = rule.format {
        field.format = Some(SchemaFormat::Custom(format.into()));
    }
    if let Some((min, max)) = rule.range {
        field.minimum = Some(utoipa::Number::UInt(min));
        field.maximum = Some(utoipa::Number::UInt(max));
    }
}

/// The rules of the privacy bodies that are not string or integer bounds.
fn privacy_schemas(components: &mut utoipa::openapi::Components) {
    // A receipt's purpose is any purpose but service information, which needs no consent.
    let Some(RefOr::T(Schema::Object(receipt))) = components.schemas.get_mut("ConsentReceipt") else {
        panic!("the OpenAPI document has no object schema ConsentReceipt");
    };
    let mut purpose = Object::with_type(Type::String);
    purpose.description = Some("Any purpose but `service_information` (which needs no consent).".into());
    purpose.enum_values = Some(
        Purpose::ALL
            .into_iter()
            .filter(|p| *p != Purpose::ServiceInformation)
            .map(|p| serde_json::Value::from(p.as_str()))
            .collect(),
    );
    receipt.properties.insert("purpose".into(), RefOr::T(Schema::Object(purpose.clone())));

    // A policy version's terms, likewise: service information needs no consent, so it has none.
    let Some(RefOr::T(Schema::Object(terms))) = components.schemas.get_mut("PolicyPurposeTerms") else {
        panic!("the OpenAPI document has no object schema PolicyPurposeTerms");
    };
    terms.properties.insert("purpose".into(), RefOr::T(Schema::Object(purpose)));

    // A publication names each purpose at most once (so at most nine) and has at most 50 lines
    // of changes, each 1 to 500 characters without control characters.
    let Some(RefOr::T(Schema::Object(publish))) = components.schemas.get_mut("PublishPolicy") else {
        panic!("the OpenAPI document has no object schema PublishPolicy");
    };
    let Some(RefOr::T(Schema::Array(purposes))) = publish.properties.get_mut("purposes") else {
        panic!("PublishPolicy.purposes is not an array");
    };
    purposes.max_items = Some(Purpose::ALL.len() - 1);
    purposes.unique_items = true;
    let Some(RefOr::T(Schema::Array(changes))) = publish.properties.get_mut("changes") else {
        panic!("PublishPolicy.changes is not an array");
    };
    changes.max_items = Some(50);
    let mut line = Object::with_type(Type::String);
    line.min_length = Some(1);
    line.max_length = Some(500);
    line.pattern = Some(NO_CONTROLS.into());
    changes.items = utoipa::openapi::schema::ArrayItems::RefOrSchema(Box::new(RefOr::T(Schema::Object(line))));

    // 1 to 500 items.
    let Some(RefOr::T(Schema::Object(batch))) = components.schemas.get_mut("TelemetryBatch") else {
        panic!("the OpenAPI document has no object schema TelemetryBatch");
    };
    let Some(RefOr::T(Schema::Array(events))) = batch.properties.get_mut("events") else {
        panic!("TelemetryBatch.events is not an array");
    };
    events.min_items = Some(1);
    events.max_items = Some(500);

    // An item's data is any JSON value (at most 64 KiB serialised: 413 above).
    let Some(RefOr::T(Schema::Object(event))) = components.schemas.get_mut("TelemetryEvent") else {
        panic!("the OpenAPI document has no object schema TelemetryEvent");
    };
    let mut data = Object::new();
    data.schema_type = SchemaType::AnyValue;
    data.description =
        Some("The payload, exactly as previewed to the user: any JSON value of at most 64 KiB serialised.".into());
    event.properties.insert("data".into(), RefOr::T(Schema::Object(data)));
}

/// One instance of `/v1/telemetry/{purpose}`: the path parameter fixed to `purpose`, and for the
/// ingest the purpose header required to name it.
fn telemetry_item(template: &PathItem, purpose: Purpose) -> PathItem {
    let mut item = template.clone();
    let name = purpose.as_str();
    for (op, verb) in [(&mut item.post, "ingest"), (&mut item.delete, "delete")] {
        let Some(op) = op.as_mut() else { continue };
        op.operation_id = Some(format!("{verb}_telemetry_{name}"));
        let params = op.parameters.get_or_insert_with(Vec::new);
        params.retain(|p| p.parameter_in != ParameterIn::Path);
        if verb == "ingest" {
            let mut value = Object::with_type(Type::String);
            value.enum_values = Some(vec![serde_json::Value::from(name)]);
            let header = ParameterBuilder::new()
                .name(PURPOSE_HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(format!(
                    "Must be `{name}`, the path's purpose (else 400 `invalid_input`, `field`: `{PURPOSE_HEADER}`)."
                )))
                .schema(Some(value))
                .build();
            params.insert(0, header);
        }
    }
    item
}

/// The sync operations that carry developer data: they take only
/// `x-awf-purpose: developer_data_hosting`.
const HOSTING_OPERATIONS: [&str; 5] = ["put_item", "put_items", "create_upload", "upload_chunk", "get_upload_content"];

/// The sync operations' header rules (see `awf-platform/src/sync.rs`).
fn sync_params(op: &mut Operation) {
    let hosting = op.operation_id.as_deref().is_some_and(|id| HOSTING_OPERATIONS.contains(&id));
    let params = op.parameters.get_or_insert_with(Vec::new);
    for param in params.iter_mut() {
        let rule = match param.name.as_str() {
            crate::sync::IF_MATCH_HEADER => Some(("^\"?[0-9]{1,19}\"?$", None)),
            crate::sync::IF_NONE_MATCH_HEADER => Some(("", Some("*"))),
            crate::sync::UPLOAD_OFFSET_HEADER => Some(("^[0-9]{1,19}$", None)),
            "range" => Some(("^bytes=[0-9]{1,19}-$", None)),
            _ => None,
        };
        if let Some((pattern, value)) = rule {
            let mut schema = Object::with_type(Type::String);
            if let Some(value) = value {
                schema.enum_values = Some(vec![serde_json::Value::from(value)]);
            } else {
                schema.pattern = Some(pattern.into());
            }
            param.schema = Some(RefOr::T(Schema::Object(schema)));
        }
    }
    if hosting {
        let mut value = Object::with_type(Type::String);
        value.enum_values = Some(vec![serde_json::Value::from(Purpose::DeveloperDataHosting.as_str())]);
        let header = ParameterBuilder::new()
            .name(PURPOSE_HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(format!(
                "Must be `developer_data_hosting` (else 400 `invalid_input`, `field`: `{PURPOSE_HEADER}`)."
            )))
            .schema(Some(value))
            .build();
        params.insert(0, header);
    }
    // An upload's content is raw bytes.
    if op.operation_id.as_deref() == Some("get_upload_content") {
        for response in op.responses.responses.values_mut() {
            if let RefOr::T(response) = response {
                if let Some(content) = response.content.get_mut("application/octet-stream") {
                    let mut bytes = Object::with_type(Type::String);
                    bytes.format = Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary));
                    content.schema = Some(RefOr::T(Schema::Object(bytes)));
                }
            }
        }
    }
    // An upload chunk is raw bytes.
    if op.operation_id.as_deref() == Some("upload_chunk") {
        if let Some(body) = op.request_body.as_mut() {
            let mut bytes = Object::with_type(Type::String);
            bytes.format = Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary));
            bytes.max_length = Some(crate::sync::MAX_UPLOAD_CHUNK_BYTES);
            let content = ContentBuilder::new().schema(Some(RefOr::T(Schema::Object(bytes)))).build();
            body.content.clear();
            // tus's media type, and plain octets (the platform takes both).
            body.content.insert(crate::sync::UPLOAD_CHUNK_TYPE.into(), content.clone());
            body.content.insert("application/octet-stream".into(), content);
        }
    }
}

fn add_shared(op: &mut Operation) {
    sync_params(op);
    let params = op.parameters.get_or_insert_with(Vec::new);
    // An optional header is a string when present (utoipa would say "string or null").
    let key_pattern =
        if op.operation_id.as_deref() == Some("cancel_account") { "^[A-Za-z0-9_-]{16,128}$" } else { SYNC_ID_PATTERN };
    for param in params.iter_mut().filter(|p| p.name == crate::IDEMPOTENCY_HEADER) {
        let mut key = Object::with_type(Type::String);
        key.pattern = Some(key_pattern.into());
        param.schema = Some(RefOr::T(Schema::Object(key)));
    }
    let has_purpose = params.iter().any(|p| p.name == PURPOSE_HEADER && p.parameter_in == ParameterIn::Header);
    let purpose = ParameterBuilder::new()
        .name(PURPOSE_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Why the request is made (a `Purpose` wire name). The platform counts requests by purpose \
             (`none` when absent) and answers 400 `invalid_input` to an unknown one.",
        ))
        .schema(Some(Ref::from_schema_name("Purpose")))
        .build();
    if !has_purpose {
        params.insert(0, purpose);
    }

    let responses = &mut op.responses.responses;
    responses.entry("400".into()).or_insert_with(|| error_response("Unknown `x-awf-purpose` value"));
    responses.entry("500".into()).or_insert_with(|| error_response("The platform failed"));

    // Any response may carry the anonymous-identifier cookie (except to service-information
    // requests, which carry no identifier; see `awf-platform`).
    for response in responses.values_mut() {
        if let RefOr::T(response) = response {
            response.headers.entry("Set-Cookie".into()).or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(Object::with_type(Type::String))
                    .description(Some(format!(
                        "May set `{ANONYMOUS_ID_COOKIE}`, the anonymous identifier, when the request had none \
                         (never for purpose `service_information`); auth responses also set or clear \
                         `{SESSION_COOKIE}`."
                    )))
                    .build()
            });
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build(),
    )
}

/// Documentation-only route functions: the server lives in `awf-platform`.
#[allow(dead_code)]
mod routes {
    use crate::sync::{BatchAnswer, BatchWrites};
    use crate::{
        AccountProfile, Capabilities, ConsentReceipt, ConsentReceipts, ErrorBody, HeldData, IngestAck, LoginRequest,
        PolicyDocument, ProfilePatch, PublishPolicy, PurposeDataDeleted, ReceiptAck, RefreshRequest, Region,
        RegisterRequest, RequestStats, SessionGrant, SmsCodeRequest, SmsCodeSent, SmsMessage, TelemetryBatch,
    };
    use crate::{
        AdminRightsRequests, AnswerRequest, CancelAccount, DeletionReceipt, NewRightsRequest, ReceiptKeys,
        RightsRequest, RightsRequests,
    };
    use crate::{
        Changes, ItemDeleted, ItemKind, ItemState, ItemWrite, NewUpload, SyncConflict, SyncStats, UploadState,
    };

    /// What this platform offers. Read first by every client.
    #[utoipa::path(
        get, path = "/v1/capabilities", tag = "service", operation_id = "get_capabilities",
        responses((status = 200, description = "The platform's capabilities", body = Capabilities)),
    )]
    fn get_capabilities() {}

    /// Where this platform stores personal information (§3.1).
    #[utoipa::path(
        get, path = "/v1/region", tag = "service", operation_id = "get_region",
        responses((status = 200, description = "The storage region", body = Region)),
    )]
    fn get_region() {}

    /// The privacy policy in force (the highest published version), in Chinese and English, with
    /// the purposes it covers and since which version each one's wording is in force. Version 1
    /// is the shipped text; later versions are published by the platform's operator
    /// (`awf-platform publish-policy`, or `POST /v1/dev/policy` in development mode).
    #[utoipa::path(
        get, path = "/v1/policy", tag = "service", operation_id = "get_policy",
        responses((status = 200, description = "The current policy", body = PolicyDocument)),
    )]
    fn get_policy() {}

    /// One version of the privacy policy, current or earlier (to show what changed).
    #[utoipa::path(
        get, path = "/v1/policy/{version}", tag = "service", operation_id = "get_policy_version",
        params(("version" = u32, Path, minimum = 1, description = "A policy version (1 is the first)")),
        responses(
            (status = 200, description = "That version", body = PolicyDocument),
            (status = 404, description = "`not_found`: no such version (or not a version number)", body = ErrorBody),
        ),
    )]
    fn get_policy_version() {}

    /// Sends a 6-digit verification code to a phone, for sign-up. One code per phone per 30 s.
    #[utoipa::path(
        post, path = "/v1/auth/sms-code", tag = "auth", operation_id = "send_sms_code",
        request_body(content = SmsCodeRequest, content_type = "application/json"),
        responses(
            (status = 202, description = "The code was sent", body = SmsCodeSent),
            (status = 400, description = "Malformed body, or an invalid phone (`field`: `phone`), or an unknown purpose", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
            (status = 429, description = "A code was sent to this phone less than 30 s ago", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds until a new code can be requested"))),
        ),
    )]
    fn post_sms_code() {}

    /// Registers an account, confirmed by the SMS code; under 18 needs a guardian's attested
    /// consent, under 14 makes the account's data sensitive personal information (§7).
    #[utoipa::path(
        post, path = "/v1/auth/register", tag = "auth", operation_id = "register",
        request_body(content = RegisterRequest, content_type = "application/json"),
        responses(
            (status = 201, description = "Registered and signed in", body = SessionGrant,
                headers(("Set-Cookie" = String, description = "Sets `awf_session` (HttpOnly, SameSite=Strict, Path=/v1), and `awf_anon` when the request had none"))),
            (status = 400, description = "`invalid_input` (with `field`), `sms_code_invalid`, `sms_code_expired` or `guardian_required`", body = ErrorBody),
            (status = 409, description = "`account_exists`, `phone_in_use` or `policy_outdated`", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn post_register() {}

    /// Logs in with the account name or phone and the password. At most 5 failed log-ins per
    /// minute per login name and per client address; the next attempt gets 429.
    #[utoipa::path(
        post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
        request_body(content = LoginRequest, content_type = "application/json"),
        responses(
            (status = 200, description = "Signed in", body = SessionGrant,
                headers(("Set-Cookie" = String, description = "Sets `awf_session` (HttpOnly, SameSite=Strict, Path=/v1), and `awf_anon` when the request had none"))),
            (status = 400, description = "Malformed body or unknown purpose", body = ErrorBody),
            (status = 401, description = "`invalid_credentials`", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
            (status = 429, description = "`rate_limited`: too many failed log-ins", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds until a log-in can be tried again"))),
        ),
    )]
    fn post_login() {}

    /// Exchanges a refresh token for a new token pair; the old refresh token is revoked.
    #[utoipa::path(
        post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refresh",
        request_body(content = RefreshRequest, content_type = "application/json"),
        responses(
            (status = 200, description = "A new token pair", body = SessionGrant,
                headers(("Set-Cookie" = String, description = "Sets `awf_session` (HttpOnly, SameSite=Strict, Path=/v1)"))),
            (status = 400, description = "Malformed body or unknown purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` (unknown or already used token) or `token_expired`", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn post_refresh() {}

    /// Ends the session: revokes its access and refresh tokens and clears the session cookie.
    #[utoipa::path(
        post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
        security(("bearer" = []), ("session_cookie" = [])),
        responses(
            (status = 204, description = "Logged out",
                headers(("Set-Cookie" = String, description = "Clears `awf_session` (Max-Age=0)"))),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn post_logout() {}

    /// What the platform holds about the account (§6: view).
    #[utoipa::path(
        get, path = "/v1/account/profile", tag = "account", operation_id = "get_profile",
        security(("bearer" = []), ("session_cookie" = [])),
        responses(
            (status = 200, description = "The profile", body = AccountProfile),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn get_profile() {}

    /// Corrects and supplements the profile (§6). Absent fields are unchanged; an empty string
    /// clears `display_name`, `email` or `organisation`.
    #[utoipa::path(
        patch, path = "/v1/account/profile", tag = "account", operation_id = "patch_profile",
        security(("bearer" = []), ("session_cookie" = [])),
        request_body(content = ProfilePatch, content_type = "application/json"),
        responses(
            (status = 200, description = "The updated profile", body = AccountProfile),
            (status = 400, description = "`invalid_input` (with `field`), or unknown purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 409, description = "`account_exists`: the new account name is taken", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn patch_profile() {}

    /// What the platform holds for the account (§3.2, D5): one category each for the account, its
    /// active sessions, its consent receipts and each telemetry purpose (`telemetry:<purpose>`),
    /// with counts and retention. Telemetry is kept 90 days; older items are purged when this is
    /// read and when telemetry arrives.
    #[utoipa::path(
        get, path = "/v1/account/data", tag = "privacy", operation_id = "get_account_data",
        security(("bearer" = []), ("session_cookie" = [])),
        responses(
            (status = 200, description = "The categories held", body = HeldData),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn get_account_data() {}

    /// Stores a receipt of one consent-ledger entry. Idempotent by `receipt_id`: a repeat is
    /// answered 200 with the first acknowledgement (and its content is not changed). The consent
    /// state of a purpose is the `granted` of its receipt with the highest `ledger_seq`;
    /// `account_operation` is granted by registering.
    #[utoipa::path(
        post, path = "/v1/consents", tag = "privacy", operation_id = "post_consent",
        security(("bearer" = []), ("session_cookie" = [])),
        request_body(content = ConsentReceipt, content_type = "application/json"),
        responses(
            (status = 201, description = "Stored", body = ReceiptAck),
            (status = 200, description = "Already stored: the first acknowledgement", body = ReceiptAck),
            (status = 400, description = "`invalid_input` (with `field`), or unknown purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn post_consent() {}

    /// The account's receipts, by ledger position (`ledger_seq`), then arrival.
    #[utoipa::path(
        get, path = "/v1/consents", tag = "privacy", operation_id = "get_consents",
        security(("bearer" = []), ("session_cookie" = [])),
        responses(
            (status = 200, description = "The receipts", body = ConsentReceipts),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn get_consents() {}

    /// Stores a batch of telemetry of this purpose (1–500 items; each item's `data` at most
    /// 64 KiB). Refused with 403 `consent_required`, before the body is read and with nothing
    /// stored, unless the account's latest receipt for the purpose grants it. Items whose `id` is
    /// already held are not stored or counted again. Kept 90 days.
    #[utoipa::path(
        post, path = "/v1/telemetry/{purpose}", tag = "privacy", operation_id = "ingest_telemetry",
        security(("bearer" = []), ("session_cookie" = [])),
        params(("purpose" = String, Path, description = "A telemetry purpose")),
        request_body(content = TelemetryBatch, content_type = "application/json"),
        responses(
            (status = 202, description = "Stored; `accepted` counts the new items", body = IngestAck),
            (status = 400, description = "`invalid_input`: the purpose header is not the path's purpose (`field`: `x-awf-purpose`), or the body breaks a rule (`field` names it)", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 403, description = "`consent_required`: no receipt grants this purpose (none sent, or the latest withdraws it), or the latest grant was given under a policy version older than the purpose's `since_version` in the policy in force (or that policy does not cover the purpose)", body = ErrorBody),
            (status = 413, description = "`payload_too_large`: body over 1 MiB, or an item's `data` over 64 KiB (`field`: `events[i].data`)", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn post_telemetry() {}

    /// Deletes everything the platform holds of this purpose for the account, and says how many
    /// items. Needs no consent (it follows a withdrawal); any purpose header, e.g.
    /// `account_operation`.
    #[utoipa::path(
        delete, path = "/v1/telemetry/{purpose}", tag = "privacy", operation_id = "delete_telemetry",
        security(("bearer" = []), ("session_cookie" = [])),
        params(("purpose" = String, Path, description = "A telemetry purpose")),
        responses(
            (status = 200, description = "Deleted", body = PurposeDataDeleted),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn delete_telemetry() {}

    /// The public keys that verify the platform's deletion receipts (Ed25519), current first.
    /// A receipt names its key by `key_id`; its signature covers the canonical bytes defined in
    /// `awf-platform-api` (`rights.rs`): the line `awf-deletion-receipt/v1`, then `name=<byte
    /// length>:<value>` lines for receipt_id, account_id, scope (and scope_kind, scope_id or
    /// scope_purpose), deleted (the number of categories, then deleted_category and deleted_count
    /// per category in byte order), completed_at and key_id. Needs no authentication.
    #[utoipa::path(
        get, path = "/v1/receipt-keys", tag = "service", operation_id = "get_receipt_keys",
        responses((status = 200, description = "The keys", body = ReceiptKeys)),
    )]
    fn get_receipt_keys() {}

    /// Deletes everything the platform holds for the account but the account (D7): the telemetry
    /// of every purpose and the rights requests with their attachments. Kept: the account, its
    /// sessions (the caller stays signed in) and its consent receipts, which record the consents
    /// the account still runs under (consent must stay demonstrable while its processing goes on;
    /// withdrawing a consent, or cancelling the account, is what ends them). Answers a signed
    /// receipt naming every category covered, with its count (zeros included).
    #[utoipa::path(
        post, path = "/v1/account/data/erase", tag = "rights", operation_id = "erase_account_data",
        security(("bearer" = []), ("session_cookie" = [])),
        responses(
            (status = 200, description = "Deleted; the signed receipt (scope `all_data`)", body = DeletionReceipt),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn post_erase() {}

    /// Cancels the account (§6.1), irreversibly: confirmed by the password and the account name
    /// typed exactly. Deletes the account and every record of it (profile, name and phone,
    /// sessions and tokens, consent receipts, telemetry, rights requests and attachments); its
    /// tokens stop working and log-in answers as for an unknown account. With an
    /// `Idempotency-Key`, the signed receipt is kept for 30 days under the key's SHA-256 (no
    /// other trace of the account is kept: the policy asks for no register of cancellations), and
    /// a retry with the same key gets the same receipt even though the account, and so its
    /// token, is gone. Wrong passwords count like failed log-ins (5 a minute, then 429).
    #[utoipa::path(
        post, path = "/v1/account/cancel", tag = "rights", operation_id = "cancel_account",
        security(("bearer" = []), ("session_cookie" = [])),
        params(("idempotency-key" = Option<String>, Header,
            description = "A client-made unique key (a ULID): a retry with the same key replays the first answer")),
        request_body(content = CancelAccount, content_type = "application/json"),
        responses(
            (status = 200, description = "Cancelled (or a replay): the signed receipt (scope `account`)", body = DeletionReceipt,
                headers(("Set-Cookie" = String, description = "Clears `awf_session` (Max-Age=0)"))),
            (status = 400, description = "Malformed body or unknown purpose", body = ErrorBody),
            (status = 401, description = "`invalid_credentials` (wrong password), `unauthorized` or `token_expired`", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
            (status = 422, description = "`invalid_input`: the account name does not match (`field`: `account_name`), or a malformed idempotency key (`field`: `idempotency-key`)", body = ErrorBody),
            (status = 429, description = "`rate_limited`: too many wrong passwords", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds until the password can be tried again"))),
        ),
    )]
    fn post_cancel() {}

    /// Files a rights request or complaint (D9, §6.3) with 0–5 attachments of at most 2 MiB each
    /// (decoded); the body may be up to 15 MiB. Kept until the account erases its data or is
    /// cancelled.
    #[utoipa::path(
        post, path = "/v1/requests", tag = "rights", operation_id = "submit_request",
        security(("bearer" = []), ("session_cookie" = [])),
        request_body(content = NewRightsRequest, content_type = "application/json"),
        responses(
            (status = 201, description = "Filed (status `open`)", body = RightsRequest),
            (status = 400, description = "Malformed body (a missing or mistyped field) or unknown purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 413, description = "Body over 15 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
            (status = 422, description = "`invalid_input` naming the field: `category`, `text` (blank, over 5000 characters, control characters), `attachments` (more than 5), `attachments[i].name`, `attachments[i].media_type` or `attachments[i].content_base64` (not base64, or over 2 MiB decoded)", body = ErrorBody),
        ),
    )]
    fn post_request() {}

    /// The account's rights requests, oldest first, with their status and answers.
    #[utoipa::path(
        get, path = "/v1/requests", tag = "rights", operation_id = "get_requests",
        security(("bearer" = []), ("session_cookie" = [])),
        responses(
            (status = 200, description = "The requests", body = RightsRequests),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn get_requests() {}

    /// One of the account's rights requests (another account's is `not_found` alike).
    #[utoipa::path(
        get, path = "/v1/requests/{id}", tag = "rights", operation_id = "get_request",
        security(("bearer" = []), ("session_cookie" = [])),
        params(("id" = String, Path, description = "The request's id (`req_…`)")),
        responses(
            (status = 200, description = "The request", body = RightsRequest),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 404, description = "`not_found`: no request of this account has that id", body = ErrorBody),
        ),
    )]
    fn get_request() {}

    /// Deletes one of the account's rights requests with its attachments (D7: a single item):
    /// a signed receipt of scope `item` (`kind` `rights_request`, `id` the request's).
    #[utoipa::path(
        delete, path = "/v1/requests/{id}", tag = "rights", operation_id = "delete_request",
        security(("bearer" = []), ("session_cookie" = [])),
        params(("id" = String, Path, description = "The request's id (`req_…`)")),
        responses(
            (status = 200, description = "Deleted; the signed receipt", body = DeletionReceipt),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 404, description = "`not_found`: no request of this account has that id", body = ErrorBody),
        ),
    )]
    fn delete_request() {}

    /// The operator: every account's rights requests, oldest first.
    #[utoipa::path(
        get, path = "/v1/admin/requests", tag = "admin", operation_id = "get_admin_requests",
        security(("admin_token" = [])),
        responses(
            (status = 200, description = "The requests with their accounts", body = AdminRightsRequests),
            (status = 401, description = "`unauthorized`: not the admin token", body = ErrorBody),
        ),
    )]
    fn get_admin_requests() {}

    /// The operator answers a request: status `answered`, or `closed` with `close` (a closed
    /// request stays closed when answered again).
    #[utoipa::path(
        post, path = "/v1/admin/requests/{id}/answer", tag = "admin", operation_id = "answer_request",
        security(("admin_token" = [])),
        params(("id" = String, Path, description = "The request's id (`req_…`)")),
        request_body(content = AnswerRequest, content_type = "application/json"),
        responses(
            (status = 200, description = "The request as answered", body = RightsRequest),
            (status = 400, description = "Malformed body or unknown purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized`: not the admin token", body = ErrorBody),
            (status = 404, description = "`not_found`: no request has that id", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
            (status = 422, description = "`invalid_input`: the answer is blank, over 5000 characters or has control characters (`field`: `text`)", body = ErrorBody),
        ),
    )]
    fn post_admin_answer() {}

    /// Development only: the SMS messages the platform "sent", oldest first.
    #[utoipa::path(
        get, path = "/v1/dev/sms-outbox", tag = "dev", operation_id = "get_dev_sms_outbox",
        params(("phone" = Option<String>, Query, description = "Only the messages to this phone")),
        responses(
            (status = 200, description = "The messages, newest last", body = Vec<SmsMessage>),
            (status = 404, description = "`not_found`: the platform is not in development mode", body = ErrorBody),
        ),
    )]
    fn get_dev_sms_outbox() {}

    /// Development only: requests received, by purpose and by route (requests to `/v1/dev/…`
    /// are not counted).
    #[utoipa::path(
        get, path = "/v1/dev/stats", tag = "dev", operation_id = "get_dev_stats",
        responses(
            (status = 200, description = "The counts", body = RequestStats),
            (status = 404, description = "`not_found`: the platform is not in development mode", body = ErrorBody),
        ),
    )]
    fn get_dev_stats() {}

    /// Development only: the ids of the accounts whose marketing consent state is granted (the
    /// list an SMS campaign would use), so that tests can show an opt-out is reflected (D11).
    #[utoipa::path(
        get, path = "/v1/dev/marketing-recipients", tag = "dev", operation_id = "get_dev_marketing_recipients",
        responses(
            (status = 200, description = "Account ids, sorted", body = Vec<String>),
            (status = 404, description = "`not_found`: the platform is not in development mode", body = ErrorBody),
        ),
    )]
    fn get_dev_marketing_recipients() {}

    /// Development only: publishes a new policy version, in force at once (published now).
    /// `version` is exactly the version in force plus one (else 400 `invalid_input`, `field`
    /// `version`); the texts hold more than white space, at most 256 KiB of UTF-8 each; each
    /// purpose at most once, never `service_information`, `since_version` from 1 to `version`,
    /// not lower than in the previous version, and equal to `version` for a purpose the previous
    /// version did not cover; `changes` at most 50 lines of 1 to 500 characters. Outside
    /// development mode, `awf-platform publish-policy` publishes into a stopped platform's store.
    #[utoipa::path(
        post, path = "/v1/dev/policy", tag = "dev", operation_id = "post_dev_policy",
        request_body(content = PublishPolicy, content_type = "application/json"),
        responses(
            (status = 201, description = "Published: the new version in force", body = PolicyDocument),
            (status = 400, description = "`invalid_input` (with `field`: `version`, `zh_cn`, `en`, `purposes[i].purpose`, `purposes[i].since_version`, `changes` or `changes[i]`), or unknown purpose", body = ErrorBody),
            (status = 404, description = "`not_found`: the platform is not in development mode", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn post_dev_policy() {}

    // Consented sync.

    /// Writes an item (an agent, a plugin without its secrets, a dataset or a table) of the
    /// account, giving it the next revision and the account's next change-feed cursor. The
    /// revision the write expects is `If-Match: "<revision>"` (`"0"`: the item must not exist)
    /// or `If-None-Match: *`: without either, 428 `revision_required`; with another revision than
    /// the current one, 412 and the current state (a conflict for the user, never an
    /// overwrite). A tombstone is written over with its revision. With an `Idempotency-Key`, a
    /// retry gets the first (successful) answer again, for 30 days, without a second write; the
    /// key with another request is 422 `idempotency_key_reused`. Needs the account's
    /// `developer_data_hosting` consent, and `cross_border_transfer` too when this platform's
    /// region is not the account's (403 `consent_required`, checked before the body). An item
    /// with `pii_findings > 0` needs an `attestation` covering at least that many findings (422
    /// `attestation_required`); it is stored with the revision.
    #[utoipa::path(
        put, path = "/v1/items/{kind}/{id}", tag = "sync", operation_id = "put_item",
        security(("bearer" = []), ("session_cookie" = [])),
        params(
            ("kind" = ItemKind, Path, description = "agent, plugin, dataset or table (else 404)"),
            ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "The client's id of the item (a ULID; else 404)"),
            ("if-match" = Option<String>, Header, description = "The revision the write expects, e.g. `\"3\"` (`\"0\"`: must not exist)"),
            ("if-none-match" = Option<String>, Header, description = "`*`: the item must not exist (instead of If-Match; both: 400)"),
            ("idempotency-key" = Option<String>, Header, description = "One key per change (1–64 of A–Z a–z 0–9 _ -): a retry replays the first answer"),
        ),
        request_body(content = ItemWrite, content_type = "application/json"),
        responses(
            (status = 200, description = "Written (or a replay): the new state", body = ItemState),
            (status = 201, description = "Created (revision 1), or a replay of that", body = ItemState),
            (status = 400, description = "`invalid_input`: malformed body, headers or purpose (`field` names it)", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 403, description = "`consent_required`: no granted receipt for `developer_data_hosting` (or, across regions, `cross_border_transfer`)", body = ErrorBody),
            (status = 404, description = "`not_found`: unknown kind or malformed id", body = ErrorBody),
            (status = 412, description = "The expected revision is not the current one", body = SyncConflict),
            (status = 413, description = "`payload_too_large`: the item's body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
            (status = 422, description = "`attestation_required` or `idempotency_key_reused`", body = ErrorBody),
            (status = 428, description = "`revision_required`: neither If-Match nor If-None-Match", body = ErrorBody),
        ),
    )]
    fn put_item() {}

    /// Many item writes in one request (up to 200, at most 4 MiB of JSON): each is what a `PUT
    /// /v1/items/{kind}/{id}` would carry (kind, id, the expected revision, a required
    /// idempotency key and the body), applied in order on its own terms and made durable with
    /// one flush. The answer holds one result per write, in order, with the status and body its
    /// `PUT` would have had: 201/200 and the item (`replayed` when its key already answered, by
    /// either route), 412 and the conflict, or a refusal's status and `ErrorBody` (404
    /// `not_found` for a malformed id, 400 `invalid_input` for a malformed key, 413, 422
    /// `attestation_required` or `idempotency_key_reused`; `field` names the write's field:
    /// `id`, `idempotency_key`, `write.body`, …); a refused or conflicting write does not stop
    /// the others. Sign-in, the purpose, the consents (as for `PUT`) and the number of writes
    /// (1 to 200) are checked once, for the whole request.
    #[utoipa::path(
        post, path = "/v1/items/batch", tag = "sync", operation_id = "put_items",
        security(("bearer" = []), ("session_cookie" = [])),
        request_body(content = BatchWrites, content_type = "application/json"),
        responses(
            (status = 200, description = "One result per write, in order", body = BatchAnswer),
            (status = 400, description = "`invalid_input`: malformed body, no write or more than 200 (`field`: `writes`), or purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 403, description = "`consent_required`: no granted receipt for `developer_data_hosting` (or, across regions, `cross_border_transfer`)", body = ErrorBody),
            (status = 413, description = "`payload_too_large`: the body over 4 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn put_items() {}

    /// An item of the account as the platform holds it (a tombstone when deleted).
    #[utoipa::path(
        get, path = "/v1/items/{kind}/{id}", tag = "sync", operation_id = "get_item",
        security(("bearer" = []), ("session_cookie" = [])),
        params(
            ("kind" = ItemKind, Path, description = "agent, plugin, dataset or table (else 404)"),
            ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "The item's id (else 404)"),
        ),
        responses(
            (status = 200, description = "The item", body = ItemState),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 404, description = "`not_found`: the account has no such item", body = ErrorBody),
        ),
    )]
    fn get_item() {}

    /// Deletes an item, expecting a revision as a `PUT` does (428 without, 412 when stale): the
    /// item becomes a tombstone with the next revision, in the change feed for the other
    /// devices, and the answer holds a signed receipt of scope `item` (a dataset's uploads are
    /// deleted with it). Needs no consent beyond the account's (it removes data). Idempotency
    /// keys as for `PUT`.
    #[utoipa::path(
        delete, path = "/v1/items/{kind}/{id}", tag = "sync", operation_id = "delete_item",
        security(("bearer" = []), ("session_cookie" = [])),
        params(
            ("kind" = ItemKind, Path, description = "agent, plugin, dataset or table (else 404)"),
            ("id" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "The item's id (else 404)"),
            ("if-match" = Option<String>, Header, description = "The revision being deleted, e.g. `\"3\"`"),
            ("if-none-match" = Option<String>, Header, description = "`*` (an item that must not exist: answers 404)"),
            ("idempotency-key" = Option<String>, Header, description = "A retry with the same key replays the first answer"),
        ),
        responses(
            (status = 200, description = "Deleted (or a replay): the tombstone and the receipt", body = ItemDeleted),
            (status = 400, description = "`invalid_input`: malformed headers, or unknown purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 404, description = "`not_found`: no such item, or already deleted", body = ErrorBody),
            (status = 412, description = "The expected revision is not the current one", body = SyncConflict),
            (status = 422, description = "`idempotency_key_reused`", body = ErrorBody),
            (status = 428, description = "`revision_required`", body = ErrorBody),
        ),
    )]
    fn delete_item() {}

    /// The change feed: the latest state of every item of the account changed after cursor
    /// `after`, oldest change first; an item changed several times appears once, at its latest
    /// cursor. Ask again with `after = next` while `more`.
    #[utoipa::path(
        get, path = "/v1/changes", tag = "sync", operation_id = "get_changes",
        security(("bearer" = []), ("session_cookie" = [])),
        params(
            ("after" = Option<u64>, Query, maximum = 9223372036854775807_u64, description = "A cursor (default 0: from the start)"),
            ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "At most this many changes (default 500)"),
        ),
        responses(
            (status = 200, description = "A page of changes", body = Changes),
            (status = 400, description = "`invalid_input`: `after` or `limit` out of range (`field` names it)", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
        ),
    )]
    fn get_changes() {}

    /// Opens a resumable upload of a dataset's bytes: its length (1 byte to 1 GiB) and SHA-256.
    /// Needs the consents a `PUT` needs.
    #[utoipa::path(
        post, path = "/v1/uploads", tag = "sync", operation_id = "create_upload",
        security(("bearer" = []), ("session_cookie" = [])),
        request_body(content = NewUpload, content_type = "application/json"),
        responses(
            (status = 201, description = "Opened at offset 0", body = UploadState,
                headers(("Upload-Offset" = u64, description = "0"), ("Upload-Length" = u64, description = "The length"))),
            (status = 400, description = "`invalid_input` (`field` names it) or a wrong purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 403, description = "`consent_required`", body = ErrorBody),
            (status = 413, description = "Body over 1 MiB", body = ErrorBody),
            (status = 415, description = "Body is not `application/json` (code `invalid_input`)", body = ErrorBody),
        ),
    )]
    fn post_upload() {}

    /// The upload's offset (the bytes the platform holds), to resume from; no body.
    #[utoipa::path(
        head, path = "/v1/uploads/{id}", tag = "sync", operation_id = "get_upload_offset",
        security(("bearer" = []), ("session_cookie" = [])),
        params(("id" = String, Path, pattern = "^upl_[0-9a-f]{32}$", description = "The upload's id")),
        responses(
            (status = 200, description = "The offset, in the header",
                headers(("Upload-Offset" = u64, description = "Bytes held"), ("Upload-Length" = u64, description = "The length"))),
            (status = 401, description = "`unauthorized` or `token_expired` (no body)"),
            (status = 404, description = "No such upload of this account (no body)"),
        ),
    )]
    fn head_upload() {}

    /// Appends one chunk (at most 8 MiB) at exactly the upload's offset (`Upload-Offset`; 409
    /// `upload_offset_mismatch` with the current offset in the header otherwise). Each chunk is
    /// on disk before the answer. When the last byte arrives the SHA-256 is checked: 422
    /// `digest_mismatch` and the upload is discarded when it differs.
    #[utoipa::path(
        patch, path = "/v1/uploads/{id}", tag = "sync", operation_id = "upload_chunk",
        security(("bearer" = []), ("session_cookie" = [])),
        params(
            ("id" = String, Path, pattern = "^upl_[0-9a-f]{32}$", description = "The upload's id"),
            ("upload-offset" = String, Header, description = "The offset of the chunk's first byte"),
        ),
        request_body(content = String, content_type = "application/offset+octet-stream"),
        responses(
            (status = 200, description = "Appended: the new offset (`complete` when all arrived and matched)", body = UploadState,
                headers(("Upload-Offset" = u64, description = "Bytes held"), ("Upload-Length" = u64, description = "The length"))),
            (status = 400, description = "`invalid_input`: a malformed Upload-Offset, a chunk past the length, or a wrong purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 403, description = "`consent_required`", body = ErrorBody),
            (status = 404, description = "`not_found`: no such upload of this account", body = ErrorBody),
            (status = 409, description = "`upload_offset_mismatch`", body = ErrorBody,
                headers(("Upload-Offset" = u64, description = "The upload's offset: resume there"))),
            (status = 413, description = "`payload_too_large`: a chunk over 8 MiB", body = ErrorBody),
            (status = 415, description = "Not `application/offset+octet-stream` (code `invalid_input`)", body = ErrorBody),
            (status = 422, description = "`digest_mismatch`: the upload was discarded", body = ErrorBody),
        ),
    )]
    fn patch_upload() {}

    /// The content of a finished upload of this account (its SHA-256 checked when the last
    /// byte arrived), decrypted as it streams: another device pulls a dataset's text with it.
    /// `Range: bytes=<start>-` resumes from a byte.
    #[utoipa::path(
        get, path = "/v1/uploads/{id}/content", tag = "sync", operation_id = "get_upload_content",
        security(("bearer" = []), ("session_cookie" = [])),
        params(
            ("id" = String, Path, pattern = "^upl_[0-9a-f]{32}$", description = "The upload's id"),
            ("range" = Option<String>, Header, description = "`bytes=<start>-`: from that byte to the end"),
        ),
        responses(
            (status = 200, description = "The whole content", content_type = "application/octet-stream", body = String,
                headers(("Upload-Sha256" = String, description = "The content's SHA-256 (hex)"), ("Content-Length" = u64, description = "The length"))),
            (status = 206, description = "From the `Range` start to the end", content_type = "application/octet-stream", body = String,
                headers(("Upload-Sha256" = String, description = "The whole content's SHA-256 (hex)"), ("Content-Range" = String, description = "`bytes <start>-<end>/<length>`"))),
            (status = 400, description = "`invalid_input`: a wrong purpose", body = ErrorBody),
            (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
            (status = 403, description = "`consent_required`", body = ErrorBody),
            (status = 404, description = "`not_found`: no such upload of this account", body = ErrorBody),
            (status = 409, description = "`upload_incomplete`: not all bytes arrived yet", body = ErrorBody),
            (status = 416, description = "`invalid_input`: a `Range` this server does not serve (not `bytes=<start>-`, or past the end)", body = ErrorBody),
        ),
    )]
    fn get_upload_content() {}

    /// Development only: sync counts on the platform (writes applied, replays, conflicts, items,
    /// tombstones, upload bytes), so that tests can prove no change was lost or applied twice.
    #[utoipa::path(
        get, path = "/v1/dev/sync-stats", tag = "dev", operation_id = "get_dev_sync_stats",
        responses(
            (status = 200, description = "The counts", body = SyncStats),
            (status = 404, description = "`not_found`: the platform is not in development mode", body = ErrorBody),
        ),
    )]
    fn get_dev_sync_stats() {}
}
