//! The full data export (D6, policy §6 and PIPL art. 45): one ZIP file holding everything the
//! profile keeps, as machine-readable JSON (small sets) and JSON Lines (large sets), each
//! dataset's text as the file it was imported from, a human-readable `index.html` and a
//! `manifest.json` (written last) with the size and SHA-256 of every other file. The format is
//! documented in `docs/EXPORT.md` and versioned by [`FORMAT_VERSION`].
//!
//! Categories join by registering an [`ExportSource`] in a [`Registry`], never by editing the
//! exporter: [`Registry::local`] registers the core's own categories, and the command surface
//! adds the platform-held data. Every category of [`crate::Profile::inventory`] is covered by a
//! source (a test fails when a new inventory category has none).
//!
//! Invariants kept here:
//! - streaming with constant memory: every file goes through a hashing writer straight into the
//!   ZIP; dataset text is copied piece by piece, table rows page by page;
//! - a cancelled or failed export leaves nothing behind: the archive is written to a temporary
//!   file beside the destination and renamed into place only when complete;
//! - secrets are never written: plugin records carry only `secret_set`, and the secrets
//!   category states which secrets exist and where, never their values.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::CoreError;
use crate::Profile;

/// The format's name, in every manifest.
pub const FORMAT: &str = "aiwellflow-profile-export";
/// The version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's name inside the archive (its last entry).
pub const MANIFEST: &str = "manifest.json";
/// The human-readable index's name inside the archive.
pub const INDEX: &str = "index.html";
/// The recommended file extension.
pub const EXTENSION: &str = "zip";

/// Largest manifest [`verify`] reads.
const MANIFEST_LIMIT: u64 = 64 * 1024 * 1024;
/// Most entries [`verify`] looks at.
const MAX_ENTRIES: usize = 1_000_000;
/// Progress is reported at least every this many bytes.
const PROGRESS_STEP: u64 = 1024 * 1024;
/// Rows asked for per page when copying a table.
const ROW_PAGE: u64 = 1_000;
/// Transmission-log records asked for per page.
const LOG_PAGE: u32 = 5_000;

/// Why an export or a verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Cancelled by the user; the temporary file was removed.
    #[error("the export was cancelled; no file was written")]
    Cancelled,
    /// A registered category failed (the platform did not answer, say).
    #[error("the category `{category}` could not be exported: {source}")]
    Source {
        category: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading the profile or writing the file failed (disk full, read-only, …).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The file handed to [`verify`] is not an export this build can check.
    #[error("{path} is not a readable AiWellFlow export: {detail}")]
    Unreadable { path: PathBuf, detail: String },
    /// Two sources were registered under one name.
    #[error("two export categories are named `{name}`")]
    DuplicateCategory { name: String },
}

impl ExportError {
    /// A source's own error, for [`ExportSource::write`] implementations.
    pub fn source(category: &str, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ExportError::Source { category: category.to_string(), source: Box::new(e) }
    }
}

type Result<T, E = ExportError> = std::result::Result<T, E>;

/// How a file is packed into the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Deflate (JSON, JSON Lines, HTML).
    Deflated,
    /// As is (dataset text: copied at disk speed).
    Stored,
}

/// Where a source writes its files. Each file is streamed: nothing is buffered beyond the
/// current write.
pub trait EntrySink {
    /// Starts the next file of the current category at `path` (relative, `/`-separated),
    /// finishing the previous one.
    fn start(&mut self, path: &str, packing: Packing) -> Result<()>;
    /// Starts a file whose SHA-256 the source vouches for: the manifest takes `sha256` and the
    /// sink does not hash the content. Only for content authenticated against that digest as it
    /// is read (a dataset's text: every sealed piece's associated data names the dataset's
    /// SHA-256, its place and, by its size, the length), where hashing again would check nothing
    /// the seals have not.
    fn start_vouched(&mut self, path: &str, packing: Packing, sha256: &str) -> Result<()>;
    /// Appends to the current file. Fails with [`ExportError::Cancelled`] once cancelled.
    fn write(&mut self, bytes: &[u8]) -> Result<()>;
    /// Adds to the current category's item count (shown in the index and the manifest).
    fn add_count(&mut self, n: u64);
    /// A note on the current category for the index (why something was left out, say).
    fn note(&mut self, text: &str);
}

impl dyn EntrySink + '_ {
    /// Writes `value` as one pretty-printed JSON file.
    pub fn json<T: Serialize + ?Sized>(&mut self, path: &str, value: &T) -> Result<()> {
        self.start(path, Packing::Deflated)?;
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| json_err(path, e))?;
        bytes.push(b'\n');
        self.write(&bytes)
    }

    /// Appends `value` as one line of JSON (JSON Lines) to the current file.
    pub fn line<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let mut bytes = serde_json::to_vec(value).map_err(|e| json_err("a line", e))?;
        bytes.push(b'\n');
        self.write(&bytes)
    }
}

fn json_err(what: &str, e: serde_json::Error) -> ExportError {
    ExportError::Core(CoreError::Corrupt { detail: format!("{what} does not serialise: {e}") })
}

