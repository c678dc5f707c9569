//! Tables ("databases", policy §4.1): CSV parsing (quotes, embedded newlines, BOM, GBK),
//! ragged-row detection by line, column type inference and typed cells with errors by row and
//! column.
//!
//! Reading rules, decided once here:
//!
//! * The bytes are decoded by [`crate::text::decode`] (BOM, UTF-8, UTF-16, GBK).
//! * Quoting is RFC 4180: a field that starts with `"` may hold delimiters, newlines and
//!   doubled quotes (`""`). A quote that is never closed is an error naming its line (the
//!   `csv` crate would otherwise silently read the rest of the file into one cell).
//! * Empty lines, and lines holding nothing but whitespace, are not rows (anywhere in the
//!   file, including a trailing one). A line of delimiters (`,,`) is a row of empty cells.
//! * The delimiter, when not given, is the one among `,` `;` tab `|` that splits the first
//!   records into the same number (at least two) of fields most consistently; ties go to
//!   that order; a single-column file gets `,`.
//! * A header-only file is a valid table with zero rows; a file with no record at all is
//!   [`TableError::Empty`].
//! * Line numbers are 1-based; a line ends at `\n`, `\r\n` or a lone `\r`.

use std::collections::HashSet;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use crate::text::{self, DecodeError, LineCounter, SourceEncoding};

/// Column types a table supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Any text.
    Text,
    /// A whole number that fits in a signed 64-bit integer.
    Integer,
    /// A decimal number (`.` as the decimal point, exponent allowed), stored as a double.
    Number,
    /// `true`/`false`, `yes`/`no` (any case) or `是`/`否`.
    Boolean,
    /// ISO date `YYYY-MM-DD`.
    Date,
}

/// One column of a table: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The column's name (unique within the table).
    pub name: String,
    /// The type every cell of the column has.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "ts", ts(rename = "type"))]
    pub ty: ColumnType,
}

/// Options for reading a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// `None`: detect among `,` `;` tab `|` from the first lines.
    pub delimiter: Option<u8>,
    /// Whether the first record names the columns.
    pub has_header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { delimiter: None, has_header: true }
    }
}

/// A CSV file read into strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCsv {
    /// How the bytes were decoded.
    pub encoding: SourceEncoding,
    /// The delimiter used (given or detected).
    pub delimiter: u8,
    /// Column names (from the header, or `column_1`… without one). Blank names become
    /// `column_N`; duplicates get a `_2` suffix.
    pub header: Vec<String>,
    /// The data rows, each exactly `header.len()` raw (untrimmed) cells.
    pub rows: Vec<Vec<String>>,
    /// 1-based line number in the file where each row starts (same length as `rows`).
    pub row_lines: Vec<u64>,
}

/// A row whose field count differs from the header's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RaggedRow {
    /// 1-based line where the row starts.
    pub line: u64,
    /// Fields the header has.
    pub expected: u32,
    /// Fields the row has.
    pub found: u32,
}

/// A cell that does not fit its column's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CellError {
    /// 1-based data row (header excluded).
    pub row: u64,
    /// 1-based line in the source file when the row came from one.
    pub line: Option<u64>,
    /// The column's name.
    pub column: String,
    /// The cell's text (cut to 100 characters by [`typed_rows`]).
    pub value: String,
    /// The column's type.
    pub expected: ColumnType,
    /// Why the value does not fit, in a sentence.
    pub message: String,
}

/// Why a CSV file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// The bytes are not text in an encoding we accept.
    #[error("the file is not text: {0}")]
    Encoding(#[from] DecodeError),
    /// The CSV syntax is broken (a quote that is never closed).
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line where the problem starts.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Rows with a field count other than the header's (every one of them, in file order).
    #[error("{} row(s) have the wrong number of fields (first at line {}: expected {}, found {})", .0.len(), .0[0].line, .0[0].expected, .0[0].found)]
    Ragged(Vec<RaggedRow>),
    /// No record at all (not even a header).
    #[error("the file has no rows")]
    Empty,
    /// A limit of [`limits`] is exceeded.
    #[error("{what} exceeds the limit of {limit} (it has {actual})")]
    TooLarge {
        /// What is too large (`"the number of columns"`, `"the number of rows"`, `"a cell's size in bytes"`).
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The file's value.
        actual: u64,
    },
}

