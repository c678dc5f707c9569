// The typed client components use: one method per command, so command names live here only.
import type { Backend } from "./backend";
import type {
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
}

/** Picks the transport once at start-up: Tauri IPC in the app, the HTTP bridge elsewhere. */
export function selectBackend(): Backend {
  if (inTauri()) return new TauriBackend();
  return new HttpBackend(takeToken());
}
