import { afterEach, describe, expect, it } from "vitest";
import { FIRST_PAINT_MARK, markFirstInteractivePaint, markPhase, phases } from "./perf";

describe("start-up phases", () => {
  afterEach(() => performance.clearMarks());

  it("marks each phase once and lists them in time order, without the first paint", () => {
    markPhase("script");
    markPhase("profile-ready");
    markPhase("script");
    performance.mark(FIRST_PAINT_MARK);
    performance.mark("someone-else");
    const listed = phases().split(",");
    expect(listed.map((p) => p.split("=")[0])).toEqual(["script", "profile-ready"]);
    for (const p of listed) expect(Number(p.split("=")[1])).toBeGreaterThanOrEqual(0);
  });

  it("reports the first paint with the phases before it", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    markPhase("agent-list");
    const reported: [number, string][] = [];
    const done = markFirstInteractivePaint(root, async (ms, p) => void reported.push([ms, p]));
    const row = document.createElement("button");
    row.dataset.testid = "agent-row";
    root.append(row);
    const ms = await done;
    expect(reported).toHaveLength(1);
    expect(reported[0]![0]).toBe(ms);
    expect(reported[0]![1]).toMatch(/^agent-list=\d+(\.\d)?$/);
    root.remove();
  });
});
