// Generated from crates/awf-api by `cargo xtask codegen`. Do not edit by hand.
/* eslint-disable */

/**
 * Every error a command can return. Closed: adding a code is an API change.
 */
export type ErrorCode = "unknown_command" | "bad_request" | "unauthorized" | "not_found" | "invalid_input" | "too_large" | "conflict" | "profile_locked" | "profile_not_open" | "keyring_unavailable" | "key_missing" | "passphrase_required" | "wrong_passphrase" | "schema_too_new" | "store_corrupt" | "read_only" | "disk_full" | "io" | "internal" | "consent_required" | "insecure_address" | "platform_unreachable" | "platform_error" | "bad_response" | "not_signed_in" | "invalid_credentials" | "rate_limited" | "account_exists" | "phone_in_use" | "sms_code_invalid" | "sms_code_expired" | "guardian_required" | "policy_outdated" | "invalid_file" | "account_locked";

/**
 * An error as every front end receives it.
 */
export type ApiError = { code: ErrorCode, 
/**
 * What happened, in a sentence.
 */
message: string, 
/**
 * What to do about it.
 */
hint: string | null, 
/**
 * The input field at fault, as a path (`model.temperature`, `variables[2].name`).
 */
field: string | null, 
/**
 * With `rate_limited`: seconds until a retry can succeed.
 */
retry_after_secs?: number, };

/**
 * Whether the profile is open, and if not, why.
 */
export type AppStatus = { ready: boolean, data_dir: string, 
/**
 * How the store key is held, once the profile is open.
 */
key_mode: KeyMode | null, 
/**
 * Whether a profile already exists in the data directory.
 */
profile_exists: boolean, 
/**
 * Why the profile is not open (`passphrase_required`, `keyring_unavailable`, `profile_locked`, …).
 */
error: ApiError | null, app_version: string, schema_version: number, };

/**
 * How the data key of a profile is protected.
 */
export type KeyMode = "keyring" | "passphrase";

/**
 * Opens a passphrase-protected profile, or creates a new profile protected by this passphrase.
 */
export type UnlockRequest = { passphrase: string, };

/**
 * Names one agent.
 */
export type AgentRef = { id: string, };

/**
 * Names one revision of an agent's instructions.
 */
export type RevisionRef = { id: string, seq: number, };

/**
 * Saves an edited agent. `expected_version` guards against overwriting a newer save.
 */
export type UpdateAgentRequest = { id: string, draft: AgentDraft, expected_version: number | null, };

/**
 * Diff from revision `from` to revision `to`, or to the current instructions when `to` is null.
 */
export type DiffRequest = { id: string, from: number, to: number | null, };

/**
 * Archives or unarchives an agent.
 */
export type ArchiveRequest = { id: string, archived: boolean, };

/**
 * Which agents to list.
 */
export type ListQuery = { 
/**
 * Case-insensitive text matched against name and description.
 */
filter: string, include_archived: boolean, };

/**
 * A stored agent.
 */
export type Agent = { id: string, archived: boolean, created_at: string, updated_at: string, 
/**
 * Increases by one with every saved change; used to detect concurrent edits.
 */
version: number, 
/**
 * Sequence number of the latest instruction revision.
 */
latest_revision: number, name: string, description: string, 
/**
 * An emoji or a short glyph shown in the list.
 */
icon: string, instructions: string, opening_message: string, suggested_questions: Array<string>, model: ModelSettings, variables: Array<Variable>, plugin_ids: Array<string>, dataset_ids: Array<string>, };

/**
 * Everything a developer edits on an agent.
 */
export type AgentDraft = { name: string, description: string, 
/**
 * An emoji or a short glyph shown in the list.
 */
icon: string, instructions: string, opening_message: string, suggested_questions: Array<string>, model: ModelSettings, variables: Array<Variable>, plugin_ids: Array<string>, dataset_ids: Array<string>, };

/**
 * What the agent list shows.
 */
export type AgentSummary = { id: string, name: string, description: string, icon: string, archived: boolean, updated_at: string, version: number, };

/**
 * Model settings of an agent.
 */
export type ModelSettings = { model: string, temperature: number, top_p: number, max_tokens: number, response_format: ResponseFormat, };

/**
 * How the model should shape its answers.
 */
export type ResponseFormat = "text" | "markdown" | "json";

/**
 * A variable the instructions can reference as `{{name}}`.
 */
export type Variable = { name: string, description: string, default_value: string, required: boolean, };

/**
 * One saved state of an agent's instructions.
 */
export type Revision = { seq: number, instructions: string, created_at: string, 
/**
 * Set when this revision was made by restoring an older one.
 */
restored_from: number | null, };

/**
 * A revision as the history list shows it.
 */
export type RevisionSummary = { seq: number, created_at: string, chars: number, first_line: string, restored_from: number | null, };

/**
 * One line of a diff.
 */
export type DiffLine = { kind: DiffKind, text: string, };

/**
 * Whether a line is kept, added or removed going from the old text to the new.
 */
export type DiffKind = "equal" | "insert" | "delete";

/**
 * Connectivity and session, for the offline indicator and the account screen.
 */
export type PlatformStatus = { platform_url: string, 
/**
 * The platform answered the last request.
 */
online: boolean, last_checked: string | null, 
/**
 * Why the last request got no answer.
 */
last_error: string | null, 
/**
 * From the last successful capabilities check.
 */
platform: PlatformInfo | null, 
/**
 * Tokens are held for this profile.
 */
signed_in: boolean, 
/**
 * The account as last fetched (shown offline too).
 */
account: AccountProfile | null, 
/**
 * The privacy policy has been accepted (the account-operation purpose is granted).
 */
policy_accepted: boolean, };

/**
 * What the app knows of the platform it talks to.
 */
export type PlatformInfo = { server: string, api_version: string, region: Region, policy_version: number, dev_mode: boolean, };

/**
 * The privacy policy as shipped with the app.
 */
export type PolicyText = { version: number, zh_cn: string, en: string, };

/**
 * "I have read and accept the privacy policy".
 */
export type AcceptPolicyRequest = { policy_version: number, 
/**
 * Where it was accepted (default: the sign-up form).
 */
method: ConsentMethod | null, };

/**
 * A phone to send a sign-up code to.
 */
export type PhoneRequest = { phone: string, };

/**
 * The sign-up form.
 */
export type RegisterForm = { account_name: string, phone: string, password: string, sms_code: string, 
/**
 * `YYYY-MM-DD`.
 */
date_of_birth: string, 
/**
 * Required under 18.
 */
guardian: GuardianConsent | null, };

/**
 * The log-in form.
 */
export type LoginForm = { 
/**
 * Account name or phone.
 */
login: string, password: string, };

/**
 * The settings screen.
 */
export type SettingsView = { 
/**
 * The platform address in use.
 */
platform_url: string, 
/**
 * Whether the user chose it (else it is the default).
 */
custom_platform_url: boolean, default_platform_url: string, };

/**
 * Sets the platform address; `null` or empty restores the default.
 */
export type SetPlatformUrl = { url: string | null, };

/**
 * The current state of one purpose.
 */
export type ConsentRecord = { purpose: Purpose, granted: boolean, 
/**
 * When it was last changed.
 */
at: string, 
/**
 * The policy version in force when it was given or withdrawn.
 */
policy_version: number, method: ConsentMethod, };

/**
 * How a consent was given or withdrawn.
 */
export type ConsentMethod = "sign_up_form" | "log_in_form" | "consent_centre" | "cli" | "pii_attestation";

