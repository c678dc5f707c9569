//! Datasets (B3): text files (txt, md, csv, json, jsonl) kept in the profile with their chunking
//! settings and PII findings.
//!
//! The description (tree `datasets`) holds a dataset's size, source encoding, SHA-256 and
//! findings. Its text, decoded to UTF-8, lives outside sled (schema 7), in sealed files of
//! [`PIECE_BYTES`] each:
//!
//! ```text
//! <data dir>/datasets/<dataset dir>/<piece number, 8 hex digits>.piece
//! ```
//!
//! `<dataset dir>` is the id when it is a plain id (ULID-like: 8 to 64 of `A-Z 0-9 - _`), else
//! `=` and the SHA-256 of the id (ids from a bundle are arbitrary strings and must not name a
//! path). Each file is sealed with the profile's data key ([`Storage::seal_blob`]), the associated
//! data binding the dataset id, the piece number and the text's SHA-256: a file moved to another
//! dataset or place, swapped, truncated, altered or left over from an earlier text of the same id
//! fails to open, and the read names the dataset and the piece. Nothing on disk is plaintext.
//!
//! Why files: sled keeps what it reads (its page cache accounts a 1 MiB blob at the size of its
//! pointer), so exporting 256 MB of text held ≈450 MB; a file is read into one reused buffer,
//! so reading any amount of text takes constant memory (issue 7).
//!
//! Writes: each piece goes to a temporary file in the dataset's directory, is synced and renamed,
//! and the directory is synced; the description is committed to sled last, so a dataset is
//! listed only once all its text is durable, and a crash leaves only an orphan directory, which
//! the next open of the profile removes ([`remove_orphans`]). Deleting commits the sled change
//! first, then removes the directory. Chunks are computed from the text when previewed.
use serde::{Deserialize, Serialize};
use sha2::Digest;

use awf_ingest::dataset::{self, ChunkOptions, DatasetFormat};
use awf_ingest::text::{self, SourceEncoding};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::findings::PiiSummary;
use crate::plugins::{decode, encode};
use crate::storage::{Batch, Storage, Tree};
use crate::sync::{ItemKind, SyncOp};

/// Size of one stored piece of text.
pub const PIECE_BYTES: usize = 1024 * 1024;

/// A stored dataset (its text is separate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dataset {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The file name it was imported from.
    pub source_name: String,
    pub format: DatasetFormat,
    /// How the file was encoded; the stored text is UTF-8.
    pub encoding: SourceEncoding,
    /// Bytes of the stored (UTF-8) text.
    pub bytes: u64,
    /// SHA-256 of the stored text, hex.
    pub sha256: String,
    pub chunking: ChunkOptions,
    pub chunk_count: u32,
    pub pii: PiiSummary,
    pub created_at: String,
    pub updated_at: String,
    pub version: u32,
}

/// A page of chunks for preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChunkPage {
    pub total: u32,
    pub offset: u32,
    pub chunks: Vec<dataset::Chunk>,
}

/// Why a dataset import failed, with the place.
#[derive(Debug, thiserror::Error)]
pub enum DatasetImportError {
    #[error("`{name}` is not a dataset file: use .txt, .md, .csv, .json or .jsonl")]
    UnsupportedType { name: String },
    #[error("`{name}` is {actual} bytes; the limit for one dataset file is {limit} bytes")]
    TooLarge { name: String, limit: u64, actual: u64 },
    #[error("`{name}` is empty")]
    Empty { name: String },
    #[error("`{name}`: {source}")]
    Encoding { name: String, source: text::DecodeError },
    #[error("`{name}`: {source}")]
    Content { name: String, source: dataset::DatasetError },
    #[error(transparent)]
    Store(#[from] CoreError),
}

/// Import progress: bytes of work done out of the total.
pub type Progress<'p> = &'p mut dyn FnMut(u64, u64);

/// Dataset operations over one profile.
pub struct Datasets<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) profile: &'a crate::Profile,
}

/// The directory, under the data directory, that holds every dataset's text files.
pub const TEXT_DIR: &str = "datasets";
/// The sealing domain of piece files.
const PIECE_DOMAIN: &str = "dataset_piece";
/// A sealed piece: version byte, nonce, ciphertext, tag.
const SEALED_OVERHEAD: usize = 1 + 24 + 16;

/// The legacy (schema 5 and 6) sled key of a piece; read only by the migration to schema 7.
pub(crate) fn legacy_piece_prefix(id: &str) -> Vec<u8> {
    let mut k = id.as_bytes().to_vec();
    k.push(b'/');
    k
}

/// The name of a dataset's directory: the id itself when it is plain (8 to 64 of `A-Z 0-9 - _`,
/// as a ULID), else `=` and its SHA-256: never a path, never a reserved Windows name (`CON`,
/// `COM1`), never two ids differing only in case on a case-insensitive file system.
fn dir_name(id: &str) -> String {
    let plain = (8..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if plain {
        id.to_string()
    } else {
        format!("={}", hex::encode(sha2::Sha256::digest(id.as_bytes())))
    }
}

fn text_root(storage: &Storage) -> std::path::PathBuf {
    storage.data_dir().join(TEXT_DIR)
}

fn piece_dir(storage: &Storage, id: &str) -> std::path::PathBuf {
    text_root(storage).join(dir_name(id))
}

fn piece_file(n: u64) -> String {
    format!("{n:08x}.piece")
}

/// Associated data of a piece: the dataset id (length-prefixed), the piece number and the SHA-256
/// of the whole text.
fn piece_aad(ds: &Dataset, n: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + ds.id.len() + 8 + ds.sha256.len());
    k.extend_from_slice(&(ds.id.len() as u32).to_be_bytes());
    k.extend_from_slice(ds.id.as_bytes());
    k.extend_from_slice(&n.to_be_bytes());
    k.extend_from_slice(ds.sha256.as_bytes());
    k
}

