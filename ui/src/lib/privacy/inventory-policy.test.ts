import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { i18n, LOCALE_KEY } from "../i18n/i18n.svelte";
import { theme, THEME_KEY } from "../shared/theme.svelte";
import type { PolicyStatus } from "../api/bindings";
import { formatBytes } from "./text";

const byTestId = (id: string) => screen.getByTestId(id);
const query = (id: string) => screen.queryByTestId(id);
const POLL = { onlineMs: 60_000, offlineMs: 60_000 };

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

async function openTab(backend: FakeBackend, tab: "cookies" | "held") {
  render(App, { props: { api: new Api(backend), platformPoll: POLL } });
  await fireEvent.click(await screen.findByTestId("privacy-open"));
  await screen.findByTestId("privacy-view");
  await fireEvent.click(byTestId(`privacy-tab-${tab}`));
}

const cookieNames = () => screen.queryAllByTestId("cookie-row").map((r) => r.dataset.name);

beforeEach(() => {
  localStorage.clear();
  i18n.locale = "en";
  theme.set("system");
});

describe("cookies and identifiers", () => {
  it("lists the platform cookies and deletes one, then all", async () => {
    const backend = signedIn();
    await openTab(backend, "cookies");
    await screen.findByTestId("cookies-view");
    await waitFor(() => expect(cookieNames()).toEqual(["awf_session", "awf_anon"]));
    const anon = screen.getAllByTestId("cookie-row")[1]!;
    expect(anon.textContent).toContain("Counts anonymous visits.");
    const del = within(anon).getByTestId("cookie-delete");
    expect(del.getAttribute("aria-label")).toBe("Delete cookie awf_anon");
    await fireEvent.click(del);
    await waitFor(() => expect(cookieNames()).toEqual(["awf_session"]));
    expect(backend.callsOf("cookies_delete").map((c) => c.request)).toEqual([{ name: "awf_anon" }]);
    expect(byTestId("cookies-outcome").textContent).toContain("Deleted cookie awf_anon.");

    await fireEvent.click(byTestId("cookies-delete-all"));
    await screen.findByTestId("cookies-empty");
    expect(backend.callsOf("cookies_delete").at(-1)!.request).toEqual({ name: null });
    expect(query("cookies-delete-all")).toBeNull();
  });

  it("refuse cookies is a labelled switch that empties the list and says log-in keeps working", async () => {
    const backend = signedIn();
    await openTab(backend, "cookies");
    const toggle = await screen.findByTestId("cookies-refuse");
    expect(toggle.getAttribute("role")).toBe("switch");
    expect(toggle.getAttribute("aria-checked")).toBe("false");
    expect(screen.getByRole("switch", { name: "Refuse cookies" })).toBe(toggle);
    const note = document.getElementById(toggle.getAttribute("aria-describedby")!)!;
    expect(note.textContent).toContain("Log-in keeps working");
    await waitFor(() => expect(cookieNames()).toHaveLength(2));
    await fireEvent.click(toggle);
    await waitFor(() => expect(byTestId("cookies-refuse").getAttribute("aria-checked")).toBe("true"));
    expect(backend.callsOf("cookies_set_refuse").map((c) => c.request)).toEqual([{ refuse: true }]);
    expect(cookieNames()).toEqual([]);
    await fireEvent.click(byTestId("cookies-refuse"));
    await waitFor(() => expect(byTestId("cookies-refuse").getAttribute("aria-checked")).toBe("false"));
    expect(backend.callsOf("cookies_set_refuse").at(-1)!.request).toEqual({ refuse: false });
  });

  it("resets the installation identifier", async () => {
    const backend = signedIn();
    await openTab(backend, "cookies");
    const id = await screen.findByTestId("installation-id");
    const before = id.textContent;
    expect(before).toBe("01INSTALLATION0000000000001");
    expect(byTestId("cookies-view").textContent).toContain("sent only inside device information");
    await fireEvent.click(byTestId("installation-id-reset"));
    await waitFor(() => expect(byTestId("installation-id").textContent).not.toBe(before));
    expect(backend.callsOf("installation_id_reset")).toHaveLength(1);
  });

  it("lists this window's storage with sizes and clears it, back to the system language and theme", async () => {
    i18n.set("zh-CN");
    theme.set("dark");
    await openTab(signedIn(), "cookies");
    await screen.findByTestId("cookies-view");
    const keys = () => screen.queryAllByTestId("webview-key").map((r) => r.dataset.key);
    expect(keys()).toEqual([LOCALE_KEY, THEME_KEY]);
    const locale = screen.getAllByTestId("webview-key")[0]!;
    expect(locale.textContent).toContain("你选择的语言");
    expect(locale.textContent).toContain(formatBytes((LOCALE_KEY.length + "zh-CN".length) * 2, "zh-CN"));
    await fireEvent.click(byTestId("webview-storage-clear"));
    expect(localStorage.length).toBe(0);
    expect(i18n.locale).toBe("en"); // jsdom's system language
    expect(theme.choice).toBe("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
    await screen.findByTestId("webview-empty");
    expect(byTestId("cookies-outcome").textContent).toContain("follow the system");
  });
});

describe("data inventory", () => {
  it("shows what is kept on this computer in words and human sizes, above the platform's part", async () => {
    await openTab(signedIn(), "held");
    await waitFor(() => expect(screen.getAllByTestId("local-row")).toHaveLength(4));
    const rows = screen.getAllByTestId("local-row");
    expect(rows.map((r) => r.dataset.category)).toEqual(["agents", "transmission_log", "platform_tokens", "search_history"]);
    expect(rows[0]!.textContent).toContain("Agents");
    expect(within(rows[0]!).getByTestId("local-size").textContent).toBe("2 kB");
    expect(within(rows[1]!).getByTestId("local-size").textContent).toBe("1.5 MB");
    expect(rows[1]!.textContent).toContain("Transmission log");
    expect(rows[1]!.textContent).toContain("/tmp/fake/store");
    expect(rows[2]!.textContent).toContain("Platform sign-in tokens");
    expect(rows[3]!.textContent).toContain("Studio keeps no search history");
    // The platform part keeps its own test id, below the local table.
    const held = byTestId("data-held");
    await waitFor(() => expect(within(held).getAllByTestId("held-row")).toHaveLength(2));
    expect(byTestId("local-inventory").compareDocumentPosition(held) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("saves the retention ages and reports what was purged; errors show at their field", async () => {
    const backend = signedIn();
    await openTab(backend, "held");
    const tx = (await screen.findByTestId("retention-transmission-days")) as HTMLInputElement;
    await waitFor(() => expect(tx.value).toBe("30"));
    expect((byTestId("retention-telemetry-days") as HTMLInputElement).value).toBe("14");
    expect(screen.getByLabelText("Transmission log, days")).toBe(tx);

    await fireEvent.input(byTestId("retention-telemetry-days"), { target: { value: "4000" } });
    await fireEvent.click(byTestId("retention-save"));
    const error = await screen.findByTestId("field-error");
    expect(error.dataset.fieldError).toBe("telemetry_queue_days");
    expect(error.textContent).toContain("1 to 3,650 days");
    expect(byTestId("retention-telemetry-days").getAttribute("aria-invalid")).toBe("true");
    expect(byTestId("retention-telemetry-days").getAttribute("aria-describedby")).toBe(error.id);
    expect(byTestId("retention-transmission-days").getAttribute("aria-invalid")).toBe("false");
    expect(backend.retention).toEqual({ transmission_log_days: 30, telemetry_queue_days: 14 });

    await fireEvent.input(byTestId("retention-telemetry-days"), { target: { value: "7" } });
    await fireEvent.input(tx, { target: { value: "10" } });
    await fireEvent.click(byTestId("retention-save"));
    await waitFor(() => expect(byTestId("retention-result").textContent).toContain("Deleted 4 log records and 1 queued"));
    expect(backend.callsOf("retention_set").at(-1)!.request).toEqual({ transmission_log_days: 10, telemetry_queue_days: 7 });
    expect(query("field-error")).toBeNull();
  });
});

function v2(overrides: Partial<PolicyStatus> = {}): PolicyStatus {
  return {
    accepted_version: 1,
    current_version: 2,
    material: true,
    changes: ["§1.2(3): usage analytics now include feature-level interaction events"],
    needs_reconsent: ["usage_analytics"],
    new_purposes: ["research"],
    diff_en: [
      { kind: "delete", text: "(3) usage patterns and related performance data.", clause: "1.2", concerns: "purposes" },
      { kind: "insert", text: "(3) usage patterns, interaction events and related performance data.", clause: "1.2", concerns: "purposes" },
      { kind: "insert", text: "Complaints only through the form.", clause: "6.3", concerns: "rights" },
      { kind: "equal", text: "Unchanged line.", clause: null, concerns: null },
    ],
    diff_zh: [{ kind: "insert", text: "(包括功能级交互事件)", clause: "1.2", concerns: "purposes" }],
    ...overrides,
  };
}

describe("policy change", () => {
  it("shows no banner while the accepted version is the newest, or before any acceptance", async () => {
    const backend = signedIn();
    backend.policyState = v2({ current_version: 2, accepted_version: 2 });
    render(App, { props: { api: new Api(backend), platformPoll: POLL } });
    await screen.findByTestId("agent-list");
    await waitFor(() => expect(backend.callsOf("policy_status").length).toBeGreaterThan(0));
    expect(query("policy-banner")).toBeNull();
    backend.policyState = v2({ accepted_version: null });
    await fireEvent.click(byTestId("platform-indicator"));
    await waitFor(() => expect(backend.callsOf("policy_status").length).toBeGreaterThan(1));
    expect(query("policy-banner")).toBeNull();
  });

  it("learns of a newer version at a check and shows the banner on every section", async () => {
    const backend = signedIn();
    render(App, { props: { api: new Api(backend), platformPoll: POLL } });
    await screen.findByTestId("agent-list");
    await waitFor(() => expect(backend.callsOf("policy_status").length).toBeGreaterThan(0));
    expect(query("policy-banner")).toBeNull();
    backend.policyState = v2({ material: false });
    await fireEvent.click(byTestId("platform-indicator"));
    const banner = await screen.findByTestId("policy-banner");
    expect(banner.dataset.material).toBe("false");
    expect(banner.textContent).toContain("version 2 replaces version 1");
    await fireEvent.click(byTestId("privacy-open"));
    await screen.findByTestId("privacy-view");
    expect(query("policy-banner")).not.toBeNull();
    backend.policyState = v2();
    await fireEvent.click(byTestId("account-open")); // opening a section checks
    await waitFor(() => expect(byTestId("policy-banner").dataset.material).toBe("true"));
    expect(byTestId("policy-banner").classList.contains("material")).toBe(true);
  });

  it("shows versions, changes and the diff with purposes and rights badges in the UI language", async () => {
    const backend = signedIn();
    backend.policyState = v2();
    render(App, { props: { api: new Api(backend), platformPoll: POLL } });
    await fireEvent.click(await screen.findByTestId("policy-banner-open"));
    await screen.findByTestId("policy-update");
    expect(byTestId("policy-versions").textContent).toContain("Version 1 → version 2");
    expect(byTestId("policy-material").textContent).toBe("Material change");
    expect(byTestId("policy-changes").textContent).toContain("feature-level interaction events");
    const lines = screen.getAllByTestId("policy-diff-line");
    expect(lines.map((l) => l.dataset.kind)).toEqual(["delete", "insert", "insert", "equal"]);
    expect(lines[0]!.classList.contains("delete")).toBe(true);
    expect(lines[1]!.classList.contains("insert")).toBe(true);
    expect(within(lines[1]!).getByTestId("policy-diff-badge").textContent).toBe("purposes");
    expect(within(lines[1]!).getByTestId("policy-diff-clause").textContent).toBe("§1.2");
    expect(within(lines[2]!).getByTestId("policy-diff-badge").textContent).toBe("rights");
    expect(within(lines[3]!).queryByTestId("policy-diff-badge")).toBeNull();
    expect(lines[1]!.textContent).toContain("Added:");
    await fireEvent.change(byTestId("language-select"), { target: { value: "zh-CN" } });
    const zh = screen.getAllByTestId("policy-diff-line");
    expect(zh).toHaveLength(1);
    expect(zh[0]!.textContent).toContain("包括功能级交互事件");
    expect(within(zh[0]!).getByTestId("policy-diff-badge").textContent).toBe("用途");
  });

  it("lists purposes to consent to again, unticked, and accepts with only the ticked ones", async () => {
    const backend = signedIn();
    backend.policyState = v2({ needs_reconsent: ["usage_analytics", "crash_reports"] });
    render(App, { props: { api: new Api(backend), platformPoll: POLL } });
    await fireEvent.click(await screen.findByTestId("policy-banner-open"));
    const usage = (await screen.findByTestId("reconsent-usage_analytics")) as HTMLInputElement;
    const crash = byTestId("reconsent-crash_reports") as HTMLInputElement;
    expect(usage.checked).toBe(false);
    expect(crash.checked).toBe(false);
    await waitFor(() => expect(screen.getByLabelText("Usage analytics")).toBe(usage));
    expect(byTestId("policy-reconsent").textContent).toContain("paused");
    await waitFor(() => expect(byTestId("policy-new-purposes").textContent).toContain("Anonymised research"));
    expect(byTestId("policy-accept").textContent?.trim()).toBe("Accept version 2");
    await fireEvent.click(usage);
    expect(usage.checked).toBe(true);
    await fireEvent.click(byTestId("policy-accept"));
    await waitFor(() => expect(query("policy-banner")).toBeNull());
    expect(backend.callsOf("policy_accept").map((c) => c.request)).toEqual([
      { policy_version: 2, reconsent: ["usage_analytics"] },
    ]);
    expect(byTestId("policy-accepted").textContent).toContain("You accepted version 2");
    expect(backend.consents.get("usage_analytics")?.granted).toBe(true);
    expect(backend.consents.has("crash_reports")).toBe(false);

    // A newer version brings it back at the next check.
    backend.policyState = v2({ accepted_version: 2, current_version: 3, needs_reconsent: [] });
    await fireEvent.click(byTestId("platform-indicator"));
    await waitFor(() => expect(byTestId("policy-banner").dataset.version).toBe("3"));
  });

  it("shows the backend's error when accepting fails", async () => {
    const backend = signedIn();
    backend.policyState = v2();
    render(App, { props: { api: new Api(backend), platformPoll: POLL } });
    await fireEvent.click(await screen.findByTestId("policy-banner-open"));
    backend.failNext.set("policy_accept", { code: "policy_outdated", message: "A newer policy is known.", hint: null, field: null });
    await fireEvent.click(await screen.findByTestId("policy-accept"));
    expect((await screen.findByTestId("error-note")).dataset.code).toBe("policy_outdated");
    expect(query("policy-banner")).not.toBeNull();
  });
});
