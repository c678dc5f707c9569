// One open agent in the editor: the draft being typed, the last saved agent, and autosave.
//
// Invariants:
// - The draft is never replaced by a save's response: text typed while a save is in flight is
//   kept and saved next. Only `reload()` and `applyServerAgent()` (restore) replace it.
// - Every `agent_update` carries `expected_version` = the version of the last successful save,
//   so a change made elsewhere is reported as `conflict` rather than overwritten.
// - A failed save keeps the draft and shows the error; the next edit retries.
import type { Api } from "../api/client";
import type { Agent, AgentDraft, ApiError } from "../api/bindings";
import { toApiError } from "../api/backend";
import { toDraft } from "./draft";

export type SaveState =
  | { kind: "saved" }
  | { kind: "dirty" }
  | { kind: "saving" }
  | { kind: "error"; error: ApiError };

export const AUTOSAVE_DELAY_MS = 600;

export interface SessionOptions {
  delayMs?: number;
  /** Called after each successful save with the stored agent. */
  onSaved?: (agent: Agent) => void;
}

export class AgentSession {
  agent = $state<Agent>() as Agent;
  draft = $state<AgentDraft>() as AgentDraft;
  saveState = $state<SaveState>({ kind: "saved" });
  /** The field path the last failed save named (`name`, `variables[1].name`, …). */
  fieldError = $derived(this.saveState.kind === "error" ? this.saveState.error.field : null);

  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | null = null;
  /** Bumped on every edit; a save knows which edits it carried. */
  private edits = 0;
  private savedEdits = 0;
  private readonly delayMs: number;

  constructor(
    private readonly api: Api,
    agent: Agent,
    private readonly options: SessionOptions = {},
  ) {
    this.agent = agent;
    this.draft = toDraft(agent);
    this.delayMs = options.delayMs ?? AUTOSAVE_DELAY_MS;
  }

  get id(): string {
    return this.agent.id;
  }

  /** Whether edits have not reached the store yet. */
  get hasUnsaved(): boolean {
    return this.edits !== this.savedEdits;
  }

  /** Records an edit of the draft and (re)starts the autosave countdown. */
  touch(): void {
    this.edits++;
    if (this.saveState.kind !== "saving") this.saveState = { kind: "dirty" };
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save(), this.delayMs);
  }

  /** Saves now if anything is unsaved; resolves once the store has it (or the save failed). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    if (this.inFlight) await this.inFlight;
    if (this.hasUnsaved && this.saveState.kind !== "error") await this.save();
  }

  /** Stops the countdown without saving (the session is being discarded). */
  dispose(): void {
    clearTimeout(this.timer);
  }

  private async save(): Promise<void> {
    clearTimeout(this.timer);
    if (this.inFlight) {
      // One save at a time; the edits made meanwhile go in the next one.
      await this.inFlight;
      if (!this.hasUnsaved) return;
    }
    const carried = this.edits;
    const draft = $state.snapshot(this.draft) as AgentDraft;
    this.saveState = { kind: "saving" };
    const run = (async () => {
      try {
        const saved = await this.api.agentUpdate(this.agent.id, draft, this.agent.version);
        this.agent = saved;
        this.savedEdits = carried;
        if (this.hasUnsaved) {
          this.saveState = { kind: "dirty" };
          this.timer = setTimeout(() => void this.save(), this.delayMs);
        } else {
          this.saveState = { kind: "saved" };
        }
        this.options.onSaved?.(saved);
      } catch (reason) {
        this.saveState = { kind: "error", error: toApiError(reason) };
      }
    })();
    this.inFlight = run;
    try {
      await run;
    } finally {
      if (this.inFlight === run) this.inFlight = null;
    }
  }

  /** Discards local edits and loads the stored agent (offered after a conflict). */
  async reload(): Promise<void> {
    clearTimeout(this.timer);
    if (this.inFlight) await this.inFlight;
    try {
      this.applyServerAgent(await this.api.agentGet(this.agent.id));
    } catch (reason) {
      this.saveState = { kind: "error", error: toApiError(reason) };
    }
  }

  /** Replaces the draft with a stored agent (after reload or restore): nothing is unsaved. */
  applyServerAgent(agent: Agent): void {
    clearTimeout(this.timer);
    this.agent = agent;
    this.draft = toDraft(agent);
    this.savedEdits = this.edits;
    this.saveState = { kind: "saved" };
  }

  /** Keeps the draft but takes metadata (version, archived) from an action's result. */
  applyMetadata(agent: Agent): void {
    this.agent = agent;
  }
}
