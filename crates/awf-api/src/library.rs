//! Plugins, datasets, tables, search and bundles at the command surface (B2–B5).
//!
//! Files reach a command in one of three ways ([`FileInput`]): a path chosen in the native
//! dialog (desktop), text pasted or read by the UI, or base64 bytes (browser drag and drop).
//! Every importer's error says where (pointer, line, row and column) and why, and nothing is
//! written when it fails.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;

use base64::Engine;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use awf_core::bundle;
use awf_core::datasets::DatasetImportError;
use awf_core::plugins::ImportError;
use awf_core::tables::TableImportError;
use awf_ingest::table::{self, CellError, Column, CsvOptions, RaggedRow, TableError};
use awf_ingest::text::SourceEncoding;

use crate::error::{ApiError, ErrorCode};
use crate::session::Api;

/// A file handed to a command: exactly one of `path`, `text` or `base64`.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    /// The file's name (its extension picks the format).
    pub name: String,
    /// A path on this machine (from the native dialog or a drop onto the desktop window).
    #[serde(default)]
    #[ts(optional)]
    pub path: Option<String>,
    /// The content as text (pasted).
    #[serde(default)]
    #[ts(optional)]
    pub text: Option<String>,
    /// The content as base64 (read by the browser).
    #[serde(default)]
    #[ts(optional)]
    pub base64: Option<String>,
}

/// Largest file read through a path (the dataset limit; other importers check their own).
const READ_LIMIT: u64 = awf_ingest::dataset::limits::MAX_FILE_BYTES;

fn invalid_file(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidFile, message)
        .hint("Correct the file at the place named and import it again; nothing was saved.")
}

impl FileInput {
    /// The bytes, with the name for messages.
    pub fn read(&self) -> Result<Vec<u8>, ApiError> {
        let given = [self.path.is_some(), self.text.is_some(), self.base64.is_some()].iter().filter(|b| **b).count();
        if given != 1 {
            return Err(ApiError::new(ErrorCode::BadRequest, "give exactly one of `path`, `text` or `base64`"));
        }
        if let Some(t) = &self.text {
            return Ok(t.as_bytes().to_vec());
        }
        if let Some(b) = &self.base64 {
            return base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("`base64` is not valid base64: {e}")));
        }
        let path = std::path::Path::new(self.path.as_deref().unwrap_or_default());
        let meta = std::fs::metadata(path)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("cannot read {}: {e}", path.display())).field("path"))?;
        if !meta.is_file() {
            return Err(
                ApiError::new(ErrorCode::InvalidInput, format!("{} is not a file", path.display())).field("path")
            );
        }
        if meta.len() > READ_LIMIT {
            return Err(ApiError::new(
                ErrorCode::TooLarge,
                format!("{} is {} bytes; the limit is {READ_LIMIT} bytes", path.display(), meta.len()),
            )
            .field("path"));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        std::fs::File::open(path)
            .and_then(|f| f.take(READ_LIMIT + 1).read_to_end(&mut bytes))
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("cannot read {}: {e}", path.display())).field("path"))?;
        Ok(bytes)
    }

    fn text(&self) -> Result<String, ApiError> {
        let bytes = self.read()?;
        awf_ingest::text::decode(&bytes)
            .map(|d| d.text)
            .map_err(|e| invalid_file(format!("`{}` is not text: {e}", self.name)))
    }
}

/// Names one plugin, dataset or table.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ItemRef {
    pub id: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdatePluginRequest {
    pub id: String,
    pub draft: awf_core::plugins::PluginDraft,
    pub expected_version: Option<u32>,
}

/// Sets (`secret`) or removes (`null`) the plugin's secret in the OS keyring.
#[derive(Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PluginSecretRequest {
    pub id: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for PluginSecretRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSecretRequest").field("id", &self.id).field("secret", &"[redacted]").finish()
    }
}