/// One category of the export. Register it with [`Registry::register`].
pub trait ExportSource: Send + Sync {
    /// The category's name (`agents`, `platform`, …): unique, lowercase, `_`-separated.
    fn name(&self) -> &str;
    /// A short English title for the index.
    fn title(&self) -> &str;
    /// The [`crate::Profile::inventory`] categories this source exports (by default its name).
    fn covers(&self) -> Vec<String> {
        vec![self.name().to_string()]
    }
    /// Roughly how many bytes it will write (for the progress bar; 0 when unknown).
    fn estimate(&self, _profile: &Profile) -> u64 {
        0
    }
    /// Writes the category's files.
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()>;
}

/// A category as [`Registry::categories`] describes it (what will be included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CategoryInfo {
    pub name: String,
    pub title: String,
    /// The local inventory categories it covers.
    pub covers: Vec<String>,
}

/// A category as written: its files, item count and note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CategoryRecord {
    pub name: String,
    pub title: String,
    pub covers: Vec<String>,
    /// Items exported (agents, lines, datasets, …).
    pub count: u64,
    /// Paths of its files in the archive.
    pub files: Vec<String>,
    /// Why something was left out, or how to read it.
    pub note: Option<String>,
}

/// One file of the archive as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileEntry {
    pub path: String,
    /// Uncompressed size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the uncompressed content.
    pub sha256: String,
}

/// `manifest.json`: the last entry of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub app_version: String,
    pub profile_id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub categories: Vec<CategoryRecord>,
    /// Every other file of the archive.
    pub files: Vec<FileEntry>,
}

/// Progress of a running export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportProgress {
    /// Uncompressed bytes written so far.
    pub bytes_written: u64,
    /// Estimated uncompressed total (never below `bytes_written`).
    pub estimated_total: u64,
    /// The category being written.
    pub category: String,
    /// Files finished so far.
    pub files: u64,
}

/// What a finished export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportSummary {
    pub path: String,
    /// Size of the ZIP file.
    pub zip_bytes: u64,
    /// Uncompressed bytes of every file but the manifest.
    pub bytes: u64,
    /// Files in the archive, the manifest included.
    pub files: u64,
    pub categories: Vec<CategoryRecord>,
}

/// How [`verify`] found an entry wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Listed in the manifest, absent from the archive.
    Missing,
    /// In the archive, not listed in the manifest.
    Extra,
    /// Present twice (in the archive or in the manifest).
    Duplicate,
    /// Its size differs from the manifest's.
    Size,
    /// Its SHA-256 differs from the manifest's.
    Hash,
    /// Cannot be read or decompressed (the ZIP's own checksum failed, say).
    Damaged,
    /// The manifest lists a path that is not a safe relative path.
    BadPath,
}

/// One thing [`verify`] found wrong, naming the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VerifyProblem {
    pub path: String,
    pub kind: ProblemKind,
    pub message: String,
}

/// The result of checking an archive against its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VerifyReport {
    /// True when every file is present, unchanged, and nothing else is in the archive.
    pub ok: bool,
    pub format_version: u32,
    pub app_version: String,
    pub profile_id: String,
    pub created_at: String,
    /// Files of the manifest that were read and hashed.
    pub files_checked: u64,
    pub bytes_checked: u64,
    pub problems: Vec<VerifyProblem>,
}

/// The registered categories, in the order they are written.
#[derive(Default, Clone)]
pub struct Registry {
    sources: Vec<Arc<dyn ExportSource>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.sources.iter().map(|s| s.name().to_string())).finish()
    }
}

impl Registry {
    /// No categories.
    pub fn new() -> Self {
        Registry::default()
    }

    /// The core's own categories: everything this machine keeps for the profile.
    pub fn local() -> Self {
        let mut r = Registry::new();
        for s in local_sources() {
            r.sources.push(s);
        }
        r
    }

    /// Adds a category after those already registered.
    pub fn register(&mut self, source: Arc<dyn ExportSource>) -> Result<&mut Self> {
        let name = source.name().to_string();
        if name.is_empty() || self.sources.iter().any(|s| s.name() == name) {
            return Err(ExportError::DuplicateCategory { name });
        }
        self.sources.push(source);
        Ok(self)
    }

    /// What will be included, in order.
    pub fn categories(&self) -> Vec<CategoryInfo> {
        self.sources
            .iter()
            .map(|s| CategoryInfo { name: s.name().into(), title: s.title().into(), covers: s.covers() })
            .collect()
    }

