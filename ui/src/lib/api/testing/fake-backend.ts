// An in-memory `Backend` for component tests. It follows the command surface's contract
// (versions, conflicts, coded validation errors, instruction revisions) closely enough for
// the UI's behaviour to be exercised, and records every call so tests can assert on them.
import type { Backend, CommandName, RequestOf, ResponseOf } from "../backend";
import type {
  AccountProfile,
  Agent,
  AgentDraft,
  ApiError,
  AppStatus,
  ConsentChange,
  ConsentRecord,
  CookiesView,
  DiffLine,
  LocalCategory,
  PolicyStatus,
  PurgeReport,
  Retention,
  HeldData,
  LedgerEntry,
  LedgerReport,
  PlatformStatus,
  Purpose,
  PurposeInfo,
  TelemetryItem,
  PolicyText,
  Revision,
  SettingsView,
  TransmissionRecord,
} from "../bindings";
import { FakeLibrary, NOT_MINE } from "./fake-library";
import { ALLOWED_WHILE_LOCKED, FakeRights } from "./fake-rights";
import { FakeSync } from "./fake-sync";

export interface RecordedCall {
  command: CommandName;
  request: unknown;
}

/** The SMS code the fake platform "sends" to every phone. */
export const FAKE_SMS_CODE = "123456";

function ageOf(dob: string, today = new Date()): number {
  const [y, m, d] = dob.split("-").map(Number) as [number, number, number];
  let age = today.getFullYear() - y;
  if (today.getMonth() + 1 < m || (today.getMonth() + 1 === m && today.getDate() < d)) age -= 1;
  return age;
}

function fail(code: ApiError["code"], message: string, field: string | null = null, hint: string | null = null): never {
  throw { code, message, hint, field } satisfies ApiError;
}

export function defaultDraft(): AgentDraft {
  return {
    name: "",
    description: "",
    icon: "🤖",
    instructions: "",
    opening_message: "",
    suggested_questions: [],
    model: { model: "local-default", temperature: 0.7, top_p: 1, max_tokens: 1024, response_format: "text" },
    variables: [],
    plugin_ids: [],
    dataset_ids: [],
  };
}

/** A simple LCS line diff, good enough for tests. */
export function lineDiff(from: string, to: string): DiffLine[] {
  const a = from.split("\n");
  const b = to.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: "equal", text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ kind: "delete", text: a[i++]! });
    else out.push({ kind: "insert", text: b[j++]! });
  }
  while (i < n) out.push({ kind: "delete", text: a[i++]! });
  while (j < m) out.push({ kind: "insert", text: b[j++]! });
  return out;
}

/** The purposes catalogue, in the order the command surface lists it. */
export const FAKE_PURPOSES: readonly PurposeInfo[] = (
  [
    ["service_information", "—", false, true, "服务信息", "Service information"],
    ["account_operation", "1.1", true, false, "账号运营", "Account operation"],
    ["security_device_info", "1.2(2)", false, false, "安全与设备信息", "Security and device information"],
    ["usage_analytics", "1.2(3)", false, false, "使用情况分析", "Usage analytics"],
    ["crash_reports", "1.2(3)", false, false, "崩溃报告", "Crash reports"],
    ["marketing", "1.2(6)", false, false, "营销短信与电话", "Marketing SMS and calls"],
    ["research", "1.2(7)", false, false, "匿名化研究", "Anonymised research"],
    ["developer_data_hosting", "1.5 (4.5)", false, false, "开发者数据托管", "Developer data hosting"],
    ["cross_border_transfer", "3.1", false, false, "跨境传输", "Cross-border transfer"],
    ["third_party_sharing", "4.2", false, false, "向第三方共享", "Third-party sharing"],
  ] as const
).map(([purpose, clause, required, exempt, zh, en]) => ({
  purpose,
  clause,
  required,
  exempt,
  title: { zh_cn: zh, en },
  description: { zh_cn: `${zh}：说明`, en: `${en}: what is sent and why.` },
  policy_excerpt: { zh_cn: `${zh}：政策原文`, en: `${en}: the policy's words.` },
}));

