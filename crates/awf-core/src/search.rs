//! Search (B4): one query over agents, plugins (and their tools), datasets and tables, and the
//! local search history (policy §2: kept on this machine only, viewable and clearable).
//!
//! Agents are served from the in-memory summary index; plugins, datasets and tables are read
//! from their (small) description records. The history records only queries the user
//! submitted, never keystrokes, and keeps the newest [`HISTORY_KEPT`].

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::plugins::{decode, encode};
use crate::storage::{Batch, Storage, Tree};
use crate::ListQuery;

/// Queries kept in the history.
pub const HISTORY_KEPT: usize = 100;
/// Longest query accepted.
pub const QUERY_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Agent,
    Plugin,
    Tool,
    Dataset,
    Table,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchHit {
    pub kind: HitKind,
    /// The item to open (for a tool: its plugin).
    pub id: String,
    pub title: String,
    /// Where the text matched, shortened around the match.
    pub snippet: String,
    /// Which field matched (`name`, `description`, `tool`, `column`, …).
    pub field: String,
}

/// A submitted query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    pub query: String,
    pub at: String,
}

fn snippet(text: &str, lower_needle: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let pos = lower.find(lower_needle)?;
    // Positions in `lower` may differ from `text` for a few scripts; count characters instead.
    let char_pos = lower[..pos].chars().count();
    let start = char_pos.saturating_sub(30);
    let s: String = text.chars().skip(start).take(90).collect();
    Some(if start > 0 { format!("…{s}") } else { s })
}

/// Search over one profile.
pub struct Search<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) profile: &'a crate::Profile,
}

impl Search<'_> {
    /// Case-insensitive substring search; name matches first, then other fields; at most
    /// `limit` hits.
    pub fn query(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Ok(Vec::new());
        }
        let mut by_name = Vec::new();
        let mut other = Vec::new();
        let mut push = |kind, id: &str, title: &str, field: &str, text: &str| {
            if let Some(snip) = snippet(text, &needle) {
                let hit = SearchHit {
                    kind,
                    id: id.to_string(),
                    title: title.to_string(),
                    snippet: snip,
                    field: field.to_string(),
                };
                if field == "name" {
                    by_name.push(hit)
                } else {
                    other.push(hit)
                }
                true
            } else {
                false
            }
        };
        let agents = self.profile.agents().list(&ListQuery { filter: String::new(), include_archived: true })?;
        for a in &agents {
            let _ = push(HitKind::Agent, &a.id, &a.name, "name", &a.name)
                || push(HitKind::Agent, &a.id, &a.name, "description", &a.description);
        }
        for p in self.profile.plugins().list()? {
            let name = &p.draft.name;
            let _ = push(HitKind::Plugin, &p.id, name, "name", name)
                || push(HitKind::Plugin, &p.id, name, "description", &p.draft.description);
            for t in &p.spec.tools {
                let _ = push(HitKind::Tool, &p.id, &format!("{name} · {}", t.name), "tool", &t.name)
                    || push(HitKind::Tool, &p.id, &format!("{name} · {}", t.name), "tool", &t.summary);
            }
        }
        for d in self.profile.datasets().list()? {
            let _ = push(HitKind::Dataset, &d.id, &d.name, "name", &d.name)
                || push(HitKind::Dataset, &d.id, &d.name, "description", &d.description)
                || push(HitKind::Dataset, &d.id, &d.name, "file", &d.source_name);
        }
        for t in self.profile.tables().list()? {
            let _ = push(HitKind::Table, &t.id, &t.name, "name", &t.name)
                || push(HitKind::Table, &t.id, &t.name, "description", &t.description)
                || t.columns.iter().any(|c| push(HitKind::Table, &t.id, &t.name, "column", &c.name));
        }
        by_name.extend(other);
        by_name.truncate(limit);
        Ok(by_name)
    }

    /// Records a submitted query (consecutive repeats are recorded once).
    pub fn record(&self, query: &str) -> Result<()> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(());
        }
        if q.chars().count() > QUERY_CHARS {
            return Err(CoreError::invalid("query", format!("must be at most {QUERY_CHARS} characters")));
        }
        let history = self.history()?;
        let mut b = Batch::default();
        for (key, e) in self.entries()? {
            if e.query == q {
                b.delete(Tree::SearchHistory, key);
            }
        }
        let keep = HISTORY_KEPT - 1;
        let unique_others = history.iter().filter(|e| e.query != q).count();
        if unique_others > keep {
            let mut entries = self.entries()?;
            entries.retain(|(_, e)| e.query != q);
            for (key, _) in entries.into_iter().take(unique_others - keep) {
                b.delete(Tree::SearchHistory, key);
            }
        }
        // Monotonic: two searches in the same millisecond keep their order (a plain
        // `Ulid::new()` orders them by its random part, which made "newest first" flaky).
        static KEYS: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
        let key = {
            let mut gen = KEYS.lock().unwrap_or_else(|p| p.into_inner());
            let gen = gen.get_or_insert_with(ulid::Generator::new);
            gen.generate().unwrap_or_else(|_| ulid::Ulid::new()).to_string()
        };
        b.put(Tree::SearchHistory, key, encode(&HistoryEntry { query: q.to_string(), at: clock::now() }));
        self.storage.commit(b)
    }

    /// Oldest first, with keys.
    fn entries(&self) -> Result<Vec<(Vec<u8>, HistoryEntry)>> {
        self.storage
            .scan_prefix(Tree::SearchHistory, b"")?
            .into_iter()
            .map(|(k, v)| Ok((k, decode::<HistoryEntry>("search history", &v)?)))
            .collect()
    }

    /// The history, newest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>> {
        let mut out: Vec<HistoryEntry> = self.entries()?.into_iter().map(|(_, e)| e).collect();
        out.reverse();
        Ok(out)
    }

    /// Deletes the whole history. Returns how many entries were deleted.
    pub fn clear_history(&self) -> Result<usize> {
        let keys = self.storage.keys_prefix(Tree::SearchHistory, b"")?;
        let mut b = Batch::default();
        for k in &keys {
            b.delete(Tree::SearchHistory, k.clone());
        }
        self.storage.commit(b)?;
        Ok(keys.len())
    }
}
