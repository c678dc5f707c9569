import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { Api } from "../api/client";
import { FakeBackend } from "../api/testing/fake-backend";
import { CONTACTS_CSV, RAGGED_CSV } from "../api/testing/fixtures";
import { i18n } from "../i18n/i18n.svelte";
import { cellProblem } from "./cells";

const byTestId = (id: string) => screen.getByTestId(id);

async function openData(backend: FakeBackend) {
  render(App, { props: { api: new Api(backend), platformPoll: { onlineMs: 60_000, offlineMs: 60_000 } } });
  await fireEvent.click(await screen.findByTestId("data-open"));
  await screen.findByTestId("data-view");
}

/** Chooses a file in a drop zone's file input (the browser path: read and sent as base64). */
async function chooseFile(zone: string, name: string, text: string) {
  const input = await screen.findByTestId(`${zone}-input`);
  await fireEvent.change(input, { target: { files: [new File([text], name, { type: "text/plain" })] } });
}

async function previewCsv(backend: FakeBackend, name: string, text: string) {
  await openData(backend);
  await fireEvent.click(byTestId("data-tab-tables"));
  await fireEvent.click(await screen.findByTestId("table-import-open"));
  await chooseFile("csv-drop", name, text);
  return screen.findByTestId("csv-preview");
}

beforeEach(() => {
  i18n.locale = "en";
});