/**
 * Why a request is made. Closed: every request Studio sends declares one, and the egress gate
 * refuses a request whose purpose lacks the user's consent (see the privacy policy clause noted
 * on each variant).
 */
export type Purpose = "service_information" | "account_operation" | "security_device_info" | "usage_analytics" | "crash_reports" | "marketing" | "research" | "developer_data_hosting" | "cross_border_transfer" | "third_party_sharing";

/**
 * One request as the log keeps it.
 */
export type TransmissionRecord = { seq: number, 
/**
 * When the request was made.
 */
at: string, method: string, 
/**
 * Path on the platform, e.g. `/v1/auth/login`.
 */
path: string, 
/**
 * The platform address it went (or would have gone) to.
 */
host: string, purpose: Purpose, outcome: Outcome, 
/**
 * HTTP status, when an answer came.
 */
status: number | null, 
/**
 * Bytes sent: request line, headers and body.
 */
bytes_up: number, 
/**
 * Bytes received: status line, headers and body.
 */
bytes_down: number, 
/**
 * The request body with secrets replaced by `<redacted>`, cut to a few hundred characters.
 */
preview: string, 
/**
 * Why it was refused or failed, or the platform's error code.
 */
error: string | null, };

/**
 * Which records to list.
 */
export type LogQuery = { purpose: Purpose | null, outcome: Outcome | null, 
/**
 * Only records at or after this RFC 3339 time.
 */
since: string | null, 
/**
 * Only records with a sequence number below this (paging).
 */
before_seq: number | null, 
/**
 * At most this many (default 200, at most 5,000).
 */
limit: number | null, };

/**
 * What became of a request.
 */
export type Outcome = "sent" | "refused" | "failed";

/**
 * `GET /v1/account/profile`: what the platform holds about the account (§6: view).
 */
export type AccountProfile = { account_id: string, account_name: string, phone: string, display_name: string | null, email: string | null, organisation: string | null, date_of_birth: string, age_band: AgeBand, 
/**
 * True for a child under 14: the account's data is handled as sensitive personal information.
 */
sensitive_personal_information: boolean, guardian: GuardianRecord | null, 
/**
 * Region code where the account's data is stored.
 */
region: string, policy_version_accepted: number, 
/**
 * RFC 3339.
 */
created_at: string, 
/**
 * RFC 3339.
 */
updated_at: string, };

/**
 * Age band derived from the date of birth (§7).
 */
export type AgeBand = "adult" | "minor" | "child";

/**
 * A guardian's consent for a user under 18 (§7).
 */
export type GuardianConsent = { name: string, phone: string, 
/**
 * The guardian attests that they are the user's guardian and consent to the policy.
 */
attestation: boolean, };

/**
 * The guardian recorded for a minor (no attestation flag: it was required to register).
 */
export type GuardianRecord = { name: string, phone: string, 
/**
 * RFC 3339: when the guardian's consent was given.
 */
consented_at: string, };

/**
 * `PATCH /v1/account/profile` (§6: correct and supplement). Absent fields are left as they are;
 * an empty string clears an optional field.
 */
export type ProfilePatch = { 
/**
 * 3–32 characters, as at registration; unique.
 */
account_name?: string | null, 
/**
 * Up to 64 characters.
 */
display_name?: string | null, 
/**
 * An address with one `@`, up to 254 characters.
 */
email?: string | null, 
/**
 * Up to 128 characters.
 */
organisation?: string | null, };

/**
 * The storage region of the platform (`GET /v1/region`, also inside [`Capabilities`]).
 */
export type Region = { 
/**
 * Short code, e.g. `cn-north-1` or `local`.
 */
code: string, 
/**
 * Human-readable name.
 */
name: string, 
/**
 * Country or jurisdiction whose law governs the stored data.
 */
jurisdiction: string, };

/**
 * The code was sent (in dev mode: written to the SMS outbox and the platform's log).
 */
export type SmsCodeSent = { expires_in_secs: number, 
/**
 * A new code for this phone can be requested after this many seconds.
 */
resend_after_secs: number, };

/**
 * One purpose in the consent centre.
 */
export type PurposeView = { info: PurposeInfo, 
/**
 * Whether requests of this purpose may leave now.
 */
granted: boolean, 
/**
 * The last change, if any.
 */
record: ConsentRecord | null, };

/**
 * What the consent centre shows for one purpose.
 */
export type PurposeInfo = { purpose: Purpose, 
/**
 * The policy clause, e.g. `1.2(2)`.
 */
clause: string, 
/**
 * Needed to use the platform at all (granted with the policy at sign-up).
 */
required: boolean, 
/**
 * Needs no consent (reading the platform's status and policy).
 */
exempt: boolean, title: Bilingual, 
/**
 * What is sent, when, and why, in a sentence or two.
 */
description: Bilingual, 
/**
 * Verbatim from the shipped policy.
 */
policy_excerpt: Bilingual, };

/**
 * A text in both languages.
 */
export type Bilingual = { zh_cn: string, en: string, };

/**
 * Grants or withdraws a purpose.
 */
export type ConsentSetRequest = { purpose: Purpose, granted: boolean, 
/**
 * Default: the consent centre.
 */
method: ConsentMethod | null, };

/**
 * What a grant or withdrawal did.
 */
export type ConsentChange = { record: ConsentRecord, 
/**
 * Queued items of the purpose deleted here (withdrawal).
 */
queue_purged: number, receipts_sent: number, 
/**
 * Receipts not yet acknowledged by the platform.
 */
receipts_pending: number, 
/**
 * Items the platform deleted for this purpose (withdrawal, when it could be reached).
 */
platform_deleted: number | null, 
/**
 * What is left to do, and why.
 */
note: string | null, };

/**
 * The ledger with the platform's acknowledgement.
 */
export type LedgerView = { entries: Array<LedgerEntry>, 
/**
 * Entries up to this one have a receipt at the platform.
 */
acknowledged_upto: number, };

/**
 * One ledger entry.
 */
export type LedgerEntry = { 
/**
 * 1-based position in the ledger.
 */
seq: number, purpose: Purpose, granted: boolean, 
/**
 * RFC 3339.
 */
at: string, policy_version: number, method: ConsentMethod, 
/**
 * The id of the receipt sent to the platform for this entry.
 */
receipt_id: string, 
/**
 * What a [`ConsentMethod::PiiAttestation`] entry attests to: `<kind>/<id>@<sha256>#<findings>`
 * (absent on consent entries; hashed only when present, so older ledgers verify unchanged).
 */
subject?: string | null, 
/**
 * The previous entry's hash ([`GENESIS`] for the first).
 */
prev_hash: string, 
/**
 * Hex SHA-256 over this entry's fields and `prev_hash`.
 */
hash: string, };

/**
 * The result of [`Consents::verify`].
 */
export type LedgerReport = { 
/**
 * The chain is intact and ends at the recorded head.
 */
intact: boolean, 
/**
 * Entries read.
 */
entries: number, 
/**
 * What is wrong, naming the entry.
 */
problem: LedgerProblem | null, 
/**
 * `problem` in a sentence.
 */
message: string | null, };

/**
 * What [`verify`] found wrong, naming the entry.
 */
export type LedgerProblem = { "kind": "edited", seq: number, } | { "kind": "removed", seq: number, } | { "kind": "reordered", seq: number, } | { "kind": "truncated", expected_last: number, found_last: number, };

/**
 * Which queued telemetry to show.
 */
