import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FAKE_SMS_CODE, FakeBackend } from "../api/testing/fake-backend";
import { i18n } from "../i18n/i18n.svelte";
import { ageOn, yearsAgo } from "./age";
import { placeFieldError } from "./errors";
import type { ApiError, TransmissionRecord } from "../api/bindings";

const byTestId = (id: string) => screen.getByTestId(id);
const query = (id: string) => screen.queryByTestId(id);

function start(backend: FakeBackend, platformPoll = { onlineMs: 60_000, offlineMs: 60_000 }) {
  return render(App, { props: { api: new Api(backend), autosaveDelayMs: 20, platformPoll } });
}

async function typeInto(el: HTMLElement, value: string) {
  await fireEvent.input(el, { target: { value } });
}

async function openAccount(backend: FakeBackend) {
  start(backend);
  await fireEvent.click(await screen.findByTestId("account-open"));
  await screen.findByTestId("account-view");
}

async function openSignUp(backend = new FakeBackend()) {
  await openAccount(backend);
  await screen.findByTestId("signup-form");
  await waitFor(() => expect((byTestId("policy-accept") as HTMLInputElement).disabled).toBe(false));
  return backend;
}

async function fillSignUp(overrides: Partial<Record<string, string>> = {}) {
  const v = {
    name: "alice_01",
    phone: "+8613800000001",
    code: FAKE_SMS_CODE,
    password: "correct horse battery",
    confirm: "correct horse battery",
    dob: yearsAgo(30),
    ...overrides,
  };
  await typeInto(byTestId("signup-account-name"), v.name);
  await typeInto(byTestId("signup-phone"), v.phone);
  await typeInto(byTestId("signup-sms-code"), v.code);
  await typeInto(byTestId("signup-password"), v.password);
  await typeInto(byTestId("signup-password-confirm"), v.confirm);
  await typeInto(byTestId("signup-dob"), v.dob);
}

beforeEach(() => {
  i18n.locale = "en";
});

afterEach(() => {
  vi.useRealTimers();
});

describe("age helpers", () => {
  it("counts whole years, birthday included", () => {
    const today = new Date(2025, 5, 15);
    expect(ageOn("2008-06-15", today)).toBe(17);
    expect(ageOn("2008-06-16", today)).toBe(16);
    expect(ageOn("2007-06-15", today)).toBe(18);
    expect(ageOn("2025-02-30", today)).toBeNull();
    expect(ageOn("15/06/2008", today)).toBeNull();
  });

  it("places a nested field error on the nearest shown field", () => {
    const e = (field: string): ApiError => ({ code: "guardian_required", message: "m", hint: null, field });
    expect(placeFieldError(e("guardian.name"), ["guardian.name", "guardian"])).toBe("guardian.name");
    expect(placeFieldError(e("guardian.attestation"), ["guardian"])).toBe("guardian");
    expect(placeFieldError(e("other"), ["guardian"])).toBeNull();
  });
});

describe("sign-up age gate", () => {
  it("reveals the guardian fields at 17 without the sensitive notice", async () => {
    await openSignUp();
    expect(query("guardian-name")).toBeNull();
    await typeInto(byTestId("signup-dob"), yearsAgo(17));
    expect(byTestId("guardian-name")).toBeTruthy();
    expect(byTestId("guardian-phone")).toBeTruthy();
    expect(byTestId("guardian-attest")).toBeTruthy();
    expect(query("sensitive-notice")).toBeNull();
  });

  it("adds the sensitive-data notice at 13", async () => {
    await openSignUp();
    await typeInto(byTestId("signup-dob"), yearsAgo(13));
    expect(byTestId("guardian-name")).toBeTruthy();
    expect(byTestId("sensitive-notice").textContent).toContain("sensitive personal information");
  });

  it("shows neither at 18", async () => {
    await openSignUp();
    await typeInto(byTestId("signup-dob"), yearsAgo(18));
    expect(query("guardian-fields")).toBeNull();
    expect(query("sensitive-notice")).toBeNull();
  });

  it("sends the guardian with a minor's registration", async () => {
    const backend = await openSignUp();
    await fillSignUp({ dob: yearsAgo(13) });
    await typeInto(byTestId("guardian-name"), "Bob");
    await typeInto(byTestId("guardian-phone"), "+8613800000009");
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("signup-submit"));
    // Attestation is still missing: blocked client-side, shown at the checkbox.
    expect(byTestId("guardian-attest").getAttribute("aria-invalid")).toBe("true");
    expect(backend.callsOf("account_register")).toHaveLength(0);
    await fireEvent.click(byTestId("guardian-attest"));
    await fireEvent.click(byTestId("signup-submit"));
    await screen.findByTestId("profile-view");
    expect(backend.callsOf("account_register")[0]!.request).toMatchObject({
      guardian: { name: "Bob", phone: "+8613800000009", attestation: true },
    });
    expect(byTestId("profile-sensitive")).toBeTruthy();
    expect(byTestId("profile-age-band").dataset.band).toBe("child");
  });
});

