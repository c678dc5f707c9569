//! The portable agent bundle (B5): one file with an agent, its revision history, its plugins
//! (never their secrets), its datasets and its tables. The format is documented in
//! `docs/BUNDLE.md` and versioned by [`FORMAT_VERSION`]; its JSON Schema is
//! `docs/bundle.schema.json`.
//!
//! A bundle is a ZIP archive:
//! - `bundle.json`: the manifest (format, version, agent, revisions, plugins, dataset and
//!   table descriptions, and the size and SHA-256 of every other file);
//! - `bundle.json.sha256`: the SHA-256 of `bundle.json`, hex;
//! - `datasets/<id>.txt`: each dataset's text (UTF-8);
//! - `tables/<id>.jsonl`: each table's rows, one JSON array per line.
//!
//! Reading checks everything and reports *every* problem found (validate-only import writes
//! nothing). Importing upserts by id, so importing the same bundle twice changes nothing the
//! second time and never duplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::agents::{Agent, Revision};
use crate::datasets::Dataset;
use crate::error::{CoreError, Result};
use crate::plugins::Plugin;
use crate::tables::{Row, Table};

/// The format's name, in every manifest.
pub const FORMAT: &str = "aiwellflow-agent-bundle";
/// The version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The recommended file extension.
pub const EXTENSION: &str = "awfbundle";

const MANIFEST: &str = "bundle.json";
const MANIFEST_SUM: &str = "bundle.json.sha256";
/// Largest manifest read (it holds instructions and revisions, not data).
const MANIFEST_LIMIT: u64 = 256 * 1024 * 1024;
/// Largest data file read.
const FILE_LIMIT: u64 = awf_ingest::dataset::limits::MAX_FILE_BYTES;
/// Most entries an archive may have.
const MAX_ENTRIES: usize = 10_000;

/// A file of the bundle other than the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledDataset {
    pub dataset: Dataset,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundledTable {
    pub table: Table,
    pub file: String,
}

/// `bundle.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub created_at: String,
    pub generator: String,
    pub agent: Agent,
    /// Oldest first.
    pub revisions: Vec<Revision>,
    pub plugins: Vec<Plugin>,
    pub datasets: Vec<BundledDataset>,
    pub tables: Vec<BundledTable>,
    pub files: Vec<FileEntry>,
}

/// A bundle read and checked, ready to import.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    pub manifest: Manifest,
    /// Dataset id → text.
    pub dataset_texts: BTreeMap<String, String>,
    /// Table id → rows.
    pub table_rows: BTreeMap<String, Vec<Row>>,
}

/// One problem found in a bundle, with where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Problem {
    /// The file inside the bundle (and a JSON path in it when relevant), or `(archive)`.
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Why a bundle was refused: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bundle is not valid ({} problem(s)); first: {}", .0.len(), .0[0])]
pub struct Invalid(pub Vec<Problem>);

/// What the bundle holds, for the validate-only report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Summary {
    pub format_version: u32,
    pub created_at: String,
    pub agent_id: String,
    pub agent_name: String,
    pub revisions: u32,
    pub plugins: u32,
    pub datasets: u32,
    pub tables: u32,
    pub bytes: u64,
}