export type TelemetryQuery = { purpose: Purpose | null, };

/**
 * One queued item.
 */
export type TelemetryItem = { 
/**
 * A ULID; the platform stores each id once.
 */
id: string, purpose: Purpose, 
/**
 * e.g. `agent_created`, `panic`, `ui_error`, `startup_ms`, `device_info`.
 */
kind: string, 
/**
 * RFC 3339.
 */
at: string, 
/**
 * The payload, exactly as it will be sent.
 */
data: unknown, };

/**
 * What a flush sent.
 */
export type FlushReport = { receipts_sent: number, sent: Array<PurposeCount>, 
/**
 * Items still queued.
 */
pending: number, };

/**
 * A count per purpose.
 */
export type PurposeCount = { purpose: Purpose, count: number, };

/**
 * An error caught by the UI, offered as a crash report.
 */
export type UiErrorReport = { message: string, source: string | null, stack: string | null, };

/**
 * `GET /v1/account/data`: what the platform holds for the account (§3.2, D5).
 */
export type HeldData = { categories: Array<HeldCategory>, };

/**
 * One category of data the platform holds for the account.
 */
export type HeldCategory = { 
/**
 * e.g. `account`, `sessions`, `consent_receipts`, `telemetry:usage_analytics`.
 */
category: string, count: number, 
/**
 * How long the platform keeps it, in words (e.g. "until you cancel the account", "90 days").
 */
retention: string, };

/**
 * A platform cookie held by the app (never its value).
 */
export type CookieView = { name: string, 
/**
 * What the platform uses it for.
 */
purpose: string, set_at: string, };

/**
 * Cookies and identifiers (D4).
 */
export type CookiesView = { 
/**
 * "Refuse cookies": none are kept or sent; log-in works by token.
 */
refuse_cookies: boolean, cookies: Array<CookieView>, 
/**
 * The installation identifier (sent only inside device information, with its consent).
 */
installation_id: string, };

/**
 * Deletes one cookie by name, or all with `null`.
 */
export type CookieDelete = { name: string | null, };

/**
 * Turns "refuse cookies" on or off.
 */
export type RefuseCookies = { refuse: boolean, };

/**
 * One category of local data (D5).
 */
export type LocalCategory = { category: string, count: number, 
/**
 * Sealed bytes in the store (0 for keyring items).
 */
bytes: number, 
/**
 * Where it lives.
 */
location: string, retention: string, };

/**
 * How long local records are kept (D5). Purged at start and at every platform check.
 */
export type Retention = { transmission_log_days: number, telemetry_queue_days: number, };

/**
 * What [`Profile::purge_expired`] deleted.
 */
export type PurgeReport = { transmissions: number, telemetry: number, };

/**
 * One changed line of a policy diff.
 */
export type PolicyDiffLine = { kind: DiffKind, text: string, 
/**
 * The numbered clause it falls under (`1.2`, `6.3`, …).
 */
clause: string | null, 
/**
 * `purposes` (§1–§4) or `rights` (§6–§8), when the clause is about one of them.
 */
concerns: string | null, };

/**
 * Where the user stands against the newest policy (D10).
 */
export type PolicyStatus = { 
/**
 * The version accepted (with the account-operation purpose); `null` before sign-up.
 */
accepted_version: number | null, current_version: number, 
/**
 * The platform marked the newest version as a material change.
 */
material: boolean, 
/**
 * The platform's list of changes.
 */
changes: Array<string>, 
/**
 * Granted purposes whose wording changed since: blocked until consented again.
 */
needs_reconsent: Array<Purpose>, 
/**
 * Purposes introduced after the accepted version: off until granted.
 */
new_purposes: Array<Purpose>, 
/**
 * Changed lines, English and Chinese, from the accepted version to the newest.
 */
diff_en: Array<PolicyDiffLine>, diff_zh: Array<PolicyDiffLine>, };

/**
 * Accepts the newest policy and consents again to the listed purposes.
 */
export type PolicyAcceptRequest = { policy_version: number, reconsent: Array<Purpose>, };

/**
 * A file handed to a command: exactly one of `path`, `text` or `base64`.
 */
export type FileInput = { 
/**
 * The file's name (its extension picks the format).
 */
name: string, 
/**
 * A path on this machine (from the native dialog or a drop onto the desktop window).
 */
path?: string, 
/**
 * The content as text (pasted).
 */
text?: string, 
/**
 * The content as base64 (read by the browser).
 */
base64?: string, };

/**
 * Names one plugin, dataset or table.
 */
export type ItemRef = { id: string, };

export type UpdatePluginRequest = { id: string, draft: PluginDraft, expected_version: number | null, };

/**
 * Sets (`secret`) or removes (`null`) the plugin's secret in the OS keyring.
 */
export type PluginSecretRequest = { id: string, secret: string | null, };

/**
 * Imports a dataset file; `job` names a progress entry the UI can poll with `job_progress`.
 */
export type DatasetImportRequest = { file: FileInput, chunking: ChunkOptions | null, job: string | null, };

export type PageRequest = { id: string, offset: number, limit: number, };

export type UpdateDatasetRequest = { id: string, name: string, description: string, chunking: ChunkOptions, };

export type CreateTableRequest = { name: string, description: string, columns: Array<Column>, };

export type TableImportRequest = { file: FileInput, 
/**
 * Column types to use instead of the inferred ones (one per column of the file).
 */
columns: Array<Column> | null, };

export type ReplaceRowsRequest = { id: string, columns: Array<Column> | null, rows: Array<Array<unknown>>, expected_version: number | null, };

export type UpdateTableRequest = { id: string, name: string, description: string, };

/**
 * What a CSV file would become, before anything is written.
 */
export type CsvPreview = { encoding: SourceEncoding, 
/**
 * The delimiter found, as a character.
 */
delimiter: string, columns: Array<Column>, row_count: number, 
/**
 * The first rows as read (text).
 */
rows: Array<Array<string>>, 
/**
 * Rows with the wrong number of fields, by line (the import refuses them).
 */
ragged: Array<RaggedRow>, 
/**
 * Cells that do not fit the inferred types (the import refuses them).
 */
cell_errors: Array<CellError>, pii: PiiSummary, 
/**
 * Set when the file cannot be read at all (encoding, CSV syntax, size).
 */
error: string | null, };

export type TextRequest = { text: string, };

export type SearchRequest = { query: string, limit: number | null, };

/**
 * Exports an agent's bundle: to `path` (desktop: from the save dialog), or returned as base64
 * (browser) when `path` is null.
 */
export type BundleExportRequest = { agent_id: string, path: string | null, };

export type BundleExported = { summary: Summary, path: string | null, base64: string | null, 
/**
 * A suggested file name.
 */
file_name: string, };

/**
 * The validate-only report: every problem, or what an import would bring.
 */
export type BundleCheck = { ok: boolean, problems: Array<Problem>, summary: Summary | null, 
/**
 * Whether an agent with the same id is already here (an import would replace it).
 */
replaces_existing: boolean, };

export type JobRef = { job: string, };

/**
 * Progress of a long command.
 */
export type JobProgress = { done: number, total: number, finished: boolean, };

/**
 * A stored plugin.
 */
export type Plugin = { id: string, spec: PluginSpec, 
/**
 * Whether a secret for `auth` is in the keyring (the secret itself never is here).
 */
secret_set: boolean, created_at: string, updated_at: string, version: number, name: string, description: string, 
/**
 * The base URL the tools' paths are appended to.
 */
base_url: string, auth: PluginAuth, third_party: ThirdParty, };

