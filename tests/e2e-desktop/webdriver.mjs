// A small W3C WebDriver client: just what the desktop end-to-end tests need, on Node's own
// `fetch`, with no dependencies. It speaks to tauri-driver, which forwards to WebKitWebDriver
// (Linux) or msedgedriver (Windows).
//
// Every command fails with a `WebDriverError` carrying the W3C error code and the command that
// failed; `waitFor*` helpers poll instead of relying on the driver's implicit waits.

import { writeFile } from "node:fs/promises";

/** The W3C key under which an element reference travels. */
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {
  constructor(command, code, message) {
    super(`${command}: ${code}: ${message}`);
    this.code = code;
  }
}

/** Sends one WebDriver command; returns its `value`. */
async function command(base, method, path, body) {
  const what = `${method} ${path}`;
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (e) {
    throw new WebDriverError(what, "connection failed", e.cause?.message ?? e.message);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new WebDriverError(what, `HTTP ${res.status}`, text.slice(0, 500));
  }
  const value = json.value ?? null;
  if (!res.ok || (value && typeof value === "object" && typeof value.error === "string")) {
    throw new WebDriverError(what, value?.error ?? `HTTP ${res.status}`, value?.message ?? text.slice(0, 500));
  }
  return value;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function poll(what, probe, { timeoutMs = 20_000, intervalMs = 150 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
    }
    await sleep(intervalMs);
  }
}

/** Waits until a WebDriver server answers `GET /status` with `ready: true`. */
export async function waitForServer(base, timeoutMs = 30_000) {
  await poll(`the WebDriver server at ${base}`, async () => (await command(base, "GET", "/status"))?.ready, {
    timeoutMs,
    intervalMs: 200,
  });
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** Starts a session (which launches the application). */
  static async create(base, capabilities) {
    const value = await command(base, "POST", "/session", { capabilities });
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return command(this.base, method, `/session/${this.id}${path}`, body);
  }

  /** Ends the session; the driver closes the application. Never throws. */
  async delete() {
    try {
      await this.cmd("DELETE", "");
      return null;
    } catch (e) {
      return e;
    }
  }

  /** The first element matching a CSS selector, or throws `no such element`. */
  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return v[ELEMENT];
  }

  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT]);
  }

  /** Waits for a displayed element matching `css`. */
  waitFor(css, timeoutMs) {
    return poll(
      `element ${css}`,
      async () => {
        const el = await this.find(css);
        return (await this.cmd("GET", `/element/${el}/displayed`)) ? el : null;
      },
      { timeoutMs },
    );
  }

  /** Waits until the text of the element matching `css` satisfies `test`; returns the text. */
  waitForText(css, test, description, timeoutMs) {
    return poll(
      `${css} to ${description}`,
      async () => {
        const t = await this.text(await this.find(css));
        return test(t) ? t || true : null;
      },
      { timeoutMs },
    );
  }

  click(el) {
    return this.cmd("POST", `/element/${el}/click`, {});
  }

  clear(el) {
    return this.cmd("POST", `/element/${el}/clear`, {});
  }

  type(el, text) {
    return this.cmd("POST", `/element/${el}/value`, { text });
  }

  text(el) {
    return this.cmd("GET", `/element/${el}/text`);
  }

  attribute(el, name) {
    return this.cmd("GET", `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  /** Runs a synchronous script in the page. */
  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /**
   * Runs an asynchronous script in the page: it receives `args` and, last, a callback to call with
   * the result (W3C "Execute Async Script").
   */
  executeAsync(script, args = []) {
    return this.cmd("POST", "/execute/async", { script, args });
  }

  source() {
    return this.cmd("GET", "/source");
  }

  /** Saves a PNG screenshot of the window. */
  async screenshot(file) {
    const b64 = await this.cmd("GET", "/screenshot");
    await writeFile(file, Buffer.from(b64, "base64"));
    return file;
  }
}
