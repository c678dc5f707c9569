// The typed client components use: one method per command, so command names live here only.
import type { Backend } from "./backend";
import type {
  AcceptPolicyRequest,
  AccountProfile,
  ConsentChange,
  ConsentRecord,
  ConsentSetRequest,
  CookiesView,
  LocalCategory,
  PolicyStatus,
  PurgeReport,
  Retention,
  FlushReport,
  HeldData,
  LedgerReport,
  LedgerView,
  LoginForm,
  Purpose,
  PurposeView,
  TelemetryItem,
  UiErrorReport,
  LogQuery,
  PlatformStatus,
  PolicyText,
  ProfilePatch,
  RegisterForm,
  SettingsView,
  SmsCodeSent,
  TransmissionRecord,
  Agent,
  AgentDraft,
  AgentSummary,
  AppStatus,
  DiffLine,
  ListQuery,
  Revision,
  RevisionSummary,
  BundleCheck,
  BundleExported,
  ChunkOptions,
  ChunkPage,
  Column,
  CsvPreview,
  Dataset,
  FileInput,
  HistoryEntry,
  ImportedApi,
  ImportReport,
  JobProgress,
  PiiSummary,
  Plugin,
  PluginDraft,
  PluginSummary,
  RowPage,
  SearchHit,
  Table,
  ConflictView,
  Resolution,
  ItemKind,
  SyncReport,
  SyncStatus,
  UploadView,
} from "./bindings";
import { HttpBackend, takeToken } from "./http";
import { inTauri, TauriBackend } from "./tauri";
import { watchLocked } from "../rights/locked.svelte";

export class Api {
  /** The transport, watched for `account_locked` (the app then shows the pending cancellation). */
  readonly backend: Backend;
  constructor(backend: Backend) {
    this.backend = watchLocked(backend);
  }

  appStatus(): Promise<AppStatus> {
    return this.backend.call("app_status", null);
  }
  profileUnlock(passphrase: string): Promise<AppStatus> {
    return this.backend.call("profile_unlock", { passphrase });
  }
  profileRetry(): Promise<AppStatus> {
    return this.backend.call("profile_retry", null);
  }
  agentDefaults(): Promise<AgentDraft> {
    return this.backend.call("agent_defaults", null);
  }
  agentsList(query: ListQuery): Promise<AgentSummary[]> {
    return this.backend.call("agents_list", query);
  }
  agentGet(id: string): Promise<Agent> {
    return this.backend.call("agent_get", { id });
  }
  agentCreate(draft: AgentDraft): Promise<Agent> {
    return this.backend.call("agent_create", draft);
  }
  agentUpdate(id: string, draft: AgentDraft, expectedVersion: number | null): Promise<Agent> {
    return this.backend.call("agent_update", { id, draft, expected_version: expectedVersion });
  }
  agentHistory(id: string): Promise<RevisionSummary[]> {
    return this.backend.call("agent_history", { id });
  }
  agentRevision(id: string, seq: number): Promise<Revision> {
    return this.backend.call("agent_revision", { id, seq });
  }
  agentDiff(id: string, from: number, to: number | null): Promise<DiffLine[]> {
    return this.backend.call("agent_diff", { id, from, to });
  }
  agentRestore(id: string, seq: number): Promise<Agent> {
    return this.backend.call("agent_restore", { id, seq });
  }
  agentDuplicate(id: string): Promise<Agent> {
    return this.backend.call("agent_duplicate", { id });
  }
  agentArchive(id: string, archived: boolean): Promise<Agent> {
    return this.backend.call("agent_archive", { id, archived });
  }
  agentDelete(id: string): Promise<null> {
    return this.backend.call("agent_delete", { id });
  }

  platformStatus(): Promise<PlatformStatus> {
    return this.backend.call("platform_status", null);
  }
  platformCheck(): Promise<PlatformStatus> {
    return this.backend.call("platform_check", null);
  }
  policyCurrent(): Promise<PolicyText> {
    return this.backend.call("policy_current", null);
  }
  acceptPolicy(policyVersion: number, method: AcceptPolicyRequest["method"]): Promise<ConsentRecord> {
    return this.backend.call("account_accept_policy", { policy_version: policyVersion, method });
  }
  requestSmsCode(phone: string): Promise<SmsCodeSent> {
    return this.backend.call("account_request_sms_code", { phone });
  }
  register(form: RegisterForm): Promise<AccountProfile> {
    return this.backend.call("account_register", form);
  }
  login(form: LoginForm): Promise<AccountProfile> {
    return this.backend.call("account_login", form);
  }
  logout(): Promise<PlatformStatus> {
    return this.backend.call("account_logout", null);
  }
  accountProfile(): Promise<AccountProfile> {
    return this.backend.call("account_profile", null);
  }
  updateProfile(patch: ProfilePatch): Promise<AccountProfile> {
    return this.backend.call("account_update_profile", patch);
  }
  settingsGet(): Promise<SettingsView> {
    return this.backend.call("settings_get", null);
  }
  setPlatformUrl(url: string | null): Promise<SettingsView> {
    return this.backend.call("settings_set_platform_url", { url });
  }
  transmissions(query: LogQuery): Promise<TransmissionRecord[]> {
    return this.backend.call("transmissions_list", query);
  }

