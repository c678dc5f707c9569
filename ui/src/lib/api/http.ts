// HTTP bridge transport: `POST /api/<command>` on the page's own origin with a bearer token.
//
// The bridge hands the token over once, in the URL fragment (`#token=<hex>`), which never
// reaches a server log. `takeToken` moves it into sessionStorage and scrubs it from the
// visible URL, so a reload keeps working and a copied address does not leak it.
import { internalError, isApiError, normaliseApiError, type Backend, type CommandName, type RequestOf, type ResponseOf } from "./backend";

export const TOKEN_KEY = "awf.bridge-token";

/** Reads the bridge token from the URL fragment (first load) or sessionStorage (reloads). */
export function takeToken(win: Window = window): string | null {
  const params = new URLSearchParams(win.location.hash.replace(/^#/, ""));
  const fromHash = params.get("token");
  if (fromHash) {
    win.sessionStorage.setItem(TOKEN_KEY, fromHash);
    params.delete("token");
    const rest = params.toString();
    const url = win.location.pathname + win.location.search + (rest ? `#${rest}` : "");
    win.history.replaceState(win.history.state, "", url);
    return fromHash;
  }
  return win.sessionStorage.getItem(TOKEN_KEY);
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export class HttpBackend implements Backend {
  constructor(
    private readonly token: string | null,
    private readonly baseUrl = "",
    private readonly fetchFn: FetchLike = (input, init) => fetch(input, init),
  ) {}

  async call<K extends CommandName>(command: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchFn(`${this.baseUrl}/api/${command}`, {
        method: "POST",
        headers,
        body: JSON.stringify(request),
      });
    } catch (reason) {
      throw internalError(
        `Could not reach the local bridge: ${reason instanceof Error ? reason.message : String(reason)}`,
        "Check that `awf bridge` is still running, then reload the page.",
      );
    }
    const text = await response.text();
    if (response.ok) {
      if (text.trim() === "") return null as ResponseOf<K>;
      try {
        return JSON.parse(text) as ResponseOf<K>;
      } catch {
        throw internalError(`The bridge answered ${command} with a body that is not JSON.`);
      }
    }
    let body: unknown = undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: synthesised below.
    }
    if (isApiError(body)) {
      throw normaliseApiError(body);
    }
    const snippet = text.trim().slice(0, 200);
    throw internalError(`The bridge answered ${command} with HTTP ${response.status}${snippet ? `: ${snippet}` : "."}`);
  }
}