/**
 * How Studio authenticates to the plugin's service. Secrets are not part of it.
 */
export type PluginAuth = { "type": "none" } | { "type": "api_key", location: KeyLocation, param_name: string, } | { "type": "bearer" } | { "type": "oauth2_client_credentials", token_url: string, client_id: string, scopes: Array<string>, };

/**
 * Everything a developer edits on a plugin.
 */
export type PluginDraft = { name: string, description: string, 
/**
 * The base URL the tools' paths are appended to.
 */
base_url: string, auth: PluginAuth, third_party: ThirdParty, };

/**
 * What the document said, kept as imported.
 */
export type PluginSpec = { spec_version: SpecVersion, title: string, api_version: string, 
/**
 * The file name it came from, or `pasted`.
 */
source_name: string, servers: Array<string>, tools: Array<Tool>, auth_schemes: Array<AuthScheme>, warnings: Array<string>, };

/**
 * What the plugin list shows.
 */
export type PluginSummary = { id: string, name: string, description: string, tool_count: number, is_third_party: boolean, auth: string, secret_set: boolean, updated_at: string, };

/**
 * The third-party declaration of policy §9: a service not run by AiWellFlow, with its own
 * privacy policy that the developer (and the agent's users) can read.
 */
export type ThirdParty = { is_third_party: boolean, 
/**
 * Who runs the service.
 */
provider: string, 
/**
 * Its privacy policy (https). Required when `is_third_party`.
 */
privacy_policy_url: string, };

/**
 * What an import yields.
 */
export type ImportedApi = { spec_version: SpecVersion, 
/**
 * `info.title`.
 */
title: string, 
/**
 * `info.version`: the API's version, not the specification's.
 */
version: string, 
/**
 * `info.description`, or empty.
 */
description: string, 
/**
 * Base URLs (OpenAPI `servers`, or Swagger `schemes`+`host`+`basePath`).
 */
servers: Array<string>, 
/**
 * One per operation, in document order (deprecated operations left out).
 */
tools: Array<Tool>, 
/**
 * The declared security schemes, in document order.
 */
auth_schemes: Array<AuthScheme>, 
/**
 * Things accepted but worth saying (e.g. an operation skipped because it is deprecated).
 */
warnings: Array<string>, };

/**
 * Which specification a document follows.
 */
export type SpecVersion = "swagger_2" | "openapi_3_0" | "openapi_3_1";

/**
 * One operation as a tool an agent can call.
 */
export type Tool = { 
/**
 * `operationId`, or `<method>_<path words>` when absent; unique within the plugin.
 */
name: string, 
/**
 * Upper-case HTTP method.
 */
method: string, 
/**
 * The path template as written (`/pets/{petId}`), relative to a server URL.
 */
path: string, 
/**
 * The operation's summary, or empty.
 */
summary: string, 
/**
 * The operation's description, or empty.
 */
description: string, parameters: Array<ToolParameter>, request_body: RequestBody | null, 
/**
 * Names of the security schemes the operation accepts (empty: none required).
 */
security: Array<string>, };

/**
 * One parameter of a tool (path-level and operation-level parameters merged).
 */
export type ToolParameter = { 
/**
 * The name as sent: path template name, query key, header or cookie name.
 */
name: string, location: ParamLocation, 
/**
 * Always true for path parameters (the importer refuses others).
 */
required: boolean, 
/**
 * The document's description, or empty.
 */
description: string, 
/**
 * The parameter's JSON Schema with local `$ref`s inlined (a cycle is left as `$ref`).
 */
schema: unknown, };

/**
 * Where a tool parameter goes in the request (Swagger 2 body and form fields become the
 * [`RequestBody`] instead).
 */
export type ParamLocation = "path" | "query" | "header" | "cookie";

/**
 * The body of a tool's request.
 */
export type RequestBody = { 
/**
 * The media type chosen: `application/json` first, then any JSON type, else the first
 * declared (Swagger 2: from `consumes`; form fields: multipart or URL-encoded).
 */
content_type: string, required: boolean, 
/**
 * The body's JSON Schema with local `$ref`s inlined (Swagger 2 form fields: an object
 * schema with one property per field).
 */
schema: unknown, };

/**
 * A security scheme the document declares. `scheme` is the name the document gives it (what
 * [`Tool::security`] lists).
 */
export type AuthScheme = { "type": "api_key", scheme: string, param_name: string, location: KeyLocation, } | { "type": "bearer", scheme: string, } | { "type": "basic", scheme: string, } | { "type": "oauth2_client_credentials", scheme: string, token_url: string, scopes: Array<string>, } | { "type": "unsupported", scheme: string, kind: string, };

/**
 * Where an API key goes.
 */
export type KeyLocation = "header" | "query" | "cookie";

/**
 * A stored dataset (its text is separate).
 */
export type Dataset = { id: string, name: string, description: string, 
/**
 * The file name it was imported from.
 */
source_name: string, format: DatasetFormat, 
/**
 * How the file was encoded; the stored text is UTF-8.
 */
encoding: SourceEncoding, 
/**
 * Bytes of the stored (UTF-8) text.
 */
bytes: number, 
/**
 * SHA-256 of the stored text, hex.
 */
sha256: string, chunking: ChunkOptions, chunk_count: number, pii: PiiSummary, created_at: string, updated_at: string, version: number, };

/**
 * Accepted dataset formats.
 */
export type DatasetFormat = "txt" | "markdown" | "csv" | "json" | "jsonl";

/**
 * How text is cut into chunks.
 */
export type ChunkOptions = { 
/**
 * Upper bound of a chunk's length in characters (100..=8000).
 */
max_chars: number, 
/**
 * Characters repeated from the end of the previous chunk (< max_chars / 2).
 */
overlap_chars: number, };

/**
 * A page of chunks for preview.
 */
export type ChunkPage = { total: number, offset: number, chunks: Array<Chunk>, };

/**
 * One chunk: its position in the decoded text and its text.
 */
export type Chunk = { 
/**
 * 0-based position in the list of chunks.
 */
index: number, 
/**
 * Byte range in the decoded text.
 */
start: number, 
/**
 * End (exclusive) of the byte range.
 */
end: number, 
/**
 * The chunk's text (see the module's rules for CSV and JSON).
 */
text: string, };

/**
 * The encoding a file was read as.
 */
export type SourceEncoding = "utf8" | "utf8_bom" | "utf16_le" | "utf16_be" | "gb18030";

/**
 * The PII found in one item.
 */
export type PiiSummary = { total: number, by_kind: { [key in PiiKind]?: number }, 
/**
 * The first [`KEPT`] findings, in order.
 */
findings: Array<StoredFinding>, };

/**
 * One finding with its place and a masked excerpt.
 */
export type StoredFinding = { kind: PiiKind, 
/**
 * Where, in words a person can follow: `line 12, column 4` or `row 3, column email`.
 */
location: string, 
/**
 * 1-based line (text) or row (table).
 */
line: number, 
/**
 * 1-based column in characters (text); 0 for tables.
 */
column: number, 
/**
 * Table column name, when in a table.
 */
field: string | null, masked: string, };

/**
 * What kind of personal information a finding is.
 */
export type PiiKind = "mobile_cn" | "resident_id" | "email" | "bank_card" | "ipv4" | "ipv6" | "name" | "address";

/**
 * A stored table (its rows are separate).
 */
