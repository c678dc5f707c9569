import { describe, expect, it } from "vitest";
import { i18n, t } from "./i18n.svelte";

describe("messages", () => {
  it("pick the English singular or plural by the count", () => {
    i18n.locale = "en";
    expect(t("plugins.toolsCount", { count: 1 })).toBe("1 tool");
    expect(t("plugins.toolsCount", { count: 3 })).toBe("3 tools");
    expect(t("tables.ragged.row", { line: 4, found: 1, expected: 5 })).toBe("Line 4: 1 field, the header has 5");
    i18n.locale = "zh-CN";
    expect(t("plugins.toolsCount", { count: 1 })).toBe("1 个工具");
    i18n.locale = "en";
  });
});
