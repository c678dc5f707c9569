// Consented sync as the UI sees it (SPEC C5): the status (`sync_status`), whether the hosting
// consent is given, the last pass's report and the conflicts. Shared by the header indicator,
// the sync panel and the agent editor through the component context. It re-reads the status
// every few seconds (local reads only: the passes themselves run in the shell's background
// worker, or on "Sync now"). Dataset uploads in progress (`sync_uploads`, memory only) are
// polled every second while one runs or a pass started here is running, and can be cancelled.
import { getContext, setContext } from "svelte";
import { SvelteMap } from "svelte/reactivity";
import type { Api } from "../api/client";
import { toApiError } from "../api/backend";
import type { ApiError, ConflictView, ItemKind, ItemView, Resolution, SyncReport, SyncStatus, UploadView } from "../api/bindings";

export type SyncState = "checking" | "synced" | "pending" | "conflicts" | "errors" | "offline" | "off";

export const DEFAULT_SYNC_POLL_MS = 5_000;
/** How often uploads in progress are re-read while one runs. */
export const DEFAULT_UPLOAD_POLL_MS = 1_000;

/** An upload as the panel shows it: running, being cancelled, or cancelled here (paused). */
export interface UploadRow extends UploadView {
  state: "running" | "cancelling" | "cancelled";
}

/** Conflict markers left in a text (a line starting with seven `<`, `=` or `>`). */
export function hasConflictMarkers(text: string): boolean {
  return /^(<{7}|={7}|>{7})/m.test(text);
}

export class SyncStore {
  status = $state<SyncStatus | null>(null);
  /** Whether the developer-data hosting consent is given (null: not known yet). */
  hosting = $state<boolean | null>(null);
  /** The last pass run from the UI. */
  report = $state<SyncReport | null>(null);
  conflicts = $state<ConflictView[]>([]);
  error = $state<ApiError | null>(null);
  busy = $state(false);
  /** Bumped whenever a pass may have changed local items (history moved, resolve, sync now). */
  version = $state(0);
  /** Uploads running now, then those cancelled from this panel (until resumed). */
  uploads = $state<UploadRow[]>([]);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private uploadTimer: ReturnType<typeof setTimeout> | undefined;
  /** Uploads cancelled from here, by `kind/id`, as last seen running. */
  private cancelled = new SvelteMap<string, UploadView>();
  private running = false;
  private lastEvent = "";
  /** The platform's connectivity as last told (null: not known yet). */
  private lastOnline: boolean | null = null;

  constructor(
    private readonly api: Api,
    private readonly pollMs: number = DEFAULT_SYNC_POLL_MS,
    private readonly uploadPollMs: number = DEFAULT_UPLOAD_POLL_MS,
  ) {}

  /** The overall state; `platformOnline` false (the header's connectivity) reads as offline. */
  stateWith(platformOnline: boolean | null): SyncState {
    if (this.hosting === false) return "off";
    if (!this.status) return "checking";
    const o = this.status.overview;
    if (o.conflicts > 0) return "conflicts";
    // The last pass's "offline" counts until the platform check says it is back.
    if (platformOnline === false || (platformOnline !== true && this.report?.offline)) return "offline";
    if (o.errors > 0) return "errors";
    if (o.pending + o.held_back > 0) return "pending";
    return "synced";
  }

  /** How many items wait (pending and held back). */
  get waiting(): number {
    const o = this.status?.overview;
    return o ? o.pending + o.held_back : 0;
  }

  /** An item's line in the status; absent means synced (or never changed). */
  itemOf(kind: ItemKind, id: string): ItemView | undefined {
    return this.status?.items.find((i) => i.kind === kind && i.id === id);
  }

