//! Tables ("databases" in policy §4.1): a schema of named, typed columns and rows, created by
//! hand or from a CSV file, with PII findings by row and column.
//!
//! Rows are stored in sealed pages of [`ROWS_PER_PAGE`] (tree `table_rows`), cells as typed
//! JSON values (`null` for empty). Every write is checked against the schema first; a row that
//! does not fit is refused with its row and column, and nothing is written.

use serde::{Deserialize, Serialize};

use awf_ingest::table::{self, CellError, Column, ColumnType, CsvOptions, TableError};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::findings::PiiSummary;
use crate::plugins::{decode, encode};
use crate::storage::{Batch, Storage, Tree};
use crate::sync::{self, ItemKind, ItemSync, SyncOp};

/// Rows per stored page.
pub const ROWS_PER_PAGE: usize = 500;

/// One row: a value per column, in column order.
pub type Row = Vec<serde_json::Value>;

/// A stored table (its rows are separate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Table {
    pub id: String,
    pub name: String,
    pub description: String,
    pub columns: Vec<Column>,
    pub row_count: u64,
    /// The CSV file it was created from, if any.
    pub source_name: Option<String>,
    pub pii: PiiSummary,
    pub created_at: String,
    pub updated_at: String,
    pub version: u32,
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowPage {
    pub total: u64,
    pub offset: u64,
    #[cfg_attr(feature = "ts", ts(type = "Array<Array<unknown>>"))]
    pub rows: Vec<Row>,
}