fn piece_count(bytes: u64) -> u64 {
    bytes.div_ceil(PIECE_BYTES as u64)
}

fn io_err<'p>(context: &'static str, path: &'p std::path::Path) -> impl FnOnce(std::io::Error) -> CoreError + 'p {
    move |e| CoreError::io(context, path, e)
}

fn remove_dir(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CoreError::io("removing a dataset's text files", path, e)),
    }
}

/// Writes a dataset's text as sealed piece files, streaming: [`PieceWriter::push`] any amount,
/// [`PieceWriter::finish`] syncs the directory. Starting one removes the files the dataset had.
pub(crate) struct PieceWriter<'s> {
    storage: &'s Storage,
    ds: Dataset,
    dir: std::path::PathBuf,
    buf: Vec<u8>,
    next: u64,
    written: u64,
}

impl<'s> PieceWriter<'s> {
    pub(crate) fn new(storage: &'s Storage, ds: &Dataset) -> Result<Self> {
        let root = text_root(storage);
        let dir = piece_dir(storage, &ds.id);
        remove_dir(&dir)?;
        let root_existed = root.is_dir();
        std::fs::create_dir_all(&dir).map_err(io_err("creating a dataset's text directory", &dir))?;
        // The new directory entries are durable before any piece is.
        if !root_existed {
            crate::keys::sync_dir(storage.data_dir())
                .map_err(io_err("syncing the data directory", storage.data_dir()))?;
        }
        crate::keys::sync_dir(&root).map_err(io_err("syncing the datasets directory", &root))?;
        Ok(PieceWriter { storage, ds: ds.clone(), dir, buf: Vec::with_capacity(PIECE_BYTES), next: 0, written: 0 })
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let take = (PIECE_BYTES - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buf.len() == PIECE_BYTES {
                self.write_piece()?;
            }
        }
        Ok(())
    }

    fn write_piece(&mut self) -> Result<()> {
        use std::io::Write;
        let n = self.next;
        let sealed = self.storage.seal_blob(PIECE_DOMAIN, &piece_aad(&self.ds, n), &self.buf);
        let path = self.dir.join(piece_file(n));
        let tmp = self.dir.join(format!("{}.tmp", piece_file(n)));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&sealed)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(io_err("writing a dataset's text", &path))?;
        self.written += self.buf.len() as u64;
        self.next += 1;
        self.buf.clear();
        Ok(())
    }

    /// Writes the last piece and syncs the directory; returns the bytes of text written.
    pub(crate) fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            self.write_piece()?;
        }
        crate::keys::sync_dir(&self.dir).map_err(io_err("syncing a dataset's text directory", &self.dir))?;
        Ok(self.written)
    }
}

/// Most threads reading a dataset's pieces at once.
const MAX_READERS: usize = 4;

/// Reads a dataset's text piece by piece into a few reused buffers (constant memory), checking
/// every piece's seal, its place and its size.
fn read_pieces(storage: &Storage, ds: &Dataset, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let count = piece_count(ds.bytes);
    if count <= 1 {
        let mut buf = Vec::with_capacity(PIECE_BYTES + SEALED_OVERHEAD);
        for n in 0..count {
            let at = open_piece(storage, ds, n, &mut buf)?;
            f(&buf[at])?;
        }
        return Ok(());
    }
    // Reader threads read and open the next pieces while `f` handles this one: piece n goes to
    // reader n % readers and `f` takes the pieces in order. Opening (decryption and its tag) is
    // the longest stage, so on two cores it runs on both while the caller's writing takes what
    // it needs. Each reader has two buffers going round: at most 2 × readers pieces in memory.
    let readers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_READERS).min(count as usize);
    std::thread::scope(move |scope| {
        let mut lanes = Vec::with_capacity(readers);
        for first in 0..readers as u64 {
            type Opened = Result<(Vec<u8>, std::ops::Range<usize>)>;
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Opened>(1);
            let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
            for _ in 0..2 {
                let _ = empty_tx.send(Vec::with_capacity(PIECE_BYTES + SEALED_OVERHEAD));
            }
            scope.spawn(move || {
                for n in (first..count).step_by(readers) {
                    // The consumer stopped (an error, a cancel): stop too.
                    let Ok(mut buf) = empty_rx.recv() else { return };
                    let piece = open_piece(storage, ds, n, &mut buf).map(|at| (buf, at));
                    let failed = piece.is_err();
                    if full_tx.send(piece).is_err() || failed {
                        return;
                    }
                }
            });
            lanes.push((full_rx, empty_tx));
        }
        let result = (|| {
            for n in 0..count {
                let (full_rx, empty_tx) = &lanes[(n % readers as u64) as usize];
                let (buf, at) = full_rx.recv().map_err(|_| CoreError::Corrupt {
                    detail: format!("dataset `{}`: the piece reader stopped", ds.id),
                })??;
                let handled = f(&buf[at]);
                let _ = empty_tx.send(buf);
                handled?;
            }
            Ok(())
        })();
        // Dropping every lane's ends wakes a reader waiting on either, so the scope can end.
        drop(lanes);
        result
    })
}

