import { describe, expect, it, vi } from "vitest";
import { HttpBackend, TOKEN_KEY, takeToken, type FetchLike } from "./http";

function response(status: number, body: string): Response {
  return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

describe("takeToken", () => {
  it("moves the token from the fragment to sessionStorage and scrubs the URL", () => {
    history.replaceState(null, "", "/?x=1#token=abc123");
    expect(takeToken()).toBe("abc123");
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe("abc123");
    expect(location.hash).toBe("");
    expect(location.href).not.toContain("abc123");
    expect(location.search).toBe("?x=1");
  });

  it("keeps other fragment parameters", () => {
    history.replaceState(null, "", "/#token=t1&view=list");
    expect(takeToken()).toBe("t1");
    expect(location.hash).toBe("#view=list");
  });

  it("reads the stored token after a reload", () => {
    sessionStorage.setItem(TOKEN_KEY, "stored");
    history.replaceState(null, "", "/");
    expect(takeToken()).toBe("stored");
  });

  it("returns null when there is no token anywhere", () => {
    history.replaceState(null, "", "/");
    expect(takeToken()).toBeNull();
  });
});

describe("HttpBackend", () => {
  it("POSTs the JSON request to /api/<command> with the bearer token", async () => {
    const fetchFn = vi.fn<FetchLike>(async () => response(200, "[]"));
    const backend = new HttpBackend("tok", "", fetchFn);
    await expect(backend.call("agents_list", { filter: "a", include_archived: true })).resolves.toEqual([]);
    expect(fetchFn).toHaveBeenCalledTimes(1);
    const [url, init] = fetchFn.mock.calls[0]!;
    expect(url).toBe("/api/agents_list");
    expect(init.method).toBe("POST");
    expect(init.headers).toEqual({ "Content-Type": "application/json", Authorization: "Bearer tok" });
    expect(JSON.parse(init.body as string)).toEqual({ filter: "a", include_archived: true });
  });

  it("sends null for commands without a request", async () => {
    const fetchFn = vi.fn<FetchLike>(async () => response(200, '{"ready":true}'));
    await new HttpBackend("tok", "", fetchFn).call("app_status", null);
    expect(fetchFn.mock.calls[0]![1].body).toBe("null");
  });

  it("rejects with the ApiError of a non-2xx JSON answer", async () => {
    const error = { code: "invalid_input", message: "name: must not be empty", hint: "Fix it.", field: "name" };
    const backend = new HttpBackend("tok", "", async () => response(422, JSON.stringify(error)));
    await expect(backend.call("agent_get", { id: "x" })).rejects.toEqual(error);
  });

  it("synthesises an internal error when the error body is not JSON", async () => {
    const backend = new HttpBackend("tok", "", async () => new Response("Bad Gateway", { status: 502 }));
    await expect(backend.call("agent_get", { id: "x" })).rejects.toMatchObject({
      code: "internal",
      field: null,
      message: expect.stringContaining("502"),
    });
  });

  it("does not trust a JSON error body with an unknown code", async () => {
    const backend = new HttpBackend("tok", "", async () => response(500, '{"code":"weird","message":"x"}'));
    await expect(backend.call("agent_get", { id: "x" })).rejects.toMatchObject({ code: "internal" });
  });

  it("maps a network failure to a coded error with a hint", async () => {
    const backend = new HttpBackend("tok", "", async () => {
      throw new TypeError("Failed to fetch");
    });
    const error = await backend.call("app_status", null).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "internal", message: expect.stringContaining("Failed to fetch") });
    expect((error as { hint: string }).hint).toContain("awf bridge");
  });

  it("answers null for an empty 2xx body (agent_delete)", async () => {
    const backend = new HttpBackend("tok", "", async () => new Response("", { status: 200 }));
    await expect(backend.call("agent_delete", { id: "x" })).resolves.toBeNull();
  });
});
