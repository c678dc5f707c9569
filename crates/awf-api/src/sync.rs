//! The sync engine (SPEC C1–C6): drains the outbox through the egress gate and pulls the
//! platform's change feed. Agents, plugins (never their secrets), datasets and tables sync in
//! this version (a dataset's text goes up as an upload and comes down to the other devices from
//! it, see [`Pass::pull_dataset`]); the outbox, states and history are the core's
//! ([`awf_core::sync`]).
//!
//! One pass ([`Api::sync_once`]):
//! 1. **scope**: nothing is sent without the developer-data hosting consent (the gate refuses,
//!    and the pass stops before any request); when the platform stores data in another region
//!    than the account's, the cross-border consent is needed too;
//! 2. **pull** the change feed from the saved cursor; a remote change of an item with no local
//!    change waiting is applied without being queued; one with a local change waiting is left to
//!    the push, whose 412 brings it back as a conflict or a merge;
//! 3. **push** every due change: `PUT` with `If-Match` = the revision the local state started
//!    from and the change's id as its idempotency key (a retry replays, never writes twice).
//!    A 412 is, in order: our own write whose answer was lost (its `origin` is this device):
//!    adopted; the same content: adopted; a field-wise three-way merge (agents, plugins,
//!    tables) where each field changed on one side only, except an agent's instructions merged
//!    line by line and a table's rows merged cell by cell: applied locally and sent;
//!    otherwise a conflict the developer resolves (keep mine, keep theirs, or merged text), never
//!    a silent overwrite. Transient failures (no answer, 5xx, 429, an unreadable answer) retry
//!    after a full-jitter exponential backoff; refusals park the change with their reason.
//!
//! Deletes travel as tombstones; the platform's signed receipt of an item deletion goes into the
//! deletion ledger (D7).

use std::collections::BTreeMap;

use awf_core::agents::SyncedAgent;
use awf_core::merge::{self, Merge};
use awf_core::plugins::SyncedPlugin;
use awf_core::sync::{self, ItemKind, ItemStatus, ItemSync, OutboxEntry, Outcome, SyncOp};
use awf_core::tables::SyncedTable;
use awf_core::{CoreError, Profile};
use awf_egress::{DeleteOutcome, PutOutcome};
use awf_egress::{EgressError, PlatformClient};
use awf_platform_api::sync::{BatchWrite, MAX_BATCH_BYTES, MAX_BATCH_WRITES};
use awf_platform_api::{ItemState, ItemWrite, NewUpload, Purpose, SyncConflict};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, ErrorCode};
use crate::session::Api;

/// Changes pushed per outbox read.
const PUSH_BATCH: usize = 200;
/// Feed page size.
const PULL_PAGE: u32 = 500;
/// Bytes per upload chunk (the platform takes up to 8 MiB).
const UPLOAD_CHUNK: usize = 4 * 1024 * 1024;
/// Requests in a row that got no answer before a pass takes the platform for offline.
const OFFLINE_AFTER: u32 = 3;
/// Rounds of pushing in one pass (a merge or an adopted revision requeues at once).
const PUSH_ROUNDS: usize = 50;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncReport {
    pub pushed: u32,
    pub deleted: u32,
    pub pulled: u32,
    pub merged: u32,
    pub conflicts: u32,
    pub retrying: u32,
    pub refused: u32,
    /// Why nothing (more) was sent (no consent, not signed in, offline).
    pub blocked: Option<String>,
    /// The block is the platform being unreachable (or failing): trying again later may pass.
    pub offline: bool,
    /// Changes still queued after the pass.
    pub pending: u32,
}

/// How a conflict is settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum Resolution {
    /// Send the local state over the platform's revision.
    KeepMine,
    /// Take the platform's revision (or its deletion) locally.
    KeepTheirs,
    /// Use this instructions text (the rest of the agent as it is locally) over the platform's
    /// revision.
    Merged { instructions: String },
}

/// One conflict, for the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConflictView {
    pub kind: ItemKind,
    pub id: String,
    pub name: String,
    pub reason: String,
    #[ts(type = "number")]
    pub theirs_revision: u64,
    pub theirs_deleted: bool,
    pub base_instructions: String,
    pub mine_instructions: String,
    pub theirs_instructions: String,
    /// The three-way merge of the instructions, with conflict markers where both sides changed
    /// the same lines: a starting point for the merged text.
    pub merged_instructions: String,
    pub merge_clean: bool,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn random_u64() -> u64 {
    use rand::RngCore;
    rand::rngs::OsRng.next_u64()
}

/// The longest retry delay: [`sync::BACKOFF_CAP_MS`], or `AWF_SYNC_BACKOFF_CAP_MS` (tests and
/// development lower it to make fault-injection runs short).
fn backoff_cap_ms() -> u64 {
    std::env::var("AWF_SYNC_BACKOFF_CAP_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(sync::BACKOFF_CAP_MS)
}

/// Attempts of one read (capabilities, a feed page) within a pass before the pass gives up.
const READ_ATTEMPTS: u32 = 4;

/// Runs a read, retrying transient failures after full-jitter delays (a pass should not end at
/// the first lost answer).
fn retrying<T>(mut f: impl FnMut() -> Result<T, EgressError>) -> Result<T, EgressError> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if transient(&e) && attempt + 1 < READ_ATTEMPTS => {
                attempt += 1;
                let wait = sync::backoff_ms(attempt, random_u64(), backoff_cap_ms().min(2_000));
                std::thread::sleep(std::time::Duration::from_millis(wait));
            }
            other => return other,
        }
    }
}

/// Whether an error may pass if the same request is simply sent again later.
fn transient(e: &EgressError) -> bool {
    match e {
        EgressError::Unreachable { .. } | EgressError::BadResponse { .. } => true,
        // 409: an upload chunk at a stale offset (the next attempt asks the platform's offset).
        EgressError::Platform { status, .. } => *status >= 500 || matches!(*status, 408 | 409 | 429),
        _ => false,
    }
}

/// The same error again, for each write of a batch that failed as a whole.
fn same_error(e: &EgressError) -> EgressError {
    match e {
        EgressError::ConsentRequired { purpose } => EgressError::ConsentRequired { purpose: *purpose },
        EgressError::Unreachable { url, detail } => {
            EgressError::Unreachable { url: url.clone(), detail: detail.clone() }
        }
        EgressError::Platform { status, body } => EgressError::Platform { status: *status, body: body.clone() },
        EgressError::BadResponse { path, detail } => {
            EgressError::BadResponse { path: path.clone(), detail: detail.clone() }
        }
        EgressError::NotSignedIn => EgressError::NotSignedIn,
        other => EgressError::InvalidAddress { url: String::new(), reason: other.to_string() },
    }
}

fn instructions_of(v: Option<&serde_json::Value>) -> String {
    v.and_then(|v| v.pointer("/draft/instructions")).and_then(|s| s.as_str()).unwrap_or_default().to_string()
}

/// Field-wise three-way merge of two agent bodies over their base: a field changed on one side
/// only takes that side; changed identically on both, either; the instructions changed on both
/// are merged line by line; any other field changed differently on both sides is a conflict
/// (`None`).
pub fn merge_agent(
    base: &serde_json::Value,
    mine: &serde_json::Value,
    theirs: &serde_json::Value,
) -> Option<serde_json::Value> {
    use serde_json::Value;
    fn field<'a>(v: &'a Value, path: &str, key: &str) -> Option<&'a Value> {
        v.pointer(path).and_then(|o| o.get(key))
    }
    let mut out = mine.clone();
    for (path, obj) in [("", "top"), ("/draft", "draft")] {
        let keys: std::collections::BTreeSet<String> = [base, mine, theirs]
            .iter()
            .filter_map(|v| v.pointer(path).and_then(|o| o.as_object()))
            .flat_map(|o| o.keys().cloned())
            .collect();
        for key in keys {
            if obj == "top" && key == "draft" {
                continue;
            }
            let (b, m, t) = (field(base, path, &key), field(mine, path, &key), field(theirs, path, &key));
            let chosen = if m == t || t == b {
                m.cloned()
            } else if m == b {
                t.cloned()
            } else if obj == "draft" && key == "instructions" {
                match merge::merge3(b?.as_str()?, m?.as_str()?, t?.as_str()?) {
                    Merge::Clean(text) => Some(Value::String(text)),
                    Merge::Conflicted { .. } => return None,
                }
            } else {
                return None;
            };
            let target = out.pointer_mut(path)?.as_object_mut()?;
            match chosen {
                Some(v) => {
                    target.insert(key, v);
                }
                None => {
                    target.remove(&key);
                }
            }
        }
    }
    Some(out)
}

