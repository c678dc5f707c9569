//! The transmission log: one record per request the egress gate handled, sent or refused, with
//! its purpose, size and a redacted preview of its payload. It is what the "what was sent"
//! screen and `awf log` show. Records are sealed like every other value and keyed by a
//! big-endian sequence number, so the newest come first in a reverse scan.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::consent::Purpose;
use crate::error::{CoreError, Result};
use crate::storage::{Batch, Storage, Tree};

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It reached the platform, which answered (any status).
    Sent,
    /// The gate refused it: its purpose has no consent, or the address is not allowed. Nothing left.
    Refused,
    /// It was attempted but no answer came (unreachable, timeout, TLS failure).
    Failed,
}

/// One request as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransmissionRecord {
    pub seq: u64,
    /// When the request was made.
    pub at: String,
    pub method: String,
    /// Path on the platform, e.g. `/v1/auth/login`.
    pub path: String,
    /// The platform address it went (or would have gone) to.
    pub host: String,
    pub purpose: Purpose,
    pub outcome: Outcome,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Bytes sent: request line, headers and body.
    pub bytes_up: u64,
    /// Bytes received: status line, headers and body.
    pub bytes_down: u64,
    /// The request body with secrets replaced by `<redacted>`, cut to a few hundred characters.
    pub preview: String,
    /// Why it was refused or failed, or the platform's error code.
    pub error: Option<String>,
}

/// Which records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogQuery {
    #[serde(default)]
    pub purpose: Option<Purpose>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Only records at or after this RFC 3339 time.
    #[serde(default)]
    pub since: Option<String>,
    /// Only records with a sequence number below this (paging).
    #[serde(default)]
    pub before_seq: Option<u64>,
    /// At most this many (default 200, at most 5,000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The writer's sequence counter (initialised from the last key on first use).
#[derive(Default)]
pub(crate) struct LogState {
    next: Mutex<Option<u64>>,
}

/// Transmission-log operations on an open profile.
pub struct Transmissions<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) state: &'a LogState,
}

fn seq_of(key: &[u8]) -> Result<u64> {
    let arr: [u8; 8] =
        key.try_into().map_err(|_| CoreError::Corrupt { detail: "a transmission key has the wrong size".into() })?;
    Ok(u64::from_be_bytes(arr))
}

impl Transmissions<'_> {
    /// Appends a record (its `seq` is assigned here) and returns it once durable.
    pub fn append(&self, mut record: TransmissionRecord) -> Result<TransmissionRecord> {
        let mut next = self.state.next.lock().expect("log lock");
        let seq = match *next {
            Some(n) => n,
            None => match self.storage.last_key(Tree::Transmissions)? {
                Some(k) => seq_of(&k)? + 1,
                None => 1,
            },
        };
        record.seq = seq;
        let mut b = Batch::default();
        b.put(Tree::Transmissions, seq.to_be_bytes().to_vec(), serde_json::to_vec(&record).expect("serialises"));
        self.storage.commit(b)?;
        *next = Some(seq + 1);
        Ok(record)
    }

    /// Records matching `q`, newest first.
    pub fn list(&self, q: &LogQuery) -> Result<Vec<TransmissionRecord>> {
        let limit = q.limit.unwrap_or(200).clamp(1, 5_000) as usize;
        let mut out = Vec::new();
        let mut before = q.before_seq.map(|s| s.to_be_bytes().to_vec());
        loop {
            let page = self.storage.scan_back(Tree::Transmissions, before.as_deref(), 256)?;
            let Some((last_key, _)) = page.last() else { break };
            before = Some(last_key.clone());
            for (_, v) in &page {
                let r: TransmissionRecord = serde_json::from_slice(v)
                    .map_err(|e| CoreError::Corrupt { detail: format!("transmission record: {e}") })?;
                if q.since.as_ref().is_some_and(|s| r.at < *s) {
                    return Ok(out);
                }
                if q.purpose.is_some_and(|p| p != r.purpose) || q.outcome.is_some_and(|o| o != r.outcome) {
                    continue;
                }
                out.push(r);
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Deletes records made before `cutoff` (RFC 3339); returns how many. Retention.
    pub fn purge_older_than(&self, cutoff: &str) -> Result<usize> {
        let mut b = Batch::default();
        let mut n = 0;
        for (k, v) in self.storage.scan_prefix(Tree::Transmissions, b"")? {
            let r: TransmissionRecord = serde_json::from_slice(&v)
                .map_err(|e| CoreError::Corrupt { detail: format!("transmission record: {e}") })?;
            if r.at.as_str() >= cutoff {
                break;
            }
            b.delete(Tree::Transmissions, k);
            n += 1;
        }
        self.storage.commit(b)?;
        Ok(n)
    }

    /// Number of records kept.
    pub fn len(&self) -> usize {
        self.storage.len(Tree::Transmissions)
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