describe("sign-up form", () => {
  it("requires the policy checkbox before any account request", async () => {
    const backend = await openSignUp();
    await fillSignUp();
    await fireEvent.click(byTestId("signup-submit"));
    const policy = byTestId("policy-accept");
    expect(policy.getAttribute("aria-invalid")).toBe("true");
    const note = document.querySelector('[data-field-error="policy_version"]');
    expect(note?.textContent).toContain("Accept the privacy policy");
    expect(policy.getAttribute("aria-describedby")).toBe(note?.id);
    await fireEvent.click(byTestId("signup-send-code"));
    expect(backend.callsOf("account_accept_policy")).toHaveLength(0);
    expect(backend.callsOf("account_request_sms_code")).toHaveLength(0);
    expect(backend.callsOf("account_register")).toHaveLength(0);
  });

  it("accepts the policy (sign_up_form) before registering, then shows the profile", async () => {
    const backend = await openSignUp();
    await fillSignUp();
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("signup-submit"));
    await screen.findByTestId("profile-view");
    const order = backend.calls.map((c) => c.command);
    const accepted = order.indexOf("account_accept_policy");
    expect(accepted).toBeGreaterThanOrEqual(0);
    expect(accepted).toBeLessThan(order.indexOf("account_register"));
    expect(backend.callsOf("account_accept_policy")[0]!.request).toEqual({ policy_version: 1, method: "sign_up_form" });
    expect(byTestId("profile-account-name").textContent).toBe("alice_01");
  });

  it("blocks a password confirmation that differs", async () => {
    const backend = await openSignUp();
    await fillSignUp({ confirm: "something else" });
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("signup-submit"));
    expect(byTestId("signup-password-confirm").getAttribute("aria-invalid")).toBe("true");
    expect(document.querySelector('[data-field-error="password_confirm"]')?.textContent).toContain("differ");
    expect(backend.callsOf("account_register")).toHaveLength(0);
    expect(backend.callsOf("account_accept_policy")).toHaveLength(0);
  });

  it("sends the code after accepting the policy and counts down to resend", async () => {
    const backend = await openSignUp();
    await typeInto(byTestId("signup-phone"), "+8613800000001");
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("signup-send-code"));
    await waitFor(() => expect(byTestId("signup-send-code").textContent).toContain("Resend in 60 s"));
    expect((byTestId("signup-send-code") as HTMLButtonElement).disabled).toBe(true);
    const order = backend.calls.map((c) => c.command);
    expect(order.indexOf("account_accept_policy")).toBeLessThan(order.indexOf("account_request_sms_code"));
  });

  it("grants the policy once (one ledger entry) when sending the code and then registering", async () => {
    const backend = await openSignUp();
    await fillSignUp();
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("signup-send-code"));
    await waitFor(() => expect(backend.callsOf("account_request_sms_code")).toHaveLength(1));
    await fireEvent.click(byTestId("signup-submit"));
    await screen.findByTestId("profile-view");
    expect(backend.callsOf("account_accept_policy")).toHaveLength(1);
  });

  it("shows a platform error next to the field it names, with message and hint", async () => {
    const backend = await openSignUp();
    backend.failNext.set("account_register", {
      code: "phone_in_use",
      message: "This phone already has an account.",
      hint: "Log in instead.",
      field: "phone",
    });
    await fillSignUp();
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("signup-submit"));
    await waitFor(() => expect(byTestId("signup-phone").getAttribute("aria-invalid")).toBe("true"));
    const note = document.querySelector('[data-field-error="phone"]')!;
    expect(note.textContent).toContain("This phone already has an account.");
    expect(note.textContent).toContain("Log in instead.");
  });
});

