// The library side of the fake backend (plugins, datasets, tables, PII, search, bundles): close
// enough to the command surface's contract for the UI's behaviour to be exercised. OpenAPI
// documents are read as JSON only; CSV is split on commas (no quoting); PII is found with the
// same kinds and masks as the real scanner for mobile numbers, resident IDs (checksum checked)
// and email addresses.
import type { RequestOf } from "../backend";
import type {
  Agent,
  ApiError,
  BundleCheck,
  Column,
  ColumnType,
  CsvPreview,
  Dataset,
  FileInput,
  HistoryEntry,
  ImportedApi,
  PiiSummary,
  Plugin,
  Problem,
  SearchHit,
  StoredFinding,
  Table,
  Tool,
  ToolParameter,
} from "../bindings";
import { cellProblem } from "../../data/cells";

function fail(code: ApiError["code"], message: string, field: string | null = null, hint: string | null = null): never {
  throw { code, message, hint, field } satisfies ApiError;
}

/** Returned by `dispatch` for commands this module does not handle. */
export const NOT_MINE = Symbol("not mine");

/** What the library needs of the rest of the fake backend. */
export interface FakeHost {
  agents: Map<string, Agent>;
  now(): string;
  /** Stores an agent as given (bundle import). */
  putAgent(agent: Agent): void;
}

const textOf = (f: FileInput): string => {
  if (f.text !== undefined) return f.text;
  if (f.base64 !== undefined) return new TextDecoder().decode(Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0)));
  fail("io", `cannot read ${f.path ?? f.name}: the fake backend reads no paths`, "path");
};

// --- PII ----------------------------------------------------------------------------------------

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

export function residentIdValid(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17];
}

const PATTERNS: { kind: StoredFinding["kind"]; re: RegExp; mask: (s: string) => string; valid?: (s: string) => boolean }[] = [
  { kind: "resident_id", re: /(?<!\d)\d{17}[\dX](?![\dX])/g, mask: (s) => `${s.slice(0, 6)}********${s.slice(14)}`, valid: residentIdValid },
  { kind: "mobile_cn", re: /(?<!\d)1[3-9]\d{9}(?!\d)/g, mask: (s) => `${s.slice(0, 3)}****${s.slice(7)}` },
  { kind: "email", re: /[\w.+-]+@[\w-]+(\.[\w-]+)+/g, mask: (s) => `${s[0]}***${s.slice(s.indexOf("@"))}` },
];

function scanInto(summary: PiiSummary, text: string, place: (offset: number) => { line: number; column: number; field: string | null }) {
  const taken: [number, number][] = [];
  for (const p of PATTERNS) {
    for (const m of text.matchAll(p.re)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (taken.some(([a, b]) => start < b && end > a)) continue;
      if (p.valid && !p.valid(m[0])) continue;
      taken.push([start, end]);
      const at = place(start);
      summary.total += 1;
      summary.by_kind[p.kind] = (summary.by_kind[p.kind] ?? 0) + 1;
      summary.findings.push({
        kind: p.kind,
        location: at.field ? `row ${at.line}, column ${at.field}` : `line ${at.line}, column ${at.column}`,
        line: at.line,
        column: at.column,
        field: at.field,
        masked: p.mask(m[0]),
      });
    }
  }
}

export function scanText(text: string): PiiSummary {
  const summary: PiiSummary = { total: 0, by_kind: {}, findings: [] };
  scanInto(summary, text, (offset) => {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    return { line, column: offset - before.lastIndexOf("\n"), field: null };
  });
  return summary;
}

function scanRows(columns: Column[], rows: unknown[][]): PiiSummary {
  const summary: PiiSummary = { total: 0, by_kind: {}, findings: [] };
  rows.forEach((row, r) =>
    row.forEach((cell, j) => {
      if (typeof cell !== "string" && typeof cell !== "number") return;
      scanInto(summary, String(cell), () => ({ line: r + 1, column: 0, field: columns[j]?.name ?? "" }));
    }),
  );
  return summary;
}