    /// Writes the whole export to `dest`: to a temporary file beside it first, renamed into
    /// place only when complete. `cancel` is checked between writes; `progress` hears at least
    /// every MiB and at each category.
    pub fn export(
        &self,
        profile: &Profile,
        dest: &Path,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&ExportProgress),
    ) -> Result<ExportSummary> {
        let estimate: u64 = self.sources.iter().map(|s| s.estimate(profile)).sum();
        let tmp = TempFile::create(dest)?;
        let file = tmp.file.try_clone().map_err(|e| CoreError::io("opening the export file", &tmp.path, e))?;
        let mut sink = ZipSink {
            zip: zip::ZipWriter::new(BufWriter::with_capacity(256 * 1024, Writeback::new(file))),
            path: tmp.path.clone(),
            current: None,
            files: Vec::new(),
            names: BTreeSet::new(),
            categories: Vec::new(),
            written: 0,
            estimate,
            reported: 0,
            cancel,
            progress,
        };
        for s in &self.sources {
            sink.begin_category(s.as_ref())?;
            s.write(profile, &mut sink)?;
            sink.finish_file()?;
        }
        let categories = sink.categories.clone();
        sink.begin_named("index", "Index")?;
        let html = index_html(profile, &categories, &sink.files);
        sink.start(INDEX, Packing::Deflated)?;
        sink.write(html.as_bytes())?;
        sink.finish_file()?;
        sink.categories.pop();
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            app_version: env!("CARGO_PKG_VERSION").into(),
            profile_id: profile.profile_id().into(),
            created_at: crate::clock::now(),
            categories,
            files: std::mem::take(&mut sink.files),
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| json_err(MANIFEST, e))?;
        sink.check_cancel()?;
        sink.zip.start_file(MANIFEST, options(Packing::Deflated)).map_err(|e| zip_err(&sink.path, e))?;
        sink.zip.write_all(&json).map_err(|e| CoreError::io("writing the export", &sink.path, e))?;
        let bytes = sink.written;
        let total_files = manifest.files.len() as u64 + 1;
        (sink.progress)(&ExportProgress {
            bytes_written: bytes,
            estimated_total: bytes,
            category: "manifest".into(),
            files: total_files,
        });
        let path = sink.path.clone();
        let buffered = sink.zip.finish().map_err(|e| zip_err(&path, e))?;
        let file = buffered.into_inner().map_err(|e| CoreError::io("writing the export", &path, e.into_error()))?;
        let file = file.into_file();
        file.sync_all().map_err(|e| CoreError::io("writing the export", &path, e))?;
        let zip_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        drop(file);
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        tmp.persist(dest)?;
        Ok(ExportSummary {
            path: dest.display().to_string(),
            zip_bytes,
            bytes,
            files: total_files,
            categories: manifest.categories,
        })
    }
}

fn options(packing: Packing) -> zip::write::SimpleFileOptions {
    let method = match packing {
        Packing::Deflated => zip::CompressionMethod::Deflated,
        Packing::Stored => zip::CompressionMethod::Stored,
    };
    zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(true)
        .last_modified_time(zip::DateTime::default())
}

fn zip_err(path: &Path, e: zip::result::ZipError) -> CoreError {
    match e {
        zip::result::ZipError::Io(io) => CoreError::io("writing the export", path, io),
        other => CoreError::Io {
            context: format!("writing the export {}", path.display()),
            source: std::io::Error::other(other),
        },
    }
}

/// How many bytes are written between two requests to put the export file on disk.
const WRITEBACK_STEP: u64 = 32 * 1024 * 1024;

