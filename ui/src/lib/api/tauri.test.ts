import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

const { TauriBackend, inTauri } = await import("./tauri");

/** What a promise rejected with (fails the test if it resolved). */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("TauriBackend", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("sends every command through api_call with its args", async () => {
    invoke.mockResolvedValue({ id: "a1" });
    await expect(new TauriBackend().call("agent_get", { id: "a1" })).resolves.toEqual({ id: "a1" });
    expect(invoke).toHaveBeenCalledWith("api_call", { command: "agent_get", args: { id: "a1" } });
  });

  it("passes the ApiError payload of a rejection through", async () => {
    const error = { code: "conflict", message: "changed elsewhere", hint: "Reload.", field: null };
    invoke.mockImplementation(async () => {
      throw error;
    });
    expect(await failure(new TauriBackend().call("agent_get", { id: "a1" }))).toEqual(error);
  });

  it("wraps a bare string rejection into an internal error", async () => {
    invoke.mockImplementation(async () => {
      throw "command api_call not found";
    });
    expect(await failure(new TauriBackend().call("app_status", null))).toMatchObject({
      code: "internal",
      message: "command api_call not found",
    });
  });

  it("is selected only inside the Tauri webview", () => {
    expect(inTauri()).toBe(false);
    (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {};
    expect(inTauri()).toBe(true);
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
  });
});
