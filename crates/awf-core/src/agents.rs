//! Agents (B1): the fields a developer authors, their validation, and the revision history of
//! the instructions. Every mutation is one atomic, flushed batch: the agent, its list summary
//! and (when the instructions changed) a new revision.

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::diff::{self, DiffLine};
use crate::error::{CoreError, Result};
use crate::storage::{Batch, Storage, Tree};
use crate::sync::{self, ItemKind, ItemSync, SyncOp};

/// Limits. Exceeding one is a coded error naming the field; nothing is written.
pub mod limits {
    pub const NAME_CHARS: usize = 80;
    pub const DESCRIPTION_CHARS: usize = 2_000;
    pub const ICON_CHARS: usize = 16;
    pub const INSTRUCTIONS_BYTES: usize = 256 * 1024;
    pub const OPENING_MESSAGE_CHARS: usize = 4_000;
    pub const SUGGESTED_QUESTIONS: usize = 10;
    pub const SUGGESTED_QUESTION_CHARS: usize = 300;
    pub const MODEL_CHARS: usize = 100;
    pub const VARIABLES: usize = 50;
    pub const VARIABLE_TEXT_CHARS: usize = 1_000;
    pub const LINKS: usize = 100;
    pub const MAX_TOKENS: u32 = 1_000_000;
    /// Oldest revisions beyond this are pruned.
    pub const REVISIONS_KEPT: usize = 500;
}

/// How the model should shape its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    #[default]
    Text,
    Markdown,
    Json,
}

/// Model settings of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    pub model: String,
    pub temperature: f32,
    pub top_p: f32,
    pub max_tokens: u32,
    pub response_format: ResponseFormat,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            model: "awf-chat".into(),
            temperature: 0.7,
            top_p: 1.0,
            max_tokens: 1024,
            response_format: ResponseFormat::Text,
        }
    }
}

/// A variable the instructions can reference as `{{name}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    pub description: String,
    pub default_value: String,
    pub required: bool,
}

/// Everything a developer edits on an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AgentDraft {
    pub name: String,
    pub description: String,
    /// An emoji or a short glyph shown in the list.
    pub icon: String,
    pub instructions: String,
    pub opening_message: String,
    pub suggested_questions: Vec<String>,
    pub model: ModelSettings,
    pub variables: Vec<Variable>,
    pub plugin_ids: Vec<String>,
    pub dataset_ids: Vec<String>,
}

impl AgentDraft {
    /// A draft with a name and defaults for everything else.
    pub fn named(name: impl Into<String>) -> Self {
        AgentDraft { name: name.into(), icon: "🤖".into(), ..Default::default() }
    }