/// The export file, with a thread that asks the OS to put what has been written on disk every
/// [`WRITEBACK_STEP`] bytes (`sync_data` on a second handle), so the disk works while the
/// export is still produced and the final `fsync` waits for the last step only. Durability is
/// unchanged: the export is renamed into place only after that final `fsync`.
struct Writeback {
    file: File,
    since: u64,
    ask: Option<std::sync::mpsc::SyncSender<()>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Writeback {
    fn new(file: File) -> Writeback {
        let (ask, asked) = std::sync::mpsc::sync_channel::<()>(1);
        // Without a second handle or a thread the export still works; only the early writes go.
        let worker = file.try_clone().ok().and_then(|disk| {
            std::thread::Builder::new()
                .name("awf-export-writeback".into())
                .spawn(move || {
                    while asked.recv().is_ok() {
                        // A failure here shows again, and fails the export, at the final fsync.
                        let _ = disk.sync_data();
                    }
                })
                .ok()
        });
        Writeback { file, since: 0, ask: worker.as_ref().map(|_| ask), worker }
    }

    /// Stops the thread (after the step it is on) and returns the file.
    fn into_file(self) -> File {
        let Writeback { file, ask, worker, .. } = self;
        drop(ask);
        if let Some(worker) = worker {
            let _ = worker.join();
        }
        file
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.since += n as u64;
        if self.since >= WRITEBACK_STEP {
            self.since = 0;
            if let Some(ask) = &self.ask {
                // Full: a step is under way and another is asked for; this one joins them.
                let _ = ask.try_send(());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl std::io::Seek for Writeback {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

/// The temporary file of an export in progress; removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    file: File,
    keep: bool,
}

impl TempFile {
    fn create(dest: &Path) -> Result<TempFile> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| CoreError::invalid("path", format!("{} does not name a file", dest.display())))?;
        if dest.is_dir() {
            return Err(CoreError::invalid("path", format!("{} is a directory", dest.display())).into());
        }
        let mut n = 0u32;
        loop {
            let path = dir.join(format!(".{}.{}-{n}.partial", name.to_string_lossy(), std::process::id()));
            match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => return Ok(TempFile { path, file, keep: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(CoreError::io("creating the export file", &path, e).into()),
            }
        }
    }

    fn persist(mut self, dest: &Path) -> Result<()> {
        std::fs::rename(&self.path, dest).map_err(|e| CoreError::io("moving the export into place", dest, e))?;
        self.keep = true;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Best effort: make the rename durable.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// How the current file's manifest digest comes about.
enum Digest256 {
    /// Hashed as it is written.
    Hashing(Sha256),
    /// Vouched for by its source ([`EntrySink::start_vouched`]).
    Vouched(String),
}

struct Current {
    path: String,
    digest: Digest256,
    bytes: u64,
}

struct ZipSink<'a> {
    zip: zip::ZipWriter<BufWriter<Writeback>>,
    /// The temporary file (for messages).
    path: PathBuf,
    current: Option<Current>,
    files: Vec<FileEntry>,
    names: BTreeSet<String>,
    categories: Vec<CategoryRecord>,
    written: u64,
    estimate: u64,
    reported: u64,
    cancel: &'a AtomicBool,
    progress: &'a mut dyn FnMut(&ExportProgress),
}

impl ZipSink<'_> {
    fn check_cancel(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(ExportError::Cancelled)
        } else {
            Ok(())
        }
    }

    fn report(&mut self) {
        self.reported = self.written;
        let category = self.categories.last().map(|c| c.name.clone()).unwrap_or_default();
        (self.progress)(&ExportProgress {
            bytes_written: self.written,
            estimated_total: self.estimate.max(self.written),
            category,
            files: self.files.len() as u64,
        });
    }

    fn begin_category(&mut self, s: &dyn ExportSource) -> Result<()> {
        self.begin_named(s.name(), s.title())?;
        self.categories.last_mut().expect("just pushed").covers = s.covers();
        Ok(())
    }

    fn begin_named(&mut self, name: &str, title: &str) -> Result<()> {
        self.finish_file()?;
        self.check_cancel()?;
        self.categories.push(CategoryRecord {
            name: name.into(),
            title: title.into(),
            covers: Vec::new(),
            count: 0,
            files: Vec::new(),
            note: None,
        });
        self.report();
        Ok(())
    }

    fn finish_file(&mut self) -> Result<()> {
        if let Some(c) = self.current.take() {
            let sha256 = match c.digest {
                Digest256::Hashing(h) => hex::encode(h.finalize()),
                Digest256::Vouched(d) => d,
            };
            let entry = FileEntry { path: c.path.clone(), bytes: c.bytes, sha256 };
            self.files.push(entry);
            if let Some(cat) = self.categories.last_mut() {
                cat.files.push(c.path);
            }
        }
        Ok(())
    }
}

impl ZipSink<'_> {
    fn start_file(&mut self, path: &str, packing: Packing, digest: Digest256) -> Result<()> {
        self.finish_file()?;
        self.check_cancel()?;
        if !safe_path(path) || path == MANIFEST {
            return Err(CoreError::invalid("path", format!("`{path}` is not a valid file name in an export")).into());
        }
        if !self.names.insert(path.to_string()) {
            return Err(CoreError::invalid("path", format!("`{path}` is written twice")).into());
        }
        self.zip.start_file(path, options(packing)).map_err(|e| zip_err(&self.path, e))?;
        self.current = Some(Current { path: path.to_string(), digest, bytes: 0 });
        Ok(())
    }
}

impl EntrySink for ZipSink<'_> {
    fn start(&mut self, path: &str, packing: Packing) -> Result<()> {
        self.start_file(path, packing, Digest256::Hashing(Sha256::new()))
    }

    fn start_vouched(&mut self, path: &str, packing: Packing, sha256: &str) -> Result<()> {
        let well_formed = sha256.len() == 64 && sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !well_formed {
            return Err(CoreError::invalid("sha256", format!("`{sha256}` is not a hex SHA-256 (for `{path}`)")).into());
        }
        self.start_file(path, packing, Digest256::Vouched(sha256.to_string()))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.check_cancel()?;
        let Some(c) = self.current.as_mut() else {
            return Err(CoreError::invalid("export", "a source wrote before starting a file").into());
        };
        if let Digest256::Hashing(h) = &mut c.digest {
            h.update(bytes);
        }
        c.bytes += bytes.len() as u64;
        self.zip.write_all(bytes).map_err(|e| CoreError::io("writing the export", &self.path, e))?;
        self.written += bytes.len() as u64;
        if self.written - self.reported >= PROGRESS_STEP {
            self.report();
        }
        Ok(())
    }

    fn add_count(&mut self, n: u64) {
        if let Some(c) = self.categories.last_mut() {
            c.count += n;
        }
    }

    fn note(&mut self, text: &str) {
        if let Some(c) = self.categories.last_mut() {
            c.note = Some(match c.note.take() {
                Some(prev) => format!("{prev} {text}"),
                None => text.to_string(),
            });
        }
    }
}

/// A relative, `/`-separated path without `.`, `..`, drive letters or backslashes.
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 1024
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains(':')
        && !p.chars().any(char::is_control)
        && p.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// A file name from a user's original name, safe inside the archive and on any OS.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String =
        name.chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            })
            .take(200)
            .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "text.txt".into()
    } else {
        trimmed.to_string()
    }
}