/// Limits of one table.
pub mod limits {
    /// Most columns a table has.
    pub const MAX_COLUMNS: usize = 256;
    /// Most data rows a table has.
    pub const MAX_ROWS: usize = 1_000_000;
    /// Largest cell, in bytes of UTF-8.
    pub const MAX_CELL_BYTES: usize = 64 * 1024;
    /// Most cell errors [`super::typed_rows`] returns.
    pub const MAX_CELL_ERRORS: usize = 1_000;
}

/// Reads CSV bytes. Every ragged row is reported (all of them, by line), not just the first.
///
/// # Errors
///
/// In this order of precedence: [`TableError::Encoding`] for undecodable bytes,
/// [`TableError::TooLarge`] when the header has too many columns, [`TableError::Csv`] for a
/// quote never closed, [`TableError::TooLarge`] for too many rows or too large a cell,
/// [`TableError::Ragged`] with every row whose field count is not the header's, and
/// [`TableError::Empty`] when there is no record at all.
pub fn parse_csv(bytes: &[u8], opts: CsvOptions) -> Result<ParsedCsv, TableError> {
    let decoded = text::decode(bytes)?;
    let text = decoded.text.as_str();
    let delimiter = opts.delimiter.unwrap_or_else(|| detect_delimiter(text));

    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut row_lines = Vec::new();
    let mut ragged = Vec::new();
    let mut row_count = 0u64;
    let mut too_wide: Option<TableError> = None;
    let mut too_large_cell: Option<TableError> = None;

    let read = for_each_record(text, delimiter, |record, span| {
        let expected = match &header {
            Some(h) => h.len(),
            None => {
                if record.len() > limits::MAX_COLUMNS {
                    too_wide = Some(TableError::TooLarge {
                        what: "the number of columns",
                        limit: limits::MAX_COLUMNS as u64,
                        actual: record.len() as u64,
                    });
                    return ControlFlow::Break(());
                }
                if opts.has_header {
                    header = Some(header_names(record));
                    return ControlFlow::Continue(());
                }
                header = Some((1..=record.len()).map(|i| format!("column_{i}")).collect());
                record.len()
            }
        };
        row_count += 1;
        if too_large_cell.is_none() {
            if let Some(big) = record.iter().find(|f| f.len() > limits::MAX_CELL_BYTES) {
                too_large_cell = Some(TableError::TooLarge {
                    what: "a cell's size in bytes",
                    limit: limits::MAX_CELL_BYTES as u64,
                    actual: big.len() as u64,
                });
            }
        }
        if record.len() != expected {
            ragged.push(RaggedRow { line: span.line, expected: expected as u32, found: record.len() as u32 });
        }
        // Rows are kept only while the table can still be returned.
        if ragged.is_empty() && too_large_cell.is_none() && row_count <= limits::MAX_ROWS as u64 {
            rows.push(record.iter().map(str::to_owned).collect());
            row_lines.push(span.line);
        }
        ControlFlow::Continue(())
    });
    if let Some(e) = too_wide {
        return Err(e);
    }
    if let Err(failure) = read {
        return Err(TableError::Csv { line: failure.line, message: failure.message });
    }
    if row_count > limits::MAX_ROWS as u64 {
        return Err(TableError::TooLarge {
            what: "the number of rows",
            limit: limits::MAX_ROWS as u64,
            actual: row_count,
        });
    }
    if let Some(e) = too_large_cell {
        return Err(e);
    }
    if !ragged.is_empty() {
        return Err(TableError::Ragged(ragged));
    }
    let header = header.ok_or(TableError::Empty)?;
    Ok(ParsedCsv { encoding: decoded.encoding, delimiter, header, rows, row_lines })
}