export class FakeBackend implements Backend {
  calls: RecordedCall[] = [];
  status: AppStatus = {
    ready: true,
    data_dir: "/tmp/fake",
    key_mode: "passphrase",
    profile_exists: true,
    error: null,
    app_version: "0.0.0-test",
    schema_version: 1,
  };
  agents = new Map<string, Agent>();
  revisions = new Map<string, Revision[]>();
  /** Plugins, datasets, tables, search history and bundles. */
  library = new FakeLibrary({
    agents: this.agents,
    now: () => this.now(),
    putAgent: (agent) => {
      this.agents.set(agent.id, structuredClone(agent));
      if (!this.revisions.has(agent.id))
        this.revisions.set(agent.id, [{ seq: 1, instructions: agent.instructions, created_at: agent.updated_at, restored_from: null }]);
    },
  });
  /** Export, deletion, rights requests and account cancellation (D6–D9). */
  rights = new FakeRights({
    now: () => this.now(),
    online: () => this.online,
    account: () => this.signedIn,
    signOut: () => {
      this.signedIn = null;
    },
  });
  /** Consented sync: the outbox, conflicts, the per-agent switch and passes (C1–C6). */
  sync = new FakeSync({
    now: () => this.now(),
    online: () => this.online,
    signedIn: () => this.signedIn !== null,
    hosting: () => this.consents.get("developer_data_hosting")?.granted ?? false,
    agents: this.agents,
    setInstructions: (id, instructions) => {
      const agent = this.get(id);
      agent.instructions = instructions;
      agent.version += 1;
      agent.updated_at = this.now();
      this.addRevision(agent, instructions, null);
    },
  });
  /** When set, the next call of that command rejects with this error. */
  failNext = new Map<CommandName, ApiError>();
  /** Milliseconds each call waits before answering (lets tests observe "Saving…"). */
  latency = 0;
  private nextId = 1;

  // --- The platform side (account commands) ---
  /** Whether the platform answers; `platform_check` reports it, account calls fail when false. */
  online = true;
  platformUrl = "http://127.0.0.1:9";
  defaultPlatformUrl = "https://platform.aiwellflow.example";
  customPlatformUrl = false;
  policyAccepted = false;
  signedIn: AccountProfile | null = null;
  accounts = new Map<string, AccountProfile & { password: string }>();
  transmissionLog: TransmissionRecord[] = [];
  policy: PolicyText = { version: 1, zh_cn: "隐私政策（测试）第 7 条 未成年人条款", en: "Privacy policy (test). 7 Terms for Minors" };
  private clock = Date.parse("2025-01-01T00:00:00Z");

  // --- Consent and telemetry ---
  consents = new Map<Purpose, ConsentRecord>();
  ledger: LedgerEntry[] = [];
  acknowledgedUpto = 0;
  telemetryQueue: TelemetryItem[] = [];
  /** What `consent_verify` answers (default: intact over the ledger). */
  verifyReport: LedgerReport | null = null;
  /** Items the platform "deletes" on a withdrawal. */
  platformDeletes = 12;
  held: HeldData = {
    categories: [
      { category: "account", count: 1, retention: "until you cancel the account" },
      { category: "telemetry:usage_analytics", count: 3, retention: "90 days" },
    ],
  };
  uiErrorsQueued = 0;