describe("log-in form", () => {
  async function openLogin(backend: FakeBackend) {
    await openAccount(backend);
    // The tabs show once the account state is loaded.
    await fireEvent.click(await screen.findByTestId("login-tab"));
    await screen.findByTestId("login-form");
  }

  it("asks for the policy when not accepted, and accepts it with log_in_form", async () => {
    const backend = new FakeBackend();
    await registered(backend);
    backend.policyAccepted = false;
    await openLogin(backend);
    await waitFor(() => expect((byTestId("policy-accept") as HTMLInputElement).disabled).toBe(false));
    await typeInto(byTestId("login-login"), "bob");
    await typeInto(byTestId("login-password"), "pw-12345678");
    await fireEvent.click(byTestId("login-submit"));
    expect(backend.callsOf("account_login")).toHaveLength(0);
    await fireEvent.click(byTestId("policy-accept"));
    await fireEvent.click(byTestId("login-submit"));
    await screen.findByTestId("profile-view");
    expect(backend.callsOf("account_accept_policy")[0]!.request).toEqual({ policy_version: 1, method: "log_in_form" });
  });

  it("shows a wrong password as an error", async () => {
    const backend = new FakeBackend();
    backend.policyAccepted = true;
    await openLogin(backend);
    expect(query("policy-accept")).toBeNull();
    await typeInto(byTestId("login-login"), "nobody");
    await typeInto(byTestId("login-password"), "wrong password");
    await fireEvent.click(byTestId("login-submit"));
    const error = await screen.findByTestId("login-error");
    expect(error.dataset.code).toBe("invalid_credentials");
    expect(error.textContent).toContain("Wrong account name or password.");
    expect(error.textContent).toContain("Check both and try again.");
  });

  it("counts down a rate limit and keeps the button disabled until then", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const backend = new FakeBackend();
    backend.policyAccepted = true;
    backend.failNext.set("account_login", {
      code: "rate_limited",
      message: "Too many failed log-ins.",
      hint: null,
      field: null,
      retry_after_secs: 3,
    });
    await openLogin(backend);
    await typeInto(byTestId("login-login"), "bob");
    await typeInto(byTestId("login-password"), "whatever1");
    await fireEvent.click(byTestId("login-submit"));
    const error = await screen.findByTestId("login-error");
    expect(error.textContent).toContain("Too many attempts — try again in 3 s");
    const button = byTestId("login-submit") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(byTestId("login-error").textContent).toContain("try again in 2 s");
    expect(button.disabled).toBe(true);
    await vi.advanceTimersByTimeAsync(2000);
    await waitFor(() => expect(button.disabled).toBe(false));
    expect(query("login-error")).toBeNull();
  });
});

async function registered(backend: FakeBackend) {
  const api = new Api(backend);
  backend.policyAccepted = true;
  const p = await api.register({
    account_name: "bob",
    phone: "+8613800000002",
    password: "pw-12345678",
    sms_code: FAKE_SMS_CODE,
    date_of_birth: "1990-01-01",
    guardian: null,
  });
  backend.signedIn = null;
  backend.calls = [];
  return p;
}

describe("profile", () => {
  it("edits the display name, then logs out to the tabs", async () => {
    const backend = new FakeBackend();
    backend.signedIn = await registered(backend);
    await openAccount(backend);
    await screen.findByTestId("profile-view");
    expect(byTestId("profile-account-name").textContent).toBe("bob");
    await fireEvent.click(byTestId("profile-edit"));
    await typeInto(byTestId("profile-display-name"), "Bob B.");
    await fireEvent.click(byTestId("profile-save"));
    await waitFor(() => expect(byTestId("profile-display-name-value").textContent).toBe("Bob B."));
    expect(backend.callsOf("account_update_profile")[0]!.request).toEqual({ display_name: "Bob B." });
    await fireEvent.click(byTestId("logout"));
    await screen.findByTestId("login-form");
    expect(backend.callsOf("account_logout")).toHaveLength(1);
  });
});

