//! The full data export (D6) at the command surface: `export_start` runs the core's exporter on
//! a thread (progress through `job_progress`, details through `export_status`), `export_cancel`
//! stops it (no file is left), `export_verify` checks a file against its manifest, and
//! `export_categories` says what will be included.
//!
//! The platform-held data joins as a registered source ([`PlatformSource`]): when signed in it
//! asks the platform, through the egress gate, what it holds for the account; signed out, it
//! writes that nothing was asked; when the platform does not answer the export fails with
//! `platform_unreachable`, unless the caller passed `include_platform: false`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

pub use awf_core::export::{
    CategoryInfo, CategoryRecord, ExportProgress, ExportSummary, ProblemKind, VerifyProblem, VerifyReport,
};
use awf_core::export::{EntrySink, ExportError, ExportSource, Registry};
use awf_core::Profile;
use awf_egress::{EgressError, PlatformClient};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, ErrorCode};
use crate::library::JobProgress;
use crate::session::Api;

/// Starts a full export to `path` (a file the user chose; replaced when it exists).
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ExportStartRequest {
    pub path: String,
    /// Ask the platform for what it holds (default true). `false` leaves it out, said in the index.
    #[serde(default)]
    #[ts(optional)]
    pub include_platform: Option<bool>,
}

/// The job a started export runs as (poll `job_progress` / `export_status`, stop with `export_cancel`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportStarted {
    pub job: String,
}

/// Names an export job.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ExportJobRef {
    pub job: String,
}

/// A file to verify.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ExportVerifyRequest {
    pub path: String,
}

/// Where an export job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Running,
    Done,
    Failed,
    /// Stopped by `export_cancel`; no file was written.
    Cancelled,
}

/// An export job's state, progress and outcome.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportStatus {
    pub job: String,
    pub state: ExportState,
    pub path: String,
    pub progress: Option<ExportProgress>,
    /// When done: what was written.
    pub summary: Option<ExportSummary>,
    /// When failed: why, and what to do.
    pub error: Option<ApiError>,
}

/// What a synchronous export ended with.
#[derive(Debug, Clone)]
pub enum ExportOutcome {
    Done(ExportSummary),
    /// Cancelled: no file was written.
    Cancelled,
}

struct Job {
    cancel: Arc<AtomicBool>,
    status: ExportStatus,
}

/// Export jobs of this process, by job id (ULIDs, so one map serves every `Api`).
fn jobs() -> &'static Mutex<HashMap<String, Job>> {
    static JOBS: OnceLock<Mutex<HashMap<String, Job>>> = OnceLock::new();
    JOBS.get_or_init(Default::default)
}

/// A job id unique in this process (and, with the time, across runs).
fn new_job_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("export-{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn update(job: &str, f: impl FnOnce(&mut ExportStatus)) {
    if let Some(j) = jobs().lock().unwrap_or_else(|e| e.into_inner()).get_mut(job) {
        f(&mut j.status);
    }
}

/// The platform-held data, as a registered export category.
pub struct PlatformSource {
    client: Option<Arc<PlatformClient>>,
    include: bool,
}

impl PlatformSource {
    pub const NAME: &'static str = "platform";
}

fn platform_err(e: EgressError) -> ExportError {
    ExportError::source(PlatformSource::NAME, e)
}