/// Reads piece `n` of `ds` into `buf` and opens it in place; returns where its text is.
fn open_piece(storage: &Storage, ds: &Dataset, n: u64, buf: &mut Vec<u8>) -> Result<std::ops::Range<usize>> {
    use std::io::Read;
    let count = piece_count(ds.bytes);
    let corrupt = |what: &str| CoreError::Corrupt {
        detail: format!("dataset `{}`: piece {n} of {count} (file {}) {what}", ds.id, piece_file(n)),
    };
    let path = piece_dir(storage, &ds.id).join(piece_file(n));
    buf.clear();
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(corrupt("is missing")),
        Err(e) => return Err(CoreError::io("reading a dataset's text", &path, e)),
    };
    file.take((PIECE_BYTES + SEALED_OVERHEAD + 1) as u64)
        .read_to_end(buf)
        .map_err(io_err("reading a dataset's text", &path))?;
    let at = storage.open_blob_in_place(PIECE_DOMAIN, &piece_aad(ds, n), buf).map_err(|_| {
        corrupt("failed authentication: wrong key, or the file was altered, truncated, swapped or replaced")
    })?;
    let expected = if n + 1 == count { ds.bytes - n * PIECE_BYTES as u64 } else { PIECE_BYTES as u64 };
    if at.len() as u64 != expected {
        return Err(corrupt(&format!("holds {} bytes, not {expected}", at.len())));
    }
    Ok(at)
}

/// Removes the text directories of datasets that do not exist (a crash between writing the
/// files and committing the description, or between deleting a dataset and its files), and
/// stray files. Run once when the profile is opened, before anything can import. Best
/// effort: what cannot be removed now is tried again at the next open.
pub(crate) fn remove_orphans(storage: &Storage) {
    let root = text_root(storage);
    let Ok(entries) = std::fs::read_dir(&root) else { return };
    let live: std::collections::HashSet<String> = match storage.keys_prefix(Tree::Datasets, b"") {
        Ok(keys) => keys.iter().map(|k| dir_name(&String::from_utf8_lossy(k))).collect(),
        Err(_) => return,
    };
    let mut removed = false;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if live.contains(&name) {
            continue;
        }
        let path = e.path();
        let gone = if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed |= gone.is_ok();
    }
    if removed {
        let _ = crate::keys::sync_dir(&root);
    }
}

/// Bytes of the sealed text files on disk (the inventory).
pub(crate) fn text_files_bytes(storage: &Storage) -> u64 {
    let Ok(dirs) = std::fs::read_dir(text_root(storage)) else { return 0 };
    dirs.flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|files| files.flatten())
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum()
}

