//! Datasets (B3): text files (txt, md, csv, json, jsonl) kept in the store with their chunking
//! settings and PII findings.
//!
//! The text is stored decoded to UTF-8, in sealed 1 MiB pieces (tree `dataset_text`), so a
//! large file never needs one huge record; the description (tree `datasets`) holds its size,
//! source encoding, SHA-256 and findings. Chunks are computed from the text when previewed.

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

fn piece_key(id: &str, piece: u32) -> Vec<u8> {
    let mut k = piece_prefix(id);
    k.extend_from_slice(&piece.to_be_bytes());
    k
}

fn piece_prefix(id: &str) -> Vec<u8> {
    let mut k = id.as_bytes().to_vec();
    k.push(b'/');
    k
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
        self.write_new(&ds, decoded.text.as_bytes(), &mut |done| report(total * 2 + done))?;
        report(total * 3);
        Ok(ds)
    }

    /// Stores a dataset and its text: the text pieces in batches, then the description last, so
    /// a dataset is listed only once all of its text is durable. A crash half-way leaves
    /// orphan pieces that [`Datasets::put_raw`] or a re-import overwrite.
    fn write_new(&self, ds: &Dataset, text: &[u8], progress: &mut dyn FnMut(u64)) -> Result<()> {
        for old in self.storage.keys_prefix(Tree::DatasetText, &piece_prefix(&ds.id))? {
            let mut b = Batch::default();
            b.delete(Tree::DatasetText, old);
            self.storage.commit(b)?;
        }
        const PIECES_PER_BATCH: usize = 16;
        for (batch_no, group) in text.chunks(PIECE_BYTES * PIECES_PER_BATCH).enumerate() {
            let mut b = Batch::default();
            for (i, piece) in group.chunks(PIECE_BYTES).enumerate() {
                let n = (batch_no * PIECES_PER_BATCH + i) as u32;
                b.put(Tree::DatasetText, piece_key(&ds.id, n), piece.to_vec());
            }
            self.storage.commit(b)?;
            progress(((batch_no + 1) * PIECE_BYTES * PIECES_PER_BATCH).min(text.len()) as u64);
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
        self.for_each_piece(id, |p| {
            bytes.extend_from_slice(p);
            Ok(())
        })?;
        if hex::encode(sha2::Sha256::digest(&bytes)) != ds.sha256 {
            return Err(CoreError::Corrupt { detail: format!("dataset `{id}`: its text does not match its checksum") });
        }
        String::from_utf8(bytes)
            .map_err(|_| CoreError::Corrupt { detail: format!("dataset `{id}`: its text is not UTF-8") })
    }

    /// Streams the stored text piece by piece (constant memory).
    pub fn for_each_piece(&self, id: &str, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        for key in self.storage.keys_prefix(Tree::DatasetText, &piece_prefix(id))? {
            let piece = self
                .storage
                .get(Tree::DatasetText, &key)?
                .ok_or_else(|| CoreError::Corrupt { detail: format!("dataset `{id}` lost a piece") })?;
            f(&piece)?;
        }
        Ok(())
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
        for k in self.storage.keys_prefix(Tree::DatasetText, &piece_prefix(id))? {
            b.delete(Tree::DatasetText, k);
        }
        crate::sync::enqueue(&mut b, ItemKind::Dataset, id, SyncOp::Delete);
        self.storage.commit(b)
    }
}
