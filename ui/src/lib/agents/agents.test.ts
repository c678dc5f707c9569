import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { AgentsStore } from "./agents.svelte";

async function setup() {
  const backend = new FakeBackend();
  const first = backend.seed({ name: "Planner", instructions: "v1" });
  const other = backend.seed({ name: "Writer", instructions: "w1" });
  const store = new AgentsStore(new Api(backend), { delayMs: 600 });
  await store.refresh();
  await store.open(first.id);
  return { backend, first, other, store };
}

describe("AgentsStore switching agents", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("keeps what is typed into the open editor while a new agent is being created", async () => {
    const { backend, first, store } = await setup();
    backend.latency = 200;
    const session = store.session!;
    session.draft.instructions = "v1 and a first edit";
    session.touch();
    const creating = store.create("Untitled agent");
    // The old editor is still on screen while the save and the create are under way.
    await vi.advanceTimersByTimeAsync(250);
    session.draft.instructions = "v1 and a first edit, then more";
    session.touch();
    await vi.advanceTimersByTimeAsync(300);
    session.draft.name = "Planner renamed";
    session.touch();
    await vi.runAllTimersAsync();
    const created = await creating;
    expect(store.selectedId).toBe(created.id);
    const stored = backend.agents.get(first.id)!;
    expect(stored.instructions).toBe("v1 and a first edit, then more");
    expect(stored.name).toBe("Planner renamed");
    expect(store.items.map((i) => i.id)).toContain(created.id);
  });

  it("keeps what is typed while another agent is being opened", async () => {
    const { backend, first, other, store } = await setup();
    backend.latency = 200;
    const session = store.session!;
    const opening = store.open(other.id);
    await vi.advanceTimersByTimeAsync(100);
    session.draft.description = "typed while Writer loads";
    session.touch();
    await vi.runAllTimersAsync();
    await opening;
    expect(store.selectedId).toBe(other.id);
    expect(backend.agents.get(first.id)!.description).toBe("typed while Writer loads");
  });

  it("a failed open leaves the open agent open and saving, the error shown", async () => {
    const { backend, first, other, store } = await setup();
    backend.failNext.set("agent_get", { code: "not_found", message: "gone", field: null, hint: null });
    await store.open(other.id);
    expect(store.openError?.code).toBe("not_found");
    expect(store.selectedId).toBe(first.id);
    store.session!.draft.instructions = "still saved";
    store.session!.touch();
    await vi.runAllTimersAsync();
    expect(backend.agents.get(first.id)!.instructions).toBe("still saved");
  });
});
