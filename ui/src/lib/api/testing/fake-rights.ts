// The rights commands of the fake backend (D6–D9): export jobs advanced by `exportTick`, the
// platform erase with a receipt in a deletion ledger, rights requests, and account cancellation
// (completed when `online`, pending — and every other command `account_locked` — when not).
import type { ApiError, ExportStatus, VerifyReport } from "../bindings";
import type {
  CancelAccountForm,
  CancellationStatus,
  DeletionEntry,
  DeletionReceipt,
  NewRightsRequest,
  RightsRequest,
} from "../../rights/types";
import { NOT_MINE } from "./fake-library";

function fail(code: ApiError["code"], message: string, field: string | null = null): never {
  throw { code, message, hint: null, field } satisfies ApiError;
}

/** What the rights fake needs of the backend around it. */
export interface RightsHost {
  now(): string;
  online(): boolean;
  account(): { account_id: string; account_name: string; password?: string } | null;
  signOut(): void;
}

/** Commands that answer while a cancellation is pending (as the command surface's list). */
export const ALLOWED_WHILE_LOCKED: ReadonlySet<string> = new Set([
  "app_status",
  "profile_retry",
  "account_cancellation",
  "account_cancel",
  "platform_status",
  "platform_check",
  "export_start",
  "export_status",
  "export_cancel",
  "export_verify",
  "export_categories",
  "job_progress",
]);

export class FakeRights {
  exports = new Map<string, ExportStatus>();
  /** Total bytes of a fake export; each `exportTick` writes a quarter. */
  exportTotal = 4000;
  verifyOk = true;
  ledger: DeletionEntry[] = [];
  ledgerProblem: string | null = null;
  requests: RightsRequest[] = [];
  cancellation: CancellationStatus = { state: "none" };
  /** The password `account_cancel` accepts (else `invalid_credentials`). */
  password = "correct-password";
  private seq = 1;

  constructor(private readonly host: RightsHost) {}

  get locked(): boolean {
    return this.cancellation.state === "pending";
  }

  /** Advances every running export by a quarter; finishes those that reach the end. */
  exportTick(): void {
    for (const s of this.exports.values()) {
      if (s.state !== "running" || !s.progress) continue;
      const written = Math.min(this.exportTotal, s.progress.bytes_written + this.exportTotal / 4);
      s.progress = { ...s.progress, bytes_written: written, files: s.progress.files + 1, category: "agents" };
      if (written >= this.exportTotal) {
        s.state = "done";
        s.summary = { path: s.path, zip_bytes: 1234, bytes: written, files: 9, categories: [] };
      }
    }
  }

  private receipt(scope: DeletionReceipt["scope"], deleted: Record<string, number>): DeletionReceipt {
    const id = String(this.seq++).padStart(32, "0");
    return {
      receipt_id: `del_${id}`,
      account_id: this.host.account()?.account_id ?? "acc",
      scope,
      deleted,
      completed_at: this.host.now(),
      key_id: "rk_test",
      signature: "c2lnbmF0dXJl",
    };
  }

  private needPlatform(): void {
    if (!this.host.account()) fail("not_signed_in", "Not signed in.");
    if (!this.host.online()) fail("platform_unreachable", "The platform cannot be reached.");
  }

  dispatch(command: string, request: unknown): unknown {
    switch (command) {
      case "export_start": {
        const { path } = request as { path: string };
        if (!path) fail("invalid_input", "Choose a file.", "path");
        const job = `job-${this.seq++}`;
        this.exports.set(job, {
          job,
          state: "running",
          path,
          progress: { bytes_written: 0, estimated_total: this.exportTotal, category: "account", files: 0 },
          summary: null,
          error: null,
        });
        return { job };
      }
      case "export_status": {
        const s = this.exports.get((request as { job: string }).job);
        if (!s) fail("not_found", "No such export.");
        return s;
      }
      case "export_cancel": {
        const s = this.exports.get((request as { job: string }).job);
        if (!s || s.state !== "running") return false;
        s.state = "cancelled";
        s.progress = null;
        return true;
      }
      case "export_verify": {
        const report: VerifyReport = {
          ok: this.verifyOk,
          format_version: 1,
          app_version: "0.0.0-test",
          profile_id: "profile",
          created_at: this.host.now(),
          files_checked: 9,
          bytes_checked: this.exportTotal,
          problems: this.verifyOk ? [] : [{ path: "agents.json", kind: "hash", message: "the SHA-256 differs" }],
        };
        return report;
      }
      case "export_categories":
        return [];
      case "platform_data_erase": {
        this.needPlatform();
        const receipt = this.receipt({ type: "all_data" }, { rights_requests: this.requests.length, "telemetry:usage_analytics": 2 });
        this.requests = [];
        const prev = this.ledger[this.ledger.length - 1]?.hash ?? "0".repeat(64);
        const entry: DeletionEntry = {
          seq: this.ledger.length + 1,
          at: this.host.now(),
          what: "everything the platform holds",
          local: {},
          platform: receipt,
          prev_hash: prev,
          hash: `h${this.ledger.length + 1}`.padEnd(64, "0"),
        };
        this.ledger.push(entry);
        return entry;
      }
      case "deletions":
        return { entries: this.ledger, problem: this.ledgerProblem };
      case "rights_request_new": {
        this.needPlatform();
        const r = request as NewRightsRequest;
        if (r.text.trim() === "") fail("invalid_input", "Write the request.", "text");
        if (r.attachments.length > 5) fail("invalid_input", "At most 5 attachments.", "attachments");
        const created: RightsRequest = {
          id: `req_${String(this.seq++).padStart(32, "0")}`,
          category: r.category,
          text: r.text,
          attachments: r.attachments.map((a) => ({ name: a.name, media_type: a.media_type, size: atob(a.content_base64).length, sha256: "0".repeat(64) })),
          status: "open",
          answer: null,
          created_at: this.host.now(),
          answered_at: null,
        };
        this.requests.push(created);
        return created;
      }
      case "rights_requests":
        this.needPlatform();
        return this.requests;
      case "account_cancel": {
        const f = request as CancelAccountForm;
        const account = this.host.account();
        if (!account) fail("not_signed_in", "Not signed in.");
        if (f.account_name !== account.account_name) fail("invalid_input", "The account name does not match.", "account_name");
        if (!f.confirm_irreversible) fail("invalid_input", "Confirm that it is irreversible.", "confirm_irreversible");
        if (this.host.online() && f.password !== this.password) fail("invalid_credentials", "Wrong password.", "password");
        this.cancellation = {
          state: "pending",
          account_name: account.account_name,
          requested_at: this.host.now(),
          attempts: 1,
          last_attempt_at: this.host.now(),
          last_error: this.host.online() ? null : "the platform cannot be reached",
        };
        return this.resume();
      }
      case "account_cancellation":
        return this.resume();
      default:
        return NOT_MINE;
    }
  }

  /** Completes a pending cancellation when the platform answers. */
  resume(): CancellationStatus {
    if (this.cancellation.state === "pending" && this.host.online()) {
      this.cancellation = {
        state: "completed",
        receipt: this.receipt({ type: "account" }, { account: 1, sessions: 1, consent_receipts: 3 }),
        receipt_verified: true,
        verify_error: null,
        shred: { profile_id: "profile", key_destroyed_after_us: 120, total_us: 900, keyring_entries_deleted: 3, files_removed: 12, bytes_removed: 40960 },
      };
      this.host.signOut();
    } else if (this.cancellation.state === "pending") {
      this.cancellation = { ...this.cancellation, attempts: this.cancellation.attempts + 1 };
    }
    return this.cancellation;
  }
}
