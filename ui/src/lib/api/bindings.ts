// Generated from crates/awf-api by `cargo xtask codegen`. Do not edit by hand.
/* eslint-disable */

/**
 * Every error a command can return. Closed: adding a code is an API change.
 */
export type ErrorCode = "unknown_command" | "bad_request" | "unauthorized" | "not_found" | "invalid_input" | "too_large" | "conflict" | "profile_locked" | "profile_not_open" | "keyring_unavailable" | "key_missing" | "passphrase_required" | "wrong_passphrase" | "schema_too_new" | "store_corrupt" | "read_only" | "disk_full" | "io" | "internal";

/**
 * An error as every front end receives it.
 */
export type ApiError = { code: ErrorCode, 
/**
 * What happened, in a sentence.
 */
message: string, 
/**
 * What to do about it.
 */
hint: string | null, 
/**
 * The input field at fault, as a path (`model.temperature`, `variables[2].name`).
 */
field: string | null, };

/**
 * Whether the profile is open, and if not, why.
 */
export type AppStatus = { ready: boolean, data_dir: string, 
/**
 * How the store key is held, once the profile is open.
 */
key_mode: KeyMode | null, 
/**
 * Whether a profile already exists in the data directory.
 */
profile_exists: boolean, 
/**
 * Why the profile is not open (`passphrase_required`, `keyring_unavailable`, `profile_locked`, …).
 */
error: ApiError | null, app_version: string, schema_version: number, };

/**
 * How the data key of a profile is protected.
 */
export type KeyMode = "keyring" | "passphrase";

/**
 * Opens a passphrase-protected profile, or creates a new profile protected by this passphrase.
 */
export type UnlockRequest = { passphrase: string, };

/**
 * Names one agent.
 */
export type AgentRef = { id: string, };

/**
 * Names one revision of an agent's instructions.
 */
export type RevisionRef = { id: string, seq: number, };

/**
 * Saves an edited agent. `expected_version` guards against overwriting a newer save.
 */
export type UpdateAgentRequest = { id: string, draft: AgentDraft, expected_version: number | null, };

/**
 * Diff from revision `from` to revision `to`, or to the current instructions when `to` is null.
 */
export type DiffRequest = { id: string, from: number, to: number | null, };

/**
 * Archives or unarchives an agent.
 */
export type ArchiveRequest = { id: string, archived: boolean, };

/**
 * Which agents to list.
 */
export type ListQuery = { 
/**
 * Case-insensitive text matched against name and description.
 */
filter: string, include_archived: boolean, };

/**
 * A stored agent.
 */
export type Agent = { id: string, archived: boolean, created_at: string, updated_at: string, 
/**
 * Increases by one with every saved change; used to detect concurrent edits.
 */
version: number, 
/**
 * Sequence number of the latest instruction revision.
 */
latest_revision: number, name: string, description: string, 
/**
 * An emoji or a short glyph shown in the list.
 */
icon: string, instructions: string, opening_message: string, suggested_questions: Array<string>, model: ModelSettings, variables: Array<Variable>, plugin_ids: Array<string>, dataset_ids: Array<string>, };

/**
 * Everything a developer edits on an agent.
 */
export type AgentDraft = { name: string, description: string, 
/**
 * An emoji or a short glyph shown in the list.
 */
icon: string, instructions: string, opening_message: string, suggested_questions: Array<string>, model: ModelSettings, variables: Array<Variable>, plugin_ids: Array<string>, dataset_ids: Array<string>, };

/**
 * What the agent list shows.
 */
export type AgentSummary = { id: string, name: string, description: string, icon: string, archived: boolean, updated_at: string, version: number, };

/**
 * Model settings of an agent.
 */
export type ModelSettings = { model: string, temperature: number, top_p: number, max_tokens: number, response_format: ResponseFormat, };

/**
 * How the model should shape its answers.
 */
export type ResponseFormat = "text" | "markdown" | "json";

/**
 * A variable the instructions can reference as `{{name}}`.
 */
export type Variable = { name: string, description: string, default_value: string, required: boolean, };

/**
 * One saved state of an agent's instructions.
 */
export type Revision = { seq: number, instructions: string, created_at: string, 
/**
 * Set when this revision was made by restoring an older one.
 */
restored_from: number | null, };

/**
 * A revision as the history list shows it.
 */
export type RevisionSummary = { seq: number, created_at: string, chars: number, first_line: string, restored_from: number | null, };

/**
 * One line of a diff.
 */
export type DiffLine = { kind: DiffKind, text: string, };

/**
 * Whether a line is kept, added or removed going from the old text to the new.
 */
export type DiffKind = "equal" | "insert" | "delete";

/** Every error code, for runtime checks of what a transport returned. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "unknown_command",
  "bad_request",
  "unauthorized",
  "not_found",
  "invalid_input",
  "too_large",
  "conflict",
  "profile_locked",
  "profile_not_open",
  "keyring_unavailable",
  "key_missing",
  "passphrase_required",
  "wrong_passphrase",
  "schema_too_new",
  "store_corrupt",
  "read_only",
  "disk_full",
  "io",
  "internal",
];

/** Every command: its request and response types. */
export interface Commands {
  /** Whether the profile is open, and if not, why and what to do. */
  app_status: { request: null; response: AppStatus };
  /** Opens a passphrase-protected profile, or creates a new profile protected by a passphrase. */
  profile_unlock: { request: UnlockRequest; response: AppStatus };
  /** Tries the OS keyring again. */
  profile_retry: { request: null; response: AppStatus };
  /** Defaults for a new agent. */
  agent_defaults: { request: null; response: AgentDraft };
  /** Agents matching a filter, most recently changed first. */
  agents_list: { request: ListQuery; response: Array<AgentSummary> };
  /** One agent in full. */
  agent_get: { request: AgentRef; response: Agent };
  /** Creates an agent. */
  agent_create: { request: AgentDraft; response: Agent };
  /** Saves an edited agent (autosave). Acknowledged only once flushed to disk. */
  agent_update: { request: UpdateAgentRequest; response: Agent };
  /** The instruction history, newest first. */
  agent_history: { request: AgentRef; response: Array<RevisionSummary> };
  /** One revision of the instructions. */
  agent_revision: { request: RevisionRef; response: Revision };
  /** Line diff between two revisions, or a revision and the current instructions. */
  agent_diff: { request: DiffRequest; response: Array<DiffLine> };
  /** Makes an older revision current again (as a new revision). */
  agent_restore: { request: RevisionRef; response: Agent };
  /** Copies an agent. */
  agent_duplicate: { request: AgentRef; response: Agent };
  /** Archives or unarchives an agent. */
  agent_archive: { request: ArchiveRequest; response: Agent };
  /** Deletes an agent and its history. */
  agent_delete: { request: AgentRef; response: null };
}

/** Every command name. */
export const COMMAND_NAMES = [
  "app_status",
  "profile_unlock",
  "profile_retry",
  "agent_defaults",
  "agents_list",
  "agent_get",
  "agent_create",
  "agent_update",
  "agent_history",
  "agent_revision",
  "agent_diff",
  "agent_restore",
  "agent_duplicate",
  "agent_archive",
  "agent_delete",
] as const;
