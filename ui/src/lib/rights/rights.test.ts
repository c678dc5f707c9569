import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { i18n } from "../i18n/i18n.svelte";
import { RightsApi } from "./api";
import CancelAccountView from "./CancelAccountView.svelte";
import EraseSection from "./EraseSection.svelte";
import ExportSection from "./ExportSection.svelte";
import RequestsSection from "./RequestsSection.svelte";
import App from "../../App.svelte";
import { lock } from "./locked.svelte";

function signedIn(): FakeBackend {
  const backend = new FakeBackend();
  backend.policyAccepted = true;
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
  return backend;
}

const rightsOf = (backend: FakeBackend) => new RightsApi(new Api(backend));
const byTestId = (id: string) => screen.getByTestId(id);

beforeEach(() => {
  i18n.locale = "en";
  lock.locked = false;
});

describe("export", () => {
  it("shows progress while running, then the verify result", async () => {
    const backend = signedIn();
    render(ExportSection, { props: { rights: rightsOf(backend), pollMs: 10 } });
    await waitFor(() => expect((byTestId("export-path") as HTMLInputElement).value).toMatch(/aiwellflow-export-.*\.zip$/));
    await fireEvent.input(byTestId("export-path"), { target: { value: "/tmp/out.zip" } });
    await fireEvent.click(byTestId("export-start"));
    const progress = await screen.findByTestId("export-progress");
    expect(within(progress).getByRole("progressbar", { name: "Export progress" })).toBeTruthy();
    backend.rights.exportTick();
    await waitFor(() => expect(within(byTestId("export-progress")).getByText(/25%/)).toBeTruthy());
    backend.rights.exportTick();
    backend.rights.exportTick();
    backend.rights.exportTick();
    const verify = await screen.findByTestId("export-verify");
    expect(verify.dataset.ok).toBe("true");
    expect(verify.textContent).toContain("all 9 files match");
    expect(backend.callsOf("export_start")[0]!.request).toEqual({ path: "/tmp/out.zip", include_platform: true });
    expect(backend.callsOf("export_verify")[0]!.request).toEqual({ path: "/tmp/out.zip" });
  });

  it("cancels a running export", async () => {
    const backend = signedIn();
    render(ExportSection, { props: { rights: rightsOf(backend), pollMs: 10 } });
    await waitFor(() => expect((byTestId("export-path") as HTMLInputElement).value).not.toBe(""));
    await fireEvent.click(byTestId("export-start"));
    await fireEvent.click(await screen.findByTestId("export-cancel"));
    await screen.findByTestId("export-cancelled");
    expect(screen.queryByTestId("export-progress")).toBeNull();
    expect(backend.callsOf("export_cancel")).toHaveLength(1);
    expect(backend.callsOf("export_verify")).toHaveLength(0);
  });

  it("lists the problems when the archive does not verify", async () => {
    const backend = signedIn();
    backend.rights.verifyOk = false;
    render(ExportSection, { props: { rights: rightsOf(backend), pollMs: 10 } });
    await waitFor(() => expect((byTestId("export-path") as HTMLInputElement).value).not.toBe(""));
    await fireEvent.click(byTestId("export-start"));
    for (let i = 0; i < 4; i++) backend.rights.exportTick();
    const verify = await screen.findByTestId("export-verify");
    expect(verify.dataset.ok).toBe("false");
    expect(verify.textContent).toContain("agents.json: the SHA-256 differs");
  });
});

describe("erase platform data", () => {
  it("asks for confirmation, then shows the receipt and the ledger entry", async () => {
    const backend = signedIn();
    render(EraseSection, { props: { rights: rightsOf(backend) } });
    await screen.findByTestId("deletions-empty");
    await fireEvent.click(byTestId("erase-open"));
    const dialog = await screen.findByTestId("erase-dialog");
    expect(backend.callsOf("platform_data_erase")).toHaveLength(0);
    await fireEvent.click(within(dialog).getByTestId("erase-no"));
    expect(screen.queryByTestId("erase-dialog")).toBeNull();
    expect(backend.callsOf("platform_data_erase")).toHaveLength(0);

    await fireEvent.click(byTestId("erase-open"));
    await fireEvent.click(await screen.findByTestId("erase-confirm"));
    const receipt = await screen.findByTestId("erase-receipt-id");
    expect(receipt.textContent).toMatch(/^del_/);
    expect(byTestId("erase-counts").textContent).toContain("telemetry:usage_analytics: 2");
    const list = await screen.findByTestId("deletions-list");
    expect(within(list).getByTestId("deletion-1").textContent).toContain("everything the platform holds");
    expect(byTestId("deletions-intact").textContent).toBe("Chain intact.");
  });

  it("shows the ledger's problem instead of chain intact", async () => {
    const backend = signedIn();
    backend.rights.ledgerProblem = "Entry 2 does not follow entry 1.";
    render(EraseSection, { props: { rights: rightsOf(backend) } });
    expect((await screen.findByTestId("deletions-problem")).textContent).toBe("Entry 2 does not follow entry 1.");
    expect(screen.queryByTestId("deletions-intact")).toBeNull();
  });
});

