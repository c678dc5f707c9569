// Text helpers of the privacy section: the backend's bilingual texts in the UI language, and
// localized names for the platform's data categories.
import type { Bilingual, LedgerProblem, Purpose } from "../api/bindings";
import { i18n, t } from "../i18n/i18n.svelte";
import { numberFormat } from "../shared/time";

export const PURPOSES = [
  "service_information",
  "account_operation",
  "security_device_info",
  "usage_analytics",
  "crash_reports",
  "marketing",
  "research",
  "developer_data_hosting",
  "cross_border_transfer",
  "third_party_sharing",
] as const satisfies readonly Purpose[];

/** The text in the UI language. */
export function bi(text: Bilingual): string {
  return i18n.locale === "zh-CN" ? text.zh_cn : text.en;
}

function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}

/** `account`, `telemetry:usage_analytics`, … as the user reads them; unknown ones as given. */
export function categoryName(category: string): string {
  if (category === "account") return t("held.cat.account");
  if (category === "sessions") return t("held.cat.sessions");
  if (category === "consent_receipts") return t("held.cat.consent_receipts");
  const m = /^telemetry:(\w+)$/.exec(category);
  if (m && isPurpose(m[1]!)) return t("held.cat.telemetry", { purpose: t(`purpose.${m[1] as Purpose}`) });
  return category;
}

/** What `consent_verify` found, in a sentence naming the entry. */
export function problemText(problem: LedgerProblem): string {
  switch (problem.kind) {
    case "edited":
      return t("ledger.problem.edited", { seq: problem.seq });
    case "removed":
      return t("ledger.problem.removed", { seq: problem.seq });
    case "reordered":
      return t("ledger.problem.reordered", { seq: problem.seq });
    case "truncated":
      return t("ledger.problem.truncated", { expected: problem.expected_last, found: problem.found_last });
  }
}

const LOCAL_CATEGORIES = [
  "agents",
  "instruction_revisions",
  "consent_ledger",
  "transmission_log",
  "telemetry_queue",
  "platform_tokens",
  "platform_cookies",
  "plugins",
  "plugin_secrets",
  "datasets",
  "tables",
  "search_history",
] as const;

/** A local inventory category (`agents`, `transmission_log`, …) in words; unknown ones as given. */
export function localCategoryName(category: string): string {
  return (LOCAL_CATEGORIES as readonly string[]).includes(category)
    ? t(`local.cat.${category as (typeof LOCAL_CATEGORIES)[number]}`)
    : category;
}

/** Bytes as people read them: `0 bytes`, `2 kB`, `1.5 MB` (1 KB = 1,024 bytes). */
export function formatBytes(bytes: number, locale: string = i18n.locale): string {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return numberFormat(locale, {
    style: "unit",
    unit: units[unit],
    unitDisplay: unit === 0 ? "long" : "short",
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}