describe("platform indicator", () => {
  it("goes offline and comes back online by itself as platform_check flips", async () => {
    const backend = new FakeBackend();
    backend.online = false;
    start(backend, { onlineMs: 40, offlineMs: 20 });
    const indicator = await screen.findByTestId("platform-indicator");
    await waitFor(() => expect(indicator.dataset.state).toBe("offline"));
    expect(indicator.getAttribute("aria-label")).toContain("connection refused");
    expect(indicator.getAttribute("aria-label")).toContain(backend.platformUrl);
    const checks = backend.callsOf("platform_check").length;
    backend.online = true;
    await waitFor(() => expect(indicator.dataset.state).toBe("online"));
    expect(backend.callsOf("platform_check").length).toBeGreaterThan(checks);
    backend.online = false;
    await waitFor(() => expect(indicator.dataset.state).toBe("offline"));
    // Local authoring is not blocked: the agent list is right there.
    expect(byTestId("agent-list")).toBeTruthy();
  });
});

describe("settings", () => {
  it("shows insecure_address next to the platform address", async () => {
    const backend = new FakeBackend();
    start(backend);
    await fireEvent.click(await screen.findByTestId("settings-open"));
    const input = (await screen.findByTestId("platform-url")) as HTMLInputElement;
    // Typed only once the settings are loaded (they fill the field).
    await waitFor(() => expect(input.placeholder).toBe(backend.defaultPlatformUrl));
    await typeInto(input, "http://example.com");
    await fireEvent.click(byTestId("platform-url-save"));
    await waitFor(() => expect(input.getAttribute("aria-invalid")).toBe("true"));
    const note = screen.getByTestId("field-error");
    expect(note.dataset.code).toBe("insecure_address");
    expect(note.textContent).toContain("Plain http:// is only allowed to this computer.");
    expect(note.textContent).toContain("Use https://.");
    expect(input.getAttribute("aria-describedby")).toBe(note.id);

    await typeInto(input, "http://127.0.0.1:4000");
    await fireEvent.click(byTestId("platform-url-save"));
    await waitFor(() => expect(input.getAttribute("aria-invalid")).toBe("false"));
    expect(byTestId("platform-url-in-use").textContent).toContain("http://127.0.0.1:4000");
    await fireEvent.click(byTestId("platform-url-default"));
    await waitFor(() => expect(byTestId("platform-url-in-use").textContent).toContain(backend.defaultPlatformUrl));
    expect((input as HTMLInputElement).value).toBe("");
  });
});

describe("transmissions", () => {
  it("lists what was sent and filters by purpose", async () => {
    const backend = new FakeBackend();
    const record = (seq: number, purpose: TransmissionRecord["purpose"], path: string): TransmissionRecord => ({
      seq: seq,
      at: "2025-01-01T00:00:00Z",
      method: "POST",
      path,
      host: "http://127.0.0.1:9",
      purpose,
      outcome: "sent",
      status: 200,
      bytes_up: 120,
      bytes_down: 340,
      preview: '{"password":"<redacted>"}',
      error: null,
    });
    backend.transmissionLog = [record(2, "account_operation", "/v1/auth/login"), record(1, "service_information", "/v1/capabilities")];
    start(backend);
    await fireEvent.click(await screen.findByTestId("transmissions-open"));
    await waitFor(() => expect(screen.getAllByTestId("transmission-row")).toHaveLength(2));
    const first = screen.getAllByTestId("transmission-row")[0]!;
    expect(first.textContent).toContain("/v1/auth/login");
    expect(first.textContent).toContain("120 / 340");
    expect(first.textContent).toContain("<redacted>");
    await fireEvent.change(byTestId("transmissions-purpose"), { target: { value: "service_information" } });
    await waitFor(() => expect(screen.getAllByTestId("transmission-row")).toHaveLength(1));
    expect(backend.callsOf("transmissions_list").at(-1)!.request).toMatchObject({ purpose: "service_information" });
  });
});

describe("policy panel", () => {
  it("follows the UI language and can be switched", async () => {
    i18n.locale = "zh-CN";
    await openSignUp();
    const text = byTestId("policy-text");
    expect(text.textContent).toContain("隐私政策");
    await fireEvent.change(byTestId("policy-lang"), { target: { value: "en" } });
    expect(byTestId("policy-text").textContent).toContain("Privacy policy (test)");
  });
});
