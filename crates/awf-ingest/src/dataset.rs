//! Datasets (B3): which files are accepted, how each format is checked, and how text is cut
//! into chunks for preview (and later retrieval).
//!
//! Chunking rules (all deterministic, all linear in the text's length):
//!
//! * **Text and Markdown.** A chunk ends at the strongest break within its first `max_chars`
//!   characters: a Markdown ATX heading (`#`…`######`, outside fenced code) first, then a
//!   paragraph end (a blank line), a sentence end (`。！？`, or `.!?` followed by whitespace;
//!   closing quotes and brackets allowed in between), a line end, a space; failing all of
//!   those, a hard cut after exactly `max_chars` characters (never inside a UTF-8 character).
//!   Among breaks of the same strength the latest wins. Headings and paragraph ends count from
//!   a quarter of `max_chars` on, weaker breaks from half, so that no chunk but the last is
//!   tiny. The next chunk starts `overlap_chars` characters before the previous end (those
//!   fractions then apply to the characters after the overlap), or, without overlap, at the
//!   next non-whitespace character. Chunks neither
//!   begin nor end with whitespace, except where an overlap starts in it or a hard cut falls
//!   in a run of whitespace longer than half a chunk.
//! * **JSONL.** Records (non-blank lines) are merged into one chunk while the chunk stays within
//!   `max_chars`; a record longer than that is cut like text, without overlap.
//! * **CSV.** Rows are grouped the same way; each chunk's text is the header line, a newline,
//!   then the rows, and its range is the rows' range. A header-only file is one chunk of the
//!   header.
//! * **JSON.** A top-level array's items are grouped like JSONL records, each item written
//!   compactly (whitespace outside strings removed, key order kept), one per line; the range
//!   runs from the first item's start to the last one's end. An item too long for a chunk is cut
//!   like text from the original. Any other JSON (or invalid JSON) is chunked as text.
//!
//! `start`/`end` are byte offsets into the text; for text, Markdown and JSONL a chunk's text is
//! exactly `text[start..end]`. Every non-whitespace character lies in some chunk's range
//! (for CSV: of the rows; for a JSON array: of the items).

use std::ops::ControlFlow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::table;

/// Accepted dataset formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    /// Plain text.
    Txt,
    /// Markdown.
    Markdown,
    /// Comma- (or semicolon-, tab-, pipe-) separated values with a header line.
    Csv,
    /// One JSON document.
    Json,
    /// JSON Lines: one JSON value per line.
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

impl ChunkOptions {
    /// Smallest `max_chars` accepted.
    pub const MIN_MAX_CHARS: u32 = 100;
    /// Largest `max_chars` accepted.
    pub const MAX_MAX_CHARS: u32 = 8000;

    /// Checks the bounds: `max_chars` in 100..=8000 and `overlap_chars` below half of it.
    ///
    /// # Errors
    ///
    /// A sentence naming the field, its bound and its value.
    pub fn validate(&self) -> Result<(), String> {
        if !(Self::MIN_MAX_CHARS..=Self::MAX_MAX_CHARS).contains(&self.max_chars) {
            return Err(format!(
                "max_chars must be between {} and {} (it is {})",
                Self::MIN_MAX_CHARS,
                Self::MAX_MAX_CHARS,
                self.max_chars
            ));
        }
        if self.overlap_chars >= self.max_chars / 2 {
            return Err(format!(
                "overlap_chars must be less than half of max_chars, {} (it is {})",
                self.max_chars / 2,
                self.overlap_chars
            ));
        }
        Ok(())
    }

    /// The options brought within bounds: `(max_chars, overlap_chars)`.
    fn effective(self) -> (usize, usize) {
        let max = self.max_chars.clamp(Self::MIN_MAX_CHARS, Self::MAX_MAX_CHARS) as usize;
        (max, (self.overlap_chars as usize).min(max / 2 - 1))
    }
}

/// One chunk: its position in the decoded text and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Chunk {
    /// 0-based position in the list of chunks.
    pub index: u32,
    /// Byte range in the decoded text.
    pub start: u64,
    /// End (exclusive) of the byte range.
    pub end: u64,
    /// The chunk's text (see the module's rules for CSV and JSON).
    pub text: String,
}