impl ExportSource for PlatformSource {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn title(&self) -> &str {
        "Data the platform holds for your account"
    }
    fn covers(&self) -> Vec<String> {
        vec![Self::NAME.into()]
    }
    fn write(&self, profile: &Profile, out: &mut dyn EntrySink) -> Result<(), ExportError> {
        let status = |asked: bool, reason: &str| serde_json::json!({ "asked": asked, "reason": reason, "at": awf_core::clock::now() });
        let client = match (&self.client, self.include) {
            (Some(c), true) => c,
            _ => {
                out.note("Left out at your request: the platform was not asked for what it holds.");
                return out.json("platform/status.json", &status(false, "left_out_at_your_request"));
            }
        };
        if !client.session().map_err(platform_err)?.signed_in {
            out.note("Not signed in: the platform was not asked (sign in and export again to include it).");
            return out.json("platform/status.json", &status(false, "not_signed_in"));
        }
        // Each request goes through the egress gate (account-operation purpose, logged).
        let account = client.profile().map_err(platform_err)?;
        let held = client.held_data().map_err(platform_err)?;
        let receipts = client.platform_receipts().map_err(platform_err)?;
        out.add_count(held.categories.iter().map(|c| c.count).sum());
        let mut s = status(true, "signed_in");
        s["platform_url"] = client.gate().address().as_str().into();
        out.json("platform/status.json", &s)?;
        out.json("platform/account.json", &account)?;
        out.json("platform/held_data.json", &held)?;
        out.json("platform/consent_receipts.json", &receipts)?;
        // The synced agents and datasets as the platform holds them (its change feed, latest
        // revision of each, tombstones included), asked only under the hosting consent.
        if profile.consents().allows(awf_platform_api::Purpose::DeveloperDataHosting).map_err(ExportError::Core)? {
            out.start("platform/items.jsonl", awf_core::export::Packing::Deflated)?;
            let mut after = 0;
            loop {
                let page = client.changes(after, awf_platform_api::sync::MAX_CHANGES_PAGE).map_err(platform_err)?;
                for item in &page.changes {
                    let mut line = serde_json::to_vec(item).map_err(|e| ExportError::source(Self::NAME, e))?;
                    line.push(b'\n');
                    out.write(&line)?;
                }
                if !page.more || page.next <= after {
                    break;
                }
                after = page.next;
            }
        } else {
            out.note("Hosting of your agents and data is not consented: the platform was not asked for synced items.");
        }
        Ok(())
    }
}

/// Maps an export failure to the closed error codes.
pub fn export_error(e: ExportError) -> ApiError {
    match e {
        ExportError::Source { category, source } => match source.downcast::<EgressError>() {
            Ok(egress) => {
                let inner: ApiError = (*egress).into();
                let mut err = ApiError::new(
                    inner.code,
                    format!("The data the platform holds could not be exported: {}", inner.message),
                );
                err.retry_after_secs = inner.retry_after_secs;
                err.hint(match inner.code {
                    ErrorCode::PlatformUnreachable => "Connect and export again, or export without the platform-held data (`awf export --no-platform`, or untick it in the app). No file was written.".to_string(),
                    _ => format!("{} No file was written.", inner.hint.unwrap_or_default()).trim().to_string(),
                })
            }
            Err(other) => {
                ApiError::new(ErrorCode::Internal, format!("The category `{category}` could not be exported: {other}"))
                    .hint("No file was written; try again.")
            }
        },
        ExportError::Core(c) => {
            let mut err: ApiError = c.into();
            err.message = format!("The export failed: {}", err.message);
            err
        }
        ExportError::Unreadable { .. } => ApiError::new(ErrorCode::InvalidFile, e.to_string())
            .field("path")
            .hint("Choose a ZIP written by “Export all my data” (awf export); it must hold its manifest.json."),
        ExportError::Cancelled => ApiError::new(ErrorCode::Internal, e.to_string()),
        other => ApiError::new(ErrorCode::Internal, other.to_string()),
    }
}

fn check_dest(path: &str) -> Result<PathBuf, ApiError> {
    let p = PathBuf::from(path);
    if path.trim().is_empty() || p.file_name().is_none() {
        return Err(ApiError::new(ErrorCode::InvalidInput, "Choose a file to export to.").field("path"));
    }
    if p.is_dir() {
        return Err(
            ApiError::new(ErrorCode::InvalidInput, format!("{path} is a folder; choose a file name.")).field("path")
        );
    }
    let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(ApiError::new(ErrorCode::InvalidInput, format!("The folder {} does not exist.", parent.display()))
            .field("path")
            .hint("Choose an existing folder."));
    }
    Ok(p)
}

impl Api {
    /// The registry of an export: the core's categories and the platform's.
    fn export_registry(&self, include_platform: bool) -> Result<Registry, ApiError> {
        let mut r = Registry::local();
        let client = if include_platform { Some(self.platform()?) } else { None };
        r.register(Arc::new(PlatformSource { client, include: include_platform })).map_err(export_error)?;
        Ok(r)
    }