// --- OpenAPI (JSON only) ------------------------------------------------------------------------

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
const pointer = (...parts: string[]) => `/${parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

function specError(name: string, at: string, why: string, line = 1): never {
  fail("invalid_file", `\`${name}\`: at ${at} (line ${line}): ${why}`, at, "Correct the file at the place named and import it again; nothing was saved.");
}

export function parseOpenApi(name: string, text: string): ImportedApi {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    const line = (/line (\d+)/.exec(String(e))?.[1] ?? "1") as string;
    specError(name, "/", `invalid JSON: ${e instanceof Error ? e.message : String(e)}`, Number(line));
  }
  const version = typeof doc.openapi === "string" ? doc.openapi : typeof doc.swagger === "string" ? doc.swagger : null;
  if (!version) specError(name, "/", "neither `openapi` nor `swagger` says which version this is");
  const info = (doc.info ?? {}) as Record<string, unknown>;
  if (typeof info.title !== "string") specError(name, "/info/title", "missing: every document has a title");
  const paths = doc.paths as Record<string, Record<string, unknown>> | undefined;
  if (!paths || typeof paths !== "object") specError(name, "/paths", "missing: the document declares no paths");
  const resolve = (value: unknown, at: string): Record<string, unknown> => {
    const v = value as Record<string, unknown>;
    if (typeof v?.$ref !== "string") return v;
    const target = v.$ref.startsWith("#/")
      ? v.$ref
          .slice(2)
          .split("/")
          .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc)
      : undefined;
    if (!v.$ref.startsWith("#/")) specError(name, `${at}/$ref`, `$ref \`${v.$ref}\` points outside the document (external references are refused)`);
    if (target === undefined) specError(name, `${at}/$ref`, `$ref \`${v.$ref}\` points at nothing`);
    return target as Record<string, unknown>;
  };
  const tools: Tool[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Record<string, unknown> | undefined;
      if (!op) continue;
      const at = pointer("paths", path, method);
      const parameters: ToolParameter[] = ((op.parameters ?? []) as unknown[]).map((raw, i) => {
        const p = resolve(raw, `${at}/parameters/${i}`);
        return {
          name: String(p.name),
          location: p.in as ToolParameter["location"],
          required: Boolean(p.required),
          description: String(p.description ?? ""),
          schema: p.schema ?? {},
        };
      });
      tools.push({
        name: typeof op.operationId === "string" ? op.operationId : `${method}_${path.replace(/\W+/g, "_").replace(/^_|_$/g, "")}`,
        method: method.toUpperCase(),
        path,
        summary: String(op.summary ?? ""),
        description: String(op.description ?? ""),
        parameters,
        request_body: null,
        security: [],
      });
    }
  }
  const servers = ((doc.servers ?? []) as { url: string }[]).map((s) => s.url);
  return {
    spec_version: version.startsWith("2") ? "swagger_2" : version.startsWith("3.1") ? "openapi_3_1" : "openapi_3_0",
    title: info.title as string,
    version: String(info.version ?? ""),
    description: String(info.description ?? ""),
    servers,
    tools,
    auth_schemes: [],
    warnings: [],
  };
}

// --- CSV ----------------------------------------------------------------------------------------

interface ParsedCsv {
  header: string[];
  rows: string[][];
  ragged: { line: number; expected: number; found: number }[];
}

function parseCsv(text: string): ParsedCsv {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = (lines[0] ?? "").split(",");
  const rows: string[][] = [];
  const ragged: ParsedCsv["ragged"] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === "") return;
    const cells = line.split(",");
    if (cells.length !== header.length) ragged.push({ line: i + 2, expected: header.length, found: cells.length });
    else rows.push(cells);
  });
  return { header, rows, ragged };
}

function inferType(values: string[]): ColumnType {
  const filled = values.filter((v) => v.trim() !== "");
  if (filled.length === 0) return "text";
  for (const ty of ["integer", "number", "boolean", "date"] as const) {
    if (filled.every((v) => cellProblem(ty, v) === null && !(ty !== "date" && /^0\d/.test(v.trim())))) return ty;
  }
  return "text";
}