/// Field-wise three-way merge of two plugin bodies over their base: the top-level fields and
/// those of `draft` taken from the side that changed them; any field changed differently on both
/// sides is a conflict (`None`).
pub fn merge_plugin(
    base: &serde_json::Value,
    mine: &serde_json::Value,
    theirs: &serde_json::Value,
) -> Option<serde_json::Value> {
    merge_fields(base, mine, theirs, &["", "/draft"], |_, _| None)
}

/// Field-wise three-way merge of two table bodies over their base; when both sides changed the
/// rows and the schema is the same on all three, the rows merge cell by cell (the same number of
/// rows on all three sides): a cell changed on one side only takes that side, a cell changed
/// differently on both sides is a conflict (`None`), never a silent overwrite.
pub fn merge_table(
    base: &serde_json::Value,
    mine: &serde_json::Value,
    theirs: &serde_json::Value,
) -> Option<serde_json::Value> {
    let same_columns = base.get("columns") == mine.get("columns") && base.get("columns") == theirs.get("columns");
    merge_fields(base, mine, theirs, &[""], |key, (b, m, t)| {
        if key != "rows" || !same_columns {
            return None;
        }
        let (b, m, t) = (b?.as_array()?, m?.as_array()?, t?.as_array()?);
        if b.len() != m.len() || b.len() != t.len() {
            return None;
        }
        let mut rows = Vec::with_capacity(b.len());
        for ((br, mr), tr) in b.iter().zip(m).zip(t) {
            let (br, mr, tr) = (br.as_array()?, mr.as_array()?, tr.as_array()?);
            if br.len() != mr.len() || br.len() != tr.len() {
                return None;
            }
            let mut row = Vec::with_capacity(br.len());
            for ((bc, mc), tc) in br.iter().zip(mr).zip(tr) {
                row.push(if mc == tc || tc == bc {
                    mc.clone()
                } else if mc == bc {
                    tc.clone()
                } else {
                    return None;
                });
            }
            rows.push(serde_json::Value::Array(row));
        }
        Some(Some(serde_json::Value::Array(rows)))
    })
}

/// The three values of one field (`None`: absent).
type Sides<'a> = (Option<&'a serde_json::Value>, Option<&'a serde_json::Value>, Option<&'a serde_json::Value>);

/// Field-wise three-way merge of the objects at `paths` (a path listed is not itself a field of
/// its parent). A field changed differently on both sides goes to `both` (its key and the three
/// sides): `Some(value)` settles it (`Some(None)`: absent), `None` is a conflict.
fn merge_fields(
    base: &serde_json::Value,
    mine: &serde_json::Value,
    theirs: &serde_json::Value,
    paths: &[&str],
    both: impl Fn(&str, Sides<'_>) -> Option<Option<serde_json::Value>>,
) -> Option<serde_json::Value> {
    use serde_json::Value;
    fn field<'a>(v: &'a Value, path: &str, key: &str) -> Option<&'a Value> {
        v.pointer(path).and_then(|o| o.get(key))
    }
    let mut out = mine.clone();
    for path in paths {
        let keys: std::collections::BTreeSet<String> = [base, mine, theirs]
            .iter()
            .filter_map(|v| v.pointer(path).and_then(|o| o.as_object()))
            .flat_map(|o| o.keys().cloned())
            .collect();
        for key in keys {
            if paths.contains(&format!("{path}/{key}").as_str()) {
                continue;
            }
            let (b, m, t) = (field(base, path, &key), field(mine, path, &key), field(theirs, path, &key));
            let chosen = if m == t || t == b {
                m.cloned()
            } else if m == b {
                t.cloned()
            } else {
                both(&key, (b, m, t))?
            };
            let target = out.pointer_mut(path)?.as_object_mut()?;
            match chosen {
                Some(v) => {
                    target.insert(key, v);
                }
                None => {
                    target.remove(&key);
                }
            }
        }
    }
    Some(out)
}

/// Applies a platform body of an agent, plugin or table locally with its sync state, without
/// queuing it (`queue`: a merge, queued in the same batch). `Ok(false)`: a kind pulls do not
/// apply (datasets). A body this version cannot read is an `Invalid` error.
fn apply_body(
    profile: &Profile,
    kind: ItemKind,
    id: &str,
    body: &serde_json::Value,
    state: &ItemSync,
    queue: bool,
) -> Result<bool, CoreError> {
    match (kind, queue) {
        (ItemKind::Agent, false) => profile.agents().apply_remote(id, &SyncedAgent::from_value(body)?, state).map(drop),
        (ItemKind::Agent, true) => profile.agents().apply_merged(id, &SyncedAgent::from_value(body)?, state).map(drop),
        (ItemKind::Plugin, false) => {
            profile.plugins().apply_remote(id, &SyncedPlugin::from_value(body)?, state).map(drop)
        }
        (ItemKind::Plugin, true) => {
            profile.plugins().apply_merged(id, &SyncedPlugin::from_value(body)?, state).map(drop)
        }
        (ItemKind::Table, false) => profile.tables().apply_remote(id, &SyncedTable::from_value(body)?, state).map(drop),
        (ItemKind::Table, true) => profile.tables().apply_merged(id, &SyncedTable::from_value(body)?, state).map(drop),
        (ItemKind::Dataset, _) => return Ok(false),
    }?;
    Ok(true)
}

/// Deletes an item the platform deleted, without queuing anything.
fn delete_body(profile: &Profile, kind: ItemKind, id: &str, state: &ItemSync) -> Result<bool, CoreError> {
    match kind {
        ItemKind::Agent => profile.agents().delete_remote(id, state)?,
        ItemKind::Plugin => profile.plugins().delete_remote(id, state)?,
        ItemKind::Table => profile.tables().delete_remote(id, state)?,
        ItemKind::Dataset => profile.datasets().delete_remote(id, state)?,
    }
    Ok(true)
}

