// The sync commands of the fake backend (C1–C6): an outbox of pending items, conflicts the tests
// seed, the per-agent switch, and passes that are blocked without the hosting consent, when not
// signed in or when the platform is offline; dataset uploads in progress the tests seed and
// advance, and their cancel (the item is then off, with the reason the engine gives).
import type { Agent, ApiError, ConflictView, ItemKind, ItemView, Overview, SyncEvent, SyncReport, SyncStatus, UploadView } from "../bindings";
import type { RequestOf } from "../backend";
import { NOT_MINE } from "./fake-library";

function fail(code: ApiError["code"], message: string): never {
  throw { code, message, hint: null, field: null } satisfies ApiError;
}

/** What the sync fake needs of the backend around it. */
export interface SyncHost {
  now(): string;
  online(): boolean;
  signedIn(): boolean;
  hosting(): boolean;
  agents: Map<string, Agent>;
  /** Sets an agent's instructions as a local save does (new version and revision). */
  setInstructions(id: string, instructions: string): void;
}

const key = (kind: ItemKind, id: string) => `${kind}/${id}`;

export class FakeSync {
  /** Items not synced, by `kind/id`. */
  items = new Map<string, ItemView>();
  conflicts: ConflictView[] = [];
  history: SyncEvent[] = [];
  synced = 0;
  cursor = 0;
  /** Uploads in progress, by `kind/id` (tests start and advance them). */
  uploads = new Map<string, UploadView>();

  constructor(private readonly host: SyncHost) {}

  /** A local change queued (agent saved). */
  changed(kind: ItemKind, id: string): void {
    const k = key(kind, id);
    const cur = this.items.get(k);
    if (cur && (cur.status === "off" || cur.status === "conflict")) return;
    this.items.set(k, { kind, id, status: "pending", reason: null, attempts: cur?.attempts ?? 0, server_revision: cur?.server_revision ?? 0 });
  }

  /** Seeds a conflict on an agent (as a pass would find it). */
  addConflict(id: string, theirs: string, base = "", name?: string): ConflictView {
    const agent = this.host.agents.get(id);
    const mine = agent?.instructions ?? "";
    const clean = false;
    const merged = `<<<<<<< mine\n${mine}\n=======\n${theirs}\n>>>>>>> theirs`;
    const view: ConflictView = {
      kind: "agent",
      id,
      name: name ?? agent?.name ?? id,
      reason: "changed on another device",
      theirs_revision: 2,
      theirs_deleted: false,
      base_instructions: base,
      mine_instructions: mine,
      theirs_instructions: theirs,
      merged_instructions: merged,
      merge_clean: clean,
    };
    this.conflicts = this.conflicts.filter((c) => c.id !== id).concat(view);
    this.items.set(key("agent", id), { kind: "agent", id, status: "conflict", reason: view.reason, attempts: 1, server_revision: 1 });
    return view;
  }

  /** Starts a dataset upload as a pass would (listed by `sync_uploads`). */
  startUpload(id: string, name: string, total: number, sent = 0): void {
    this.changed("dataset", id);
    this.uploads.set(key("dataset", id), { kind: "dataset", id, name, sent, total, started_at: this.host.now(), cancelling: false });
  }

  /** The platform now holds `sent` bytes; at the total the upload ends and the item is synced. */
  advanceUpload(id: string, sent: number): void {
    const k = key("dataset", id);
    const u = this.uploads.get(k);
    if (!u) return;
    if (sent >= u.total) {
      this.uploads.delete(k);
      this.items.delete(k);
      this.synced++;
      this.event("dataset", id, "uploaded", `${u.total} bytes`);
    } else {
      this.uploads.set(k, { ...u, sent });
    }
  }

  private event(kind: ItemKind, id: string, event: string, detail: string): void {
    this.history.unshift({ at: this.host.now(), kind, id, event, detail });
  }

  private overview(): Overview {
    const count = (s: ItemView["status"]) => [...this.items.values()].filter((i) => i.status === s).length;
    return {
      pending: count("pending"),
      conflicts: count("conflict"),
      errors: count("error"),
      held_back: count("held_back"),
      synced: this.synced,
      cursor: this.cursor,
    };
  }

  status(): SyncStatus {
    return { overview: this.overview(), items: [...this.items.values()], history: this.history.slice(0, 50) };
  }