/** Checks every cell; throws `invalid_file` naming the first bad cell as `rows[<row>].<column>`. */
function typedRows(columns: Column[], rows: unknown[][]): unknown[][] {
  const problems: string[] = [];
  let field: string | null = null;
  const out = rows.map((row, r) =>
    columns.map((c, j) => {
      const raw = row[j] === null || row[j] === undefined ? "" : String(row[j]);
      const why = cellProblem(c.type, raw);
      if (why) {
        field ??= `rows[${r + 1}].${c.name}`;
        problems.push(`row ${r + 1}, column \`${c.name}\`: ${why}`);
        return null;
      }
      if (raw.trim() === "") return null;
      if (c.type === "integer" || c.type === "number") return Number(raw);
      if (c.type === "boolean") return ["true", "yes", "是", "1"].includes(raw.trim().toLowerCase());
      return raw;
    }),
  );
  if (problems.length > 0) {
    const err = {
      code: "invalid_file",
      message: `${problems.length} cell(s) do not fit their column's type: ${problems.join("; ")}`,
      hint: "Correct the file at the place named and import it again; nothing was saved.",
      field,
    } satisfies ApiError;
    throw err;
  }
  return out;
}

// --- The library --------------------------------------------------------------------------------

export class FakeLibrary {
  plugins = new Map<string, Plugin>();
  datasets = new Map<string, Dataset>();
  datasetTexts = new Map<string, string>();
  tables = new Map<string, Table>();
  tableRows = new Map<string, unknown[][]>();
  history: HistoryEntry[] = [];
  jobs = new Map<string, { done: number; total: number; finished: boolean }>();
  /** Fields a test adds to the next CSV preview (e.g. server-side cell errors). */
  csvPreviewPatch: Partial<CsvPreview> | null = null;
  /** Problems a test makes the next `bundle_check` report. */
  bundleProblems: Problem[] | null = null;
  /** Secrets as the keyring would hold them: never part of any answer. */
  private readonly secrets = new Map<string, string>();
  private seq = 1;

  constructor(private readonly host: FakeHost) {}

  private id(prefix: string): string {
    return `${prefix}-${this.seq++}`;
  }

  /** The secret stored for a plugin (tests check it went in; answers never carry it). */
  secretOf(id: string): string | undefined {
    return this.secrets.get(id);
  }

  /** Adds a plugin as if imported earlier. */
  seedPlugin(name: string, doc: Record<string, unknown>): Plugin {
    return structuredClone(this.importPlugin({ name: `${name}.json`, text: JSON.stringify(doc) }));
  }

  /** Adds a dataset as if imported earlier. */
  seedDataset(name: string, text: string): Dataset {
    return structuredClone(this.importDataset({ name, text }, null));
  }

  /** Adds a table as if created earlier. */
  seedTable(name: string, columns: Column[], rows: unknown[][]): Table {
    const table = this.createTable(name, "", columns);
    return structuredClone(this.replaceRows(table.id, null, rows, null));
  }

  private importPlugin(f: FileInput): Plugin {
    const api = parseOpenApi(f.name, textOf(f));
    const now = this.host.now();
    const plugin: Plugin = {
      id: this.id("plugin"),
      spec: {
        spec_version: api.spec_version,
        title: api.title,
        api_version: api.version,
        source_name: f.name,
        servers: api.servers,
        tools: api.tools,
        auth_schemes: api.auth_schemes,
        warnings: api.warnings,
      },
      secret_set: false,
      created_at: now,
      updated_at: now,
      version: 1,
      name: api.title,
      description: api.description,
      base_url: api.servers[0] ?? "",
      auth: { type: "none" },
      third_party: { is_third_party: false, provider: "", privacy_policy_url: "" },
    };
    this.plugins.set(plugin.id, plugin);
    return plugin;
  }

