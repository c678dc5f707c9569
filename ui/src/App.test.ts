import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "./App.svelte";
import { Api } from "./lib/api/client";
import { FakeBackend } from "./lib/api/testing/fake-backend";
import { i18n } from "./lib/i18n/i18n.svelte";
import type { UpdateAgentRequest } from "./lib/api/bindings";
import { library } from "./lib/library/library.svelte";

const byTestId = (id: string) => screen.getByTestId(id);
const rows = () => screen.queryAllByTestId("agent-row");

function start(backend: FakeBackend) {
  return render(App, { props: { api: new Api(backend), autosaveDelayMs: 20 } });
}

async function typeInto(el: HTMLElement, value: string) {
  await fireEvent.input(el, { target: { value } });
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("agent list", () => {
  it("narrows the list as the filter is typed, and says when nothing matches", async () => {
    const backend = new FakeBackend();
    backend.seed({ name: "Travel planner", description: "trips" });
    backend.seed({ name: "Code reviewer", description: "reads diffs" });
    backend.seed({ name: "Translator", description: "zh ⇄ en" });
    start(backend);
    await waitFor(() => expect(rows()).toHaveLength(3));

    await typeInto(byTestId("filter-input"), "tra");
    await waitFor(() => expect(rows().map((r) => r.textContent)).toEqual([
      expect.stringContaining("Translator"),
      expect.stringContaining("Travel planner"),
    ]));
    const last = backend.callsOf("agents_list").at(-1)!;
    expect(last.request).toEqual({ filter: "tra", include_archived: false });

    await typeInto(byTestId("filter-input"), "diffs");
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]!.textContent).toContain("Code reviewer");

    await typeInto(byTestId("filter-input"), "nothing like this");
    await waitFor(() => expect(byTestId("no-match").textContent).toContain("nothing like this"));
    expect(rows()).toHaveLength(0);
  });

  it("shows archived agents only when asked", async () => {
    const backend = new FakeBackend();
    backend.seed({ name: "Active" });
    backend.seed({ name: "Old one", archived: true });
    start(backend);
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.click(byTestId("show-archived"));
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(screen.getByText("Archived")).toBeTruthy();
  });

  it("offers to create the first agent, then opens it with the default name", async () => {
    const backend = new FakeBackend();
    start(backend);
    await fireEvent.click(await screen.findByTestId("create-first"));
    const name = (await screen.findByTestId("agent-name")) as HTMLInputElement;
    expect(name.value).toBe("Untitled agent");
    expect(backend.callsOf("agent_defaults")).toHaveLength(1);
    expect((backend.callsOf("agent_create")[0]!.request as { name: string }).name).toBe("Untitled agent");
    await waitFor(() => expect(rows()).toHaveLength(1));
  });
});

describe("agent list of a large profile", () => {
  function seedMany(n: number) {
    const backend = new FakeBackend();
    // Seeded oldest first: the list shows the newest (the last seeded) first.
    for (let i = 0; i < n; i++) backend.seed({ name: `Agent ${i}`, description: `number ${i}` });
    return backend;
  }

  it("puts only the rows in view in the document, and others as it scrolls", async () => {
    start(seedMany(400));
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    expect(rows().length).toBeLessThan(40);
    expect(rows()[0]!.textContent).toContain("Agent 399");
    const list = byTestId("agent-rows");
    expect(list.querySelector("li")!.getAttribute("aria-setsize")).toBe("400");

    const viewport = list.parentElement!;
    viewport.scrollTop = 400 * 72;
    await fireEvent.scroll(viewport);
    await waitFor(() => expect(rows().at(-1)!.textContent).toContain("Agent 0"));
    expect(rows().length).toBeLessThan(40);
  });

  it("moves between rows with the keys past the rendered ones, and filters", async () => {
    start(seedMany(300));
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    rows()[0]!.focus();
    await fireEvent.keyDown(rows()[0]!, { key: "End" });
    await waitFor(() => expect(document.activeElement?.textContent).toContain("Agent 0"));
    await fireEvent.keyDown(document.activeElement!, { key: "ArrowUp" });
    await waitFor(() => expect(document.activeElement?.textContent).toContain("Agent 1"));
    await fireEvent.click(document.activeElement!);
    await screen.findByTestId("agent-editor");
    expect(document.activeElement?.getAttribute("aria-current")).toBe("true");

    await typeInto(byTestId("filter-input"), "number 25");
    // "number 25" and "number 250" … "number 259".
    await waitFor(() => expect(rows()).toHaveLength(11));
  });

  it("brings a new agent into view, wherever the list was scrolled", async () => {
    start(seedMany(300));
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    const viewport = byTestId("agent-rows").parentElement!;
    viewport.scrollTop = 300 * 72;
    await fireEvent.scroll(viewport);
    await waitFor(() => expect(rows().at(-1)!.textContent).toContain("Agent 0"));

    await fireEvent.click(byTestId("new-agent"));
    await screen.findByTestId("agent-name");
    await waitFor(() => expect(rows()[0]!.textContent).toContain("Untitled agent"));
    expect(viewport.scrollTop).toBe(0);
    expect(rows()[0]!.getAttribute("aria-current")).toBe("true");
  });
});

