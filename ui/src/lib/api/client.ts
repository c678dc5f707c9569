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
} from "./bindings";
import { HttpBackend, takeToken } from "./http";
import { inTauri, TauriBackend } from "./tauri";

export class Api {
  constructor(readonly backend: Backend) {}

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
}

/** Picks the transport once at start-up: Tauri IPC in the app, the HTTP bridge elsewhere. */
export function selectBackend(): Backend {
  if (inTauri()) return new TauriBackend();
  return new HttpBackend(takeToken());
}
