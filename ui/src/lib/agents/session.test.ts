import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { AgentSession } from "./session.svelte";
import type { UpdateAgentRequest } from "../api/bindings";

async function setup() {
  const backend = new FakeBackend();
  const agent = backend.seed({ name: "Planner", instructions: "v1" });
  const session = new AgentSession(new Api(backend), agent, { delayMs: 600 });
  return { backend, agent, session };
}

const updates = (backend: FakeBackend) => backend.callsOf("agent_update").map((c) => c.request as UpdateAgentRequest);

describe("AgentSession autosave", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("saves once, 600 ms after the last edit, with the last saved version", async () => {
    const { backend, agent, session } = await setup();
    session.draft.name = "P";
    session.touch();
    await vi.advanceTimersByTimeAsync(400);
    session.draft.name = "Planner 2";
    session.touch();
    await vi.advanceTimersByTimeAsync(599);
    expect(updates(backend)).toHaveLength(0);
    expect(session.saveState.kind).toBe("dirty");
    await vi.advanceTimersByTimeAsync(1);
    await vi.runAllTimersAsync();
    expect(updates(backend)).toHaveLength(1);
    expect(updates(backend)[0]).toMatchObject({ id: agent.id, expected_version: agent.version });
    expect(updates(backend)[0]!.draft.name).toBe("Planner 2");
    expect(session.saveState.kind).toBe("saved");
    expect(session.agent.version).toBe(agent.version + 1);

    session.draft.description = "next";
    session.touch();
    await vi.runAllTimersAsync();
    expect(updates(backend)[1]!.expected_version).toBe(agent.version + 1);
  });

  it("goes dirty → saving → saved", async () => {
    const { backend, session } = await setup();
    backend.latency = 100;
    expect(session.saveState.kind).toBe("saved");
    session.draft.instructions = "v2";
    session.touch();
    expect(session.saveState.kind).toBe("dirty");
    await vi.advanceTimersByTimeAsync(600);
    expect(session.saveState.kind).toBe("saving");
    await vi.advanceTimersByTimeAsync(100);
    expect(session.saveState.kind).toBe("saved");
  });

  it("keeps text typed during a save and saves it next", async () => {
    const { backend, session } = await setup();
    backend.latency = 200;
    session.draft.instructions = "first";
    session.touch();
    await vi.advanceTimersByTimeAsync(650); // save in flight
    session.draft.instructions = "first and more";
    session.touch();
    await vi.runAllTimersAsync();
    expect(session.draft.instructions).toBe("first and more");
    expect(updates(backend).map((u) => u.draft.instructions)).toEqual(["first", "first and more"]);
    expect(updates(backend)[1]!.expected_version).toBe(updates(backend)[0]!.expected_version! + 1);
    expect(session.saveState.kind).toBe("saved");
    expect(backend.agents.get(session.id)!.instructions).toBe("first and more");
  });

  it("shows a failed save with its field and keeps the draft", async () => {
    const { backend, session } = await setup();
    session.draft.name = "";
    session.draft.description = "typed text";
    session.touch();
    await vi.runAllTimersAsync();
    expect(session.saveState).toMatchObject({ kind: "error", error: { code: "invalid_input", field: "name" } });
    expect(session.fieldError).toBe("name");
    expect(session.draft.description).toBe("typed text");
    expect(backend.agents.get(session.id)!.name).toBe("Planner");

    session.draft.name = "Fixed";
    session.touch();
    await vi.runAllTimersAsync();
    expect(session.saveState.kind).toBe("saved");
    expect(session.fieldError).toBeNull();
    expect(backend.agents.get(session.id)!.description).toBe("typed text");
  });

  it("reports a conflict and reload takes the stored agent", async () => {
    const { backend, session } = await setup();
    backend.agents.get(session.id)!.version += 5; // changed elsewhere
    backend.agents.get(session.id)!.name = "Changed elsewhere";
    session.draft.name = "Mine";
    session.touch();
    await vi.runAllTimersAsync();
    expect(session.saveState).toMatchObject({ kind: "error", error: { code: "conflict" } });
    expect(session.draft.name).toBe("Mine");
    await session.reload();
    expect(session.draft.name).toBe("Changed elsewhere");
    expect(session.saveState.kind).toBe("saved");
  });

  it("flush saves pending edits immediately", async () => {
    const { backend, session } = await setup();
    session.draft.icon = "🧭";
    session.touch();
    await session.flush();
    expect(updates(backend)).toHaveLength(1);
    expect(session.hasUnsaved).toBe(false);
  });
});