/// Whether the item exists locally.
fn exists_here(profile: &Profile, kind: ItemKind, id: &str) -> Result<bool, CoreError> {
    let found = match kind {
        ItemKind::Agent => profile.agents().get(id).map(drop),
        ItemKind::Plugin => profile.plugins().get(id).map(drop),
        ItemKind::Dataset => profile.datasets().get(id).map(drop),
        ItemKind::Table => profile.tables().get(id).map(drop),
    };
    match found {
        Ok(()) => Ok(true),
        Err(CoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Downloads a dataset's text from the upload its platform `body` names (streamed to a
/// temporary file under the profile's data directory, removed afterwards) and stores it with
/// [`awf_core::datasets::Datasets::apply_remote`] and `state`. `Ok(Err(reason))`: the body or
/// the content is refused (unreadable, a digest that differs, a download the platform refuses);
/// `Ok(Ok(Err(_)))`: the local store failed; `Err`: the download failed.
#[allow(clippy::type_complexity)]
fn download_dataset(
    profile: &Profile,
    client: &PlatformClient,
    id: &str,
    body: &serde_json::Value,
    state: &ItemSync,
) -> Result<Result<Result<awf_core::datasets::Dataset, CoreError>, String>, EgressError> {
    let remote = match awf_core::datasets::RemoteDataset::from_value(body) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let upload_id = body.get("upload_id").and_then(serde_json::Value::as_str);
    let dir = profile.data_dir().join(DOWNLOAD_DIR);
    std::fs::create_dir_all(&dir)
        .map_err(|e| EgressError::from(CoreError::io("creating the sync download directory", &dir, e)))?;
    let part = dir.join(format!("{}.part", ulid::Ulid::new()));
    let downloaded = match upload_id {
        Some(upload) => retrying(|| client.download_upload_to(upload, &part)).map(drop),
        None => std::fs::File::create(&part)
            .map(drop)
            .map_err(|e| EgressError::from(CoreError::io("creating a sync download", &part, e))),
    };
    let applied = downloaded.map(|()| {
        let file = std::fs::File::open(&part).map_err(|e| CoreError::io("reading a sync download", &part, e));
        file.and_then(|f| {
            let mut reader = std::io::BufReader::new(f);
            profile.datasets().apply_remote(id, &remote, &mut reader, state)
        })
    });
    let _ = std::fs::remove_file(&part);
    match applied {
        Ok(Err(e @ (CoreError::Corrupt { .. } | CoreError::Invalid { .. } | CoreError::TooLarge { .. }))) => {
            Ok(Err(e.to_string()))
        }
        Ok(other) => Ok(Ok(other)),
        Err(e @ (EgressError::Unreachable { .. } | EgressError::Platform { status: 408 | 429 | 500..=599, .. })) => {
            Err(e)
        }
        Err(e) => Ok(Err(format!("downloading its text failed: {e}"))),
    }
}

/// Where a pulled dataset's text is downloaded to (under the profile's data directory), one
/// temporary file at a time, removed once applied or failed.
const DOWNLOAD_DIR: &str = "sync-downloads";

/// One pass's working state.
struct Pass<'a> {
    profile: &'a Profile,
    client: &'a PlatformClient,
    uploads: &'a crate::uploads::Uploads,
    device: String,
    /// The platform takes many writes in one request (`batch_writes` in its capabilities).
    batch: bool,
    report: SyncReport,
}

/// What pushing one outbox entry comes to.
enum Next {
    /// Settled without a write (or the write already failed).
    Step(Step),
    /// An item write to send, alone or in a batch with others; [`Pass::settle`] takes its answer.
    Write(PendingWrite),
}

/// An item write prepared by a push, waiting to be sent.
struct PendingWrite {
    entry: OutboxEntry,
    state: ItemSync,
    body: serde_json::Value,
    write: ItemWrite,
    /// Appended to "revision N" in the sync history (a dataset's size).
    detail: String,
}

enum Step {
    /// Record this outcome.
    Done(Outcome),
    /// The platform cannot be reached: stop pushing this pass.
    Offline(Outcome),
}

/// How an upload ended.
enum Uploaded {
    /// The platform holds all of it: the upload's id (`None` for no text).
    Done(Option<String>),
    /// Cancelled (`sync_cancel_upload`) with the platform holding `at` bytes.
    Cancelled { at: u64 },
}

impl Pass<'_> {
    fn origin(&self, entry: &OutboxEntry) -> String {
        format!("{}/{}", self.device, entry.change)
    }

    fn is_mine(&self, st: &ItemState) -> bool {
        st.origin.as_deref().is_some_and(|o| o.split_once('/').is_some_and(|(d, _)| d == self.device))
    }

    fn synced(st: &ItemState) -> ItemSync {
        ItemSync {
            server_rev: st.revision,
            base: st.body.clone(),
            status: ItemStatus::Synced,
            synced_at: Some(awf_core::clock::now()),
            ..ItemSync::default()
        }
    }

    fn done(entry: &OutboxEntry, state: ItemSync, event: Option<awf_core::sync::SyncEvent>) -> Outcome {
        Outcome { entry: entry.clone(), requeue: None, state: Some(state), history: event }
    }

    fn requeue_now(entry: &OutboxEntry, state: ItemSync) -> Outcome {
        let mut again = entry.clone();
        again.not_before_ms = 0;
        Outcome { entry: entry.clone(), requeue: Some(again), state: Some(state), history: None }
    }

    fn retry_later(&mut self, entry: &OutboxEntry, e: &EgressError) -> Outcome {
        self.report.retrying += 1;
        let mut again = entry.clone();
        again.attempts = again.attempts.saturating_add(1);
        again.not_before_ms = now_ms() + sync::backoff_ms(again.attempts, random_u64(), backoff_cap_ms());
        again.last_error = Some(e.to_string());
        Outcome { entry: entry.clone(), requeue: Some(again), state: None, history: None }
    }

    fn park(&mut self, entry: &OutboxEntry, mut state: ItemSync, status: ItemStatus, reason: String) -> Outcome {
        let mut parked = entry.clone();
        parked.parked = true;
        parked.last_error = Some(reason.clone());
        let event = match status {
            ItemStatus::Conflict => "conflict",
            ItemStatus::HeldBack => "held_back",
            _ => "error",
        };
        if status == ItemStatus::Conflict {
            self.report.conflicts += 1;
        } else {
            self.report.refused += 1;
        }
        state.status = status;
        state.reason = Some(reason.clone());
        let h = sync::event(entry.kind, &entry.id, event, reason);
        Outcome { entry: entry.clone(), requeue: Some(parked), state: Some(state), history: Some(h) }
    }

    fn failed(&mut self, entry: &OutboxEntry, state: ItemSync, e: EgressError) -> Step {
        if transient(&e) {
            let o = self.retry_later(entry, &e);
            return if matches!(e, EgressError::Unreachable { .. }) { Step::Offline(o) } else { Step::Done(o) };
        }
        let status = match &e {
            EgressError::ConsentRequired { .. } => ItemStatus::HeldBack,
            EgressError::Platform { status: 403, .. } => ItemStatus::HeldBack,
            _ => ItemStatus::Error,
        };
        Step::Done(self.park(entry, state, status, e.to_string()))
    }

    fn push(&mut self, entry: &OutboxEntry) -> Result<Next, ApiError> {
        let state = self.profile.sync().state(entry.kind, &entry.id)?;
        if state.off {
            return Ok(Next::Step(Step::Done(self.park(
                entry,
                state,
                ItemStatus::Off,
                "sync is off for this item".into(),
            ))));
        }
        match (entry.op, entry.kind) {
            (SyncOp::Upsert, ItemKind::Agent) => self.push_upsert(entry, state),
            (SyncOp::Upsert, ItemKind::Dataset) => self.push_dataset(entry, state),
            (SyncOp::Upsert, ItemKind::Plugin) => self.push_plugin(entry, state),
            (SyncOp::Upsert, ItemKind::Table) => self.push_table(entry, state),
            (SyncOp::Delete, _) => self.push_delete(entry, state).map(Next::Step),
        }
    }

    /// An entry whose item no longer exists here: its delete replaced this entry, or will.
    fn gone(entry: &OutboxEntry) -> Next {
        Next::Step(Step::Done(Outcome { entry: entry.clone(), requeue: None, state: None, history: None }))
    }

    fn push_upsert(&mut self, entry: &OutboxEntry, state: ItemSync) -> Result<Next, ApiError> {
        let agent = match self.profile.agents().get(&entry.id) {
            Ok(a) => a,
            Err(CoreError::NotFound { .. }) => return Ok(Pass::gone(entry)),
            Err(e) => return Err(e.into()),
        };
        let body = SyncedAgent::of(&agent).to_value();
        Ok(self.push_body(entry, state, body, 0, None))
    }

    /// Sends a plugin's synced body: its fields, tools and auth method, never its secret (which
    /// is in this device's keyring only, and in no field of the record).
    fn push_plugin(&mut self, entry: &OutboxEntry, state: ItemSync) -> Result<Next, ApiError> {
        let body = match self.profile.plugins().synced(&entry.id) {
            Ok(p) => p.to_value(),
            Err(CoreError::NotFound { .. }) => return Ok(Pass::gone(entry)),
            Err(e) => return Err(e.into()),
        };
        Ok(self.push_body(entry, state, body, 0, None))
    }

    /// Sends a table with its rows in the body; one with personal information in its cells
    /// waits for the developer's attestation of that very content, as a dataset does.
    fn push_table(&mut self, entry: &OutboxEntry, state: ItemSync) -> Result<Next, ApiError> {
        let (table, synced) = match self.profile.tables().get(&entry.id) {
            Ok(t) => {
                let rows = self.profile.tables().synced(&entry.id)?;
                (t, rows)
            }
            Err(CoreError::NotFound { .. }) => return Ok(Pass::gone(entry)),
            Err(e) => return Err(e.into()),
        };
        let body = synced.to_value();
        let size = serde_json::to_vec(&body).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > awf_platform_api::sync::MAX_ITEM_BODY_BYTES {
            let reason = format!(
                "the table is {size} bytes with its rows; tables sync up to {} bytes in this version (it stays on this device)",
                awf_platform_api::sync::MAX_ITEM_BODY_BYTES
            );
            return Ok(Next::Step(Step::Done(self.park(entry, state, ItemStatus::Error, reason))));
        }
        let findings = table.pii.total;
        let attestation = if findings > 0 {
            let subject = sync::attestation_subject(entry.kind, &entry.id, &synced.content_sha256(), findings);
            match &state.attestation {
                Some(a) if a.subject == subject => Some(a.attestation.clone()),
                _ => {
                    let reason = format!(
                        "holds {findings} finding(s) of personal information: confirm that the people concerned consented to its hosting (policy §1.5 4.4) before it is synced"
                    );
                    return Ok(Next::Step(Step::Done(self.park(entry, state, ItemStatus::HeldBack, reason))));
                }
            }
        } else {
            None
        };
        Ok(self.push_body(entry, state, body, u32::try_from(findings).unwrap_or(u32::MAX), attestation))
    }

    /// Prepares the write of one item's body over the revision its local state started from
    /// (nothing to write when the platform already holds that body).
    fn push_body(
        &mut self,
        entry: &OutboxEntry,
        state: ItemSync,
        body: serde_json::Value,
        pii_findings: u32,
        attestation: Option<awf_platform_api::PiiAttestation>,
    ) -> Next {
        self.write_body(entry, state, body, pii_findings, attestation, String::new())
    }

    fn write_body(
        &mut self,
        entry: &OutboxEntry,
        mut state: ItemSync,
        body: serde_json::Value,
        pii_findings: u32,
        attestation: Option<awf_platform_api::PiiAttestation>,
        detail: String,
    ) -> Next {
        if state.server_rev > 0 && state.base.as_ref() == Some(&body) {
            state.status = ItemStatus::Synced;
            state.reason = None;
            return Next::Step(Step::Done(Pass::done(entry, state, None)));
        }
        let write = ItemWrite { body: body.clone(), pii_findings, attestation, origin: Some(self.origin(entry)) };
        Next::Write(PendingWrite { entry: entry.clone(), state, body, write, detail })
    }

    /// Takes the platform's answer to a prepared write.
    fn settle(&mut self, w: PendingWrite, answer: Result<PutOutcome, EgressError>) -> Result<Step, ApiError> {
        let PendingWrite { entry, state, body, detail, .. } = w;
        match answer {
            Ok(PutOutcome::Applied(st)) => {
                self.report.pushed += 1;
                let mut next = Pass::synced(&st);
                next.attestation = state.attestation.clone();
                next.upload = state.upload.clone();
                let h = sync::event(entry.kind, &entry.id, "pushed", format!("revision {}{detail}", st.revision));
                Ok(Step::Done(Pass::done(&entry, next, Some(h))))
            }
            Ok(PutOutcome::Conflict(c)) => self.conflict(&entry, state, Some(body), c),
            Err(EgressError::Core(e)) => Err(e.into()),
            Err(e) => Ok(self.failed(&entry, state, e)),
        }
    }

    /// Sends prepared writes: one `PUT` for a single write or when the platform takes no
    /// batches, otherwise `POST /v1/items/batch` requests of at most [`MAX_BATCH_WRITES`] writes
    /// and [`MAX_BATCH_BYTES`]. A batch that fails as a whole fails each of its writes with the
    /// same error (each is retried or parked as its own `PUT` would have been).
    /// Returns the steps of each request sent, in order.
    fn send(&mut self, writes: Vec<PendingWrite>) -> Result<Vec<Vec<Step>>, ApiError> {
        let mut sent = Vec::new();
        let mut groups: Vec<Vec<PendingWrite>> = Vec::new();
        let mut bytes = 0;
        for w in writes {
            // The write's JSON plus its kind, id, revision and key.
            let size = serde_json::to_vec(&w.write).map_or(MAX_BATCH_BYTES, |v| v.len()) + 256;
            match groups.last_mut() {
                Some(g) if self.batch && g.len() < MAX_BATCH_WRITES && bytes + size <= MAX_BATCH_BYTES => {
                    bytes += size;
                    g.push(w);
                }
                _ => {
                    bytes = size;
                    groups.push(vec![w]);
                }
            }
        }
        for mut group in groups {
            let mut steps = Vec::with_capacity(group.len());
            if group.len() == 1 {
                let w = group.pop().expect("one write");
                let answer =
                    self.client.put_item(w.entry.kind, &w.entry.id, w.state.server_rev, &w.entry.change, &w.write);
                steps.push(self.settle(w, answer)?);
                sent.push(steps);
                continue;
            }
            let batch = group
                .iter()
                .map(|w| BatchWrite {
                    kind: w.entry.kind,
                    id: w.entry.id.clone(),
                    expected_revision: w.state.server_rev,
                    idempotency_key: w.entry.change.clone(),
                    write: w.write.clone(),
                })
                .collect();
            match self.client.put_items(batch) {
                Ok(answers) => {
                    for (w, answer) in group.into_iter().zip(answers) {
                        steps.push(self.settle(w, answer)?);
                    }
                }
                Err(EgressError::Core(e)) => return Err(e.into()),
                Err(e) => {
                    for w in group {
                        steps.push(self.settle(w, Err(same_error(&e)))?);
                    }
                }
            }
            sent.push(steps);
        }
        Ok(sent)
    }

    fn push_dataset(&mut self, entry: &OutboxEntry, mut state: ItemSync) -> Result<Next, ApiError> {
        let ds = match self.profile.datasets().get(&entry.id) {
            Ok(d) => d,
            Err(CoreError::NotFound { .. }) => return Ok(Pass::gone(entry)),
            Err(e) => return Err(e.into()),
        };
        let findings = ds.pii.total;
        let attestation = if findings > 0 {
            let subject = sync::attestation_subject(entry.kind, &ds.id, &ds.sha256, findings);
            match &state.attestation {
                Some(a) if a.subject == subject => Some(a.attestation.clone()),
                _ => {
                    let reason = format!(
                        "holds {findings} finding(s) of personal information: confirm that the people concerned consented to its hosting (policy §1.5 4.4) before it is synced"
                    );
                    return Ok(Next::Step(Step::Done(self.park(entry, state, ItemStatus::HeldBack, reason))));
                }
            }
        } else {
            None
        };
        let upload_id = match self.upload(entry, &ds, &mut state) {
            Ok(Uploaded::Done(id)) => id,
            // Parked as switched off (so the next background pass does not start it again at
            // once), the upload's id kept: turning sync on resumes at the platform's offset.
            Ok(Uploaded::Cancelled { at }) => {
                let reason = format!(
                    "upload cancelled at {at} of {} bytes; turn sync on for this dataset to resume from there",
                    ds.bytes
                );
                state.off = true;
                state.status = ItemStatus::Off;
                state.reason = Some(reason.clone());
                let h = sync::event(entry.kind, &entry.id, "cancelled", reason);
                return Ok(Next::Step(Step::Done(Pass::done(entry, state, Some(h)))));
            }
            Err(e) => {
                // Keep what the upload reached (its id), then fail as any request does.
                self.profile.sync().set_state(entry.kind, &entry.id, &state, None)?;
                return Ok(Next::Step(self.failed(entry, state, e)));
            }
        };
        let body = serde_json::json!({
            "name": ds.name,
            "description": ds.description,
            "source_name": ds.source_name,
            "format": ds.format,
            "bytes": ds.bytes,
            "sha256": ds.sha256,
            "chunking": ds.chunking,
            "chunk_count": ds.chunk_count,
            "pii_findings": ds.pii.total,
            "pii_by_kind": ds.pii.by_kind,
            "created_at": ds.created_at,
            "upload_id": upload_id,
        });
        let findings = u32::try_from(findings).unwrap_or(u32::MAX);
        let detail = format!(", {} bytes of content", ds.bytes);
        Ok(self.write_body(entry, state, body, findings, attestation, detail))
    }

    /// Sends a dataset's text to the platform in resumable chunks: an upload opened once (its id
    /// kept in the item's state), resumed at the offset the platform reports, so a restart never
    /// re-sends a chunk the platform holds. Returns the finished upload's id (`None` for no text).
    /// While it runs it is listed in [`Api::sync_uploads`] with the platform's offset, and a
    /// cancel stops it before its next chunk.
    fn upload(
        &mut self,
        entry: &OutboxEntry,
        ds: &awf_core::datasets::Dataset,
        state: &mut ItemSync,
    ) -> Result<Uploaded, EgressError> {
        if ds.bytes == 0 {
            return Ok(Uploaded::Done(None));
        }
        if let Some(u) = &state.upload {
            if u.sha256 == ds.sha256 && u.complete {
                return Ok(Uploaded::Done(Some(u.upload_id.clone())));
            }
        }
        let mut offset = match state.upload.clone() {
            Some(u) if u.sha256 == ds.sha256 => match retrying(|| self.client.upload_offset(&u.upload_id)) {
                Ok(o) => o,
                // Discarded (or never complete before a platform erase): start again.
                Err(EgressError::Platform { status: 404, .. }) => {
                    state.upload = None;
                    return self.upload(entry, ds, state);
                }
                Err(e) => return Err(e),
            },
            _ => {
                let opened = self.client.create_upload(&NewUpload {
                    length: ds.bytes,
                    sha256: ds.sha256.clone(),
                    dataset_id: ds.id.clone(),
                })?;
                state.upload = Some(sync::UploadProgress {
                    upload_id: opened.upload_id.clone(),
                    sha256: ds.sha256.clone(),
                    length: ds.bytes,
                    complete: opened.complete,
                });
                // Durable before the first byte goes, so that a restart resumes this upload.
                self.profile.sync().set_state(entry.kind, &entry.id, state, None).map_err(EgressError::Core)?;
                opened.offset
            }
        };
        let upload_id = state.upload.as_ref().map(|u| u.upload_id.clone()).expect("set above");
        let progress = self.uploads.start(entry.kind, &entry.id, &ds.name, offset, ds.bytes);
        let mut cancelled = false;
        let resumed_at = offset;
        let mut read = 0u64;
        let mut chunk: Vec<u8> = Vec::with_capacity(UPLOAD_CHUNK);
        let mut failure: Option<EgressError> = None;
        let mut complete = offset >= ds.bytes;
        let mut chunks_sent = 0u32;
        let mut send = |chunk: &mut Vec<u8>, offset: &mut u64| -> Result<bool, EgressError> {
            let st = self.client.upload_chunk(&upload_id, *offset, chunk)?;
            chunks_sent += 1;
            *offset = st.offset;
            progress.sent(st.offset);
            chunk.clear();
            Ok(st.complete)
        };
        let walked = self.profile.datasets().for_each_piece(&ds.id, |piece| {
            let start = read;
            read += piece.len() as u64;
            if read <= offset {
                return Ok(());
            }
            let skip = offset.saturating_sub(start) as usize;
            let mut rest = &piece[skip.min(piece.len())..];
            while !rest.is_empty() {
                let take = (UPLOAD_CHUNK - chunk.len()).min(rest.len());
                chunk.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if chunk.len() == UPLOAD_CHUNK {
                    if progress.cancelled() {
                        cancelled = true;
                        return Err(CoreError::Corrupt { detail: "upload cancelled".into() });
                    }
                    match send(&mut chunk, &mut offset) {
                        Ok(done) => complete = done,
                        Err(e) => {
                            failure = Some(e);
                            return Err(CoreError::Corrupt { detail: "upload interrupted".into() });
                        }
                    }
                }
            }
            Ok(())
        });
        if let Some(e) = failure {
            return Err(e);
        }
        if cancelled {
            return Ok(Uploaded::Cancelled { at: offset });
        }
        walked.map_err(EgressError::Core)?;
        if !chunk.is_empty() {
            if progress.cancelled() {
                return Ok(Uploaded::Cancelled { at: offset });
            }
            complete = send(&mut chunk, &mut offset)?;
        }
        if !complete {
            return Err(EgressError::BadResponse {
                path: format!("/v1/uploads/{upload_id}"),
                detail: format!("the upload stopped at {offset} of {} bytes", ds.bytes),
            });
        }
        if let Some(u) = state.upload.as_mut() {
            u.complete = true;
        }
        let h = sync::event(
            entry.kind,
            &entry.id,
            "uploaded",
            format!("{} bytes in {chunks_sent} chunk(s), resumed at byte {resumed_at}", ds.bytes),
        );
        self.profile.sync().set_state(entry.kind, &entry.id, state, Some(h)).map_err(EgressError::Core)?;
        Ok(Uploaded::Done(Some(upload_id)))
    }

    fn push_delete(&mut self, entry: &OutboxEntry, mut state: ItemSync) -> Result<Step, ApiError> {
        match self.client.delete_item(entry.kind, &entry.id, state.server_rev, &entry.change) {
            Ok(DeleteOutcome::Deleted(d)) => {
                self.report.deleted += 1;
                let what = format!("{} {} (synced copy)", entry.kind.as_str(), entry.id);
                self.profile.deletions().append(what, BTreeMap::new(), Some(d.receipt))?;
                let h = sync::event(
                    entry.kind,
                    &entry.id,
                    "deleted",
                    format!("tombstone at revision {}", d.state.revision),
                );
                Ok(Step::Done(Pass::done(entry, Pass::synced(&d.state), Some(h))))
            }
            Ok(DeleteOutcome::Conflict(c)) => match c.current {
                // Never reached the platform, or already deleted there: nothing to delete.
                None => Ok(Step::Done(Pass::done(entry, ItemSync { status: ItemStatus::Synced, ..state }, None))),
                Some(cur) if cur.deleted => Ok(Step::Done(Pass::done(entry, Pass::synced(&cur), None))),
                // Our own write whose answer was lost: delete that revision.
                Some(cur) if self.is_mine(&cur) => {
                    state.server_rev = cur.revision;
                    Ok(Step::Done(Pass::requeue_now(entry, state)))
                }
                Some(cur) => {
                    state.theirs_rev = cur.revision;
                    state.theirs = cur.body.clone();
                    let reason = format!("deleted here, changed on another device (revision {})", cur.revision);
                    Ok(Step::Done(self.park(entry, state, ItemStatus::Conflict, reason)))
                }
            },
            // The platform holds no such item: nothing to delete there.
            Err(EgressError::Platform { status: 404, .. }) => {
                Ok(Step::Done(Pass::done(entry, ItemSync { status: ItemStatus::Synced, ..state }, None)))
            }
            Err(e) => Ok(self.failed(entry, state, e)),
        }
    }

    fn conflict(
        &mut self,
        entry: &OutboxEntry,
        mut state: ItemSync,
        mine: Option<serde_json::Value>,
        c: SyncConflict,
    ) -> Result<Step, ApiError> {
        let Some(cur) = c.current else {
            // The platform no longer has it (erased there): send it as new.
            state.server_rev = 0;
            state.base = None;
            return Ok(Step::Done(Pass::requeue_now(entry, state)));
        };
        if cur.body == mine && !cur.deleted {
            return Ok(Step::Done(Pass::done(entry, Pass::synced(&cur), None)));
        }
        if self.is_mine(&cur) && !cur.deleted {
            state.server_rev = cur.revision;
            state.base = cur.body.clone();
            return Ok(Step::Done(Pass::requeue_now(entry, state)));
        }
        state.theirs_rev = cur.revision;
        state.theirs = cur.body.clone();
        if let (Some(base), Some(mine), Some(theirs)) = (state.base.clone(), mine.as_ref(), cur.body.as_ref()) {
            let merged = match entry.kind {
                ItemKind::Agent => merge_agent(&base, mine, theirs),
                ItemKind::Plugin => merge_plugin(&base, mine, theirs),
                ItemKind::Table => merge_table(&base, mine, theirs),
                ItemKind::Dataset => None,
            };
            if let Some(merged) = merged {
                let mut next = Pass::synced(&cur);
                next.status = ItemStatus::Pending;
                next.attestation = state.attestation.clone();
                // The merged state is a local change over the platform's revision: it is queued
                // (with a new change id) in the same batch as the item. A merge this version
                // cannot store (say, an invalid combination) is left to the developer.
                match apply_body(self.profile, entry.kind, &entry.id, &merged, &next, true) {
                    Ok(_) => {
                        self.report.merged += 1;
                        let h = sync::event(
                            entry.kind,
                            &entry.id,
                            "merged",
                            format!("merged with revision {}", cur.revision),
                        );
                        return Ok(Step::Done(Outcome {
                            entry: entry.clone(),
                            requeue: None,
                            state: None,
                            history: Some(h),
                        }));
                    }
                    Err(CoreError::Invalid { .. } | CoreError::TooLarge { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let reason = if cur.deleted {
            format!("changed here, deleted on another device (revision {})", cur.revision)
        } else {
            format!("changed here and on another device (revision {})", cur.revision)
        };
        Ok(Step::Done(self.park(entry, state, ItemStatus::Conflict, reason)))
    }

    /// Pulls a newer revision of a dataset: its text is downloaded from the upload the body
    /// names (streamed to a temporary file under the profile's data directory, removed
    /// afterwards) and applied ([`awf_core::datasets::Datasets::apply_remote`]: the SHA-256 the
    /// body states is checked, findings and chunks recomputed here), then the pull is recorded.
    /// `Ok(Err(reason))`: this item failed (an unreadable body, a digest that differs, a download
    /// refused); the caller records it as the item's error. `Err`: the platform cannot be
    /// reached or fails (5xx, 408, 429); the item is recorded as failed and the pass stops before
    /// the cursor passes it, so the next pass tries again.
    fn pull_dataset(&mut self, st: &ItemState) -> Result<Result<(), String>, EgressError> {
        let Some(body) = st.body.as_ref() else { return Ok(Ok(())) };
        let applied = download_dataset(self.profile, self.client, &st.id, body, &Pass::synced(st));
        match applied {
            Ok(Ok(Ok(ds))) => {
                self.profile.sync().set_state(
                    st.kind,
                    &st.id,
                    &Pass::synced(st),
                    Some(sync::event(
                        st.kind,
                        &st.id,
                        "pulled",
                        format!("revision {}, {} bytes of content", st.revision, ds.bytes),
                    )),
                )?;
                Ok(Ok(()))
            }
            Ok(Ok(Err(e))) => Err(e.into()),
            Ok(Err(reason)) => Ok(Err(format!("pulling revision {} failed: {reason}", st.revision))),
            // The platform unreachable or failing: stop here, so the cursor does not pass the item.
            Err(e) => {
                let reason = format!("downloading revision {} failed: {e}", st.revision);
                let local = self.profile.sync().state(st.kind, &st.id)?;
                let bad = ItemSync { status: ItemStatus::Error, reason: Some(reason.clone()), ..local };
                self.profile.sync().set_state(
                    st.kind,
                    &st.id,
                    &bad,
                    Some(sync::event(st.kind, &st.id, "error", reason)),
                )?;
                Err(e)
            }
        }
    }

    fn pull(&mut self) -> Result<(), EgressError> {
        let sync = self.profile.sync();
        let mut cursor = sync.cursor()?;
        loop {
            let page = retrying(|| self.client.changes(cursor, PULL_PAGE))?;
            for st in &page.changes {
                let local = sync.state(st.kind, &st.id)?;
                // An item with sync switched off keeps its local state (its edits would otherwise
                // be overwritten without a word); switching it on again pushes over the newer
                // revision, which comes back as a merge or a conflict.
                if st.revision <= local.server_rev || local.off || sync.entry(st.kind, &st.id)?.is_some() {
                    continue;
                }
                if st.kind == ItemKind::Dataset && !st.deleted {
                    match self.pull_dataset(st)? {
                        Ok(()) => {}
                        Err(reason) => {
                            let bad = ItemSync { status: ItemStatus::Error, reason: Some(reason.clone()), ..local };
                            sync.set_state(st.kind, &st.id, &bad, Some(sync::event(st.kind, &st.id, "error", reason)))?;
                            continue;
                        }
                    }
                } else if st.deleted {
                    delete_body(self.profile, st.kind, &st.id, &Pass::synced(st))?;
                    sync.set_state(
                        st.kind,
                        &st.id,
                        &Pass::synced(st),
                        Some(sync::event(st.kind, &st.id, "pulled_delete", format!("revision {}", st.revision))),
                    )?;
                } else {
                    match st
                        .body
                        .as_ref()
                        .map(|b| apply_body(self.profile, st.kind, &st.id, b, &Pass::synced(st), false))
                    {
                        Some(Ok(_)) => {
                            sync.set_state(
                                st.kind,
                                &st.id,
                                &Pass::synced(st),
                                Some(sync::event(st.kind, &st.id, "pulled", format!("revision {}", st.revision))),
                            )?;
                        }
                        Some(Err(e @ (CoreError::Invalid { .. } | CoreError::TooLarge { .. }))) => {
                            let bad = ItemSync { status: ItemStatus::Error, reason: Some(e.to_string()), ..local };
                            sync.set_state(
                                st.kind,
                                &st.id,
                                &bad,
                                Some(sync::event(st.kind, &st.id, "error", e.to_string())),
                            )?;
                            continue;
                        }
                        Some(Err(e)) => return Err(e.into()),
                        None => continue,
                    }
                }
                self.report.pulled += 1;
            }
            if page.next > cursor {
                cursor = page.next;
                sync.set_cursor(cursor)?;
            }
            if !page.more || page.changes.is_empty() {
                return Ok(());
            }
        }
    }
}

impl Api {
    /// One sync pass: scope checks, pull, then push everything due. Never sends without the
    /// hosting consent.
    /// One sync pass: pull, then push what is due. A pass already running (the background
    /// worker's, another "Sync now") is waited for first, so no change is sent twice.
    pub fn sync_once(&self) -> Result<SyncReport, ApiError> {
        let _turn = self.sync_turn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.sync_pass()
    }

    fn sync_pass(&self) -> Result<SyncReport, ApiError> {
        let profile = self.profile()?;
        let client = self.platform()?;
        let device = profile.installation_id()?;
        let mut pass = Pass {
            profile: &profile,
            client: &client,
            uploads: &self.uploads,
            device,
            batch: false,
            report: SyncReport::default(),
        };
        let blocked = match self.sync_blocked(&profile, &client, &mut pass.batch) {
            Ok(b) => b,
            Err(e) if transient(&e) => Some((e.to_string(), true)),
            Err(e) => return Err(e.into()),
        };
        if let Some((why, offline)) = blocked {
            pass.report.blocked = Some(why);
            pass.report.offline = offline;
            pass.report.pending = profile.sync().overview()?.pending;
            return Ok(pass.report);
        }
        if let Err(e) = pass.pull() {
            if !transient(&e) {
                return Err(e.into());
            }
            pass.report.blocked = Some(e.to_string());
            pass.report.offline = true;
            pass.report.pending = profile.sync().overview()?.pending;
            return Ok(pass.report);
        }
        'rounds: for _ in 0..PUSH_ROUNDS {
            let due = profile.sync().due(now_ms(), PUSH_BATCH)?;
            if due.is_empty() {
                break;
            }
            let mut outcomes = Vec::with_capacity(due.len());
            let mut offline = false;
            // One lost connection is a fault of that request; several in a row mean the
            // platform is gone, and the rest wait for the next pass.
            let mut unreachable_in_a_row = 0;
            let mut writes = Vec::new();
            let mut take = |step: Step, outcomes: &mut Vec<Outcome>| match step {
                Step::Done(o) => {
                    unreachable_in_a_row = 0;
                    outcomes.push(o);
                    false
                }
                Step::Offline(o) => {
                    outcomes.push(o);
                    unreachable_in_a_row += 1;
                    unreachable_in_a_row == OFFLINE_AFTER
                }
            };
            for entry in &due {
                match pass.push(entry)? {
                    Next::Step(step) => {
                        if take(step, &mut outcomes) {
                            offline = true;
                            break;
                        }
                    }
                    Next::Write(w) => writes.push(w),
                }
            }
            // Writes prepared before the platform was found unreachable stay queued as they are.
            if !offline {
                for steps in pass.send(writes)? {
                    if steps.iter().all(|s| matches!(s, Step::Offline(_))) {
                        // A batch that got no answer is one lost request, not one per write.
                        let mut steps = steps.into_iter();
                        let first = steps.next().expect("a request has a write");
                        outcomes.extend(steps.map(|s| match s {
                            Step::Done(o) | Step::Offline(o) => o,
                        }));
                        offline |= take(first, &mut outcomes);
                    } else {
                        for step in steps {
                            offline |= take(step, &mut outcomes);
                        }
                    }
                }
            }
            profile.sync().record(outcomes)?;
            if offline {
                pass.report.blocked = Some("the platform cannot be reached; changes wait and are retried".into());
                pass.report.offline = true;
                break 'rounds;
            }
        }
        pass.report.pending = profile.sync().overview()?.pending;
        Ok(pass.report)
    }

    /// Why nothing may be sent now, if so, and whether it is the platform's unreachability:
    /// not signed in, no hosting consent, or data stored in another region than the account's
    /// without the cross-border consent. The consents are checked before any request.
    /// `batch` is set when the platform takes batches of writes.
    fn sync_blocked(
        &self,
        profile: &Profile,
        client: &PlatformClient,
        batch: &mut bool,
    ) -> Result<Option<(String, bool)>, EgressError> {
        let session = client.session()?;
        if !session.signed_in {
            return Ok(Some(("not signed in to the platform".into(), false)));
        }
        if !profile.consents().allows(Purpose::DeveloperDataHosting)? {
            return Ok(Some((
                "hosting your agents on the platform needs your consent (privacy dashboard)".into(),
                false,
            )));
        }
        let caps = retrying(|| client.capabilities())?;
        *batch = caps.features.iter().any(|f| f == "batch_writes");
        let account = match session.account {
            Some(a) => a,
            None => retrying(|| client.profile())?,
        };
        if caps.region.code != account.region && !profile.consents().allows(Purpose::CrossBorderTransfer)? {
            return Ok(Some((
                format!(
                    "the platform stores data in {} ({}) and your account's region is {}: that needs the cross-border transfer consent",
                    caps.region.name, caps.region.code, account.region
                ),
                false,
            )));
        }
        Ok(None)
    }

    /// The overall status and every item not simply synced.
    pub fn sync_status(&self) -> Result<SyncStatus, ApiError> {
        let profile = self.profile()?;
        let sync = profile.sync();
        let overview = sync.overview()?;
        let mut items = Vec::new();
        for e in sync.outbox()? {
            let st = sync.state(e.kind, &e.id)?;
            let status = if e.parked { st.status } else { ItemStatus::Pending };
            items.push(ItemView {
                kind: e.kind,
                id: e.id.clone(),
                status,
                reason: if e.parked { st.reason.clone() } else { e.last_error.clone() },
                attempts: e.attempts,
                server_revision: st.server_rev,
            });
        }
        // Items the developer switched off have no queued change; list them so the UI can show
        // the switch as it is. So are items whose pull failed (an `error` with its reason).
        for (kind, id, st) in sync.states()? {
            let failed_pull = st.status == ItemStatus::Error;
            if (st.off || failed_pull) && !items.iter().any(|i| i.kind == kind && i.id == id) {
                items.push(ItemView {
                    kind,
                    id,
                    status: if st.off { ItemStatus::Off } else { ItemStatus::Error },
                    reason: st.reason.clone(),
                    attempts: 0,
                    server_revision: st.server_rev,
                });
            }
        }
        Ok(SyncStatus { overview, items, history: sync.history(50)? })
    }

    /// Every conflict, with the three texts and their merge.
    pub fn sync_conflicts(&self) -> Result<Vec<ConflictView>, ApiError> {
        let profile = self.profile()?;
        let mut out = Vec::new();
        for (kind, id, st) in profile.sync().states()? {
            if st.status != ItemStatus::Conflict {
                continue;
            }
            // Only agents have an instructions text to merge by hand; the other kinds are settled
            // by keeping one side, and their texts here are empty.
            let (name, mine) = match kind {
                ItemKind::Agent => match profile.agents().get(&id) {
                    Ok(a) => (Some(a.draft.name), a.draft.instructions),
                    Err(_) => (None, String::new()),
                },
                ItemKind::Plugin => (profile.plugins().get(&id).ok().map(|p| p.draft.name), String::new()),
                ItemKind::Table => (profile.tables().get(&id).ok().map(|t| t.name), String::new()),
                ItemKind::Dataset => (profile.datasets().get(&id).ok().map(|d| d.name), String::new()),
            };
            let (base, theirs) = if kind == ItemKind::Agent {
                (instructions_of(st.base.as_ref()), instructions_of(st.theirs.as_ref()))
            } else {
                (String::new(), String::new())
            };
            let (merged, clean) = match merge::merge3(&base, &mine, &theirs) {
                Merge::Clean(t) => (t, kind == ItemKind::Agent),
                Merge::Conflicted { text, .. } => (text, false),
            };
            out.push(ConflictView {
                kind,
                id: id.clone(),
                name: name.unwrap_or_else(|| "(deleted here)".into()),
                reason: st.reason.clone().unwrap_or_default(),
                theirs_revision: st.theirs_rev,
                theirs_deleted: st.theirs.is_none(),
                base_instructions: base,
                mine_instructions: mine,
                theirs_instructions: theirs,
                merged_instructions: merged,
                merge_clean: clean,
            });
        }
        Ok(out)
    }

    /// Settles a conflict. Keep mine and merged send over the platform's revision; keep theirs
    /// takes the platform's revision locally and sends nothing.
    pub fn sync_resolve(&self, kind: ItemKind, id: &str, resolution: Resolution) -> Result<SyncStatus, ApiError> {
        let profile = self.profile()?;
        let sync = profile.sync();
        let st = sync.state(kind, id)?;
        if st.status != ItemStatus::Conflict {
            return Err(ApiError::new(ErrorCode::NotFound, format!("{} {id} has no conflict", kind.as_str())));
        }
        if matches!(resolution, Resolution::Merged { .. }) && kind != ItemKind::Agent {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("A {} conflict is settled by keeping one side (mine or theirs).", kind.as_str()),
            )
            .field("resolution"));
        }
        let theirs_state = ItemSync {
            server_rev: st.theirs_rev,
            base: st.theirs.clone(),
            status: ItemStatus::Synced,
            synced_at: Some(awf_core::clock::now()),
            ..ItemSync::default()
        };
        match resolution {
            Resolution::KeepTheirs => {
                match &st.theirs {
                    // A dataset's content is its upload: downloaded and checked, else nothing changes.
                    Some(body) if kind == ItemKind::Dataset => {
                        let client = self.platform()?;
                        match download_dataset(&profile, &client, id, body, &theirs_state)? {
                            Ok(stored) => drop(stored?),
                            Err(reason) => {
                                return Err(ApiError::new(
                                    ErrorCode::PlatformError,
                                    format!("The platform's revision of this dataset cannot be taken: {reason}"),
                                )
                                .hint("The conflict stays; sync again later, or keep yours."))
                            }
                        }
                    }
                    Some(body) => {
                        apply_body(&profile, kind, id, body, &theirs_state, false)?;
                    }
                    None => {
                        if exists_here(&profile, kind, id)? {
                            delete_body(&profile, kind, id, &theirs_state)?;
                        }
                    }
                }
                sync.set_state(
                    kind,
                    id,
                    &theirs_state,
                    Some(sync::event(kind, id, "resolved", "kept the platform's revision")),
                )?;
            }
            Resolution::KeepMine | Resolution::Merged { .. } => {
                let next = ItemSync { status: ItemStatus::Pending, ..theirs_state };
                if let Resolution::Merged { instructions } = &resolution {
                    let mut agent = profile.agents().get(id)?;
                    agent.draft.instructions = instructions.clone();
                    profile.agents().update(id, agent.draft, None)?;
                }
                // Queue the local state (or its deletion) over the platform's revision.
                let deleted_here = !exists_here(&profile, kind, id)?;
                sync.requeue(
                    kind,
                    id,
                    if deleted_here { SyncOp::Delete } else { SyncOp::Upsert },
                    &next,
                    sync::event(
                        kind,
                        id,
                        "resolved",
                        if matches!(resolution, Resolution::KeepMine) {
                            "kept this device's version"
                        } else {
                            "merged by hand"
                        },
                    ),
                )?;
            }
        }
        self.sync_status()
    }
}

/// `sync_resolve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SyncResolveRequest {
    pub kind: ItemKind,
    pub id: String,
    pub resolution: Resolution,
}

/// `sync_attest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SyncAttestRequest {
    pub kind: ItemKind,
    pub id: String,
}

/// `sync_agent_set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SyncAgentRequest {
    pub id: String,
    pub on: bool,
}