export type Table = { id: string, name: string, description: string, columns: Array<Column>, row_count: number, 
/**
 * The CSV file it was created from, if any.
 */
source_name: string | null, pii: PiiSummary, created_at: string, updated_at: string, version: number, };

/**
 * One column of a table: its name and type.
 */
export type Column = { 
/**
 * The column's name (unique within the table).
 */
name: string, 
/**
 * The type every cell of the column has.
 */
type: ColumnType, };

/**
 * Column types a table supports.
 */
export type ColumnType = "text" | "integer" | "number" | "boolean" | "date";

/**
 * A page of rows.
 */
export type RowPage = { total: number, offset: number, rows: Array<Array<unknown>>, };

/**
 * A row whose field count differs from the header's.
 */
export type RaggedRow = { 
/**
 * 1-based line where the row starts.
 */
line: number, 
/**
 * Fields the header has.
 */
expected: number, 
/**
 * Fields the row has.
 */
found: number, };

/**
 * A cell that does not fit its column's type.
 */
export type CellError = { 
/**
 * 1-based data row (header excluded).
 */
row: number, 
/**
 * 1-based line in the source file when the row came from one.
 */
line: number | null, 
/**
 * The column's name.
 */
column: string, 
/**
 * The cell's text (cut to 100 characters by [`typed_rows`]).
 */
value: string, 
/**
 * The column's type.
 */
expected: ColumnType, 
/**
 * Why the value does not fit, in a sentence.
 */
message: string, };

/**
 * One search result.
 */
export type SearchHit = { kind: HitKind, 
/**
 * The item to open (for a tool: its plugin).
 */
id: string, title: string, 
/**
 * Where the text matched, shortened around the match.
 */
snippet: string, 
/**
 * Which field matched (`name`, `description`, `tool`, `column`, …).
 */
field: string, };

export type HitKind = "agent" | "plugin" | "tool" | "dataset" | "table";

/**
 * A submitted query.
 */
export type HistoryEntry = { query: string, at: string, };

/**
 * What the bundle holds, for the validate-only report.
 */
export type Summary = { format_version: number, created_at: string, agent_id: string, agent_name: string, revisions: number, plugins: number, datasets: number, tables: number, bytes: number, };

/**
 * One problem found in a bundle, with where.
 */
export type Problem = { 
/**
 * The file inside the bundle (and a JSON path in it when relevant), or `(archive)`.
 */
place: string, message: string, };

/**
 * What an import did.
 */
export type ImportReport = { agent_id: string, 
/**
 * False when an agent with the same id was already here (it was replaced by the bundle's).
 */
created: boolean, plugins: number, datasets: number, tables: number, 
/**
 * Plugins whose service needs a secret to be set on this machine.
 */
secrets_needed: Array<string>, };

/**
 * Starts a full export to `path` (a file the user chose; replaced when it exists).
 */
export type ExportStartRequest = { path: string, 
/**
 * Ask the platform for what it holds (default true). `false` leaves it out, said in the index.
 */
include_platform?: boolean, };

/**
 * The job a started export runs as (poll `job_progress` / `export_status`, stop with `export_cancel`).
 */
export type ExportStarted = { job: string, };

/**
 * Names an export job.
 */
export type ExportJobRef = { job: string, };

/**
 * A file to verify.
 */
export type ExportVerifyRequest = { path: string, };

/**
 * Where an export job stands.
 */
export type ExportState = "running" | "done" | "failed" | "cancelled";

/**
 * An export job's state, progress and outcome.
 */
export type ExportStatus = { job: string, state: ExportState, path: string, progress: ExportProgress | null, 
/**
 * When done: what was written.
 */
summary: ExportSummary | null, 
/**
 * When failed: why, and what to do.
 */
error: ApiError | null, };

/**
 * Progress of a running export.
 */
export type ExportProgress = { 
/**
 * Uncompressed bytes written so far.
 */
bytes_written: number, 
/**
 * Estimated uncompressed total (never below `bytes_written`).
 */
estimated_total: number, 
/**
 * The category being written.
 */
category: string, 
/**
 * Files finished so far.
 */
files: number, };

/**
 * What a finished export wrote.
 */
export type ExportSummary = { path: string, 
/**
 * Size of the ZIP file.
 */
zip_bytes: number, 
/**
 * Uncompressed bytes of every file but the manifest.
 */
bytes: number, 
/**
 * Files in the archive, the manifest included.
 */
files: number, categories: Array<CategoryRecord>, };

/**
 * A category as written: its files, item count and note.
 */
export type CategoryRecord = { name: string, title: string, covers: Array<string>, 
/**
 * Items exported (agents, lines, datasets, …).
 */
count: number, 
/**
 * Paths of its files in the archive.
 */
files: Array<string>, 
/**
 * Why something was left out, or how to read it.
 */
note: string | null, };

/**
 * A category as [`Registry::categories`] describes it (what will be included).
 */
export type CategoryInfo = { name: string, title: string, 
/**
 * The local inventory categories it covers.
 */
covers: Array<string>, };

/**
 * The result of checking an archive against its manifest.
 */
export type VerifyReport = { 
/**
 * True when every file is present, unchanged, and nothing else is in the archive.
 */
ok: boolean, format_version: number, app_version: string, profile_id: string, created_at: string, 
/**
 * Files of the manifest that were read and hashed.
 */
files_checked: number, bytes_checked: number, problems: Array<VerifyProblem>, };

/**
 * One thing [`verify`] found wrong, naming the file.
 */
export type VerifyProblem = { path: string, kind: ProblemKind, message: string, };

/**
 * How [`verify`] found an entry wrong.
 */
export type ProblemKind = "missing" | "extra" | "duplicate" | "size" | "hash" | "damaged" | "bad_path";

/**
 * `account_cancel`.
 */
export type CancelAccountForm = { 
/**
 * The account password, re-entered.
 */
password: string, 
/**
 * The account name, typed exactly.
 */
account_name: string, 
/**
 * The developer confirmed that cancellation is irreversible.
 */
confirm_irreversible: boolean, };

/**
 * Where an account cancellation stands.
 */
export type CancellationStatus = { "state": "none" } | { "state": "pending", account_name: string, requested_at: string, attempts: number, last_attempt_at: string | null, last_error: string | null, } | { "state": "completed", receipt: DeletionReceipt, 
/**
 * The receipt's signature checked against the key the platform publishes.
 */
receipt_verified: boolean, 
/**
 * Why it did not verify, if it did not.
 */
verify_error: string | null, shred: ShredReport, };

/**
 * What a shred did.
 */
export type ShredReport = { 
/**
 * The profile that was destroyed.
 */
profile_id: string, 
/**
 * Time from the start to the moment the data key no longer existed, in microseconds.
 */
key_destroyed_after_us: number, 
/**
 * Time for the whole shred, in microseconds.
 */
total_us: number, 
/**
 * Keyring entries deleted (the data key included; 0 for a passphrase profile's key).
 */
keyring_entries_deleted: number, 
/**
 * Files removed from the data directory, and their bytes.
 */
files_removed: number, bytes_removed: number, };

/**
 * One deletion.
 */
export type DeletionEntry = { 
/**
 * 1-based position.
 */
seq: number, 
/**
 * RFC 3339.
 */
at: string, 
/**
 * What was asked, in words ("agent 01J… (Support bot)", "everything the platform holds").
 */
what: string, 
/**
 * Items deleted on this machine, per category.
 */
local: Record<string, number>, 
/**
 * The platform's signed receipt, when it took part.
 */
platform: DeletionReceipt | null, prev_hash: string, hash: string, };