/// Why a table could not be created or changed, with the place.
#[derive(Debug, thiserror::Error)]
pub enum TableImportError {
    #[error("`{name}`: {source}")]
    File { name: String, source: TableError },
    #[error("{} cell(s) do not fit their column's type (first: row {}, column `{}`: {})", .0.len(), .0[0].row, .0[0].column, .0[0].message)]
    Cells(Vec<CellError>),
    #[error(transparent)]
    Store(#[from] CoreError),
}

fn page_key(id: &str, page: u32) -> Vec<u8> {
    let mut k = page_prefix(id);
    k.extend_from_slice(&page.to_be_bytes());
    k
}

fn page_prefix(id: &str) -> Vec<u8> {
    let mut k = id.as_bytes().to_vec();
    k.push(b'/');
    k
}

/// Checks a schema: names present, unique and short; at least one column.
pub fn validate_columns(columns: &[Column]) -> Result<()> {
    if columns.is_empty() {
        return Err(CoreError::invalid("columns", "a table needs at least one column"));
    }
    if columns.len() > table::limits::MAX_COLUMNS {
        return Err(CoreError::invalid("columns", format!("at most {} columns", table::limits::MAX_COLUMNS)));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in columns.iter().enumerate() {
        let name = c.name.trim();
        if name.is_empty() {
            return Err(CoreError::invalid(format!("columns[{i}].name"), "must not be empty"));
        }
        if name.chars().count() > 64 {
            return Err(CoreError::invalid(format!("columns[{i}].name"), "must be at most 64 characters"));
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(CoreError::invalid(format!("columns[{i}].name"), format!("`{name}` is used twice")));
        }
    }
    Ok(())
}

/// Checks one row against the schema, returning the typed row or every cell error.
fn check_row(columns: &[Column], row_no: u64, cells: &[serde_json::Value]) -> std::result::Result<Row, Vec<CellError>> {
    if cells.len() != columns.len() {
        return Err(vec![CellError {
            row: row_no,
            line: None,
            column: String::new(),
            value: String::new(),
            expected: ColumnType::Text,
            message: format!("the row has {} cells; the table has {} columns", cells.len(), columns.len()),
        }]);
    }
    let mut out = Vec::with_capacity(cells.len());
    let mut errors = Vec::new();
    for (c, v) in columns.iter().zip(cells) {
        let raw = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        if raw.len() > table::limits::MAX_CELL_BYTES {
            errors.push(CellError {
                row: row_no,
                line: None,
                column: c.name.clone(),
                value: raw.chars().take(40).collect(),
                expected: c.ty,
                message: format!("a cell holds at most {} bytes", table::limits::MAX_CELL_BYTES),
            });
            continue;
        }
        match table::typed_cell(c.ty, &raw) {
            Ok(v) => out.push(v),
            Err(message) => errors.push(CellError {
                row: row_no,
                line: None,
                column: c.name.clone(),
                value: raw,
                expected: c.ty,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn cell_text(v: &serde_json::Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        serde_json::Value::String(s) => Some(s.as_str().into()),
        serde_json::Value::Number(n) => Some(n.to_string().into()),
        _ => None,
    }
}

fn scan_rows(columns: &[Column], rows: &[Row]) -> PiiSummary {
    let mut pii = PiiSummary::default();
    for (i, row) in rows.iter().enumerate() {
        for (c, v) in columns.iter().zip(row) {
            if let Some(t) = cell_text(v) {
                pii.add_cell(i as u64 + 1, &c.name, &t);
            }
        }
    }
    pii
}

/// Table operations over one profile.
pub struct Tables<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) profile: &'a crate::Profile,
}

impl Tables<'_> {
    fn not_found(id: &str) -> CoreError {
        CoreError::NotFound { kind: "table", id: id.to_string() }
    }

    /// Creates an empty table by hand.
    pub fn create(&self, name: &str, description: &str, columns: Vec<Column>) -> Result<Table> {
        check_meta(name, description)?;
        validate_columns(&columns)?;
        let now = clock::now();
        let t = Table {
            id: ulid::Ulid::new().to_string(),
            name: name.trim().to_string(),
            description: description.to_string(),
            columns,
            row_count: 0,
            source_name: None,
            pii: PiiSummary::default(),
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        self.write(&t, &[], true)?;
        Ok(t)
    }

    /// Creates a table from CSV bytes: header → column names, types inferred unless given, every
    /// cell checked (errors by row, line and column), PII scanned cell by cell.
    pub fn import_csv(
        &self,
        source_name: &str,
        bytes: &[u8],
        columns: Option<Vec<Column>>,
    ) -> std::result::Result<Table, TableImportError> {
        let stem = source_name.rsplit(['/', '\\']).next().unwrap_or(source_name).to_string();
        let parsed = table::parse_csv(bytes, CsvOptions::default())
            .map_err(|source| TableImportError::File { name: stem.clone(), source })?;
        let columns = match columns {
            Some(c) => {
                if c.len() != parsed.header.len() {
                    return Err(CoreError::invalid(
                        "columns",
                        format!("the file has {} columns; {} types were given", parsed.header.len(), c.len()),
                    )
                    .into());
                }
                c
            }
            None => table::infer_columns(&parsed),
        };
        validate_columns(&columns)?;
        let rows =
            table::typed_rows(&columns, &parsed.rows, Some(&parsed.row_lines)).map_err(TableImportError::Cells)?;
        let now = clock::now();
        let t = Table {
            id: ulid::Ulid::new().to_string(),
            name: stem.rsplit_once('.').map(|(s, _)| s).unwrap_or(&stem).chars().take(80).collect(),
            description: String::new(),
            row_count: rows.len() as u64,
            pii: scan_rows(&columns, &rows),
            columns,
            source_name: Some(stem.chars().take(200).collect()),
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        self.write(&t, &rows, true)?;
        Ok(t)
    }

    /// Writes a local change: the description and (when `rows_changed`) all row pages, with
    /// the table's outbox entry, in one batch (see `sync`).
    fn write(&self, t: &Table, rows: &[Row], rows_changed: bool) -> Result<()> {
        let mut b = self.batch(t, rows, rows_changed)?;
        sync::enqueue(&mut b, ItemKind::Table, &t.id, SyncOp::Upsert);
        self.storage.commit(b)
    }

    /// The batch that writes the description and (when `rows_changed`) all row pages.
    fn batch(&self, t: &Table, rows: &[Row], rows_changed: bool) -> Result<Batch> {
        let mut b = Batch::default();
        if rows_changed {
            for k in self.storage.keys_prefix(Tree::TableRows, &page_prefix(&t.id))? {
                b.delete(Tree::TableRows, k);
            }
            for (n, page) in rows.chunks(ROWS_PER_PAGE).enumerate() {
                b.put(Tree::TableRows, page_key(&t.id, n as u32), encode(&page));
            }
        }
        b.put(Tree::Tables, t.id.as_bytes(), encode(t));
        Ok(b)
    }

    /// Writes a table exactly as given (bundle import), replacing one with the same id.
    pub(crate) fn put_raw(&self, t: &Table, rows: &[Row]) -> Result<()> {
        self.write(t, rows, true)
    }

    pub fn get(&self, id: &str) -> Result<Table> {
        let bytes = self.storage.get(Tree::Tables, id.as_bytes())?.ok_or_else(|| Self::not_found(id))?;
        decode("table", &bytes)
    }

    /// Every table, most recently changed first.
    pub fn list(&self) -> Result<Vec<Table>> {
        let mut out: Vec<Table> = self
            .storage
            .scan_prefix(Tree::Tables, b"")?
            .into_iter()
            .map(|(_, v)| decode("table", &v))
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| b.id.cmp(&a.id)));
        Ok(out)
    }

    /// All rows, in order.
    pub fn all_rows(&self, id: &str) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        for (_, v) in self.storage.scan_prefix(Tree::TableRows, &page_prefix(id))? {
            let page: Vec<Row> = decode("table rows", &v)?;
            rows.extend(page);
        }
        Ok(rows)
    }

    /// A page of rows.
    pub fn rows(&self, id: &str, offset: u64, limit: u64) -> Result<RowPage> {
        let t = self.get(id)?;
        let first_page = (offset / ROWS_PER_PAGE as u64) as u32;
        let mut rows = Vec::new();
        let mut skip = (offset % ROWS_PER_PAGE as u64) as usize;
        let limit = limit.min(1_000) as usize;
        let mut page_no = first_page;
        while rows.len() < limit {
            let Some(v) = self.storage.get(Tree::TableRows, &page_key(id, page_no))? else { break };
            let page: Vec<Row> = decode("table rows", &v)?;
            rows.extend(page.into_iter().skip(skip).take(limit - rows.len()));
            skip = 0;
            page_no += 1;
        }
        Ok(RowPage { total: t.row_count, offset, rows })
    }

    /// Replaces the rows (and optionally the schema) after checking every cell; rescans PII.
    pub fn replace_rows(
        &self,
        id: &str,
        columns: Option<Vec<Column>>,
        rows: Vec<Row>,
        expected_version: Option<u32>,
    ) -> std::result::Result<Table, TableImportError> {
        let mut t = self.get(id)?;
        if let Some(expected) = expected_version {
            if expected != t.version {
                return Err(CoreError::Conflict { expected, actual: t.version }.into());
            }
        }
        if let Some(c) = columns {
            validate_columns(&c)?;
            t.columns = c;
        }
        if rows.len() > table::limits::MAX_ROWS {
            return Err(CoreError::invalid("rows", format!("at most {} rows", table::limits::MAX_ROWS)).into());
        }
        let mut typed = Vec::with_capacity(rows.len());
        let mut errors = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            match check_row(&t.columns, i as u64 + 1, r) {
                Ok(row) => typed.push(row),
                Err(e) => errors.extend(e),
            }
            if errors.len() >= 1_000 {
                break;
            }
        }
        if !errors.is_empty() {
            return Err(TableImportError::Cells(errors));
        }
        t.row_count = typed.len() as u64;
        t.pii = scan_rows(&t.columns, &typed);
        t.version += 1;
        t.updated_at = clock::now();
        self.write(&t, &typed, true)?;
        Ok(t)
    }

    /// Renames or re-describes a table.
    pub fn update_meta(&self, id: &str, name: &str, description: &str) -> Result<Table> {
        check_meta(name, description)?;
        let mut t = self.get(id)?;
        t.name = name.trim().to_string();
        t.description = description.to_string();
        t.version += 1;
        t.updated_at = clock::now();
        self.write(&t, &[], false)?;
        Ok(t)
    }

    /// Deletes the table and its rows, and detaches it from every agent.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.get(id)?;
        self.profile.agents().detach(id)?;
        let mut b = Batch::default();
        b.delete(Tree::Tables, id.as_bytes());
        for k in self.storage.keys_prefix(Tree::TableRows, &page_prefix(id))? {
            b.delete(Tree::TableRows, k);
        }
        sync::enqueue(&mut b, ItemKind::Table, id, SyncOp::Delete);
        self.storage.commit(b)
    }

