// Exporting an agent's portable bundle: to a path chosen in the native save dialog (desktop),
// or as a download (browser: the command surface returns the bytes in base64).
import type { Api } from "../api/client";
import type { BundleExported, Summary } from "../api/bindings";
import { t } from "../i18n/i18n.svelte";
import { downloadBase64, hasNativeDialogs, saveWithDialog, type FileFilter } from "../shared/files";
import { formatBytes } from "../privacy/text";

/** The bundle file extension (awf-core `bundle::EXTENSION`). */
export const BUNDLE_EXTENSION = "awfbundle";
export const BUNDLE_FILTERS: FileFilter[] = [{ name: "AiWellFlow agent bundle", extensions: [BUNDLE_EXTENSION] }];

/** The file name the command surface suggests for an agent (same rule as `bundle_export`). */
export function suggestedFileName(agentName: string): string {
  const safe = [...agentName].map((c) => (/[\p{L}\p{N}_-]/u.test(c) ? c : "-")).join("");
  return `${safe.replace(/^-+|-+$/g, "") || "agent"}.${BUNDLE_EXTENSION}`;
}

/** What an export did: where it went, and what the bundle holds. */
export interface ExportOutcome {
  exported: BundleExported;
  /** The path written (desktop) or the downloaded file's name (browser). */
  where: string;
  downloaded: boolean;
}

/** Exports the agent; null when the user cancelled the save dialog. */
export async function exportBundle(api: Api, agentId: string, agentName: string): Promise<ExportOutcome | null> {
  if (hasNativeDialogs()) {
    const path = await saveWithDialog(t("bundles.export.dialogTitle"), suggestedFileName(agentName), BUNDLE_FILTERS);
    if (!path) return null;
    const exported = await api.bundleExport(agentId, path);
    return { exported, where: exported.path ?? path, downloaded: false };
  }
  const exported = await api.bundleExport(agentId, null);
  if (exported.base64 === null) throw new Error("the bundle came back without its bytes");
  downloadBase64(exported.file_name, exported.base64, "application/zip");
  return { exported, where: exported.file_name, downloaded: true };
}

/** "3 revisions, 1 plugin, 0 datasets, 1 table (12 kB)" */
export function summaryText(s: Summary): string {
  return t("bundles.summary", {
    revisions: s.revisions,
    plugins: s.plugins,
    datasets: s.datasets,
    tables: s.tables,
    size: formatBytes(s.bytes),
  });
}
