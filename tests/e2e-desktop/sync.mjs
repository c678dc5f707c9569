// Desktop e2e of consented sync (issue 6, SPEC C2, C3, C5), called by run.mjs once the app is
// signed in to the reference platform:
//  1. an agent created and edited without the developer-data hosting consent waits: the header
//     indicator says "off", the sync panel lists the agent as pending and links to the consent;
//  2. the hosting consent is granted in the consent centre ("coming online"): "Sync now" sends
//     the agent and the indicator says synced; a second device of the same account (the `awf`
//     CLI on its own profile) pulls it; then the platform is stopped, the agent edited (the
//     indicator says offline), the platform started again on the same port, and the edit goes
//     up by itself (no click) and reaches the CLI device;
//  3. a conflict, made deterministic with the per-agent switch: sync is switched off for the agent
//     in the editor, the same line is edited here and on the CLI device (which pushes first), and
//     sync is switched on again; the push comes back as a conflict in the indicator and the
//     panel; the merged text (with conflict markers, "Use merged text" disabled) is fixed and
//     used; the CLI device then pulls exactly the merged text.
// Screenshots: sync-01 … sync-08 (and sync-02b, sync-02c) in the artifacts directory.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { poll, sleep } from "./webdriver.mjs";

const tid = (id) => `[data-testid="${id}"]`;

function log(msg) {
  console.log(`[e2e-desktop sync] ${msg}`);
}

/** Runs the `awf` CLI on the second device's profile; returns stdout (parsed with `--json`). */
function cli(ctx, args, { input, json = false } = {}) {
  const full = ["--data-dir", ctx.deviceDir, ...args, ...(json ? ["--json"] : [])];
  const env = { ...process.env, AWF_PLATFORM_URL: ctx.platformUrl };
  delete env.AWF_PASSPHRASE;
  delete env.AWF_DATA_DIR;
  delete env.AWF_PLATFORM_PASSWORD;
  const out = spawnSync(ctx.awfBin, full, { input, encoding: "utf8", env, timeout: 60_000 });
  if (out.status !== 0) throw new Error(`awf ${args.join(" ")} failed (${out.status}): ${out.stderr}\n${out.stdout}`);
  return json ? JSON.parse(out.stdout) : out.stdout;
}

/** Sets a field's value as typing does (one input event), newlines included. */
async function setValue(s, css, value) {
  await s.waitFor(css, 15_000);
  await s.execute(
    `const el = document.querySelector(arguments[0]); el.focus(); el.value = arguments[1];
     el.dispatchEvent(new Event("input", { bubbles: true }));`,
    [css, value],
  );
}

/** Clicks the element matching `css` after scrolling it to the middle of the window (a click on the window's edge can miss). */
async function clickCss(s, css, timeoutMs = 15_000) {
  const el = await s.waitFor(css, timeoutMs);
  await s.execute(`document.querySelector(arguments[0]).scrollIntoView({ block: "center" });`, [css]);
  await s.click(el);
}

/** Flips the editor's "Sync this agent" switch until the status says `want` (a click can be lost while the editor re-renders). */
async function switchAgentSync(s, want) {
  const matches = (st) => (want === "off" ? st === "off" : st !== null && st !== "off");
  for (let attempt = 1; ; attempt++) {
    await clickCss(s, tid("agent-sync-toggle"));
    try {
      await poll(`the agent's sync status to be ${want}`, async () => matches(await attr(s, tid("agent-sync-status"), "data-status")), {
        timeoutMs: 5_000,
      });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
      if (matches(await attr(s, tid("agent-sync-status"), "data-status"))) return;
      log(`the switch did not take (attempt ${attempt}); clicking again`);
    }
  }
}

async function attr(s, css, name) {
  const found = await s.findAll(css);
  if (found.length === 0) return null;
  return s.attribute(found[0], name);
}

async function indicatorState(s) {
  return attr(s, tid("sync-indicator"), "data-state");
}

async function waitIndicator(s, state, timeoutMs = 30_000) {
  await poll(`the sync indicator to say ${state}`, async () => (await indicatorState(s)) === state, { timeoutMs });
}

/**
 * Waits until the agent `id` is synced and nothing but held-back items (the library flow's table
 * with personal information, which waits for the developer's attestation) is still waiting: the
 * indicator says synced, or "pending" with no item pending.
 */