/**
 * `deletions`: the ledger and whether its chain holds.
 */
export type DeletionLedgerView = { entries: Array<DeletionEntry>, 
/**
 * A sentence naming the first entry that does not hold, if any.
 */
problem: string | null, };

/**
 * A signed statement of what the platform deleted, for whom and when (D7, D8).
 */
export type DeletionReceipt = { 
/**
 * `del_` and 32 hex digits, unique.
 */
receipt_id: string, account_id: string, scope: DeletionScope, 
/**
 * Items deleted per category (the categories of `GET /v1/account/data`, e.g. `account`,
 * `sessions`, `consent_receipts`, `telemetry:usage_analytics`, `rights_requests`).
 */
deleted: { [key in string]?: number }, 
/**
 * RFC 3339: when the deletion was complete (flushed to disk).
 */
completed_at: string, 
/**
 * The key that signed it (one of `GET /v1/receipt-keys`).
 */
key_id: string, 
/**
 * Ed25519 signature of the canonical bytes (as `GET /v1/receipt-keys` describes them;
 * `awf-platform-api`'s `DeletionReceipt::canonical_bytes`), standard base64 with padding.
 */
signature: string, };

/**
 * What a deletion covered.
 */
export type DeletionScope = { "type": "account" } | { "type": "all_data" } | { "type": "item", kind: string, id: string, } | { "type": "purpose_data", purpose: Purpose, };

/**
 * `POST /v1/requests`: a rights request or complaint (D9).
 */
export type NewRightsRequest = { category: RequestCategory, 
/**
 * 1–5000 characters, more than white space.
 */
text: string, 
/**
 * 0–5 files.
 */
attachments: Array<AttachmentUpload>, };

/**
 * One file sent with a rights request.
 */
export type AttachmentUpload = { 
/**
 * A file name: 1–128 characters, no path separators, no control characters, not `.` or `..`.
 */
name: string, 
/**
 * A media type such as `application/pdf` (`type/subtype`, at most 127 characters).
 */
media_type: string, 
/**
 * The content, standard base64 (padding optional); at most 2 MiB decoded.
 */
content_base64: string, };

/**
 * A rights request or complaint and where it stands.
 */
export type RightsRequest = { 
/**
 * `req_` and 32 hex digits.
 */
id: string, category: RequestCategory, text: string, attachments: Array<AttachmentInfo>, status: RequestStatus, 
/**
 * The platform's latest answer.
 */
answer: string | null, 
/**
 * RFC 3339.
 */
created_at: string, 
/**
 * RFC 3339: when the latest answer was given.
 */
answered_at: string | null, };

/**
 * What a rights request asks for (§6, PIPL arts. 44–47, 50).
 */
export type RequestCategory = "access" | "correction" | "deletion" | "portability" | "withdrawal" | "complaint";

/**
 * Where a rights request stands.
 */
export type RequestStatus = "open" | "answered" | "closed";

/**
 * An attachment as the platform holds it (its content stays at the platform).
 */
export type AttachmentInfo = { name: string, media_type: string, 
/**
 * Bytes, decoded.
 */
size: number, 
/**
 * Hex SHA-256 of the decoded content.
 */
sha256: string, };

/**
 * What one pass did.
 */
export type SyncReport = { pushed: number, deleted: number, pulled: number, merged: number, conflicts: number, retrying: number, refused: number, 
/**
 * Why nothing (more) was sent (no consent, not signed in, offline).
 */
blocked: string | null, 
/**
 * The block is the platform being unreachable (or failing): trying again later may pass.
 */
offline: boolean, 
/**
 * Changes still queued after the pass.
 */
pending: number, };

/**
 * `sync_status`.
 */
export type SyncStatus = { overview: Overview, items: Array<ItemView>, history: Array<SyncEvent>, };

/**
 * One item's line in the status.
 */
export type ItemView = { kind: ItemKind, id: string, status: ItemStatus, reason: string | null, attempts: number, server_revision: number, };

/**
 * One conflict, for the UI and the CLI.
 */
export type ConflictView = { kind: ItemKind, id: string, name: string, reason: string, theirs_revision: number, theirs_deleted: boolean, base_instructions: string, mine_instructions: string, theirs_instructions: string, 
/**
 * The three-way merge of the instructions, with conflict markers where both sides changed
 * the same lines: a starting point for the merged text.
 */
merged_instructions: string, merge_clean: boolean, };

/**
 * How a conflict is settled.
 */
export type Resolution = { "choice": "keep_mine" } | { "choice": "keep_theirs" } | { "choice": "merged", instructions: string, };

/**
 * `sync_resolve`.
 */
export type SyncResolveRequest = { kind: ItemKind, id: string, resolution: Resolution, };

/**
 * `sync_agent_set`.
 */
export type SyncAgentRequest = { id: string, on: boolean, };

/**
 * `sync_item_set`.
 */
export type SyncItemRequest = { kind: ItemKind, id: string, on: boolean, };

/**
 * One upload in progress, for the UI and the CLI.
 */
export type UploadView = { kind: ItemKind, id: string, 
/**
 * The dataset's name.
 */
name: string, 
/**
 * Bytes the platform holds (its offset).
 */
sent: number, total: number, 
/**
 * When this pass started the upload (RFC 3339).
 */
started_at: string, 
/**
 * A cancel was asked for; the upload stops before its next chunk.
 */
cancelling: boolean, };

/**
 * `sync_cancel_upload`.
 */
export type CancelUploadRequest = { kind: ItemKind, id: string, };

/**
 * `sync_attest`.
 */
export type SyncAttestRequest = { kind: ItemKind, id: string, };

/**
 * Counts for the status line.
 */
export type Overview = { pending: number, conflicts: number, errors: number, held_back: number, synced: number, 
/**
 * The change-feed cursor reached.
 */
cursor: number, };

/**
 * One line of the sync history.
 */
export type SyncEvent = { at: string, kind: ItemKind, id: string, 
/**
 * `pushed`, `deleted`, `pulled`, `pulled_delete`, `conflict`, `merged`, `resolved`,
 * `error`, `held_back`.
 */
event: string, detail: string, };

/**
 * Where an item stands.
 */
export type ItemStatus = "local" | "synced" | "pending" | "conflict" | "error" | "held_back" | "off";

/**
 * What kind of developer data an item is.
 */
export type ItemKind = "agent" | "plugin" | "dataset" | "table";