    /// Checks every field; the first problem found is returned with the field's path.
    pub fn validate(&self) -> Result<()> {
        use limits::*;
        let chars = |field: &str, s: &str, max: usize| -> Result<()> {
            let n = s.chars().count();
            if n > max {
                return Err(CoreError::invalid(field, format!("must be at most {max} characters (it has {n})")));
            }
            Ok(())
        };
        if self.name.trim().is_empty() {
            return Err(CoreError::invalid("name", "must not be empty"));
        }
        chars("name", &self.name, NAME_CHARS)?;
        chars("description", &self.description, DESCRIPTION_CHARS)?;
        chars("icon", &self.icon, ICON_CHARS)?;
        if self.instructions.len() > INSTRUCTIONS_BYTES {
            return Err(CoreError::TooLarge {
                field: "instructions".into(),
                limit: INSTRUCTIONS_BYTES,
                actual: self.instructions.len(),
            });
        }
        chars("opening_message", &self.opening_message, OPENING_MESSAGE_CHARS)?;
        if self.suggested_questions.len() > SUGGESTED_QUESTIONS {
            return Err(CoreError::invalid("suggested_questions", format!("at most {SUGGESTED_QUESTIONS} questions")));
        }
        for (i, q) in self.suggested_questions.iter().enumerate() {
            chars(&format!("suggested_questions[{i}]"), q, SUGGESTED_QUESTION_CHARS)?;
        }
        let m = &self.model;
        if m.model.trim().is_empty() {
            return Err(CoreError::invalid("model.model", "must name a model"));
        }
        chars("model.model", &m.model, MODEL_CHARS)?;
        if !(0.0..=2.0).contains(&m.temperature) || m.temperature.is_nan() {
            return Err(CoreError::invalid("model.temperature", "must be between 0 and 2"));
        }
        if !(m.top_p > 0.0 && m.top_p <= 1.0) {
            return Err(CoreError::invalid("model.top_p", "must be greater than 0 and at most 1"));
        }
        if m.max_tokens == 0 || m.max_tokens > MAX_TOKENS {
            return Err(CoreError::invalid("model.max_tokens", format!("must be between 1 and {MAX_TOKENS}")));
        }
        if self.variables.len() > VARIABLES {
            return Err(CoreError::invalid("variables", format!("at most {VARIABLES} variables")));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, v) in self.variables.iter().enumerate() {
            let field = format!("variables[{i}].name");
            if !is_identifier(&v.name) {
                return Err(CoreError::invalid(
                    field,
                    "must start with a letter or _ and contain only letters, digits and _ (at most 64)",
                ));
            }
            if !seen.insert(v.name.as_str()) {
                return Err(CoreError::invalid(field, format!("`{}` is used twice", v.name)));
            }
            chars(&format!("variables[{i}].description"), &v.description, VARIABLE_TEXT_CHARS)?;
            chars(&format!("variables[{i}].default_value"), &v.default_value, VARIABLE_TEXT_CHARS)?;
        }
        for (field, ids) in [("plugin_ids", &self.plugin_ids), ("dataset_ids", &self.dataset_ids)] {
            if ids.len() > LINKS {
                return Err(CoreError::invalid(field, format!("at most {LINKS} links")));
            }
            if let Some(i) = ids.iter().position(|id| id.trim().is_empty() || id.len() > 64) {
                return Err(CoreError::invalid(format!("{field}[{i}]"), "must be a non-empty id of at most 64 bytes"));
            }
        }
        Ok(())
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

/// A stored agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Agent {
    pub id: String,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub draft: AgentDraft,
    pub archived: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Increases by one with every saved change; used to detect concurrent edits.
    pub version: u32,
    /// Sequence number of the latest instruction revision.
    pub latest_revision: u32,
}

impl Agent {
    pub fn summary(&self) -> AgentSummary {
        AgentSummary {
            id: self.id.clone(),
            name: self.draft.name.clone(),
            description: self.draft.description.clone(),
            icon: self.draft.icon.clone(),
            archived: self.archived,
            updated_at: self.updated_at.clone(),
            version: self.version,
        }
    }
}

/// What the agent list shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub archived: bool,
    pub updated_at: String,
    pub version: u32,
}

/// One saved state of an agent's instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Revision {
    pub seq: u32,
    pub instructions: String,
    pub created_at: String,
    /// Set when this revision was made by restoring an older one.
    pub restored_from: Option<u32>,
}

/// A revision as the history list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevisionSummary {
    pub seq: u32,
    pub created_at: String,
    pub chars: u32,
    pub first_line: String,
    pub restored_from: Option<u32>,
}

/// Which agents to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct ListQuery {
    /// Case-insensitive text matched against name and description.
    pub filter: String,
    pub include_archived: bool,
}

fn rev_key(id: &str, seq: u32) -> Vec<u8> {
    let mut k = rev_prefix(id);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn rev_prefix(id: &str) -> Vec<u8> {
    let mut k = id.as_bytes().to_vec();
    k.push(b'/');
    k
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| CoreError::Corrupt { detail: format!("{what} record: {e}") })
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("domain types serialise")
}

/// A summary with its pre-lowercased search text.
struct Indexed {
    summary: AgentSummary,
    haystack: String,
}

impl Indexed {
    fn new(summary: AgentSummary) -> Self {
        let haystack = format!("{}\n{}", summary.name, summary.description).to_lowercase();
        Indexed { summary, haystack }
    }
}

/// Per-profile state shared by all [`Agents`] handles: the in-memory summary index (decrypted
/// once, on first use, then kept in step with every write) and the writer lock that makes
/// read-modify-write saves atomic with respect to each other.
#[derive(Default)]
pub(crate) struct AgentState {
    index: std::sync::RwLock<Option<std::collections::HashMap<String, Indexed>>>,
    writer: std::sync::Mutex<()>,
}

