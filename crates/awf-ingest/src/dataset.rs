//! Datasets (B3): which files are accepted, how each format is checked, and how text is cut
//! into chunks for preview (and later retrieval).

use serde::{Deserialize, Serialize};

/// Accepted dataset formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    Txt,
    Markdown,
    Csv,
    Json,
    Jsonl,
}

impl DatasetFormat {
    /// From a file name's extension (`.txt`, `.md`/`.markdown`, `.csv`, `.json`, `.jsonl`/`.ndjson`).
    pub fn from_file_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => DatasetFormat::Txt,
            "md" | "markdown" => DatasetFormat::Markdown,
            "csv" => DatasetFormat::Csv,
            "json" => DatasetFormat::Json,
            "jsonl" | "ndjson" => DatasetFormat::Jsonl,
            _ => return None,
        })
    }
}

/// Limits of one dataset file.
pub mod limits {
    /// Largest file accepted.
    pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
}

/// How text is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ChunkOptions {
    /// Upper bound of a chunk's length in characters (100..=8000).
    pub max_chars: u32,
    /// Characters repeated from the end of the previous chunk (< max_chars / 2).
    pub overlap_chars: u32,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions { max_chars: 800, overlap_chars: 80 }
    }
}

/// One chunk: its position in the decoded text and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Chunk {
    pub index: u32,
    /// Byte range in the decoded text.
    pub start: u64,
    pub end: u64,
    pub text: String,
}

/// A content problem in a dataset file, with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct DatasetError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Checks that the text is what its format says (JSON parses, each JSONL line parses, CSV is
/// well-formed). Plain text and Markdown always pass.
pub fn validate(format: DatasetFormat, text: &str) -> Result<(), DatasetError> {
    let _ = (format, text);
    todo!("dataset::validate")
}

/// Cuts text into chunks, honouring the format's natural units (paragraphs and headings for
/// text/Markdown, records for JSONL/CSV rows, top-level array items for JSON) and never
/// splitting a UTF-8 character. Deterministic: the same input gives the same chunks.
pub fn chunks(format: DatasetFormat, text: &str, opts: ChunkOptions) -> Vec<Chunk> {
    let _ = (format, text, opts);
    todo!("dataset::chunks")
}