/** Every error code, for runtime checks of what a transport returned. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "unknown_command",
  "bad_request",
  "unauthorized",
  "not_found",
  "invalid_input",
  "too_large",
  "conflict",
  "profile_locked",
  "profile_not_open",
  "keyring_unavailable",
  "key_missing",
  "passphrase_required",
  "wrong_passphrase",
  "schema_too_new",
  "store_corrupt",
  "read_only",
  "disk_full",
  "io",
  "internal",
  "consent_required",
  "insecure_address",
  "platform_unreachable",
  "platform_error",
  "bad_response",
  "not_signed_in",
  "invalid_credentials",
  "rate_limited",
  "account_exists",
  "phone_in_use",
  "sms_code_invalid",
  "sms_code_expired",
  "guardian_required",
  "policy_outdated",
  "invalid_file",
  "account_locked",
];

/** Every command: its request and response types. */
export interface Commands {
  /** Whether the profile is open, and if not, why and what to do. */
  app_status: { request: null; response: AppStatus };
  /** Opens a passphrase-protected profile, or creates a new profile protected by a passphrase. */
  profile_unlock: { request: UnlockRequest; response: AppStatus };
  /** Tries the OS keyring again. */
  profile_retry: { request: null; response: AppStatus };
  /** Defaults for a new agent. */
  agent_defaults: { request: null; response: AgentDraft };
  /** Agents matching a filter, most recently changed first. */
  agents_list: { request: ListQuery; response: Array<AgentSummary> };
  /** One agent in full. */
  agent_get: { request: AgentRef; response: Agent };
  /** Creates an agent. */
  agent_create: { request: AgentDraft; response: Agent };
  /** Saves an edited agent (autosave). Acknowledged only once flushed to disk. */
  agent_update: { request: UpdateAgentRequest; response: Agent };
  /** The instruction history, newest first. */
  agent_history: { request: AgentRef; response: Array<RevisionSummary> };
  /** One revision of the instructions. */
  agent_revision: { request: RevisionRef; response: Revision };
  /** Line diff between two revisions, or a revision and the current instructions. */
  agent_diff: { request: DiffRequest; response: Array<DiffLine> };
  /** Makes an older revision current again (as a new revision). */
  agent_restore: { request: RevisionRef; response: Agent };
  /** Copies an agent. */
  agent_duplicate: { request: AgentRef; response: Agent };
  /** Archives or unarchives an agent. */
  agent_archive: { request: ArchiveRequest; response: Agent };
  /** Deletes an agent and its history. */
  agent_delete: { request: AgentRef; response: null };
  /** Connectivity and session as known now (no request is made). */
  platform_status: { request: null; response: PlatformStatus };
  /** Asks the platform for its capabilities; a platform that is down is reported as offline, not as an error. */
  platform_check: { request: null; response: PlatformStatus };
  /** The privacy policy shipped with the app (zh-CN and English). */
  policy_current: { request: null; response: PolicyText };
  /** Where the user stands against the newest policy: diff, material change, purposes to consent to again. */
  policy_status: { request: null; response: PolicyStatus };
  /** Accepts the newest policy and consents again to the listed purposes. */
  policy_accept: { request: PolicyAcceptRequest; response: PolicyStatus };
  /** Accepts the privacy policy: grants the account-operation purpose. */
  account_accept_policy: { request: AcceptPolicyRequest; response: ConsentRecord };
  /** Asks the platform to text a sign-up code. */
  account_request_sms_code: { request: PhoneRequest; response: SmsCodeSent };
  /** Registers an account (age gate: under 18 needs a guardian) and signs in. */
  account_register: { request: RegisterForm; response: AccountProfile };
  /** Signs in with account name (or phone) and password. */
  account_login: { request: LoginForm; response: AccountProfile };
  /** Signs out; tokens are deleted from the keyring even when the platform is unreachable. */
  account_logout: { request: null; response: PlatformStatus };
  /** The account profile, fetched from the platform. */
  account_profile: { request: null; response: AccountProfile };
  /** Corrects or supplements the account profile. */
  account_update_profile: { request: ProfilePatch; response: AccountProfile };
  /** The settings. */
  settings_get: { request: null; response: SettingsView };
  /** Sets the platform address (`null` restores the default); plain http:// only to this computer. */
  settings_set_platform_url: { request: SetPlatformUrl; response: SettingsView };
  /** Every purpose with its policy text, clause, whether it is required, and its state. */
  consent_list: { request: null; response: Array<PurposeView> };
  /** Grants or withdraws a purpose (ledger entry, receipt, and on withdrawal: queue purged, platform asked to delete). */
  consent_set: { request: ConsentSetRequest; response: ConsentChange };
  /** The hash-chained consent ledger, oldest first. */
  consent_ledger: { request: null; response: LedgerView };
  /** Walks the ledger's hash chain and names any edited, removed or reordered entry. */
  consent_verify: { request: null; response: LedgerReport };
  /** Telemetry waiting to be sent, exactly as it will be sent. */
  telemetry_pending: { request: TelemetryQuery; response: Array<TelemetryItem> };
  /** Sends owed receipts and deletions, then queued telemetry of granted purposes. */
  telemetry_flush: { request: null; response: FlushReport };
  /** Offers an error the UI caught as a crash report; true when queued (crash-report consent given). */
  telemetry_ui_error: { request: UiErrorReport; response: boolean };
  /** What the platform holds for the account, with retention. */
  data_held: { request: null; response: HeldData };
  /** Platform cookies held (names, never values), the "refuse cookies" setting and the installation id. */
  cookies_list: { request: null; response: CookiesView };
  /** Deletes one cookie (`name`) or all (`null`). */
  cookies_delete: { request: CookieDelete; response: CookiesView };
  /** Refuses (or accepts again) platform cookies; log-in keeps working by token. */
  cookies_set_refuse: { request: RefuseCookies; response: CookiesView };
  /** Replaces the installation identifier with a new random one. */
  installation_id_reset: { request: null; response: CookiesView };
  /** What is kept on this machine, by category: counts, sizes, location, retention. */
  inventory_local: { request: null; response: Array<LocalCategory> };
  /** The local retention ages. */
  retention_get: { request: null; response: Retention };
  /** Sets the local retention ages and purges what is now too old. */
  retention_set: { request: Retention; response: PurgeReport };
  /** The transmission log: every request sent, refused or failed, newest first. */
  transmissions_list: { request: LogQuery; response: Array<TransmissionRecord> };
  /** What an OpenAPI/Swagger document would become (its tools and auth schemes); writes nothing. */
  plugin_preview: { request: FileInput; response: ImportedApi };
  /** Imports an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML) as a plugin. */
  plugin_import: { request: FileInput; response: Plugin };
  /** Every plugin, most recently changed first. */
  plugins_list: { request: null; response: Array<PluginSummary> };
  /** One plugin in full (its secret never). */
  plugin_get: { request: ItemRef; response: Plugin };
  /** Saves a plugin's name, description, base URL, auth method and third-party declaration. */
  plugin_update: { request: UpdatePluginRequest; response: Plugin };
  /** Stores the plugin's secret in the OS keyring, or removes it (`null`). */
  plugin_set_secret: { request: PluginSecretRequest; response: Plugin };
  /** Deletes a plugin and its secret, and detaches it from every agent. */
  plugin_delete: { request: ItemRef; response: null };
  /** Imports a dataset file (txt, md, csv, json, jsonl), scanning it for PII; progress via `job_progress`. */
  dataset_import: { request: DatasetImportRequest; response: Dataset };
  /** Every dataset, most recently changed first. */
  datasets_list: { request: null; response: Array<Dataset> };
  /** One dataset's description and findings. */
  dataset_get: { request: ItemRef; response: Dataset };
  /** A page of a dataset's chunks, for preview. */
  dataset_chunks: { request: PageRequest; response: ChunkPage };
  /** Renames, re-describes or re-chunks a dataset. */
  dataset_update: { request: UpdateDatasetRequest; response: Dataset };
  /** Deletes a dataset and detaches it from every agent. */
  dataset_delete: { request: ItemRef; response: null };
  /** Progress of a long command started with a `job` name. */
  job_progress: { request: JobRef; response: JobProgress | null };
  /** Creates an empty table with typed columns. */
  table_create: { request: CreateTableRequest; response: Table };
  /** What a CSV file would become: encoding, columns and types, ragged rows, cell errors and PII; writes nothing. */
  table_preview_csv: { request: FileInput; response: CsvPreview };
  /** Creates a table from a CSV file (types inferred unless given); every cell is checked. */
  table_import_csv: { request: TableImportRequest; response: Table };
  /** Every table, most recently changed first. */
  tables_list: { request: null; response: Array<Table> };
  /** One table's schema, row count and findings. */
  table_get: { request: ItemRef; response: Table };
  /** A page of a table's rows. */
  table_rows: { request: PageRequest; response: RowPage };
  /** Replaces a table's rows (and optionally its columns) after checking every cell. */
  table_replace_rows: { request: ReplaceRowsRequest; response: Table };
  /** Renames or re-describes a table. */
  table_update: { request: UpdateTableRequest; response: Table };
  /** Deletes a table and detaches it from every agent. */
  table_delete: { request: ItemRef; response: null };
  /** Scans text for personal information (phone, ID and card numbers, emails, IPs, labelled names and addresses). */
  pii_scan: { request: TextRequest; response: PiiSummary };
  /** The personal information found in an agent's instructions. */
  agent_pii: { request: AgentRef; response: PiiSummary };
  /** Searches agents, plugins and their tools, datasets and tables. */
  search: { request: SearchRequest; response: Array<SearchHit> };
  /** Adds a submitted query to the local search history. */
  search_record: { request: SearchRequest; response: null };
  /** The local search history, newest first. */
  search_history: { request: null; response: Array<HistoryEntry> };
  /** Clears the local search history; returns how many entries were deleted. */
  search_history_clear: { request: null; response: number };
  /** Writes an agent's portable bundle (agent, history, plugins without secrets, datasets, tables). */
  bundle_export: { request: BundleExportRequest; response: BundleExported };
  /** Validates a bundle without writing anything: every problem, or what it holds. */
  bundle_check: { request: FileInput; response: BundleCheck };
  /** Imports a bundle; items with the same ids are replaced, so importing twice duplicates nothing. */
  bundle_import: { request: FileInput; response: ImportReport };
  /** Starts the full data export to a ZIP file (local and platform-held data); returns its job: progress via `job_progress`. */
  export_start: { request: ExportStartRequest; response: ExportStarted };
  /** Where an export job stands: progress, category, and when finished its summary or error. */
  export_status: { request: ExportJobRef; response: ExportStatus };
  /** Stops a running export; no file is left behind. True when it was still running. */
  export_cancel: { request: ExportJobRef; response: boolean };
  /** Checks an export ZIP against its manifest: every missing, extra, resized, changed or damaged file. */
  export_verify: { request: ExportVerifyRequest; response: VerifyReport };
  /** The categories an export includes, in order. */
  export_categories: { request: null; response: Array<CategoryInfo> };
  /** Cancels the account (D8): checks the typed name and the confirmation, locks the profile at once, asks the platform (retried until it confirms), then crypto-shreds the profile. Irreversible. */
  account_cancel: { request: CancelAccountForm; response: CancellationStatus };
  /** Where an account cancellation stands (a pending one is retried first); after completion, its receipt. */
  account_cancellation: { request: null; response: CancellationStatus };
  /** Deletes everything the platform holds for the account but keeps the account; the signed receipt goes into the deletion ledger. */
  platform_data_erase: { request: null; response: DeletionEntry };
  /** The deletion ledger: every deletion with its platform receipt, and whether the chain holds. */
  deletions: { request: null; response: DeletionLedgerView };
  /** Sends a rights request or complaint (access, correction, deletion, portability, withdrawal, complaint) to the platform. */
  rights_request_new: { request: NewRightsRequest; response: RightsRequest };
  /** The account's rights requests and complaints, with their status and answers. */
  rights_requests: { request: null; response: Array<RightsRequest> };
  /** One sync pass now ("sync now"): pull other devices' changes, push everything due. Sends nothing without the hosting consent. */
  sync_now: { request: null; response: SyncReport };
  /** Overall sync status, every item not synced with its reason, and the recent history. */
  sync_status: { request: null; response: SyncStatus };
  /** Every sync conflict, with the base, local and platform instructions and their three-way merge. */
  sync_conflicts: { request: null; response: Array<ConflictView> };
  /** Settles a conflict: keep mine, keep theirs, or merged instructions. */
  sync_resolve: { request: SyncResolveRequest; response: SyncStatus };
  /** Attests that the people whose personal information a dataset holds consented to its hosting (§1.5 4.4): a consent-ledger entry, sent with the dataset; a held-back dataset then syncs. */
  sync_attest: { request: SyncAttestRequest; response: SyncStatus };
  /** Turns sync on or off for one agent. */
  sync_agent_set: { request: SyncAgentRequest; response: SyncStatus };
  /** Turns sync on or off for one item of any kind (turning a cancelled upload's dataset on resumes it where it stopped). */
  sync_item_set: { request: SyncItemRequest; response: SyncStatus };
  /** The dataset uploads running now, each with the bytes the platform holds and its total (memory only: cheap to poll every second). */
  sync_uploads: { request: null; response: Array<UploadView> };
  /** Stops a running upload before its next chunk; the dataset is parked with sync off and resumes at the platform's offset when turned on. `not_found` when no such upload runs. */
  sync_cancel_upload: { request: CancelUploadRequest; response: null };
}