async function waitSynced(s, ctx, id, timeoutMs) {
  await poll(
    `the agent ${id} to be synced and the indicator to say so`,
    async () => {
      const st = await ctx.apiCall(s, "sync_status", null);
      const item = st.items.find((i) => i.id === id);
      if (item && item.status !== "synced") return false;
      const state = await indicatorState(s);
      return state === "synced" || (state === "pending" && st.overview.pending === 0 && st.overview.conflicts === 0);
    },
    { timeoutMs },
  );
}

async function saved(s) {
  await poll("the save indicator to say saved", async () => (await attr(s, tid("save-indicator"), "data-state")) === "saved");
}

async function openPanel(s) {
  await clickCss(s, tid("sync-indicator-open"));
  await s.waitFor(tid("sync-view"), 15_000);
}

/**
 * Clicks "New agent" and waits for the new agent's editor: the editor open before stays until its
 * edits are saved, and a value set in it meanwhile would land on that agent.
 */
async function newAgent(s) {
  const before = await attr(s, tid("agent-editor"), "data-agent-id");
  await clickCss(s, tid("new-agent"));
  await poll("the new agent's editor", async () => {
    const id = await attr(s, tid("agent-editor"), "data-agent-id");
    return id !== null && id !== before;
  });
}

async function openAgent(s, id) {
  await clickCss(s, tid("workspace-open"));
  await clickCss(s, `${tid("agent-row")}[data-agent-id="${id}"]`);
  await poll("the editor to show the agent", async () => (await s.findAll(tid("agent-sync-status"))).length > 0);
}

/**
 * @param s the WebDriver session of the signed-in app
 * @param ctx { platformUrl, account: { name, password }, artifacts, awfBin, apiCall(s, command, args) }
 */