impl Contents {
    pub fn summary(&self, bytes: u64) -> Summary {
        let m = &self.manifest;
        Summary {
            format_version: m.format_version,
            created_at: m.created_at.clone(),
            agent_id: m.agent.id.clone(),
            agent_name: m.agent.draft.name.clone(),
            revisions: m.revisions.len() as u32,
            plugins: m.plugins.len() as u32,
            datasets: m.datasets.len() as u32,
            tables: m.tables.len() as u32,
            bytes,
        }
    }
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A writer that hashes and counts what passes through.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn zip_err(e: zip::result::ZipError) -> CoreError {
    CoreError::Io { context: "writing the bundle".into(), source: std::io::Error::other(e.to_string()) }
}

fn io_err(e: std::io::Error) -> CoreError {
    CoreError::Io { context: "writing the bundle".into(), source: e }
}

/// Writes the bundle of one agent to `out`. Dataset text is streamed piece by piece, so memory
/// does not grow with data size.
pub fn export<W: Write + Seek>(profile: &crate::Profile, agent_id: &str, out: W) -> Result<Summary> {
    let agent = profile.agents().get(agent_id)?;
    let revisions = profile.agents().revisions(agent_id)?;
    let mut plugins = Vec::new();
    for id in &agent.draft.plugin_ids {
        if let Ok(mut p) = profile.plugins().get(id) {
            // The secret stays in this machine's keyring; the receiving side sets its own.
            p.secret_set = false;
            plugins.push(p);
        }
    }
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
        .last_modified_time(zip::DateTime::default());
    let mut zip = zip::ZipWriter::new(out);
    let mut files = Vec::new();
    let mut datasets = Vec::new();
    let mut tables = Vec::new();
    let mut bytes_total = 0u64;
    for id in &agent.draft.dataset_ids {
        if let Ok(ds) = profile.datasets().get(id) {
            let path = format!("datasets/{}.txt", ds.id);
            zip.start_file(&path, options).map_err(zip_err)?;
            let mut w = Hashing { inner: &mut zip, hash: Sha256::new(), bytes: 0 };
            profile.datasets().for_each_piece(&ds.id, |p| w.write_all(p).map_err(io_err))?;
            let (hash, bytes) = (hex::encode(w.hash.finalize()), w.bytes);
            bytes_total += bytes;
            files.push(FileEntry { path: path.clone(), bytes, sha256: hash });
            datasets.push(BundledDataset { dataset: ds, file: path });
        } else if let Ok(t) = profile.tables().get(id) {
            let path = format!("tables/{}.jsonl", t.id);
            zip.start_file(&path, options).map_err(zip_err)?;
            let mut w = Hashing { inner: &mut zip, hash: Sha256::new(), bytes: 0 };
            for row in profile.tables().all_rows(&t.id)? {
                serde_json::to_writer(&mut w, &row).map_err(|e| io_err(e.into()))?;
                w.write_all(b"\n").map_err(io_err)?;
            }
            let (hash, bytes) = (hex::encode(w.hash.finalize()), w.bytes);
            bytes_total += bytes;
            files.push(FileEntry { path: path.clone(), bytes, sha256: hash });
            tables.push(BundledTable { table: t, file: path });
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        created_at: crate::clock::now(),
        generator: format!("AiWellFlow Studio {}", env!("CARGO_PKG_VERSION")),
        agent,
        revisions,
        plugins,
        datasets,
        tables,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    bytes_total += json.len() as u64;
    zip.start_file(MANIFEST, options).map_err(zip_err)?;
    zip.write_all(&json).map_err(io_err)?;
    zip.start_file(MANIFEST_SUM, options).map_err(zip_err)?;
    zip.write_all(format!("{}\n", sha_hex(&json)).as_bytes()).map_err(io_err)?;
    zip.finish().map_err(zip_err)?;
    let contents = Contents { manifest, dataset_texts: BTreeMap::new(), table_rows: BTreeMap::new() };
    Ok(contents.summary(bytes_total))
}

fn problem(place: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { place: place.into(), message: message.into() }
}

fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
    problems: &mut Vec<Problem>,
) -> Option<Vec<u8>> {
    let mut f = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => {
            problems.push(problem(name, "is missing"));
            return None;
        }
        Err(e) => {
            problems.push(problem(name, format!("cannot be opened: {e}")));
            return None;
        }
    };
    if f.size() > limit {
        problems.push(problem(name, format!("is {} bytes; the limit is {limit}", f.size())));
        return None;
    }
    let mut buf = Vec::with_capacity(f.size().min(limit) as usize);
    match (&mut f).take(limit + 1).read_to_end(&mut buf) {
        Ok(_) if buf.len() as u64 > limit => {
            problems.push(problem(name, format!("expands beyond the limit of {limit} bytes")));
            None
        }
        Ok(_) => Some(buf),
        Err(e) => {
            problems.push(problem(name, format!("is damaged: {e}")));
            None
        }
    }
}

fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains(':')
        && p.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Reads and checks a bundle completely. Returns its contents, or every problem found.
pub fn read<R: Read + Seek>(input: R) -> std::result::Result<Contents, Invalid> {
    let mut problems = Vec::new();
    let mut zip = match zip::ZipArchive::new(input) {
        Ok(z) => z,
        Err(e) => {
            return Err(Invalid(vec![problem(
                "(archive)",
                format!("not a complete bundle (a truncated or damaged file, or not a bundle at all): {e}"),
            )]))
        }
    };
    if zip.len() > MAX_ENTRIES {
        return Err(Invalid(vec![problem(
            "(archive)",
            format!("has {} files; the limit is {MAX_ENTRIES}", zip.len()),
        )]));
    }
    let mut names = Vec::new();
    for (i, n) in zip.file_names().enumerate() {
        match n {
            Ok(n) => names.push(n.into_owned()),
            Err(e) => problems.push(problem(format!("(archive entry {i})"), format!("has an unreadable name: {e}"))),
        }
    }
    for n in &names {
        if !safe_path(n) {
            problems.push(problem(n.clone(), "is not a safe relative path inside the bundle"));
        }
    }
    let Some(json) = read_entry(&mut zip, MANIFEST, MANIFEST_LIMIT, &mut problems) else {
        return Err(Invalid(problems));
    };
    if let Some(sum) = read_entry(&mut zip, MANIFEST_SUM, 1024, &mut problems) {
        let recorded = String::from_utf8_lossy(&sum).trim().to_ascii_lowercase();
        if recorded != sha_hex(&json) {
            problems
                .push(problem(MANIFEST, "does not match its checksum in bundle.json.sha256 (the bundle was altered)"));
        }
    }
    // Version first, so a newer format is named as such rather than as a pile of field errors.
    let raw: serde_json::Value = match serde_json::from_slice(&json) {
        Ok(v) => v,
        Err(e) => {
            problems.push(problem(MANIFEST, format!("is not JSON: line {}, column {}: {e}", e.line(), e.column())));
            return Err(Invalid(problems));
        }
    };
    if raw.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
        problems.push(problem(format!("{MANIFEST} /format"), format!("must be `{FORMAT}`")));
        return Err(Invalid(problems));
    }
    match raw.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if v as u32 == FORMAT_VERSION => {}
        Some(v) if v > FORMAT_VERSION as u64 => {
            problems.push(problem(
                format!("{MANIFEST} /format_version"),
                format!("is {v}; this build reads bundles up to version {FORMAT_VERSION}: update Studio"),
            ));
            return Err(Invalid(problems));
        }
        _ => {
            problems.push(problem(format!("{MANIFEST} /format_version"), "is missing or not a supported version"));
            return Err(Invalid(problems));
        }
    }
    let manifest: Manifest = match serde_json::from_value(raw) {
        Ok(m) => m,
        Err(e) => {
            problems.push(problem(MANIFEST, format!("does not follow the bundle schema: {e}")));
            return Err(Invalid(problems));
        }
    };
    check_manifest(&manifest, &mut problems);

    let listed: BTreeMap<&str, &FileEntry> = manifest.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let expected: BTreeSet<&str> = [MANIFEST, MANIFEST_SUM].into_iter().chain(listed.keys().copied()).collect();
    for n in &names {
        if !expected.contains(n.as_str()) {
            problems.push(problem(n.clone(), "is not listed in bundle.json"));
        }
    }
    let mut file_bytes = |path: &str, problems: &mut Vec<Problem>| -> Option<Vec<u8>> {
        let Some(entry) = listed.get(path) else {
            problems.push(problem(MANIFEST, format!("refers to `{path}`, which its file list does not name")));
            return None;
        };
        let data = read_entry(&mut zip, path, FILE_LIMIT, problems)?;
        if data.len() as u64 != entry.bytes || sha_hex(&data) != entry.sha256 {
            problems.push(problem(path, "does not match its size and SHA-256 in bundle.json (the bundle was altered)"));
            return None;
        }
        Some(data)
    };
    let mut dataset_texts = BTreeMap::new();
    for (i, d) in manifest.datasets.iter().enumerate() {
        let Some(data) = file_bytes(&d.file, &mut problems) else { continue };
        match String::from_utf8(data) {
            Ok(text) => {
                if sha_hex(text.as_bytes()) != d.dataset.sha256 {
                    problems.push(problem(
                        format!("{MANIFEST} /datasets/{i}/dataset/sha256"),
                        "does not match the dataset's text",
                    ));
                }
                dataset_texts.insert(d.dataset.id.clone(), text);
            }
            Err(_) => problems.push(problem(d.file.clone(), "is not UTF-8 text")),
        }
    }
    let mut table_rows = BTreeMap::new();
    for d in &manifest.tables {
        let Some(data) = file_bytes(&d.file, &mut problems) else { continue };
        let mut rows = Vec::new();
        let mut ok = true;
        for (n, line) in data.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Row>(line) {
                Ok(r) if r.len() == d.table.columns.len() => rows.push(r),
                Ok(r) => {
                    ok = false;
                    problems.push(problem(
                        format!("{} line {}", d.file, n + 1),
                        format!("has {} cells; the table has {} columns", r.len(), d.table.columns.len()),
                    ));
                }
                Err(e) => {
                    ok = false;
                    problems.push(problem(format!("{} line {}", d.file, n + 1), format!("is not a JSON array: {e}")));
                }
            }
            if problems.len() > 1_000 {
                break;
            }
        }
        if ok && rows.len() as u64 != d.table.row_count {
            problems.push(problem(
                d.file.clone(),
                format!("has {} rows; bundle.json says {}", rows.len(), d.table.row_count),
            ));
        }
        table_rows.insert(d.table.id.clone(), rows);
    }
    if problems.is_empty() {
        Ok(Contents { manifest, dataset_texts, table_rows })
    } else {
        Err(Invalid(problems))
    }
}