impl Datasets<'_> {
    fn not_found(id: &str) -> CoreError {
        CoreError::NotFound { kind: "dataset", id: id.to_string() }
    }

    /// Imports a file's bytes as a new dataset: checks type and size, decodes, validates the
    /// format, scans for PII and stores the text, reporting progress. Nothing is written when
    /// any check fails.
    pub fn import(
        &self,
        source_name: &str,
        bytes: &[u8],
        chunking: ChunkOptions,
        progress: Progress<'_>,
    ) -> std::result::Result<Dataset, DatasetImportError> {
        self.import_into(None, source_name, bytes, chunking, progress)
    }

    /// Imports a file's bytes as the new content of dataset `id` (checked as [`Datasets::import`]
    /// checks them): the dataset keeps its id, name, description, chunking and creation time, and
    /// the change is queued for sync like any edit.
    pub fn replace(
        &self,
        id: &str,
        source_name: &str,
        bytes: &[u8],
        progress: Progress<'_>,
    ) -> std::result::Result<Dataset, DatasetImportError> {
        let old = self.get(id)?;
        let chunking = old.chunking;
        self.import_into(Some(old), source_name, bytes, chunking, progress)
    }

    fn import_into(
        &self,
        existing: Option<Dataset>,
        source_name: &str,
        bytes: &[u8],
        chunking: ChunkOptions,
        progress: Progress<'_>,
    ) -> std::result::Result<Dataset, DatasetImportError> {
        let name = source_name.to_string();
        let format = DatasetFormat::from_file_name(source_name)
            .ok_or(DatasetImportError::UnsupportedType { name: name.clone() })?;
        if bytes.len() as u64 > dataset::limits::MAX_FILE_BYTES {
            return Err(DatasetImportError::TooLarge {
                name,
                limit: dataset::limits::MAX_FILE_BYTES,
                actual: bytes.len() as u64,
            });
        }
        chunking.validate().map_err(|reason| CoreError::invalid("chunking", reason))?;
        let decoded =
            text::decode(bytes).map_err(|source| DatasetImportError::Encoding { name: name.clone(), source })?;
        if decoded.text.trim().is_empty() {
            return Err(DatasetImportError::Empty { name });
        }
        dataset::validate(format, &decoded.text)
            .map_err(|source| DatasetImportError::Content { name: name.clone(), source })?;
        let total = decoded.text.len() as u64;
        // Work: PII scan (1×), chunking (1×), storing (1×).
        let mut report = |done: u64| progress(done, total * 3);
        let pii = PiiSummary::scan_large(&decoded.text, &mut report);
        let chunk_count = dataset::chunks(format, &decoded.text, chunking).len() as u32;
        report(total * 2);
        let now = clock::now();
        let stem = source_name.rsplit(['/', '\\']).next().unwrap_or(source_name);
        let ds = Dataset {
            id: ulid::Ulid::new().to_string(),
            name: stem.rsplit_once('.').map(|(s, _)| s).unwrap_or(stem).chars().take(80).collect(),
            description: String::new(),
            source_name: stem.chars().take(200).collect(),
            format,
            encoding: decoded.encoding,
            bytes: total,
            sha256: hex::encode(sha2::Sha256::digest(decoded.text.as_bytes())),
            chunking,
            chunk_count,
            pii,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let ds = match existing {
            Some(old) => Dataset {
                id: old.id,
                name: old.name,
                description: old.description,
                created_at: old.created_at,
                version: old.version + 1,
                ..ds
            },
            None => ds,
        };
        self.write_new(&ds, decoded.text.as_bytes(), &mut |done| report(total * 2 + done))?;
        report(total * 3);
        Ok(ds)
    }

    /// Stores a dataset and its text: the text as sealed piece files (synced), then the
    /// description last, so a dataset is listed only once all of its text is durable. A crash
    /// half-way leaves an orphan directory that the next open removes. Replacing a dataset
    /// removes its old files first.
    fn write_new(&self, ds: &Dataset, text: &[u8], progress: &mut dyn FnMut(u64)) -> Result<()> {
        if text.len() as u64 != ds.bytes {
            return Err(CoreError::invalid(
                "dataset",
                format!("`{}` says {} bytes of text; {} were given", ds.id, ds.bytes, text.len()),
            ));
        }
        let mut w = PieceWriter::new(self.storage, ds)?;
        const PROGRESS_EVERY: usize = PIECE_BYTES * 16;
        let mut write = || -> Result<()> {
            for (i, group) in text.chunks(PROGRESS_EVERY).enumerate() {
                w.push(group)?;
                progress(((i + 1) * PROGRESS_EVERY).min(text.len()) as u64);
            }
            Ok(())
        };
        if let Err(e) = write().and_then(|()| w.finish().map(|_| ())) {
            // A disk that filled up half-way: no half-written text stays behind.
            let _ = remove_dir(&piece_dir(self.storage, &ds.id));
            return Err(e);
        }
        let mut b = Batch::default();
        b.put(Tree::Datasets, ds.id.as_bytes(), encode(ds));
        crate::sync::enqueue(&mut b, ItemKind::Dataset, &ds.id, SyncOp::Upsert);
        self.storage.commit(b)
    }

    /// Writes a dataset exactly as given (bundle import), replacing one with the same id.
    pub(crate) fn put_raw(&self, ds: &Dataset, text: &[u8]) -> Result<()> {
        self.write_new(ds, text, &mut |_| {})
    }

    pub fn get(&self, id: &str) -> Result<Dataset> {
        let bytes = self.storage.get(Tree::Datasets, id.as_bytes())?.ok_or_else(|| Self::not_found(id))?;
        decode("dataset", &bytes)
    }

    /// Every dataset, most recently changed first.
    pub fn list(&self) -> Result<Vec<Dataset>> {
        let mut out: Vec<Dataset> = self
            .storage
            .scan_prefix(Tree::Datasets, b"")?
            .into_iter()
            .map(|(_, v)| decode("dataset", &v))
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| b.id.cmp(&a.id)));
        Ok(out)
    }

    /// The whole stored text. Checks it against the recorded SHA-256.
    pub fn text(&self, id: &str) -> Result<String> {
        let ds = self.get(id)?;
        let mut bytes = Vec::with_capacity(ds.bytes as usize);
        read_pieces(self.storage, &ds, |p| {
            bytes.extend_from_slice(p);
            Ok(())
        })?;
        if hex::encode(sha2::Sha256::digest(&bytes)) != ds.sha256 {
            return Err(CoreError::Corrupt { detail: format!("dataset `{id}`: its text does not match its checksum") });
        }
        String::from_utf8(bytes)
            .map_err(|_| CoreError::Corrupt { detail: format!("dataset `{id}`: its text is not UTF-8") })
    }

    /// Streams the stored text piece by piece (constant memory). A missing, altered, truncated
    /// or swapped piece file is [`CoreError::Corrupt`] naming the dataset and the piece.
    pub fn for_each_piece(&self, id: &str, f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let ds = self.get(id)?;
        read_pieces(self.storage, &ds, f)
    }

    /// A page of chunks (for the preview).
    pub fn chunks(&self, id: &str, offset: u32, limit: u32) -> Result<ChunkPage> {
        let ds = self.get(id)?;
        let text = self.text(id)?;
        let all = dataset::chunks(ds.format, &text, ds.chunking);
        let total = all.len() as u32;
        let chunks = all.into_iter().skip(offset as usize).take(limit.min(200) as usize).collect();
        Ok(ChunkPage { total, offset, chunks })
    }

    /// Renames, re-describes or re-chunks a dataset.
    pub fn update(&self, id: &str, name: &str, description: &str, chunking: ChunkOptions) -> Result<Dataset> {
        if name.trim().is_empty() {
            return Err(CoreError::invalid("name", "must not be empty"));
        }
        if name.chars().count() > 80 {
            return Err(CoreError::invalid("name", "must be at most 80 characters"));
        }
        if description.chars().count() > 2_000 {
            return Err(CoreError::invalid("description", "must be at most 2000 characters"));
        }
        chunking.validate().map_err(|reason| CoreError::invalid("chunking", reason))?;
        let mut ds = self.get(id)?;
        if chunking != ds.chunking {
            let text = self.text(id)?;
            ds.chunk_count = dataset::chunks(ds.format, &text, chunking).len() as u32;
            ds.chunking = chunking;
        }
        ds.name = name.trim().to_string();
        ds.description = description.to_string();
        ds.version += 1;
        ds.updated_at = clock::now();
        let mut b = Batch::default();
        b.put(Tree::Datasets, ds.id.as_bytes(), encode(&ds));
        crate::sync::enqueue(&mut b, ItemKind::Dataset, &ds.id, SyncOp::Upsert);
        self.storage.commit(b)?;
        Ok(ds)
    }

    /// Deletes the dataset and its text, and detaches it from every agent.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.get(id)?;
        self.profile.agents().detach(id)?;
        let mut b = Batch::default();
        b.delete(Tree::Datasets, id.as_bytes());
        crate::sync::enqueue(&mut b, ItemKind::Dataset, id, SyncOp::Delete);
        self.storage.commit(b)?;
        // After the commit: a crash in between leaves an orphan directory, removed at the next open.
        remove_dir(&piece_dir(self.storage, id))
    }
}