/// A content problem in a dataset file, with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct DatasetError {
    /// 1-based line.
    pub line: u64,
    /// 1-based column in the line as the JSON parser counts it (0 when the problem is at the end
    /// of the input); 1 for problems of a whole CSV line.
    pub column: u64,
    /// What is wrong.
    pub message: String,
}

/// Checks that the text is what its format says (JSON parses, each JSONL line parses, CSV is
/// well-formed). Plain text and Markdown always pass.
///
/// An empty JSON document is an error (JSON needs a value); an empty JSONL or CSV file is
/// well-formed (no records). CSV is well-formed when every quote is closed and every row has
/// the header's number of fields.
///
/// # Errors
///
/// The first problem, by line and column.
pub fn validate(format: DatasetFormat, text: &str) -> Result<(), DatasetError> {
    match format {
        DatasetFormat::Txt | DatasetFormat::Markdown => Ok(()),
        DatasetFormat::Json => serde_json::from_str::<IgnoredAny>(text).map(drop).map_err(|e| DatasetError {
            line: e.line() as u64,
            column: e.column() as u64,
            message: format!("not valid JSON: {}", json_message(&e)),
        }),
        DatasetFormat::Jsonl => validate_jsonl(text),
        DatasetFormat::Csv => validate_csv(text),
    }
}

fn validate_jsonl(text: &str) -> Result<(), DatasetError> {
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_str::<IgnoredAny>(line) {
            return Err(DatasetError {
                line: i as u64 + 1,
                column: e.column() as u64,
                message: format!("this line is not valid JSON: {}", json_message(&e)),
            });
        }
    }
    Ok(())
}

fn validate_csv(text: &str) -> Result<(), DatasetError> {
    let delimiter = table::detect_delimiter(text);
    let mut expected = None;
    let mut first_ragged = None;
    let mut ragged = 0u64;
    table::for_each_record(text, delimiter, |record, span| {
        match expected {
            None => expected = Some(record.len()),
            Some(n) if n != record.len() => {
                ragged += 1;
                first_ragged.get_or_insert((span.line, n, record.len()));
            }
            Some(_) => {}
        }
        ControlFlow::Continue(())
    })
    .map_err(|f| DatasetError { line: f.line, column: 1, message: f.message })?;
    match first_ragged {
        None => Ok(()),
        Some((line, expected, found)) => Err(DatasetError {
            line,
            column: 1,
            message: format!(
                "this row has {found} field(s); the header has {expected}{}",
                match ragged - 1 {
                    0 => String::new(),
                    more => format!(" ({more} more row(s) have the wrong number of fields)"),
                }
            ),
        }),
    }
}

/// serde_json's message without its " at line L column C" suffix (the place is reported apart).
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    }
}

/// Cuts text into chunks, honouring the format's natural units (paragraphs and headings for
/// text/Markdown, records for JSONL/CSV rows, top-level array items for JSON) and never
/// splitting a UTF-8 character. Deterministic: the same input gives the same chunks.
///
/// Options out of bounds (see [`ChunkOptions::validate`]) are brought within them. Every
/// chunk holds at most `max_chars` characters, plus the header line and a newline for CSV.
pub fn chunks(format: DatasetFormat, text: &str, opts: ChunkOptions) -> Vec<Chunk> {
    let (max, overlap) = opts.effective();
    let mut out = Chunks::default();
    match format {
        DatasetFormat::Txt => split_text(text, 0, text.len(), max, overlap, &[], &mut |s, e| out.slice(text, s, e)),
        DatasetFormat::Markdown => {
            let headings = markdown_headings(text);
            split_text(text, 0, text.len(), max, overlap, &headings, &mut |s, e| out.slice(text, s, e));
        }
        DatasetFormat::Jsonl => chunk_jsonl(text, max, &mut out),
        DatasetFormat::Csv => chunk_csv(text, max, &mut out),
        DatasetFormat::Json => {
            if !chunk_json_array(text, max, &mut out) {
                split_text(text, 0, text.len(), max, overlap, &[], &mut |s, e| out.slice(text, s, e));
            }
        }
    }
    out.list
}

