import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { PETSTORE } from "../api/testing/fixtures";
import { i18n } from "../i18n/i18n.svelte";
import { suggestedFileName } from "./bundles";

const byTestId = (id: string) => screen.getByTestId(id);

function start(backend: FakeBackend) {
  render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
}

async function chooseBundle(name: string, text: string) {
  await fireEvent.click(await screen.findByTestId("bundle-import-open"));
  await screen.findByTestId("bundle-import-dialog");
  await fireEvent.change(byTestId("bundle-drop-input"), { target: { files: [new File([text], name)] } });
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("bundle import", () => {
  it("lists every problem of an invalid bundle with its place, and imports nothing", async () => {
    const backend = new FakeBackend();
    backend.library.bundleProblems = [
      { place: "bundle.json: /agent/name", message: "must not be empty" },
      { place: "datasets/01ABC.txt", message: "SHA-256 differs from the manifest's" },
      { place: "(archive)", message: "tables/01DEF.jsonl is listed but missing" },
    ];
    start(backend);
    await chooseBundle("broken.awfbundle", "not really a zip");
    const check = await screen.findByTestId("bundle-check");
    expect(check.dataset.ok).toBe("false");
    expect(byTestId("bundle-check-invalid").textContent).toContain("Problems found: 3");
    const problems = within(check).getAllByTestId("bundle-problem");
    expect(within(check).getAllByTestId("bundle-problem-place").map((p) => p.textContent)).toEqual([
      "bundle.json: /agent/name",
      "datasets/01ABC.txt",
      "(archive)",
    ]);
    expect(problems[1]!.textContent).toContain("SHA-256 differs");
    expect(check.textContent).toContain("Nothing was written.");
    expect((byTestId("bundle-import-confirm") as HTMLButtonElement).disabled).toBe(true);
    expect(backend.callsOf("bundle_import")).toHaveLength(0);
  });

  it("exports (download), checks the bundle (replaces, no duplicate), and imports it", async () => {
    const backend = new FakeBackend();
    const plugin = backend.library.seedPlugin("petstore", PETSTORE);
    backend.seed({ name: "Pet adviser", plugin_ids: [plugin.id] });
    start(backend);
    await fireEvent.click(await screen.findByTestId("agent-row"));
    await screen.findByTestId("agent-editor");

    const created = vi.fn<(blob: Blob) => string>(() => "blob:fake");
    URL.createObjectURL = created as unknown as typeof URL.createObjectURL;
    URL.revokeObjectURL = vi.fn();
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    await fireEvent.click(byTestId("bundle-export"));
    const outcome = await screen.findByTestId("bundle-export-outcome");
    expect(outcome.textContent).toContain("Bundle downloaded as Pet-adviser.awfbundle");
    expect(outcome.textContent).toContain("plugins 1");
    expect(outcome.textContent).toContain("never included");
    expect(clicked).toEqual(["Pet-adviser.awfbundle"]);
    expect(backend.callsOf("bundle_export")[0]!.request).toEqual({ agent_id: expect.any(String), path: null });
    const blob = created.mock.calls[0]![0];
    const bytes = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result as string);
      reader.readAsText(blob);
    });
    click.mockRestore();

    await chooseBundle("Pet-adviser.awfbundle", bytes);
    const check = await screen.findByTestId("bundle-check");
    expect(check.dataset.ok).toBe("true");
    expect(byTestId("bundle-agent-name").textContent).toBe("Pet adviser");
    expect(byTestId("bundle-replaces").dataset.replaces).toBe("true");
    expect(byTestId("bundle-replaces").textContent).toContain("Nothing is duplicated");
    expect(byTestId("bundle-import-confirm").textContent).toContain("Import and replace");
    await fireEvent.click(byTestId("bundle-import-confirm"));
    const report = await screen.findByTestId("bundle-report");
    expect(report.dataset.created).toBe("false");
    expect(report.textContent).toContain("replaced by the bundle's version");
    await fireEvent.click(byTestId("bundle-open-agent"));
    await waitFor(() => expect(screen.queryByTestId("bundle-import-dialog")).toBeNull());
    expect(backend.agents.size).toBe(1);
    expect(screen.getAllByTestId("agent-row")).toHaveLength(1);
  });
});

describe("bundle file names", () => {
  it("follow the command surface's rule", () => {
    expect(suggestedFileName("Pet adviser")).toBe("Pet-adviser.awfbundle");
    expect(suggestedFileName("旅行 助手!")).toBe("旅行-助手.awfbundle");
    expect(suggestedFileName("!!!")).toBe("agent.awfbundle");
  });
});
