// Desktop end-to-end test: drives the real debug binary of AiWellFlow Studio (WebKitGTK on
// Linux) through tauri-driver, and checks that an agent created in one run of the app is still
// there in the next run on the same data directory. It also starts the reference platform
// (`awf-platform --dev`) and, in the second run, signs up and logs in through the desktop UI, then
// imports a plugin (pasted), a CSV table with PII (dropped) and re-imports the agent's bundle.
// Then, on the privacy dashboard's "Your rights" tab, it exports all the data through the real
// GTK save dialog (found and typed into with xdotool; cancelled once with Escape first), checks the
// ZIP with `awf export --verify` and reads its manifest, and finally cancels the account through
// the cancellation screen: afterwards the platform refuses the account's token and log-in, the
// profile's directory is gone and the keyring holds no entry of the profile.
//
// Run it through `cargo xtask test`, which provides what it needs: an X display (Xvfb), a D-Bus
// session with an unlocked gnome-keyring (the store key lives there, so both runs of the app must
// see the same keyring), and these variables:
//   AWF_DESKTOP_BIN     absolute path of the app binary (required)
//   AWF_TAURI_DRIVER    tauri-driver to start (default: `tauri-driver` on PATH)
//   AWF_ARTIFACTS_DIR   where screenshots and logs go (default: test-artifacts/e2e-desktop)
//   AWF_TAURI_DRIVER_PORT  the driver's port (default 4444; the native driver gets the next one)
//   AWF_PLATFORM_BIN    the reference platform (default: <repo>/target/debug/awf-platform)
//   AWF_BIN             the `awf` CLI, to verify the export (default: <repo>/target/debug/awf)
//
// It also needs `xdotool` and ImageMagick's `import` (the save dialog is a native GTK window,
// outside the webview: it is driven and photographed through the X display).
//
// The app learns the platform address from AWF_PLATFORM_URL. tauri-driver's capabilities have no
// way to set the app's environment, so it is set on tauri-driver, whose children inherit it.

import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

import { Session, poll, sleep, waitForServer } from "./webdriver.mjs";
import { syncFlow } from "./sync.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

const app = process.env.AWF_DESKTOP_BIN;
const driverBin = process.env.AWF_TAURI_DRIVER || "tauri-driver";
const artifacts = path.resolve(process.env.AWF_ARTIFACTS_DIR || path.join(root, "test-artifacts/e2e-desktop"));
const port = Number(process.env.AWF_TAURI_DRIVER_PORT || 4444);
const base = `http://127.0.0.1:${port}`;
const platformBin = path.resolve(process.env.AWF_PLATFORM_BIN || path.join(root, "target/debug/awf-platform"));
const awfBin = path.resolve(process.env.AWF_BIN || path.join(root, "target/debug/awf"));

/** The UI's test ids (defined in ui/src). */
const sel = {
  agentList: "[data-testid=agent-list]",
  newAgent: "[data-testid=new-agent]",
  agentName: "[data-testid=agent-name]",
  saveIndicator: "[data-testid=save-indicator]",
  agentRow: "[data-testid=agent-row]",
  indicatorOnline: '[data-testid=platform-indicator][data-state="online"]',
};
const tid = (id) => `[data-testid="${id}"]`;

/** Launching WebKitGTK under Xvfb on 2 cores, cold, takes a few seconds. */
const APP_START_MS = 60_000;

function log(msg) {
  console.log(`[e2e-desktop] ${msg}`);
}

function portInUse(p) {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port: p });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A TCP port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port: p } = server.address();
      server.close(() => resolve(p));
    });
  });
}

/** Starts `awf-platform --dev`; resolves with the URL it prints. Its output goes to `platform.log`. */
async function startPlatform(dataDir, port = undefined) {
  const out = createWriteStream(path.join(artifacts, "platform.log"), { flags: port === undefined ? "w" : "a" });
  const chosen = port ?? (await freePort());
  const child = spawn(platformBin, ["--dev", "--port", String(chosen), "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.pipe(out);
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("awf-platform printed no URL within 30 s; see platform.log")), 30_000);
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      out.write(`${line}\n`);
      const m = /^AWF_PLATFORM_URL=(\S+)$/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`awf-platform exited (code ${code}, signal ${signal}); see platform.log`));
    });
  });
  return {
    url,
    port: chosen,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5_000)]);
      }
      out.end();
    },
  };
}

/** The newest SMS code the dev platform "sent" to `phone`. */
async function smsCodeFor(platformUrl, phone) {
  return poll(`an SMS code for ${phone} in the dev outbox`, async () => {
    const res = await fetch(`${platformUrl}/v1/dev/sms-outbox?phone=${encodeURIComponent(phone)}`);
    if (!res.ok) return null;
    return (await res.json()).at(-1)?.code ?? null;
  });
}

/**
 * Scrolls `el` to the middle of the window, then clicks it. Since the header gained the sync
 * indicator the page is wider than the window, and WebKitWebDriver's click on an element at the
 * window's bottom edge (the policy box, Cancel account…) misses it.
 */
async function clickCentered(s, el) {
  await s.execute(`arguments[0].scrollIntoView({ block: "center", inline: "nearest" });`, [
    { "element-6066-11e4-a52e-4f735466cecf": el },
  ]);
  await s.click(el);
}

/** Replaces the value of the input matching `css`. */
async function fill(s, css, value) {
  const el = await s.waitFor(css, 15_000);
  await s.clear(el);
  await s.type(el, value);
}

