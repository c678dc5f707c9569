import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { PETSTORE } from "../api/testing/fixtures";
import { i18n } from "../i18n/i18n.svelte";

const byTestId = (id: string) => screen.getByTestId(id);

beforeEach(() => {
  i18n.locale = "en";
});

async function openAgent(backend: FakeBackend) {
  render(App, { props: { api: new Api(backend), autosaveDelayMs: 20 } });
  await fireEvent.click(await screen.findByTestId("agent-row"));
  await screen.findByTestId("agent-editor");
}

describe("agent links", () => {
  it("links plugins, datasets and tables by name; a missing id is marked and removable", async () => {
    const backend = new FakeBackend();
    const plugin = backend.library.seedPlugin("petstore", PETSTORE);
    const dataset = backend.library.seedDataset("faq.md", "# FAQ");
    const table = backend.library.seedTable("Prices", [{ name: "item", type: "text" }], [["tea"]]);
    const agent = backend.seed({ name: "Shop", dataset_ids: ["01GONE000000000000000000"] });
    await openAgent(backend);

    const data = byTestId("agent-dataset-ids");
    await waitFor(() => expect(within(data).getByTestId("linked-item").dataset.missing).toBe("true"));
    expect(within(data).getByTestId("linked-item").textContent).toContain("missing");

    const addPlugin = byTestId("agent-plugin-ids-add") as HTMLSelectElement;
    await waitFor(() => expect([...addPlugin.options].map((o) => o.textContent)).toContain("Swagger Petstore — 2 tools"));
    await fireEvent.change(addPlugin, { target: { value: plugin.id } });
    const addData = byTestId("agent-dataset-ids-add") as HTMLSelectElement;
    expect([...addData.querySelectorAll("optgroup")].map((g) => g.label)).toEqual(["Datasets", "Tables"]);
    await fireEvent.change(addData, { target: { value: dataset.id } });
    await fireEvent.change(addData, { target: { value: table.id } });
    await fireEvent.click(within(data).getAllByTestId("linked-remove")[0]!);

    await waitFor(() => expect(byTestId("save-indicator").dataset.state).toBe("saved"));
    await waitFor(() => {
      const stored = backend.agents.get(agent.id)!;
      expect(stored.plugin_ids).toEqual([plugin.id]);
      expect(stored.dataset_ids).toEqual([dataset.id, table.id]);
    });
    const names = within(byTestId("agent-dataset-ids"))
      .getAllByTestId("linked-item")
      .map((c) => c.textContent);
    expect(names).toEqual([expect.stringContaining("faq"), expect.stringContaining("Prices")]);
    expect(within(byTestId("agent-plugin-ids")).getByTestId("linked-item").textContent).toContain("Swagger Petstore");
  });

  it("warns about personal information in the instructions, masked", async () => {
    const backend = new FakeBackend();
    backend.seed({ name: "Support" });
    await openAgent(backend);
    await fireEvent.input(byTestId("agent-instructions"), {
      target: { value: "Escalate to 13812345678 or boss@example.com.\nID 11010519491231002X." },
    });
    const note = await screen.findByTestId("instructions-pii", {}, { timeout: 2000 });
    expect(note.dataset.total).toBe("3");
    expect(note.textContent).toContain("Personal information in the instructions: 3");
    const masked = within(note).getAllByTestId("pii-masked").map((m) => m.textContent);
    expect(masked).toEqual(expect.arrayContaining(["138****5678", "b***@example.com", "110105********002X"]));
    expect(note.textContent).not.toContain("13812345678");
    expect(note.textContent).toContain("line 2, column 4");
  });
});