#[derive(Default)]
struct Chunks {
    list: Vec<Chunk>,
}

impl Chunks {
    fn push(&mut self, start: usize, end: usize, text: String) {
        let index = self.list.len() as u32;
        self.list.push(Chunk { index, start: start as u64, end: end as u64, text });
    }

    fn slice(&mut self, text: &str, start: usize, end: usize) {
        self.push(start, end, text[start..end].to_owned());
    }
}

// ---------------------------------------------------------------------------------------------
// Text.

/// Break strengths, weakest first; index into the best-break table.
const WORD: usize = 1;
const LINE: usize = 2;
const SENTENCE: usize = 3;
const PARAGRAPH: usize = 4;
const HEADING: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Other,
    /// `.` `!` `?`: a sentence end when whitespace follows.
    AsciiEnd,
    /// `。` `！` `？`: a sentence end whatever follows.
    CjkEnd,
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '”' | '’' | '」' | '』' | '）' | '》' | '】')
}

/// Cuts `text[from..to]` into byte ranges of at most `max` characters (see the module's rules),
/// calling `emit` with each in order. `headings` holds the byte offsets of heading lines'
/// first non-space character, sorted.
fn split_text(
    text: &str,
    from: usize,
    to: usize,
    max: usize,
    overlap: usize,
    headings: &[usize],
    emit: &mut dyn FnMut(usize, usize),
) {
    let region = &text[from..to];
    let content_start = from + (region.len() - region.trim_start().len());
    let content_end = from + region.trim_end().len();
    if content_start >= content_end {
        return;
    }
    let total = text[content_start..content_end].chars().count();
    let (mut pos, mut pos_char) = (content_start, 0usize);
    let mut floor = 1;
    loop {
        if total - pos_char <= max {
            emit(pos, content_end);
            return;
        }
        let (end, chars) = best_break(text, pos, content_end, max, floor, headings);
        emit(pos, end);
        let end_char = pos_char + chars;
        let rest = &text[end..content_end];
        let gap = &rest[..rest.len() - rest.trim_start().len()];
        let gap_chars = gap.chars().count();
        // An overlap across a long run of whitespace would repeat text next to nothing new.
        if overlap > 0 && chars > overlap && overlap + gap_chars < max / 2 {
            pos = text[..end].char_indices().rev().nth(overlap - 1).map_or(pos, |(i, _)| i);
            pos_char = end_char - overlap;
            // The next chunk must reach past the whitespace after this one's end.
            floor = overlap + gap_chars + 1;
        } else {
            pos = end + gap.len();
            pos_char = end_char + gap_chars;
            floor = 1;
        }
    }
}

