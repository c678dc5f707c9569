// Words for datasets and tables: formats, encodings, delimiters and column types.
import type { ColumnType, DatasetFormat, SourceEncoding } from "../api/bindings";
import { t } from "../i18n/i18n.svelte";

export function formatName(f: DatasetFormat): string {
  return { txt: "Text", markdown: "Markdown", csv: "CSV", json: "JSON", jsonl: "JSON Lines" }[f];
}

export function encodingName(e: SourceEncoding): string {
  return {
    utf8: "UTF-8",
    utf8_bom: t("encoding.utf8Bom"),
    utf16_le: "UTF-16 LE",
    utf16_be: "UTF-16 BE",
    gb18030: t("encoding.gb18030"),
  }[e];
}

export function typeName(ty: ColumnType): string {
  return t(`coltype.${ty}`);
}

export function delimiterName(d: string): string {
  if (d === ",") return t("delimiter.comma");
  if (d === ";") return t("delimiter.semicolon");
  if (d === "\t") return t("delimiter.tab");
  if (d === "|") return t("delimiter.pipe");
  return d === "" ? "—" : `“${d}”`;
}

/** The file name without its extension (a default name). */
export function stem(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}
