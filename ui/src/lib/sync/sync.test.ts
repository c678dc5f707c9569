import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { i18n } from "../i18n/i18n.svelte";
import { hasConflictMarkers } from "./sync.svelte";

const byTestId = (id: string) => screen.getByTestId(id);
const POLL = { onlineMs: 60_000, offlineMs: 60_000 };

function backendWith({ hosting = true, signedIn = true } = {}): FakeBackend {
  const backend = new FakeBackend();
  backend.policyAccepted = true;
  if (signedIn)
    backend.signedIn = {
      account_id: "acc-1",
      account_name: "bob",
      phone: "+8613800000002",
      display_name: null,
      email: null,
      organisation: null,
      date_of_birth: "1990-01-01",
      age_band: "adult",
      sensitive_personal_information: false,
      guardian: null,
      region: "local",
      policy_version_accepted: 1,
      created_at: "2025-01-01T00:00:00Z",
      updated_at: "2025-01-01T00:00:00Z",
    };
  if (hosting) void backend.call("consent_set", { purpose: "developer_data_hosting", granted: true, method: "consent_centre" });
  return backend;
}

function start(backend: FakeBackend) {
  return render(App, { props: { api: new Api(backend), platformPoll: POLL, syncPollMs: 60_000, autosaveDelayMs: 20 } });
}

