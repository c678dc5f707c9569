// Rights end to end (D7–D9) through the real bridge and the real reference platform: sign up,
// send a rights request and see it listed, erase the platform's data and see the ledger entry,
// then cancel the account and see the completed receipt. Light and dark screenshots.
//
//   node tests/e2e-web/rights.mjs      (after `npm run build` in ui/; same variables as run.mjs)
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

async function main() {
  if (!existsSync(path.join(dist, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` in ui/ first");
  if (!existsSync(chromiumPath)) throw new Error(`no browser at ${chromiumPath} (set AWF_CHROMIUM)`);
  await mkdir(artifacts, { recursive: true });
  const bin = awfBinary();
  const platformBin = platformBinary();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-rights-"));
  const platformDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-rights-platform-"));
  const platformPort = await freePort();
  const exportFile = path.join(dataDir + "-export", "export.zip");
  await mkdir(path.dirname(exportFile), { recursive: true });
  const platform = await startPlatform(platformBin, platformPort, platformDir);
  log(`platform ${platform.url}`);
  const bridge = await startBridge(bin, dataDir, platform.url);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: process.env.AWF_E2E_HEADED !== "1",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ locale: "en-US", colorScheme: "light", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  /** @type {string[]} */
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !(/Failed to load resource/.test(m.text()) && /status of 4\d\d/.test(m.text())))
      problems.push(`console error: ${m.text()}`);
  });
  const shot = (/** @type {string} */ name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  /** Light, then dark (the theme select in the header), then light again. @param {string} name */
  async function shots(name) {
    await shot(`${name}-light`);
    await page.locator(tid("theme-select")).selectOption("dark");
    await shot(`${name}-dark`);
    const violations = await axeViolations(page);
    await page.locator(tid("theme-select")).selectOption("light");
    assert(violations.length === 0, `accessibility violations (${name}, dark):\n${violations.join("\n")}`);
  }
  let passed = 0;
  let failed = 0;
  let stopped = false;
  /** @param {string} name @param {() => Promise<void>} body */
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
      const stem = path.join(artifacts, `failure-rights-${name.replace(/\W+/g, "-")}`);
      await page.screenshot({ path: `${stem}.png` }).catch(() => {});
      await writeFile(`${stem}.html`, await page.content().catch(() => "")).catch(() => {});
    }
  }

  const account = {
    name: `rights_${Date.now().toString(36)}`,
    phone: `+86137${String(Date.now()).slice(-8)}`,
    password: "e2e rights horse battery",
  };

  try {
    await step("opens and signs up against the platform", async () => {
      await page.goto(bridge.url);
      await page.locator(tid("agent-list")).waitFor();
      await page.locator(`${tid("platform-indicator")}[data-state="online"]`).waitFor({ timeout: 30_000 });
      await page.locator(tid("account-open")).click();
      await page.locator(tid("signup-tab")).click();
      await page.locator(tid("signup-account-name")).fill(account.name);
      await page.locator(tid("signup-phone")).fill(account.phone);
      await page.locator(tid("policy-text")).waitFor();
      await page.locator(tid("policy-accept")).check();
      await page.locator(tid("signup-send-code")).click();
      const code = await smsCodeFor(platform.url, account.phone);
      await page.locator(tid("signup-sms-code")).fill(code);
      await page.locator(tid("signup-password")).fill(account.password);
      await page.locator(tid("signup-password-confirm")).fill(account.password);
      await page.locator(tid("signup-dob")).fill(yearsAgo(30));
      await page.locator(tid("signup-submit")).click();
      await page.locator(tid("profile-view")).waitFor();
    });

    await step("Your rights: a rights request is sent and listed", async () => {
      await page.locator(tid("privacy-open")).click();
      await page.locator(tid("privacy-tab-rights")).click();
      await page.locator(tid("rights-view")).waitFor();
      await page.locator(tid("requests-empty")).waitFor();
      await page.locator(tid("request-category")).selectOption("access");
      await page.locator(tid("request-text")).fill("Please send me a copy of what you hold about me.");
      await page.locator(tid("request-files")).setInputFiles({ name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("e2e attachment") });
      await page.locator(tid("request-send")).click();
      await page.locator(tid("request-sent")).waitFor();
      const item = page.locator(`${tid("requests-list")} li`).first();
      await item.waitFor();
      const text = await item.innerText();
      assert(text.includes("Please send me a copy") && text.includes("note.txt"), `the request is listed: ${text}`);
      assert((await item.getAttribute("data-status")) === "open", "its status is open");
      await shots("rights-01-request");
    });

    await step("Your rights: export all my data, with progress, then verified", async () => {
      await page.locator(tid("export-path")).fill(exportFile);
      await page.locator(tid("export-start")).click();
      const verify = page.locator(tid("export-verify"));
      await verify.waitFor({ timeout: 60_000 });
      assert((await verify.getAttribute("data-ok")) === "true", `the export verifies: ${await verify.innerText()}`);
      assert(existsSync(exportFile), "the ZIP file exists");
    });

    await step("Your rights: erasing the platform's data leaves a receipt in the ledger", async () => {
      await page.locator(tid("erase-open")).click();
      await page.locator(tid("erase-dialog")).waitFor();
      await page.locator(tid("erase-confirm")).click();
      const receipt = (await page.locator(tid("erase-receipt-id")).innerText()).trim();
      assert(/^del_[0-9a-f]{32}$/.test(receipt), `a receipt id: ${receipt}`);
      const entry = page.locator(tid("deletion-1"));
      await entry.waitFor();
      assert((await entry.innerText()).includes(receipt), "the ledger entry carries the receipt");
      await page.locator(tid("deletions-intact")).waitFor();
      await page.locator(tid("requests-empty")).waitFor();
      await shots("rights-02-erased");
      await page.locator(tid("language-select")).selectOption("zh-CN");
      await page.locator(tid("privacy-tab-rights"), { hasText: "您的权利" }).waitFor();
      await page.locator(tid("theme-select")).selectOption("dark");
      await shot("rights-02-erased-dark-zh-CN");
      await page.locator(tid("theme-select")).selectOption("light");
      await page.locator(tid("language-select")).selectOption("en");
    });

    await step("Cancel account: validation, then the completed receipt", async () => {
      await page.locator(tid("cancel-open")).click();
      await page.locator(tid("cancel-account-view")).waitFor();
      await page.locator(tid("cancel-irreversible")).waitFor();
      await page.locator(tid("cancel-name")).fill(account.name.toUpperCase());
      await page.locator(tid("cancel-submit")).click();
      await page.locator(tid("cancel-error-account_name")).waitFor();
      await page.locator(tid("cancel-error-confirm_irreversible")).waitFor();
      await shots("rights-03-cancel-form");
      await page.locator(tid("cancel-password")).fill(account.password);
      await page.locator(tid("cancel-name")).fill(account.name);
      await page.locator(tid("cancel-confirm")).check();
      await page.locator(tid("cancel-submit")).click();
      const done = page.locator(tid("cancellation-completed"));
      await done.waitFor({ timeout: 30_000 });
      const receipt = (await page.locator(tid("cancellation-receipt-id")).innerText()).trim();
      assert(/^del_[0-9a-f]{32}$/.test(receipt), `a receipt id: ${receipt}`);
      assert((await page.locator(tid("cancellation-verified")).getAttribute("data-verified")) === "true", "the receipt's signature verified");
      await shots("rights-04-cancelled");
      const download = page.waitForEvent("download");
      await page.locator(tid("cancellation-save")).click();
      const file = await download;
      const saved = JSON.parse(await readFile(/** @type {string} */ (await file.path()), "utf8"));
      assert(saved.receipt_id === receipt, "the saved receipt is the one shown");
      const login = await fetch(`${platform.url}/v1/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ login: account.name, password: account.password }),
      });
      assert(login.status >= 400, `the platform refuses the cancelled account's log-in (HTTP ${login.status})`);
    });
  } finally {
    await browser.close().catch(() => {});
    await bridge.stop();
    await platform.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(platformDir, { recursive: true, force: true });
    await rm(path.dirname(exportFile), { recursive: true, force: true });
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