  consentList(): Promise<PurposeView[]> {
    return this.backend.call("consent_list", null);
  }
  consentSet(request: ConsentSetRequest): Promise<ConsentChange> {
    return this.backend.call("consent_set", request);
  }
  consentLedger(): Promise<LedgerView> {
    return this.backend.call("consent_ledger", null);
  }
  consentVerify(): Promise<LedgerReport> {
    return this.backend.call("consent_verify", null);
  }
  telemetryPending(purpose: Purpose | null = null): Promise<TelemetryItem[]> {
    return this.backend.call("telemetry_pending", { purpose });
  }
  telemetryFlush(): Promise<FlushReport> {
    return this.backend.call("telemetry_flush", null);
  }
  telemetryUiError(report: UiErrorReport): Promise<boolean> {
    return this.backend.call("telemetry_ui_error", report);
  }
  dataHeld(): Promise<HeldData> {
    return this.backend.call("data_held", null);
  }

  cookiesList(): Promise<CookiesView> {
    return this.backend.call("cookies_list", null);
  }
  /** Deletes one cookie by name, or every cookie with `null`. */
  cookiesDelete(name: string | null): Promise<CookiesView> {
    return this.backend.call("cookies_delete", { name });
  }
  cookiesSetRefuse(refuse: boolean): Promise<CookiesView> {
    return this.backend.call("cookies_set_refuse", { refuse });
  }
  installationIdReset(): Promise<CookiesView> {
    return this.backend.call("installation_id_reset", null);
  }
  inventoryLocal(): Promise<LocalCategory[]> {
    return this.backend.call("inventory_local", null);
  }
  retentionGet(): Promise<Retention> {
    return this.backend.call("retention_get", null);
  }
  retentionSet(retention: Retention): Promise<PurgeReport> {
    return this.backend.call("retention_set", retention);
  }
  policyStatus(): Promise<PolicyStatus> {
    return this.backend.call("policy_status", null);
  }
  /** Accepts the newest policy (`policyVersion`) and consents again to `reconsent`. */
  policyAccept(policyVersion: number, reconsent: Purpose[]): Promise<PolicyStatus> {
    return this.backend.call("policy_accept", { policy_version: policyVersion, reconsent });
  }

  // --- Plugins (B2) ---
  /** What a document would become; writes nothing. */
  pluginPreview(file: FileInput): Promise<ImportedApi> {
    return this.backend.call("plugin_preview", file);
  }
  pluginImport(file: FileInput): Promise<Plugin> {
    return this.backend.call("plugin_import", file);
  }
  pluginsList(): Promise<PluginSummary[]> {
    return this.backend.call("plugins_list", null);
  }
  pluginGet(id: string): Promise<Plugin> {
    return this.backend.call("plugin_get", { id });
  }
  pluginUpdate(id: string, draft: PluginDraft, expectedVersion: number | null): Promise<Plugin> {
    return this.backend.call("plugin_update", { id, draft, expected_version: expectedVersion });
  }
  /** Stores the plugin's secret (`null` removes it). The answer never carries the secret. */
  pluginSetSecret(id: string, secret: string | null): Promise<Plugin> {
    return this.backend.call("plugin_set_secret", { id, secret });
  }
  pluginDelete(id: string): Promise<null> {
    return this.backend.call("plugin_delete", { id });
  }