/// The narrowest type every non-empty cell of each column fits (Text when mixed).
///
/// Cells are trimmed; empty ones are ignored, and a column with no non-empty cell is Text.
/// The order of preference is Integer, Number, Boolean, Date, Text. Inference is stricter
/// than [`typed_cell`] so that nothing is lost by converting: numbers with leading zeros
/// (`007`, `0123.5`: codes, not quantities) stay Text, and `0`/`1` columns are Integer, not
/// Boolean.
pub fn infer_columns(parsed: &ParsedCsv) -> Vec<Column> {
    parsed
        .header
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let (mut integer, mut number, mut boolean, mut date) = (true, true, true, true);
            let mut any = false;
            for row in &parsed.rows {
                let cell = row.get(j).map_or("", |c| c.trim());
                if cell.is_empty() {
                    continue;
                }
                any = true;
                integer = integer && is_decimal(cell, true) && is_integer_syntax(cell) && cell.parse::<i64>().is_ok();
                number = number && is_decimal(cell, true) && parse_number(cell).is_some();
                boolean = boolean && parse_bool(cell).is_some();
                date = date && check_date(cell).is_ok();
                if !(integer || number || boolean || date) {
                    break;
                }
            }
            let ty = if !any {
                ColumnType::Text
            } else if integer {
                ColumnType::Integer
            } else if number {
                ColumnType::Number
            } else if boolean {
                ColumnType::Boolean
            } else if date {
                ColumnType::Date
            } else {
                ColumnType::Text
            };
            Column { name: name.clone(), ty }
        })
        .collect()
}

/// Converts one raw cell. Empty text is `null` for every type.
///
/// Text keeps the raw string (whitespace included). The other types trim the cell first
/// (whitespace only is `null` too) and accept: Integer, an optional sign and digits within
/// the 64-bit range; Number, a decimal with `.` and an optional exponent (not NaN or
/// infinity), as a double; Boolean, `true`/`false`/`yes`/`no` in any case, `是`/`否`, and
/// `1`/`0`; Date, `YYYY-MM-DD` naming a real calendar day (years 0001–9999), kept as that
/// string.
///
/// # Errors
///
/// A sentence saying why the text does not fit the type, with an example of what would.
pub fn typed_cell(ty: ColumnType, raw: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    let cell = raw.trim();
    if cell.is_empty() && ty != ColumnType::Text {
        return Ok(Value::Null);
    }
    match ty {
        ColumnType::Text => Ok(Value::String(raw.to_owned())),
        ColumnType::Integer => {
            if is_integer_syntax(cell) {
                cell.parse::<i64>().map(Value::from).map_err(|_| {
                    "outside the range of whole numbers (±9223372036854775807); use the Number type".to_owned()
                })
            } else if is_decimal(cell, false) {
                Err("not a whole number; use the Number type for decimals".to_owned())
            } else {
                Err("not a whole number (expected digits with an optional sign, e.g. 42 or -7)".to_owned())
            }
        }
        ColumnType::Number => {
            if is_decimal(cell, false) {
                parse_number(cell).map(Value::Number).ok_or_else(|| "too large for a number".to_owned())
            } else if cell.contains(',') && is_decimal(&cell.replace(',', "."), false) {
                Err("not a number: use `.` as the decimal point (1.5, not 1,5) and no thousands separators".to_owned())
            } else {
                Err("not a number (expected e.g. 3.14, -2 or 1e6)".to_owned())
            }
        }
        ColumnType::Boolean => parse_bool(cell)
            .or(match cell {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            })
            .map(Value::Bool)
            .ok_or_else(|| "not a yes/no value (expected true, false, yes, no, 是, 否, 1 or 0)".to_owned()),
        ColumnType::Date => check_date(cell).map(|()| Value::String(cell.to_owned())),
    }
}

