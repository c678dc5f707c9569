// Table cells in the UI: the text a cell shows and edits, and the same type rules the command
// surface applies (awf-ingest `typed_cell`), so the grid can mark a cell at once. The command
// surface stays the judge: it checks every cell again when rows are saved or a CSV is imported.
import type { ColumnType } from "../api/bindings";
import { t } from "../i18n/i18n.svelte";

export const COLUMN_TYPES = ["text", "integer", "number", "boolean", "date"] as const satisfies readonly ColumnType[];

/** The text of a stored (typed) cell: empty for null. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const I64_MAX = 9223372036854775807n;

function isBool(s: string): boolean {
  if (s === "是" || s === "否" || s === "1" || s === "0") return true;
  return ["true", "false", "yes", "no"].includes(s.toLowerCase());
}

function dateProblem(s: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return t("cells.date");
  const [y, m, d] = s.split("-").map(Number) as [number, number, number];
  if (y === 0) return t("cells.dateYear");
  if (m < 1 || m > 12) return t("cells.dateMonth");
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = m === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
  if (d < 1 || d > days) return t("cells.dateDay", { days });
  return null;
}

/** Why `raw` does not fit `type`, or null when it does (empty is always allowed: null). */
export function cellProblem(type: ColumnType, raw: string): string | null {
  if (raw === "" || type === "text") return null;
  const cell = raw.trim();
  if (cell === "") return null;
  switch (type) {
    case "integer": {
      if (!INTEGER.test(cell)) return DECIMAL.test(cell) ? t("cells.integerDecimal") : t("cells.integer");
      const big = BigInt(cell);
      return big > I64_MAX || big < -I64_MAX ? t("cells.integerRange") : null;
    }
    case "number":
      if (DECIMAL.test(cell)) return Number.isFinite(Number(cell)) ? null : t("cells.numberLarge");
      return cell.includes(",") && DECIMAL.test(cell.replace(",", ".")) ? t("cells.numberComma") : t("cells.number");
    case "boolean":
      return isBool(cell) ? null : t("cells.boolean");
    case "date":
      return dateProblem(cell);
  }
}

/** A problem found in a grid or preview, by row (1-based) and column. */
export interface CellIssue {
  row: number;
  column: string;
  columnIndex: number;
  value: string;
  message: string;
}

/** Every cell of `rows` that does not fit its column's type. */
export function findIssues(columns: readonly { name: string; type: ColumnType }[], rows: readonly string[][]): CellIssue[] {
  const out: CellIssue[] = [];
  rows.forEach((row, r) => {
    columns.forEach((c, j) => {
      const value = row[j] ?? "";
      const message = cellProblem(c.type, value);
      if (message) out.push({ row: r + 1, column: c.name, columnIndex: j, value, message });
    });
  });
  return out;
}

/** `rows[3].age` (a table error's field) as row 3, column `age`; null for other fields. */
export function cellOfField(field: string | null): { row: number; column: string } | null {
  const m = field ? /^rows\[(\d+)\]\.(.*)$/.exec(field) : null;
  return m ? { row: Number(m[1]), column: m[2]! } : null;
}