    /// What of a table is synced: its description, schema and every row.
    pub fn synced(&self, id: &str) -> Result<SyncedTable> {
        let t = self.get(id)?;
        let rows = self.all_rows(id)?;
        Ok(SyncedTable {
            name: t.name,
            description: t.description,
            columns: t.columns,
            source_name: t.source_name,
            created_at: t.created_at,
            rows,
        })
    }

    /// Applies a table as the platform holds it, with its sync state, in one batch and without
    /// queuing it. Its cells are checked against its schema and its PII rescanned here.
    pub fn apply_remote(&self, id: &str, body: &SyncedTable, state: &ItemSync) -> Result<Table> {
        self.apply_synced(id, body, state, false)
    }

    /// Applies the three-way merge of a conflict: a local change, queued in the same batch.
    pub fn apply_merged(&self, id: &str, body: &SyncedTable, state: &ItemSync) -> Result<Table> {
        self.apply_synced(id, body, state, true)
    }

    fn apply_synced(&self, id: &str, body: &SyncedTable, state: &ItemSync, queue: bool) -> Result<Table> {
        let typed = body.check()?;
        let now = clock::now();
        let (version, created_at) = match self.get(id) {
            Ok(t) => (t.version + 1, t.created_at),
            Err(CoreError::NotFound { .. }) => (1, body.created_at.clone()),
            Err(e) => return Err(e),
        };
        let t = Table {
            id: id.to_string(),
            name: body.name.clone(),
            description: body.description.clone(),
            row_count: typed.len() as u64,
            pii: scan_rows(&body.columns, &typed),
            columns: body.columns.clone(),
            source_name: body.source_name.clone(),
            created_at,
            updated_at: now,
            version,
        };
        let mut b = self.batch(&t, &typed, true)?;
        b.put(Tree::SyncState, sync::item_key(ItemKind::Table, id), encode(state));
        if queue {
            sync::enqueue(&mut b, ItemKind::Table, id, SyncOp::Upsert);
        } else {
            b.delete(Tree::Outbox, sync::item_key(ItemKind::Table, id));
        }
        self.storage.commit(b)?;
        Ok(t)
    }