export async function syncFlow(s, ctx) {
  const shot = (name) => s.screenshot(path.join(ctx.artifacts, name));
  const deviceDir = await mkdtemp(path.join(os.tmpdir(), "awf-e2e-desktop-device-b-"));
  const c = { ...ctx, deviceDir };
  try {
    // --- 1. No hosting consent: the change waits. ---
    const name = `Synced agent ${Date.now().toString(36)}`;
    const v1 = "Greet the user.\nAnswer briefly.\nSign off.";
    await clickCss(s, tid("workspace-open"));
    await newAgent(s);
    await setValue(s, tid("agent-name"), name);
    await setValue(s, tid("agent-instructions"), v1);
    await saved(s);
    const listed = await ctx.apiCall(s, "agents_list", { filter: name, include_archived: false });
    if (listed.length !== 1) throw new Error(`expected one agent named ${name}, got ${JSON.stringify(listed)}`);
    const id = listed[0].id;
    await waitIndicator(s, "off");
    await openPanel(s);
    await s.waitFor(tid("sync-off-note"), 15_000);
    await poll(`the agent ${id} pending in the sync panel`, async () => (await attr(s, tid(`sync-item-${id}`), "data-status")) === "pending");
    await clickCss(s, tid("sync-now"));
    await poll("the report to say nothing was sent", async () => (await attr(s, tid("sync-report"), "data-blocked")) === "true");
    await shot("sync-01-off-pending.png");
    log(`no consent: "${name}" (${id}) waits, the indicator says off`);

    // --- 2. Consent granted: the agent goes up, the other device pulls it. ---
    await clickCss(s, tid("sync-open-consent"));
    await clickCss(s, tid("consent-toggle-developer_data_hosting"));
    await poll("the hosting consent to be granted", async () => (await attr(s, tid("purpose-developer_data_hosting"), "data-granted")) === "true");
    await shot("sync-02-consent-granted.png");
    await openPanel(s);
    await clickCss(s, tid("sync-now"));
    await waitSynced(s, ctx, id, 60_000);
    await poll(`the agent ${id} gone from the not-synced list`, async () => (await s.findAll(tid(`sync-item-${id}`))).length === 0);
    await shot("sync-03-synced.png");
    log("consent granted: the indicator says synced");

    cli(c, ["login", "--login", ctx.account.name, "--password-stdin", "--accept-policy"], { input: `${ctx.account.password}\n` });
    cli(c, ["consent", "grant", "developer_data_hosting"]);
    const pulled = cli(c, ["sync"], { json: true });
    const there = cli(c, ["agents", "show", id], { json: true });
    if (there.instructions !== v1) throw new Error(`the CLI device pulled ${JSON.stringify(there.instructions)} (report ${JSON.stringify(pulled)})`);
    log(`the CLI device pulled the agent (${JSON.stringify(pulled)})`);

    // --- 2b. Offline for real: the platform stops, the agent is edited, the platform comes back
    // on the same port and the edit goes up without a click. ---
    await ctx.stopPlatform();
    await openAgent(s, id);
    const offlineText = `${v1}\nThank them.`;
    await setValue(s, tid("agent-instructions"), offlineText);
    await saved(s);
    await waitIndicator(s, "offline", 90_000);
    await shot("sync-02b-offline-edited.png");
    log("platform stopped: the edit is kept, the indicator says offline");
    await ctx.restartPlatform();
    await waitSynced(s, ctx, id, 120_000);
    await shot("sync-02c-back-online-synced.png");
    cli(c, ["sync"], { json: true });
    const afterOffline = cli(c, ["agents", "show", id], { json: true });
    if (afterOffline.instructions !== offlineText) {
      throw new Error(`after coming online the CLI device has ${JSON.stringify(afterOffline.instructions)}`);
    }
    log("platform back: the offline edit was synced by itself and the CLI device pulled it");

    // --- 3. The same line edited on both devices: a conflict settled in the UI. ---
    await openAgent(s, id);
    await switchAgentSync(s, "off");
    const mine = "Greet the user.\nAnswer in English.\nSign off.";
    await setValue(s, tid("agent-instructions"), mine);
    await saved(s);
    await shot("sync-04-agent-off-edited.png");

    const theirs = "Greet the user.\nAnswer in Chinese.\nSign off.";
    cli(c, ["agents", "edit", id, "--instructions", theirs]);
    const pushed = cli(c, ["sync"], { json: true });
    if (pushed.pushed !== 1) throw new Error(`the CLI device did not push its edit: ${JSON.stringify(pushed)}`);
    log("the CLI device pushed a conflicting edit of the same line");
    // A background pass (every 5 s) must not take the platform's text over the local edit.
    await sleep(6_000);
    const still = await ctx.apiCall(s, "agent_get", { id });
    if (still.instructions !== mine) throw new Error(`with sync off, the local edit was replaced by ${JSON.stringify(still.instructions)}`);

    await switchAgentSync(s, "on");
    await clickCss(s, tid("sync-indicator-now"));
    await waitIndicator(s, "conflicts", 60_000);
    await shot("sync-05-conflict-indicator.png");
    await openPanel(s);
    const panel = tid(`sync-conflict-${id}`);
    await s.waitFor(panel, 20_000);
    const merged = `${panel} ${tid("conflict-merged")}`;
    const prefilled = await s.execute(`return document.querySelector(arguments[0]).value;`, [merged]);
    if (!prefilled.includes("<<<<<<<")) throw new Error(`the merged text has no conflict markers: ${JSON.stringify(prefilled)}`);
    const useMerged = `${panel} ${tid("conflict-use-merged")}`;
    const disabled = () => s.execute(`return document.querySelector(arguments[0]).disabled;`, [useMerged]);
    if (!(await disabled())) throw new Error("'Use merged text' is enabled while conflict markers remain");
    const texts = await s.execute(
      `const p = document.querySelector(arguments[0]);
       return ["mine", "theirs", "base"].map((k) => p.querySelector('[data-testid="conflict-' + k + '"]').textContent);`,
      [panel],
    );
    if (texts[0] !== mine || texts[1] !== theirs || texts[2] !== offlineText) throw new Error(`the conflict shows ${JSON.stringify(texts)}`);
    await shot("sync-06-conflict.png");

    const resolved = "Greet the user.\nAnswer in English or Chinese, as the user writes.\nSign off.";
    await setValue(s, merged, resolved);
    await poll("'Use merged text' to be enabled", async () => !(await disabled()));
    await shot("sync-07-merged-edited.png");
    await clickCss(s, useMerged);
    await poll("the conflict to be gone", async () => (await s.findAll(panel)).length === 0, { timeoutMs: 30_000 });
    await waitSynced(s, ctx, id, 60_000);
    await shot("sync-08-resolved.png");
    const here = await ctx.apiCall(s, "agent_get", { id });
    if (here.instructions !== resolved) throw new Error(`the app kept ${JSON.stringify(here.instructions)}`);

    const after = cli(c, ["sync"], { json: true });
    const final = cli(c, ["agents", "show", id], { json: true });
    if (final.instructions !== resolved) {
      throw new Error(`the CLI device has ${JSON.stringify(final.instructions)} after pulling (${JSON.stringify(after)})`);
    }
    log("conflict settled with the merged text in the app; the CLI device pulled it");
    // Leave the app where the flows after this one expect it: on the privacy section.
    await clickCss(s, tid("privacy-open"));
    await s.waitFor(tid("privacy-tab-rights"), 15_000);
  } finally {
    await rm(deviceDir, { recursive: true, force: true });
  }
}