/** Signs up (SMS code from the dev outbox), logs out, and logs in again through the UI. */
async function accountFlow(s, platformUrl) {
  const name = `desk_${Date.now().toString(36)}`;
  const phone = `+86137${String(Date.now()).slice(-8)}`;
  const password = "desktop correct horse";
  await s.waitFor(sel.indicatorOnline, 30_000);
  await s.click(await s.waitFor(tid("account-open"), 15_000));
  await s.click(await s.waitFor(tid("signup-tab"), 15_000));
  await fill(s, tid("signup-account-name"), name);
  await fill(s, tid("signup-phone"), phone);
  await s.waitFor(tid("policy-text"), 15_000);
  await clickCentered(s, await s.find(tid("policy-accept")));
  await poll("the policy box to be checked", () =>
    s.execute(`return document.querySelector('[data-testid="policy-accept"]').checked;`),
  );
  await s.click(await s.find(tid("signup-send-code")));
  const code = await smsCodeFor(platformUrl, phone);
  await fill(s, tid("signup-sms-code"), code);
  await fill(s, tid("signup-password"), password);
  await fill(s, tid("signup-password-confirm"), password);
  await fill(s, tid("signup-dob"), "1990-05-17");
  await s.screenshot(path.join(artifacts, "04-signup.png"));
  await s.click(await s.find(tid("signup-submit")));
  await s.waitForText(tid("profile-account-name"), (t) => t.trim() === name, `say ${name}`, 20_000);
  await s.screenshot(path.join(artifacts, "05-profile.png"));
  log(`account: signed up as ${name}`);
  await s.click(await s.find(tid("logout")));
  await fill(s, tid("login-login"), name);
  await fill(s, tid("login-password"), password);
  await s.click(await s.find(tid("login-submit")));
  await s.waitForText(tid("profile-account-name"), (t) => t.trim() === name, `say ${name} after log-in`, 20_000);
  await s.screenshot(path.join(artifacts, "06-profile-after-login.png"));
  log(`account: logged out and in again as ${name}`);
  return { name, password };
}

/**
 * Opens Privacy, grants and withdraws crash reports, and finds both changes in the ledger with
 * their receipts (the user is signed in, so the receipts reach the platform at once).
 */
async function privacyFlow(s) {
  const purpose = "crash_reports";
  const toggle = tid(`consent-toggle-${purpose}`);
  await s.click(await s.waitFor(tid("privacy-open"), 15_000));
  await s.waitFor(tid(`purpose-${purpose}`), 15_000);
  const cards = await s.findAll('li[data-testid^="purpose-"]');
  if (cards.length !== 10) throw new Error(`the consent centre lists ${cards.length} purposes, expected 10`);
  const initially = await s.attribute(await s.find(toggle), "aria-checked");
  if (initially !== "false") throw new Error(`${purpose} starts ${initially}, expected off`);
  await s.click(await s.find(toggle));
  await s.waitFor(`${toggle}[aria-checked="true"]`, 15_000);
  await s.waitFor(`${tid("consent-outcome")}[data-granted="true"]`, 15_000);
  await s.screenshot(path.join(artifacts, "07-consent-centre.png"));
  log(`privacy: granted ${purpose}`);
  await s.click(await s.find(toggle));
  await s.waitFor(`${toggle}[aria-checked="false"]`, 15_000);
  const outcome = await s.waitFor(`${tid("consent-outcome")}[data-granted="false"]`, 15_000);
  log(`privacy: withdrew ${purpose}: ${await s.text(outcome)}`);
  await s.click(await s.find(tid("privacy-tab-ledger")));
  const row = (granted) => `${tid("ledger-row")}[data-purpose="${purpose}"][data-granted="${granted}"]`;
  await s.waitFor(row(true), 15_000);
  await s.waitFor(row(false), 15_000);
  await poll("the withdrawal's receipt to be acknowledged", async () => {
    const receipt = await s.attribute(await s.find(row(false)), "data-receipt");
    if (receipt === "acknowledged") return true;
    await s.click(await s.find(tid("ledger-refresh")));
    return null;
  });
  await s.click(await s.find(tid("ledger-verify")));
  await s.waitFor(`${tid("ledger-verify-result")}[data-intact="true"]`, 15_000);
  await s.screenshot(path.join(artifacts, "08-consent-ledger.png"));
  log("privacy: both changes are in the ledger with receipts; the ledger verifies intact");

  // What was sent: the receipts of both changes went to the platform through the egress gate.
  await s.click(await s.find(tid("privacy-tab-sent")));
  await s.waitFor(`${tid("transmission-row")}[data-path="/v1/consents"][data-outcome="sent"]`, 15_000);
  await s.screenshot(path.join(artifacts, "08b-what-was-sent.png"));
  log("privacy: what was sent lists the consent receipts sent to the platform");

  await s.click(await s.find(tid("privacy-tab-cookies")));
  await s.waitFor(tid("cookies-view"), 15_000);
  await s.waitFor(tid("installation-id"), 15_000);
  await s.waitFor(tid("cookies-refuse"), 15_000);
  await s.screenshot(path.join(artifacts, "09-cookies.png"));
  log(`privacy: cookies & identifiers lists ${(await s.findAll(tid("cookie-row"))).length} platform cookies`);
  await s.click(await s.find(tid("privacy-tab-held")));
  await s.waitFor(`${tid("local-row")}[data-category="agents"]`, 15_000);
  await s.waitFor(tid("retention-save"), 15_000);
  await s.waitFor(`${tid("held-row")}[data-category="account"]`, 15_000);
  // WebKit may paint a frame late: make sure the local table is on screen before the screenshot.
  await s.waitFor(`${tid("local-row")}[data-category="search_history"]`, 15_000);
  await new Promise((r) => setTimeout(r, 300));
  await s.screenshot(path.join(artifacts, "10-data-inventory.png"));
  log(`privacy: the data inventory lists ${(await s.findAll(tid("local-row"))).length} local categories`);
}