    /// Deletes a table the platform deleted (a tombstone), without queuing anything.
    pub fn delete_remote(&self, id: &str, state: &ItemSync) -> Result<()> {
        if self.storage.get(Tree::Tables, id.as_bytes())?.is_some() {
            self.profile.agents().detach(id)?;
        }
        let mut b = Batch::default();
        b.delete(Tree::Tables, id.as_bytes());
        for k in self.storage.keys_prefix(Tree::TableRows, &page_prefix(id))? {
            b.delete(Tree::TableRows, k);
        }
        b.put(Tree::SyncState, sync::item_key(ItemKind::Table, id), encode(state));
        b.delete(Tree::Outbox, sync::item_key(ItemKind::Table, id));
        self.storage.commit(b)
    }
}

/// What of a table is synced: its description, schema and rows; not the local bookkeeping
/// (`version`, `updated_at`, `row_count`) nor the PII findings, which each device derives from
/// the rows. The rows travel in the item's body, so a synced table is bounded by the
/// platform's item size (`MAX_ITEM_BODY_BYTES`); the engine holds a larger one back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncedTable {
    pub name: String,
    pub description: String,
    pub columns: Vec<Column>,
    pub source_name: Option<String>,
    pub created_at: String,
    pub rows: Vec<Row>,
}

impl SyncedTable {
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("tables serialise")
    }

    /// Reads a platform body; an invalid one is refused with the field at fault.
    pub fn from_value(v: &serde_json::Value) -> Result<Self> {
        let s: SyncedTable = serde_json::from_value(v.clone()).map_err(|e| CoreError::Invalid {
            field: "body".into(),
            reason: format!("the platform sent a table this version cannot read: {e}"),
        })?;
        s.check()?;
        Ok(s)
    }

    /// Checks the name, schema and every cell; returns the typed rows.
    fn check(&self) -> Result<Vec<Row>> {
        check_meta(&self.name, &self.description)?;
        validate_columns(&self.columns)?;
        if self.rows.len() > table::limits::MAX_ROWS {
            return Err(CoreError::invalid("rows", format!("at most {} rows", table::limits::MAX_ROWS)));
        }
        let mut typed = Vec::with_capacity(self.rows.len());
        for (i, r) in self.rows.iter().enumerate() {
            match check_row(&self.columns, i as u64 + 1, r) {
                Ok(row) => typed.push(row),
                Err(e) => {
                    let e = &e[0];
                    return Err(CoreError::invalid(
                        format!("rows[{i}]"),
                        format!("row {}, column `{}`: {}", e.row, e.column, e.message),
                    ));
                }
            }
        }
        Ok(typed)
    }

    /// The SHA-256 (hex) of the content a PII attestation covers: the schema and the rows.
    pub fn content_sha256(&self) -> String {
        use sha2::Digest;
        let content = serde_json::to_vec(&(&self.columns, &self.rows)).expect("tables serialise");
        hex::encode(sha2::Sha256::digest(content))
    }

    /// The PII findings of its cells.
    pub fn pii(&self) -> PiiSummary {
        scan_rows(&self.columns, &self.rows)
    }
}

fn check_meta(name: &str, description: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(CoreError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > 80 {
        return Err(CoreError::invalid("name", "must be at most 80 characters"));
    }
    if description.chars().count() > 2_000 {
        return Err(CoreError::invalid("description", "must be at most 2000 characters"));
    }
    Ok(())
}