fn check_manifest(m: &Manifest, problems: &mut Vec<Problem>) {
    let at = |path: String| format!("{MANIFEST} {path}");
    if let Err(e) = m.agent.draft.validate() {
        problems.push(problem(at("/agent".into()), e.to_string()));
    }
    if m.agent.id.is_empty() || !safe_path(&m.agent.id) || m.agent.id.contains('/') {
        problems.push(problem(at("/agent/id".into()), "is not a valid id"));
    }
    let mut seqs = BTreeSet::new();
    for (i, r) in m.revisions.iter().enumerate() {
        if !seqs.insert(r.seq) {
            problems.push(problem(at(format!("/revisions/{i}/seq")), format!("revision {} appears twice", r.seq)));
        }
    }
    if !m.revisions.is_empty() && !seqs.contains(&m.agent.latest_revision) {
        problems.push(problem(
            at("/agent/latest_revision".into()),
            format!("names revision {} which is not in the bundle", m.agent.latest_revision),
        ));
    }
    let mut ids = BTreeSet::new();
    let mut id_ok = |path: String, id: &str, problems: &mut Vec<Problem>| {
        if id.is_empty() || id.contains('/') || !safe_path(id) {
            problems.push(problem(at(path), "is not a valid id"));
        } else if !ids.insert(id.to_string()) {
            problems.push(problem(at(path), format!("id `{id}` appears twice")));
        }
    };
    for (i, p) in m.plugins.iter().enumerate() {
        id_ok(format!("/plugins/{i}/id"), &p.id, problems);
        if let Err(e) = p.draft.validate() {
            problems.push(problem(at(format!("/plugins/{i}")), e.to_string()));
        }
        if p.secret_set {
            problems.push(problem(at(format!("/plugins/{i}/secret_set")), "must be false: bundles carry no secrets"));
        }
    }
    for (i, d) in m.datasets.iter().enumerate() {
        id_ok(format!("/datasets/{i}/dataset/id"), &d.dataset.id, problems);
        if let Err(e) = d.dataset.chunking.validate() {
            problems.push(problem(at(format!("/datasets/{i}/dataset/chunking")), e));
        }
    }
    for (i, t) in m.tables.iter().enumerate() {
        id_ok(format!("/tables/{i}/table/id"), &t.table.id, problems);
        if let Err(e) = crate::tables::validate_columns(&t.table.columns) {
            problems.push(problem(at(format!("/tables/{i}/table/columns")), e.to_string()));
        }
    }
    for (i, f) in m.files.iter().enumerate() {
        if !safe_path(&f.path) {
            problems.push(problem(at(format!("/files/{i}/path")), "is not a safe relative path"));
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub agent_id: String,
    /// False when an agent with the same id was already here (it was replaced by the bundle's).
    pub created: bool,
    pub plugins: u32,
    pub datasets: u32,
    pub tables: u32,
    /// Plugins whose service needs a secret to be set on this machine.
    pub secrets_needed: Vec<String>,
}

/// Imports checked contents, replacing items with the same ids (so a second import of the same
/// bundle duplicates nothing). A plugin that already has a secret on this machine keeps it.
pub fn import(profile: &crate::Profile, c: &Contents) -> Result<ImportReport> {
    let m = &c.manifest;
    let created = profile.agents().get(&m.agent.id).is_err();
    let mut secrets_needed = Vec::new();
    for p in &m.plugins {
        let mut p = p.clone();
        p.secret_set = profile.plugins().get(&p.id).map(|old| old.secret_set).unwrap_or(false)
            && profile.secret(&crate::plugins::secret_name(&p.id))?.is_some();
        if p.draft.auth.needs_secret() && !p.secret_set {
            secrets_needed.push(p.draft.name.clone());
        }
        profile.plugins().put(&p)?;
    }
    for d in &m.datasets {
        let text = c.dataset_texts.get(&d.dataset.id).map(String::as_str).unwrap_or("");
        profile.datasets().put_raw(&d.dataset, text.as_bytes())?;
    }
    for t in &m.tables {
        let rows = c.table_rows.get(&t.table.id).map(Vec::as_slice).unwrap_or(&[]);
        profile.tables().put_raw(&t.table, rows)?;
    }
    profile.agents().put_raw(&m.agent, &m.revisions)?;
    Ok(ImportReport {
        agent_id: m.agent.id.clone(),
        created,
        plugins: m.plugins.len() as u32,
        datasets: m.datasets.len() as u32,
        tables: m.tables.len() as u32,
        secrets_needed,
    })
}
