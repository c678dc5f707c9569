import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { i18n } from "../i18n/i18n.svelte";
import type { PluginDraft } from "../api/bindings";
import { PETSTORE } from "../api/testing/fixtures";

const byTestId = (id: string) => screen.getByTestId(id);

async function openPlugins(backend: FakeBackend) {
  render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
  await fireEvent.click(await screen.findByTestId("plugins-open"));
  await screen.findByTestId("plugins-view");
}

async function paste(text: string) {
  await fireEvent.click(await screen.findByTestId("plugin-import-open"));
  await fireEvent.input(byTestId("plugin-paste"), { target: { value: text } });
  await fireEvent.click(byTestId("plugin-paste-preview"));
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("plugin import", () => {
  it("previews the tools of a pasted document, then imports it", async () => {
    const backend = new FakeBackend();
    await openPlugins(backend);
    await paste(JSON.stringify(PETSTORE));
    const preview = await screen.findByTestId("plugin-preview");
    expect(within(preview).getByTestId("plugin-preview-title").textContent).toBe("Swagger Petstore");
    const rows = within(preview).getAllByTestId("tool-row");
    expect(rows.map((r) => r.dataset.tool)).toEqual(["listPets", "showPetById"]);
    expect(rows[0]!.textContent).toContain("GET");
    expect(rows[0]!.textContent).toContain("/pets");
    expect(rows[0]!.textContent).toContain("List all pets");
    expect(rows[1]!.textContent).toMatch(/petId\*\s*required\s*in path/);
    expect(backend.callsOf("plugin_import")).toHaveLength(0);

    await fireEvent.click(byTestId("plugin-import-confirm"));
    const detail = await screen.findByTestId("plugin-detail");
    await waitFor(() => expect(within(detail).getByTestId("plugin-title").textContent).toBe("Swagger Petstore"));
    expect(within(detail).getAllByTestId("tool-row")).toHaveLength(2);
    expect(backend.callsOf("plugin_import")[0]!.request).toEqual({ name: "pasted", text: JSON.stringify(PETSTORE) });
    await waitFor(() => expect(screen.getAllByTestId("plugin-row")).toHaveLength(1));
  });

  it("shows a bad document's error with its place, and imports nothing", async () => {
    const backend = new FakeBackend();
    await openPlugins(backend);
    const broken = structuredClone(PETSTORE) as { components?: unknown };
    delete broken.components;
    await paste(JSON.stringify(broken));
    const error = await screen.findByTestId("plugin-import-error");
    expect(error.querySelector('[data-code="invalid_file"]')).not.toBeNull();
    expect(error.textContent).toContain("“pasted” cannot be imported");
    expect(error.textContent).toContain("at /paths/~1pets~1{petId}/get/parameters/0/$ref");
    expect(error.textContent).toContain("points at nothing");
    expect(screen.queryByTestId("plugin-preview")).toBeNull();
    expect(backend.library.plugins.size).toBe(0);
  });

  it("names the place the command surface gives in `field`", async () => {
    const backend = new FakeBackend();
    await openPlugins(backend);
    await paste(JSON.stringify(PETSTORE));
    await screen.findByTestId("plugin-preview");
    backend.failNext.set("plugin_import", {
      code: "invalid_file",
      message: "`pasted`: at /paths/~1pets/get/responses (line 12): expected a map",
      hint: "Correct the file at the place named and import it again; nothing was saved.",
      field: "/paths/~1pets/get/responses",
    });
    await fireEvent.click(byTestId("plugin-import-confirm"));
    const place = await screen.findByTestId("plugin-import-place");
    expect(place.textContent).toBe("/paths/~1pets/get/responses");
    expect(byTestId("plugin-import-error").textContent).toContain("line 12");
  });
});

describe("plugin detail", () => {
  async function seeded() {
    const backend = new FakeBackend();
    const plugin = backend.library.seedPlugin("petstore", PETSTORE);
    await openPlugins(backend);
    await fireEvent.click(await screen.findByTestId("plugin-row"));
    await screen.findByTestId("plugin-form");
    return { backend, plugin };
  }

  it("never shows the secret back: write-only input, “a secret is set”, replace and remove", async () => {
    const { backend, plugin } = await seeded();
    const MARKER = "sk-live-MARKER-1234567890";
    // The auth method must take a secret first.
    await fireEvent.change(byTestId("plugin-auth"), { target: { value: "bearer" } });
    await fireEvent.click(byTestId("plugin-save"));
    await waitFor(() => expect(byTestId("plugin-secret-state").dataset.set).toBe("false"));
    const input = (await screen.findByTestId("plugin-secret-input")) as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(input.value).toBe("");

    await fireEvent.input(input, { target: { value: MARKER } });
    await fireEvent.click(byTestId("plugin-secret-set"));
    await waitFor(() => expect(byTestId("plugin-secret-state").dataset.set).toBe("true"));
    expect(byTestId("plugin-secret-state").textContent).toContain("A secret is set");
    expect(backend.library.secretOf(plugin.id)).toBe(MARKER);
    expect((byTestId("plugin-secret-input") as HTMLInputElement).value).toBe("");
    // Nowhere in the page: not in text, not in any field's value.
    expect(document.body.textContent).not.toContain(MARKER);
    for (const el of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input, textarea")) {
      expect(el.value).not.toContain(MARKER);
    }
    // No answer carried it either.
    expect(JSON.stringify(await backend.call("plugin_get", { id: plugin.id }))).not.toContain(MARKER);
    expect(byTestId("plugin-secret-where").textContent).toMatch(/passphrase|keyring/);

    expect(byTestId("plugin-secret-set").textContent).toContain("Replace secret");
    await fireEvent.input(byTestId("plugin-secret-input"), { target: { value: "second" } });
    await fireEvent.click(byTestId("plugin-secret-set"));
    await waitFor(() => expect(backend.library.secretOf(plugin.id)).toBe("second"));
    await fireEvent.click(byTestId("plugin-secret-remove"));
    await waitFor(() => expect(byTestId("plugin-secret-state").dataset.set).toBe("false"));
    expect(backend.callsOf("plugin_set_secret").at(-1)!.request).toEqual({ id: plugin.id, secret: null });
    expect(byTestId("plugin-secret-outcome").textContent).toContain("removed");
  });

  it("a third-party service requires a provider and an https privacy-policy address (§9)", async () => {
    const { backend, plugin } = await seeded();
    const toggle = byTestId("plugin-third-party");
    expect(toggle.getAttribute("role")).toBe("switch");
    expect(toggle.getAttribute("aria-checked")).toBe("false");
    expect(byTestId("plugin-form").textContent).toContain("does not apply to third-party products or services");
    await fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-checked")).toBe("true");
    await fireEvent.input(byTestId("plugin-provider"), { target: { value: "Acme Pets Ltd" } });

    await fireEvent.click(byTestId("plugin-save"));
    let error = await screen.findByTestId("field-error");
    expect(error.dataset.fieldError).toBe("third_party.privacy_policy_url");
    expect(byTestId("plugin-policy-url").getAttribute("aria-invalid")).toBe("true");
    expect(backend.callsOf("plugin_update")).toHaveLength(0);

    await fireEvent.input(byTestId("plugin-policy-url"), { target: { value: "http://acme.example/privacy" } });
    await fireEvent.click(byTestId("plugin-save"));
    error = await screen.findByTestId("field-error");
    expect(error.textContent).toContain("https://");
    expect(backend.callsOf("plugin_update")).toHaveLength(0);

    await fireEvent.input(byTestId("plugin-policy-url"), { target: { value: "https://acme.example/privacy" } });
    await fireEvent.click(byTestId("plugin-save"));
    await waitFor(() => expect(byTestId("plugin-outcome").textContent).toBe("Saved."));
    const sent = backend.callsOf("plugin_update")[0]!.request as { draft: PluginDraft };
    expect(sent.draft.third_party).toEqual({
      is_third_party: true,
      provider: "Acme Pets Ltd",
      privacy_policy_url: "https://acme.example/privacy",
    });
    expect(backend.library.plugins.get(plugin.id)!.third_party.is_third_party).toBe(true);
    await waitFor(() => expect(screen.getByTestId("plugin-row").textContent).toContain("Third party"));
  });

  it("edits API-key auth and deletes after confirmation", async () => {
    const { backend, plugin } = await seeded();
    await fireEvent.change(byTestId("plugin-auth"), { target: { value: "api_key" } });
    await fireEvent.change(byTestId("plugin-key-location"), { target: { value: "query" } });
    await fireEvent.input(byTestId("plugin-key-name"), { target: { value: "api_key" } });
    await fireEvent.click(byTestId("plugin-save"));
    await waitFor(() =>
      expect(backend.library.plugins.get(plugin.id)!.auth).toEqual({ type: "api_key", location: "query", param_name: "api_key" }),
    );
    await fireEvent.click(byTestId("plugin-delete"));
    const dialog = await screen.findByTestId("plugin-delete-dialog");
    expect(dialog.textContent).toContain("removed from every agent");
    await fireEvent.click(byTestId("plugin-delete-confirm"));
    await waitFor(() => expect(backend.library.plugins.size).toBe(0));
    await waitFor(() => expect(screen.queryByTestId("plugin-detail")).toBeNull());
  });
});