/// Converts all rows; on failure returns every cell error (row, line, column), up to 1,000.
///
/// `row_lines`, when given, holds each row's line in the source file (as
/// [`ParsedCsv::row_lines`]). A row with a cell count other than the columns' is one error
/// (with an empty column name). Error values are cut to 100 characters.
///
/// # Errors
///
/// Every [`CellError`] in row order, at most [`limits::MAX_CELL_ERRORS`].
pub fn typed_rows(
    columns: &[Column],
    rows: &[Vec<String>],
    row_lines: Option<&[u64]>,
) -> Result<Vec<Vec<serde_json::Value>>, Vec<CellError>> {
    let mut out = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let row_no = i as u64 + 1;
        let line = row_lines.and_then(|l| l.get(i)).copied();
        if row.len() != columns.len() {
            errors.push(CellError {
                row: row_no,
                line,
                column: String::new(),
                value: String::new(),
                expected: ColumnType::Text,
                message: format!("the row has {} cells; the table has {} columns", row.len(), columns.len()),
            });
        } else {
            let mut typed = Vec::with_capacity(columns.len());
            for (col, raw) in columns.iter().zip(row) {
                match typed_cell(col.ty, raw) {
                    Ok(v) => typed.push(v),
                    Err(message) => {
                        errors.push(CellError {
                            row: row_no,
                            line,
                            column: col.name.clone(),
                            value: shorten(raw, 100),
                            expected: col.ty,
                            message,
                        });
                        if errors.len() >= limits::MAX_CELL_ERRORS {
                            return Err(errors);
                        }
                    }
                }
            }
            if errors.is_empty() {
                out.push(typed);
            }
        }
        if errors.len() >= limits::MAX_CELL_ERRORS {
            return Err(errors);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading records (shared with `dataset`).

/// Where one record sits in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordSpan {
    /// Byte offset of the record's first byte.
    pub start: usize,
    /// Byte offset just after the record (its line terminator excluded).
    pub end: usize,
    /// 1-based line of `start`.
    pub line: u64,
}

/// A CSV syntax error, by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvFailure {
    pub line: u64,
    pub message: String,
}

/// Calls `f` with every record of `text` that is not blank (see the module's rules), in
/// order, with its place. Stops early when `f` breaks.
///
/// # Errors
///
/// A quote that is never closed (checked after the last record unless `f` broke).
pub(crate) fn for_each_record(
    text: &str,
    delimiter: u8,
    mut f: impl FnMut(&csv::StringRecord, RecordSpan) -> ControlFlow<()>,
) -> Result<(), CsvFailure> {
    let bytes = text.as_bytes();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new();
    let mut last_start = None;
    loop {
        let before = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let at = e.position().map_or(before, |p| p.byte() as usize);
                return Err(CsvFailure { line: lines.advance(bytes, at), message: e.to_string() });
            }
        }
        let after = (reader.position().byte() as usize).min(bytes.len());
        // The reader's position before a record may still be at the previous record's line
        // terminator or at skipped empty lines: the record starts after them.
        let skipped = bytes[before..after].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
        let start = before + skipped;
        let end = start + text[start..after].trim_end_matches(['\n', '\r']).len();
        last_start = Some(start);
        if is_blank(&record) {
            continue;
        }
        let span = RecordSpan { start, end, line: lines.advance(bytes, start) };
        if f(&record, span).is_break() {
            return Ok(());
        }
    }
    if let Some(start) = last_start {
        if let Some(open) = unclosed_quote(bytes, start, delimiter) {
            return Err(CsvFailure {
                line: lines.advance(bytes, open),
                message: "a quoted field starts here and its closing quote (\") is missing".to_owned(),
            });
        }
    }
    Ok(())
}

/// A record that is an empty or whitespace-only line.
fn is_blank(record: &csv::StringRecord) -> bool {
    record.len() == 1 && record[0].trim().is_empty()
}

/// The byte offset of a quote that opens a field in the last record (starting at `from`)
/// and is never closed, following the `csv` crate's rules (a quote opens a field only as
/// its first byte; `""` inside is an escaped quote).
fn unclosed_quote(bytes: &[u8], from: usize, delimiter: u8) -> Option<usize> {
    let mut i = from;
    let mut at_field_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if at_field_start && b == b'"' {
            let open = i;
            i += 1;
            loop {
                let Some(k) = memchr::memchr(b'"', &bytes[i..]) else { return Some(open) };
                let close = i + k;
                if bytes.get(close + 1) == Some(&b'"') {
                    i = close + 2;
                } else {
                    i = close + 1;
                    break;
                }
            }
            at_field_start = false;
            continue;
        }
        at_field_start = b == delimiter || b == b'\n' || b == b'\r';
        i += 1;
    }
    None
}

