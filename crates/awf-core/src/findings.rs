//! PII findings as stored with a dataset, a table or shown for an agent's instructions: counts
//! by kind, and the first findings with their place and a masked excerpt (never the value).
//! They drive the attestation before sync (policy §1.5 4.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use awf_ingest::pii::{self, PiiKind};

/// How many findings are kept with their place; beyond it only the counts grow.
pub const KEPT: usize = 200;

/// One finding with its place and a masked excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredFinding {
    pub kind: PiiKind,
    /// Where, in words a person can follow: `line 12, column 4` or `row 3, column email`.
    pub location: String,
    /// 1-based line (text) or row (table).
    pub line: u64,
    /// 1-based column in characters (text); 0 for tables.
    pub column: u64,
    /// Table column name, when in a table.
    pub field: Option<String>,
    pub masked: String,
}

/// The PII found in one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PiiSummary {
    pub total: u64,
    pub by_kind: BTreeMap<PiiKind, u64>,
    /// The first [`KEPT`] findings, in order.
    pub findings: Vec<StoredFinding>,
}

impl PiiSummary {
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn add(&mut self, f: StoredFinding) {
        self.total += 1;
        *self.by_kind.entry(f.kind).or_default() += 1;
        if self.findings.len() < KEPT {
            self.findings.push(f);
        }
    }

    /// Scans a text; `line_offset` is added to lines (for text scanned in pieces).
    pub fn add_text(&mut self, text: &str, line_offset: u64) {
        for f in pii::scan(text) {
            let line = f.line as u64 + line_offset;
            let matched = text.get(f.start..f.end).unwrap_or("");
            self.add(StoredFinding {
                kind: f.kind,
                location: format!("line {line}, column {}", f.column),
                line,
                column: f.column as u64,
                field: None,
                masked: pii::mask(f.kind, matched),
            });
        }
    }

    /// Scans one table cell.
    pub fn add_cell(&mut self, row: u64, column: &str, text: &str) {
        for f in pii::scan(text) {
            let matched = text.get(f.start..f.end).unwrap_or("");
            self.add(StoredFinding {
                kind: f.kind,
                location: format!("row {row}, column {column}"),
                line: row,
                column: 0,
                field: Some(column.to_string()),
                masked: pii::mask(f.kind, matched),
            });
        }
    }

    /// Scans a whole text that may be large, in line-aligned pieces so memory stays bounded
    /// by the findings kept, and reports progress in bytes.
    pub fn scan_large(text: &str, mut progress: impl FnMut(u64)) -> PiiSummary {
        const PIECE: usize = 4 * 1024 * 1024;
        let mut s = PiiSummary::default();
        let mut start = 0;
        let mut line_offset = 0u64;
        while start < text.len() {
            let mut end = (start + PIECE).min(text.len());
            // Cut after a newline so no finding straddles two pieces.
            if end < text.len() {
                end = match text[start..end].rfind('\n') {
                    Some(i) => start + i + 1,
                    None => {
                        let mut e = end;
                        while !text.is_char_boundary(e) {
                            e += 1;
                        }
                        e
                    }
                };
            }
            let piece = &text[start..end];
            s.add_text(piece, line_offset);
            line_offset += piece.bytes().filter(|b| *b == b'\n').count() as u64;
            start = end;
            progress(start as u64);
        }
        s
    }
}