/** The fixtures the library flow imports (tests/fixtures). */
const fixtures = path.join(root, "tests/fixtures");

/**
 * Hands a file to the UI the way the webview does when a file is dropped: a `File` built in the
 * page from the fixture's bytes, in a `DataTransfer`, dispatched as `drop` on the drop zone
 * (`how: "drop"`), or put in the zone's file input (the fallback beside Browse…) with a `change`
 * event (`how: "input"`). (The native GTK dialog itself is driven with xdotool in `exportFlow`.)
 */
async function handFile(s, zone, name, bytes, how) {
  const error = await s.execute(
    `const [zone, name, b64, how] = arguments;
     const bin = atob(b64);
     const data = new Uint8Array(bin.length);
     for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
     const dt = new DataTransfer();
     dt.items.add(new File([data], name));
     if (how === "drop") {
       const target = document.querySelector('[data-testid="' + zone + '"]');
       if (!target) return "no drop zone " + zone;
       const event = new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true });
       if (!event.dataTransfer || event.dataTransfer.files.length !== 1) return "the drop event carries no file";
       target.dispatchEvent(event);
     } else {
       const input = document.querySelector('[data-testid="' + zone + '-input"]');
       if (!input) return "no file input in " + zone;
       input.files = dt.files;
       input.dispatchEvent(new Event("change", { bubbles: true }));
     }
     return null;`,
    [zone, name, Buffer.from(bytes).toString("base64"), how],
  );
  if (error) throw new Error(error);
}

/**
 * The textContent of the element matching `css`, or null. WebKitWebDriver's element text is
 * empty for a one-line title cut with an ellipsis (it calls it not displayed), so titles are
 * read from the DOM.
 */
function textContentOf(s, css) {
  return s.execute(`const el = document.querySelector(arguments[0]); return el ? el.textContent : null;`, [css]);
}

/** Waits until the textContent of `css` satisfies `test`. */
function waitForTextContent(s, css, test, description) {
  return poll(`${css} to ${description}`, async () => test((await textContentOf(s, css)) ?? "") || null, { timeoutMs: 15_000 });
}

/** Calls the command surface through the window's own IPC transport (the UI's `api_call`). */
async function apiCall(s, command, args) {
  const result = await s.executeAsync(
    `const [command, args, done] = arguments;
     window.__TAURI_INTERNALS__.invoke("api_call", { command, args })
       .then((value) => done({ ok: true, value }), (error) => done({ ok: false, error }));`,
    [command, args],
  );
  if (!result.ok) throw new Error(`${command} failed: ${JSON.stringify(result.error)}`);
  return result.value;
}

/**
 * Plugins, a CSV table with PII, and an agent bundle, through the desktop UI: a plugin imported
 * by pasting the Petstore spec; contacts.csv dropped on the CSV import (its PII findings shown,
 * masked) and a GBK file chosen with the file input fallback; the agent's bundle exported to a
 * path through the command surface (the save dialog is native), then validated and imported
 * through the UI without duplicating the agent.
 */