describe("requests and complaints", () => {
  const file = (name: string, bytes: number) => new File([new Uint8Array(bytes)], name, { type: "text/plain" });

  it("refuses attachments over 2 MiB and more than five", async () => {
    const backend = signedIn();
    render(RequestsSection, { props: { rights: rightsOf(backend) } });
    const input = byTestId("request-files") as HTMLInputElement;
    await fireEvent.change(input, { target: { files: [file("big.pdf", 2 * 1024 * 1024 + 1), file("ok.txt", 10)] } });
    expect(byTestId("request-file-error").textContent).toBe("big.pdf is larger than 2 MiB.");
    expect(within(byTestId("request-file-list")).getAllByRole("listitem")).toHaveLength(1);
    await fireEvent.change(input, { target: { files: [1, 2, 3, 4, 5].map((i) => file(`f${i}.txt`, 3)) } });
    expect(byTestId("request-file-error").textContent).toBe("At most 5 attachments.");
    expect(within(byTestId("request-file-list")).getAllByRole("listitem")).toHaveLength(5);
    expect(input.disabled).toBe(true);
  });

  it("sends a request with its attachment and lists it with its status and answer", async () => {
    const backend = signedIn();
    render(RequestsSection, { props: { rights: rightsOf(backend) } });
    await screen.findByTestId("requests-empty");
    await fireEvent.click(byTestId("request-send"));
    expect(byTestId("request-text-error").textContent).toBe("Write your request.");
    expect(backend.callsOf("rights_request_new")).toHaveLength(0);
    await fireEvent.change(byTestId("request-category"), { target: { value: "complaint" } });
    await fireEvent.input(byTestId("request-text"), { target: { value: "Please explain." } });
    await fireEvent.change(byTestId("request-files"), { target: { files: [file("note.txt", 4)] } });
    await fireEvent.click(byTestId("request-send"));
    await screen.findByTestId("request-sent");
    const sent = backend.callsOf("rights_request_new")[0]!.request as { category: string; attachments: { name: string; content_base64: string }[] };
    expect(sent.category).toBe("complaint");
    expect(sent.attachments).toEqual([{ name: "note.txt", media_type: "text/plain", content_base64: "AAAAAA==" }]);
    const list = await screen.findByTestId("requests-list");
    expect(within(list).getByTestId("request-status").textContent).toBe("Open");
    backend.rights.requests[0]!.status = "answered";
    backend.rights.requests[0]!.answer = "Here is the explanation.";
    await fireEvent.click(byTestId("requests-refresh"));
    await waitFor(() => expect(byTestId("request-answer").textContent).toContain("Here is the explanation."));
    expect(within(byTestId("requests-list")).getByTestId("request-status").textContent).toBe("Answered");
  });
});

