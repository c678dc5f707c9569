// Desktop end-to-end test: drives the real debug binary of AiWellFlow Studio (WebKitGTK on
// Linux) through tauri-driver, and checks that an agent created in one run of the app is still
// there in the next run on the same data directory. It also starts the reference platform
// (`awf-platform --dev`) and, in the second run, signs up and logs in through the desktop UI.
//
// Run it through `cargo xtask test`, which provides what it needs: an X display (Xvfb), a D-Bus
// session with an unlocked gnome-keyring (the store key lives there, so both runs of the app must
// see the same keyring), and these variables:
//   AWF_DESKTOP_BIN     absolute path of the app binary (required)
//   AWF_TAURI_DRIVER    tauri-driver to start (default: `tauri-driver` on PATH)
//   AWF_ARTIFACTS_DIR   where screenshots and logs go (default: test-artifacts/e2e-desktop)
//   AWF_TAURI_DRIVER_PORT  the driver's port (default 4444; the native driver gets the next one)
//   AWF_PLATFORM_BIN    the reference platform (default: <repo>/target/debug/awf-platform)
//
// The app learns the platform address from AWF_PLATFORM_URL. tauri-driver's capabilities have no
// way to set the app's environment, so it is set on tauri-driver, whose children inherit it.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

import { Session, poll, sleep, waitForServer } from "./webdriver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

const app = process.env.AWF_DESKTOP_BIN;
const driverBin = process.env.AWF_TAURI_DRIVER || "tauri-driver";
const artifacts = path.resolve(process.env.AWF_ARTIFACTS_DIR || path.join(root, "test-artifacts/e2e-desktop"));
const port = Number(process.env.AWF_TAURI_DRIVER_PORT || 4444);
const base = `http://127.0.0.1:${port}`;
const platformBin = path.resolve(process.env.AWF_PLATFORM_BIN || path.join(root, "target/debug/awf-platform"));

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
async function startPlatform(dataDir) {
  const out = createWriteStream(path.join(artifacts, "platform.log"));
  const child = spawn(platformBin, ["--dev", "--port", String(await freePort()), "--data-dir", dataDir], {
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
  await s.click(await s.find(tid("policy-accept")));
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
    // The profile is single-instance: the next run needs this one gone.
    try {
      await poll(`the app of "${label}" to exit`, async () => (await processesMentioning(dataDir)).length === 0, {
        timeoutMs: 15_000,
        intervalMs: 200,
      });
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
  const name = `Desktop agent ${Date.now().toString(36)}`;
  log(`app ${app}`);
  log(`data dir ${dataDir}`);
  log(`artifacts ${artifacts}`);

  if (!existsSync(platformBin)) throw new Error(`${platformBin} is missing: cargo build -p awf-platform`);
  const platformDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-desktop-platform-"));
  const platform = await startPlatform(platformDir);
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
      await accountFlow(s, platform.url);
      await privacyFlow(s);
    });
  } finally {
    await driver.stop();
    await platform.stop();
    await rm(platformDir, { recursive: true, force: true });
  }
  await rm(dataDir, { recursive: true, force: true });
  log("passed");
}

main().catch((e) => {
  console.error(`[e2e-desktop] FAILED: ${e.stack || e.message}`);
  console.error(`[e2e-desktop] artifacts (screenshots, driver.log) in ${artifacts}`);
  process.exit(1);
});