async function libraryFlow(s, agentName, workDir) {
  // --- Plugin: paste the spec ---
  await s.click(await s.waitFor(tid("plugins-open"), 15_000));
  await s.click(await s.waitFor(tid("plugin-import-open"), 15_000));
  const spec = await readFile(path.join(fixtures, "petstore.yaml"), "utf8");
  const paste = await s.waitFor(tid("plugin-paste"), 15_000);
  await s.execute(
    `const [el, text] = arguments;
     el.focus();
     const dt = new DataTransfer();
     dt.setData("text/plain", text);
     el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
     el.value = text;
     el.dispatchEvent(new Event("input", { bubbles: true }));`,
    [{ "element-6066-11e4-a52e-4f735466cecf": paste }, spec],
  );
  await s.click(await s.find(tid("plugin-paste-preview")));
  await s.waitFor(tid("plugin-preview"), 15_000);
  const previewed = await s.execute(
    `return [...document.querySelectorAll('[data-testid="plugin-preview"] [data-testid="tool-row"]')].map((r) => r.dataset.tool);`,
  );
  if (previewed.join() !== "listPets,createPets,showPetById") throw new Error(`the preview lists ${previewed}`);
  await s.click(await s.find(tid("plugin-import-confirm")));
  await waitForTextContent(s, tid("plugin-title"), (t) => t.includes("Swagger Petstore"), "name the Petstore");
  await poll("three tools in the plugin", async () => (await s.findAll(`${tid("plugin-detail")} ${tid("tool-row")}`)).length === 3);
  await sleep(300);
  await s.screenshot(path.join(artifacts, "11-plugin-pasted.png"));
  log("library: pasted the Petstore spec; the plugin has listPets, createPets, showPetById");

  // --- Table: drop a CSV with PII ---
  await s.click(await s.find(tid("data-open")));
  await s.click(await s.waitFor(tid("data-tab-tables"), 15_000));
  await s.click(await s.waitFor(tid("table-import-open"), 15_000));
  await s.waitFor(tid("csv-drop"), 15_000);
  await handFile(s, "csv-drop", "contacts.csv", await readFile(path.join(fixtures, "contacts.csv")), "drop");
  await s.waitFor(tid("csv-preview"), 15_000);
  const panel = `${tid("csv-import")} ${tid("pii-panel")}`;
  await s.waitFor(`${panel}[data-total="7"]`, 15_000);
  const masked = await s.execute(
    `return [...document.querySelectorAll(${JSON.stringify(`${panel} [data-testid="pii-masked"]`)})].map((m) => m.textContent);`,
  );
  for (const m of ["138****5678", "110105********002X", "z***@example.com"]) {
    if (!masked.includes(m)) throw new Error(`the preview does not show ${m} masked: ${masked}`);
  }
  const panelText = (await textContentOf(s, panel)) ?? "";
  if (panelText.includes("13812345678") || panelText.includes("11010519491231002X")) throw new Error("a raw value shows in the findings");
  await s.screenshot(path.join(artifacts, "12-csv-pii-preview.png"));
  await s.click(await s.find(tid("csv-import-confirm")));
  await waitForTextContent(s, tid("table-title"), (t) => t.trim() === "contacts", "say contacts");
  await s.waitFor(`${tid("table-detail")} ${tid("pii-panel")}[data-total="7"]`, 15_000);
  await s.execute(`document.querySelector('[data-testid="table-detail"] [data-testid="pii-panel"]').scrollIntoView();`);
  await sleep(300);
  await s.screenshot(path.join(artifacts, "13-table-pii.png"));
  log("library: dropped contacts.csv; 7 findings shown masked, stored with the table");

  // The file input beside Browse… (the fallback when the native dialog cannot be used).
  await s.click(await s.find(tid("table-import-open")));
  await s.waitFor(tid("csv-drop-input"), 15_000);
  await handFile(s, "csv-drop", "contacts-gbk.csv", await readFile(path.join(fixtures, "contacts-gbk.csv")), "input");
  await s.waitFor(`${tid("csv-encoding")}[data-encoding="gb18030"]`, 15_000);
  log("library: the GBK file chosen with the file input is read as GB18030");

  // --- Bundle: export to a path through the command surface, import through the UI ---
  await s.click(await s.find(tid("workspace-open")));
  await poll(`"${agentName}" in the agent list`, () => isListed(s, agentName));
  const agentId = await s.execute(
    `const row = [...document.querySelectorAll(${JSON.stringify(sel.agentRow)})].find((r) => r.textContent.includes(arguments[0]));
     return row ? row.dataset.agentId : null;`,
    [agentName],
  );
  if (!agentId) throw new Error(`no row for ${agentName}`);
  // The agent uses the plugin and the table, so the bundle carries them.
  await s.click(await s.find(`${sel.agentRow}[data-agent-id="${agentId}"]`));
  await s.waitFor(tid("agent-plugin-ids-add"), 15_000);
  for (const [picker, label] of [
    ["agent-plugin-ids-add", "Swagger Petstore"],
    ["agent-dataset-ids-add", "contacts"],
  ]) {
    await poll(`"${label}" offered by ${picker}`, () =>
      s.execute(
        `const [picker, label] = arguments;
         const select = document.querySelector('[data-testid="' + picker + '"]');
         const option = [...select.options].find((o) => o.textContent.startsWith(label));
         if (!option) return false;
         select.value = option.value;
         select.dispatchEvent(new Event("change", { bubbles: true }));
         return true;`,
        [picker, label],
      ),
    );
  }
  await poll("the agent's links to be saved", async () => {
    const agent = await apiCall(s, "agent_get", { id: agentId });
    return agent.plugin_ids.length === 1 && agent.dataset_ids.length === 1;
  });
  await poll("the save indicator to say saved", () => isSaved(s));
  const bundlePath = path.join(workDir, "desktop-agent.awfbundle");
  const exported = await apiCall(s, "bundle_export", { agent_id: agentId, path: bundlePath });
  if (exported.path !== bundlePath) throw new Error(`bundle_export wrote ${exported.path}`);
  const rowsBefore = (await s.findAll(sel.agentRow)).length;
  await s.click(await s.find(tid("bundle-import-open")));
  await s.waitFor(tid("bundle-drop-input"), 15_000);
  await handFile(s, "bundle-drop", "desktop-agent.awfbundle", await readFile(bundlePath), "input");
  await s.waitFor(`${tid("bundle-check")}[data-ok="true"]`, 15_000);
  const replaces = await s.attribute(await s.find(tid("bundle-replaces")), "data-replaces");
  if (replaces !== "true") throw new Error(`the check says replaces=${replaces}`);
  // WebKit may paint a frame late: let the report reach the screen before the screenshot.
  await sleep(300);
  await s.screenshot(path.join(artifacts, "14-bundle-check.png"));
  await s.click(await s.find(tid("bundle-import-confirm")));
  await s.waitFor(`${tid("bundle-report")}[data-created="false"]`, 15_000);
  const report = (await textContentOf(s, tid("bundle-report"))) ?? "";
  if (!report.includes("plugins: 1") || !report.includes("tables: 1")) throw new Error(`the import report says: ${report}`);
  await sleep(300);
  await s.screenshot(path.join(artifacts, "15-bundle-imported.png"));
  await s.click(await s.find(tid("bundle-open-agent")));
  await poll("the bundle dialog to close", async () => (await s.findAll(tid("bundle-import-dialog"))).length === 0);
  const rowsAfter = (await s.findAll(sel.agentRow)).length;
  if (rowsAfter !== rowsBefore) throw new Error(`the agent list went from ${rowsBefore} to ${rowsAfter} rows`);
  const plugins = await apiCall(s, "plugins_list", null);
  const tables = await apiCall(s, "tables_list", null);
  if (plugins.length !== 1 || tables.length !== 1) {
    throw new Error(`after the import: ${plugins.length} plugins, ${tables.length} tables (expected 1 and 1)`);
  }
  log(`library: exported ${agentName} to a path, validated and re-imported it through the UI; no duplicate`);
}