  // --- Cookies, inventory, retention, policy versions ---
  cookies: CookiesView = {
    refuse_cookies: false,
    cookies: [
      { name: "awf_session", purpose: "Keeps the session with the platform.", set_at: "2025-01-01T00:00:00Z" },
      { name: "awf_anon", purpose: "Counts anonymous visits.", set_at: "2025-01-01T00:00:05Z" },
    ],
    installation_id: "01INSTALLATION0000000000001",
  };
  private installationSeq = 1;
  local: LocalCategory[] = [
    { category: "agents", count: 3, bytes: 2048, location: "/tmp/fake/store", retention: "until you delete them" },
    { category: "transmission_log", count: 12, bytes: 1_536_000, location: "/tmp/fake/store", retention: "30 days" },
    { category: "platform_tokens", count: 1, bytes: 0, location: "OS keyring", retention: "until log-out" },
    { category: "search_history", count: 0, bytes: 0, location: "not kept", retention: "Studio keeps no search history" },
  ];
  retention: Retention = { transmission_log_days: 30, telemetry_queue_days: 14 };
  /** What the next `retention_set` reports as purged. */
  purge: PurgeReport = { transmissions: 4, telemetry: 1 };
  /** The policy status; when null, derived from `policy` and `policyAccepted` (nothing to do). */
  policyState: PolicyStatus | null = null;

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  /** Adds an agent directly, as if created earlier. */
  seed(partial: Partial<AgentDraft> & { name: string; archived?: boolean }): Agent {
    const draft = { ...defaultDraft(), ...partial };
    const agent = this.create(draft);
    if (partial.archived) agent.archived = true;
    return structuredClone(agent);
  }

  callsOf(command: CommandName): RecordedCall[] {
    return this.calls.filter((c) => c.command === command);
  }

  async call<K extends CommandName>(command: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    this.calls.push({ command, request: structuredClone(request) });
    if (this.latency > 0) await new Promise((r) => setTimeout(r, this.latency));
    else await Promise.resolve();
    const injected = this.failNext.get(command);
    if (injected) {
      this.failNext.delete(command);
      throw injected;
    }
    if (this.rights.locked && !ALLOWED_WHILE_LOCKED.has(command))
      fail("account_locked", "The account is being cancelled; the profile is locked.", null, "Wait for the cancellation to complete.");
    return structuredClone(this.dispatch(command, request)) as ResponseOf<K>;
  }

  private get(id: string): Agent {
    const agent = this.agents.get(id);
    if (!agent) fail("not_found", `No agent with id ${id}.`);
    return agent;
  }