/// The delimiter among `,` `;` tab `|` that splits the first records (up to 20, from the
/// first 64 KiB) most consistently into at least two fields; `,` when none does.
pub(crate) fn detect_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    const SAMPLE_BYTES: usize = 64 * 1024;
    const SAMPLE_RECORDS: usize = 20;
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let truncated = end < text.len();
    let sample = &text.as_bytes()[..end];
    let mut best = (b',', 0usize, 0usize);
    for delimiter in CANDIDATES {
        let mut reader =
            csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(sample);
        let mut counts = Vec::new();
        let mut record = csv::ByteRecord::new();
        while counts.len() <= SAMPLE_RECORDS {
            match reader.read_byte_record(&mut record) {
                Ok(true) if record.len() == 1 && record[0].trim_ascii().is_empty() => {}
                Ok(true) => counts.push(record.len()),
                _ => break,
            }
        }
        // The last record of a cut sample may itself be cut.
        if (truncated || counts.len() > SAMPLE_RECORDS) && counts.len() > 1 {
            counts.pop();
        }
        let Some(&first) = counts.first() else { continue };
        if first < 2 {
            continue;
        }
        let consistent = counts.iter().filter(|&&n| n == first).count();
        if (consistent, first) > (best.1, best.2) {
            best = (delimiter, consistent, first);
        }
    }
    best.0
}

