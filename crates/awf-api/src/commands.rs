//! The command table. Each line: the command's doc, its name, request type, response type and
//! handler. The table drives dispatch (Tauri IPC, HTTP bridge) and the TypeScript bindings.

use serde::de::DeserializeOwned;
use serde_json::Value;
use ts_rs::TS;

use crate::dto::*;
use crate::error::{ApiError, ErrorCode};
use crate::export::*;
use crate::library::*;
use crate::rights::*;
use crate::session::Api;
use crate::sync::*;
use crate::uploads::*;
use awf_core::SecretString;

/// One command as the bindings describe it.
#[derive(Debug, Clone)]
pub struct CommandInfo {
    pub name: &'static str,
    pub doc: &'static str,
    pub request: String,
    pub response: String,
}

fn parse<T: DeserializeOwned>(command: &str, args: Value) -> Result<T, ApiError> {
    let args = match args {
        // A command without arguments accepts `null` or `{}`.
        Value::Object(ref m) if m.is_empty() => {
            serde_json::from_value::<T>(Value::Null).or_else(|_| serde_json::from_value(args))
        }
        other => serde_json::from_value(other),
    };
    args.map_err(|e| {
        ApiError::new(ErrorCode::BadRequest, format!("The arguments of `{command}` are not valid: {e}"))
            .hint("This is a bug in the caller: the request does not match the generated bindings.")
    })
}

