// Words for the PII scanner's findings: kind names and places in the UI language. The UI only
// ever receives masked values (`138****5678`); the raw text never leaves the command surface.
import type { PiiKind, PiiSummary, StoredFinding } from "../api/bindings";
import { t } from "../i18n/i18n.svelte";

export const PII_KINDS = [
  "mobile_cn",
  "resident_id",
  "email",
  "bank_card",
  "ipv4",
  "ipv6",
  "name",
  "address",
] as const satisfies readonly PiiKind[];

/** A kind in words ("Mobile number"). */
export function kindName(kind: PiiKind): string {
  return t(`pii.kind.${kind}`);
}

/** Where a finding is: `row 3, column email` in a table, `line 12, column 4` in text. */
export function findingPlace(f: StoredFinding): string {
  if (f.field !== null) return t("pii.at.cell", { row: f.line, column: f.field });
  if (f.line > 0 && f.column > 0) return t("pii.at.text", { line: f.line, column: f.column });
  if (f.line > 0) return t("pii.at.line", { line: f.line });
  return f.location;
}

/** The kinds found, in the catalogue's order, with their counts. */
export function kindCounts(summary: PiiSummary): { kind: PiiKind; count: number }[] {
  return PII_KINDS.map((kind) => ({ kind, count: summary.by_kind[kind] ?? 0 })).filter((k) => k.count > 0);
}

/** "2 mobile numbers, 1 resident ID number" in short form for lists. */
export function kindsSentence(summary: PiiSummary): string {
  return kindCounts(summary)
    .map((k) => `${kindName(k.kind)} × ${k.count}`)
    .join(", ");
}

/** An empty summary (nothing found). */
export function noPii(): PiiSummary {
  return { total: 0, by_kind: {}, findings: [] };
}