fn header_names(record: &csv::StringRecord) -> Vec<String> {
    let mut seen = HashSet::new();
    record
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
            let base = if trimmed.is_empty() { format!("column_{}", i + 1) } else { trimmed.to_owned() };
            let mut name = base.clone();
            let mut n = 2;
            while seen.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            seen.insert(name.clone());
            name
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Cell syntax.

/// `[+-]?[0-9]+`
fn is_integer_syntax(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`. With `no_leading_zeros`,
/// an integer part of two or more digits may not start with `0`.
fn is_decimal(s: &str, no_leading_zeros: bool) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let int_digits = digits(&mut i);
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digits(&mut i);
    }
    if int_digits + frac_digits == 0 || (no_leading_zeros && int_digits > 1 && b[int_start] == b'0') {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A finite double from text already known to be [`is_decimal`].
fn parse_number(s: &str) -> Option<serde_json::Number> {
    s.parse::<f64>().ok().filter(|f| f.is_finite()).and_then(serde_json::Number::from_f64)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "是" => return Some(true),
        "否" => return Some(false),
        _ => {}
    }
    if s.len() > 5 {
        return None;
    }
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// `YYYY-MM-DD` naming a real day (years 0001–9999).
fn check_date(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9].iter().all(|&i| b[i].is_ascii_digit());
    if !shape {
        return Err("not a date in the form YYYY-MM-DD (e.g. 2024-03-01)".to_owned());
    }
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    if year == 0 {
        return Err("not a calendar date: the year must be 0001 or later".to_owned());
    }
    if !(1..=12).contains(&month) {
        return Err("not a calendar date: the month must be 01–12".to_owned());
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return Err(format!("not a calendar date: {year:04}-{month:02} has {days} days"));
    }
    Ok(())
}

fn shorten(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers() {
        assert_eq!(typed_cell(ColumnType::Integer, "42"), Ok(json!(42)));
        assert_eq!(typed_cell(ColumnType::Integer, " -7 "), Ok(json!(-7)));
        assert_eq!(typed_cell(ColumnType::Integer, "+3"), Ok(json!(3)));
        assert_eq!(typed_cell(ColumnType::Integer, "007"), Ok(json!(7)));
        assert_eq!(typed_cell(ColumnType::Integer, "9223372036854775807"), Ok(json!(i64::MAX)));
        assert!(typed_cell(ColumnType::Integer, "9223372036854775808").unwrap_err().contains("range"));
        assert!(typed_cell(ColumnType::Integer, "1.5").unwrap_err().contains("Number"));
        assert!(typed_cell(ColumnType::Integer, "abc").is_err());
        assert!(typed_cell(ColumnType::Integer, "1 000").is_err());
        assert!(typed_cell(ColumnType::Integer, "-").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(typed_cell(ColumnType::Number, "2.75"), Ok(json!(2.75)));
        assert_eq!(typed_cell(ColumnType::Number, "-2"), Ok(json!(-2.0)));
        assert_eq!(typed_cell(ColumnType::Number, "1e6"), Ok(json!(1e6)));
        assert_eq!(typed_cell(ColumnType::Number, ".5"), Ok(json!(0.5)));
        assert_eq!(typed_cell(ColumnType::Number, "5."), Ok(json!(5.0)));
        assert_eq!(typed_cell(ColumnType::Number, "2.5E-3"), Ok(json!(0.0025)));
        for bad in ["NaN", "inf", "infinity", "-inf", "1e", ".", "1.2.3", "0x10", "1e999"] {
            assert!(typed_cell(ColumnType::Number, bad).is_err(), "{bad}");
        }
        assert!(typed_cell(ColumnType::Number, "1,5").unwrap_err().contains("decimal point"));
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "Yes", "是", "1"] {
            assert_eq!(typed_cell(ColumnType::Boolean, t), Ok(json!(true)), "{t}");
        }
        for f in ["false", "No", "否", "0"] {
            assert_eq!(typed_cell(ColumnType::Boolean, f), Ok(json!(false)), "{f}");
        }
        assert!(typed_cell(ColumnType::Boolean, "maybe").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(typed_cell(ColumnType::Date, "2024-02-29"), Ok(json!("2024-02-29")));
        assert_eq!(typed_cell(ColumnType::Date, "2000-02-29"), Ok(json!("2000-02-29")));
        assert!(typed_cell(ColumnType::Date, "1900-02-29").unwrap_err().contains("28 days"));
        assert!(typed_cell(ColumnType::Date, "2023-02-29").is_err());
        assert!(typed_cell(ColumnType::Date, "2023-13-01").unwrap_err().contains("month"));
        assert!(typed_cell(ColumnType::Date, "2023-04-31").is_err());
        assert!(typed_cell(ColumnType::Date, "0000-01-01").is_err());
        assert!(typed_cell(ColumnType::Date, "2023/01/01").unwrap_err().contains("YYYY-MM-DD"));
        assert!(typed_cell(ColumnType::Date, "2023-1-01").is_err());
        assert!(typed_cell(ColumnType::Date, "２０２３-01-01").is_err());
    }

    #[test]
    fn empty_is_null_for_every_type() {
        for ty in [ColumnType::Text, ColumnType::Integer, ColumnType::Number, ColumnType::Boolean, ColumnType::Date] {
            assert_eq!(typed_cell(ty, ""), Ok(serde_json::Value::Null));
        }
        assert_eq!(typed_cell(ColumnType::Integer, "  "), Ok(serde_json::Value::Null));
        assert_eq!(typed_cell(ColumnType::Text, " a "), Ok(json!(" a ")));
    }

    #[test]
    fn inference_rules() {
        let parsed = ParsedCsv {
            encoding: SourceEncoding::Utf8,
            delimiter: b',',
            header: ["int", "num", "flag", "bits", "day", "code", "mixed", "blank"].map(String::from).to_vec(),
            rows: vec![
                ["1", "1.5", "yes", "0", "2024-01-31", "007", "1", ""].map(String::from).to_vec(),
                ["-20", "2", "NO", "1", "", "010", "x", " "].map(String::from).to_vec(),
                ["", "-1e3", "是", "1", "1999-12-31", "1", "2024-01-01", ""].map(String::from).to_vec(),
            ],
            row_lines: vec![2, 3, 4],
        };
        let types: Vec<_> = infer_columns(&parsed).into_iter().map(|c| c.ty).collect();
        use ColumnType::*;
        assert_eq!(types, vec![Integer, Number, Boolean, Integer, Date, Text, Text, Text]);
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(detect_delimiter("id\tname\n1\tSmith, J\n"), b'\t');
        assert_eq!(detect_delimiter("a|b\n1|2\n"), b'|');
        assert_eq!(detect_delimiter("just one column\nvalue\n"), b',');
        assert_eq!(detect_delimiter("name,note\nx,\"a;b;c\"\n"), b',');
        assert_eq!(detect_delimiter(""), b',');
    }

    #[test]
    fn unclosed_quotes_are_found() {
        assert_eq!(unclosed_quote(b"a,\"b", 0, b','), Some(2));
        assert_eq!(unclosed_quote(b"a,\"b\"\"c\"", 0, b','), None);
        assert_eq!(unclosed_quote(b"a,b\"c", 0, b','), None);
        assert_eq!(unclosed_quote(b"\"a\"x\"", 0, b','), None);
    }

    #[test]
    fn header_names_are_unique_and_never_blank() {
        let rec = csv::StringRecord::from(vec![" id ", "", "name", "name", "name_2", "\u{FEFF}x"]);
        assert_eq!(header_names(&rec), vec!["id", "column_2", "name", "name_2", "name_2_2", "x"]);
    }
}