describe("agent editor", () => {
  async function openSeeded() {
    const backend = new FakeBackend();
    const agent = backend.seed({ name: "Planner", instructions: "Plan trips." });
    start(backend);
    await fireEvent.click(await screen.findByTestId("agent-row"));
    await screen.findByTestId("agent-editor");
    return { backend, agent };
  }

  it("autosaves edits with expected_version and says Saved", async () => {
    const { backend, agent } = await openSeeded();
    const indicator = byTestId("save-indicator");
    expect(indicator.textContent?.trim()).toBe("Saved");
    await typeInto(byTestId("agent-instructions"), "Plan trips.\nAsk the budget.");
    expect(indicator.textContent?.trim()).toBe("Unsaved changes");
    await waitFor(() => expect(indicator.dataset.state).toBe("saved"));
    const updates = backend.callsOf("agent_update").map((c) => c.request as UpdateAgentRequest);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ id: agent.id, expected_version: agent.version });
    expect(updates[0]!.draft.instructions).toBe("Plan trips.\nAsk the budget.");
  });

  it("edits lists: suggested questions and variables", async () => {
    const { backend, agent } = await openSeeded();
    await fireEvent.click(byTestId("add-question"));
    await typeInto(byTestId("agent-question-0"), "What can you do?");
    await fireEvent.click(byTestId("add-variable"));
    await typeInto(byTestId("variable-name-0"), "city");
    await fireEvent.click(byTestId("variable-required-0"));
    const weather = backend.library.seedPlugin("weather", { openapi: "3.0.3", info: { title: "Weather", version: "1" }, paths: {} });
    library.changed();
    await fireEvent.change(await screen.findByRole("option", { name: /Weather/ }).then((o) => o.closest("select")!), {
      target: { value: weather.id },
    });
    await fireEvent.change(byTestId("agent-response-format"), { target: { value: "json" } });
    await waitFor(() => expect(byTestId("save-indicator").dataset.state).toBe("saved"));
    const stored = backend.agents.get(agent.id)!;
    expect(stored.suggested_questions).toEqual(["What can you do?"]);
    expect(stored.variables).toEqual([{ name: "city", description: "", default_value: "", required: true }]);
    expect(stored.plugin_ids).toEqual([weather.id]);
    expect(stored.model.response_format).toBe("json");
  });

  it("highlights the field a coded error names and shows message and hint", async () => {
    const { backend } = await openSeeded();
    await typeInto(byTestId("agent-name"), "   ");
    const indicator = byTestId("save-indicator");
    await waitFor(() => expect(indicator.dataset.state).toBe("error"));
    expect(indicator.textContent).toContain("Error: The name must not be empty.");
    const name = byTestId("agent-name");
    expect(name.getAttribute("aria-invalid")).toBe("true");
    const note = screen.getByTestId("field-error");
    expect(note.dataset.fieldError).toBe("name");
    expect(note.dataset.code).toBe("invalid_input");
    expect(note.textContent).toContain("Give the agent a name.");
    expect(name.getAttribute("aria-describedby")).toBe(note.id);
    expect(byTestId("agent-instructions").getAttribute("aria-invalid")).toBe("false");

    // A variable error lands on that variable's row.
    await typeInto(name, "Planner");
    await fireEvent.click(byTestId("add-variable"));
    await fireEvent.click(byTestId("add-variable"));
    await typeInto(byTestId("variable-name-1"), "1bad");
    await waitFor(() => expect(byTestId("variable-name-1").getAttribute("aria-invalid")).toBe("true"));
    expect(byTestId("variable-name-0").getAttribute("aria-invalid")).toBe("false");
    expect(name.getAttribute("aria-invalid")).toBe("false");
    expect(backend.agents.get(backend.agents.keys().next().value!)!.name).toBe("Planner");
  });

  it("offers Reload on a conflict", async () => {
    const { backend, agent } = await openSeeded();
    const stored = backend.agents.get(agent.id)!;
    stored.version += 1;
    stored.description = "from elsewhere";
    await typeInto(byTestId("agent-description"), "mine");
    await fireEvent.click(await screen.findByTestId("reload"));
    await waitFor(() => expect((byTestId("agent-description") as HTMLTextAreaElement).value).toBe("from elsewhere"));
    expect(byTestId("save-indicator").dataset.state).toBe("saved");
  });

  it("restores an older revision from the history into the editor", async () => {
    const { backend } = await openSeeded();
    await typeInto(byTestId("agent-instructions"), "Second version");
    await waitFor(() => expect(byTestId("save-indicator").dataset.state).toBe("saved"));
    await fireEvent.click(byTestId("history-toggle"));
    await waitFor(() => expect(screen.getAllByTestId("history-entry")).toHaveLength(2));
    const older = screen.getAllByTestId("history-entry").find((e) => e.dataset.seq === "1")!;
    await fireEvent.click(older);
    const diff = await screen.findByTestId("diff-view");
    await waitFor(() => expect(diff.querySelector("del")?.textContent).toContain("Plan trips."));
    expect(diff.querySelector("ins")?.textContent).toContain("Second version");
    await fireEvent.click(byTestId("restore-button"));
    await waitFor(() => expect((byTestId("agent-instructions") as HTMLTextAreaElement).value).toBe("Plan trips."));
    await waitFor(() => expect(screen.getByText("restored from #1")).toBeTruthy());
    expect(backend.callsOf("agent_restore")[0]!.request).toMatchObject({ seq: 1 });
  });

  it("deletes only after confirming in a dialog that Escape closes", async () => {
    const { backend, agent } = await openSeeded();
    await fireEvent.click(byTestId("delete"));
    const dialog = await screen.findByTestId("delete-dialog");
    expect(dialog.getAttribute("role")).toBe("dialog");
    await fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByTestId("delete-dialog")).toBeNull();
    expect(backend.agents.has(agent.id)).toBe(true);

    await fireEvent.click(byTestId("delete"));
    await fireEvent.click(within(await screen.findByTestId("delete-dialog")).getByTestId("confirm-delete"));
    await waitFor(() => expect(backend.agents.has(agent.id)).toBe(false));
    await waitFor(() => expect(screen.queryByTestId("agent-editor")).toBeNull());
  });
});

