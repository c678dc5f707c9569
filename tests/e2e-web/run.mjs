// Web end-to-end test: the built UI (ui/dist) in headless Chromium, driven by Playwright,
// against the real backend served by `awf bridge` on loopback (no mocks), which talks to the
// reference platform (`awf-platform --dev`) started here on a free port.
//
// Environment:
//   AWF_BIN            the `awf` binary (default: <repo>/target/debug/awf, built if missing)
//   AWF_PLATFORM_BIN   the reference platform (default: <repo>/target/debug/awf-platform, built if missing)
//   AWF_CHROMIUM       the browser (default: /usr/bin/chromium; Playwright cannot download one here)
//   AWF_ARTIFACTS_DIR  where screenshots go (default: <repo>/test-artifacts/e2e-web)
//   AWF_E2E_HEADED=1   show the browser window
//
// Prints one line per step and closes with "N passed, N failed".

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const uiDir = path.join(root, "ui");
const dist = path.join(uiDir, "dist");
const fixtures = path.join(root, "tests/fixtures");
const artifacts = path.resolve(process.env.AWF_ARTIFACTS_DIR || path.join(root, "test-artifacts/e2e-web"));
const chromiumPath = process.env.AWF_CHROMIUM || "/usr/bin/chromium";
const PASSPHRASE = "e2e-test-passphrase";
const STEP_TIMEOUT_MS = 15_000;

// playwright-core is a pinned dev dependency of ui/ (one lock file for the whole web side).
const require = createRequire(path.join(uiDir, "package.json"));
const { chromium } = /** @type {typeof import("playwright-core")} */ (require("playwright-core"));

/** @param {string} msg */
function log(msg) {
  console.log(`[e2e-web] ${msg}`);
}

/**
 * @param {unknown} condition
 * @param {string} message
 */
function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

function awfBinary() {
  if (process.env.AWF_BIN) return path.resolve(process.env.AWF_BIN);
  const bin = path.join(root, "target/debug/awf");
  if (!existsSync(bin)) {
    log("target/debug/awf is missing: cargo build -p awf-cli");
    const r = spawnSync("cargo", ["build", "-p", "awf-cli"], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) throw new Error("cargo build -p awf-cli failed");
  }
  return bin;
}

function platformBinary() {
  if (process.env.AWF_PLATFORM_BIN) return path.resolve(process.env.AWF_PLATFORM_BIN);
  const bin = path.join(root, "target/debug/awf-platform");
  if (!existsSync(bin)) {
    log("target/debug/awf-platform is missing: cargo build -p awf-platform");
    const r = spawnSync("cargo", ["build", "-p", "awf-platform"], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) throw new Error("cargo build -p awf-platform failed");
  }
  return bin;
}

/** A TCP port nobody listens on right now (the platform is restarted on the same one). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `awf-platform --dev` and resolves with the URL it prints (`AWF_PLATFORM_URL=…`).
 * @param {string} bin
 * @param {number} port
 * @param {string} dataDir
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
async function startPlatform(bin, port, dataDir) {
  const child = spawn(bin, ["--dev", "--port", String(port), "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`awf-platform printed no URL within 30 s; stderr:\n${stderr}`)), 30_000);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const m = /^AWF_PLATFORM_URL=(\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`awf-platform exited (code ${code}, signal ${signal}); stderr:\n${stderr}`));
    });
  });
  return { url, stop: () => stopChild(child) };
}

/** @param {import("node:child_process").ChildProcess} child */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * The newest SMS code the dev platform "sent" to `phone` (its outbox lists newest last).
 * @param {string} platformUrl
 * @param {string} phone
 */
async function smsCodeFor(platformUrl, phone) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${platformUrl}/v1/dev/sms-outbox?phone=${encodeURIComponent(phone)}`);
    if (res.ok) {
      const list = /** @type {{phone: string, code: string, sent_at: string}[]} */ (await res.json());
      const last = list.at(-1);
      if (last) return last.code;
    }
    if (Date.now() > deadline) throw new Error(`no SMS code for ${phone} in the dev outbox (HTTP ${res.status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `YYYY-MM-DD`, `years` years before today. @param {number} years */
function yearsAgo(years) {
  const d = new Date();
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear() - years}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Starts `awf bridge` on a fresh data directory and resolves with its URL (token in the fragment). */
/**
 * @param {string} bin
 * @param {string} dataDir
 * @param {string | null} platformUrl
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
async function startBridge(bin, dataDir, platformUrl) {
  /** @type {Record<string, string | undefined>} */
  const env = { ...process.env, AWF_PASSPHRASE: PASSPHRASE };
  if (platformUrl) env.AWF_PLATFORM_URL = platformUrl;
  const child = spawn(bin, ["bridge", "--ui-dir", dist, "--data-dir", dataDir], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`awf bridge printed no URL within 30 s; stderr:\n${stderr}`)), 30_000);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const m = /^AWF_BRIDGE_URL=(\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`awf bridge exited (code ${code}, signal ${signal}); stderr:\n${stderr}`));
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

const tid = (/** @type {string} */ id) => `[data-testid="${id}"]`;

/** The agent's field values as the editor shows them. */
const expected = {
  name: "E2E Travel Planner",
  description: "Plans trips on a budget",
  icon: "🧭",
  instructions: "You are a travel planner.\nAsk about the budget first.\nUse {{city}} as the destination.",
  opening: "Where would you like to go?",
  questions: ["Plan a weekend in Hangzhou", "What should I pack?"],
  model: "awf-chat-pro",
  temperature: "1.2",
  topP: "0.9",
  maxTokens: "2048",
  format: "markdown",
  variable: { name: "city", description: "Destination city", default: "Shanghai", required: true },
};

/** @typedef {import("playwright-core").Page} Page */

/** @param {Page} page */
async function waitSaved(page) {
  const indicator = page.locator(tid("save-indicator"));
  await indicator.and(page.locator('[data-state="saved"]')).waitFor({ timeout: STEP_TIMEOUT_MS });
  const text = (await indicator.innerText()).trim();
  assert(text === "Saved" || text === "已保存", `save indicator says "${text}"`);
}

/**
 * A one-line account of the page for a failure's log: the section, the agent rows in the
 * document, the editor's agent and name, the save indicator, and any error notes.
 * @param {Page} page
 */
async function pageState(page) {
  return page.evaluate(() => {
    const q = (/** @type {string} */ s) => document.querySelector(s);
    const text = (/** @type {Element | null} */ el) => (el?.textContent ?? "").replace(/\s+/g, " ").trim();
    const rows = [...document.querySelectorAll('[data-testid="agent-row"]')].map(
      (r) => `${r.getAttribute("data-agent-id")}:${text(r.querySelector(".name"))}`,
    );
    const name = /** @type {HTMLInputElement | null} */ (q('[data-testid="agent-name"]'));
    const errors = [...document.querySelectorAll('[role="alert"]')].map(text).filter(Boolean);
    return JSON.stringify({
      url: location.pathname + location.hash,
      rows: rows.slice(0, 12),
      rowCount: rows.length,
      editor: q('[data-testid="agent-editor"]')?.getAttribute("data-agent-id") ?? null,
      name: name?.value ?? null,
      saved: q('[data-testid="save-indicator"]')?.getAttribute("data-state") ?? null,
      platform: q('[data-testid="platform-indicator"]')?.getAttribute("data-state") ?? null,
      errors,
    });
  });
}

