import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { i18n } from "../i18n/i18n.svelte";
import type { TransmissionRecord, UiErrorReport } from "../api/bindings";
import { installErrorReporter } from "./error-reporter";

const byTestId = (id: string) => screen.getByTestId(id);
const query = (id: string) => screen.queryByTestId(id);

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

async function openPrivacy(backend: FakeBackend, tab?: "consent" | "ledger" | "sent" | "held") {
  render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
  await fireEvent.click(await screen.findByTestId("privacy-open"));
  await screen.findByTestId("privacy-view");
  if (tab && tab !== "consent") await fireEvent.click(byTestId(`privacy-tab-${tab}`));
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("consent centre", () => {
  it("lists every purpose; optional ones start off; the exempt one has no switch", async () => {
    await openPrivacy(signedIn());
    await screen.findByTestId("purpose-usage_analytics");
    expect(screen.getAllByRole("listitem").filter((li) => li.dataset.testid?.startsWith("purpose-"))).toHaveLength(10);
    const toggle = byTestId("consent-toggle-usage_analytics");
    expect(toggle.getAttribute("role")).toBe("switch");
    expect(toggle.getAttribute("aria-checked")).toBe("false");
    expect(screen.getByRole("switch", { name: "Usage analytics" })).toBe(toggle);
    expect(within(byTestId("purpose-usage_analytics")).getByTestId("purpose-clause").textContent).toBe("§1.2(3)");
    expect(within(byTestId("purpose-usage_analytics")).getByTestId("purpose-badge").textContent?.trim()).toBe("Optional");
    expect(within(byTestId("purpose-account_operation")).getByTestId("purpose-badge").textContent?.trim()).toBe("Required");
    expect(query("consent-toggle-service_information")).toBeNull();
    expect(within(byTestId("purpose-service_information")).getByTestId("purpose-exempt-note").textContent).toContain(
      "sends nothing personal",
    );
  });

  it("shows titles in the UI language", async () => {
    await openPrivacy(signedIn());
    await screen.findByTestId("purpose-marketing");
    await fireEvent.change(byTestId("language-select"), { target: { value: "zh-CN" } });
    expect(screen.getByRole("switch", { name: "营销短信与电话" })).toBe(byTestId("consent-toggle-marketing"));
  });

  it("grants with consent_set and shows the outcome; a withdrawal reports what was deleted", async () => {
    const backend = signedIn();
    await openPrivacy(backend);
    await fireEvent.click(await screen.findByTestId("consent-toggle-usage_analytics"));
    await waitFor(() => expect(byTestId("consent-toggle-usage_analytics").getAttribute("aria-checked")).toBe("true"));
    expect(backend.callsOf("consent_set").map((c) => c.request)).toEqual([
      { purpose: "usage_analytics", granted: true, method: "consent_centre" },
    ]);
    expect(byTestId("consent-outcome").textContent).toContain("Granted: Usage analytics.");
    expect(byTestId("consent-outcome").textContent).toContain("Receipt sent to the platform.");
    expect(within(byTestId("purpose-usage_analytics")).getByTestId("purpose-last-change").textContent).toContain(
      "the consent centre",
    );

    backend.queue("usage_analytics", "agent_created", { n: 1 });
    backend.queue("usage_analytics", "agent_saved", { n: 2 });
    backend.queue("usage_analytics", "agent_saved", { n: 3 });
    await fireEvent.click(byTestId("consent-toggle-usage_analytics"));
    await waitFor(() => expect(byTestId("consent-toggle-usage_analytics").getAttribute("aria-checked")).toBe("false"));
    expect(backend.callsOf("consent_set")[1]!.request).toEqual({
      purpose: "usage_analytics",
      granted: false,
      method: "consent_centre",
    });
    const outcome = byTestId("consent-outcome").textContent ?? "";
    expect(outcome).toContain("Withdrawn: Usage analytics.");
    expect(outcome).toContain("3 queued items deleted here.");
    expect(outcome).toContain("The platform deleted 12 items.");
  });

  it("shows the backend's note when signed out", async () => {
    const backend = new FakeBackend();
    await openPrivacy(backend);
    await fireEvent.click(await screen.findByTestId("consent-toggle-crash_reports"));
    await waitFor(() => expect(byTestId("consent-outcome").textContent).toContain("the receipt will be sent when you log in"));
    expect(byTestId("consent-outcome").textContent).toContain("1 receipts still waiting");
  });

  it("warns before withdrawing the required purpose", async () => {
    const backend = signedIn();
    await openPrivacy(backend);
    const toggle = await screen.findByTestId("consent-toggle-account_operation");
    expect(toggle.getAttribute("aria-checked")).toBe("true");
    await fireEvent.click(toggle);
    const dialog = await screen.findByTestId("consent-warn-dialog");
    expect(dialog.textContent).toContain("cannot sign up, log in");
    expect(backend.callsOf("consent_set")).toHaveLength(0);
    await fireEvent.click(byTestId("consent-warn-cancel"));
    expect(query("consent-warn-dialog")).toBeNull();
    expect(backend.callsOf("consent_set")).toHaveLength(0);

    await fireEvent.click(toggle);
    await fireEvent.click(await screen.findByTestId("consent-warn-confirm"));
    await waitFor(() => expect(byTestId("consent-toggle-account_operation").getAttribute("aria-checked")).toBe("false"));
    expect(backend.callsOf("consent_set")[0]!.request).toEqual({
      purpose: "account_operation",
      granted: false,
      method: "consent_centre",
    });
    // Granting it again needs no warning.
    await fireEvent.click(byTestId("consent-toggle-account_operation"));
    await waitFor(() => expect(backend.callsOf("consent_set")).toHaveLength(2));
    expect(query("consent-warn-dialog")).toBeNull();
  });
});

describe("privacy tabs", () => {
  it("move with the arrow keys, Home and End", async () => {
    await openPrivacy(signedIn());
    const first = byTestId("privacy-tab-consent");
    expect(first.getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(first, { key: "ArrowRight" });
    expect(byTestId("privacy-tab-ledger").getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement).toBe(byTestId("privacy-tab-ledger"));
    await screen.findByTestId("consent-ledger");
    await fireEvent.keyDown(byTestId("privacy-tab-ledger"), { key: "End" });
    expect(byTestId("privacy-tab-rights").getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(byTestId("privacy-tab-rights"), { key: "ArrowRight" });
    expect(byTestId("privacy-tab-consent").getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(byTestId("privacy-tab-consent"), { key: "ArrowLeft" });
    expect(byTestId("privacy-tab-rights").getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(byTestId("privacy-tab-rights"), { key: "Home" });
    expect(byTestId("privacy-tab-consent").getAttribute("aria-selected")).toBe("true");
    await screen.findByTestId("consent-centre");
  });
});

describe("consent ledger", () => {
  it("lists entries with their receipt status and verifies intact", async () => {
    const backend = new FakeBackend();
    const api = new Api(backend);
    await api.consentSet({ purpose: "usage_analytics", granted: true, method: null });
    backend.signedIn = signedIn().signedIn;
    await api.consentSet({ purpose: "crash_reports", granted: true, method: null });
    backend.signedIn = null;
    await api.consentSet({ purpose: "crash_reports", granted: false, method: null });
    await openPrivacy(backend, "ledger");
    await waitFor(() => expect(screen.getAllByTestId("ledger-row")).toHaveLength(3));
    const rows = screen.getAllByTestId("ledger-row");
    expect(rows.map((r) => r.dataset.seq)).toEqual(["3", "2", "1"]);
    expect(rows.map((r) => r.dataset.receipt)).toEqual(["pending", "acknowledged", "acknowledged"]);
    expect(within(rows[0]!).getByTestId("ledger-receipt").textContent).toContain("receipt pending");
    expect(within(rows[1]!).getByTestId("ledger-receipt").textContent).toContain("receipt ✓");
    expect(rows[0]!.textContent).toContain("Withdrawn");
    await fireEvent.click(byTestId("ledger-verify"));
    const result = await screen.findByTestId("ledger-verify-result");
    expect(result.dataset.intact).toBe("true");
    expect(result.textContent).toContain("Intact: 3 entries");
  });

  it("names the entry a broken chain points at", async () => {
    const backend = new FakeBackend();
    const api = new Api(backend);
    await api.consentSet({ purpose: "usage_analytics", granted: true, method: null });
    await api.consentSet({ purpose: "usage_analytics", granted: false, method: null });
    backend.verifyReport = {
      intact: false,
      entries: 2,
      problem: { kind: "edited", seq: 2 },
      message: "entry 2 was edited: its hash does not match its fields",
    };
    await openPrivacy(backend, "ledger");
    await screen.findAllByTestId("ledger-row");
    await fireEvent.click(byTestId("ledger-verify"));
    const result = await screen.findByTestId("ledger-verify-result");
    expect(result.dataset.intact).toBe("false");
    expect(result.textContent).toContain("Entry #2 was changed after it was written.");
    expect(result.textContent).toContain("entry 2 was edited");
    expect(screen.getAllByTestId("ledger-row").find((r) => r.dataset.seq === "2")!.classList.contains("problem")).toBe(true);
  });
});

describe("what was sent", () => {
  it("passes outcome and since filters to transmissions_list", async () => {
    const backend = signedIn();
    const record = (seq: number, outcome: TransmissionRecord["outcome"], at: string): TransmissionRecord => ({
      seq,
      at,
      method: "POST",
      path: "/v1/auth/login",
      host: backend.platformUrl,
      purpose: "account_operation",
      outcome,
      status: outcome === "sent" ? 200 : null,
      bytes_up: 10,
      bytes_down: 10,
      preview: "{}",
      error: null,
    });
    backend.transmissionLog = [record(2, "refused", new Date().toISOString()), record(1, "sent", "2020-01-01T00:00:00Z")];
    await openPrivacy(backend, "sent");
    await waitFor(() => expect(screen.getAllByTestId("transmission-row")).toHaveLength(2));
    await fireEvent.change(byTestId("transmissions-outcome"), { target: { value: "refused" } });
    await waitFor(() => expect(screen.getAllByTestId("transmission-row")).toHaveLength(1));
    expect(backend.callsOf("transmissions_list").at(-1)!.request).toMatchObject({ outcome: "refused", since: null });

    await fireEvent.change(byTestId("transmissions-outcome"), { target: { value: "" } });
    const before = Date.now();
    await fireEvent.change(byTestId("transmissions-since"), { target: { value: "hour" } });
    await waitFor(() => expect(backend.callsOf("transmissions_list").at(-1)!.request).toMatchObject({ outcome: null }));
    const since = (backend.callsOf("transmissions_list").at(-1)!.request as { since: string }).since;
    const ago = before - Date.parse(since);
    expect(ago).toBeGreaterThan(3_590_000);
    expect(ago).toBeLessThan(3_610_000);
    await waitFor(() => expect(screen.getAllByTestId("transmission-row").map((r) => r.dataset.outcome)).toEqual(["refused"]));
  });

  it("keeps the header's What was sent button, opening the log", async () => {
    render(App, { props: { api: new Api(signedIn()), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
    await fireEvent.click(await screen.findByTestId("transmissions-open"));
    await screen.findByTestId("transmissions-view");
    expect(byTestId("privacy-tab-sent").getAttribute("aria-selected")).toBe("true");
  });

  it("shows the pending queue grouped by purpose, and Send now flushes it", async () => {
    const backend = signedIn();
    const api = new Api(backend);
    await api.consentSet({ purpose: "usage_analytics", granted: true, method: null });
    await api.consentSet({ purpose: "crash_reports", granted: true, method: null });
    backend.queue("usage_analytics", "agent_created", { agents: 1 });
    backend.queue("crash_reports", "ui_error", { message: "boom" });
    backend.queue("usage_analytics", "agent_saved", { agents: 1 });
    await openPrivacy(backend, "sent");
    await fireEvent.click(await screen.findByTestId("tx-tab-pending"));
    await waitFor(() => expect(screen.getAllByTestId("pending-item")).toHaveLength(3));
    const groups = screen.getAllByTestId("pending-group");
    expect(groups.map((g) => g.dataset.purpose)).toEqual(["usage_analytics", "crash_reports"]);
    expect(within(groups[0]!).getAllByTestId("pending-item")).toHaveLength(2);
    expect(within(groups[1]!).getByTestId("pending-json").textContent).toBe(JSON.stringify({ message: "boom" }, null, 2));

    await fireEvent.click(byTestId("pending-send"));
    await waitFor(() => expect(screen.queryByTestId("pending-empty")).toBeTruthy());
    expect(backend.callsOf("telemetry_flush")).toHaveLength(1);
    expect(byTestId("pending-result").textContent).toContain("Sent 3 items; 0 still queued.");
    expect(backend.transmissionLog.map((r) => r.path)).toContain("/v1/telemetry/usage_analytics");
  });
});

describe("data held", () => {
  it("lists the platform's categories when signed in", async () => {
    await openPrivacy(signedIn(), "held");
    await waitFor(() => expect(screen.getAllByTestId("held-row")).toHaveLength(2));
    const rows = screen.getAllByTestId("held-row");
    expect(rows[1]!.textContent).toContain("Telemetry: Usage analytics");
    expect(rows[1]!.textContent).toContain("90 days");
  });

  it("says to log in when signed out, and that the platform is offline when it is", async () => {
    await openPrivacy(new FakeBackend(), "held");
    expect((await screen.findByTestId("held-signed-out")).textContent).toContain("Log in to see");
    await fireEvent.click(byTestId("held-open-account"));
    await screen.findByTestId("account-view");
  });

  it("offers a retry when the platform is unreachable", async () => {
    const backend = signedIn();
    backend.online = false;
    await openPrivacy(backend, "held");
    await screen.findByTestId("held-offline");
    backend.online = true;
    await fireEvent.click(byTestId("held-retry"));
    await waitFor(() => expect(screen.getAllByTestId("held-row")).toHaveLength(2));
  });
});

describe("uncaught errors", () => {
  function errorEvent(error: Error) {
    return new ErrorEvent("error", { error, message: error.message, filename: "app.js", lineno: 3, colno: 7 });
  }

  it("offers each uncaught error once through telemetry_ui_error", async () => {
    const backend = new FakeBackend();
    const stop = installErrorReporter(new Api(backend));
    try {
      const boom = new Error("boom");
      window.dispatchEvent(errorEvent(boom));
      window.dispatchEvent(errorEvent(boom));
      await waitFor(() => expect(backend.callsOf("telemetry_ui_error")).toHaveLength(1));
      const report = backend.callsOf("telemetry_ui_error")[0]!.request as UiErrorReport;
      expect(report).toMatchObject({ message: "boom", source: "app.js:3:7" });
      expect(report.stack).toContain("boom");

      const rejection = new Event("unhandledrejection") as PromiseRejectionEvent;
      Object.assign(rejection, { reason: new Error("nope") });
      window.dispatchEvent(rejection);
      await waitFor(() => expect(backend.callsOf("telemetry_ui_error")).toHaveLength(2));
      expect((backend.callsOf("telemetry_ui_error")[1]!.request as UiErrorReport).message).toContain("nope");
    } finally {
      stop();
    }
    const swallow = (e: Event) => e.preventDefault();
    window.addEventListener("error", swallow);
    window.dispatchEvent(errorEvent(new Error("after uninstall")));
    window.removeEventListener("error", swallow);
    await Promise.resolve();
    expect(backend.callsOf("telemetry_ui_error")).toHaveLength(2);
  });

  it("never throws or loops when the report itself fails", async () => {
    const backend = new FakeBackend();
    backend.failNext.set("telemetry_ui_error", { code: "internal", message: "down", hint: null, field: null });
    const stop = installErrorReporter(new Api(backend), window, { perMinute: 3 });
    const unhandled: unknown[] = [];
    const onRejection = (e: PromiseRejectionEvent) => unhandled.push(e.reason);
    window.addEventListener("unhandledrejection", onRejection);
    try {
      window.dispatchEvent(errorEvent(new Error("first")));
      await new Promise((r) => setTimeout(r, 20));
      expect(backend.callsOf("telemetry_ui_error")).toHaveLength(1);
      expect(unhandled).toEqual([]);
      for (let i = 0; i < 10; i++) window.dispatchEvent(errorEvent(new Error(`storm ${i}`)));
      await new Promise((r) => setTimeout(r, 20));
      expect(backend.callsOf("telemetry_ui_error")).toHaveLength(3);
    } finally {
      window.removeEventListener("unhandledrejection", onRejection);
      stop();
    }
  });

  it("is installed by the app, and the backend queues it only with crash-report consent", async () => {
    const backend = signedIn();
    render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
    await screen.findByTestId("agent-list");
    window.dispatchEvent(errorEvent(new Error("from the app")));
    await waitFor(() => expect(backend.callsOf("telemetry_ui_error")).toHaveLength(1));
    expect(backend.telemetryQueue).toHaveLength(0);
  });
});