describe("account cancellation", () => {
  async function openCancel(backend: FakeBackend, pollMs = 5000) {
    render(CancelAccountView, { props: { rights: rightsOf(backend), pollMs } });
    await screen.findByText("Type your account name “bob” to confirm");
  }

  it("says it is irreversible, lists what will be lost and offers the export", async () => {
    const backend = signedIn();
    await openCancel(backend);
    expect(byTestId("cancel-irreversible").textContent).toContain("irreversible");
    expect(byTestId("cancel-lost-local").textContent).toContain("keyring");
    await fireEvent.click(byTestId("cancel-export"));
    expect(await screen.findByTestId("rights-export")).toBeTruthy();
  });

  it("requires the exact account name and the checkbox before asking the backend", async () => {
    const backend = signedIn();
    await openCancel(backend);
    await fireEvent.click(byTestId("cancel-submit"));
    expect(byTestId("cancel-error-password").textContent).toBe("Enter your password.");
    expect(byTestId("cancel-error-account_name").textContent).toBe("Type your account name.");
    expect(byTestId("cancel-error-confirm_irreversible").textContent).toBe("Tick the box to confirm.");
    await fireEvent.input(byTestId("cancel-password"), { target: { value: "correct-password" } });
    await fireEvent.input(byTestId("cancel-name"), { target: { value: "Bob" } });
    await fireEvent.click(byTestId("cancel-submit"));
    expect(byTestId("cancel-error-account_name").textContent).toBe("The name does not match your account name exactly.");
    expect(byTestId("cancel-name").getAttribute("aria-invalid")).toBe("true");
    expect(byTestId("cancel-error-confirm_irreversible")).toBeTruthy();
    await fireEvent.input(byTestId("cancel-name"), { target: { value: "bob" } });
    await fireEvent.click(byTestId("cancel-submit"));
    expect(screen.queryByTestId("cancel-error-account_name")).toBeNull();
    expect(byTestId("cancel-error-confirm_irreversible")).toBeTruthy();
    expect(backend.callsOf("account_cancel")).toHaveLength(0);
  });

  it("shows a wrong password at the password field", async () => {
    const backend = signedIn();
    await openCancel(backend);
    await fireEvent.input(byTestId("cancel-password"), { target: { value: "nope" } });
    await fireEvent.input(byTestId("cancel-name"), { target: { value: "bob" } });
    await fireEvent.click(byTestId("cancel-confirm"));
    await fireEvent.click(byTestId("cancel-submit"));
    await waitFor(() => expect(byTestId("cancel-error-password").textContent).toBe("Wrong password."));
  });

  it("completed: the receipt, its signature, the shred, save and start over", async () => {
    const backend = signedIn();
    await openCancel(backend);
    await fireEvent.input(byTestId("cancel-password"), { target: { value: "correct-password" } });
    await fireEvent.input(byTestId("cancel-name"), { target: { value: "bob" } });
    await fireEvent.click(byTestId("cancel-confirm"));
    await fireEvent.click(byTestId("cancel-submit"));
    const done = await screen.findByTestId("cancellation-completed");
    expect(within(done).getByTestId("cancellation-receipt-id").textContent).toMatch(/^del_/);
    expect(within(done).getByTestId("cancellation-verified").dataset.verified).toBe("true");
    expect(within(done).getByTestId("cancellation-shred").textContent).toContain("12 files (40960 bytes), 3 keyring entries");
    expect(backend.callsOf("account_cancel")[0]!.request).toEqual({ password: "correct-password", account_name: "bob", confirm_irreversible: true });
    const created = vi.fn(() => "blob:receipt");
    URL.createObjectURL = created;
    URL.revokeObjectURL = vi.fn();
    await fireEvent.click(within(done).getByTestId("cancellation-save"));
    expect(created).toHaveBeenCalledTimes(1);
  });

  it("pending while the platform is unreachable: locked, polled, then completed", async () => {
    const backend = signedIn();
    await openCancel(backend, 20);
    backend.online = false;
    await fireEvent.input(byTestId("cancel-password"), { target: { value: "correct-password" } });
    await fireEvent.input(byTestId("cancel-name"), { target: { value: "bob" } });
    await fireEvent.click(byTestId("cancel-confirm"));
    await fireEvent.click(byTestId("cancel-submit"));
    const pending = await screen.findByTestId("cancellation-pending");
    expect(pending.textContent).toContain("will complete when the platform is reachable");
    await expect(backend.call("agents_list", { include_archived: false, query: null } as never)).rejects.toMatchObject({ code: "account_locked" });
    backend.online = true;
    await screen.findByTestId("cancellation-completed", {}, { timeout: 2000 });
    expect(backend.callsOf("account_cancellation").length).toBeGreaterThanOrEqual(2);
  });
});

describe("account_locked anywhere", () => {
  it("shows the pending cancellation app-wide instead of failing silently", async () => {
    const backend = signedIn();
    backend.online = false;
    backend.rights.cancellation = {
      state: "pending",
      account_name: "bob",
      requested_at: "2025-01-01T00:00:00Z",
      attempts: 2,
      last_attempt_at: null,
      last_error: "the platform cannot be reached",
    };
    render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
    const banner = await screen.findByTestId("locked-banner");
    expect(banner.textContent).toContain("Account cancellation pending");
    expect(await within(banner).findByTestId("cancellation-pending")).toBeTruthy();
    expect(backend.calls.some((c) => c.command === "agents_list")).toBe(true);
  });
});