  private validate(draft: AgentDraft): void {
    if (draft.name.trim() === "") fail("invalid_input", "The name must not be empty.", "name", "Give the agent a name.");
    const t = draft.model.temperature;
    if (!(t >= 0 && t <= 2)) fail("invalid_input", "Temperature must be between 0 and 2.", "model.temperature");
    draft.variables.forEach((v, i) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name))
        fail("invalid_input", `Variable name "${v.name}" is not an identifier.`, `variables[${i}].name`);
    });
  }

  private create(draft: AgentDraft): Agent {
    this.validate(draft);
    const now = this.now();
    const id = `agent-${this.nextId++}`;
    const agent: Agent = {
      ...structuredClone(draft),
      id,
      archived: false,
      created_at: now,
      updated_at: now,
      version: 1,
      latest_revision: 1,
    };
    this.agents.set(id, agent);
    this.revisions.set(id, [{ seq: 1, instructions: draft.instructions, created_at: now, restored_from: null }]);
    this.sync.changed("agent", id);
    return agent;
  }

  private addRevision(agent: Agent, instructions: string, restoredFrom: number | null): void {
    const list = this.revisions.get(agent.id)!;
    const seq = list.length + 1;
    list.push({ seq, instructions, created_at: agent.updated_at, restored_from: restoredFrom });
    agent.latest_revision = seq;
  }

  platformStatus(): PlatformStatus {
    return {
      platform_url: this.platformUrl,
      online: this.online,
      last_checked: "2025-01-01T00:00:00Z",
      last_error: this.online ? null : "connection refused",
      platform: this.online
        ? {
            server: "fake",
            api_version: "v1",
            region: { code: "local", name: "Local", jurisdiction: "CN" },
            policy_version: this.policy.version,
            dev_mode: true,
          }
        : null,
      signed_in: this.signedIn !== null,
      account: this.signedIn,
      policy_accepted: this.policyAccepted,
    };
  }

  private settingsView(): SettingsView {
    return {
      platform_url: this.platformUrl,
      custom_platform_url: this.customPlatformUrl,
      default_platform_url: this.defaultPlatformUrl,
    };
  }

  /** An account request: refused without consent, failed when offline. */
  private accountRequest(): void {
    if (!this.policyAccepted)
      fail("consent_required", "Accept the privacy policy first.", null, "Tick the privacy policy box.");
    if (!this.online) fail("platform_unreachable", "The platform cannot be reached.", null, "Try again later.");
  }

  private profileOf(account: AccountProfile & { password: string }): AccountProfile {
    const { password: _p, ...profile } = account;
    return profile;
  }

  private accountDispatch(command: CommandName, request: unknown): unknown {
    switch (command) {
      case "platform_status":
      case "platform_check":
        return this.platformStatus();
      case "policy_current":
        return this.policy;
      case "account_accept_policy": {
        const r = request as RequestOf<"account_accept_policy">;
        if (r.policy_version !== this.policy.version) fail("policy_outdated", "Outdated policy.", "policy_version");
        this.policyAccepted = true;
        return {
          purpose: "account_operation",
          granted: true,
          at: "2025-01-01T00:00:00Z",
          policy_version: r.policy_version,
          method: r.method ?? "sign_up_form",
        };
      }
      case "account_request_sms_code":
        this.accountRequest();
        return { expires_in_secs: 300, resend_after_secs: 60 };
      case "account_register": {
        const r = request as RequestOf<"account_register">;
        if (ageOf(r.date_of_birth) < 18 && !r.guardian?.attestation)
          fail("guardian_required", "A guardian's consent is required.", "guardian");
        this.accountRequest();
        if (r.sms_code !== FAKE_SMS_CODE) fail("sms_code_invalid", "The code is wrong.", "sms_code");
        if (this.accounts.has(r.account_name)) fail("account_exists", "Taken.", "account_name");
        const age = ageOf(r.date_of_birth);
        const account = {
          account_id: `acc-${this.accounts.size + 1}`,
          account_name: r.account_name,
          phone: r.phone,
          display_name: null,
          email: null,
          organisation: null,
          date_of_birth: r.date_of_birth,
          age_band: age < 14 ? "child" : age < 18 ? "minor" : "adult",
          sensitive_personal_information: age < 14,
          guardian: r.guardian ? { name: r.guardian.name, phone: r.guardian.phone, consented_at: "2025-01-01T00:00:00Z" } : null,
          region: "local",
          policy_version_accepted: this.policy.version,
          created_at: "2025-01-01T00:00:00Z",
          updated_at: "2025-01-01T00:00:00Z",
          password: r.password,
        } satisfies AccountProfile & { password: string };
        this.accounts.set(r.account_name, account);
        this.signedIn = this.profileOf(account);
        return this.signedIn;
      }
      case "account_login": {
        const r = request as RequestOf<"account_login">;
        this.accountRequest();
        const account = [...this.accounts.values()].find((a) => a.account_name === r.login || a.phone === r.login);
        if (!account || account.password !== r.password)
          fail("invalid_credentials", "Wrong account name or password.", null, "Check both and try again.");
        this.signedIn = this.profileOf(account);
        return this.signedIn;
      }
      case "account_logout":
        this.signedIn = null;
        return this.platformStatus();
      case "account_profile":
        if (!this.signedIn) fail("not_signed_in", "Not signed in.");
        this.accountRequest();
        return this.signedIn;
      case "account_update_profile": {
        if (!this.signedIn) fail("not_signed_in", "Not signed in.");
        this.accountRequest();
        const patch = request as RequestOf<"account_update_profile">;
        const next = { ...this.signedIn };
        if (patch.account_name !== undefined && patch.account_name !== null) next.account_name = patch.account_name;
        for (const key of ["display_name", "email", "organisation"] as const) {
          const v = patch[key];
          if (v !== undefined && v !== null) next[key] = v === "" ? null : v;
        }
        this.signedIn = next;
        return next;
      }
      case "settings_get":
        return this.settingsView();
      case "settings_set_platform_url": {
        const { url } = request as RequestOf<"settings_set_platform_url">;
        if (url && url.startsWith("http://") && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])/.test(url))
          fail("insecure_address", "Plain http:// is only allowed to this computer.", "platform_url", "Use https://.");
        this.customPlatformUrl = Boolean(url);
        this.platformUrl = url || this.defaultPlatformUrl;
        return this.settingsView();
      }
      case "transmissions_list": {
        const q = request as RequestOf<"transmissions_list">;
        return this.transmissionLog
          .filter((r) => !q.purpose || r.purpose === q.purpose)
          .filter((r) => !q.outcome || r.outcome === q.outcome)
          .filter((r) => !q.since || r.at >= q.since);
      }
      default:
        return this.privacyDispatch(command, request);
    }
  }

  private granted(purpose: Purpose): boolean {
    const info = FAKE_PURPOSES.find((p) => p.purpose === purpose)!;
    if (info.exempt) return true;
    if (purpose === "account_operation" && !this.consents.has(purpose)) return this.policyAccepted;
    return this.consents.get(purpose)?.granted ?? false;
  }

  /** Queues a telemetry item, as the backend does when the purpose is granted. */
  queue(purpose: Purpose, kind: string, data: unknown): TelemetryItem | null {
    if (!this.granted(purpose)) return null;
    const item: TelemetryItem = { id: `01TEST${this.telemetryQueue.length + 1}`, purpose, kind, at: this.now(), data };
    this.telemetryQueue.push(item);
    return item;
  }

  private privacyDispatch(command: CommandName, request: unknown): unknown {
    switch (command) {
      case "consent_list":
        return FAKE_PURPOSES.map((info) => ({
          info,
          granted: this.granted(info.purpose),
          record: this.consents.get(info.purpose) ?? null,
        }));
      case "consent_set": {
        const r = request as RequestOf<"consent_set">;
        const info = FAKE_PURPOSES.find((p) => p.purpose === r.purpose)!;
        if (info.exempt) fail("invalid_input", "This purpose needs no consent.", "purpose");
        const record: ConsentRecord = {
          purpose: r.purpose,
          granted: r.granted,
          at: this.now(),
          policy_version: this.policy.version,
          method: r.method ?? "consent_centre",
        };
        this.consents.set(r.purpose, record);
        if (r.purpose === "account_operation") this.policyAccepted = r.granted;
        const seq = this.ledger.length + 1;
        const prev = this.ledger.at(-1)?.hash ?? "0".repeat(64);
        this.ledger.push({
          ...record,
          seq,
          receipt_id: `rcpt-${seq}`,
          prev_hash: prev,
          hash: `${seq.toString(16).padStart(4, "0")}${"ab".repeat(30)}`,
        });
        const change: ConsentChange = {
          record,
          queue_purged: 0,
          receipts_sent: 0,
          receipts_pending: 0,
          platform_deleted: null,
          note: null,
        };
        if (!r.granted) {
          const before = this.telemetryQueue.length;
          this.telemetryQueue = this.telemetryQueue.filter((i) => i.purpose !== r.purpose);
          change.queue_purged = before - this.telemetryQueue.length;
        }
        if (this.signedIn && this.online) {
          change.receipts_sent = this.ledger.length - this.acknowledgedUpto;
          this.acknowledgedUpto = this.ledger.length;
          if (!r.granted) change.platform_deleted = this.platformDeletes;
        } else {
          change.note = this.signedIn
            ? "The receipt will be sent later: the platform cannot be reached."
            : "Not signed in: the receipt will be sent when you log in.";
        }
        change.receipts_pending = this.ledger.length - this.acknowledgedUpto;
        return change;
      }
      case "consent_ledger":
        return { entries: this.ledger, acknowledged_upto: this.acknowledgedUpto };
      case "consent_verify":
        return this.verifyReport ?? { intact: true, entries: this.ledger.length, problem: null, message: null };
      case "telemetry_pending": {
        const q = request as RequestOf<"telemetry_pending">;
        return this.telemetryQueue.filter((i) => !q.purpose || i.purpose === q.purpose);
      }
      case "telemetry_flush": {
        const counts = new Map<Purpose, number>();
        let receipts = 0;
        if (this.signedIn && this.online) {
          receipts = this.ledger.length - this.acknowledgedUpto;
          this.acknowledgedUpto = this.ledger.length;
          for (const item of this.telemetryQueue) {
            if (!this.granted(item.purpose)) continue;
            counts.set(item.purpose, (counts.get(item.purpose) ?? 0) + 1);
            this.transmissionLog.unshift({
              seq: this.transmissionLog.length + 1,
              at: this.now(),
              method: "POST",
              path: `/v1/telemetry/${item.purpose}`,
              host: this.platformUrl,
              purpose: item.purpose,
              outcome: "sent",
              status: 200,
              bytes_up: 200,
              bytes_down: 20,
              preview: JSON.stringify(item.data),
              error: null,
            });
          }
          this.telemetryQueue = this.telemetryQueue.filter((i) => !counts.has(i.purpose));
        }
        return {
          receipts_sent: receipts,
          sent: [...counts].map(([purpose, count]) => ({ purpose, count })),
          pending: this.telemetryQueue.length,
        };
      }
      case "telemetry_ui_error": {
        const r = request as RequestOf<"telemetry_ui_error">;
        const queued = this.queue("crash_reports", "ui_error", r) !== null;
        if (queued) this.uiErrorsQueued += 1;
        return queued;
      }
      case "cookies_list":
        return this.cookies;
      case "cookies_delete": {
        const { name } = request as RequestOf<"cookies_delete">;
        this.cookies.cookies = name === null ? [] : this.cookies.cookies.filter((c) => c.name !== name);
        return this.cookies;
      }
      case "cookies_set_refuse": {
        const { refuse } = request as RequestOf<"cookies_set_refuse">;
        this.cookies.refuse_cookies = refuse;
        if (refuse) this.cookies.cookies = [];
        return this.cookies;
      }
      case "installation_id_reset":
        this.installationSeq += 1;
        this.cookies.installation_id = `01INSTALLATION${String(this.installationSeq).padStart(13, "0")}`;
        return this.cookies;
      case "inventory_local":
        return this.local;
      case "retention_get":
        return this.retention;
      case "retention_set": {
        const r = request as RequestOf<"retention_set">;
        for (const field of ["transmission_log_days", "telemetry_queue_days"] as const) {
          const days = r[field];
          if (!Number.isInteger(days) || days < 1 || days > 3650)
            fail("invalid_input", "Retention must be 1 to 3,650 days.", field, "Enter a number of days between 1 and 3650.");
        }
        this.retention = { ...r };
        return this.purge;
      }
      case "policy_status":
        return this.policyStatusNow();
      case "policy_accept": {
        const r = request as RequestOf<"policy_accept">;
        const status = this.policyStatusNow();
        if (r.policy_version !== status.current_version)
          fail("policy_outdated", "A newer policy version is known.", "policy_version");
        for (const purpose of r.reconsent) this.privacyDispatch("consent_set", { purpose, granted: true, method: "consent_centre" });
        this.policyAccepted = true;
        this.policyState = {
          ...status,
          accepted_version: status.current_version,
          material: false,
          changes: [],
          needs_reconsent: [],
          new_purposes: [],
          diff_en: [],
          diff_zh: [],
        };
        return this.policyState;
      }
      case "data_held":
        if (!this.signedIn) fail("not_signed_in", "Not signed in.", null, "Log in first.");
        if (!this.online) fail("platform_unreachable", "The platform cannot be reached.", null, "Try again later.");
        return this.held;
      default: {
        const answer = this.rights.dispatch(command, request);
        if (answer !== NOT_MINE) return answer;
        const synced = this.sync.dispatch(command, request);
        return synced === NOT_MINE ? undefined : synced;
      }
    }
  }

  private policyStatusNow(): PolicyStatus {
    return (
      this.policyState ?? {
        accepted_version: this.policyAccepted ? this.policy.version : null,
        current_version: this.policy.version,
        material: false,
        changes: [],
        needs_reconsent: [],
        new_purposes: [],
        diff_en: [],
        diff_zh: [],
      }
    );
  }

  private dispatch(command: CommandName, request: unknown): unknown {
    switch (command) {
      case "app_status":
        return this.status;
      case "profile_unlock": {
        const { passphrase } = request as RequestOf<"profile_unlock">;
        if (passphrase.length < 8) fail("invalid_input", "Too short.", "passphrase");
        this.status = { ...this.status, ready: true, error: null, key_mode: "passphrase" };
        return this.status;
      }
      case "profile_retry":
        return this.status;
      case "agent_defaults":
        return defaultDraft();
      case "agents_list": {
        const q = request as RequestOf<"agents_list">;
        const needle = q.filter.toLowerCase();
        return [...this.agents.values()]
          .filter((a) => q.include_archived || !a.archived)
          .filter((a) => a.name.toLowerCase().includes(needle) || a.description.toLowerCase().includes(needle))
          .sort((x, y) => y.updated_at.localeCompare(x.updated_at))
          .map((a) => ({
            id: a.id,
            name: a.name,
            description: a.description,
            icon: a.icon,
            archived: a.archived,
            updated_at: a.updated_at,
            version: a.version,
          }));
      }
      case "agent_get":
        return this.get((request as RequestOf<"agent_get">).id);
      case "agent_create":
        return this.create(request as AgentDraft);
      case "agent_update": {
        const { id, draft, expected_version } = request as RequestOf<"agent_update">;
        const agent = this.get(id);
        if (expected_version !== null && expected_version !== agent.version)
          fail("conflict", "This agent was changed elsewhere.", null, "Reload to see the latest version.");
        this.validate(draft);
        const changed = draft.instructions !== agent.instructions;
        Object.assign(agent, structuredClone(draft));
        agent.version += 1;
        agent.updated_at = this.now();
        if (changed) this.addRevision(agent, draft.instructions, null);
        this.sync.changed("agent", id);
        return agent;
      }
      case "agent_history": {
        const { id } = request as RequestOf<"agent_history">;
        this.get(id);
        return [...this.revisions.get(id)!].reverse().map((r) => ({
          seq: r.seq,
          created_at: r.created_at,
          chars: r.instructions.length,
          first_line: r.instructions.split("\n")[0] ?? "",
          restored_from: r.restored_from,
        }));
      }
      case "agent_revision": {
        const { id, seq } = request as RequestOf<"agent_revision">;
        const rev = this.revisions.get(id)?.find((r) => r.seq === seq);
        if (!rev) fail("not_found", `No revision ${seq}.`);
        return rev;
      }
      case "agent_diff": {
        const { id, from, to } = request as RequestOf<"agent_diff">;
        const agent = this.get(id);
        const revs = this.revisions.get(id)!;
        const a = revs.find((r) => r.seq === from);
        if (!a) fail("not_found", `No revision ${from}.`);
        const b = to === null ? agent.instructions : revs.find((r) => r.seq === to)?.instructions;
        if (b === undefined) fail("not_found", `No revision ${to}.`);
        return lineDiff(a.instructions, b);
      }
      case "agent_restore": {
        const { id, seq } = request as RequestOf<"agent_restore">;
        const agent = this.get(id);
        const rev = this.revisions.get(id)!.find((r) => r.seq === seq);
        if (!rev) fail("not_found", `No revision ${seq}.`);
        agent.instructions = rev.instructions;
        agent.version += 1;
        agent.updated_at = this.now();
        this.addRevision(agent, rev.instructions, seq);
        return agent;
      }
      case "agent_duplicate": {
        const agent = this.get((request as RequestOf<"agent_duplicate">).id);
        const { id: _id, archived: _a, created_at: _c, updated_at: _u, version: _v, latest_revision: _l, ...draft } = agent;
        return this.create({ ...draft, name: `${agent.name} (copy)` });
      }
      case "agent_archive": {
        const { id, archived } = request as RequestOf<"agent_archive">;
        const agent = this.get(id);
        agent.archived = archived;
        agent.version += 1;
        agent.updated_at = this.now();
        return agent;
      }
      case "agent_delete": {
        const { id } = request as RequestOf<"agent_delete">;
        this.get(id);
        this.agents.delete(id);
        this.revisions.delete(id);
        return null;
      }
      default: {
        const answer = this.library.dispatch(command, request);
        return answer === NOT_MINE ? this.accountDispatch(command, request) : answer;
      }
    }
  }
}
