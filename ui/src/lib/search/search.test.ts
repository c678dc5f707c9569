import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { PETSTORE } from "../api/testing/fixtures";
import { i18n } from "../i18n/i18n.svelte";

const byTestId = (id: string) => screen.getByTestId(id);

function start(backend: FakeBackend) {
  render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
}

function seeded() {
  const backend = new FakeBackend();
  backend.seed({ name: "Pet adviser", description: "Answers questions about pets" });
  backend.seed({ name: "Travel planner" });
  backend.library.seedPlugin("petstore", PETSTORE);
  backend.library.seedTable("Pet owners", [{ name: "owner", type: "text" }], [["Ann"]]);
  return backend;
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("search box", () => {
  it("shows results across agents, plugins, tools and tables as you type, without recording keystrokes", async () => {
    const backend = seeded();
    start(backend);
    const input = await screen.findByTestId("search-input");
    expect(input.getAttribute("role")).toBe("combobox");
    await fireEvent.focus(input);
    await fireEvent.input(input, { target: { value: "p" } });
    await fireEvent.input(input, { target: { value: "pet" } });
    await waitFor(() => expect(screen.getAllByTestId("search-hit").length).toBeGreaterThan(3));
    const kinds = screen.getAllByTestId("search-hit").map((h) => h.dataset.kind);
    expect(new Set(kinds)).toEqual(new Set(["agent", "plugin", "tool", "table"]));
    expect(within(byTestId("search-results")).getByText("Tools")).toBeTruthy();
    // Debounced: the intermediate "p" was not searched.
    expect(backend.callsOf("search").map((c) => (c.request as { query: string }).query)).toEqual(["pet"]);
    expect(backend.callsOf("search_record")).toHaveLength(0);
    expect(input.getAttribute("aria-expanded")).toBe("true");
  });

  it("Enter on a result records the query and opens the item", async () => {
    const backend = seeded();
    start(backend);
    const input = await screen.findByTestId("search-input");
    await fireEvent.input(input, { target: { value: "listpets" } });
    await waitFor(() => expect(screen.getAllByTestId("search-hit")).toHaveLength(1));
    await fireEvent.keyDown(input, { key: "ArrowDown" });
    expect(input.getAttribute("aria-activedescendant")).toBe("search-opt-0");
    await fireEvent.keyDown(input, { key: "Enter" });
    await screen.findByTestId("plugin-detail");
    await waitFor(() => expect(byTestId("plugin-title").textContent).toBe("Swagger Petstore"));
    expect(backend.callsOf("search_record").map((c) => c.request)).toEqual([{ query: "listpets", limit: null }]);
    expect((input as HTMLInputElement).value).toBe("");
  });

  it("choosing an agent opens it in the editor", async () => {
    const backend = seeded();
    start(backend);
    const input = await screen.findByTestId("search-input");
    await fireEvent.input(input, { target: { value: "travel" } });
    const hit = await screen.findByTestId("search-hit");
    await fireEvent.click(hit);
    const name = (await screen.findByTestId("agent-name")) as HTMLInputElement;
    await waitFor(() => expect(name.value).toBe("Travel planner"));
    expect(backend.library.history.map((e) => e.query)).toEqual(["travel"]);
  });

  it("lists recent searches when empty; the history view clears them (kept on this computer only)", async () => {
    const backend = seeded();
    backend.library.history = [
      { query: "pets", at: "2025-01-01T00:00:02Z" },
      { query: "travel", at: "2025-01-01T00:00:01Z" },
    ];
    start(backend);
    const input = await screen.findByTestId("search-input");
    await fireEvent.focus(input);
    await waitFor(() => expect(screen.getAllByTestId("search-history-option").map((o) => o.textContent)).toEqual([
      expect.stringContaining("pets"),
      expect.stringContaining("travel"),
    ]));
    expect(byTestId("search-popup").textContent).toContain("Kept only on this computer.");
    await fireEvent.blur(input);

    await fireEvent.click(byTestId("privacy-open"));
    await fireEvent.click(await screen.findByTestId("privacy-tab-held"));
    const view = await screen.findByTestId("search-history");
    await waitFor(() => expect(within(view).getAllByTestId("search-history-entry")).toHaveLength(2));
    expect(view.textContent).toContain("privacy policy §2");
    await fireEvent.click(within(view).getByTestId("search-history-clear"));
    await waitFor(() => expect(within(view).getByTestId("search-history-none")).toBeTruthy());
    expect(byTestId("search-history-outcome").textContent).toContain("2 entries deleted");
    expect(backend.callsOf("search_history_clear")).toHaveLength(1);
    expect(backend.library.history).toEqual([]);
  });

  it("Ctrl+K puts the caret in the search box", async () => {
    start(seeded());
    const input = await screen.findByTestId("search-input");
    expect(document.activeElement).not.toBe(input);
    await fireEvent.keyDown(window, { key: "k", ctrlKey: true });
    expect(document.activeElement).toBe(input);
  });

  it("clears the history from the popup too", async () => {
    const backend = seeded();
    backend.library.history = [{ query: "pets", at: "2025-01-01T00:00:02Z" }];
    start(backend);
    const input = await screen.findByTestId("search-input");
    await fireEvent.focus(input);
    await fireEvent.click(await screen.findByTestId("search-history-clear-popup"));
    await screen.findByTestId("search-history-empty");
    expect(backend.library.history).toEqual([]);
  });
});