// --- the index ---------------------------------------------------------------------------

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative path for an `href` (segments kept).
fn href(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn index_html(profile: &Profile, categories: &[CategoryRecord], files: &[FileEntry]) -> String {
    let sizes: BTreeMap<&str, u64> = files.iter().map(|f| (f.path.as_str(), f.bytes)).collect();
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    h.push_str("<title>AiWellFlow Studio data export</title>\n");
    h.push_str("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}td.n{text-align:right}small{color:#555}</style>\n");
    h.push_str("</head>\n<body>\n<h1>AiWellFlow Studio data export / 数据导出</h1>\n");
    h.push_str(&format!(
        "<p>Profile <code>{}</code>, exported {} by AiWellFlow Studio {}. Format <code>{FORMAT}</code> version {FORMAT_VERSION}.</p>\n",
        escape_html(profile.profile_id()),
        escape_html(&crate::clock::now()),
        escape_html(env!("CARGO_PKG_VERSION")),
    ));
    h.push_str("<p>Every file is listed in <code>manifest.json</code> with its size and SHA-256; check them with <code>awf export --verify FILE</code> or <code>sha256sum</code> (see docs/EXPORT.md). Secrets (passwords, tokens, API keys) are never exported.</p>\n");
    h.push_str("<table>\n<thead><tr><th>Category</th><th>Items</th><th>Files</th></tr></thead>\n<tbody>\n");
    for c in categories {
        h.push_str(&format!(
            "<tr><td><strong>{}</strong><br><small><code>{}</code></small>{}</td><td class=\"n\">{}</td><td>",
            escape_html(&c.title),
            escape_html(&c.name),
            c.note.as_deref().map(|n| format!("<br><small>{}</small>", escape_html(n))).unwrap_or_default(),
            c.count
        ));
        if c.files.is_empty() {
            h.push_str("<small>no files</small>");
        }
        for (i, f) in c.files.iter().enumerate() {
            if i == 50 {
                h.push_str(&format!("<br><small>… and {} more (see manifest.json)</small>", c.files.len() - 50));
                break;
            }
            if i > 0 {
                h.push_str("<br>");
            }
            h.push_str(&format!(
                "<a href=\"{}\">{}</a> <small>({} bytes)</small>",
                escape_html(&href(f)),
                escape_html(f),
                sizes.get(f.as_str()).copied().unwrap_or(0)
            ));
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    h
}

// --- verification --------------------------------------------------------------------------

/// Checks an export against its manifest, streaming every entry through SHA-256. Every
/// missing, extra, resized, changed or damaged file is reported by name. `Err` only when the
/// file cannot be checked at all (not a ZIP, no readable manifest, a newer format).
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let file = File::open(path).map_err(|e| CoreError::io("opening the export", path, e))?;
    let unreadable = |detail: String| ExportError::Unreadable { path: path.to_path_buf(), detail };
    let mut zip = zip::ZipArchive::new(BufReader::with_capacity(256 * 1024, file))
        .map_err(|e| unreadable(format!("it is not a ZIP archive ({e})")))?;
    let manifest: Manifest = {
        let mut entry = match zip.by_name(MANIFEST) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => return Err(unreadable(format!("it has no {MANIFEST}"))),
            Err(e) => return Err(unreadable(format!("its {MANIFEST} cannot be opened ({e})"))),
        };
        let mut buf = Vec::new();
        (&mut entry)
            .take(MANIFEST_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| unreadable(format!("its {MANIFEST} is damaged ({e})")))?;
        if buf.len() as u64 > MANIFEST_LIMIT {
            return Err(unreadable(format!("its {MANIFEST} is larger than {MANIFEST_LIMIT} bytes")));
        }
        serde_json::from_slice(&buf).map_err(|e| unreadable(format!("its {MANIFEST} is not valid ({e})")))?
    };
    if manifest.format != FORMAT {
        return Err(unreadable(format!("its format is `{}`, not `{FORMAT}`", manifest.format)));
    }
    if manifest.format_version > FORMAT_VERSION || manifest.format_version == 0 {
        return Err(unreadable(format!(
            "it is format version {}; this build reads versions 1 to {FORMAT_VERSION} (update AiWellFlow Studio)",
            manifest.format_version
        )));
    }
    let mut problems = Vec::new();
    let mut expected: BTreeMap<&str, &FileEntry> = BTreeMap::new();
    for f in &manifest.files {
        if !safe_path(&f.path) || f.path == MANIFEST {
            problems.push(problem(&f.path, ProblemKind::BadPath, "the manifest lists an unsafe path"));
        } else if expected.insert(f.path.as_str(), f).is_some() {
            problems.push(problem(&f.path, ProblemKind::Duplicate, "the manifest lists it twice"));
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let (mut files_checked, mut bytes_checked) = (0u64, 0u64);
    let mut manifests = 0;
    let mut buf = vec![0u8; 64 * 1024];
    let count = zip.len();
    if count > MAX_ENTRIES {
        return Err(unreadable(format!("it has {count} entries; at most {MAX_ENTRIES} are read")));
    }
    for i in 0..count {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                problems.push(problem(
                    &format!("(entry {})", i + 1),
                    ProblemKind::Damaged,
                    &format!("cannot be opened: {e}"),
                ));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.to_string(),
            Err(e) => {
                problems.push(problem(
                    &format!("(entry {})", i + 1),
                    ProblemKind::Damaged,
                    &format!("has no readable name: {e}"),
                ));
                continue;
            }
        };
        if name == MANIFEST {
            manifests += 1;
            if manifests > 1 {
                problems.push(problem(&name, ProblemKind::Duplicate, "the archive holds two manifests"));
            }
            continue;
        }
        let Some(want) = expected.get(name.as_str()) else {
            problems.push(problem(&name, ProblemKind::Extra, "is in the archive but not in the manifest"));
            continue;
        };
        if !seen.insert(name.clone()) {
            problems.push(problem(&name, ProblemKind::Duplicate, "is in the archive twice"));
            continue;
        }
        let mut hash = Sha256::new();
        let mut bytes = 0u64;
        let mut limited = (&mut entry).take(want.bytes.saturating_add(1));
        let read = loop {
            match limited.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    hash.update(&buf[..n]);
                    bytes += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        files_checked += 1;
        bytes_checked += bytes;
        if let Err(e) = read {
            problems.push(problem(&name, ProblemKind::Damaged, &format!("cannot be read: {e}")));
            continue;
        }
        if bytes != want.bytes {
            let found = if bytes > want.bytes { format!("more than {}", want.bytes) } else { bytes.to_string() };
            problems.push(problem(
                &name,
                ProblemKind::Size,
                &format!("is {found} bytes; the manifest says {}", want.bytes),
            ));
            continue;
        }
        let got = hex::encode(hash.finalize());
        if !got.eq_ignore_ascii_case(&want.sha256) {
            problems.push(problem(
                &name,
                ProblemKind::Hash,
                &format!("its SHA-256 is {got}; the manifest says {}", want.sha256),
            ));
        }
    }
    for (name, _) in expected.iter().filter(|(n, _)| !seen.contains(**n)) {
        problems.push(problem(name, ProblemKind::Missing, "is listed in the manifest but missing from the archive"));
    }
    Ok(VerifyReport {
        ok: problems.is_empty(),
        format_version: manifest.format_version,
        app_version: manifest.app_version,
        profile_id: manifest.profile_id,
        created_at: manifest.created_at,
        files_checked,
        bytes_checked,
        problems,
    })
}

fn problem(path: &str, kind: ProblemKind, message: &str) -> VerifyProblem {
    VerifyProblem { path: path.to_string(), kind, message: message.to_string() }
}

// --- the core's categories -------------------------------------------------------------------

/// The record the egress crate keeps the signed-in account in (`awf-egress`, `client.rs`).
const ACCOUNT_RECORD: &str = "platform-account";

fn local_sources() -> Vec<Arc<dyn ExportSource>> {
    vec![
        Arc::new(AccountSource),
        Arc::new(SettingsSource),
        Arc::new(AgentsSource),
        Arc::new(RevisionsSource),
        Arc::new(PluginsSource),
        Arc::new(DatasetsSource),
        Arc::new(TablesSource),
        Arc::new(PiiSource),
        Arc::new(SearchHistorySource),
        Arc::new(ConsentsSource),
        Arc::new(LedgerSource),
        Arc::new(TransmissionsSource),
        Arc::new(TelemetrySource),
        Arc::new(SecretsSource),
    ]
}

struct AccountSource;

impl ExportSource for AccountSource {
    fn name(&self) -> &str {
        "account"
    }
    fn title(&self) -> &str {
        "Account profile (as last fetched from the platform)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let account: Option<serde_json::Value> = profile.record(ACCOUNT_RECORD)?;
        if account.is_some() {
            out.add_count(1);
        } else {
            out.note("No account is cached on this machine (never signed in, or signed out).");
        }
        out.json("account.json", &serde_json::json!({ "account": account }))
    }
}

struct SettingsSource;

impl ExportSource for SettingsSource {
    fn name(&self) -> &str {
        "settings"
    }
    fn title(&self) -> &str {
        "Profile and settings"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let installation_id: Option<String> = profile.record("installation-id")?;
        let terms = profile.consents().terms()?;
        out.add_count(1);
        out.json(
            "settings.json",
            &serde_json::json!({
                "profile_id": profile.profile_id(),
                "key_mode": profile.key_mode(),
                "schema_version": Profile::schema_version(),
                "settings": profile.settings()?,
                "installation_id": installation_id,
                "policy_terms": { "version": terms.version, "purposes": terms.purposes },
            }),
        )
    }
}

struct AgentsSource;

impl ExportSource for AgentsSource {
    fn name(&self) -> &str {
        "agents"
    }
    fn title(&self) -> &str {
        "Agents"
    }
    fn estimate(&self, profile: &Profile) -> u64 {
        profile.agents().count() as u64 * 2048
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        out.start("agents.jsonl", Packing::Deflated)?;
        let q = crate::agents::ListQuery { filter: String::new(), include_archived: true };
        for s in profile.agents().list(&q)? {
            let agent = match profile.agents().get(&s.id) {
                Ok(a) => a,
                Err(CoreError::NotFound { .. }) => continue, // deleted meanwhile
                Err(e) => return Err(e.into()),
            };
            out.line(&agent)?;
            out.add_count(1);
        }
        Ok(())
    }
}

struct RevisionsSource;

#[derive(Serialize)]
struct RevisionLine<'a> {
    agent_id: &'a str,
    #[serde(flatten)]
    revision: &'a crate::agents::Revision,
}

impl ExportSource for RevisionsSource {
    fn name(&self) -> &str {
        "instruction_revisions"
    }
    fn title(&self) -> &str {
        "Instruction revisions (agent history)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        out.start("instruction_revisions.jsonl", Packing::Deflated)?;
        let q = crate::agents::ListQuery { filter: String::new(), include_archived: true };
        for s in profile.agents().list(&q)? {
            let revisions = match profile.agents().revisions(&s.id) {
                Ok(r) => r,
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            for r in &revisions {
                out.line(&RevisionLine { agent_id: &s.id, revision: r })?;
                out.add_count(1);
            }
        }
        Ok(())
    }
}

struct PluginsSource;

impl ExportSource for PluginsSource {
    fn name(&self) -> &str {
        "plugins"
    }
    fn title(&self) -> &str {
        "Plugins (imported API descriptions; secrets never included)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        out.start("plugins.jsonl", Packing::Deflated)?;
        for p in profile.plugins().list()? {
            // The record holds only `secret_set`; the secret stays in the keyring.
            out.line(&p)?;
            out.add_count(1);
        }
        Ok(())
    }
}

struct DatasetsSource;

/// Where a dataset's text is in the archive.
fn dataset_file(ds: &crate::datasets::Dataset) -> String {
    format!("datasets/{}/{}", safe_file_name(&ds.id), safe_file_name(&ds.source_name))
}

impl ExportSource for DatasetsSource {
    fn name(&self) -> &str {
        "datasets"
    }
    fn title(&self) -> &str {
        "Datasets (descriptions, and each text as its file)"
    }
    fn estimate(&self, profile: &Profile) -> u64 {
        profile.datasets().list().map(|l| l.iter().map(|d| d.bytes + 4096).sum()).unwrap_or(0)
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let list = profile.datasets().list()?;
        let described: Vec<_> =
            list.iter().map(|d| serde_json::json!({ "dataset": d, "file": dataset_file(d) })).collect();
        out.json("datasets.json", &described)?;
        for ds in &list {
            // Not hashed again: each piece opens only under this digest, at its place, at its
            // size (crate::datasets), so what is written is the text the digest was taken of.
            out.start_vouched(&dataset_file(ds), Packing::Stored, &ds.sha256)?;
            let mut failed: Option<ExportError> = None;
            profile
                .datasets()
                .for_each_piece(&ds.id, |piece| {
                    out.write(piece).map_err(|e| {
                        let detail = e.to_string();
                        failed = Some(e);
                        CoreError::Corrupt { detail }
                    })
                })
                .map_err(|e| failed.take().unwrap_or(ExportError::Core(e)))?;
            out.add_count(1);
        }
        Ok(())
    }
}

struct TablesSource;

impl ExportSource for TablesSource {
    fn name(&self) -> &str {
        "tables"
    }
    fn title(&self) -> &str {
        "Tables (schemas, and rows as JSON Lines)"
    }
    fn estimate(&self, profile: &Profile) -> u64 {
        profile.tables().list().map(|l| l.iter().map(|t| t.row_count * 64 + 1024).sum()).unwrap_or(0)
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let list = profile.tables().list()?;
        let described: Vec<_> = list
            .iter()
            .map(|t| serde_json::json!({ "table": t, "rows_file": format!("tables/{}/rows.jsonl", safe_file_name(&t.id)) }))
            .collect();
        out.json("tables.json", &described)?;
        for t in &list {
            out.start(&format!("tables/{}/rows.jsonl", safe_file_name(&t.id)), Packing::Deflated)?;
            let mut offset = 0u64;
            loop {
                let page = profile.tables().rows(&t.id, offset, ROW_PAGE)?;
                if page.rows.is_empty() {
                    break;
                }
                offset += page.rows.len() as u64;
                for row in &page.rows {
                    out.line(row)?;
                }
            }
            out.add_count(1);
        }
        Ok(())
    }
}

struct PiiSource;

impl ExportSource for PiiSource {
    fn name(&self) -> &str {
        "pii_findings"
    }
    fn title(&self) -> &str {
        "Personal information found in datasets and tables (masked)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let mut items = Vec::new();
        for d in profile.datasets().list()? {
            items.push(serde_json::json!({ "kind": "dataset", "id": d.id, "name": d.name, "pii": d.pii }));
        }
        for t in profile.tables().list()? {
            items.push(serde_json::json!({ "kind": "table", "id": t.id, "name": t.name, "pii": t.pii }));
        }
        out.add_count(items.len() as u64);
        out.json("pii_findings.json", &items)
    }
}

struct SearchHistorySource;

impl ExportSource for SearchHistorySource {
    fn name(&self) -> &str {
        "search_history"
    }
    fn title(&self) -> &str {
        "Search history"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let h = profile.search().history()?;
        out.add_count(h.len() as u64);
        out.json("search_history.json", &h)
    }
}

struct ConsentsSource;

impl ExportSource for ConsentsSource {
    fn name(&self) -> &str {
        "consents"
    }
    fn title(&self) -> &str {
        "Consents (current state per purpose)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let c = profile.consents();
        let current = c.list()?;
        out.add_count(current.len() as u64);
        out.json(
            "consents.json",
            &serde_json::json!({
                "current": current,
                "needing_reconsent": c.needing_reconsent()?,
                "receipts_acknowledged_up_to": c.acknowledged_upto()?,
            }),
        )
    }
}

struct LedgerSource;

impl ExportSource for LedgerSource {
    fn name(&self) -> &str {
        "consent_ledger"
    }
    fn title(&self) -> &str {
        "Consent ledger (hash-chained, re-verifiable)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let c = profile.consents();
        out.start("consent_ledger.jsonl", Packing::Deflated)?;
        let entries = c.ledger()?;
        for e in &entries {
            out.line(e)?;
            out.add_count(1);
        }
        let report = c.verify()?;
        out.json(
            "consent_ledger_verification.json",
            &serde_json::json!({
                "verified_at": crate::clock::now(),
                "report": report,
                "genesis": crate::ledger::GENESIS,
                "hash": "SHA-256 over the bytes `awf-consent-ledger/v1\\n` followed by, for each of seq, purpose, granted, at, policy_version, method, receipt_id, prev_hash as text: its length as a big-endian u64 and its UTF-8 bytes; hex-encoded (docs/EXPORT.md)",
            }),
        )
    }
}

struct TransmissionsSource;

impl ExportSource for TransmissionsSource {
    fn name(&self) -> &str {
        "transmission_log"
    }
    fn title(&self) -> &str {
        "Transmission log (every request sent to, or refused for, the platform)"
    }
    fn estimate(&self, profile: &Profile) -> u64 {
        profile.transmissions().len() as u64 * 300
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        out.start("transmission_log.jsonl", Packing::Deflated)?;
        let mut before = None;
        loop {
            let q = crate::transmissions::LogQuery { before_seq: before, limit: Some(LOG_PAGE), ..Default::default() };
            let page = profile.transmissions().list(&q)?;
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            for r in &page {
                out.line(r)?;
                out.add_count(1);
            }
            if last.seq <= 1 {
                break;
            }
        }
        Ok(())
    }
}

struct TelemetrySource;

impl ExportSource for TelemetrySource {
    fn name(&self) -> &str {
        "telemetry_queue"
    }
    fn title(&self) -> &str {
        "Telemetry waiting to be sent (only with consent)"
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        out.start("telemetry_queue.jsonl", Packing::Deflated)?;
        for item in profile.telemetry().pending(None)? {
            out.line(&item)?;
            out.add_count(1);
        }
        Ok(())
    }
}

struct SecretsSource;

impl ExportSource for SecretsSource {
    fn name(&self) -> &str {
        "secrets"
    }
    fn title(&self) -> &str {
        "Secrets: which exist and where (their values are never exported)"
    }
    fn covers(&self) -> Vec<String> {
        ["secrets", "platform_tokens", "platform_cookies", "plugin_secrets"].map(String::from).to_vec()
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<()> {
        let where_ = match profile.key_mode() {
            crate::profile::KeyMode::Keyring => format!("OS keyring, service {}", crate::keys::KEYRING_SERVICE),
            crate::profile::KeyMode::Passphrase => "the store, sealed under the passphrase key".to_string(),
        };
        // Only whether each secret exists: the value is dropped (and zeroized) at once.
        let held = |name: &str| -> Result<bool> { Ok(profile.secret(name)?.is_some()) };
        let tokens = held("platform-tokens")?;
        let cookies = held("platform-cookies")?;
        let plugin_secrets: Vec<_> = profile
            .plugins()
            .list()?
            .into_iter()
            .filter(|p| p.secret_set)
            .map(|p| serde_json::json!({ "plugin_id": p.id, "plugin_name": p.draft.name }))
            .collect();
        out.add_count(u64::from(tokens) + u64::from(cookies) + plugin_secrets.len() as u64);
        out.note("Values of secrets are never exported; this file says which exist and where they are kept.");
        out.json(
            "secrets.json",
            &serde_json::json!({
                "values_exported": false,
                "store_key": { "held_in": where_ },
                "platform_tokens": { "held": tokens, "held_in": where_ },
                "platform_cookies": { "held": cookies, "held_in": where_ },
                "plugin_secrets": { "held_in": where_, "plugins": plugin_secrets },
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names_are_made_safe() {
        assert!(safe_path("datasets/01ABC/notes.txt"));
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "c:\\x", "a\\b", "./a", "a\nb"] {
            assert!(!safe_path(bad), "{bad:?}");
        }
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("..."), "text.txt");
        assert_eq!(safe_file_name("报告 2024.txt"), "报告 2024.txt");
        assert!(safe_path(&format!("datasets/x/{}", safe_file_name("a/b\\c:d\u{0}e"))));
    }

    #[test]
    fn html_is_escaped_and_links_are_encoded() {
        assert_eq!(escape_html("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(href("datasets/id/a b<c>.txt"), "datasets/id/a%20b%3Cc%3E.txt");
    }
}