/// `sync_item_set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SyncItemRequest {
    pub kind: ItemKind,
    pub id: String,
    pub on: bool,
}

impl Api {
    /// Records the developer's attestation that the people whose personal information a
    /// dataset holds consented to its hosting (policy §1.5 4.4): an entry of the consent ledger
    /// naming the dataset's content, kept with the item and sent with it. A changed content needs
    /// a new attestation.
    pub fn sync_attest(&self, kind: ItemKind, id: &str) -> Result<SyncStatus, ApiError> {
        let profile = self.profile()?;
        let (what, sha256, findings) = match kind {
            ItemKind::Dataset => {
                let ds = profile.datasets().get(id)?;
                ("Dataset", ds.sha256, ds.pii.total)
            }
            ItemKind::Table => {
                let t = profile.tables().get(id)?;
                ("Table", profile.tables().synced(id)?.content_sha256(), t.pii.total)
            }
            _ => {
                return Err(ApiError::new(ErrorCode::InvalidInput, "Only datasets and tables carry PII attestations.")
                    .field("kind"))
            }
        };
        if findings == 0 {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("{what} {id} holds no personal information: there is nothing to attest."),
            ));
        }
        let subject = sync::attestation_subject(kind, id, &sha256, findings);
        let entry = profile.consents().attest(subject.clone())?;
        let sync = profile.sync();
        let mut st = sync.state(kind, id)?;
        st.attestation = Some(sync::Attested {
            subject,
            attestation: awf_platform_api::PiiAttestation {
                ledger_seq: entry.seq,
                ledger_hash: entry.hash.clone(),
                attested_at: entry.at.clone(),
                findings: u32::try_from(findings).unwrap_or(u32::MAX),
            },
        });
        if st.status == ItemStatus::HeldBack {
            st.status = ItemStatus::Pending;
            st.reason = None;
        }
        let h = sync::event(kind, id, "attested", format!("{findings} finding(s), consent ledger entry {}", entry.seq));
        sync.set_state(kind, id, &st, Some(h))?;
        sync.unpark(Some(kind))?;
        self.sync_status()
    }

    /// Turns sync on or off for one agent.
    pub fn sync_agent_set(&self, id: &str, on: bool) -> Result<SyncStatus, ApiError> {
        self.sync_item_set(ItemKind::Agent, id, on)
    }

    /// Turns sync on or off for one item of any kind.
    pub fn sync_item_set(&self, kind: ItemKind, id: &str, on: bool) -> Result<SyncStatus, ApiError> {
        let profile = self.profile()?;
        if !exists_here(&profile, kind, id)? {
            return Err(CoreError::NotFound { kind: kind.as_str(), id: id.to_string() }.into());
        }
        profile.sync().set_enabled(kind, id, on)?;
        self.sync_status()
    }

    /// The background worker's sync step: a pass when a change is due, and at least every
    /// `pull_every` ticks to pull. Errors wait for the next tick.
    pub(crate) fn sync_tick(&self, tick: u64, pull_every: u64) {
        let Ok(profile) = self.profile() else { return };
        let due = profile.sync().next_due().ok().flatten().is_some_and(|at| at <= now_ms());
        if due || tick.is_multiple_of(pull_every) {
            // A pass the developer started is running: this tick has nothing to add.
            let _turn = match self.sync_turn.try_lock() {
                Ok(turn) => turn,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return,
            };
            let _ = self.sync_pass();
        }
    }
}