// --- The rights tab: export through the native save dialog, then cancel the account ---

/** Runs a command to completion; its status and output. */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  return r;
}

/** Runs xdotool; throws with its stderr when it fails. */
function xdotool(...args) {
  const r = run("xdotool", args);
  if (r.status !== 0) throw new Error(`xdotool ${args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The ids of the visible X windows titled exactly `title` (none: an empty list). */
function windowsTitled(title) {
  const r = run("xdotool", ["search", "--onlyvisible", "--name", `^${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`]);
  return r.status === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

/** A screenshot of the whole X display (native windows included), by ImageMagick's `import`. */
function rootScreenshot(file) {
  const r = run("import", ["-window", "root", file]);
  if (r.status !== 0) throw new Error(`import -window root ${file} failed: ${r.stderr.trim()}`);
  return file;
}

/** Waits for the native dialog titled `title`; its window id. */
async function nativeDialog(title) {
  const id = await poll(`the native dialog "${title}" to open`, () => windowsTitled(title)[0] ?? null, {
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  // Keyboard input goes to the focused window: give it the focus (no window manager under Xvfb).
  xdotool("windowfocus", "--sync", id);
  // GTK builds the chooser's contents after mapping it: let it settle before typing.
  await sleep(500);
  return id;
}

async function nativeDialogClosed(title) {
  await poll(`the native dialog "${title}" to close`, () => windowsTitled(title).length === 0, {
    timeoutMs: 15_000,
    intervalMs: 200,
  });
}

/** Clicks `css` without waiting: the click's answer may come only once a native dialog is done. */
function clickLater(s, el) {
  const pending = s.click(el).then(
    () => null,
    (e) => e,
  );
  return async () => {
    const e = await pending;
    if (e) throw e;
  };
}

/** Closes any native dialog left open by a failed step, so the app can be closed. */
function dismissNativeDialog(title) {
  for (const id of windowsTitled(title)) {
    run("xdotool", ["windowfocus", "--sync", id]);
    run("xdotool", ["key", "--clearmodifiers", "Escape"]);
  }
}

/**
 * The entries of a ZIP file as `{ name → Buffer }` (stored or deflated, no ZIP64: enough for a
 * small export). Read from the central directory, like an unzip tool.
 */
async function readZip(file) {
  const buf = await readFile(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a ZIP file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries = new Map();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(at + 10);
    const compressed = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLen);
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataAt, dataAt + compressed);
    if (method !== 0 && method !== 8) throw new Error(`${file}: ${name} uses compression method ${method}`);
    entries.set(name, method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The files the export must hold after the flows above (docs/EXPORT.md). */
const EXPORT_FILES = [
  "account.json",
  "settings.json",
  "agents.jsonl",
  "instruction_revisions.jsonl",
  "plugins.jsonl",
  "tables.json",
  "pii_findings.json",
  "consents.json",
  "consent_ledger.jsonl",
  "transmission_log.jsonl",
  "secrets.json",
  "platform/status.json",
  "platform/account.json",
  "platform/held_data.json",
  "platform/consent_receipts.json",
  "index.html",
  "manifest.json",
];

const SAVE_TITLE = "Save the export";

/**
 * "Export all my data" on the rights tab, through the real GTK save dialog: cancelled once with
 * Escape (nothing starts), then a path typed into its name field and Return. The UI's own verify
 * must say ok, then `awf export --verify` and a read of the ZIP check the file from outside.
 */
async function exportFlow(s, agentName, account, workDir) {
  await s.click(await s.waitFor(tid("privacy-open"), 15_000));
  await s.click(await s.waitFor(tid("privacy-tab-rights"), 15_000));
  await s.waitFor(tid("rights-export"), 15_000);
  if ((await s.findAll(tid("export-path"))).length !== 0) throw new Error("the desktop app shows a path field instead of the save dialog");
  const exportDir = path.join(workDir, "exports");
  await mkdir(exportDir, { recursive: true });
  const file = path.join(exportDir, "desktop-export.zip");
  try {
    // Escape closes the dialog: no export starts, no file appears.
    const start = await s.find(tid("export-start"));
    await s.execute(`arguments[0].scrollIntoView({ block: "center" });`, [{ "element-6066-11e4-a52e-4f735466cecf": start }]);
    let clicked = clickLater(s, start);
    await nativeDialog(SAVE_TITLE);
    rootScreenshot(path.join(artifacts, "16-export-save-dialog.png"));
    xdotool("key", "--clearmodifiers", "Escape");
    await nativeDialogClosed(SAVE_TITLE);
    await clicked();
    await sleep(500);
    for (const id of ["export-progress", "export-done", "export-verify"]) {
      if ((await s.findAll(tid(id))).length !== 0) throw new Error(`after Escape in the save dialog the rights tab shows ${id}`);
    }
    if ((await readdir(exportDir)).length !== 0) throw new Error(`after Escape, ${exportDir} holds ${await readdir(exportDir)}`);
    log("export: Escape in the GTK save dialog started nothing");

    // The name field has the suggested name selected; a typed absolute path replaces it.
    clicked = clickLater(s, await s.find(tid("export-start")));
    const dialog = await nativeDialog(SAVE_TITLE);
    xdotool("key", "--clearmodifiers", "ctrl+a");
    xdotool("type", "--clearmodifiers", "--delay", "20", file);
    await sleep(400);
    rootScreenshot(path.join(artifacts, "17-export-save-dialog-path.png"));
    xdotool("windowfocus", "--sync", dialog);
    xdotool("key", "--clearmodifiers", "Return");
    await nativeDialogClosed(SAVE_TITLE);
    await clicked();
  } catch (e) {
    try {
      rootScreenshot(path.join(artifacts, "failure-export-dialog-root.png"));
    } catch (shot) {
      log(`no root screenshot: ${shot.message}`);
    }
    dismissNativeDialog(SAVE_TITLE);
    throw e;
  }
  const verify = await s.waitFor(tid("export-verify"), 120_000);
  if ((await s.attribute(verify, "data-ok")) !== "true") {
    throw new Error(`the app's verify of the export failed: ${await textContentOf(s, tid("export-verify"))}`);
  }
  const done = (await textContentOf(s, tid("export-done"))) ?? "";
  if (!done.includes(file)) throw new Error(`the export says it was written elsewhere: ${done}`);
  await sleep(300);
  await s.screenshot(path.join(artifacts, "18-export-verified.png"));
  log(`export: written through the save dialog to ${file}; the app verified it`);

  // From outside the app: the CLI's verify, then the manifest and the entries themselves.
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  if (!existsSync(awfBin)) throw new Error(`${awfBin} is missing: cargo build -p awf-cli`);
  const r = run(awfBin, ["export", "--verify", file, "--json"]);
  if (r.status !== 0) throw new Error(`awf export --verify ${file} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  const report = JSON.parse(r.stdout);
  if (report.ok !== true || report.problems.length !== 0) throw new Error(`awf export --verify: ${r.stdout}`);
  const entries = await readZip(file);
  const missing = EXPORT_FILES.filter((f) => !entries.has(f));
  if (missing.length) throw new Error(`the export lacks ${missing.join(", ")}; it holds ${[...entries.keys()].join(", ")}`);
  const manifest = JSON.parse(entries.get("manifest.json").toString("utf8"));
  const listed = new Set(manifest.files.map((f) => f.path));
  const unlisted = [...entries.keys()].filter((f) => f !== "manifest.json" && !listed.has(f));
  if (unlisted.length) throw new Error(`entries missing from the manifest: ${unlisted.join(", ")}`);
  if (report.files_checked !== manifest.files.length) {
    throw new Error(`awf checked ${report.files_checked} files, the manifest lists ${manifest.files.length}`);
  }
  const count = (name) => manifest.categories.find((c) => c.name === name)?.count;
  const lines = (name) => entries.get(name).toString("utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  if (!lines("agents.jsonl").some((a) => a.name === agentName)) throw new Error(`agents.jsonl has no agent "${agentName}"`);
  if (!lines("plugins.jsonl").some((p) => JSON.stringify(p).includes("Swagger Petstore"))) throw new Error("plugins.jsonl has no Petstore plugin");
  if (!entries.get("tables.json").toString("utf8").includes("contacts")) throw new Error("tables.json has no contacts table");
  if (!lines("consent_ledger.jsonl").some((e) => e.purpose === "crash_reports")) throw new Error("the ledger in the export has no crash_reports entry");
  if (lines("transmission_log.jsonl").length === 0) throw new Error("the export's transmission log is empty");
  const status = JSON.parse(entries.get("platform/status.json").toString("utf8"));
  if (status.asked !== true) throw new Error(`the platform was not asked: ${JSON.stringify(status)}`);
  if (!entries.get("platform/account.json").toString("utf8").includes(account.name)) throw new Error("platform/account.json does not name the account");
  for (const [name, bytes] of entries) {
    if (bytes.includes(account.password)) throw new Error(`the export's ${name} holds the account's password`);
  }
  log(
    `export: awf export --verify ok (${report.files_checked} files); ${entries.size} entries; agents ${count("agents")}, ` +
      `plugins ${count("plugins")}, tables ${count("tables")}, ledger entries ${lines("consent_ledger.jsonl").length}; no password inside`,
  );
}

/** Logs in at the platform directly (not through the app); the answer's status and JSON. */
async function platformLogin(platformUrl, account) {
  const res = await fetch(`${platformUrl}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-awf-purpose": "account_operation" },
    body: JSON.stringify({ login: account.name, password: account.password }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function platformProfileStatus(platformUrl, token) {
  const res = await fetch(`${platformUrl}/v1/account/profile`, {
    headers: { authorization: `Bearer ${token}`, "x-awf-purpose": "account_operation" },
  });
  await res.arrayBuffer();
  return res.status;
}

/** The Secret Service items of the app (service `ai.aiwellflow.studio`) whose attributes mention `needle`. */
function keyringItemsMentioning(needle) {
  const dbus = (...args) => {
    const r = run("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.secrets", ...args]);
    if (r.status !== 0) throw new Error(`dbus-send ${args.join(" ")} failed: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const found = dbus(
    "/org/freedesktop/secrets",
    "org.freedesktop.Secret.Service.SearchItems",
    "dict:string:string:service,ai.aiwellflow.studio",
  );
  const items = [...found.matchAll(/object path "([^"]+)"/g)].map((m) => m[1]);
  return items.filter((item) =>
    dbus(item, "org.freedesktop.DBus.Properties.Get", "string:org.freedesktop.Secret.Item", "string:Attributes").includes(needle),
  );
}

/**
 * Cancels the account on the cancellation screen: password, the account name typed exactly, the
 * confirmation; then the receipt. Afterwards the platform refuses a token it had issued and the
 * log-in, the profile's directory is gone and no keyring item of the profile remains.
 */
async function cancellationFlow(s, account, platformUrl, dataDir) {
  const profileId = JSON.parse(await readFile(path.join(dataDir, "key.json"), "utf8")).profile_id;
  if (!profileId) throw new Error("key.json names no profile id");
  const before = await platformLogin(platformUrl, account);
  const token = before.body?.tokens?.access_token;
  if (before.status !== 200 || !token) throw new Error(`the platform log-in before the cancellation answered ${before.status}`);
  if ((await platformProfileStatus(platformUrl, token)) !== 200) throw new Error("the platform refused the token before the cancellation");
  const itemsBefore = keyringItemsMentioning(profileId);
  if (itemsBefore.length === 0) throw new Error(`the keyring holds no item of profile ${profileId} before the cancellation`);

  await s.click(await s.waitFor(tid("privacy-tab-rights"), 15_000));
  await clickCentered(s, await s.waitFor(tid("cancel-open"), 15_000));
  await s.waitFor(tid("cancel-account-view"), 15_000);
  await s.waitFor(tid("cancel-irreversible"), 15_000);
  await fill(s, tid("cancel-password"), account.password);
  await fill(s, tid("cancel-name"), account.name);
  await clickCentered(s, await s.find(tid("cancel-confirm")));
  if ((await s.execute(`return document.querySelector('[data-testid="cancel-confirm"]').checked;`)) !== true) {
    throw new Error("the confirmation box did not get checked");
  }
  await sleep(300);
  await s.screenshot(path.join(artifacts, "19-cancel-form.png"));
  await clickCentered(s, await s.find(tid("cancel-submit")));
  await s.waitFor(tid("cancellation-completed"), 60_000);
  const receipt = ((await textContentOf(s, tid("cancellation-receipt-id"))) ?? "").trim();
  if (!/^del_[0-9a-f]{32}$/.test(receipt)) throw new Error(`the receipt id is "${receipt}"`);
  const verified = await s.attribute(await s.find(tid("cancellation-verified")), "data-verified");
  if (verified !== "true") throw new Error(`the receipt's signature did not verify: ${await textContentOf(s, tid("cancellation-verified"))}`);
  await sleep(300);
  await s.screenshot(path.join(artifacts, "20-cancel-receipt.png"));
  log(`cancel: the account is cancelled; receipt ${receipt}, signature verified`);

  const profileAfter = await platformProfileStatus(platformUrl, token);
  if (profileAfter !== 401) throw new Error(`the platform answers ${profileAfter} to the account's token after the cancellation, expected 401`);
  const after = await platformLogin(platformUrl, account);
  if (after.status !== 401) throw new Error(`the platform answers ${after.status} to the account's log-in after the cancellation, expected 401`);
  if (existsSync(dataDir)) throw new Error(`the profile directory ${dataDir} still exists: ${await readdir(dataDir)}`);
  const itemsAfter = keyringItemsMentioning(profileId);
  if (itemsAfter.length !== 0) throw new Error(`the keyring still holds ${itemsAfter.length} item(s) of profile ${profileId}`);
  log(
    `cancel: the platform answers 401 to the old token and to the log-in; the profile directory is gone; ` +
      `${itemsBefore.length} keyring items before, none after`,
  );
}

/** Starts tauri-driver; its output goes to `driver.log` in the artifacts. */
async function startDriver(platformUrl) {
  for (const p of [port, port + 1]) {
    if (await portInUse(p)) {
      throw new Error(`port ${p} is already in use (another tauri-driver?); set AWF_TAURI_DRIVER_PORT`);
    }
  }
  const out = createWriteStream(path.join(artifacts, "driver.log"));
  const child = spawn(driverBin, ["--port", String(port), "--native-port", String(port + 1)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      // The app follows the system language; the assertions read English text.
      LANG: "C.UTF-8",
      LANGUAGE: "en",
      // Debug builds allow WebView automation anyway; release builds need this.
      TAURI_WEBVIEW_AUTOMATION: "true",
      // Inherited by WebKitWebDriver and so by the app.
      AWF_PLATFORM_URL: platformUrl,
    },
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.once("error", (e) => out.write(`spawn error: ${e.message}\n`));
  await Promise.race([
    waitForServer(base, 30_000),
    exited.then(({ code, signal }) => {
      throw new Error(`tauri-driver exited early (code ${code}, signal ${signal}); see ${path.join(artifacts, "driver.log")}`);
    }),
  ]);
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5_000)]);
      }
      out.end();
    },
  };
}