describe("language and theme", () => {
  it("switches every string to Chinese and remembers the choice", async () => {
    const backend = new FakeBackend();
    backend.seed({ name: "Planner" });
    start(backend);
    await fireEvent.click(await screen.findByTestId("agent-row"));
    await screen.findByTestId("agent-editor");
    expect(byTestId("new-agent").textContent).toContain("New agent");
    expect(screen.getByLabelText("Instructions")).toBe(byTestId("agent-instructions"));

    await fireEvent.change(byTestId("language-select"), { target: { value: "zh-CN" } });
    expect(byTestId("new-agent").textContent).toContain("新建智能体");
    expect(byTestId("save-indicator").textContent?.trim()).toBe("已保存");
    expect(screen.getByLabelText("名称")).toBe(byTestId("agent-name"));
    expect(localStorage.getItem("awf.locale")).toBe("zh-CN");
    expect(document.documentElement.lang).toBe("zh-CN");
  });

  it("puts the chosen theme on <html> and remembers it", async () => {
    start(new FakeBackend());
    await fireEvent.change(await screen.findByTestId("theme-select"), { target: { value: "dark" } });
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("awf.theme")).toBe("dark");
    await fireEvent.change(byTestId("theme-select"), { target: { value: "system" } });
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(localStorage.getItem("awf.theme")).toBeNull();
  });
});

describe("profile gate", () => {
  it("unlocks a passphrase profile", async () => {
    const backend = new FakeBackend();
    backend.status = {
      ...backend.status,
      ready: false,
      error: { code: "passphrase_required", message: "This profile is locked.", hint: "Enter its passphrase.", field: null },
    };
    start(backend);
    expect((await screen.findByTestId("gate-message")).textContent).toBe("This profile is locked.");
    expect(byTestId("gate-hint").textContent).toBe("Enter its passphrase.");
    await typeInto(byTestId("gate-passphrase"), "correct horse");
    await fireEvent.submit(byTestId("gate-passphrase").closest("form")!);
    await screen.findByTestId("agent-list");
    expect(backend.callsOf("profile_unlock")[0]!.request).toEqual({ passphrase: "correct horse" });
  });

  it("without a keyring offers a confirmed passphrase and a keyring retry", async () => {
    const backend = new FakeBackend();
    backend.status = {
      ...backend.status,
      ready: false,
      error: { code: "keyring_unavailable", message: "No Secret Service.", hint: "Install gnome-keyring.", field: null },
    };
    start(backend);
    await screen.findByText("Protect this profile with a passphrase instead");
    await typeInto(byTestId("gate-passphrase"), "short");
    await fireEvent.submit(byTestId("gate-passphrase").closest("form")!);
    expect(screen.getByRole("alert").textContent).toContain("at least 8");
    await typeInto(byTestId("gate-passphrase"), "long enough 1");
    await typeInto(byTestId("gate-confirm"), "long enough 2");
    await fireEvent.submit(byTestId("gate-passphrase").closest("form")!);
    expect(screen.getByRole("alert").textContent).toContain("differ");
    expect(backend.callsOf("profile_unlock")).toHaveLength(0);

    await fireEvent.click(screen.getByText("Try the keyring again"));
    await waitFor(() => expect(backend.callsOf("profile_retry")).toHaveLength(1));
  });
});