  // --- Datasets and tables (B3) ---
  datasetImport(file: FileInput, chunking: ChunkOptions | null, job: string | null): Promise<Dataset> {
    return this.backend.call("dataset_import", { file, chunking, job });
  }
  datasetsList(): Promise<Dataset[]> {
    return this.backend.call("datasets_list", null);
  }
  datasetGet(id: string): Promise<Dataset> {
    return this.backend.call("dataset_get", { id });
  }
  datasetChunks(id: string, offset: number, limit: number): Promise<ChunkPage> {
    return this.backend.call("dataset_chunks", { id, offset, limit });
  }
  datasetUpdate(id: string, name: string, description: string, chunking: ChunkOptions): Promise<Dataset> {
    return this.backend.call("dataset_update", { id, name, description, chunking });
  }
  datasetDelete(id: string): Promise<null> {
    return this.backend.call("dataset_delete", { id });
  }
  jobProgress(job: string): Promise<JobProgress | null> {
    return this.backend.call("job_progress", { job });
  }
  tableCreate(name: string, description: string, columns: Column[]): Promise<Table> {
    return this.backend.call("table_create", { name, description, columns });
  }
  /** What a CSV file would become; writes nothing. */
  tablePreviewCsv(file: FileInput): Promise<CsvPreview> {
    return this.backend.call("table_preview_csv", file);
  }
  tableImportCsv(file: FileInput, columns: Column[] | null): Promise<Table> {
    return this.backend.call("table_import_csv", { file, columns });
  }
  tablesList(): Promise<Table[]> {
    return this.backend.call("tables_list", null);
  }
  tableGet(id: string): Promise<Table> {
    return this.backend.call("table_get", { id });
  }
  tableRows(id: string, offset: number, limit: number): Promise<RowPage> {
    return this.backend.call("table_rows", { id, offset, limit });
  }
  tableReplaceRows(id: string, columns: Column[] | null, rows: unknown[][], expectedVersion: number | null): Promise<Table> {
    return this.backend.call("table_replace_rows", { id, columns, rows, expected_version: expectedVersion });
  }
  tableUpdate(id: string, name: string, description: string): Promise<Table> {
    return this.backend.call("table_update", { id, name, description });
  }
  tableDelete(id: string): Promise<null> {
    return this.backend.call("table_delete", { id });
  }

  // --- Personal information ---
  piiScan(text: string): Promise<PiiSummary> {
    return this.backend.call("pii_scan", { text });
  }
  agentPii(id: string): Promise<PiiSummary> {
    return this.backend.call("agent_pii", { id });
  }

  // --- Search (B4) ---
  search(query: string, limit: number | null = null): Promise<SearchHit[]> {
    return this.backend.call("search", { query, limit });
  }
  /** Adds a submitted query to the local history (not called per keystroke). */
  searchRecord(query: string): Promise<null> {
    return this.backend.call("search_record", { query, limit: null });
  }
  searchHistory(): Promise<HistoryEntry[]> {
    return this.backend.call("search_history", null);
  }
  searchHistoryClear(): Promise<number> {
    return this.backend.call("search_history_clear", null);
  }

  // --- Bundles (B5) ---
  /** Writes the bundle to `path` (desktop), or returns it as base64 (`path` null, browser). */
  bundleExport(agentId: string, path: string | null): Promise<BundleExported> {
    return this.backend.call("bundle_export", { agent_id: agentId, path });
  }
  /** Validates a bundle without writing anything. */
  bundleCheck(file: FileInput): Promise<BundleCheck> {
    return this.backend.call("bundle_check", file);
  }
  bundleImport(file: FileInput): Promise<ImportReport> {
    return this.backend.call("bundle_import", file);
  }

  // --- Consented sync (C1–C6) ---
  /** One pass now: pull, then push what is due. Sends nothing without the hosting consent. */
  syncNow(): Promise<SyncReport> {
    return this.backend.call("sync_now", null);
  }
  syncStatus(): Promise<SyncStatus> {
    return this.backend.call("sync_status", null);
  }
  syncConflicts(): Promise<ConflictView[]> {
    return this.backend.call("sync_conflicts", null);
  }
  syncResolve(kind: ItemKind, id: string, resolution: Resolution): Promise<SyncStatus> {
    return this.backend.call("sync_resolve", { kind, id, resolution });
  }
  syncAgentSet(id: string, on: boolean): Promise<SyncStatus> {
    return this.backend.call("sync_agent_set", { id, on });
  }
  /** Turns sync on or off for one item of any kind (a cancelled upload resumes when turned on). */
  syncItemSet(kind: ItemKind, id: string, on: boolean): Promise<SyncStatus> {
    return this.backend.call("sync_item_set", { kind, id, on });
  }
  /** The dataset uploads running now (memory only: cheap to poll every second). */
  syncUploads(): Promise<UploadView[]> {
    return this.backend.call("sync_uploads", null);
  }
  /** Stops a running upload before its next chunk; `not_found` when none runs. */
  syncCancelUpload(kind: ItemKind, id: string): Promise<null> {
    return this.backend.call("sync_cancel_upload", { kind, id });
  }
}

/** Picks the transport once at start-up: Tauri IPC in the app, the HTTP bridge elsewhere. */
export function selectBackend(): Backend {
  if (inTauri()) return new TauriBackend();
  return new HttpBackend(takeToken());
}