  private pass(): SyncReport {
    const report: SyncReport = { pushed: 0, deleted: 0, pulled: 0, merged: 0, conflicts: 0, retrying: 0, refused: 0, blocked: null, offline: false, pending: 0 };
    const waiting = () => [...this.items.values()].filter((i) => i.status === "pending" || i.status === "held_back").length;
    if (!this.host.hosting()) report.blocked = "developer data hosting is not consented: nothing is sent";
    else if (!this.host.signedIn()) report.blocked = "not signed in";
    else if (!this.host.online()) {
      report.blocked = "the platform cannot be reached; changes wait and are retried";
      report.offline = true;
    }
    if (report.blocked) {
      report.pending = waiting();
      return report;
    }
    for (const [k, item] of this.items) {
      if (item.status === "pending" || item.status === "held_back") {
        this.items.delete(k);
        this.synced++;
        this.cursor++;
        report.pushed++;
        this.event(item.kind, item.id, "pushed", `revision ${item.server_revision + 1}`);
      }
    }
    report.conflicts = this.conflicts.length;
    return report;
  }

  dispatch(command: string, request: unknown): unknown {
    switch (command) {
      case "sync_now":
        return this.pass();
      case "sync_status":
        return this.status();
      case "sync_conflicts":
        return this.conflicts;
      case "sync_resolve": {
        const r = request as RequestOf<"sync_resolve">;
        const c = this.conflicts.find((x) => x.kind === r.kind && x.id === r.id);
        if (!c) fail("not_found", `${r.kind} ${r.id} has no conflict`);
        this.conflicts = this.conflicts.filter((x) => x !== c);
        const k = key(r.kind, r.id);
        if (r.resolution.choice === "keep_theirs") {
          this.host.setInstructions(r.id, c.theirs_instructions);
          this.items.delete(k);
          this.synced++;
          this.event(r.kind, r.id, "resolved", "kept the platform's revision");
        } else {
          if (r.resolution.choice === "merged") this.host.setInstructions(r.id, r.resolution.instructions);
          this.items.set(k, { kind: r.kind, id: r.id, status: "pending", reason: null, attempts: 0, server_revision: c.theirs_revision });
          this.event(r.kind, r.id, "resolved", r.resolution.choice === "merged" ? "merged by hand" : "kept this device's version");
        }
        return this.status();
      }
      case "sync_uploads":
        return [...this.uploads.values()];
      case "sync_cancel_upload": {
        const r = request as RequestOf<"sync_cancel_upload">;
        const k = key(r.kind, r.id);
        const u = this.uploads.get(k);
        if (!u) fail("not_found", `No upload of ${r.kind} ${r.id} is running.`);
        // The engine stops before the next chunk and parks the item with sync off.
        this.uploads.delete(k);
        const reason = `upload cancelled at ${u.sent} of ${u.total} bytes; turn sync on for this dataset to resume from there`;
        this.items.set(k, { kind: r.kind, id: r.id, status: "off", reason, attempts: 0, server_revision: this.items.get(k)?.server_revision ?? 0 });
        this.event(r.kind, r.id, "cancelled", reason);
        return null;
      }
      case "sync_item_set": {
        const r = request as RequestOf<"sync_item_set">;
        const k = key(r.kind, r.id);
        const server_revision = this.items.get(k)?.server_revision ?? 0;
        this.items.set(k, { kind: r.kind, id: r.id, status: r.on ? "pending" : "off", reason: null, attempts: 0, server_revision });
        return this.status();
      }
      case "sync_agent_set": {
        const r = request as RequestOf<"sync_agent_set">;
        if (!this.host.agents.has(r.id)) fail("not_found", `No agent with id ${r.id}.`);
        const k = key("agent", r.id);
        if (r.on) {
          this.items.set(k, { kind: "agent", id: r.id, status: "pending", reason: null, attempts: 0, server_revision: this.items.get(k)?.server_revision ?? 0 });
        } else {
          this.items.set(k, { kind: "agent", id: r.id, status: "off", reason: null, attempts: 0, server_revision: this.items.get(k)?.server_revision ?? 0 });
        }
        return this.status();
      }
      default:
        return NOT_MINE;
    }
  }
}