/** Every command name. */
export const COMMAND_NAMES = [
  "app_status",
  "profile_unlock",
  "profile_retry",
  "agent_defaults",
  "agents_list",
  "agent_get",
  "agent_create",
  "agent_update",
  "agent_history",
  "agent_revision",
  "agent_diff",
  "agent_restore",
  "agent_duplicate",
  "agent_archive",
  "agent_delete",
  "platform_status",
  "platform_check",
  "policy_current",
  "policy_status",
  "policy_accept",
  "account_accept_policy",
  "account_request_sms_code",
  "account_register",
  "account_login",
  "account_logout",
  "account_profile",
  "account_update_profile",
  "settings_get",
  "settings_set_platform_url",
  "consent_list",
  "consent_set",
  "consent_ledger",
  "consent_verify",
  "telemetry_pending",
  "telemetry_flush",
  "telemetry_ui_error",
  "data_held",
  "cookies_list",
  "cookies_delete",
  "cookies_set_refuse",
  "installation_id_reset",
  "inventory_local",
  "retention_get",
  "retention_set",
  "transmissions_list",
  "plugin_preview",
  "plugin_import",
  "plugins_list",
  "plugin_get",
  "plugin_update",
  "plugin_set_secret",
  "plugin_delete",
  "dataset_import",
  "datasets_list",
  "dataset_get",
  "dataset_chunks",
  "dataset_update",
  "dataset_delete",
  "job_progress",
  "table_create",
  "table_preview_csv",
  "table_import_csv",
  "tables_list",
  "table_get",
  "table_rows",
  "table_replace_rows",
  "table_update",
  "table_delete",
  "pii_scan",
  "agent_pii",
  "search",
  "search_record",
  "search_history",
  "search_history_clear",
  "bundle_export",
  "bundle_check",
  "bundle_import",
  "export_start",
  "export_status",
  "export_cancel",
  "export_verify",
  "export_categories",
  "account_cancel",
  "account_cancellation",
  "platform_data_erase",
  "deletions",
  "rights_request_new",
  "rights_requests",
  "sync_now",
  "sync_status",
  "sync_conflicts",
  "sync_resolve",
  "sync_attest",
  "sync_agent_set",
  "sync_item_set",
  "sync_uploads",
  "sync_cancel_upload",
] as const;