/// A dataset's description as another device synced it (the item body `push_dataset` writes):
/// what [`Datasets::apply_remote`] takes besides the text. Findings and the chunk count are not
/// taken from it: they are recomputed here from the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteDataset {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source_name: String,
    pub format: DatasetFormat,
    /// Bytes of the (UTF-8) text.
    pub bytes: u64,
    /// SHA-256 of the text, hex: the text must match it.
    pub sha256: String,
    pub chunking: ChunkOptions,
    #[serde(default)]
    pub created_at: String,
}

impl RemoteDataset {
    /// Reads a platform body; a body this version cannot read is an `Invalid` error.
    pub fn from_value(body: &serde_json::Value) -> Result<RemoteDataset> {
        serde_json::from_value(body.clone())
            .map_err(|e| CoreError::invalid("dataset", format!("the synced dataset cannot be read: {e}")))
    }
}

/// The largest text a pulled dataset may have: an imported file's limit, decoded (UTF-16 or
/// GB18030 text grows by at most half when decoded to UTF-8; twice the limit is ample).
fn max_remote_text() -> u64 {
    dataset::limits::MAX_FILE_BYTES.saturating_mul(2)
}

impl Datasets<'_> {
    /// Stores a dataset as the platform holds it (pulled from another device), with its sync
    /// state, without queuing it (it came from there): the text is read from `text` (a
    /// downloaded file), must be `remote.bytes` of UTF-8 whose SHA-256 is `remote.sha256`, and
    /// valid for its format; its PII findings and chunk count are computed here as an import
    /// computes them (the text is scanned in memory, as an import holds it). The pieces are
    /// written as an import writes them, the description is committed last (with the state and
    /// without an outbox entry). Nothing is changed when a check fails; a mismatching digest is
    /// [`CoreError::Corrupt`].
    pub fn apply_remote(
        &self,
        id: &str,
        remote: &RemoteDataset,
        text: &mut dyn std::io::Read,
        state: &crate::sync::ItemSync,
    ) -> Result<Dataset> {
        if remote.name.trim().is_empty() || remote.name.chars().count() > 80 {
            return Err(CoreError::invalid("name", "a synced dataset's name is 1 to 80 characters"));
        }
        if remote.description.chars().count() > 2_000 {
            return Err(CoreError::invalid("description", "must be at most 2000 characters"));
        }
        remote.chunking.validate().map_err(|reason| CoreError::invalid("chunking", reason))?;
        if remote.bytes > max_remote_text() {
            return Err(CoreError::TooLarge {
                field: "dataset".into(),
                limit: max_remote_text() as usize,
                actual: usize::try_from(remote.bytes).unwrap_or(usize::MAX),
            });
        }
        let mut bytes = Vec::with_capacity(remote.bytes as usize);
        std::io::Read::read_to_end(&mut std::io::Read::take(text, remote.bytes + 1), &mut bytes)
            .map_err(|e| CoreError::io("reading a synced dataset's text", std::path::Path::new(id), e))?;
        if bytes.len() as u64 != remote.bytes {
            return Err(CoreError::Corrupt {
                detail: format!("synced dataset `{id}`: {} bytes of text arrived, not {}", bytes.len(), remote.bytes),
            });
        }
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        if digest != remote.sha256 {
            return Err(CoreError::Corrupt {
                detail: format!(
                    "synced dataset `{id}`: the text's SHA-256 is {digest}, the synced description says {}",
                    remote.sha256
                ),
            });
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| CoreError::invalid("dataset", format!("synced dataset `{id}`: its text is not UTF-8")))?;
        dataset::validate(remote.format, &text).map_err(|e| CoreError::invalid("dataset", e.to_string()))?;
        let pii = PiiSummary::scan_large(&text, |_| {});
        let chunk_count = dataset::chunks(remote.format, &text, remote.chunking).len() as u32;
        let version = match self.get(id) {
            Ok(old) => old.version + 1,
            Err(CoreError::NotFound { .. }) => 1,
            Err(e) => return Err(e),
        };
        let now = clock::now();
        let ds = Dataset {
            id: id.to_string(),
            name: remote.name.trim().to_string(),
            description: remote.description.clone(),
            source_name: remote.source_name.chars().take(200).collect(),
            format: remote.format,
            encoding: SourceEncoding::Utf8,
            bytes: remote.bytes,
            sha256: digest,
            chunking: remote.chunking,
            chunk_count,
            pii,
            created_at: if remote.created_at.is_empty() { now.clone() } else { remote.created_at.clone() },
            updated_at: now,
            version,
        };
        let mut w = PieceWriter::new(self.storage, &ds)?;
        if let Err(e) = w.push(text.as_bytes()).and_then(|()| w.finish().map(|_| ())) {
            let _ = remove_dir(&piece_dir(self.storage, &ds.id));
            return Err(e);
        }
        let mut b = Batch::default();
        b.put(Tree::Datasets, ds.id.as_bytes(), encode(&ds));
        b.put(
            Tree::SyncState,
            crate::sync::item_key(ItemKind::Dataset, id),
            serde_json::to_vec(state).expect("state serialises"),
        );
        b.delete(Tree::Outbox, crate::sync::item_key(ItemKind::Dataset, id));
        self.storage.commit(b)?;
        Ok(ds)
    }

    /// Deletes a dataset the platform deleted (a tombstone) and its text, without queuing
    /// anything. Agents that use it are not changed here: the device that deleted it detached
    /// it from them, and those agents arrive by their own pull.
    pub fn delete_remote(&self, id: &str, state: &crate::sync::ItemSync) -> Result<()> {
        let mut b = Batch::default();
        b.delete(Tree::Datasets, id.as_bytes());
        b.put(
            Tree::SyncState,
            crate::sync::item_key(ItemKind::Dataset, id),
            serde_json::to_vec(state).expect("state serialises"),
        );
        b.delete(Tree::Outbox, crate::sync::item_key(ItemKind::Dataset, id));
        self.storage.commit(b)?;
        remove_dir(&piece_dir(self.storage, id))
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use super::*;
    use crate::keys::MemoryVault;
    use crate::{OpenOptions, Profile};

    const MARKER: &str = "MARKER-dataset-plaintext-7";

    fn open(dir: &Path, vault: &Arc<MemoryVault>) -> Profile {
        Profile::open(OpenOptions::new(dir).vault(vault.clone())).unwrap()
    }

    /// About `bytes` of text, every line carrying the marker.
    fn text(bytes: usize) -> String {
        let mut t = String::with_capacity(bytes + 100);
        let mut i = 0;
        while t.len() < bytes {
            t.push_str(&format!("line {i}: {MARKER} lorem ipsum dolor sit amet\n"));
            i += 1;
        }
        t
    }

    fn import(p: &Profile, name: &str, t: &str) -> Dataset {
        p.datasets().import(name, t.as_bytes(), ChunkOptions::default(), &mut |_, _| {}).unwrap()
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    fn piece(p: &Profile, id: &str, n: u64) -> PathBuf {
        p.data_dir().join(TEXT_DIR).join(id).join(piece_file(n))
    }

    fn read_error(p: &Profile, id: &str) -> String {
        match p.datasets().for_each_piece(id, |_| Ok(())).unwrap_err() {
            CoreError::Corrupt { detail } => detail,
            other => panic!("not Corrupt: {other:?}"),
        }
    }

    /// The pieces are read ahead on reader threads (piece n on reader n % readers): they still
    /// arrive in order, a damaged later piece fails after the earlier ones were handed over, and
    /// a caller that stops early (an error, a cancelled export) ends the read without waiting
    /// for the readers.
    #[test]
    fn pieces_read_ahead_arrive_in_order_and_an_error_on_either_side_ends_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let p = open(dir.path(), &vault);
        let t = text(PIECE_BYTES * 9 / 2);
        let d = import(&p, "many.txt", &t);
        let mut got = Vec::new();
        p.datasets()
            .for_each_piece(&d.id, |piece| {
                got.extend_from_slice(piece);
                Ok(())
            })
            .unwrap();
        assert!(got == t.as_bytes(), "the pieces came back in order");

        // The caller fails at the second piece: that error, and no third piece asked for.
        let mut seen = 0;
        let e = p
            .datasets()
            .for_each_piece(&d.id, |_| {
                seen += 1;
                if seen == 2 {
                    Err(CoreError::invalid("export", "cancelled"))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
        assert_eq!(seen, 2);

        // A damaged fourth piece: the first three were handed over, then the error names it.
        let path = piece(&p, &d.id, 3);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let mut before = 0;
        let e = p
            .datasets()
            .for_each_piece(&d.id, |_| {
                before += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(before, 3);
        assert!(e.to_string().contains("piece 3 of 5"), "{e}");
    }

    #[test]
    fn text_lives_in_sealed_files_and_a_moved_or_damaged_piece_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let p = open(dir.path(), &vault);
        let (ta, tb) = (text(PIECE_BYTES * 5 / 2), text(PIECE_BYTES * 3 / 2));
        let a = import(&p, "a.txt", &ta);
        let b = import(&p, "b.txt", &tb);
        assert_eq!(p.storage().len(Tree::DatasetText), 0, "no text in sled");
        let files: Vec<PathBuf> = walk(&p.data_dir().join(TEXT_DIR).join(&a.id));
        assert_eq!(files.len(), 3, "{files:?}");
        for f in walk(p.data_dir()) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(!bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()), "plaintext in {}", f.display());
        }
        assert_eq!(p.datasets().text(&a.id).unwrap(), ta);
        let mut pieces = 0;
        p.datasets()
            .for_each_piece(&b.id, |piece| {
                pieces += 1;
                assert!(piece.len() <= PIECE_BYTES);
                Ok(())
            })
            .unwrap();
        assert_eq!(pieces, 2);

        let keep = |n| std::fs::read(piece(&p, &a.id, n)).unwrap();
        let (p0, p1, p2) = (keep(0), keep(1), keep(2));
        let restore = || {
            for (n, bytes) in [(0, &p0), (1, &p1), (2, &p2)] {
                std::fs::write(piece(&p, &a.id, n), bytes).unwrap();
            }
            assert_eq!(p.datasets().text(&a.id).unwrap(), ta);
        };
        // Two pieces swapped.
        std::fs::write(piece(&p, &a.id, 0), &p1).unwrap();
        std::fs::write(piece(&p, &a.id, 1), &p0).unwrap();
        let e = read_error(&p, &a.id);
        assert!(e.contains(&a.id) && e.contains("piece 0 of 3") && e.contains("failed authentication"), "{e}");
        restore();
        // Another dataset's piece in its place.
        std::fs::copy(piece(&p, &b.id, 0), piece(&p, &a.id, 0)).unwrap();
        let e = read_error(&p, &a.id);
        assert!(e.contains(&a.id) && e.contains("piece 0 of 3"), "{e}");
        assert!(matches!(p.datasets().text(&a.id), Err(CoreError::Corrupt { .. })));
        restore();
        // Truncated by one byte, and cut to nothing.
        std::fs::write(piece(&p, &a.id, 2), &p2[..p2.len() - 1]).unwrap();
        let e = read_error(&p, &a.id);
        assert!(e.contains("piece 2 of 3") && e.contains("00000002.piece"), "{e}");
        std::fs::write(piece(&p, &a.id, 2), b"").unwrap();
        assert!(read_error(&p, &a.id).contains("piece 2 of 3"));
        restore();
        // One byte changed.
        let mut flipped = p1.clone();
        flipped[100] ^= 1;
        std::fs::write(piece(&p, &a.id, 1), &flipped).unwrap();
        assert!(read_error(&p, &a.id).contains("piece 1 of 3"));
        restore();
        // Missing.
        std::fs::remove_file(piece(&p, &a.id, 1)).unwrap();
        let e = read_error(&p, &a.id);
        assert!(e.contains(&a.id) && e.contains("piece 1 of 3") && e.contains("missing"), "{e}");
        restore();
        // An earlier text of the same id does not open under the new record.
        let old = p.datasets().get(&a.id).unwrap();
        let mut newer = old.clone();
        let tc = format!("second version\n{ta}");
        newer.bytes = tc.len() as u64;
        newer.sha256 = hex::encode(sha2::Sha256::digest(tc.as_bytes()));
        p.datasets().put_raw(&newer, tc.as_bytes()).unwrap();
        assert_eq!(p.datasets().text(&a.id).unwrap(), tc);
        std::fs::write(piece(&p, &a.id, 0), &p0).unwrap();
        assert!(read_error(&p, &a.id).contains("piece 0 of 3"));
    }

    #[test]
    fn a_pulled_dataset_is_stored_unqueued_with_findings_recomputed_and_its_digest_checked() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let vault = Arc::new(MemoryVault::default());
        let (a, b) = (open(da.path(), &vault), open(db.path(), &Arc::new(MemoryVault::default())));
        let t = format!("{}contact: li.lei@example.com\n", text(PIECE_BYTES * 3 / 2));
        let src = import(&a, "mail.txt", &t);
        assert!(src.pii.total > 0);
        let remote = RemoteDataset {
            name: src.name.clone(),
            description: "from A".into(),
            source_name: src.source_name.clone(),
            format: src.format,
            bytes: src.bytes,
            sha256: src.sha256.clone(),
            chunking: src.chunking,
            created_at: src.created_at.clone(),
        };
        let state = crate::sync::ItemSync { server_rev: 3, ..Default::default() };
        // A text that does not match the digest: refused, nothing stored.
        let mut wrong = t.clone().into_bytes();
        wrong[10] ^= 1;
        let e = b.datasets().apply_remote(&src.id, &remote, &mut wrong.as_slice(), &state).unwrap_err();
        assert!(matches!(&e, CoreError::Corrupt { detail } if detail.contains("SHA-256")), "{e:?}");
        let e = b.datasets().apply_remote(&src.id, &remote, &mut &t.as_bytes()[1..], &state).unwrap_err();
        assert!(matches!(e, CoreError::Corrupt { .. }), "{e:?}");
        assert!(matches!(b.datasets().get(&src.id), Err(CoreError::NotFound { .. })));

        let got = b.datasets().apply_remote(&src.id, &remote, &mut t.as_bytes(), &state).unwrap();
        assert_eq!(
            (got.pii.total, got.chunk_count, got.sha256.as_str()),
            (src.pii.total, src.chunk_count, src.sha256.as_str())
        );
        assert_eq!(got.description, "from A");
        assert_eq!(b.datasets().text(&src.id).unwrap(), t);
        assert_eq!(b.sync().entry(ItemKind::Dataset, &src.id).unwrap(), None, "nothing queued");
        assert_eq!(b.sync().state(ItemKind::Dataset, &src.id).unwrap().server_rev, 3);

        b.datasets().delete_remote(&src.id, &crate::sync::ItemSync { server_rev: 4, ..Default::default() }).unwrap();
        assert!(matches!(b.datasets().get(&src.id), Err(CoreError::NotFound { .. })));
        assert!(!db.path().join(TEXT_DIR).join(&src.id).exists());
        assert_eq!(b.sync().entry(ItemKind::Dataset, &src.id).unwrap(), None);
    }

    #[test]
    fn deleting_removes_the_files_and_opening_removes_orphans() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let root = dir.path().join(TEXT_DIR);
        let (kept, orphan) = {
            let p = open(dir.path(), &vault);
            let t = text(PIECE_BYTES + 10);
            let gone = import(&p, "gone.txt", &t);
            let kept = import(&p, "kept.txt", &t);
            let inventory = p.inventory().unwrap();
            let datasets = inventory.iter().find(|c| c.category == "datasets").unwrap();
            assert!(datasets.bytes > 2 * t.len() as u64, "{datasets:?}");
            assert!(datasets.location.contains(TEXT_DIR), "{datasets:?}");
            p.datasets().delete(&gone.id).unwrap();
            assert!(!root.join(&gone.id).exists(), "deleted with its dataset");
            assert!(p.datasets().for_each_piece(&gone.id, |_| Ok(())).is_err());
            // As a crash between writing the files and committing the record leaves them.
            let orphan = root.join("01ORPHANDATASET");
            std::fs::create_dir_all(&orphan).unwrap();
            std::fs::copy(piece(&p, &kept.id, 0), orphan.join(piece_file(0))).unwrap();
            std::fs::write(root.join("stray.tmp"), b"x").unwrap();
            (kept, orphan)
        };
        let p = open(dir.path(), &vault);
        assert!(!orphan.exists() && !root.join("stray.tmp").exists(), "orphans removed at open");
        assert_eq!(p.datasets().text(&kept.id).unwrap().len() as u64, kept.bytes);
    }

    #[test]
    fn an_id_that_is_not_plain_never_names_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let p = open(dir.path(), &vault);
        let mut ds = import(&p, "a.txt", "hello\n");
        for id in ["../../escape", "lower-case", "a/b", "CON", ""] {
            ds.id = id.to_string();
            p.datasets().put_raw(&ds, b"hello\n").unwrap();
            assert_eq!(p.datasets().text(id).unwrap(), "hello\n");
        }
        assert!(!dir.path().join("escape").exists() && !dir.path().parent().unwrap().join("escape").exists());
        for e in std::fs::read_dir(dir.path().join(TEXT_DIR)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(name.starts_with('=') || name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        }
        // A text that does not match its description is refused before anything is written.
        assert!(matches!(p.datasets().put_raw(&ds, b"other"), Err(CoreError::Invalid { .. })));
        assert_eq!(p.datasets().text("").unwrap(), "hello\n");
    }

    #[test]
    fn migrating_a_v6_store_moves_the_text_into_files() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let t = text(PIECE_BYTES * 5 / 2);
        let small = "客户问答：请致电联系我们。\n".to_string();
        // Writes the text into sled as schemas 5 and 6 did (1 MiB pieces under `<id>/<n u32 BE>`),
        // removes its files and stamps the store with version 6.
        let as_v6 = |p: &Profile, texts: &[(&str, &str)]| {
            let mut b = Batch::default();
            for (id, text) in texts {
                std::fs::remove_dir_all(p.data_dir().join(TEXT_DIR).join(id)).ok();
                for (n, piece) in text.as_bytes().chunks(PIECE_BYTES).enumerate() {
                    let mut k = legacy_piece_prefix(id);
                    k.extend_from_slice(&(n as u32).to_be_bytes());
                    b.put(Tree::DatasetText, k, piece.to_vec());
                }
            }
            crate::migrate::set_version(&mut b, 6);
            p.storage().commit(b).unwrap();
        };
        let (big, little) = {
            let p = open(dir.path(), &vault);
            let big = import(&p, "big.txt", &t);
            let little = import(&p, "little.txt", &small);
            as_v6(&p, &[(&big.id, &t), (&little.id, &small), ("01GONEDATASET", "orphan piece")]);
            assert_eq!(p.storage().len(Tree::DatasetText), 5);
            (big, little)
        };
        for rerun in [false, true] {
            let p = open(dir.path(), &vault);
            assert_eq!(p.migrated_from(), Some(6));
            assert_eq!(p.storage().len(Tree::DatasetText), 0, "sled holds no text");
            assert_eq!(p.datasets().text(&big.id).unwrap(), t);
            assert_eq!(p.datasets().text(&little.id).unwrap(), small);
            assert_eq!(walk(&p.data_dir().join(TEXT_DIR).join(&big.id)).len(), 3);
            assert!(!p.data_dir().join(TEXT_DIR).join("01GONEDATASET").exists());
            for f in walk(&p.data_dir().join(TEXT_DIR)) {
                let bytes = std::fs::read(&f).unwrap();
                assert!(!bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()), "plaintext in {}", f.display());
            }
            if !rerun {
                // A crash after the files were written but before the step committed: the
                // pieces are still in sled, the version still 6, and the step runs again.
                let mut b = Batch::default();
                for (n, piece) in t.as_bytes().chunks(PIECE_BYTES).enumerate() {
                    let mut k = legacy_piece_prefix(&big.id);
                    k.extend_from_slice(&(n as u32).to_be_bytes());
                    b.put(Tree::DatasetText, k, piece.to_vec());
                }
                crate::migrate::set_version(&mut b, 6);
                p.storage().commit(b).unwrap();
            }
        }
        let p = open(dir.path(), &vault);
        assert_eq!(p.migrated_from(), None);
        assert_eq!(p.datasets().text(&big.id).unwrap(), t);
    }
}