  start(): void {
    this.running = true;
    void this.refresh();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.uploadTimer);
    this.uploadTimer = undefined;
  }

  /** Re-reads the status, the hosting consent and (when there are any) the conflicts. */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      const [status, purposes] = await Promise.all([this.api.syncStatus(), this.api.consentList()]);
      this.take(status);
      this.hosting = purposes.find((p) => p.info.purpose === "developer_data_hosting")?.granted ?? false;
      this.conflicts = status.overview.conflicts > 0 || this.conflicts.length > 0 ? await this.api.syncConflicts() : [];
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason);
    }
    this.schedule();
    if (this.uploadTimer === undefined) await this.pollUploads();
  }

  /**
   * Re-reads the uploads in progress; again every second while one runs or a pass started here
   * runs. An upload that left the list (finished, or stopped by its cancel) re-reads the status.
   */
  async pollUploads(): Promise<void> {
    clearTimeout(this.uploadTimer);
    this.uploadTimer = undefined;
    let running: UploadView[];
    try {
      running = await this.api.syncUploads();
    } catch {
      return;
    }
    const before = this.uploads.filter((u) => u.state !== "cancelled").length;
    const key = (u: { kind: ItemKind; id: string }) => `${u.kind}/${u.id}`;
    for (const u of running) if (this.cancelled.has(key(u))) this.cancelled.set(key(u), u);
    const rows: UploadRow[] = running.map((u) => ({ ...u, state: u.cancelling || this.cancelled.has(key(u)) ? "cancelling" : "running" }));
    for (const [k, u] of this.cancelled) {
      if (!running.some((r) => key(r) === k)) rows.push({ ...u, cancelling: false, state: "cancelled" });
    }
    this.uploads = rows;
    if (running.length < before) void this.refresh();
    if ((running.length > 0 || this.busy) && (this.running || this.busy)) {
      this.uploadTimer = setTimeout(() => void this.pollUploads(), this.uploadPollMs);
    }
  }

  /** Asks a running upload to stop before its next chunk; it then shows as cancelled (paused). */
  async cancelUpload(kind: ItemKind, id: string): Promise<boolean> {
    const u = this.uploads.find((x) => x.kind === kind && x.id === id);
    try {
      await this.api.syncCancelUpload(kind, id);
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason);
      await this.pollUploads();
      return false;
    }
    if (u) this.cancelled.set(`${kind}/${id}`, { ...u, cancelling: true });
    await this.pollUploads();
    return true;
  }

  /** Turns sync on again for a cancelled upload's item and runs a pass: it resumes where it stopped. */
  async resumeUpload(kind: ItemKind, id: string): Promise<void> {
    try {
      this.take(await this.api.syncItemSet(kind, id, true));
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason);
      return;
    }
    this.cancelled.delete(`${kind}/${id}`);
    this.uploads = this.uploads.filter((u) => !(u.kind === kind && u.id === id && u.state === "cancelled"));
    await this.syncNow();
  }

  /** One pass now ("Sync now"), then the new status. */
  async syncNow(): Promise<SyncReport | null> {
    if (this.busy) return null;
    this.busy = true;
    // A pass may upload datasets: their progress is polled while it runs.
    void this.pollUploads();
    try {
      this.report = await this.api.syncNow();
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason);
    } finally {
      this.busy = false;
    }
    this.version++;
    await this.refresh();
    return this.report;
  }

  /**
   * Told the header's connectivity whenever it changes (null while a check runs): coming back
   * online with changes waiting runs a pass at once, rather than after the background worker's
   * retry delay (up to a minute after a stretch offline).
   */
  platformChanged(online: boolean | null): void {
    if (online === null) return;
    const was = this.lastOnline;
    this.lastOnline = online;
    if (was !== false || !online) return;
    void this.refresh().then(() => {
      if (this.hosting === true && this.waiting > 0) void this.syncNow();
    });
  }

  /** Settles a conflict, then runs a pass so the choice reaches the platform. */
  async resolve(kind: ItemKind, id: string, resolution: Resolution): Promise<boolean> {
    try {
      this.take(await this.api.syncResolve(kind, id, resolution));
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason);
      return false;
    }
    this.version++;
    await this.syncNow();
    return true;
  }

  /** Turns sync on or off for one agent. */
  async setAgent(id: string, on: boolean): Promise<void> {
    try {
      this.take(await this.api.syncAgentSet(id, on));
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason);
    }
  }

  private take(status: SyncStatus): void {
    this.status = status;
    const top = status.history[0];
    const mark = top ? `${top.at}|${top.kind}|${top.id}|${top.event}` : "";
    if (mark !== this.lastEvent) {
      if (this.lastEvent !== "") this.version++;
      this.lastEvent = mark;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), this.pollMs);
  }
}

const KEY = Symbol("awf.sync");

export function provideSync(store: SyncStore): void {
  setContext(KEY, store);
}

/** The shared store, or null outside the app (components then show no sync controls). */
export function useSync(): SyncStore | null {
  return getContext<SyncStore | undefined>(KEY) ?? null;
}