  private plugin(id: string): Plugin {
    const p = this.plugins.get(id);
    if (!p) fail("not_found", `No plugin with id ${id}.`);
    return p;
  }

  private importDataset(f: FileInput, chunking: Dataset["chunking"] | null): Dataset {
    const ext = f.name.split(".").pop()?.toLowerCase() ?? "";
    const formats: Record<string, Dataset["format"]> = { txt: "txt", md: "markdown", csv: "csv", json: "json", jsonl: "jsonl" };
    const format = formats[ext];
    if (!format) fail("invalid_file", `\`${f.name}\`: .${ext} files are not datasets`, null, "Datasets accept .txt, .md, .csv, .json and .jsonl files.");
    const text = textOf(f);
    const now = this.host.now();
    const c = chunking ?? { max_chars: 800, overlap_chars: 80 };
    const dataset: Dataset = {
      id: this.id("dataset"),
      name: f.name.replace(/\.[^.]+$/, ""),
      description: "",
      source_name: f.name,
      format,
      encoding: "utf8",
      bytes: new TextEncoder().encode(text).length,
      sha256: "0".repeat(64),
      chunking: c,
      chunk_count: Math.max(1, Math.ceil(text.length / c.max_chars)),
      pii: scanText(text),
      created_at: now,
      updated_at: now,
      version: 1,
    };
    this.datasets.set(dataset.id, dataset);
    this.datasetTexts.set(dataset.id, text);
    return dataset;
  }

  private dataset(id: string): Dataset {
    const d = this.datasets.get(id);
    if (!d) fail("not_found", `No dataset with id ${id}.`);
    return d;
  }

  private createTable(name: string, description: string, columns: Column[]): Table {
    if (name.trim() === "") fail("invalid_input", "must not be empty", "name");
    if (columns.length === 0) fail("invalid_input", "a table needs at least one column", "columns");
    const now = this.host.now();
    const table: Table = {
      id: this.id("table"),
      name: name.trim(),
      description,
      columns: structuredClone(columns),
      row_count: 0,
      source_name: null,
      pii: { total: 0, by_kind: {}, findings: [] },
      created_at: now,
      updated_at: now,
      version: 1,
    };
    this.tables.set(table.id, table);
    this.tableRows.set(table.id, []);
    return table;
  }

  private table(id: string): Table {
    const tb = this.tables.get(id);
    if (!tb) fail("not_found", `No table with id ${id}.`);
    return tb;
  }

  private replaceRows(id: string, columns: Column[] | null, rows: unknown[][], expected: number | null): Table {
    const tb = this.table(id);
    if (expected !== null && expected !== tb.version) fail("conflict", "This table was changed elsewhere.");
    const cols = columns ?? tb.columns;
    const typed = typedRows(cols, rows);
    tb.columns = structuredClone(cols);
    tb.row_count = typed.length;
    tb.pii = scanRows(cols, typed);
    tb.version += 1;
    tb.updated_at = this.host.now();
    this.tableRows.set(id, typed);
    return tb;
  }

  private detach(id: string) {
    for (const a of this.host.agents.values()) {
      a.plugin_ids = a.plugin_ids.filter((x) => x !== id);
      a.dataset_ids = a.dataset_ids.filter((x) => x !== id);
    }
  }

  private csvPreview(f: FileInput): CsvPreview {
    const parsed = parseCsv(textOf(f));
    const empty: PiiSummary = { total: 0, by_kind: {}, findings: [] };
    if (parsed.ragged.length > 0) {
      return {
        encoding: "utf8",
        delimiter: "",
        columns: [],
        row_count: 0,
        rows: [],
        ragged: parsed.ragged,
        cell_errors: [],
        pii: empty,
        error: `${parsed.ragged.length} row(s) have the wrong number of fields`,
        ...this.takePatch(),
      };
    }
    const columns = parsed.header.map((name, j) => ({ name, type: inferType(parsed.rows.map((r) => r[j] ?? "")) }));
    return {
      encoding: "utf8",
      delimiter: ",",
      columns,
      row_count: parsed.rows.length,
      rows: parsed.rows.slice(0, 20),
      ragged: [],
      cell_errors: [],
      pii: scanRows(columns, parsed.rows),
      error: null,
      ...this.takePatch(),
    };
  }

