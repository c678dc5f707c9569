import { describe, expect, it } from "vitest";
import { absoluteTime, dateTimeFormat, numberFormat, relativeTime, relativeTimeFormat } from "./time";

const NOW = Date.parse("2024-05-10T12:00:00Z");

describe("time", () => {
  it("says how long ago a recent change was, in each unit", () => {
    expect(relativeTime("2024-05-10T11:59:30Z", "en", NOW)).toBe("30 seconds ago");
    expect(relativeTime("2024-05-10T12:00:00Z", "en", NOW)).toBe("now");
    expect(relativeTime("2024-05-10T11:55:00Z", "en", NOW)).toBe("5 minutes ago");
    expect(relativeTime("2024-05-10T09:00:00Z", "en", NOW)).toBe("3 hours ago");
    expect(relativeTime("2024-05-09T12:00:00Z", "en", NOW)).toBe("yesterday");
    expect(relativeTime("2024-05-07T12:00:00Z", "zh-CN", NOW)).toBe(
      new Intl.RelativeTimeFormat("zh-CN", { numeric: "auto" }).format(-3, "day"),
    );
  });

  it("gives a date beyond a week, and the text itself when it is no time", () => {
    const iso = "2024-04-01T08:30:00Z";
    const expected = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" }).format(Date.parse(iso));
    expect(relativeTime(iso, "en", NOW)).toBe(expected);
    expect(absoluteTime(iso, "en")).toBe(expected);
    expect(absoluteTime("not a time", "en")).toBe("not a time");
    expect(relativeTime("not a time", "en", NOW)).toBe("not a time");
  });

  it("builds each formatter once per locale and options", () => {
    expect(relativeTimeFormat("en")).toBe(relativeTimeFormat("en"));
    expect(relativeTimeFormat("en")).not.toBe(relativeTimeFormat("zh-CN"));
    expect(dateTimeFormat("en")).toBe(dateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" }));
    expect(dateTimeFormat("en")).not.toBe(dateTimeFormat("en", { dateStyle: "short" }));
    expect(numberFormat("en", { style: "unit", unit: "byte" })).toBe(numberFormat("en", { style: "unit", unit: "byte" }));
    expect(numberFormat("en", { style: "unit", unit: "byte" })).not.toBe(numberFormat("en", { style: "unit", unit: "kilobyte" }));
  });
});