/// The end of the chunk that starts at `pos`, as `(byte, characters from pos)`: the strongest
/// break within the next `max` characters — headings and paragraph ends from a quarter of
/// them on, other breaks from half — else a hard cut after `max` characters. The first
/// `floor - 1` characters (an overlap) are not counted in those fractions, and no break
/// before `floor` counts. The text from `pos` to `content_end` must be longer than `max`
/// characters; `1 <= floor <= max / 2`.
fn best_break(
    text: &str,
    pos: usize,
    content_end: usize,
    max: usize,
    floor: usize,
    headings: &[usize],
) -> (usize, usize) {
    // Fill is measured in characters after `floor` (the previous chunk's end when overlapping).
    let fresh = max - (floor - 1);
    let min_fill = floor - 1 + (fresh / 2).max(1);
    let min_fill_strong = floor - 1 + (fresh / 4).max(1);
    let window = &text[pos..content_end];
    let mut best: [Option<(usize, usize)>; HEADING + 1] = [None; HEADING + 1];
    let mut hard = None;
    let mut last = Last::Other;
    let mut k = 0usize; // characters before the current one
    let mut chars = window.char_indices().peekable();
    while let Some((off, c)) = chars.next() {
        if k > max {
            break;
        }
        if c.is_whitespace() {
            let (run_start, run_k) = (off, k);
            let mut newlines = usize::from(c == '\n');
            if k == max {
                hard = Some((pos + off, k));
            }
            k += 1;
            while let Some(&(o, c2)) = chars.peek() {
                // Past the window the run's length no longer matters (and a huge run must not be
                // read once per chunk).
                if !c2.is_whitespace() || k > max {
                    break;
                }
                if k == max && hard.is_none() {
                    hard = Some((pos + o, k));
                }
                newlines += usize::from(c2 == '\n');
                k += 1;
                chars.next();
            }
            if run_k >= min_fill_strong {
                let run_end = pos + chars.peek().map_or(window.len(), |&(o, _)| o);
                let strength = if newlines > 0 && headings.binary_search(&run_end).is_ok() {
                    HEADING
                } else if newlines >= 2 {
                    PARAGRAPH
                } else if last != Last::Other {
                    SENTENCE
                } else if newlines == 1 {
                    LINE
                } else {
                    WORD
                };
                if strength >= PARAGRAPH || run_k >= min_fill {
                    best[strength] = Some((pos + run_start, run_k));
                }
            }
            if hard.is_some() {
                break;
            }
            last = Last::Other;
            continue;
        }
        if last == Last::CjkEnd && !is_closer(c) && !matches!(c, '。' | '！' | '？') && k >= min_fill {
            best[SENTENCE] = Some((pos + off, k));
        }
        if k == max {
            hard = Some((pos + off, k));
            break;
        }
        last = match c {
            '.' | '!' | '?' => Last::AsciiEnd,
            '。' | '！' | '？' => Last::CjkEnd,
            c if is_closer(c) => last,
            _ => Last::Other,
        };
        k += 1;
    }
    if let Some(found) = best.iter().rev().flatten().next() {
        return *found;
    }
    // A hard cut after `max` characters. One that falls in whitespace is pulled back to the end
    // of the text before it, unless that would not get past `floor`.
    let (end, chars) = hard.unwrap_or((content_end, k));
    let kept = text[pos..end].trim_end().len();
    if pos + kept == end {
        return (end, chars);
    }
    let kept_chars = chars - text[pos + kept..end].chars().count();
    if kept_chars < floor.max(1) {
        return (end, chars);
    }
    (pos + kept, kept_chars)
}