/// Agent operations over one profile's storage.
pub struct Agents<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) state: &'a AgentState,
}

impl Agents<'_> {
    fn not_found(id: &str) -> CoreError {
        CoreError::NotFound { kind: "agent", id: id.to_string() }
    }

    /// Reads one agent.
    pub fn get(&self, id: &str) -> Result<Agent> {
        let bytes = self.storage.get(Tree::Agents, id.as_bytes())?.ok_or_else(|| Self::not_found(id))?;
        decode("agent", &bytes)
    }

    /// Lists agents, most recently changed first. Served from the in-memory index.
    pub fn list(&self, q: &ListQuery) -> Result<Vec<AgentSummary>> {
        self.ensure_index()?;
        let needle = q.filter.trim().to_lowercase();
        let guard = self.state.index.read().expect("agent index lock");
        let index = guard.as_ref().expect("index loaded above");
        let mut out: Vec<AgentSummary> = index
            .values()
            .filter(|i| q.include_archived || !i.summary.archived)
            .filter(|i| needle.is_empty() || i.haystack.contains(&needle))
            .map(|i| i.summary.clone())
            .collect();
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| b.id.cmp(&a.id)));
        Ok(out)
    }

    fn ensure_index(&self) -> Result<()> {
        if self.state.index.read().expect("agent index lock").is_some() {
            return Ok(());
        }
        let mut loaded = std::collections::HashMap::new();
        for (_, v) in self.storage.scan_prefix(Tree::AgentSummaries, b"")? {
            let s: AgentSummary = decode("agent summary", &v)?;
            loaded.insert(s.id.clone(), Indexed::new(s));
        }
        let mut guard = self.state.index.write().expect("agent index lock");
        if guard.is_none() {
            *guard = Some(loaded);
        }
        Ok(())
    }

    /// Commits a batch, then brings the index in step (only after the write is durable).
    /// Commits a local change: the change and its outbox entry in one batch (see `sync`).
    fn commit(&self, mut batch: Batch, changed: Option<&Agent>, removed: Option<&str>) -> Result<()> {
        if let Some(a) = changed {
            sync::enqueue(&mut batch, ItemKind::Agent, &a.id, SyncOp::Upsert);
        }
        if let Some(id) = removed {
            sync::enqueue(&mut batch, ItemKind::Agent, id, SyncOp::Delete);
        }
        self.commit_quiet(batch, changed, removed)
    }

    /// Commits without queuing anything (a change that came from the platform).
    fn commit_quiet(&self, batch: Batch, changed: Option<&Agent>, removed: Option<&str>) -> Result<()> {
        self.storage.commit(batch)?;
        if let Some(index) = self.state.index.write().expect("agent index lock").as_mut() {
            if let Some(a) = changed {
                index.insert(a.id.clone(), Indexed::new(a.summary()));
            }
            if let Some(id) = removed {
                index.remove(id);
            }
        }
        Ok(())
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.state.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Number of stored agents.
    pub fn count(&self) -> usize {
        self.storage.len(Tree::Agents)
    }

    fn write(&self, batch: &mut Batch, agent: &Agent) {
        batch.put(Tree::Agents, agent.id.as_bytes(), encode(agent));
        batch.put(Tree::AgentSummaries, agent.id.as_bytes(), encode(&agent.summary()));
    }

    fn add_revision(&self, batch: &mut Batch, agent: &Agent, restored_from: Option<u32>) -> Result<()> {
        let rev = Revision {
            seq: agent.latest_revision,
            instructions: agent.draft.instructions.clone(),
            created_at: agent.updated_at.clone(),
            restored_from,
        };
        batch.put(Tree::Revisions, rev_key(&agent.id, rev.seq), encode(&rev));
        let keys = self.storage.keys_prefix(Tree::Revisions, &rev_prefix(&agent.id))?;
        // `keys` does not yet include the new one.
        let excess = (keys.len() + 1).saturating_sub(limits::REVISIONS_KEPT);
        for k in keys.into_iter().take(excess) {
            batch.delete(Tree::Revisions, k);
        }
        Ok(())
    }

    /// Creates an agent from a validated draft, with its first revision.
    pub fn create(&self, draft: AgentDraft) -> Result<Agent> {
        draft.validate()?;
        let _writer = self.writer();
        let now = clock::now();
        let agent = Agent {
            id: ulid::Ulid::new().to_string(),
            draft,
            archived: false,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
            latest_revision: 1,
        };
        let mut batch = Batch::default();
        self.write(&mut batch, &agent);
        self.add_revision(&mut batch, &agent, None)?;
        self.commit(batch, Some(&agent), None)?;
        Ok(agent)
    }

    /// Saves an edited draft. With `expected_version`, refuses to overwrite a newer save.
    /// A change of the instructions adds a revision. Unchanged drafts write nothing.
    pub fn update(&self, id: &str, draft: AgentDraft, expected_version: Option<u32>) -> Result<Agent> {
        draft.validate()?;
        let _writer = self.writer();
        let mut agent = self.get(id)?;
        if let Some(expected) = expected_version {
            if expected != agent.version {
                return Err(CoreError::Conflict { expected, actual: agent.version });
            }
        }
        if agent.draft == draft {
            return Ok(agent);
        }
        let instructions_changed = agent.draft.instructions != draft.instructions;
        agent.draft = draft;
        agent.version += 1;
        agent.updated_at = clock::now();
        let mut batch = Batch::default();
        if instructions_changed {
            agent.latest_revision += 1;
            self.add_revision(&mut batch, &agent, None)?;
        }
        self.write(&mut batch, &agent);
        self.commit(batch, Some(&agent), None)?;
        Ok(agent)
    }

    /// The instruction history, newest first.
    pub fn history(&self, id: &str) -> Result<Vec<RevisionSummary>> {
        self.get(id)?;
        let mut out = Vec::new();
        for (_, v) in self.storage.scan_prefix(Tree::Revisions, &rev_prefix(id))? {
            let r: Revision = decode("revision", &v)?;
            out.push(RevisionSummary {
                seq: r.seq,
                created_at: r.created_at,
                chars: r.instructions.chars().count() as u32,
                first_line: r.instructions.lines().next().unwrap_or("").chars().take(120).collect(),
                restored_from: r.restored_from,
            });
        }
        out.reverse();
        Ok(out)
    }

    /// One revision in full.
    pub fn revision(&self, id: &str, seq: u32) -> Result<Revision> {
        let bytes = self
            .storage
            .get(Tree::Revisions, &rev_key(id, seq))?
            .ok_or_else(|| CoreError::NotFound { kind: "revision", id: format!("{id}@{seq}") })?;
        decode("revision", &bytes)
    }

    /// Line diff from revision `from` to revision `to` (or to the current instructions).
    pub fn diff(&self, id: &str, from: u32, to: Option<u32>) -> Result<Vec<DiffLine>> {
        let old = self.revision(id, from)?.instructions;
        let new = match to {
            Some(seq) => self.revision(id, seq)?.instructions,
            None => self.get(id)?.draft.instructions,
        };
        Ok(diff::lines(&old, &new))
    }

    /// Makes an older revision's instructions current again, as a new revision.
    pub fn restore(&self, id: &str, seq: u32) -> Result<Agent> {
        let _writer = self.writer();
        let rev = self.revision(id, seq)?;
        let mut agent = self.get(id)?;
        agent.draft.instructions = rev.instructions;
        agent.version += 1;
        agent.latest_revision += 1;
        agent.updated_at = clock::now();
        let mut batch = Batch::default();
        self.add_revision(&mut batch, &agent, Some(seq))?;
        self.write(&mut batch, &agent);
        self.commit(batch, Some(&agent), None)?;
        Ok(agent)
    }

    /// Copies an agent under a new id and name ("… (copy)"), with a fresh history.
    pub fn duplicate(&self, id: &str) -> Result<Agent> {
        let src = self.get(id)?;
        let mut draft = src.draft;
        let suffix = " (copy)";
        let keep = limits::NAME_CHARS - suffix.chars().count();
        draft.name = draft.name.chars().take(keep).collect::<String>() + suffix;
        self.create(draft)
    }

    /// Archives or unarchives (archived agents are hidden from the default list).
    pub fn set_archived(&self, id: &str, archived: bool) -> Result<Agent> {
        let _writer = self.writer();
        let mut agent = self.get(id)?;
        if agent.archived == archived {
            return Ok(agent);
        }
        agent.archived = archived;
        agent.version += 1;
        agent.updated_at = clock::now();
        let mut batch = Batch::default();
        self.write(&mut batch, &agent);
        self.commit(batch, Some(&agent), None)?;
        Ok(agent)
    }

    /// Removes a deleted plugin's, dataset's or table's id from every agent that attached it
    /// (one batch; the agents' versions move on so open editors see the change).
    pub fn detach(&self, item_id: &str) -> Result<usize> {
        let _writer = self.writer();
        let mut batch = Batch::default();
        let mut changed = Vec::new();
        for (_, v) in self.storage.scan_prefix(Tree::Agents, b"")? {
            let mut agent: Agent = decode("agent", &v)?;
            let before = agent.draft.plugin_ids.len() + agent.draft.dataset_ids.len();
            agent.draft.plugin_ids.retain(|i| i != item_id);
            agent.draft.dataset_ids.retain(|i| i != item_id);
            if agent.draft.plugin_ids.len() + agent.draft.dataset_ids.len() != before {
                agent.version += 1;
                agent.updated_at = clock::now();
                self.write(&mut batch, &agent);
                sync::enqueue(&mut batch, ItemKind::Agent, &agent.id, SyncOp::Upsert);
                changed.push(agent);
            }
        }
        self.storage.commit(batch)?;
        if let Some(index) = self.state.index.write().expect("agent index lock").as_mut() {
            for a in &changed {
                index.insert(a.id.clone(), Indexed::new(a.summary()));
            }
        }
        Ok(changed.len())
    }

    /// Writes an agent and its revisions exactly as given (a bundle import), replacing any
    /// stored agent with the same id and its history in one batch.
    pub(crate) fn put_raw(&self, agent: &Agent, revisions: &[Revision]) -> Result<()> {
        let _writer = self.writer();
        let mut batch = Batch::default();
        for k in self.storage.keys_prefix(Tree::Revisions, &rev_prefix(&agent.id))? {
            batch.delete(Tree::Revisions, k);
        }
        for r in revisions {
            batch.put(Tree::Revisions, rev_key(&agent.id, r.seq), encode(r));
        }
        self.write(&mut batch, agent);
        self.commit(batch, Some(agent), None)
    }

    /// Every revision in full, oldest first.
    pub fn revisions(&self, id: &str) -> Result<Vec<Revision>> {
        self.storage
            .scan_prefix(Tree::Revisions, &rev_prefix(id))?
            .into_iter()
            .map(|(_, v)| decode("revision", &v))
            .collect()
    }

    /// Deletes an agent and its whole history.
    pub fn delete(&self, id: &str) -> Result<()> {
        let _writer = self.writer();
        self.get(id)?;
        let mut batch = Batch::default();
        batch.delete(Tree::Agents, id.as_bytes());
        batch.delete(Tree::AgentSummaries, id.as_bytes());
        for k in self.storage.keys_prefix(Tree::Revisions, &rev_prefix(id))? {
            batch.delete(Tree::Revisions, k);
        }
        self.commit(batch, None, Some(id))
    }
}

