// Conversions between a stored `Agent` and the `AgentDraft` the editor edits.
import type { Agent, AgentDraft } from "../api/bindings";

/** The editable part of an agent, as a fresh object (the command surface denies unknown fields). */
export function toDraft(agent: Agent | AgentDraft): AgentDraft {
  return {
    name: agent.name,
    description: agent.description,
    icon: agent.icon,
    instructions: agent.instructions,
    opening_message: agent.opening_message,
    suggested_questions: [...agent.suggested_questions],
    model: { ...agent.model },
    variables: agent.variables.map((v) => ({ ...v })),
    plugin_ids: [...agent.plugin_ids],
    dataset_ids: [...agent.dataset_ids],
  };
}

export const MAX_SUGGESTED_QUESTIONS = 10;

/** A variable name not yet used, so a new row saves without a validation error. */
export function freshVariableName(taken: readonly string[]): string {
  for (let n = taken.length + 1; ; n++) {
    const name = `var_${n}`;
    if (!taken.includes(name)) return name;
  }
}