/// Byte offsets of the `#` of every ATX heading line (`#`…`######` then a space or the line's
/// end, indented by at most three spaces), skipping fenced code blocks (three or more backticks or tildes).
fn markdown_headings(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut fence: Option<(u8, usize)> = None;
    let mut line_start = 0;
    let bytes = text.as_bytes();
    while line_start <= bytes.len() {
        let line_end = memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        let line = &bytes[line_start..line_end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        if indent <= 3 {
            let rest = &line[indent..];
            let marker = rest.first().copied().unwrap_or(0);
            let run = rest.iter().take_while(|&&b| b == marker).count();
            match (marker, fence) {
                (b'`' | b'~', None) if run >= 3 => fence = Some((marker, run)),
                (m, Some((open, len))) if m == open && run >= len && rest[run..].trim_ascii().is_empty() => {
                    fence = None;
                }
                (b'#', None) if run <= 6 && rest.get(run).is_none_or(u8::is_ascii_whitespace) => {
                    out.push(line_start + indent);
                }
                _ => {}
            }
        }
        line_start = line_end + 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Records: JSONL lines, CSV rows, JSON array items.

/// One record to pack: its byte range, the characters separating it from the previous record
/// in a chunk (`lead`), and its own characters.
struct Item {
    start: usize,
    end: usize,
    lead: usize,
    chars: usize,
}

enum Group {
    /// Consecutive items that fit one chunk together.
    Items(std::ops::Range<usize>),
    /// One item longer than a chunk.
    Oversized(usize),
}

/// Packs items greedily, in order, into groups of at most `max` characters.
fn pack(items: &[Item], max: usize) -> Vec<Group> {
    let mut out = Vec::new();
    let mut current: Option<(usize, usize)> = None; // (first item, characters)
    for (i, item) in items.iter().enumerate() {
        if item.chars > max {
            if let Some((first, _)) = current.take() {
                out.push(Group::Items(first..i));
            }
            out.push(Group::Oversized(i));
            continue;
        }
        current = match current {
            Some((first, size)) if size + item.lead + item.chars <= max => Some((first, size + item.lead + item.chars)),
            Some((first, _)) => {
                out.push(Group::Items(first..i));
                Some((i, item.chars))
            }
            None => Some((i, item.chars)),
        };
    }
    if let Some((first, _)) = current {
        out.push(Group::Items(first..items.len()));
    }
    out
}

/// Character counts at increasing byte offsets, in one pass over the text in total.
#[derive(Default)]
struct CharCursor {
    byte: usize,
    chars: usize,
}

impl CharCursor {
    fn at(&mut self, text: &str, byte: usize) -> usize {
        self.chars += text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

/// Items of consecutive ranges of the text, their lead being the characters between them.
fn text_items(text: &str, ranges: impl Iterator<Item = (usize, usize)>) -> Vec<Item> {
    let mut cursor = CharCursor::default();
    let mut previous_end_chars = None;
    ranges
        .map(|(start, end)| {
            let start_chars = cursor.at(text, start);
            let end_chars = cursor.at(text, end);
            let lead = previous_end_chars.map_or(0, |p| start_chars - p);
            previous_end_chars = Some(end_chars);
            Item { start, end, lead, chars: end_chars - start_chars }
        })
        .collect()
}

fn chunk_jsonl(text: &str, max: usize, out: &mut Chunks) {
    let mut line_start = 0;
    let ranges = std::iter::from_fn(|| {
        while line_start < text.len() {
            let line_end = memchr::memchr(b'\n', &text.as_bytes()[line_start..]).map_or(text.len(), |i| line_start + i);
            let line = &text[line_start..line_end];
            let start = line_start + (line.len() - line.trim_start().len());
            let end = line_start + line.trim_end().len();
            line_start = line_end + 1;
            if start < end {
                return Some((start, end));
            }
        }
        None
    });
    let items = text_items(text, ranges);
    for group in pack(&items, max) {
        match group {
            Group::Items(r) => out.slice(text, items[r.start].start, items[r.end - 1].end),
            Group::Oversized(i) => {
                split_text(text, items[i].start, items[i].end, max, 0, &[], &mut |s, e| out.slice(text, s, e))
            }
        }
    }
}

fn chunk_csv(text: &str, max: usize, out: &mut Chunks) {
    let delimiter = table::detect_delimiter(text);
    let mut header = None;
    let mut rows = Vec::new();
    // A quote never closed only makes the last row long; chunking goes on regardless.
    let _ = table::for_each_record(text, delimiter, |_, span| {
        if header.is_none() {
            header = Some((span.start, span.end));
        } else {
            let end = span.start + text[span.start..span.end].trim_end().len();
            if end > span.start {
                rows.push((span.start, end));
            }
        }
        ControlFlow::Continue(())
    });
    let Some((header_start, header_end)) = header else { return };
    let header = &text[header_start..header_end];
    if rows.is_empty() {
        // A header alone is one chunk; a blank one (only tabs or spaces) is no content at all.
        if !header.trim().is_empty() {
            out.slice(text, header_start, header_end);
        }
        return;
    }
    let items = text_items(text, rows.into_iter());
    let with_header = |s: usize, e: usize| {
        let mut t = String::with_capacity(header.len() + 1 + e - s);
        t.push_str(header);
        t.push('\n');
        t.push_str(&text[s..e]);
        t
    };
    for group in pack(&items, max) {
        match group {
            Group::Items(r) => {
                let (s, e) = (items[r.start].start, items[r.end - 1].end);
                out.push(s, e, with_header(s, e));
            }
            Group::Oversized(i) => split_text(text, items[i].start, items[i].end, max, 0, &[], &mut |s, e| {
                out.push(s, e, with_header(s, e))
            }),
        }
    }
}

/// Chunks a top-level JSON array; `false` (and nothing pushed) when the text is not one.
fn chunk_json_array(text: &str, max: usize, out: &mut Chunks) -> bool {
    let Some(ranges) = json_array_items(text) else { return false };
    let compact: Vec<String> = ranges.iter().map(|&(s, e)| minify_json(&text[s..e])).collect();
    let items: Vec<Item> = ranges
        .iter()
        .zip(&compact)
        .map(|(&(start, end), c)| Item { start, end, lead: 1, chars: c.chars().count() })
        .collect();
    for group in pack(&items, max) {
        match group {
            Group::Items(r) => {
                let (s, e) = (items[r.start].start, items[r.end - 1].end);
                out.push(s, e, compact[r].join("\n"));
            }
            Group::Oversized(i) => {
                split_text(text, items[i].start, items[i].end, max, 0, &[], &mut |s, e| out.slice(text, s, e))
            }
        }
    }
    true
}

/// The byte ranges of a valid JSON document's top-level array items; `None` when the text is
/// not valid JSON or not an array.
fn json_array_items(text: &str) -> Option<Vec<(usize, usize)>> {
    serde_json::from_str::<IgnoredAny>(text).ok()?;
    let b = text.as_bytes();
    let mut i = skip_json_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut items = Vec::new();
    loop {
        i = skip_json_ws(b, i);
        match b.get(i) {
            Some(b']') | None => break,
            Some(b',') => i += 1,
            Some(_) => {
                let start = i;
                i = skip_json_value(b, i);
                items.push((start, i));
            }
        }
    }
    Some(items)
}

fn skip_json_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the string whose opening quote is at `i`.
fn skip_json_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(k) = memchr::memchr2(b'"', b'\\', &b[i..]) {
        i += k;
        if b[i] == b'\\' {
            i += 2;
        } else {
            return i + 1;
        }
    }
    b.len()
}

/// The end of the (valid) JSON value starting at `i`.
fn skip_json_value(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_json_string(b, i);
                if depth == 0 {
                    return i;
                }
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// JSON text without whitespace outside strings.
fn minify_json(json: &str) -> String {
    let b = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let end = skip_json_string(b, i);
                out.push_str(&json[i..end]);
                i = end;
            }
            _ => {
                let next = i + b[i..]
                    .iter()
                    .position(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'"'))
                    .unwrap_or(b.len() - i);
                out.push_str(&json[i..next]);
                i = next;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(max: u32, overlap: u32) -> ChunkOptions {
        ChunkOptions { max_chars: max, overlap_chars: overlap }
    }

    #[test]
    fn options_are_validated() {
        assert!(ChunkOptions::default().validate().is_ok());
        assert!(opts(100, 49).validate().is_ok());
        assert!(opts(8000, 0).validate().is_ok());
        assert!(opts(99, 0).validate().unwrap_err().contains("max_chars"));
        assert!(opts(8001, 0).validate().is_err());
        assert!(opts(100, 50).validate().unwrap_err().contains("overlap_chars"));
        assert_eq!(opts(10, 1000).effective(), (100, 49));
    }

    #[test]
    fn headings_skip_fenced_code() {
        let md = "# Title\ntext\n```python\n# comment\n```\n  ## Sub\n#nospace\n####### seven\n#\n";
        let found: Vec<&str> = markdown_headings(md).into_iter().map(|i| md[i..].lines().next().unwrap()).collect();
        assert_eq!(found, vec!["# Title", "## Sub", "#"]);
    }

    #[test]
    fn json_items_and_minify() {
        let text = " [ {\"a\" : [1, 2], \"b\": \"x, ]\\\" y\"} , 3 ,\"s\", [ ] , null ]\n";
        let items: Vec<&str> = json_array_items(text).unwrap().into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(items, vec!["{\"a\" : [1, 2], \"b\": \"x, ]\\\" y\"}", "3", "\"s\"", "[ ]", "null"]);
        assert_eq!(minify_json(items[0]), "{\"a\":[1,2],\"b\":\"x, ]\\\" y\"}");
        assert_eq!(json_array_items("{\"a\": 1}"), None);
        assert_eq!(json_array_items("[1, 2"), None);
        assert_eq!(json_array_items("[]"), Some(vec![]));
    }

    #[test]
    fn cjk_sentences_break_without_spaces() {
        let sentence = "这是一个用于测试的中文句子，它有二十多个字符。";
        let text = sentence.repeat(20);
        let chunks = chunks(DatasetFormat::Txt, &text, opts(100, 0));
        assert!(chunks.len() > 1);
        for c in &chunks[..chunks.len() - 1] {
            assert!(c.text.ends_with('。'), "{:?}", c.text);
            assert!(c.text.chars().count() <= 100);
        }
    }
}
