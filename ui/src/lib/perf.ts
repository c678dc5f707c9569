// The first-interactive-paint mark of the start-up benchmark (`cargo xtask bench startup`,
// docs/PERFORMANCE.md). Studio's first screen is interactive when the workspace's agent list
// shows its rows (or its empty state): the profile is open and the list can be used. Two
// animation frames after that content entered the document, it has been painted. The mark is
// recorded with `performance.mark` everywhere and, in the desktop app, reported to the shell's
// `perf_mark` command, which prints it for the benchmark only when AWF_PERF_MARK=1.
import { invoke, isTauri } from "@tauri-apps/api/core";

/** The elements whose presence makes the first screen interactive. */
export const FIRST_SCREEN_READY = '[data-testid="agent-row"], [data-testid="empty-state"]';

/** The name of the `performance` mark. */
export const FIRST_PAINT_MARK = "awf:first-interactive-paint";

/** The prefix of the start-up phases' marks (and of the first paint's). */
const PHASE_PREFIX = "awf:";

/**
 * Marks a start-up phase once (the script evaluated, the profile open, the agent list answered):
 * the benchmark prints the phases beside the first paint, so it says where the page's time goes.
 */
export function markPhase(name: string): void {
  const mark = PHASE_PREFIX + name;
  if (performance.getEntriesByName(mark, "mark").length === 0) performance.mark(mark);
}

/** The phases marked so far as `name=ms` pairs (ms since navigation start), in time order. */
export function phases(): string {
  return performance
    .getEntriesByType("mark")
    .filter((m) => m.name.startsWith(PHASE_PREFIX) && m.name !== FIRST_PAINT_MARK)
    .sort((a, b) => a.startTime - b.startTime)
    .map((m) => `${m.name.slice(PHASE_PREFIX.length)}=${m.startTime.toFixed(1)}`)
    .join(",");
}

/** Resolves after the next frame containing the current document has been painted. */
function afterNextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
}

/** Resolves when `selector` matches an element of `root`, now or after a later change. */
function whenPresent(root: ParentNode & Node, selector: string): Promise<void> {
  return new Promise((resolve) => {
    if (root.querySelector(selector)) return resolve();
    const observer = new MutationObserver(() => {
      if (!root.querySelector(selector)) return;
      observer.disconnect();
      resolve();
    });
    observer.observe(root, { childList: true, subtree: true });
  });
}

/**
 * Marks the first interactive paint once, when the first screen is ready; `report` receives the
 * time since navigation start in milliseconds and the phases before it (the Tauri command by
 * default).
 */
export async function markFirstInteractivePaint(
  root: ParentNode & Node = document.body,
  report: (ms: number, phases: string) => Promise<unknown> = (ms, phases) =>
    isTauri() ? invoke("perf_mark", { ms, phases }) : Promise.resolve(),
): Promise<number> {
  await whenPresent(root, FIRST_SCREEN_READY);
  await afterNextPaint();
  const ms = performance.now();
  performance.mark(FIRST_PAINT_MARK);
  await report(ms, phases()).catch(() => undefined);
  return ms;
}