/// What of an agent is synced: what the developer authors, not the local bookkeeping
/// (`version`, `latest_revision`, `updated_at`), which each device keeps for itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncedAgent {
    pub draft: AgentDraft,
    pub archived: bool,
    pub created_at: String,
}

impl SyncedAgent {
    pub fn of(agent: &Agent) -> Self {
        SyncedAgent { draft: agent.draft.clone(), archived: agent.archived, created_at: agent.created_at.clone() }
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("agents serialise")
    }

    /// Reads a platform body; an invalid one is refused with the field at fault.
    pub fn from_value(v: &serde_json::Value) -> Result<Self> {
        let s: SyncedAgent = serde_json::from_value(v.clone()).map_err(|e| CoreError::Invalid {
            field: "body".into(),
            reason: format!("the platform sent an agent this version cannot read: {e}"),
        })?;
        s.draft.validate()?;
        Ok(s)
    }
}

impl Agents<'_> {
    /// Applies an agent as the platform holds it, with its sync state, in one batch and without
    /// queuing it (it came from there). A new instructions text becomes a revision.
    pub fn apply_remote(&self, id: &str, body: &SyncedAgent, state: &ItemSync) -> Result<Agent> {
        self.apply_synced(id, body, state, false)
    }

    /// Applies the three-way merge of a conflict: a local change (queued, to be sent over the
    /// platform's revision that `state` records), in one batch with that state.
    pub fn apply_merged(&self, id: &str, body: &SyncedAgent, state: &ItemSync) -> Result<Agent> {
        self.apply_synced(id, body, state, true)
    }

    fn apply_synced(&self, id: &str, body: &SyncedAgent, state: &ItemSync, queue: bool) -> Result<Agent> {
        body.draft.validate()?;
        let _writer = self.writer();
        let mut batch = Batch::default();
        let agent = match self.get(id) {
            Ok(mut a) => {
                let instructions_changed = a.draft.instructions != body.draft.instructions;
                a.draft = body.draft.clone();
                a.archived = body.archived;
                a.version += 1;
                a.updated_at = clock::now();
                if instructions_changed {
                    a.latest_revision += 1;
                    self.add_revision(&mut batch, &a, None)?;
                }
                a
            }
            Err(CoreError::NotFound { .. }) => {
                let a = Agent {
                    id: id.to_string(),
                    draft: body.draft.clone(),
                    archived: body.archived,
                    created_at: body.created_at.clone(),
                    updated_at: clock::now(),
                    version: 1,
                    latest_revision: 1,
                };
                self.add_revision(&mut batch, &a, None)?;
                a
            }
            Err(e) => return Err(e),
        };
        self.write(&mut batch, &agent);
        batch.put(
            Tree::SyncState,
            sync::item_key(ItemKind::Agent, id),
            serde_json::to_vec(state).expect("state serialises"),
        );
        if queue {
            self.commit(batch, Some(&agent), None)?;
        } else {
            batch.delete(Tree::Outbox, sync::item_key(ItemKind::Agent, id));
            self.commit_quiet(batch, Some(&agent), None)?;
        }
        Ok(agent)
    }

    /// Deletes an agent the platform deleted (a tombstone), without queuing anything.
    pub fn delete_remote(&self, id: &str, state: &ItemSync) -> Result<()> {
        let _writer = self.writer();
        let mut batch = Batch::default();
        batch.delete(Tree::Agents, id.as_bytes());
        batch.delete(Tree::AgentSummaries, id.as_bytes());
        for k in self.storage.keys_prefix(Tree::Revisions, &rev_prefix(id))? {
            batch.delete(Tree::Revisions, k);
        }
        batch.put(
            Tree::SyncState,
            sync::item_key(ItemKind::Agent, id),
            serde_json::to_vec(state).expect("state serialises"),
        );
        batch.delete(Tree::Outbox, sync::item_key(ItemKind::Agent, id));
        self.commit_quiet(batch, None, Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let mut d = AgentDraft::named("  ");
        assert!(matches!(d.validate(), Err(CoreError::Invalid { field, .. }) if field == "name"));
        d.name = "ok".into();
        d.instructions = "x".repeat(1024 * 1024);
        assert!(matches!(d.validate(), Err(CoreError::TooLarge { field, .. }) if field == "instructions"));
        d.instructions.clear();
        d.model.temperature = 2.5;
        assert!(matches!(d.validate(), Err(CoreError::Invalid { field, .. }) if field == "model.temperature"));
        d.model.temperature = 1.0;
        d.variables = vec![
            Variable { name: "city".into(), description: String::new(), default_value: String::new(), required: false },
            Variable { name: "city".into(), description: String::new(), default_value: String::new(), required: true },
        ];
        assert!(matches!(d.validate(), Err(CoreError::Invalid { field, .. }) if field == "variables[1].name"));
        d.variables[1].name = "1bad".into();
        assert!(matches!(d.validate(), Err(CoreError::Invalid { field, .. }) if field == "variables[1].name"));
        d.variables[1].name = "zip_code".into();
        d.validate().unwrap();
    }
}