macro_rules! command_table {
    ($( $(#[doc = $doc:literal])+ $name:ident($req:ty) -> $res:ty = $handler:expr; )+) => {
        pub(crate) fn dispatch(api: &Api, name: &str, args: Value) -> Result<Value, ApiError> {
            match name {
                $( stringify!($name) => {
                    let req: $req = parse(name, args)?;
                    let handler: fn(&Api, $req) -> Result<$res, ApiError> = $handler;
                    let res = handler(api, req)?;
                    serde_json::to_value(res).map_err(|e| ApiError::new(ErrorCode::Internal, format!("serialising the response: {e}")))
                } )+
                _ => Err(ApiError::new(ErrorCode::UnknownCommand, format!("There is no command named `{name}`."))
                        .hint("The UI and the app are from different versions; reinstall or rebuild both.")),
            }
        }

        /// Every command, in declaration order.
        pub fn table() -> Vec<CommandInfo> {
            vec![ $( CommandInfo {
                name: stringify!($name),
                doc: concat!($($doc, "\n"),+),
                request: <$req as TS>::name(),
                response: <$res as TS>::name(),
            } ),+ ]
        }
    };
}

command_table! {
    /// Whether the profile is open, and if not, why and what to do.
    app_status(()) -> AppStatus = |api, ()| Ok(api.status());
    /// Opens a passphrase-protected profile, or creates a new profile protected by a passphrase.
    profile_unlock(UnlockRequest) -> AppStatus = |api, r| api.unlock(SecretString::new(r.passphrase));
    /// Tries the OS keyring again.
    profile_retry(()) -> AppStatus = |api, ()| Ok(api.retry());
    /// Defaults for a new agent.
    agent_defaults(()) -> AgentDraft = |_, ()| Ok(AgentDraft::named(""));
    /// Agents matching a filter, most recently changed first.
    agents_list(ListQuery) -> Vec<AgentSummary> = |api, q| Ok(api.profile()?.agents().list(&q)?);
    /// One agent in full.
    agent_get(AgentRef) -> Agent = |api, r| Ok(api.profile()?.agents().get(&r.id)?);
    /// Creates an agent.
    agent_create(AgentDraft) -> Agent = |api, d| {
        let a = api.profile()?.agents().create(d)?;
        api.usage("agent_created", serde_json::json!({ "instructions_chars": a.draft.instructions.chars().count() }));
        Ok(a)
    };
    /// Saves an edited agent (autosave). Acknowledged only once flushed to disk.
    agent_update(UpdateAgentRequest) -> Agent = |api, r| {
        let a = api.profile()?.agents().update(&r.id, r.draft, r.expected_version)?;
        api.usage("agent_saved", serde_json::json!({ "version": a.version }));
        Ok(a)
    };
    /// The instruction history, newest first.
    agent_history(AgentRef) -> Vec<RevisionSummary> = |api, r| Ok(api.profile()?.agents().history(&r.id)?);
    /// One revision of the instructions.
    agent_revision(RevisionRef) -> Revision = |api, r| Ok(api.profile()?.agents().revision(&r.id, r.seq)?);
    /// Line diff between two revisions, or a revision and the current instructions.
    agent_diff(DiffRequest) -> Vec<DiffLine> = |api, r| Ok(api.profile()?.agents().diff(&r.id, r.from, r.to)?);
    /// Makes an older revision current again (as a new revision).
    agent_restore(RevisionRef) -> Agent = |api, r| Ok(api.profile()?.agents().restore(&r.id, r.seq)?);
    /// Copies an agent.
    agent_duplicate(AgentRef) -> Agent = |api, r| Ok(api.profile()?.agents().duplicate(&r.id)?);
    /// Archives or unarchives an agent.
    agent_archive(ArchiveRequest) -> Agent = |api, r| Ok(api.profile()?.agents().set_archived(&r.id, r.archived)?);
    /// Deletes an agent and its history.
    agent_delete(AgentRef) -> () = |api, r| Ok(api.profile()?.agents().delete(&r.id)?);
    /// Connectivity and session as known now (no request is made).
    platform_status(()) -> PlatformStatus = |api, ()| api.platform_status();
    /// Asks the platform for its capabilities; a platform that is down is reported as offline, not as an error.
    platform_check(()) -> PlatformStatus = |api, ()| api.platform_check();
    /// The privacy policy shipped with the app (zh-CN and English).
    policy_current(()) -> PolicyText = |api, ()| Ok(api.policy_text());
    /// Where the user stands against the newest policy: diff, material change, purposes to consent to again.
    policy_status(()) -> PolicyStatus = |api, ()| api.policy_status();
    /// Accepts the newest policy and consents again to the listed purposes.
    policy_accept(PolicyAcceptRequest) -> PolicyStatus = |api, r| api.policy_accept(r);
    /// Accepts the privacy policy: grants the account-operation purpose.
    account_accept_policy(AcceptPolicyRequest) -> ConsentRecord = |api, r| api.accept_policy(r);
    /// Asks the platform to text a sign-up code.
    account_request_sms_code(PhoneRequest) -> SmsCodeSent = |api, r| api.request_sms_code(r.phone);
    /// Registers an account (age gate: under 18 needs a guardian) and signs in.
    account_register(RegisterForm) -> AccountProfile = |api, f| api.register(f);
    /// Signs in with account name (or phone) and password.
    account_login(LoginForm) -> AccountProfile = |api, f| api.login(f);
    /// Signs out; tokens are deleted from the keyring even when the platform is unreachable.
    account_logout(()) -> PlatformStatus = |api, ()| api.logout();
    /// The account profile, fetched from the platform.
    account_profile(()) -> AccountProfile = |api, ()| Ok(api.platform()?.profile()?);
    /// Corrects or supplements the account profile.
    account_update_profile(ProfilePatch) -> AccountProfile = |api, p| Ok(api.platform()?.update_profile(&p)?);
    /// The settings.
    settings_get(()) -> SettingsView = |api, ()| api.settings_view();
    /// Sets the platform address (`null` restores the default); plain http:// only to this computer.
    settings_set_platform_url(SetPlatformUrl) -> SettingsView = |api, r| api.set_platform_url(r);
    /// Every purpose with its policy text, clause, whether it is required, and its state.
    consent_list(()) -> Vec<PurposeView> = |api, ()| api.consent_list();
    /// Grants or withdraws a purpose (ledger entry, receipt, and on withdrawal: queue purged, platform asked to delete).
    consent_set(ConsentSetRequest) -> ConsentChange = |api, r| api.consent_set(r);
    /// The hash-chained consent ledger, oldest first.
    consent_ledger(()) -> LedgerView = |api, ()| api.consent_ledger();
    /// Walks the ledger's hash chain and names any edited, removed or reordered entry.
    consent_verify(()) -> LedgerReport = |api, ()| Ok(api.profile()?.consents().verify()?);
    /// Telemetry waiting to be sent, exactly as it will be sent.
    telemetry_pending(TelemetryQuery) -> Vec<TelemetryItem> = |api, q| Ok(api.profile()?.telemetry().pending(q.purpose)?);
    /// Sends owed receipts and deletions, then queued telemetry of granted purposes.
    telemetry_flush(()) -> FlushReport = |api, ()| api.telemetry_flush();
    /// Offers an error the UI caught as a crash report; true when queued (crash-report consent given).
    telemetry_ui_error(UiErrorReport) -> bool = |api, r| api.record_ui_error(r);
    /// What the platform holds for the account, with retention.
    data_held(()) -> HeldData = |api, ()| Ok(api.platform()?.held_data()?);
    /// Platform cookies held (names, never values), the "refuse cookies" setting and the installation id.
    cookies_list(()) -> CookiesView = |api, ()| api.cookies_view();
    /// Deletes one cookie (`name`) or all (`null`).
    cookies_delete(CookieDelete) -> CookiesView = |api, r| api.cookies_delete(r.name);
    /// Refuses (or accepts again) platform cookies; log-in keeps working by token.
    cookies_set_refuse(RefuseCookies) -> CookiesView = |api, r| api.set_refuse_cookies(r.refuse);
    /// Replaces the installation identifier with a new random one.
    installation_id_reset(()) -> CookiesView = |api, ()| { api.profile()?.reset_installation_id()?; api.cookies_view() };
    /// What is kept on this machine, by category: counts, sizes, location, retention.
    inventory_local(()) -> Vec<LocalCategory> = |api, ()| Ok(api.profile()?.inventory()?);
    /// The local retention ages.
    retention_get(()) -> Retention = |api, ()| Ok(api.profile()?.settings()?.retention);
    /// Sets the local retention ages and purges what is now too old.
    retention_set(Retention) -> PurgeReport = |api, r| api.set_retention(r);
    /// The transmission log: every request sent, refused or failed, newest first.
    transmissions_list(LogQuery) -> Vec<TransmissionRecord> = |api, q| Ok(api.profile()?.transmissions().list(&q)?);
    /// What an OpenAPI/Swagger document would become (its tools and auth schemes); writes nothing.
    plugin_preview(FileInput) -> ImportedApi = |api, f| api.plugin_preview(f);
    /// Imports an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML) as a plugin.
    plugin_import(FileInput) -> Plugin = |api, f| api.plugin_import(f);
    /// Every plugin, most recently changed first.
    plugins_list(()) -> Vec<PluginSummary> = |api, ()| Ok(api.profile()?.plugins().list()?.iter().map(Plugin::summary).collect());
    /// One plugin in full (its secret never).
    plugin_get(ItemRef) -> Plugin = |api, r| Ok(api.profile()?.plugins().get(&r.id)?);
    /// Saves a plugin's name, description, base URL, auth method and third-party declaration.
    plugin_update(UpdatePluginRequest) -> Plugin = |api, r| Ok(api.profile()?.plugins().update(&r.id, r.draft, r.expected_version)?);
    /// Stores the plugin's secret in the OS keyring, or removes it (`null`).
    plugin_set_secret(PluginSecretRequest) -> Plugin = |api, r| api.plugin_set_secret(r);
    /// Deletes a plugin and its secret, and detaches it from every agent.
    plugin_delete(ItemRef) -> () = |api, r| Ok(api.profile()?.plugins().delete(&r.id)?);
    /// Imports a dataset file (txt, md, csv, json, jsonl), scanning it for PII; progress via `job_progress`.
    dataset_import(DatasetImportRequest) -> Dataset = |api, r| api.dataset_import(r);
    /// Every dataset, most recently changed first.
    datasets_list(()) -> Vec<Dataset> = |api, ()| Ok(api.profile()?.datasets().list()?);
    /// One dataset's description and findings.
    dataset_get(ItemRef) -> Dataset = |api, r| Ok(api.profile()?.datasets().get(&r.id)?);
    /// A page of a dataset's chunks, for preview.
    dataset_chunks(PageRequest) -> ChunkPage = |api, r| Ok(api.profile()?.datasets().chunks(&r.id, r.offset, r.limit)?);
    /// Renames, re-describes or re-chunks a dataset.
    dataset_update(UpdateDatasetRequest) -> Dataset = |api, r| Ok(api.profile()?.datasets().update(&r.id, &r.name, &r.description, r.chunking)?);
    /// Deletes a dataset and detaches it from every agent.
    dataset_delete(ItemRef) -> () = |api, r| Ok(api.profile()?.datasets().delete(&r.id)?);
    /// Progress of a long command started with a `job` name.
    job_progress(JobRef) -> Option<JobProgress> = |api, r| Ok(api.job_progress(r));
    /// Creates an empty table with typed columns.
    table_create(CreateTableRequest) -> Table = |api, r| Ok(api.profile()?.tables().create(&r.name, &r.description, r.columns)?);
    /// What a CSV file would become: encoding, columns and types, ragged rows, cell errors and PII; writes nothing.
    table_preview_csv(FileInput) -> CsvPreview = |api, f| api.table_preview_csv(f);
    /// Creates a table from a CSV file (types inferred unless given); every cell is checked.
    table_import_csv(TableImportRequest) -> Table = |api, r| api.table_import_csv(r);
    /// Every table, most recently changed first.
    tables_list(()) -> Vec<Table> = |api, ()| Ok(api.profile()?.tables().list()?);
    /// One table's schema, row count and findings.
    table_get(ItemRef) -> Table = |api, r| Ok(api.profile()?.tables().get(&r.id)?);
    /// A page of a table's rows.
    table_rows(PageRequest) -> RowPage = |api, r| Ok(api.profile()?.tables().rows(&r.id, r.offset.into(), r.limit.into())?);
    /// Replaces a table's rows (and optionally its columns) after checking every cell.
    table_replace_rows(ReplaceRowsRequest) -> Table = |api, r| api.table_replace_rows(r);
    /// Renames or re-describes a table.
    table_update(UpdateTableRequest) -> Table = |api, r| Ok(api.profile()?.tables().update_meta(&r.id, &r.name, &r.description)?);
    /// Deletes a table and detaches it from every agent.
    table_delete(ItemRef) -> () = |api, r| Ok(api.profile()?.tables().delete(&r.id)?);
    /// Scans text for personal information (phone, ID and card numbers, emails, IPs, labelled names and addresses).
    pii_scan(TextRequest) -> PiiSummary = |_, r| { let mut s = PiiSummary::default(); s.add_text(&r.text, 0); Ok(s) };
    /// The personal information found in an agent's instructions.
    agent_pii(AgentRef) -> PiiSummary = |api, r| api.agent_pii(&r.id);
    /// Searches agents, plugins and their tools, datasets and tables.
    search(SearchRequest) -> Vec<SearchHit> = |api, r| Ok(api.profile()?.search().query(&r.query, r.limit.unwrap_or(50).min(200) as usize)?);
    /// Adds a submitted query to the local search history.
    search_record(SearchRequest) -> () = |api, r| Ok(api.profile()?.search().record(&r.query)?);
    /// The local search history, newest first.
    search_history(()) -> Vec<HistoryEntry> = |api, ()| Ok(api.profile()?.search().history()?);
    /// Clears the local search history; returns how many entries were deleted.
    search_history_clear(()) -> u32 = |api, ()| Ok(api.profile()?.search().clear_history()? as u32);
    /// Writes an agent's portable bundle (agent, history, plugins without secrets, datasets, tables).
    bundle_export(BundleExportRequest) -> BundleExported = |api, r| api.bundle_export(r);
    /// Validates a bundle without writing anything: every problem, or what it holds.
    bundle_check(FileInput) -> BundleCheck = |api, f| api.bundle_check(f);
    /// Imports a bundle; items with the same ids are replaced, so importing twice duplicates nothing.
    bundle_import(FileInput) -> ImportReport = |api, f| api.bundle_import(f);
    /// Starts the full data export to a ZIP file (local and platform-held data); returns its job: progress via `job_progress`.
    export_start(ExportStartRequest) -> ExportStarted = |api, r| api.export_start(r);
    /// Where an export job stands: progress, category, and when finished its summary or error.
    export_status(ExportJobRef) -> ExportStatus = |api, r| api.export_status(r);
    /// Stops a running export; no file is left behind. True when it was still running.
    export_cancel(ExportJobRef) -> bool = |api, r| api.export_cancel(r);
    /// Checks an export ZIP against its manifest: every missing, extra, resized, changed or damaged file.
    export_verify(ExportVerifyRequest) -> VerifyReport = |api, r| api.export_verify(r);
    /// The categories an export includes, in order.
    export_categories(()) -> Vec<CategoryInfo> = |api, ()| api.export_categories();
    /// Cancels the account (D8): checks the typed name and the confirmation, locks the profile at once, asks the platform (retried until it confirms), then crypto-shreds the profile. Irreversible.
    account_cancel(CancelAccountForm) -> CancellationStatus = |api, f| api.cancel_account(f);
    /// Where an account cancellation stands (a pending one is retried first); after completion, its receipt.
    account_cancellation(()) -> CancellationStatus = |api, ()| api.cancellation_status();
    /// Deletes everything the platform holds for the account but keeps the account; the signed receipt goes into the deletion ledger.
    platform_data_erase(()) -> DeletionEntry = |api, ()| api.erase_platform_data();
    /// The deletion ledger: every deletion with its platform receipt, and whether the chain holds.
    deletions(()) -> DeletionLedgerView = |api, ()| api.deletions();
    /// Sends a rights request or complaint (access, correction, deletion, portability, withdrawal, complaint) to the platform.
    rights_request_new(NewRightsRequest) -> RightsRequest = |api, r| api.new_rights_request(r);
    /// The account's rights requests and complaints, with their status and answers.
    rights_requests(()) -> Vec<RightsRequest> = |api, ()| api.rights_requests();
    /// One sync pass now ("sync now"): pull other devices' changes, push everything due. Sends nothing without the hosting consent.
    sync_now(()) -> SyncReport = |api, ()| api.sync_once();
    /// Overall sync status, every item not synced with its reason, and the recent history.
    sync_status(()) -> SyncStatus = |api, ()| api.sync_status();
    /// Every sync conflict, with the base, local and platform instructions and their three-way merge.
    sync_conflicts(()) -> Vec<ConflictView> = |api, ()| api.sync_conflicts();
    /// Settles a conflict: keep mine, keep theirs, or merged instructions.
    sync_resolve(SyncResolveRequest) -> SyncStatus = |api, r| api.sync_resolve(r.kind, &r.id, r.resolution);
    /// Attests that the people whose personal information a dataset holds consented to its hosting (§1.5 4.4): a consent-ledger entry, sent with the dataset; a held-back dataset then syncs.
    sync_attest(SyncAttestRequest) -> SyncStatus = |api, r| api.sync_attest(r.kind, &r.id);
    /// Turns sync on or off for one agent.
    sync_agent_set(SyncAgentRequest) -> SyncStatus = |api, r| api.sync_agent_set(&r.id, r.on);
    /// Turns sync on or off for one item of any kind (turning a cancelled upload's dataset on resumes it where it stopped).
    sync_item_set(SyncItemRequest) -> SyncStatus = |api, r| api.sync_item_set(r.kind, &r.id, r.on);
    /// The dataset uploads running now, each with the bytes the platform holds and its total (memory only: cheap to poll every second).
    sync_uploads(()) -> Vec<UploadView> = |api, ()| Ok(api.sync_uploads());
    /// Stops a running upload before its next chunk; the dataset is parked with sync off and resumes at the platform's offset when turned on. `not_found` when no such upload runs.
    sync_cancel_upload(CancelUploadRequest) -> () = |api, r| api.sync_cancel_upload(r.kind, &r.id);
}
