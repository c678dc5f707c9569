// The agent list and which agent is open: filtering, creation and the list-level actions.
import type { Api } from "../api/client";
import type { Agent, AgentSummary, ApiError } from "../api/bindings";
import { toApiError } from "../api/backend";
import { AgentSession, type SessionOptions } from "./session.svelte";
import { markPhase } from "../perf";

export class AgentsStore {
  filter = $state("");
  includeArchived = $state(false);
  items = $state<AgentSummary[]>([]);
  loaded = $state(false);
  listError = $state<ApiError | null>(null);
  session = $state<AgentSession | null>(null);
  openError = $state<ApiError | null>(null);
  /** Increases with every list request; answers to older requests are dropped. */
  private listSeq = 0;

  constructor(
    private readonly api: Api,
    private readonly sessionOptions: Omit<SessionOptions, "onSaved"> = {},
  ) {}

  get selectedId(): string | null {
    return this.session?.id ?? null;
  }

  /** Fetches the list for the current filter; stale answers are ignored. */
  async refresh(): Promise<void> {
    const seq = ++this.listSeq;
    try {
      const items = await this.api.agentsList({ filter: this.filter, include_archived: this.includeArchived });
      if (seq !== this.listSeq) return;
      markPhase("agent-list");
      this.items = items;
      this.listError = null;
    } catch (reason) {
      if (seq !== this.listSeq) return;
      this.listError = toApiError(reason);
    } finally {
      if (seq === this.listSeq) this.loaded = true;
    }
  }

  setFilter(filter: string): Promise<void> {
    this.filter = filter;
    return this.refresh();
  }

  setIncludeArchived(value: boolean): Promise<void> {
    this.includeArchived = value;
    return this.refresh();
  }

  private newSession(agent: Agent): AgentSession {
    return new AgentSession(this.api, agent, {
      ...this.sessionOptions,
      onSaved: (saved) => this.onSaved(saved),
    });
  }

  private onSaved(saved: Agent): void {
    // Keep the row in step without waiting for a round trip, then let the store re-sort.
    const row = this.items.find((i) => i.id === saved.id);
    if (row) {
      row.name = saved.name;
      row.description = saved.description;
      row.icon = saved.icon;
      row.updated_at = saved.updated_at;
      row.version = saved.version;
      row.archived = saved.archived;
    }
    void this.refresh();
  }

  /** Opens an agent in the editor, saving the one open before. */
  async open(id: string): Promise<void> {
    if (this.session?.id === id) return;
    await this.closeSession();
    try {
      const agent = await this.api.agentGet(id);
      this.session = this.newSession(agent);
      this.openError = null;
    } catch (reason) {
      this.openError = toApiError(reason);
    }
  }

  private async closeSession(): Promise<void> {
    const current = this.session;
    if (!current) return;
    await current.flush();
    current.dispose();
  }

  /** Creates an agent from the defaults with `name` and opens it. */
  async create(name: string): Promise<Agent> {
    await this.closeSession();
    const defaults = await this.api.agentDefaults();
    const agent = await this.api.agentCreate({ ...defaults, name });
    this.session = this.newSession(agent);
    this.openError = null;
    // A new agent must be visible, whatever the filter was.
    this.filter = "";
    await this.refresh();
    return agent;
  }

  async duplicate(): Promise<Agent | null> {
    const s = this.session;
    if (!s) return null;
    await s.flush();
    const copy = await this.api.agentDuplicate(s.id);
    s.dispose();
    this.session = this.newSession(copy);
    await this.refresh();
    return copy;
  }

  async setArchived(archived: boolean): Promise<Agent | null> {
    const s = this.session;
    if (!s) return null;
    await s.flush();
    const agent = await this.api.agentArchive(s.id, archived);
    s.applyMetadata(agent);
    await this.refresh();
    return agent;
  }

  async remove(): Promise<void> {
    const s = this.session;
    if (!s) return;
    s.dispose();
    await this.api.agentDelete(s.id);
    this.session = null;
    await this.refresh();
  }
}