/// One item's line in the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemView {
    pub kind: ItemKind,
    pub id: String,
    pub status: ItemStatus,
    pub reason: Option<String>,
    pub attempts: u32,
    #[ts(type = "number")]
    pub server_revision: u64,
}

/// `sync_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SyncStatus {
    pub overview: awf_core::sync::Overview,
    pub items: Vec<ItemView>,
    pub history: Vec<awf_core::sync::SyncEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent(name: &str, instructions: &str, model: &str) -> serde_json::Value {
        json!({"draft": {"name": name, "instructions": instructions, "model": {"model": model}}, "archived": false, "created_at": "t"})
    }

    #[test]
    fn fields_changed_on_one_side_merge_and_instructions_merge_by_line() {
        let base = agent("a", "one\ntwo\nthree\n", "m1");
        let mine = agent("a", "ONE\ntwo\nthree\n", "m1");
        let theirs = agent("b", "one\ntwo\nTHREE\n", "m2");
        let merged = merge_agent(&base, &mine, &theirs).expect("no overlap");
        assert_eq!(merged, agent("b", "ONE\ntwo\nTHREE\n", "m2"));
    }

    fn table(name: &str, rows: serde_json::Value) -> serde_json::Value {
        json!({"name": name, "description": "", "columns": [{"name": "a", "type": "text"}, {"name": "n", "type": "integer"}], "source_name": null, "created_at": "t", "rows": rows})
    }

    #[test]
    fn table_rows_merge_cell_by_cell_and_the_same_cell_changed_on_both_sides_is_a_conflict() {
        let base = table("t", json!([["x", 1], ["y", 2]]));
        let mine = table("t", json!([["X", 1], ["y", 2]]));
        let theirs = table("renamed", json!([["x", 1], ["y", 3]]));
        assert_eq!(merge_table(&base, &mine, &theirs), Some(table("renamed", json!([["X", 1], ["y", 3]]))));
        let theirs_same_cell = table("t", json!([["z", 1], ["y", 2]]));
        assert_eq!(merge_table(&base, &mine, &theirs_same_cell), None);
        // Rows added on one side and changed on the other: no cell-wise match, a conflict.
        let longer = table("t", json!([["x", 1], ["y", 2], ["w", 4]]));
        assert_eq!(merge_table(&base, &mine, &longer), None);
        // A row added on one side only takes that side.
        assert_eq!(merge_table(&base, &base, &longer), Some(longer.clone()));
    }

    #[test]
    fn plugin_fields_merge_field_by_field_inside_the_draft() {
        let plugin = |name: &str, url: &str, tools: u32| json!({"draft": {"name": name, "base_url": url, "auth": {"type": "bearer"}}, "spec": {"tools": tools}, "created_at": "t"});
        let base = plugin("p", "https://a", 1);
        let merged = merge_plugin(&base, &plugin("q", "https://a", 1), &plugin("p", "https://b", 2));
        assert_eq!(merged, Some(plugin("q", "https://b", 2)));
        assert_eq!(merge_plugin(&base, &plugin("q", "https://a", 1), &plugin("r", "https://a", 1)), None);
    }

    #[test]
    fn the_same_field_changed_differently_on_both_sides_is_a_conflict() {
        let base = agent("a", "x\n", "m");
        assert_eq!(merge_agent(&base, &agent("b", "x\n", "m"), &agent("c", "x\n", "m")), None);
        assert_eq!(merge_agent(&base, &agent("a", "y\n", "m"), &agent("a", "z\n", "m")), None);
    }
}