/**
 * Clicks "New agent" and waits for the new agent's editor: the editor open before stays until its
 * edits are saved, and a name typed into it meanwhile would land on that agent.
 * @param {Page} page
 */
async function newAgent(page) {
  const editor = page.locator(tid("agent-editor"));
  const before = (await editor.count()) > 0 ? await editor.getAttribute("data-agent-id") : null;
  await page.locator(tid("new-agent")).click();
  await page.waitForFunction(
    (old) => {
      const id = document.querySelector('[data-testid="agent-editor"]')?.getAttribute("data-agent-id");
      return Boolean(id) && id !== old;
    },
    before,
    { timeout: STEP_TIMEOUT_MS },
  );
}

/**
 * @param {Page} page
 * @param {string} name
 */
async function openAgent(page, name) {
  await page.locator(tid("agent-row"), { hasText: name }).first().click();
  await page.locator(tid("agent-name")).waitFor();
  // The editor of the agent open before is replaced once its edits are saved: wait for the swap.
  await page
    .waitForFunction(
      (expected) => /** @type {HTMLInputElement | null} */ (document.querySelector('[data-testid="agent-name"]'))?.value === expected,
      name,
      { timeout: 5_000 },
    )
    .catch(() => {});
  const actual = await page.locator(tid("agent-name")).inputValue();
  assert(actual === name, `editor opened "${actual}", expected "${name}"`);
}

/**
 * @param {Page} page
 * @param {string} testid
 * @param {string} value
 */
async function expectValue(page, testid, value) {
  const actual = await page.locator(tid(testid)).inputValue();
  assert(actual === value, `${testid} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
}

/**
 * @param {Page} page
 * @param {string} [instructions]
 */
async function expectAllFields(page, instructions = expected.instructions) {
  await expectValue(page, "agent-name", expected.name);
  await expectValue(page, "agent-description", expected.description);
  await expectValue(page, "agent-icon", expected.icon);
  await expectValue(page, "agent-instructions", instructions);
  await expectValue(page, "agent-opening-message", expected.opening);
  await expectValue(page, "agent-question-0", expected.questions[0]);
  await expectValue(page, "agent-question-1", expected.questions[1]);
  assert((await page.locator(tid("agent-question-2")).count()) === 0, "exactly two suggested questions");
  await expectValue(page, "agent-model", expected.model);
  await expectValue(page, "agent-temperature", expected.temperature);
  await expectValue(page, "agent-top-p", expected.topP);
  await expectValue(page, "agent-max-tokens", expected.maxTokens);
  await expectValue(page, "agent-response-format", expected.format);
  await expectValue(page, "variable-name-0", expected.variable.name);
  await expectValue(page, "variable-description-0", expected.variable.description);
  await expectValue(page, "variable-default-0", expected.variable.default);
  assert(await page.locator(tid("variable-required-0")).isChecked(), "variable 0 is required");
}

/**
 * Problems with the header's layout at the page's current width: a section button clipped or
 * hidden, two header controls overlapping, or anything reaching past the header's right edge.
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function headerProblems(page) {
  return page.evaluate(() => {
    const header = document.querySelector("header");
    if (!header) return ["no header"];
    const out = [];
    const hb = header.getBoundingClientRect();
    const nav = header.querySelector("nav");
    if (nav && nav.scrollWidth > nav.clientWidth + 1) out.push(`the section nav is clipped (${nav.scrollWidth} > ${nav.clientWidth} px)`);
    const parts = [...header.querySelectorAll("nav button, [data-testid=search], [data-testid=sync-indicator], [data-testid=platform-indicator], select, .brand")];
    const boxes = parts.map((el) => ({ el, r: el.getBoundingClientRect() })).filter((b) => b.r.width > 0);
    const name = (/** @type {Element} */ el) => el.getAttribute("data-testid") ?? el.id ?? el.className;
    for (const { el, r } of boxes) {
      if (r.right > hb.right + 1 || r.left < hb.left - 1) out.push(`${name(el)} reaches outside the header`);
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r;
        const b = boxes[j].r;
        const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
        if (overlap && !boxes[i].el.contains(boxes[j].el) && !boxes[j].el.contains(boxes[i].el)) {
          out.push(`${name(boxes[i].el)} overlaps ${name(boxes[j].el)}`);
        }
      }
    }
    return out;
  });
}

/**
 * Serious or critical WCAG 2 A/AA violations on the current page, by axe-core. axe is evaluated
 * through DevTools, which the page's CSP does not govern; the page itself still runs under it.
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function axeViolations(page) {
  const axeSource = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    // @ts-expect-error axe is injected above
    const result = await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] });
    return result.violations
      .filter((/** @type {{impact: string}} */ v) => v.impact === "serious" || v.impact === "critical")
      .map(
        (/** @type {{id: string, impact: string, nodes: {target: string[]}[]}} */ v) =>
          `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
      );
  });
}

/**
 * Policy version 2 as a `PublishPolicy` body: the sample under assets/policy/v2 when present, else
 * built from version 1 by widening §1.2(3) (usage_analytics and research since version 2).
 */
async function policyV2() {
  const dir = path.join(root, "assets/policy");
  const v2 = path.join(dir, "v2");
  if (existsSync(path.join(v2, "en.txt")) && existsSync(path.join(v2, "zh-CN.txt")) && existsSync(path.join(v2, "terms.json"))) {
    return {
      version: 2,
      en: await readFile(path.join(v2, "en.txt"), "utf8"),
      zh_cn: await readFile(path.join(v2, "zh-CN.txt"), "utf8"),
      purposes: JSON.parse(await readFile(path.join(v2, "terms.json"), "utf8")),
      material: true,
      changes: [
        "§1.2(3): usage analytics now include feature-level interaction events",
        "§6.3: complaints only through the complaint form; reply within 30 working days",
      ],
    };
  }
  const en = (await readFile(path.join(dir, "v1/en.txt"), "utf8")).replace(
    "and related performance data",
    "and related performance data, including feature-level interaction events,",
  );
  const zh = (await readFile(path.join(dir, "v1/zh-CN.txt"), "utf8")).replace(
    "使用情况及相关性能数据信息。",
    "使用情况及相关性能数据信息(包括功能级交互事件)。",
  );
  const purposes = [
    "account_operation",
    "security_device_info",
    "usage_analytics",
    "crash_reports",
    "marketing",
    "research",
    "developer_data_hosting",
    "cross_border_transfer",
    "third_party_sharing",
  ].map((purpose) => ({ purpose, since_version: purpose === "usage_analytics" || purpose === "research" ? 2 : 1 }));
  return {
    version: 2,
    en,
    zh_cn: zh,
    purposes,
    material: true,
    changes: ["§1.2(3): usage analytics now include feature-level interaction events"],
  };
}