  private takePatch(): Partial<CsvPreview> {
    const patch = this.csvPreviewPatch ?? {};
    this.csvPreviewPatch = null;
    return patch;
  }

  private search(query: string, limit: number): SearchHit[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const hits: SearchHit[] = [];
    const push = (kind: SearchHit["kind"], id: string, title: string, field: string, text: string) => {
      if (!text.toLowerCase().includes(q)) return false;
      hits.push({ kind, id, title, snippet: text, field });
      return true;
    };
    for (const a of this.host.agents.values()) void (push("agent", a.id, a.name, "name", a.name) || push("agent", a.id, a.name, "description", a.description));
    for (const p of this.plugins.values()) {
      void (push("plugin", p.id, p.name, "name", p.name) || push("plugin", p.id, p.name, "description", p.description));
      for (const tool of p.spec.tools) push("tool", p.id, `${p.name} · ${tool.name}`, "tool", tool.name);
    }
    for (const d of this.datasets.values()) push("dataset", d.id, d.name, "name", d.name);
    for (const tb of this.tables.values()) void (push("table", tb.id, tb.name, "name", tb.name) || tb.columns.some((c) => push("table", tb.id, tb.name, "column", c.name)));
    return hits.slice(0, limit);
  }

  private bundleOf(agentId: string): string {
    const agent = this.host.agents.get(agentId);
    if (!agent) fail("not_found", `No agent with id ${agentId}.`);
    const plugins = agent.plugin_ids.map((id) => this.plugins.get(id)).filter((p) => p !== undefined);
    return JSON.stringify({ format: "fake-bundle", agent, plugins: plugins.map((p) => ({ ...p, secret_set: false })) });
  }

  private readBundle(f: FileInput): { problems: Problem[]; bundle: { agent: Agent; plugins: Plugin[] } | null; bytes: number } {
    const text = textOf(f);
    if (this.bundleProblems) {
      const problems = this.bundleProblems;
      this.bundleProblems = null;
      return { problems, bundle: null, bytes: text.length };
    }
    try {
      const b = JSON.parse(text) as { format?: string; agent?: Agent; plugins?: Plugin[] };
      const problems: Problem[] = [];
      if (b.format !== "fake-bundle") problems.push({ place: "bundle.json: /format", message: "not an AiWellFlow agent bundle" });
      if (!b.agent?.id) problems.push({ place: "bundle.json: /agent/id", message: "missing" });
      return { problems, bundle: problems.length ? null : { agent: b.agent!, plugins: b.plugins ?? [] }, bytes: text.length };
    } catch {
      return { problems: [{ place: "(archive)", message: "not a ZIP archive" }], bundle: null, bytes: text.length };
    }
  }

