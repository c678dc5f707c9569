// What the agent editor's pickers offer: the plugins, datasets and tables of this profile.
import type { Api } from "../api/client";
import { t } from "../i18n/i18n.svelte";

/** One item that can be linked to an agent. */
export interface PickOption {
  id: string;
  name: string;
  /** Shown after the name (`3 tools`, `CSV · 12 chunks`). */
  detail: string;
  /** Options with the same group are listed together under it. */
  group?: string;
}

export interface LinkOptions {
  plugins: PickOption[];
  data: PickOption[];
}

/** Reads the plugins, datasets and tables as picker options. */
export async function loadLinkOptions(api: Api): Promise<LinkOptions> {
  const [plugins, datasets, tables] = await Promise.all([api.pluginsList(), api.datasetsList(), api.tablesList()]);
  return {
    plugins: plugins.map((p) => ({ id: p.id, name: p.name, detail: t("plugins.toolsCount", { count: p.tool_count }) })),
    data: [
      ...datasets.map((d) => ({
        id: d.id,
        name: d.name,
        detail: t("links.dataset", { count: d.chunk_count }),
        group: t("data.datasets"),
      })),
      ...tables.map((tb) => ({
        id: tb.id,
        name: tb.name,
        detail: t("links.table", { count: tb.row_count }),
        group: t("data.tables"),
      })),
    ],
  };
}