async function main() {
  if (!existsSync(path.join(dist, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` in ui/ first");
  if (!existsSync(chromiumPath)) throw new Error(`no browser at ${chromiumPath} (set AWF_CHROMIUM)`);
  await mkdir(artifacts, { recursive: true });
  const bin = awfBinary();
  const platformBin = platformBinary();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-web-"));
  const platformDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-web-platform-"));
  const platformPort = await freePort();
  log(`awf ${bin}`);
  log(`awf-platform ${platformBin} on port ${platformPort}`);
  log(`data dir ${dataDir}`);

  let platform = await startPlatform(platformBin, platformPort, platformDir);
  log(`platform ${platform.url}`);
  const bridge = await startBridge(bin, dataDir, platform.url);
  log(`bridge ${bridge.url.replace(/token=\w+/, "token=…")}`);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: process.env.AWF_E2E_HEADED !== "1",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ].filter((a) => a !== "--headless" || process.env.AWF_E2E_HEADED !== "1"),
  });
  const context = await browser.newContext({ locale: "en-US", colorScheme: "light", viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  // Leaving with an unsaved (invalid) edit asks "leave this page?": the test says yes.
  page.on("dialog", (d) => void d.accept());
  /** @type {string[]} */
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // A 4xx answer is an expected, coded error the UI shows; a 5xx is a problem.
  page.on("console", (m) => {
    if (m.type() === "error" && !(/Failed to load resource/.test(m.text()) && /status of 4\d\d/.test(m.text())))
      problems.push(`console error: ${m.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });

  const shot = (/** @type {string} */ name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });
  let passed = 0;
  let failed = 0;
  let stopped = false;
  /**
   * Runs one named step; after a failure the remaining steps are skipped (and counted failed).
   * @param {string} name
   * @param {() => Promise<void>} body
   */
  async function step(name, body) {
    if (stopped) {
      log(`SKIP ${name}`);
      failed++;
      return;
    }
    const started = Date.now();
    try {
      await body();
      if (problems.length) throw new Error(problems.splice(0).join("\n"));
      passed++;
      log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      stopped = true;
      log(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
      // What the page showed, in the log: CI keeps the log when the screenshots are out of reach.
      log(`page at the failure: ${await pageState(page).catch((err) => `(unreadable: ${err})`)}`);
      const stem = path.join(artifacts, `failure-${name.replace(/\W+/g, "-")}`);
      await page.screenshot({ path: `${stem}.png` }).catch(() => {});
      await writeFile(`${stem}.html`, await page.content().catch(() => "")).catch(() => {});
    }
  }

  try {
    await step("opens with the token and hides it from the URL", async () => {
      await page.goto(bridge.url);
      await page.locator(tid("agent-list")).waitFor();
      assert(!page.url().includes("token="), `token still in the URL: ${page.url()}`);
      await page.locator(tid("empty-state")).waitFor();
      await shot("01-agent-list-empty");
    });

    await step("creates an agent with the default name", async () => {
      await newAgent(page);
      await expectValue(page, "agent-name", "Untitled agent");
      await page.locator(tid("agent-row"), { hasText: "Untitled agent" }).waitFor();
    });

    await step("edits every field and autosaves", async () => {
      await page.locator(tid("agent-name")).fill(expected.name);
      await page.locator(tid("agent-description")).fill(expected.description);
      await page.locator(tid("agent-icon")).fill(expected.icon);
      await page.locator(tid("agent-instructions")).fill(expected.instructions);
      await page.locator(tid("agent-opening-message")).fill(expected.opening);
      for (const [i, q] of expected.questions.entries()) {
        await page.locator(tid("add-question")).click();
        await page.locator(tid(`agent-question-${i}`)).fill(q);
      }
      await page.locator(tid("agent-model")).fill(expected.model);
      await page.locator(tid("agent-temperature")).fill(expected.temperature);
      await page.locator(tid("agent-top-p")).fill(expected.topP);
      await page.locator(tid("agent-max-tokens")).fill(expected.maxTokens);
      await page.locator(tid("agent-response-format")).selectOption(expected.format);
      await page.locator(tid("add-variable")).click();
      await page.locator(tid("variable-name-0")).fill(expected.variable.name);
      await page.locator(tid("variable-description-0")).fill(expected.variable.description);
      await page.locator(tid("variable-default-0")).fill(expected.variable.default);
      await page.locator(tid("variable-required-0")).check();
      await waitSaved(page);
      await page.locator(tid("agent-row"), { hasText: expected.name }).waitFor();
      await shot("02-agent-editor");
    });

    await step("every field is persisted across a reload", async () => {
      await page.reload();
      await page.locator(tid("agent-list")).waitFor();
      await openAgent(page, expected.name);
      await expectAllFields(page);
      await waitSaved(page);
    });

    await step("the filter narrows the list", async () => {
      await page.locator(tid("filter-input")).fill("travel");
      await page.locator(tid("agent-row"), { hasText: expected.name }).waitFor();
      await page.locator(tid("filter-input")).fill("no such agent zzz");
      await page.locator(tid("no-match")).waitFor();
      assert((await page.locator(tid("agent-row")).count()) === 0, "no rows for a filter that matches nothing");
      await page.locator(tid("filter-input")).fill("");
      await page.locator(tid("agent-row"), { hasText: expected.name }).waitFor();
    });

    const v2 = "You are a meticulous travel planner.\nAsk about the budget first.";
    const v3 = "You are a meticulous travel planner.\nAsk about dates, then the budget.";
    await step("edits the instructions twice more", async () => {
      await page.locator(tid("agent-instructions")).fill(v2);
      await waitSaved(page);
      await page.locator(tid("agent-instructions")).fill(v3);
      await waitSaved(page);
    });

    await step("history lists the revisions and diffs one against the current text", async () => {
      await page.locator(tid("history-toggle")).click();
      await page.locator(tid("history-panel")).waitFor();
      const entries = page.locator(tid("history-entry"));
      await entries.nth(3).waitFor();
      const original = entries.filter({ hasText: "You are a travel planner." });
      assert((await original.count()) === 1, "one revision starts with the original first line");
      await original.click();
      await page.locator(`${tid("diff-view")} ins`).first().waitFor();
      const deleted = await page.locator(`${tid("diff-view")} del`).allInnerTexts();
      assert(
        deleted.some((/** @type {string} */ t) => t.includes("Use {{city}} as the destination.")),
        `the diff deletes the original's last line (deleted: ${JSON.stringify(deleted)})`,
      );
      await shot("03-history-diff");
    });

    await step("restores an older revision into the editor", async () => {
      const seq = await page.locator(`${tid("history-entry")}[aria-current="true"]`).getAttribute("data-seq");
      await page.locator(tid("restore-button")).click();
      await page.locator(tid("history-entry"), { hasText: `restored from #${seq}` }).waitFor();
      await expectValue(page, "agent-instructions", expected.instructions);
      await waitSaved(page);
      await page.reload();
      await openAgent(page, expected.name);
      await expectValue(page, "agent-instructions", expected.instructions);
    });

    await step("an empty name shows the coded error on the name field", async () => {
      await page.locator(tid("agent-name")).fill("");
      const indicator = page.locator(`${tid("save-indicator")}[data-state="error"]`);
      await indicator.waitFor();
      assert((await indicator.innerText()).trim().startsWith("Error:"), "indicator says Error: …");
      assert((await page.locator(tid("agent-name")).getAttribute("aria-invalid")) === "true", "name is marked invalid");
      await page.locator(`${tid("field-error")}[data-field-error="name"][data-code="invalid_input"]`).waitFor();
      await shot("04-name-error");
    });

    await step("after a reload nothing else was lost", async () => {
      await page.reload();
      await page.locator(tid("agent-list")).waitFor();
      await openAgent(page, expected.name);
      await expectAllFields(page);
    });

    await step("no serious accessibility violations in the editor and history (axe-core, WCAG 2 A/AA)", async () => {
      await page.locator(tid("history-toggle")).click();
      await page.locator(tid("history-entry")).first().waitFor();
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations:\n${violations.join("\n")}`);
      await page.locator(tid("history-close")).click();
    });

    const account = {
      name: `e2e_${Date.now().toString(36)}`,
      phone: `+86139${String(Date.now()).slice(-8)}`,
      password: "e2e correct horse battery",
      displayName: "E2E Display Name",
    };
    const indicator = (/** @type {string} */ state) => page.locator(`${tid("platform-indicator")}[data-state="${state}"]`);

    await step("the platform indicator says online", async () => {
      await indicator("online").waitFor({ timeout: 30_000 });
      const label = await page.locator(tid("platform-indicator")).getAttribute("aria-label");
      assert(label?.includes(platform.url), `indicator label names the platform address: ${label}`);
    });

    await step("a 17-year-old gets the guardian fields; a 13-year-old also the sensitive-data notice", async () => {
      await page.locator(tid("account-open")).click();
      await page.locator(tid("signup-tab")).click();
      await page.locator(tid("signup-dob")).fill(yearsAgo(17));
      await page.locator(tid("guardian-name")).waitFor();
      await page.locator(tid("guardian-phone")).waitFor();
      await page.locator(tid("guardian-attest")).waitFor();
      assert((await page.locator(tid("sensitive-notice")).count()) === 0, "no sensitive notice at 17");
      await page.locator(tid("signup-dob")).fill(yearsAgo(13));
      await page.locator(tid("sensitive-notice")).waitFor();
      await page.locator(tid("signup-dob")).fill(yearsAgo(30));
      await page.locator(tid("guardian-fields")).waitFor({ state: "detached" });
    });

    await step("signs up with the SMS code from the dev outbox (axe-core audit of the form)", async () => {
      await page.locator(tid("signup-account-name")).fill(account.name);
      await page.locator(tid("signup-phone")).fill(account.phone);
      await page.locator(tid("policy-text")).waitFor();
      await page.locator(tid("policy-accept")).check();
      await page.locator(tid("signup-send-code")).click();
      await page.locator(tid("signup-send-code"), { hasText: /Resend in \d+ s/ }).waitFor();
      const code = await smsCodeFor(platform.url, account.phone);
      await page.locator(tid("signup-sms-code")).fill(code);
      await page.locator(tid("signup-password")).fill(account.password);
      await page.locator(tid("signup-password-confirm")).fill(account.password);
      await page.locator(tid("signup-dob")).fill(yearsAgo(30));
      await shot("08-signup");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the sign-up form:\n${violations.join("\n")}`);
      await page.locator(tid("signup-submit")).click();
      await page.locator(tid("profile-view")).waitFor();
      const shown = (await page.locator(tid("profile-account-name")).innerText()).trim();
      assert(shown === account.name, `profile shows account ${shown}`);
      assert((await page.locator(tid("profile-phone")).innerText()).trim() === account.phone, "profile shows the phone");
      await page.locator(tid("profile-age-band"), { hasText: "Adult" }).waitFor();
      await shot("09-profile");
    });

    await step("edits the display name", async () => {
      await page.locator(tid("profile-edit")).click();
      await page.locator(tid("profile-display-name")).fill(account.displayName);
      await page.locator(tid("profile-save")).click();
      await page.locator(tid("profile-display-name-value"), { hasText: account.displayName }).waitFor();
      await page.reload();
      await page.locator(tid("account-open")).click();
      await page.locator(tid("profile-display-name-value"), { hasText: account.displayName }).waitFor();
    });

    await step("logs out; a wrong password shows the error; logs in again", async () => {
      await page.locator(tid("logout")).click();
      await page.locator(tid("login-form")).waitFor();
      await page.locator(tid("login-login")).fill(account.name);
      await page.locator(tid("login-password")).fill("not the password");
      await page.locator(tid("login-submit")).click();
      const error = page.locator(`${tid("login-error")}[data-code="invalid_credentials"]`);
      await error.waitFor();
      assert((await error.innerText()).length > 10, "the error says what happened");
      await page.locator(tid("login-password")).fill(account.password);
      await page.locator(tid("login-submit")).click();
      await page.locator(tid("profile-view")).waitFor();
      await page.locator(tid("profile-display-name-value"), { hasText: account.displayName }).waitFor();
    });

    await step("the transmission list shows what was sent", async () => {
      await page.locator(tid("transmissions-open")).click();
      await page.locator(tid("transmission-row")).first().waitFor();
      const rows = await page.locator(tid("transmission-row")).allInnerTexts();
      assert(rows.some((r) => r.includes("/v1/auth/login")), "a log-in request is listed");
      assert(!rows.some((r) => r.includes(account.password)), "the password never shows in a preview");
      await shot("10-transmissions");
      await page.locator(tid("transmissions-purpose")).selectOption("service_information");
      await page.waitForFunction(
        () => [...document.querySelectorAll('[data-testid="transmission-row"]')].every((r) => r.getAttribute("data-purpose") === "service_information"),
      );
      await page.locator(tid("workspace-open")).click();
      await page.locator(tid("agent-list")).waitFor();
      await openAgent(page, expected.name);
    });

    // --- Privacy: consent centre, ledger, pending telemetry, what was sent, data held ---
    const toggle = (/** @type {string} */ purpose) => page.locator(tid(`consent-toggle-${purpose}`));
    const OPTIONAL = [
      "security_device_info",
      "usage_analytics",
      "crash_reports",
      "marketing",
      "research",
      "developer_data_hosting",
      "cross_border_transfer",
      "third_party_sharing",
    ];

    await step("Privacy: the consent centre lists 10 purposes, optional ones off (axe-core audit)", async () => {
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("consent-centre")).waitFor();
      await page.locator(tid("purpose-third_party_sharing")).waitFor();
      const cards = await page.locator('li[data-testid^="purpose-"]').count();
      assert(cards === 10, `10 purpose cards, found ${cards}`);
      for (const p of OPTIONAL) {
        const checked = await toggle(p).getAttribute("aria-checked");
        assert(checked === "false", `${p} starts off (aria-checked=${checked})`);
      }
      assert((await toggle("account_operation").getAttribute("aria-checked")) === "true", "account operation is on after sign-up");
      assert((await toggle("service_information").count()) === 0, "the exempt purpose has no switch");
      await page.locator(tid("purpose-service_information")).locator(tid("purpose-exempt-note")).waitFor();
      await shot("12-consent-centre");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the consent centre:\n${violations.join("\n")}`);
    });

    await step("Privacy: granting usage analytics adds a ledger entry with its receipt", async () => {
      await toggle("usage_analytics").click();
      await page.locator(`${tid("consent-toggle-usage_analytics")}[aria-checked="true"]`).waitFor();
      await page.locator(`${tid("consent-outcome")}[data-granted="true"]`, { hasText: "Granted" }).waitFor();
      await page.locator(tid("privacy-tab-ledger")).click();
      const row = page.locator(`${tid("ledger-row")}[data-purpose="usage_analytics"][data-granted="true"]`);
      await row.waitFor();
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      while ((await row.getAttribute("data-receipt")) !== "acknowledged") {
        assert(Date.now() < deadline, "the receipt was acknowledged by the platform");
        await page.waitForTimeout(300);
        await page.locator(tid("ledger-refresh")).click();
      }
      await row.locator(tid("ledger-receipt"), { hasText: "receipt ✓" }).waitFor();
      await shot("13-ledger");
    });

    const probe = "Privacy probe agent";
    await step("Privacy: creating an agent queues a usage event, shown in the Pending tab", async () => {
      await page.locator(tid("workspace-open")).click();
      await newAgent(page);
      await page.locator(tid("agent-name")).fill(probe);
      await waitSaved(page);
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("privacy-tab-sent")).click();
      await page.locator(tid("tx-tab-pending")).click();
      const group = page.locator(`${tid("pending-group")}[data-purpose="usage_analytics"]`);
      await group.locator(tid("pending-item")).first().waitFor();
      const json = await group.locator(tid("pending-json")).first().innerText();
      assert(JSON.parse(json) !== undefined, `the payload is JSON: ${json}`);
      assert(!json.includes(probe), "the usage event carries no agent content");
      await shot("14-pending");
    });

    await step("Privacy: Send now empties the queue and the log shows the telemetry request as sent", async () => {
      await page.locator(tid("pending-send")).click();
      await page.locator(tid("pending-result"), { hasText: /Sent \d+ items/ }).waitFor();
      await page.locator(`${tid("pending-group")}[data-purpose="usage_analytics"]`).waitFor({ state: "detached" });
      await page.locator(tid("tx-tab-log")).click();
      await page.locator(tid("transmissions-outcome")).selectOption("sent");
      await page.locator(tid("transmissions-since")).selectOption("hour");
      const row = page.locator(`${tid("transmission-row")}[data-path="/v1/telemetry/usage_analytics"]`).first();
      await row.waitFor();
      const outcome = await row.getAttribute("data-outcome");
      assert(outcome === "sent", `POST /v1/telemetry/usage_analytics was ${outcome}`);
      assert((await row.innerText()).includes("POST"), "the row shows the method");
    });

    await step("Privacy: withdrawing usage analytics purges the queue and the platform deletes its data", async () => {
      await page.locator(tid("privacy-tab-consent")).click();
      await toggle("usage_analytics").click();
      await page.locator(`${tid("consent-toggle-usage_analytics")}[aria-checked="false"]`).waitFor();
      const line = page.locator(`${tid("consent-outcome")}[data-granted="false"]`);
      await line.waitFor();
      const text = await line.innerText();
      assert(text.includes("queued items deleted here"), `the outcome names the purge: ${text}`);
      const deleted = await line.getAttribute("data-platform-deleted");
      assert(deleted !== null && Number(deleted) >= 1, `the platform deleted what it held (${deleted}): ${text}`);
      assert(text.includes(`The platform deleted ${deleted} items.`), `the outcome says so: ${text}`);
    });

    await step("Privacy: Verify says the ledger is intact", async () => {
      await page.locator(tid("privacy-tab-ledger")).click();
      await page.locator(`${tid("ledger-row")}[data-purpose="usage_analytics"][data-granted="false"]`).waitFor();
      await page.locator(tid("ledger-verify")).click();
      const result = page.locator(`${tid("ledger-verify-result")}[data-intact="true"]`);
      await result.waitFor();
      assert((await result.innerText()).includes("Intact"), "the result says intact");
    });

    await step("Privacy: Data held lists what the platform holds", async () => {
      await page.locator(tid("privacy-tab-held")).click();
      await page.locator(`${tid("held-row")}[data-category="account"]`).waitFor();
      await shot("15-data-held");
      await page.locator(tid("workspace-open")).click();
      await page.locator(tid("agent-list")).waitFor();
      await openAgent(page, expected.name);
    });

    await step("Privacy: Cookies & identifiers lists the platform's cookies; delete one; refuse all; log-in keeps working by token", async () => {
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("privacy-tab-cookies")).click();
      await page.locator(tid("cookies-view")).waitFor();
      const cookie = (/** @type {string} */ name) => page.locator(`${tid("cookie-row")}[data-name="${name}"]`);
      await cookie("awf_session").waitFor();
      await cookie("awf_anon").waitFor();
      await page.locator(tid("installation-id")).waitFor();
      await shot("17-cookies");
      await cookie("awf_anon").locator(tid("cookie-delete")).click();
      await cookie("awf_anon").waitFor({ state: "detached" });
      await cookie("awf_session").waitFor();
      const refuse = page.locator(tid("cookies-refuse"));
      assert((await refuse.getAttribute("role")) === "switch", "refuse cookies is a switch");
      await refuse.click();
      await page.locator(`${tid("cookies-refuse")}[aria-checked="true"]`).waitFor();
      await page.locator(tid("cookies-empty")).waitFor();
      assert((await page.locator(tid("cookie-row")).count()) === 0, "no cookie is held once refused");
      await page.locator(tid("account-open")).click();
      await page.locator(tid("profile-view")).waitFor();
      await page.locator(tid("profile-account-name"), { hasText: account.name }).waitFor();
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("privacy-tab-cookies")).click();
      await page.locator(`${tid("cookies-refuse")}[aria-checked="true"]`).waitFor();
      assert((await page.locator(tid("cookie-row")).count()) === 0, "still no cookie after the account call");
      await page.locator(tid("cookies-refuse")).click();
      await page.locator(`${tid("cookies-refuse")}[aria-checked="false"]`).waitFor();
    });

    await step("Privacy: Data inventory shows what is kept on this computer, then what the platform holds", async () => {
      await page.locator(tid("privacy-tab-held")).click();
      await page.locator(`${tid("local-row")}[data-category="agents"]`).waitFor();
      await page.locator(`${tid("local-row")}[data-category="consent_ledger"]`).waitFor();
      const agents = await page.locator(`${tid("local-row")}[data-category="agents"]`).innerText();
      assert(/Agents/.test(agents) && /\d/.test(agents), `the agents row names the category and a count: ${agents}`);
      await page.locator(`${tid("held-row")}[data-category="account"]`).waitFor();
      await page.locator(tid("retention-transmission-days")).fill("0");
      await page.locator(tid("retention-save")).click();
      await page.locator(`${tid("field-error")}[data-field-error="transmission_log_days"]`).waitFor();
      await page.locator(tid("retention-transmission-days")).fill("90");
      await page.locator(tid("retention-save")).click();
      await page.locator(tid("retention-result"), { hasText: "Saved." }).waitFor();
      await shot("18-inventory");
    });

    await step("Policy change: a v2 published on the platform shows a banner; the update is reviewed and accepted (axe-core audit)", async () => {
      // Grant usage analytics under v1 first, so v2's widened wording needs consenting again.
      await page.locator(tid("privacy-tab-consent")).click();
      await toggle("usage_analytics").click();
      await page.locator(`${tid("consent-toggle-usage_analytics")}[aria-checked="true"]`).waitFor();
      const v2 = await policyV2();
      const res = await fetch(`${platform.url}/v1/dev/policy`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(v2),
      });
      assert(res.ok, `POST /v1/dev/policy answered ${res.status}: ${await res.text()}`);
      assert((await page.locator(tid("policy-banner")).count()) === 0, "no banner before the app checks");
      await page.locator(tid("platform-indicator")).click();
      const banner = page.locator(tid("policy-banner"));
      await banner.waitFor();
      assert((await banner.getAttribute("data-material")) === "true", "a material change is shown as such");
      await page.locator(tid("policy-banner-open")).click();
      await page.locator(tid("policy-update")).waitFor();
      await page.locator(tid("policy-versions"), { hasText: "Version 1 → version 2" }).waitFor();
      await page.locator(tid("policy-diff-line")).first().waitFor();
      const purposes = page.locator(tid("policy-diff-line")).filter({ has: page.locator(tid("policy-diff-badge"), { hasText: "purposes" }) });
      assert((await purposes.count()) >= 1, "a diff line is marked as about purposes");
      const box = page.locator(tid("reconsent-usage_analytics"));
      await box.waitFor();
      assert(!(await box.isChecked()), "re-consent starts unticked");
      await box.check();
      await shot("19-policy-update");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the policy update:\n${violations.join("\n")}`);
      await page.locator(tid("policy-accept"), { hasText: "Accept version 2" }).click();
      await page.locator(tid("policy-accepted"), { hasText: "You accepted version 2" }).waitFor();
      await banner.waitFor({ state: "detached" });
      await page.locator(tid("platform-indicator")).click();
      await page.waitForTimeout(500);
      assert((await banner.count()) === 0, "the banner stays away after a check");
      await page.locator(tid("privacy-open")).click();
      await page.locator(`${tid("consent-toggle-usage_analytics")}[aria-checked="true"]`).waitFor();
      await page.locator(tid("workspace-open")).click();
      await page.locator(tid("agent-list")).waitFor();
      await openAgent(page, expected.name);
    });

    // --- Plugins, data, PII, search and bundles (issue 5) ---
    const PETSTORE_TOOLS = ["listPets", "createPets", "showPetById"];
    /** The bridge answers `invalid_file` with HTTP 500 (not in its status table yet): tolerated where provoked. */
    const dropServerErrors = () => {
      const kept = problems.filter((p) => !/status of 500/.test(p));
      problems.splice(0, problems.length, ...kept);
    };

    await step("Plugins: a pasted spec with a dangling $ref shows the error with its place; nothing is imported", async () => {
      await page.locator(tid("plugins-open")).click();
      await page.locator(tid("plugins-view")).waitFor();
      await page.locator(tid("plugin-import-open")).click();
      await page
        .locator(tid("plugin-paste"))
        .fill(
          [
            "openapi: 3.0.3",
            "info:",
            "  title: Broken",
            "  version: '1'",
            "paths:",
            "  /orders/{id}:",
            "    get:",
            "      parameters:",
            "        - $ref: '#/components/parameters/OrderId'",
            "      responses: {}",
          ].join("\n"),
        );
      await page.locator(tid("plugin-paste-preview")).click();
      const error = page.locator(tid("plugin-import-error"));
      await error.waitFor();
      const text = await error.innerText();
      assert(text.includes("/paths/~1orders~1{id}/get/parameters/0"), `the error names the JSON pointer: ${text}`);
      assert(/line \d+/.test(text), `the error names the line: ${text}`);
      assert((await error.locator('[data-code="invalid_file"]').count()) === 1, "the error is coded invalid_file");
      assert((await page.locator(tid("plugin-preview")).count()) === 0, "no preview for a broken document");
      assert((await page.locator(tid("plugin-row")).count()) === 0, "nothing was imported");
      await shot("20-plugin-error");
      dropServerErrors();
    });

    await step("Plugins: the Petstore spec imported from a file lists its tools (axe-core audit)", async () => {
      await page.locator(tid("plugin-drop-input")).setInputFiles(path.join(fixtures, "petstore.yaml"));
      const preview = page.locator(tid("plugin-preview"));
      await preview.waitFor();
      const previewed = await preview.locator(tid("tool-row")).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-tool")));
      assert(JSON.stringify(previewed) === JSON.stringify(PETSTORE_TOOLS), `the preview lists the tools: ${previewed}`);
      assert((await preview.innerText()).includes("OpenAPI 3.0"), "the preview names the specification");
      await shot("21-plugin-preview");
      await page.locator(tid("plugin-import-confirm")).click();
      const detail = page.locator(tid("plugin-detail"));
      await detail.locator(tid("plugin-title"), { hasText: "Swagger Petstore" }).waitFor();
      const tools = await detail.locator(tid("tool-row")).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-tool")));
      assert(JSON.stringify(tools) === JSON.stringify(PETSTORE_TOOLS), `the plugin has the tools: ${tools}`);
      const list = detail.locator(`${tid("tool-row")}[data-tool="listPets"]`);
      const row = await list.innerText();
      assert(row.includes("GET") && row.includes("/pets") && row.includes("limit"), `listPets shows method, path, parameter: ${row}`);
      await page.locator(tid("plugin-row"), { hasText: "Swagger Petstore" }).waitFor();
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the plugin view:\n${violations.join("\n")}`);
    });

    const SECRET_MARKER = "e2e-secret-MARKER-7f3a9c";
    await step("Plugins: bearer auth with a secret that is never shown back; third party needs an https policy link", async () => {
      await page.locator(tid("plugin-auth")).selectOption("bearer");
      await page.locator(tid("plugin-save")).click();
      await page.locator(tid("plugin-outcome"), { hasText: "Saved." }).waitFor();
      await page.locator(tid("plugin-secret-input")).fill(SECRET_MARKER);
      await page.locator(tid("plugin-secret-set")).click();
      await page.locator(`${tid("plugin-secret-state")}[data-set="true"]`).waitFor();
      assert((await page.locator(tid("plugin-secret-input")).inputValue()) === "", "the secret field is emptied");
      assert(!(await page.content()).includes(SECRET_MARKER), "the secret is nowhere in the page");
      await page.locator(tid("plugin-third-party")).click();
      await page.locator(tid("plugin-provider")).fill("Swagger Pet Services");
      await page.locator(tid("plugin-save")).click();
      await page.locator(`${tid("field-error")}[data-field-error="third_party.privacy_policy_url"]`).waitFor();
      await page.locator(tid("plugin-policy-url")).fill("https://petstore.example/privacy");
      await page.locator(tid("plugin-save")).click();
      await page.locator(tid("plugin-outcome"), { hasText: "Saved." }).waitFor();
      await page.locator(tid("plugin-row"), { hasText: "Third party" }).waitFor();
      await page.reload();
      await page.locator(tid("plugins-open")).click();
      await page.locator(tid("plugin-row"), { hasText: "Swagger Petstore" }).click();
      await page.locator(`${tid("plugin-secret-state")}[data-set="true"]`).waitFor();
      assert((await page.locator(tid("plugin-policy-url")).inputValue()) === "https://petstore.example/privacy", "the policy link was kept");
      assert(!(await page.content()).includes(SECRET_MARKER), "the secret is not shown after a reload either");
      await shot("22-plugin-detail");
    });

    await step("Data: a CSV with PII is previewed (types, masked findings), imported, and its findings shown (axe-core audit)", async () => {
      await page.locator(tid("data-open")).click();
      await page.locator(tid("data-tab-tables")).click();
      await page.locator(tid("table-import-open")).click();
      await page.locator(tid("csv-drop-input")).setInputFiles(path.join(fixtures, "contacts.csv"));
      const preview = page.locator(tid("csv-preview"));
      await preview.waitFor();
      assert((await page.locator(tid("csv-row-count")).innerText()).trim() === "3", "three rows previewed");
      const panel = page.locator(tid("pii-panel"));
      await panel.waitFor();
      const masked = await panel.locator(tid("pii-masked")).allInnerTexts();
      for (const m of ["138****5678", "110105********002X", "z***@example.com"]) assert(masked.includes(m), `the preview masks ${m}: ${masked}`);
      const panelText = await panel.innerText();
      assert(!panelText.includes("13812345678") && !panelText.includes("11010519491231002X"), "the findings show masked values only");
      const kinds = await panel.locator(tid("pii-kind")).evaluateAll((k) => k.map((x) => `${x.getAttribute("data-kind")}=${x.getAttribute("data-count")}`));
      assert(kinds.includes("mobile_cn=3") && kinds.includes("resident_id=1") && kinds.includes("email=3"), `counts by kind: ${kinds}`);
      // Phone numbers are codes, not quantities: keep them as text.
      await page.locator(tid("csv-col-type-1")).selectOption("text");
      await shot("23-csv-preview");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the CSV preview:\n${violations.join("\n")}`);
      await page.locator(tid("csv-import-confirm")).click();
      const detail = page.locator(tid("table-detail"));
      await detail.locator(tid("table-title"), { hasText: "contacts" }).waitFor();
      await detail.locator(tid("table-row")).nth(2).waitFor();
      const stored = detail.locator(tid("pii-panel"));
      assert((await stored.getAttribute("data-total")) === "7", `seven findings stored (${await stored.getAttribute("data-total")})`);
      assert((await stored.locator(tid("pii-attest")).innerText()).includes("§1.5, 4.4"), "the attestation note cites §1.5 4.4");
      await stored.scrollIntoViewIfNeeded();
      await shot("24-table-pii");
    });

    await step("Data: a GBK-encoded CSV is read as GB18030; ragged lines and cell errors are shown by line, row and column", async () => {
      await page.locator(tid("table-import-open")).click();
      await page.locator(tid("csv-drop-input")).setInputFiles(path.join(fixtures, "contacts-gbk.csv"));
      await page.locator(`${tid("csv-encoding")}[data-encoding="gb18030"]`).waitFor();
      await page.locator(tid("csv-preview"), { hasText: "张三" }).waitFor();
      await shot("25-csv-gbk");
      await page.locator(tid("csv-drop-input")).setInputFiles({
        name: "ragged.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("name,qty\ntea,1\ncake\nbread,2,3\n"),
      });
      const ragged = page.locator(tid("ragged-row"));
      await ragged.nth(1).waitFor();
      const lines = await ragged.evaluateAll((r) => r.map((x) => x.getAttribute("data-line")));
      assert(JSON.stringify(lines) === JSON.stringify(["3", "4"]), `ragged rows by line: ${lines}`);
      assert(await page.locator(tid("csv-import-confirm")).isDisabled(), "a ragged file cannot be imported");
      await page.locator(tid("csv-drop-input")).setInputFiles({
        name: "qty.csv",
        mimeType: "text/csv",
        buffer: Buffer.from("name,qty\ntea,1\ncake,two\n"),
      });
      await page.locator(tid("csv-col-type-1")).selectOption("integer");
      const cellError = page.locator(`${tid("cell-error")}[data-row="2"][data-column="qty"]`);
      await cellError.waitFor();
      await page.locator(tid("csv-import-confirm")).click();
      const refused = page.locator(tid("csv-import-error"));
      await refused.waitFor();
      assert((await refused.innerText()).includes("Row 2, column “qty”"), `the refusal names the cell: ${await refused.innerText()}`);
      dropServerErrors();
    });

    await step("Data: a dataset is imported with progress; its chunks and masked findings are shown", async () => {
      await page.locator(tid("data-tab-datasets")).click();
      await page.locator(tid("dataset-import-open")).click();
      await page.locator(tid("import-max-chars")).fill("200");
      await page.locator(tid("import-overlap")).fill("20");
      await page.locator(tid("dataset-drop-input")).setInputFiles(path.join(fixtures, "support-notes.md"));
      const detail = page.locator(tid("dataset-detail"));
      await detail.locator(tid("dataset-title"), { hasText: "support-notes" }).waitFor();
      await detail.locator(tid("chunk")).first().waitFor();
      const count = Number(await detail.locator(tid("dataset-chunk-count")).innerText());
      assert(count >= 2, `the 200-character chunking gives several chunks (${count})`);
      const masked = await detail.locator(tid("pii-masked")).allInnerTexts();
      assert(masked.includes("137****1111") && masked.includes("110105********002X"), `masked findings: ${masked}`);
      await shot("26-dataset");
    });

    const shopAgent = "Pet shop assistant";
    await step("Agent: plugins and data are picked by name; the instructions' PII is flagged, masked (axe-core audit)", async () => {
      await page.locator(tid("workspace-open")).click();
      await newAgent(page);
      await page.locator(tid("agent-name")).fill(shopAgent);
      await page.locator(tid("agent-instructions")).fill("Help customers choose pets.\nEscalate refunds to 13812345678.");
      await page.locator(tid("agent-plugin-ids-add")).selectOption({ label: "Swagger Petstore — 3 tools" });
      const data = page.locator(tid("agent-dataset-ids-add"));
      const contacts = await data.locator("option", { hasText: "contacts" }).getAttribute("value");
      const notes = await data.locator("option", { hasText: "support-notes" }).getAttribute("value");
      await data.selectOption(contacts ?? "");
      await data.selectOption(notes ?? "");
      const pii = page.locator(tid("instructions-pii"));
      await pii.waitFor();
      await pii.locator("summary").click();
      assert((await pii.locator(tid("pii-masked")).allInnerTexts()).includes("138****5678"), "the instructions' phone number is masked");
      await waitSaved(page);
      await page.reload();
      await openAgent(page, shopAgent);
      const linked = await page.locator(`${tid("agent-plugin-ids")} ${tid("linked-item")}`).allInnerTexts();
      assert(linked.some((t) => t.includes("Swagger Petstore")), `the plugin is linked by name: ${linked}`);
      const linkedData = await page.locator(`${tid("agent-dataset-ids")} ${tid("linked-item")}`).allInnerTexts();
      assert(linkedData.length === 2 && linkedData.some((t) => t.includes("contacts")), `the table and dataset are linked: ${linkedData}`);
      await page.locator(tid("agent-dataset-ids")).scrollIntoViewIfNeeded();
      await shot("27-agent-links");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the editor with links:\n${violations.join("\n")}`);
    });

    await step("Search: results across agents, plugins, tools and tables as you type; Enter opens; history is viewed and cleared", async () => {
      const box = page.locator(tid("search-input"));
      await box.fill("pet");
      await page.locator(`${tid("search-hit")}[data-kind="tool"]`).first().waitFor();
      const kinds = await page.locator(tid("search-hit")).evaluateAll((h) => [...new Set(h.map((x) => x.getAttribute("data-kind")))]);
      assert(["agent", "plugin", "tool"].every((k) => kinds.includes(k)), `hits of every kind: ${kinds}`);
      await shot("28-search");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the search popup:\n${violations.join("\n")}`);
      await box.fill("showPetById");
      await page.waitForFunction(() => {
        const hits = document.querySelectorAll('[data-testid="search-hit"]');
        return hits.length === 1 && hits[0]?.textContent?.includes("showPetById");
      });
      await box.press("ArrowDown");
      await box.press("Enter");
      await page.locator(tid("plugin-title"), { hasText: "Swagger Petstore" }).waitFor();
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("privacy-tab-held")).click();
      const history = page.locator(tid("search-history"));
      await history.locator(tid("search-history-entry"), { hasText: "showPetById" }).waitFor();
      await history.scrollIntoViewIfNeeded();
      await shot("29-search-history");
      await history.locator(tid("search-history-clear")).click();
      await history.locator(tid("search-history-none")).waitFor();
      await page.locator(`${tid("local-row")}[data-category="search_history"]`).waitFor();
    });

    await step("Bundle: export downloads it; a truncated copy lists its problems; import checks (replaces, no duplicate) and imports (axe-core audit)", async () => {
      await page.locator(tid("workspace-open")).click();
      await openAgent(page, shopAgent);
      const agentsBefore = await page.locator(tid("agent-row")).count();
      const downloading = page.waitForEvent("download");
      await page.locator(tid("bundle-export")).click();
      const download = await downloading;
      const bundleDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-web-bundle-"));
      const file = path.join(bundleDir, download.suggestedFilename());
      await download.saveAs(file);
      assert(file.endsWith(".awfbundle"), `the download is a bundle: ${file}`);
      await page.locator(tid("bundle-export-outcome"), { hasText: "Bundle downloaded as" }).waitFor();
      const bytes = await readFile(file);
      assert(!bytes.includes(Buffer.from(SECRET_MARKER)), "the bundle holds no plugin secret");

      await page.locator(tid("bundle-import-open")).click();
      await page.locator(tid("bundle-drop-input")).setInputFiles({
        name: "truncated.awfbundle",
        mimeType: "application/zip",
        buffer: bytes.subarray(0, Math.floor(bytes.length / 2)),
      });
      await page.locator(`${tid("bundle-check")}[data-ok="false"]`).waitFor();
      const places = await page.locator(tid("bundle-problem-place")).allInnerTexts();
      assert(places.length >= 1, "a truncated bundle has at least one problem with its place");
      assert(await page.locator(tid("bundle-import-confirm")).isDisabled(), "an invalid bundle cannot be imported");
      await shot("30-bundle-invalid");

      await page.locator(tid("bundle-drop-input")).setInputFiles(file);
      const check = page.locator(`${tid("bundle-check")}[data-ok="true"]`);
      await check.waitFor();
      assert((await page.locator(tid("bundle-agent-name")).innerText()) === shopAgent, "the check names the agent");
      assert((await page.locator(tid("bundle-replaces")).getAttribute("data-replaces")) === "true", "the check says it replaces the agent here");
      await shot("31-bundle-check");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the bundle dialog:\n${violations.join("\n")}`);
      await page.locator(tid("bundle-import-confirm")).click();
      const report = page.locator(tid("bundle-report"));
      await report.waitFor();
      assert((await report.getAttribute("data-created")) === "false", "the import replaced the agent rather than adding one");
      await page.locator(tid("bundle-open-agent")).click();
      await page.locator(tid("bundle-import-dialog")).waitFor({ state: "detached" });
      await page.waitForTimeout(300);
      assert((await page.locator(tid("agent-row")).count()) === agentsBefore, "importing the bundle did not duplicate the agent");
      assert((await page.locator(tid("agent-row"), { hasText: shopAgent }).count()) === 1, "one agent of that name");
      await page.locator(tid("plugins-open")).click();
      // The section fetches its list when shown: count once it is there.
      await page.locator(tid("plugin-row")).first().waitFor();
      assert((await page.locator(tid("plugin-row")).count()) === 1, "the plugin was not duplicated");
      await page.locator(tid("workspace-open")).click();
      await openAgent(page, expected.name);
      await rm(bundleDir, { recursive: true, force: true });
    });

    await step("switches the language to Chinese", async () => {
      await page.locator(tid("language-select")).selectOption("zh-CN");
      await page.locator(tid("new-agent"), { hasText: "新建智能体" }).waitFor();
      await page.locator('label[for="f-name"]', { hasText: "名称" }).waitFor();
      await page.locator(tid("save-indicator"), { hasText: "已保存" }).waitFor();
      assert((await page.evaluate(() => document.documentElement.lang)) === "zh-CN", "<html lang> follows");
      await shot("05-editor-zh-CN");
      await page.reload();
      await page.locator(tid("new-agent"), { hasText: "新建智能体" }).waitFor();
    });

    await step("dark theme", async () => {
      await page.locator(tid("theme-select")).selectOption("dark");
      await openAgent(page, expected.name);
      assert((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "data-theme=dark");
      await shot("06-editor-dark");
      await page.locator(tid("history-toggle")).click();
      await page.locator(tid("history-entry")).first().click();
      await shot("07-history-dark");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in dark theme:\n${violations.join("\n")}`);
    });
    await step("the header fits at 1280, 1024 and 800 px wide, in Chinese and dark: no section clipped, nothing overlapping", async () => {
      for (const width of [1280, 1024, 800]) {
        await page.setViewportSize({ width, height: 860 });
        const problems = await headerProblems(page);
        if (width === 1024) await shot("05b-header-1024-zh-CN");
        assert(problems.length === 0, `header at ${width} px:\n${problems.join("\n")}`);
      }
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    await step("Privacy in Chinese, dark theme: the consent centre's texts follow the language (axe-core audit)", async () => {
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("purpose-usage_analytics")).waitFor();
      await page.locator(tid("privacy-tab-consent"), { hasText: "同意管理" }).waitFor();
      await page.locator(tid("purpose-usage_analytics")).locator(tid("purpose-badge"), { hasText: "可选" }).waitFor();
      const name = await toggle("usage_analytics").evaluate((el) => {
        const id = el.getAttribute("aria-labelledby");
        return id ? document.getElementById(id)?.textContent ?? "" : "";
      });
      assert(/[\u4e00-\u9fff]/.test(name), `the switch is labelled in Chinese: ${name}`);
      await shot("16-consent-centre-dark-zh-CN");
      const violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the dark consent centre:\n${violations.join("\n")}`);
    });

    await step("Plugins and data in Chinese, dark theme (axe-core audit)", async () => {
      await page.locator(tid("plugins-open")).click();
      await page.locator(tid("plugin-row")).first().click();
      await page.locator(tid("plugin-form")).waitFor();
      await page.locator(tid("plugin-secret-state"), { hasText: "已设置密钥" }).waitFor();
      await shot("32-plugin-dark-zh-CN");
      let violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the dark plugin view:\n${violations.join("\n")}`);
      await page.locator(tid("data-open")).click();
      await page.locator(tid("data-tab-tables")).click();
      await page.locator(tid("table-row-item"), { hasText: "contacts" }).click();
      const panel = page.locator(`${tid("table-detail")} ${tid("pii-panel")}`);
      await panel.locator("h3", { hasText: "发现的个人信息" }).waitFor();
      await panel.scrollIntoViewIfNeeded();
      await shot("33-table-pii-dark-zh-CN");
      violations = await axeViolations(page);
      assert(violations.length === 0, `accessibility violations in the dark table view:\n${violations.join("\n")}`);
      await page.locator(tid("workspace-open")).click();
    });

    await step("platform down: the indicator goes offline and authoring keeps working", async () => {
      await platform.stop();
      // Opening a section checks at once; the 30 s poll would notice too.
      await page.locator(tid("workspace-open")).click();
      await indicator("offline").waitFor({ timeout: 35_000 });
      await newAgent(page);
      await page.locator(tid("agent-name")).fill("Offline agent");
      await page.locator(tid("agent-instructions")).fill("Written while the platform was down.");
      await waitSaved(page);
      await page.locator(tid("agent-row"), { hasText: "Offline agent" }).waitFor();
      await shot("11-offline");
    });

    await step("platform back on the same port: the indicator returns to online by itself", async () => {
      platform = await startPlatform(platformBin, platformPort, platformDir);
      await indicator("online").waitFor({ timeout: 20_000 });
    });
  } finally {
    await browser.close().catch(() => {});
    await bridge.stop();
    await platform.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(platformDir, { recursive: true, force: true });
  }
  log(`screenshots in ${artifacts}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(`[e2e-web] ${e instanceof Error ? e.stack : e}`);
  console.log("0 passed, 1 failed");
  process.exitCode = 1;
});
