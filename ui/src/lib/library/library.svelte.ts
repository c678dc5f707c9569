// Changes to the library (plugins, datasets, tables): views that show lists of them elsewhere
// (the agent editor's pickers) re-read them when `version` moves.
class LibraryChanges {
  version = $state(0);

  /** Says that a plugin, dataset or table was added, changed or deleted. */
  changed(): void {
    this.version += 1;
  }
}

export const library = new LibraryChanges();

/** Something a search result or a link asks to open. */
export interface OpenRequest {
  kind: "agent" | "plugin" | "dataset" | "table";
  id: string;
  /** Bumped by every request, so asking twice for the same item opens it again. */
  seq: number;
}

/** A fresh id for a progress job (`dataset_import` with `job`). */
export function jobId(): string {
  const random =
    typeof crypto !== "undefined" && "randomUUID" in crypto
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `ui-${random}`;
}