    /// What an export includes, in order.
    pub fn export_categories(&self) -> Result<Vec<CategoryInfo>, ApiError> {
        let mut r = Registry::local();
        r.register(Arc::new(PlatformSource { client: None, include: true })).map_err(export_error)?;
        Ok(r.categories())
    }

    /// Runs an export on the calling thread (the CLI). `Cancelled` leaves no file.
    pub fn export_run(
        &self,
        path: &str,
        include_platform: bool,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&ExportProgress),
    ) -> Result<ExportOutcome, ApiError> {
        let dest = check_dest(path)?;
        let profile = self.profile()?;
        let registry = self.export_registry(include_platform)?;
        match registry.export(&profile, &dest, cancel, progress) {
            Ok(s) => Ok(ExportOutcome::Done(s)),
            Err(ExportError::Cancelled) => Ok(ExportOutcome::Cancelled),
            Err(e) => Err(export_error(e)),
        }
    }

    /// Starts an export on a thread; returns its job id at once.
    pub(crate) fn export_start(&self, r: ExportStartRequest) -> Result<ExportStarted, ApiError> {
        let dest = check_dest(&r.path)?;
        let profile = self.profile()?;
        let registry = self.export_registry(r.include_platform.unwrap_or(true))?;
        let job = new_job_id();
        let cancel = Arc::new(AtomicBool::new(false));
        let shared = self.jobs.clone();
        {
            let mut all = jobs().lock().unwrap_or_else(|e| e.into_inner());
            all.retain(|_, j| j.status.state == ExportState::Running);
            all.insert(
                job.clone(),
                Job {
                    cancel: cancel.clone(),
                    status: ExportStatus {
                        job: job.clone(),
                        state: ExportState::Running,
                        path: dest.display().to_string(),
                        progress: None,
                        summary: None,
                        error: None,
                    },
                },
            );
        }
        shared.set(&job, JobProgress { done: 0, total: 0, finished: false });
        let id = job.clone();
        std::thread::Builder::new()
            .name("awf-export".into())
            .spawn(move || {
                let mut on_progress = |p: &ExportProgress| {
                    shared.set(&id, JobProgress { done: p.bytes_written, total: p.estimated_total, finished: false });
                    update(&id, |s| s.progress = Some(p.clone()));
                };
                let result = registry.export(&profile, &dest, &cancel, &mut on_progress);
                let done = |s: &mut ExportStatus| s.progress.as_ref().map_or(0, |p| p.bytes_written);
                update(&id, |s| match result {
                    Ok(summary) => {
                        s.state = ExportState::Done;
                        s.summary = Some(summary);
                    }
                    Err(ExportError::Cancelled) => s.state = ExportState::Cancelled,
                    Err(e) => {
                        s.state = ExportState::Failed;
                        s.error = Some(export_error(e));
                    }
                });
                let mut bytes = 0;
                update(&id, |s| bytes = done(s));
                shared.set(&id, JobProgress { done: bytes, total: bytes, finished: true });
            })
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot start the export: {e}")))?;
        Ok(ExportStarted { job })
    }

    /// Where an export job stands.
    pub(crate) fn export_status(&self, r: ExportJobRef) -> Result<ExportStatus, ApiError> {
        jobs().lock().unwrap_or_else(|e| e.into_inner()).get(&r.job).map(|j| j.status.clone()).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("There is no export job `{}`.", r.job)).field("job")
        })
    }

    /// Asks a running export to stop; true when it was running. It removes its temporary file.
    pub(crate) fn export_cancel(&self, r: ExportJobRef) -> Result<bool, ApiError> {
        let all = jobs().lock().unwrap_or_else(|e| e.into_inner());
        let j = all.get(&r.job).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("There is no export job `{}`.", r.job)).field("job")
        })?;
        let running = j.status.state == ExportState::Running;
        j.cancel.store(true, Ordering::Relaxed);
        Ok(running)
    }

    /// Checks an export file against its manifest.
    pub fn export_verify(&self, r: ExportVerifyRequest) -> Result<VerifyReport, ApiError> {
        awf_core::export::verify(Path::new(&r.path)).map_err(|e| match e {
            ExportError::Core(c) => {
                let mut err: ApiError = c.into();
                err.field = Some("path".into());
                err
            }
            other => export_error(other),
        })
    }
}