describe("CSV import", () => {
  it("lists rows with the wrong number of fields by line, and refuses to import them", async () => {
    const backend = new FakeBackend();
    const preview = await previewCsv(backend, "ragged.csv", RAGGED_CSV);
    const request = backend.callsOf("table_preview_csv")[0]!.request as { name: string; base64: string };
    expect(request.name).toBe("ragged.csv");
    expect(atob(request.base64)).toBe(RAGGED_CSV);
    const ragged = within(preview).getAllByTestId("ragged-row");
    expect(ragged.map((r) => r.dataset.line)).toEqual(["4"]);
    expect(ragged[0]!.textContent).toBe("Line 4: 2 fields, the header has 5");
    expect(within(preview).getByTestId("csv-preview-error").textContent).toContain("wrong number of fields");
    expect((byTestId("csv-import-confirm") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows cells that do not fit their column's type by row and column, from the preview and as types are changed", async () => {
    const backend = new FakeBackend();
    backend.library.csvPreviewPatch = {
      cell_errors: [
        { row: 2, line: 3, column: "phone", value: "139-1234", expected: "integer", message: "not a whole number" },
      ],
    };
    const preview = await previewCsv(backend, "contacts.csv", CONTACTS_CSV);
    let errors = within(preview).getAllByTestId("cell-error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.textContent).toContain("Row 2 (line 3), column “phone”");
    expect(errors[0]!.textContent).toContain("not a whole number");

    // `age` was inferred as text (one cell is "x"); as an integer column, row 2 does not fit.
    const ageType = byTestId("csv-col-type-4") as HTMLSelectElement;
    expect(ageType.value).toBe("text");
    await fireEvent.change(ageType, { target: { value: "integer" } });
    errors = within(preview).getAllByTestId("cell-error");
    const age = errors.find((e) => e.dataset.column === "age")!;
    expect(age.dataset.row).toBe("2");
    expect(age.textContent).toContain("Row 2, column “age”");
    const marked = within(preview)
      .getAllByTestId("csv-cell")
      .filter((c) => c.dataset.invalid === "true");
    expect(marked.map((c) => c.textContent?.trim().slice(0, 1))).toEqual(["x"]);

    // Importing with that type is refused by the command surface, which names the cell.
    await fireEvent.click(byTestId("csv-import-confirm"));
    const refused = await screen.findByTestId("csv-import-error");
    expect(refused.textContent).toContain("row 2, column `age`");
    expect(refused.textContent).toContain("Row 2, column “age”");
    expect(backend.callsOf("table_import_csv")[0]!.request).toMatchObject({
      columns: [
        { name: "name", type: "text" },
        { name: "phone", type: "integer" },
        { name: "email", type: "text" },
        { name: "id_number", type: "text" },
        { name: "age", type: "integer" },
      ],
    });
    expect(backend.library.tables.size).toBe(0);
  });

  it("shows the PII found with masked values only, before and after import", async () => {
    const backend = new FakeBackend();
    const preview = await previewCsv(backend, "contacts.csv", CONTACTS_CSV);
    const panel = screen.getByTestId("pii-panel");
    expect(preview).toBeTruthy();
    expect(panel.dataset.total).toBe("5");
    const kinds = Object.fromEntries(within(panel).getAllByTestId("pii-kind").map((k) => [k.dataset.kind, k.dataset.count]));
    expect(kinds).toEqual({ mobile_cn: "2", resident_id: "1", email: "2" });
    const masked = within(panel).getAllByTestId("pii-masked").map((m) => m.textContent);
    expect(masked).toContain("138****5678");
    expect(masked).toContain("110105********002X");
    expect(masked).toContain("z***@example.com");
    expect(panel.textContent).not.toContain("13812345678");
    expect(panel.textContent).not.toContain("11010519491231002X");
    expect(panel.textContent).toContain("row 1, column phone");
    expect(within(panel).getByTestId("pii-attest").textContent).toContain("§1.5, 4.4");

    await fireEvent.click(byTestId("csv-import-confirm"));
    const detail = await screen.findByTestId("table-detail");
    await waitFor(() => expect(within(detail).getByTestId("table-title").textContent).toBe("contacts"));
    const stored = within(detail).getByTestId("pii-panel");
    expect(stored.dataset.total).toBe("5");
    expect(within(stored).getByTestId("pii-attest").textContent).toContain("separate consent");
    expect(stored.textContent).not.toContain("13812345678");
    await waitFor(() => expect(within(detail).getAllByTestId("table-row")).toHaveLength(2));
  });

  it("shows findings in Chinese when the UI is in Chinese", async () => {
    const backend = new FakeBackend();
    i18n.locale = "zh-CN";
    await previewCsv(backend, "contacts.csv", CONTACTS_CSV);
    const panel = screen.getByTestId("pii-panel");
    expect(panel.textContent).toContain("第 1 行，phone 列");
    expect(panel.textContent).toContain("手机号");
  });
});

describe("tables by hand", () => {
  it("creates a table, edits rows in the grid and shows the refused cell by row and column", async () => {
    const backend = new FakeBackend();
    await openData(backend);
    await fireEvent.click(byTestId("data-tab-tables"));
    await fireEvent.click(byTestId("table-create-open"));
    await fireEvent.input(byTestId("new-table-name"), { target: { value: "Orders" } });
    await fireEvent.input(byTestId("new-column-name-1"), { target: { value: "qty" } });
    await fireEvent.change(byTestId("new-column-type-1"), { target: { value: "integer" } });
    await fireEvent.click(byTestId("new-table-create"));
    const grid = await screen.findByTestId("table-grid");
    expect(backend.callsOf("table_create")[0]!.request).toEqual({
      name: "Orders",
      description: "",
      columns: [
        { name: "name", type: "text" },
        { name: "qty", type: "integer" },
      ],
    });

    await fireEvent.click(within(grid).getByTestId("grid-add-row"));
    await fireEvent.click(within(grid).getByTestId("grid-add-row"));
    await fireEvent.input(byTestId("grid-cell-0-0"), { target: { value: "Tea" } });
    await fireEvent.input(byTestId("grid-cell-0-1"), { target: { value: "3" } });
    await fireEvent.input(byTestId("grid-cell-1-0"), { target: { value: "Cake" } });
    await fireEvent.input(byTestId("grid-cell-1-1"), { target: { value: "two" } });
    expect(byTestId("grid-cell-1-1").getAttribute("aria-invalid")).toBe("true");
    expect(byTestId("grid-cell-0-1").getAttribute("aria-invalid")).toBe("false");
    expect(within(grid).getByTestId("grid-issues").textContent).toContain("Row 2, column “qty”");

    await fireEvent.click(within(grid).getByTestId("grid-save"));
    const refused = await screen.findByTestId("grid-error");
    expect(within(refused).getByTestId("grid-error-cell").textContent).toBe("Row 2, column “qty”");
    expect(refused.querySelector('[data-code="invalid_file"]')).not.toBeNull();

    await fireEvent.input(byTestId("grid-cell-1-1"), { target: { value: "2" } });
    await fireEvent.click(within(grid).getByTestId("grid-save"));
    await waitFor(() => expect(screen.queryByTestId("table-grid")).toBeNull());
    const rows = await screen.findAllByTestId("table-row");
    expect(rows.map((r) => [...r.children].map((c) => c.textContent?.trim()))).toEqual([
      ["1", "Tea", "3"],
      ["2", "Cake", "2"],
    ]);
    expect(byTestId("table-outcome").textContent).toBe("Saved 2 rows.");
    const saved = backend.callsOf("table_replace_rows").at(-1)!.request as { rows: unknown[][]; columns: unknown };
    expect(saved.rows).toEqual([
      ["Tea", "3"],
      ["Cake", "2"],
    ]);
    expect(saved.columns).toBeNull();
  });
});

describe("datasets", () => {
  it("imports a file with its chunking, then shows chunks and findings", async () => {
    const backend = new FakeBackend();
    await openData(backend);
    await fireEvent.click(byTestId("dataset-import-open"));
    await fireEvent.input(byTestId("import-max-chars"), { target: { value: "100" } });
    await fireEvent.input(byTestId("import-overlap"), { target: { value: "10" } });
    const text = `Call 13812345678 about the order.\n${"Lorem ipsum dolor sit amet. ".repeat(10)}`;
    await chooseFile("dataset-drop", "notes.txt", text);
    const detail = await screen.findByTestId("dataset-detail");
    const request = backend.callsOf("dataset_import")[0]!.request as { chunking: unknown; job: string | null };
    expect(request.chunking).toEqual({ max_chars: 100, overlap_chars: 10 });
    expect(request.job).toMatch(/^ui-/);
    await waitFor(() => expect(within(detail).getByTestId("dataset-title").textContent).toBe("notes"));
    expect(within(detail).getByTestId("dataset-chunk-count").textContent).toBe("4");
    await waitFor(() => expect(within(detail).getAllByTestId("chunk").length).toBeGreaterThan(0));
    expect(within(detail).getByTestId("chunks-range").textContent).toBe("1–4 of 4");
    const panel = within(detail).getByTestId("pii-panel");
    expect(within(panel).getByTestId("pii-masked").textContent).toBe("138****5678");
    expect(panel.textContent).toContain("line 1, column 6");
  });

  it("refuses bad chunking before sending anything", async () => {
    const backend = new FakeBackend();
    await openData(backend);
    await fireEvent.click(byTestId("dataset-import-open"));
    await fireEvent.input(byTestId("import-overlap"), { target: { value: "500" } });
    await chooseFile("dataset-drop", "notes.txt", "hello");
    const error = await screen.findByTestId("dataset-import-error");
    expect(error.textContent).toContain("half the chunk size");
    expect(backend.callsOf("dataset_import")).toHaveLength(0);
  });
});

describe("cell rules", () => {
  it("follow the command surface's types", () => {
    expect(cellProblem("integer", "42")).toBeNull();
    expect(cellProblem("integer", " -7 ")).toBeNull();
    expect(cellProblem("integer", "1.5")).toContain("Number type");
    expect(cellProblem("integer", "99999999999999999999")).toContain("range");
    expect(cellProblem("number", "1e6")).toBeNull();
    expect(cellProblem("number", "1,5")).toContain("decimal point");
    expect(cellProblem("boolean", "是")).toBeNull();
    expect(cellProblem("boolean", "maybe")).not.toBeNull();
    expect(cellProblem("date", "2024-02-29")).toBeNull();
    expect(cellProblem("date", "2023-02-29")).toContain("28 days");
    expect(cellProblem("date", "2023/01/01")).toContain("YYYY-MM-DD");
    expect(cellProblem("integer", "")).toBeNull();
    expect(cellProblem("text", "anything")).toBeNull();
  });
});
