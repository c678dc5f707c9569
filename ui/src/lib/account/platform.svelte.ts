// Connectivity and session with the platform, shared by the header indicator and the account
// screens. Polls `platform_check` every 5 s while offline and every 30 s while online, so the app
// reconnects by itself when the platform comes back. It never blocks local authoring.
import type { Api } from "../api/client";
import { toApiError } from "../api/backend";
import type { ApiError, PlatformStatus, PolicyStatus } from "../api/bindings";

export type PlatformState = "online" | "offline" | "checking";

export interface PollIntervals {
  onlineMs: number;
  offlineMs: number;
}

export const DEFAULT_POLL: PollIntervals = { onlineMs: 30_000, offlineMs: 5_000 };

export class PlatformStore {
  status = $state<PlatformStatus | null>(null);
  /** The check itself failed (bridge gone, profile not open): treated as offline. */
  callError = $state<ApiError | null>(null);
  /** Where the user stands against the newest policy, re-read after every check. */
  policy = $state<PolicyStatus | null>(null);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly api: Api,
    private readonly intervals: PollIntervals = DEFAULT_POLL,
  ) {}

  get state(): PlatformState {
    if (this.callError) return "offline";
    if (!this.status) return "checking";
    return this.status.online ? "online" : "offline";
  }

  get lastError(): string | null {
    return this.callError?.message ?? this.status?.last_error ?? null;
  }

  /** Checks right away, then keeps polling until `stop`. */
  start(): void {
    this.running = true;
    void this.check();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Asks the platform now (`platform_check`), then schedules the next check. */
  async check(): Promise<void> {
    clearTimeout(this.timer);
    try {
      this.status = await this.api.platformCheck();
      this.callError = null;
    } catch (reason) {
      this.callError = toApiError(reason);
    }
    // A check is when the app learns of a newer policy: re-read where the user stands.
    await this.refreshPolicy();
    this.schedule();
  }

  /** A newer policy than the one accepted is known (never before a first acceptance). */
  get policyUpdate(): boolean {
    const p = this.policy;
    if (!p) return false;
    return p.current_version > (p.accepted_version ?? p.current_version);
  }

  /** Re-reads `policy_status` (no request to the platform); keeps the last one on error. */
  async refreshPolicy(): Promise<void> {
    try {
      this.policy = await this.api.policyStatus();
    } catch {
      // The profile may not be open yet; the next check tries again.
    }
  }

  /** Takes the status `policy_accept` returned. */
  acceptPolicy(status: PolicyStatus): void {
    this.policy = status;
  }

  /** Re-reads the session state without a request to the platform (`platform_status`). */
  async refresh(): Promise<void> {
    try {
      this.status = await this.api.platformStatus();
    } catch (reason) {
      this.callError = toApiError(reason);
    }
  }

  /** Takes a status a command returned (logout). */
  accept(status: PlatformStatus): void {
    this.status = status;
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    const ms = this.state === "online" ? this.intervals.onlineMs : this.intervals.offlineMs;
    this.timer = setTimeout(() => void this.check(), ms);
  }
}