async function indicatorState(state: string) {
  await waitFor(() => expect(byTestId("sync-indicator").dataset.state).toBe(state));
  return byTestId("sync-indicator-word").textContent ?? "";
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("sync indicator", { timeout: 20_000 }, () => {
  it("says off without the hosting consent; sync now sends nothing and the panel links to the consent", async () => {
    const backend = backendWith({ hosting: false });
    backend.seed({ name: "Travel planner" });
    start(backend);
    expect(await indicatorState("off")).toBe("Off: no consent");

    await fireEvent.click(byTestId("sync-indicator-open"));
    const view = await screen.findByTestId("sync-view");
    expect(within(view).getByTestId("sync-off-note")).toBeTruthy();
    await fireEvent.click(within(view).getByTestId("sync-now"));
    await waitFor(() => expect(byTestId("sync-report").dataset.blocked).toBe("true"));
    expect(byTestId("sync-report-blocked").textContent).toContain("hosting");
    // The agent waits, with a link to the hosting consent.
    const row = (await screen.findAllByTestId(/^sync-item-agent-/))[0]!;
    expect(row.dataset.status).toBe("pending");
    expect(row.textContent).toContain("Travel planner");

    await fireEvent.click(byTestId("sync-open-consent"));
    expect(await screen.findByTestId("purpose-developer_data_hosting")).toBeTruthy();
  });

  it("shows N pending, then synced after sync now; offline when the platform is unreachable", async () => {
    const backend = backendWith();
    backend.seed({ name: "A" });
    backend.seed({ name: "B" });
    start(backend);
    expect(await indicatorState("pending")).toBe("2 pending");

    await fireEvent.click(byTestId("sync-indicator-now"));
    expect(await indicatorState("synced")).toBe("Synced");
    expect(backend.callsOf("sync_now")).toHaveLength(1);

    backend.online = false;
    backend.seed({ name: "C" });
    await fireEvent.click(byTestId("platform-indicator"));
    expect(await indicatorState("offline")).toBe("Offline");

    // Back online: the change made offline is sent without "Sync now".
    backend.online = true;
    await fireEvent.click(byTestId("platform-indicator"));
    await waitFor(() => expect(backend.callsOf("sync_now")).toHaveLength(2));
    expect(await indicatorState("synced")).toBe("Synced");
  });

  it("shows the conflict count in the header", async () => {
    const backend = backendWith();
    const agent = backend.seed({ name: "Writer", instructions: "line one" });
    backend.sync.items.clear();
    backend.sync.addConflict(agent.id, "line uno");
    start(backend);
    expect(await indicatorState("conflicts")).toBe("Conflicts: 1");
  });
});

describe("sync panel", { timeout: 20_000 }, () => {
  it("lists the counts, the items not synced and the history", async () => {
    const backend = backendWith();
    const a = backend.seed({ name: "Pushed one" });
    await backend.call("sync_now", null);
    backend.seed({ name: "Waiting one" });
    start(backend);
    await fireEvent.click(await screen.findByTestId("sync-indicator-open"));
    await screen.findByTestId("sync-view");
    await waitFor(() => expect(byTestId("sync-count-synced").dataset.count).toBe("1"));
    expect(byTestId("sync-count-pending").dataset.count).toBe("1");
    const items = byTestId("sync-items");
    expect(within(items).getAllByRole("row")).toHaveLength(2);
    await waitFor(() => expect(byTestId("sync-items").textContent).toContain("Waiting one"));
    const events = within(byTestId("sync-history")).getAllByTestId("sync-history-event");
    expect(events[0]!.dataset.event).toBe("pushed");
    expect(events[0]!.dataset.id).toBe(a.id);
  });
});

describe("conflict resolution", { timeout: 20_000 }, () => {
  async function openConflict() {
    const backend = backendWith();
    const agent = backend.seed({ name: "Writer", instructions: "Greet the user.\nAnswer briefly." });
    backend.sync.items.clear();
    backend.sync.addConflict(agent.id, "Greet the user.\nAnswer in detail.", "Greet the user.\nAnswer.");
    start(backend);
    await fireEvent.click(await screen.findByTestId("sync-indicator-open"));
    const panel = await screen.findByTestId(`sync-conflict-${agent.id}`);
    return { backend, agent, panel };
  }

  it("shows mine, theirs and base, and the merged text with markers; use merged stays disabled until they are gone", async () => {
    const { backend, agent, panel } = await openConflict();
    expect(within(panel).getByTestId("conflict-mine").textContent).toBe("Greet the user.\nAnswer briefly.");
    expect(within(panel).getByTestId("conflict-theirs").textContent).toBe("Greet the user.\nAnswer in detail.");
    expect(within(panel).getByTestId("conflict-base").textContent).toBe("Greet the user.\nAnswer.");
    const merged = within(panel).getByTestId("conflict-merged") as HTMLTextAreaElement;
    expect(merged.value).toContain("<<<<<<<");
    const use = within(panel).getByTestId("conflict-use-merged") as HTMLButtonElement;
    expect(use.disabled).toBe(true);
    expect(within(panel).getByTestId("conflict-markers-note").dataset.markers).toBe("true");

    // Still disabled while any marker remains.
    await fireEvent.input(merged, { target: { value: "Greet the user.\n=======\nAnswer in detail." } });
    expect(use.disabled).toBe(true);

    await fireEvent.input(merged, { target: { value: "Greet the user.\nAnswer briefly, then in detail." } });
    expect(use.disabled).toBe(false);
    await fireEvent.click(use);
    await waitFor(() => expect(backend.callsOf("sync_resolve")).toHaveLength(1));
    expect(backend.callsOf("sync_resolve")[0]!.request).toEqual({
      kind: "agent",
      id: agent.id,
      resolution: { choice: "merged", instructions: "Greet the user.\nAnswer briefly, then in detail." },
    });
    // The choice is sent at once, and the conflict is gone.
    await waitFor(() => expect(backend.callsOf("sync_now").length).toBeGreaterThan(0));
    await waitFor(() => expect(screen.queryByTestId(`sync-conflict-${agent.id}`)).toBeNull());
    expect(backend.agents.get(agent.id)!.instructions).toBe("Greet the user.\nAnswer briefly, then in detail.");
    expect(await indicatorState("synced")).toBe("Synced");
  });

  it("keep mine and keep theirs send their choice", async () => {
    const { backend, agent, panel } = await openConflict();
    await fireEvent.click(within(panel).getByTestId("conflict-keep-theirs"));
    await waitFor(() => expect(backend.callsOf("sync_resolve")).toHaveLength(1));
    expect(backend.callsOf("sync_resolve")[0]!.request).toEqual({ kind: "agent", id: agent.id, resolution: { choice: "keep_theirs" } });
    expect(backend.agents.get(agent.id)!.instructions).toBe("Greet the user.\nAnswer in detail.");

    backend.sync.addConflict(agent.id, "Something else");
    await fireEvent.click(byTestId("sync-now"));
    const again = await screen.findByTestId(`sync-conflict-${agent.id}`);
    await fireEvent.click(within(again).getByTestId("conflict-keep-mine"));
    await waitFor(() => expect(backend.callsOf("sync_resolve")).toHaveLength(2));
    expect(backend.callsOf("sync_resolve")[1]!.request).toEqual({ kind: "agent", id: agent.id, resolution: { choice: "keep_mine" } });
  });

  it("finds conflict markers only at the start of a line", () => {
    expect(hasConflictMarkers("a\n<<<<<<< mine\nb")).toBe(true);
    expect(hasConflictMarkers(">>>>>>> theirs")).toBe(true);
    expect(hasConflictMarkers("a <<<<<<< b\nc")).toBe(false);
    expect(hasConflictMarkers("plain text")).toBe(false);
  });
});

describe("agent editor", { timeout: 20_000 }, () => {
  it("shows the agent's sync status and switches sync for it", async () => {
    const backend = backendWith();
    const agent = backend.seed({ name: "Writer" });
    await backend.call("sync_now", null);
    start(backend);
    await waitFor(() => expect(screen.queryAllByTestId("agent-row")).toHaveLength(1));
    await fireEvent.click(screen.getAllByTestId("agent-row")[0]!);
    const status = await screen.findByTestId("agent-sync-status");
    await waitFor(() => expect(status.dataset.status).toBe("synced"));
    const toggle = byTestId("agent-sync-toggle") as HTMLInputElement;
    expect(toggle.checked).toBe(true);

    await fireEvent.click(toggle);
    await waitFor(() => expect(byTestId("agent-sync-status").dataset.status).toBe("off"));
    expect(backend.callsOf("sync_agent_set")[0]!.request).toEqual({ id: agent.id, on: false });
    expect((byTestId("agent-sync-toggle") as HTMLInputElement).checked).toBe(false);

    await fireEvent.click(byTestId("agent-sync-toggle"));
    await waitFor(() => expect(byTestId("agent-sync-status").dataset.status).toBe("pending"));
    expect(backend.callsOf("sync_agent_set")[1]!.request).toEqual({ id: agent.id, on: true });
  });

  it("an edit saved in the editor shows the agent pending at once, not at the next poll", async () => {
    const backend = backendWith();
    backend.seed({ name: "Writer" });
    await backend.call("sync_now", null);
    start(backend);
    await waitFor(() => expect(screen.queryAllByTestId("agent-row")).toHaveLength(1));
    await fireEvent.click(screen.getAllByTestId("agent-row")[0]!);
    await waitFor(() => expect(byTestId("agent-sync-status").dataset.status).toBe("synced"));
    await fireEvent.input(byTestId("agent-instructions"), { target: { value: "Answer briefly." } });
    // The poll is a minute here: only a refresh after the save can show it.
    await waitFor(() => expect(byTestId("agent-sync-status").dataset.status).toBe("pending"), { timeout: 3_000 });
    expect(await indicatorState("pending")).toContain("1");
  });

  it("speaks Chinese", async () => {
    i18n.locale = "zh-CN";
    const backend = backendWith({ hosting: false });
    start(backend);
    expect(await indicatorState("off")).toBe("同步已关闭：未同意");
    expect(byTestId("sync-indicator-now").getAttribute("aria-label")).toBe("立即同步");
  });
});

describe("uploads in progress", { timeout: 20_000 }, () => {
  const MiB = 1024 * 1024;

  async function openWithUpload() {
    const backend = backendWith();
    backend.sync.startUpload("ds-1", "corpus.txt", 200 * MiB, 12 * MiB);
    start(backend);
    await fireEvent.click(await screen.findByTestId("sync-indicator-open"));
    const row = await screen.findByTestId("sync-upload-ds-1");
    return { backend, row };
  }

  it("shows each upload's progress, updated while it runs", async () => {
    const { backend, row } = await openWithUpload();
    const bar = within(row).getByRole("progressbar", { name: "Uploading corpus.txt: 12.0 of 200.0 MB" }) as HTMLProgressElement;
    expect(bar.value).toBe(12 * MiB);
    expect(bar.max).toBe(200 * MiB);
    expect(row.dataset.state).toBe("running");

    // Polled every second while it runs.
    backend.sync.advanceUpload("ds-1", 100 * MiB);
    await waitFor(() => expect(within(row).getByTestId("sync-upload-text").textContent).toContain("100.0 of 200.0 MB"), { timeout: 3_000 });
    expect(bar.getAttribute("aria-label")).toBe("Uploading corpus.txt: 100.0 of 200.0 MB");

    // Finished: the row goes.
    backend.sync.advanceUpload("ds-1", 200 * MiB);
    await waitFor(() => expect(screen.queryByTestId("sync-uploads")).toBeNull(), { timeout: 3_000 });
  });

  it("cancel calls the command, the row says cancelled and paused, and resume turns sync on and runs a pass", async () => {
    const { backend, row } = await openWithUpload();
    await fireEvent.click(within(row).getByRole("button", { name: "Cancel the upload of corpus.txt" }));
    await waitFor(() => expect(backend.callsOf("sync_cancel_upload")).toHaveLength(1));
    expect(backend.callsOf("sync_cancel_upload")[0]!.request).toEqual({ kind: "dataset", id: "ds-1" });
    const stopped = await screen.findByTestId("sync-upload-ds-1");
    await waitFor(() => expect(stopped.dataset.state).toBe("cancelled"));
    expect(within(stopped).getByTestId("sync-upload-text").textContent).toContain("cancelled at 12.0 of 200.0 MB: paused");
    // The item is listed as off with the engine's reason.
    const item = await screen.findByTestId("sync-item-ds-1");
    await waitFor(() => expect(item.dataset.status).toBe("off"));
    expect(item.textContent).toContain(`upload cancelled at ${12 * MiB} of ${200 * MiB} bytes`);

    await fireEvent.click(within(stopped).getByTestId("sync-upload-resume"));
    await waitFor(() => expect(backend.callsOf("sync_now")).toHaveLength(1));
    expect(backend.callsOf("sync_item_set")[0]!.request).toEqual({ kind: "dataset", id: "ds-1", on: true });
    await waitFor(() => expect(screen.queryByTestId("sync-upload-ds-1")).toBeNull());
  });

  it("an item left off by a cancelled upload can be turned on from the items list", async () => {
    const { backend, row } = await openWithUpload();
    await fireEvent.click(within(row).getByTestId("sync-upload-cancel"));
    const item = await screen.findByTestId("sync-item-ds-1");
    await waitFor(() => expect(item.dataset.status).toBe("off"));
    await fireEvent.click(within(item).getByTestId("sync-item-turn-on"));
    await waitFor(() => expect(backend.callsOf("sync_now")).toHaveLength(1));
    expect(backend.callsOf("sync_item_set")[0]!.request).toEqual({ kind: "dataset", id: "ds-1", on: true });
    await waitFor(() => expect(screen.queryByTestId("sync-item-ds-1")).toBeNull());
  });

  it("a cancel of an upload that already ended shows the error", async () => {
    const { backend, row } = await openWithUpload();
    backend.sync.uploads.clear();
    await fireEvent.click(within(row).getByTestId("sync-upload-cancel"));
    await waitFor(() => expect(backend.callsOf("sync_cancel_upload")).toHaveLength(1));
    expect((await screen.findByTestId("error-note")).dataset.code).toBe("not_found");
    await waitFor(() => expect(screen.queryByTestId("sync-upload-ds-1")).toBeNull());
  });

  it("speaks Chinese", async () => {
    i18n.locale = "zh-CN";
    const { row } = await openWithUpload();
    expect(within(row).getByRole("progressbar", { name: "正在上传 corpus.txt：12.0 / 200.0 MB" })).toBeTruthy();
    expect(within(row).getByTestId("sync-upload-cancel").textContent?.trim()).toBe("取消");
  });
});