/** PIDs of running processes whose command line mentions `needle` (Linux only). */
async function processesMentioning(needle) {
  if (process.platform !== "linux") return [];
  const pids = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0").join(" ");
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Whether the process recorded in the profile's lock file still runs (a zombie has let go). */
async function lockHolderAlive(dataDir) {
  if (process.platform !== "linux") return false;
  let pid;
  try {
    pid = Number((await readFile(path.join(dataDir, "studio.lock"), "utf8")).trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return !/^State:\s+[ZX]/m.test(status);
  } catch {
    return false;
  }
}

function launch(dataDir) {
  return Session.create(base, {
    alwaysMatch: {
      browserName: "wry",
      "tauri:options": { application: app, args: ["--data-dir", dataDir] },
    },
  });
}

/** Runs `body` with a fresh app session; always deletes the session, then waits for the app to exit. */
async function withApp(label, dataDir, body) {
  log(`${label}: starting the app`);
  const started = Date.now();
  const session = await launch(dataDir);
  let failed = false;
  try {
    await session.waitFor(sel.agentList, APP_START_MS);
    log(`${label}: agent list shown after ${Date.now() - started} ms`);
    await body(session);
  } catch (e) {
    failed = true;
    await saveFailureState(session, label);
    throw e;
  } finally {
    const err = await session.delete();
    if (err) log(`${label}: deleting the session failed: ${err.message}`);
    // The profile is single-instance: the next run needs this one gone, and its lock with it
    // (an exiting process loses its command line before it closes its files).
    try {
      await poll(
        `the app of "${label}" to exit`,
        async () => (await processesMentioning(dataDir)).length === 0 && !(await lockHolderAlive(dataDir)),
        { timeoutMs: 15_000, intervalMs: 200 },
      );
    } catch (e) {
      if (!failed) throw e;
      log(e.message);
    }
  }
}

async function saveFailureState(session, label) {
  const stem = path.join(artifacts, `failure-${label.replace(/\W+/g, "-")}`);
  try {
    await session.screenshot(`${stem}.png`);
    log(`failure screenshot: ${stem}.png`);
  } catch (e) {
    log(`no failure screenshot: ${e.message}`);
  }
  try {
    await writeFile(`${stem}.html`, await session.source());
  } catch {
    // The page may be gone; the screenshot (if any) and the driver log remain.
  }
}

/** The text of every row of the agent list (textContent: a long name is cut off on screen). */
function listedNames(s) {
  return s.execute(
    `return [...document.querySelectorAll(${JSON.stringify(sel.agentRow)})].map((row) => row.textContent);`,
  );
}

async function isListed(s, name) {
  return (await listedNames(s)).some((text) => text.includes(name));
}

/** Whether the save indicator says the store has every edit (`data-state`: saved, dirty, saving, error). */
async function isSaved(s) {
  return (await s.attribute(await s.find(sel.saveIndicator), "data-state")) === "saved";
}

async function main() {
  if (!app || !path.isAbsolute(app)) throw new Error("AWF_DESKTOP_BIN must be the absolute path of the app binary");
  // Start from an empty artifacts directory: a screenshot left by an earlier run would mislead.
  await rm(artifacts, { recursive: true, force: true });
  await mkdir(artifacts, { recursive: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-desktop-"));
  // Files the app writes on request (the exported bundle); outside the profile.
  const workDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-desktop-files-"));
  const name = `Desktop agent ${Date.now().toString(36)}`;
  log(`app ${app}`);
  log(`data dir ${dataDir}`);
  log(`artifacts ${artifacts}`);

  if (!existsSync(platformBin)) throw new Error(`${platformBin} is missing: cargo build -p awf-platform`);
  const platformDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-desktop-platform-"));
  let platform = await startPlatform(platformDir);
  log(`platform ${platform.url}`);
  const driver = await startDriver(platform.url);
  try {
    await withApp("first-run", dataDir, async (s) => {
      await s.screenshot(path.join(artifacts, "01-agent-list-empty.png"));
      await s.click(await s.waitFor(sel.newAgent));
      const field = await s.waitFor(sel.agentName);
      await s.clear(field);
      await s.type(field, name);
      // The indicator starts as "Saved" for the new agent; the name shows in the list only once
      // the autosave has stored it, so wait for both.
      await poll(`"${name}" in the agent list`, () => isListed(s, name));
      await poll("the save indicator to say saved", () => isSaved(s));
      await s.screenshot(path.join(artifacts, "02-agent-editor.png"));
      log(`first-run: created and saved "${name}"`);
    });

    // The store key went to the real Secret Service of this session, not to a passphrase file.
    const keyFile = JSON.parse(await readFile(path.join(dataDir, "key.json"), "utf8"));
    if (keyFile.mode !== "keyring") throw new Error(`expected a keyring-mode profile, key.json says ${JSON.stringify(keyFile)}`);

    await withApp("second-run", dataDir, async (s) => {
      await poll(`"${name}" in the agent list after restart`, () => isListed(s, name));
      await s.screenshot(path.join(artifacts, "03-agent-list-after-restart.png"));
      log(`second-run: "${name}" is listed after restart`);
      const account = await accountFlow(s, platform.url);
      await privacyFlow(s);
      await libraryFlow(s, name, workDir);
      await exportFlow(s, name, account, workDir);
      await syncFlow(s, {
        platformUrl: platform.url,
        account,
        artifacts,
        awfBin,
        apiCall,
        stopPlatform: () => platform.stop(),
        // The same port and data: the app finds it again by itself.
        restartPlatform: async () => {
          platform = await startPlatform(platformDir, platform.port);
        },
      });
      await cancellationFlow(s, account, platform.url, dataDir);
    });
  } finally {
    await driver.stop();
    await platform.stop();
    await rm(platformDir, { recursive: true, force: true });
  }
  await rm(dataDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
  log("passed");
}

main().catch((e) => {
  console.error(`[e2e-desktop] FAILED: ${e.stack || e.message}`);
  console.error(`[e2e-desktop] artifacts (screenshots, driver.log) in ${artifacts}`);
  process.exit(1);
});