/// Imports a dataset file; `job` names a progress entry the UI can poll with `job_progress`.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DatasetImportRequest {
    pub file: FileInput,
    pub chunking: Option<awf_ingest::dataset::ChunkOptions>,
    pub job: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    pub id: String,
    pub offset: u32,
    pub limit: u32,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateDatasetRequest {
    pub id: String,
    pub name: String,
    pub description: String,
    pub chunking: awf_ingest::dataset::ChunkOptions,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CreateTableRequest {
    pub name: String,
    pub description: String,
    pub columns: Vec<Column>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TableImportRequest {
    pub file: FileInput,
    /// Column types to use instead of the inferred ones (one per column of the file).
    pub columns: Option<Vec<Column>>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRowsRequest {
    pub id: String,
    pub columns: Option<Vec<Column>>,
    #[ts(type = "Array<Array<unknown>>")]
    pub rows: Vec<Vec<serde_json::Value>>,
    pub expected_version: Option<u32>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateTableRequest {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// What a CSV file would become, before anything is written.
#[derive(Debug, Serialize, TS)]
pub struct CsvPreview {
    pub encoding: SourceEncoding,
    /// The delimiter found, as a character.
    pub delimiter: String,
    pub columns: Vec<Column>,
    pub row_count: u64,
    /// The first rows as read (text).
    pub rows: Vec<Vec<String>>,
    /// Rows with the wrong number of fields, by line (the import refuses them).
    pub ragged: Vec<RaggedRow>,
    /// Cells that do not fit the inferred types (the import refuses them).
    pub cell_errors: Vec<CellError>,
    pub pii: awf_core::findings::PiiSummary,
    /// Set when the file cannot be read at all (encoding, CSV syntax, size).
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TextRequest {
    pub text: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    pub query: String,
    pub limit: Option<u32>,
}

/// Exports an agent's bundle: to `path` (desktop: from the save dialog), or returned as base64
/// (browser) when `path` is null.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct BundleExportRequest {
    pub agent_id: String,
    pub path: Option<String>,
}

#[derive(Debug, Serialize, TS)]
pub struct BundleExported {
    pub summary: bundle::Summary,
    pub path: Option<String>,
    pub base64: Option<String>,
    /// A suggested file name.
    pub file_name: String,
}

/// The validate-only report: every problem, or what an import would bring.
#[derive(Debug, Serialize, TS)]
pub struct BundleCheck {
    pub ok: bool,
    pub problems: Vec<bundle::Problem>,
    pub summary: Option<bundle::Summary>,
    /// Whether an agent with the same id is already here (an import would replace it).
    pub replaces_existing: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct JobRef {
    pub job: String,
}

/// Progress of a long command.
#[derive(Debug, Clone, Serialize, TS)]
pub struct JobProgress {
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// Progress entries of running (and recently finished) jobs.
/// Shared (`Clone`) so a job running on its own thread (the export) reports here too.
#[derive(Default, Clone)]
pub(crate) struct Jobs(std::sync::Arc<Mutex<HashMap<String, JobProgress>>>);

impl Jobs {
    pub(crate) fn set(&self, job: &str, p: JobProgress) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100 {
            m.retain(|_, v| !v.finished);
        }
        m.insert(job.to_string(), p);
    }
    pub(crate) fn get(&self, job: &str) -> Option<JobProgress> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(job).cloned()
    }
}

fn table_error(e: TableImportError) -> ApiError {
    match e {
        TableImportError::Store(c) => c.into(),
        TableImportError::File { name, source } => {
            let detail = match &source {
                TableError::Ragged(rows) => {
                    let lines: Vec<String> = rows
                        .iter()
                        .take(10)
                        .map(|r| format!("line {}: expected {} fields, found {}", r.line, r.expected, r.found))
                        .collect();
                    format!(
                        "`{name}`: {} row(s) have the wrong number of fields: {}{}",
                        rows.len(),
                        lines.join("; "),
                        if rows.len() > 10 { "; …" } else { "" }
                    )
                }
                other => format!("`{name}`: {other}"),
            };
            invalid_file(detail)
        }
        TableImportError::Cells(cells) => {
            let lines: Vec<String> = cells
                .iter()
                .take(10)
                .map(|c| {
                    let line = c.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                    format!("row {}{line}, column `{}`: {}", c.row, c.column, c.message)
                })
                .collect();
            let field = cells.first().map(|c| format!("rows[{}].{}", c.row, c.column));
            let mut err = invalid_file(format!(
                "{} cell(s) do not fit their column's type: {}{}",
                cells.len(),
                lines.join("; "),
                if cells.len() > 10 { "; …" } else { "" }
            ));
            err.field = field;
            err
        }
    }
}

impl Api {
    pub(crate) fn plugin_preview(&self, f: FileInput) -> Result<awf_ingest::openapi::ImportedApi, ApiError> {
        let text = f.text()?;
        awf_core::plugins::Plugins::preview(&text).map_err(|e| invalid_file(format!("`{}`: {e}", f.name)))
    }

    pub(crate) fn plugin_import(&self, f: FileInput) -> Result<awf_core::plugins::Plugin, ApiError> {
        let text = f.text()?;
        let p = self.profile()?;
        p.plugins().import(&f.name, &text).map_err(|e| match e {
            ImportError::Spec(s) => {
                let mut err = invalid_file(format!("`{}`: {s}", f.name));
                err.field = Some(s.pointer);
                err
            }
            ImportError::Store(c) => c.into(),
        })
    }

    pub(crate) fn plugin_set_secret(&self, r: PluginSecretRequest) -> Result<awf_core::plugins::Plugin, ApiError> {
        let secret = r.secret.map(awf_core::SecretString::new);
        Ok(self.profile()?.plugins().set_secret(&r.id, secret.as_ref())?)
    }

    pub(crate) fn dataset_import(&self, r: DatasetImportRequest) -> Result<awf_core::datasets::Dataset, ApiError> {
        let p = self.profile()?;
        let bytes = r.file.read()?;
        let job = r.job.clone();
        let mut progress = |done: u64, total: u64| {
            if let Some(j) = &job {
                self.jobs.set(j, JobProgress { done, total, finished: false });
            }
        };
        let result = p.datasets().import(&r.file.name, &bytes, r.chunking.unwrap_or_default(), &mut progress);
        if let Some(j) = &r.job {
            let total = bytes.len() as u64;
            self.jobs.set(j, JobProgress { done: total, total, finished: true });
        }
        result.map_err(|e| match e {
            DatasetImportError::Store(c) => c.into(),
            DatasetImportError::TooLarge { .. } => ApiError::new(ErrorCode::TooLarge, e.to_string())
                .hint("Split the file into smaller files, each within the limit."),
            DatasetImportError::UnsupportedType { .. } => ApiError::new(ErrorCode::InvalidFile, e.to_string())
                .hint("Datasets accept .txt, .md, .csv, .json and .jsonl files."),
            other => invalid_file(other.to_string()),
        })
    }

    pub(crate) fn job_progress(&self, r: JobRef) -> Option<JobProgress> {
        self.jobs.get(&r.job)
    }

    pub(crate) fn table_preview_csv(&self, f: FileInput) -> Result<CsvPreview, ApiError> {
        let bytes = f.read()?;
        let parsed = match table::parse_csv(&bytes, CsvOptions::default()) {
            Ok(p) => p,
            Err(TableError::Ragged(ragged)) => {
                return Ok(CsvPreview {
                    encoding: awf_ingest::text::decode(&bytes).map(|d| d.encoding).unwrap_or(SourceEncoding::Utf8),
                    delimiter: String::new(),
                    columns: Vec::new(),
                    row_count: 0,
                    rows: Vec::new(),
                    error: Some(format!("{} row(s) have the wrong number of fields", ragged.len())),
                    ragged,
                    cell_errors: Vec::new(),
                    pii: Default::default(),
                })
            }
            Err(e) => return Err(invalid_file(format!("`{}`: {e}", f.name))),
        };
        let columns = table::infer_columns(&parsed);
        let cell_errors = table::typed_rows(&columns, &parsed.rows, Some(&parsed.row_lines)).err().unwrap_or_default();
        let mut pii = awf_core::findings::PiiSummary::default();
        for (i, row) in parsed.rows.iter().enumerate() {
            for (c, v) in parsed.header.iter().zip(row) {
                pii.add_cell(i as u64 + 1, c, v);
            }
        }
        Ok(CsvPreview {
            encoding: parsed.encoding,
            delimiter: (parsed.delimiter as char).to_string(),
            columns,
            row_count: parsed.rows.len() as u64,
            rows: parsed.rows.into_iter().take(20).collect(),
            ragged: Vec::new(),
            cell_errors,
            pii,
            error: None,
        })
    }

    pub(crate) fn table_import_csv(&self, r: TableImportRequest) -> Result<awf_core::tables::Table, ApiError> {
        let bytes = r.file.read()?;
        self.profile()?.tables().import_csv(&r.file.name, &bytes, r.columns).map_err(table_error)
    }

    pub(crate) fn table_replace_rows(&self, r: ReplaceRowsRequest) -> Result<awf_core::tables::Table, ApiError> {
        self.profile()?.tables().replace_rows(&r.id, r.columns, r.rows, r.expected_version).map_err(table_error)
    }

    pub(crate) fn agent_pii(&self, id: &str) -> Result<awf_core::findings::PiiSummary, ApiError> {
        let a = self.profile()?.agents().get(id)?;
        let mut s = awf_core::findings::PiiSummary::default();
        s.add_text(&a.draft.instructions, 0);
        Ok(s)
    }

    pub(crate) fn bundle_export(&self, r: BundleExportRequest) -> Result<BundleExported, ApiError> {
        let p = self.profile()?;
        let agent = p.agents().get(&r.agent_id)?;
        let safe: String = agent
            .draft
            .name
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
            .collect();
        let file_name = format!("{}.{}", safe.trim_matches('-'), bundle::EXTENSION);
        match r.path {
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                // Written beside the target, then renamed: a failed export leaves no partial file.
                let tmp = path.with_extension(format!("{}.partial", bundle::EXTENSION));
                let write = || -> Result<bundle::Summary, ApiError> {
                    let f = std::fs::File::create(&tmp)
                        .map_err(|e| ApiError::new(ErrorCode::Io, format!("cannot write {}: {e}", tmp.display())))?;
                    let summary = bundle::export(&p, &r.agent_id, std::io::BufWriter::new(f))?;
                    std::fs::rename(&tmp, &path)
                        .map_err(|e| ApiError::new(ErrorCode::Io, format!("cannot write {}: {e}", path.display())))?;
                    Ok(summary)
                };
                let summary = write().inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })?;
                Ok(BundleExported { summary, path: Some(path.display().to_string()), base64: None, file_name })
            }
            None => {
                let mut buf = std::io::Cursor::new(Vec::new());
                let summary = bundle::export(&p, &r.agent_id, &mut buf)?;
                let bytes = buf.into_inner();
                if bytes.len() > 6 * 1024 * 1024 {
                    return Err(ApiError::new(
                        ErrorCode::TooLarge,
                        format!("the bundle is {} bytes, too large to hand to the browser", bytes.len()),
                    )
                    .hint("Export it from the desktop app or with `awf bundle export`, which write it to a file."));
                }
                Ok(BundleExported {
                    summary,
                    path: None,
                    base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    file_name,
                })
            }
        }
    }

    fn bundle_read(&self, f: &FileInput) -> Result<(Result<bundle::Contents, bundle::Invalid>, u64), ApiError> {
        let bytes = f.read()?;
        let len = bytes.len() as u64;
        Ok((bundle::read(std::io::Cursor::new(bytes)), len))
    }

    pub(crate) fn bundle_check(&self, f: FileInput) -> Result<BundleCheck, ApiError> {
        let (read, len) = self.bundle_read(&f)?;
        Ok(match read {
            Ok(c) => BundleCheck {
                ok: true,
                problems: Vec::new(),
                replaces_existing: self.profile()?.agents().get(&c.manifest.agent.id).is_ok(),
                summary: Some(c.summary(len)),
            },
            Err(bundle::Invalid(problems)) => {
                BundleCheck { ok: false, problems, summary: None, replaces_existing: false }
            }
        })
    }

    pub(crate) fn bundle_import(&self, f: FileInput) -> Result<bundle::ImportReport, ApiError> {
        let (read, _) = self.bundle_read(&f)?;
        let contents = read.map_err(|bundle::Invalid(problems)| {
            let lines: Vec<String> = problems.iter().take(10).map(|p| p.to_string()).collect();
            ApiError::new(
                ErrorCode::InvalidFile,
                format!("`{}` is not a valid bundle ({} problem(s)): {}", f.name, problems.len(), lines.join("; ")),
            )
            .hint("Check it with “Validate only” to see every problem; nothing was imported.")
        })?;
        let p = self.profile()?;
        Ok(bundle::import(&p, &contents)?)
    }
}