  dispatch(command: string, request: unknown): unknown {
    switch (command) {
      case "plugin_preview": {
        const f = request as FileInput;
        try {
          return parseOpenApi(f.name, textOf(f));
        } catch (e) {
          // As the command surface: the preview's error names the place in its message only.
          throw { ...(e as ApiError), field: null };
        }
      }
      case "plugin_import":
        return this.importPlugin(request as FileInput);
      case "plugins_list":
        return [...this.plugins.values()]
          .sort((a, b) => b.updated_at.localeCompare(a.updated_at))
          .map((p) => ({
            id: p.id,
            name: p.name,
            description: p.description,
            tool_count: p.spec.tools.length,
            is_third_party: p.third_party.is_third_party,
            auth: p.auth.type,
            secret_set: p.secret_set,
            updated_at: p.updated_at,
          }));
      case "plugin_get":
        return this.plugin((request as { id: string }).id);
      case "plugin_update": {
        const r = request as RequestOf<"plugin_update">;
        const p = this.plugin(r.id);
        if (r.expected_version !== null && r.expected_version !== p.version) fail("conflict", "This plugin was changed elsewhere.");
        const d = r.draft;
        if (d.name.trim() === "") fail("invalid_input", "must not be empty", "name");
        if (d.third_party.is_third_party) {
          if (d.third_party.provider.trim() === "") fail("invalid_input", "a third-party service must name its provider", "third_party.provider");
          if (!d.third_party.privacy_policy_url.startsWith("https://"))
            fail("invalid_input", "must be an https:// address", "third_party.privacy_policy_url");
        }
        Object.assign(p, structuredClone(d));
        p.version += 1;
        p.updated_at = this.host.now();
        return p;
      }
      case "plugin_set_secret": {
        const r = request as RequestOf<"plugin_set_secret">;
        const p = this.plugin(r.id);
        if (r.secret === null) this.secrets.delete(r.id);
        else {
          if (p.auth.type === "none") fail("invalid_input", "this plugin's auth method is `none`: it takes no secret", "secret");
          if (r.secret.trim() === "") fail("invalid_input", "must not be empty", "secret");
          this.secrets.set(r.id, r.secret);
        }
        p.secret_set = this.secrets.has(r.id);
        p.version += 1;
        p.updated_at = this.host.now();
        return p;
      }
      case "plugin_delete": {
        const { id } = request as { id: string };
        this.plugin(id);
        this.plugins.delete(id);
        this.secrets.delete(id);
        this.detach(id);
        return null;
      }
      case "dataset_import": {
        const r = request as RequestOf<"dataset_import">;
        const d = this.importDataset(r.file, r.chunking);
        if (r.job) this.jobs.set(r.job, { done: d.bytes, total: d.bytes, finished: true });
        return d;
      }
      case "job_progress":
        return this.jobs.get((request as { job: string }).job) ?? null;
      case "datasets_list":
        return [...this.datasets.values()];
      case "dataset_get":
        return this.dataset((request as { id: string }).id);
      case "dataset_chunks": {
        const r = request as RequestOf<"dataset_chunks">;
        const d = this.dataset(r.id);
        const text = this.datasetTexts.get(r.id) ?? "";
        const size = d.chunking.max_chars;
        const chunks = Array.from({ length: d.chunk_count }, (_, index) => ({
          index,
          start: index * size,
          end: Math.min(text.length, (index + 1) * size),
          text: text.slice(index * size, (index + 1) * size),
        }));
        return { total: chunks.length, offset: r.offset, chunks: chunks.slice(r.offset, r.offset + r.limit) };
      }
      case "dataset_update": {
        const r = request as RequestOf<"dataset_update">;
        const d = this.dataset(r.id);
        if (r.name.trim() === "") fail("invalid_input", "must not be empty", "name");
        d.name = r.name;
        d.description = r.description;
        d.chunking = r.chunking;
        d.chunk_count = Math.max(1, Math.ceil((this.datasetTexts.get(r.id) ?? "").length / r.chunking.max_chars));
        d.version += 1;
        return d;
      }
      case "dataset_delete": {
        const { id } = request as { id: string };
        this.dataset(id);
        this.datasets.delete(id);
        this.detach(id);
        return null;
      }
      case "table_create": {
        const r = request as RequestOf<"table_create">;
        return this.createTable(r.name, r.description, r.columns);
      }
      case "table_preview_csv":
        return this.csvPreview(request as FileInput);
      case "table_import_csv": {
        const r = request as RequestOf<"table_import_csv">;
        const parsed = parseCsv(textOf(r.file));
        if (parsed.ragged.length > 0) fail("invalid_file", `\`${r.file.name}\`: ${parsed.ragged.length} row(s) have the wrong number of fields`);
        const columns = r.columns ?? parsed.header.map((name, j) => ({ name, type: inferType(parsed.rows.map((row) => row[j] ?? "")) }));
        const rows = typedRows(columns, parsed.rows);
        const table = this.createTable(r.file.name.replace(/\.[^.]+$/, ""), "", columns);
        table.source_name = r.file.name;
        return this.replaceRows(table.id, null, rows, null);
      }
      case "tables_list":
        return [...this.tables.values()];
      case "table_get":
        return this.table((request as { id: string }).id);
      case "table_rows": {
        const r = request as RequestOf<"table_rows">;
        const tb = this.table(r.id);
        return { total: tb.row_count, offset: r.offset, rows: (this.tableRows.get(r.id) ?? []).slice(r.offset, r.offset + r.limit) };
      }
      case "table_replace_rows": {
        const r = request as RequestOf<"table_replace_rows">;
        return this.replaceRows(r.id, r.columns, r.rows, r.expected_version);
      }
      case "table_update": {
        const r = request as RequestOf<"table_update">;
        const tb = this.table(r.id);
        tb.name = r.name;
        tb.description = r.description;
        tb.version += 1;
        return tb;
      }
      case "table_delete": {
        const { id } = request as { id: string };
        this.table(id);
        this.tables.delete(id);
        this.detach(id);
        return null;
      }
      case "pii_scan":
        return scanText((request as { text: string }).text);
      case "agent_pii": {
        const agent = this.host.agents.get((request as { id: string }).id);
        if (!agent) fail("not_found", "No such agent.");
        return scanText(agent.instructions);
      }
      case "search": {
        const r = request as RequestOf<"search">;
        return this.search(r.query, r.limit ?? 50);
      }
      case "search_record": {
        const q = (request as RequestOf<"search_record">).query.trim();
        if (q) this.history = [{ query: q, at: this.host.now() }, ...this.history.filter((e) => e.query !== q)];
        return null;
      }
      case "search_history":
        return this.history;
      case "search_history_clear": {
        const n = this.history.length;
        this.history = [];
        return n;
      }
      case "bundle_export": {
        const r = request as RequestOf<"bundle_export">;
        const text = this.bundleOf(r.agent_id);
        const agent = this.host.agents.get(r.agent_id)!;
        return {
          summary: {
            format_version: 1,
            created_at: this.host.now(),
            agent_id: agent.id,
            agent_name: agent.name,
            revisions: 1,
            plugins: agent.plugin_ids.length,
            datasets: 0,
            tables: 0,
            bytes: text.length,
          },
          path: r.path,
          base64: r.path === null ? btoa(unescape(encodeURIComponent(text))) : null,
          file_name: `${agent.name.replace(/[^\p{L}\p{N}_-]/gu, "-")}.awfbundle`,
        };
      }
      case "bundle_check": {
        const { problems, bundle, bytes } = this.readBundle(request as FileInput);
        const check: BundleCheck = bundle
          ? {
              ok: true,
              problems: [],
              summary: {
                format_version: 1,
                created_at: this.host.now(),
                agent_id: bundle.agent.id,
                agent_name: bundle.agent.name,
                revisions: 1,
                plugins: bundle.plugins.length,
                datasets: 0,
                tables: 0,
                bytes,
              },
              replaces_existing: this.host.agents.has(bundle.agent.id),
            }
          : { ok: false, problems, summary: null, replaces_existing: false };
        return check;
      }
      case "bundle_import": {
        const f = request as FileInput;
        const { problems, bundle } = this.readBundle(f);
        if (!bundle) fail("invalid_file", `\`${f.name}\` is not a valid bundle (${problems.length} problem(s))`);
        const created = !this.host.agents.has(bundle.agent.id);
        this.host.putAgent(bundle.agent);
        for (const p of bundle.plugins) this.plugins.set(p.id, p);
        return {
          agent_id: bundle.agent.id,
          created,
          plugins: bundle.plugins.length,
          datasets: 0,
          tables: 0,
          secrets_needed: bundle.plugins.filter((p) => p.auth.type !== "none").map((p) => p.name),
        };
      }
      default:
        return NOT_MINE;
    }
  }
}
