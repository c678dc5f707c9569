//! Consent and telemetry commands: the consent centre (purposes with their state), grant and
//! withdraw (ledger entry, receipt to the platform, purge of the purpose's queue and of what the
//! platform holds), the ledger and its verification, the telemetry queue and its flush, and
//! the data the platform holds.

use awf_core::purposes::CATALOGUE;
use awf_core::telemetry::{Queued, TELEMETRY_PURPOSES};
use awf_core::{ConsentMethod, Purpose};

use crate::dto::{ConsentChange, ConsentSetRequest, FlushReport, LedgerView, PurposeCount, PurposeView, UiErrorReport};
use crate::error::ApiError;
use crate::session::Api;

/// Minutes an item stays in the queue (previewable) before an automatic batch takes it;
/// "Send now" (`telemetry_flush`) does not wait.
pub const BATCH_DELAY_MINUTES: i64 = 10;

/// Purposes whose platform-side deletion is still owed (the platform was unreachable).
const PENDING_DELETIONS: &str = "pending-purpose-deletions";

impl Api {
    /// Every purpose with its catalogue text and current state.
    pub fn consent_list(&self) -> Result<Vec<PurposeView>, ApiError> {
        let profile = self.profile()?;
        let consents = profile.consents();
        CATALOGUE
            .iter()
            .map(|info| {
                let record = consents.get(info.purpose)?;
                Ok(PurposeView { info: *info, granted: consents.allows(info.purpose)?, record })
            })
            .collect()
    }

    /// Grants or withdraws a purpose. A withdrawal takes effect at once: the purpose's queue is
    /// purged here, and the platform is asked to delete what it holds for it (now, or at the
    /// next connection if it cannot be reached).
    pub fn consent_set(&self, r: ConsentSetRequest) -> Result<ConsentChange, ApiError> {
        let profile = self.profile()?;
        let method = r.method.unwrap_or(ConsentMethod::ConsentCentre);
        let record = profile.consents().set(r.purpose, r.granted, self.policy_text().version, method)?;
        let mut change = ConsentChange {
            record,
            queue_purged: 0,
            receipts_sent: 0,
            receipts_pending: 0,
            platform_deleted: None,
            note: None,
        };
        if !r.granted && TELEMETRY_PURPOSES.contains(&r.purpose) {
            change.queue_purged = profile.telemetry().purge(r.purpose)? as u32;
            let mut owed: Vec<Purpose> = profile.record(PENDING_DELETIONS)?.unwrap_or_default();
            if !owed.contains(&r.purpose) {
                owed.push(r.purpose);
                profile.save_record(PENDING_DELETIONS, Some(&owed))?;
            }
        }
        self.settle_with_platform(&mut change);
        change.receipts_pending = profile.consents().unacknowledged()?.len() as u32;
        Ok(change)
    }

    /// Sends owed receipts and deletions, when signed in; records what could not be done.
    fn settle_with_platform(&self, change: &mut ConsentChange) {
        let Ok(client) = self.platform() else { return };
        if !client.session().is_ok_and(|s| s.signed_in) {
            change.note = Some("Not signed in: the receipt will be sent when you log in.".into());
            return;
        }
        match client.send_receipts() {
            Ok(n) => change.receipts_sent = n as u32,
            Err(e) => change.note = Some(format!("The receipt will be sent later: {e}")),
        }
        let owed: Vec<Purpose> = client.gate().profile().record(PENDING_DELETIONS).ok().flatten().unwrap_or_default();
        let mut still_owed = Vec::new();
        for p in owed {
            match client.delete_purpose_data(p) {
                Ok(d) => {
                    if p == change.record.purpose {
                        change.platform_deleted = Some(d.deleted);
                    }
                }
                Err(e) => {
                    still_owed.push(p);
                    change.note = Some(format!("The platform will be asked to delete it later: {e}"));
                }
            }
        }
        let _ = client.gate().profile().save_record(PENDING_DELETIONS, Some(&still_owed));
    }

    /// Sends what is owed to the platform: receipts, deletions, then queued telemetry of granted
    /// purposes (device information is added once per run when its purpose is granted).
    pub fn telemetry_flush(&self) -> Result<FlushReport, ApiError> {
        self.flush_older_than(None)
    }

    /// The automatic batch (at platform checks): items wait at least [`BATCH_DELAY_MINUTES`] in
    /// the queue, where the user can see them, before they leave.
    pub(crate) fn flush_due(&self) -> Result<FlushReport, ApiError> {
        self.flush_older_than(Some(time::Duration::minutes(BATCH_DELAY_MINUTES)))
    }

    fn flush_older_than(&self, min_age: Option<time::Duration>) -> Result<FlushReport, ApiError> {
        let client = self.platform()?;
        self.offer_device_info()?;
        let mut change = ConsentChange::placeholder();
        self.settle_with_platform(&mut change);
        let sent = if client.session()?.signed_in { client.flush_telemetry(min_age)? } else { Vec::new() };
        Ok(FlushReport {
            receipts_sent: change.receipts_sent,
            sent: sent.into_iter().map(|(purpose, count)| PurposeCount { purpose, count: count as u32 }).collect(),
            pending: self.profile()?.telemetry().pending(None)?.len() as u32,
        })
    }

    /// The ledger and how far the platform has acknowledged it.
    pub fn consent_ledger(&self) -> Result<LedgerView, ApiError> {
        let profile = self.profile()?;
        let c = profile.consents();
        Ok(LedgerView { entries: c.ledger()?, acknowledged_upto: c.acknowledged_upto()? })
    }

    /// A usage event (no content of agents: only what happened).
    pub(crate) fn usage(&self, kind: &str, data: serde_json::Value) {
        if let Ok(p) = self.profile() {
            let _ = p.telemetry().offer(Purpose::UsageAnalytics, kind, data);
        }
    }

    /// An error the UI caught, as a crash report (only with crash-report consent).
    pub fn record_ui_error(&self, r: UiErrorReport) -> Result<bool, ApiError> {
        let cut = |s: String, n: usize| s.chars().take(n).collect::<String>();
        let data = serde_json::json!({
            "message": cut(r.message, 2_000),
            "source": r.source.map(|s| cut(s, 500)),
            "stack": r.stack.map(|s| cut(s, 8_000)),
            "app_version": env!("CARGO_PKG_VERSION"),
        });
        Ok(self.profile()?.telemetry().offer(Purpose::CrashReports, "ui_error", data)? == Queued::Yes)
    }

    fn offer_device_info(&self) -> Result<(), ApiError> {
        let profile = self.profile()?;
        if !profile.consents().allows(Purpose::SecurityDeviceInfo)? {
            return Ok(());
        }
        let mut offered = self.device_info_offered().lock().expect("device info lock");
        if *offered {
            return Ok(());
        }
        let mut info = device_info();
        info["installation_id"] = serde_json::Value::String(profile.installation_id()?);
        profile.telemetry().offer(Purpose::SecurityDeviceInfo, "device_info", info)?;
        *offered = true;
        Ok(())
    }
}

/// OS, version, architecture, time zone, language and app version: what §1.2(2) names, minus
/// the IP address (which the platform sees anyway) and browser (there is none).
pub fn device_info() -> serde_json::Value {
    let os_version = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())));
    let tz = std::env::var("TZ")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/timezone").ok().map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "UTC".into());
    let language = std::env::var("LC_ALL")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("LANG").ok())
        .unwrap_or_default();
    serde_json::json!({
        "os": std::env::consts::OS,
        "os_version": os_version,
        "arch": std::env::consts::ARCH,
        "time_zone": tz,
        "language": language,
        "app_version": env!("CARGO_PKG_VERSION"),
    })
}

impl Api {
    /// Cookies held for the platform, the "refuse cookies" setting and the installation id.
    pub fn cookies_view(&self) -> Result<crate::dto::CookiesView, ApiError> {
        let profile = self.profile()?;
        let client = self.platform()?;
        let cookies = client
            .gate()
            .cookies()
            .into_iter()
            .map(|c| crate::dto::CookieView {
                purpose: match c.name.as_str() {
                    awf_platform_api::SESSION_COOKIE => "login state (the platform's session)".into(),
                    awf_platform_api::ANONYMOUS_ID_COOKIE => "anonymous identifier".into(),
                    _ => "unknown".into(),
                },
                name: c.name,
                set_at: c.set_at,
            })
            .collect();
        Ok(crate::dto::CookiesView {
            refuse_cookies: profile.settings()?.refuse_cookies,
            cookies,
            installation_id: profile.installation_id()?,
        })
    }

    /// Deletes one cookie, or all.
    pub fn cookies_delete(&self, name: Option<String>) -> Result<crate::dto::CookiesView, ApiError> {
        self.platform()?.gate().delete_cookies(name.as_deref())?;
        self.cookies_view()
    }

    /// "Refuse cookies": when on, the held cookies are deleted and none are kept or sent.
    pub fn set_refuse_cookies(&self, refuse: bool) -> Result<crate::dto::CookiesView, ApiError> {
        let profile = self.profile()?;
        let mut s = profile.settings()?;
        s.refuse_cookies = refuse;
        profile.save_settings(&s)?;
        if refuse {
            self.platform()?.gate().delete_cookies(None)?;
        }
        self.cookies_view()
    }

    /// Sets the local retention ages (1 to 3,650 days) and applies them at once.
    pub fn set_retention(&self, r: crate::dto::Retention) -> Result<awf_core::PurgeReport, ApiError> {
        for (field, days) in
            [("transmission_log_days", r.transmission_log_days), ("telemetry_queue_days", r.telemetry_queue_days)]
        {
            if !(1..=3_650).contains(&days) {
                return Err(ApiError::new(crate::ErrorCode::InvalidInput, "Retention must be 1 to 3,650 days.")
                    .field(field)
                    .hint("Enter a number of days between 1 and 3650."));
            }
        }
        let profile = self.profile()?;
        let mut s = profile.settings()?;
        s.retention = r;
        profile.save_settings(&s)?;
        Ok(profile.purge_expired(time::OffsetDateTime::now_utc())?)
    }
}

impl Api {
    /// Where the user stands against the newest policy: what changed since the version they
    /// accepted (a diff with the clauses on purposes and rights marked), which granted purposes
    /// are blocked until they consent again, and which purposes are new.
    pub fn policy_status(&self) -> Result<crate::dto::PolicyStatus, ApiError> {
        let profile = self.profile()?;
        let consents = profile.consents();
        let current = self.policy_text();
        let terms = consents.terms()?;
        let accepted = consents.get(Purpose::AccountOperation)?.filter(|r| r.granted).map(|r| r.policy_version);
        let doc: Option<awf_platform_api::PolicyDocument> =
            profile.record(&format!("policy-doc-{}", current.version))?;
        let (material, changes) = doc.map(|d| (d.material, d.changes)).unwrap_or_default();
        let base = accepted.and_then(|v| self.policy_of(v));
        let (diff_en, diff_zh) = match &base {
            Some(old) if old.version < current.version => {
                (policy_diff(&old.en, &current.en), policy_diff(&old.zh_cn, &current.zh_cn))
            }
            _ => (Vec::new(), Vec::new()),
        };
        let since_accepted = accepted.unwrap_or(0);
        let new_purposes = terms
            .purposes
            .iter()
            .filter(|(p, since)| *since > since_accepted && consents.get(*p).ok().flatten().is_none())
            .map(|(p, _)| *p)
            .collect();
        Ok(crate::dto::PolicyStatus {
            accepted_version: accepted,
            current_version: current.version,
            material,
            changes,
            needs_reconsent: consents.needing_reconsent()?,
            new_purposes,
            diff_en,
            diff_zh,
        })
    }

    /// Accepts the newest policy (account operation under the new version) and consents again
    /// to the listed purposes; purposes not listed stay blocked (or off).
    pub fn policy_accept(&self, r: crate::dto::PolicyAcceptRequest) -> Result<crate::dto::PolicyStatus, ApiError> {
        self.accept_policy(crate::dto::AcceptPolicyRequest {
            policy_version: r.policy_version,
            method: Some(ConsentMethod::ConsentCentre),
        })?;
        for purpose in r.reconsent {
            if purpose != Purpose::AccountOperation {
                self.consent_set(ConsentSetRequest { purpose, granted: true, method: None })?;
            }
        }
        let mut change = ConsentChange::placeholder();
        self.settle_with_platform(&mut change);
        self.policy_status()
    }
}

/// The changed lines of a policy diff, each with the clause it falls under and whether that
/// clause is about purposes of processing (§1–§4) or the user's rights (§6–§8).
fn policy_diff(old: &str, new: &str) -> Vec<crate::dto::PolicyDiffLine> {
    let mut clause_old: Option<String> = None;
    let mut clause_new: Option<String> = None;
    let mut out = Vec::new();
    for line in awf_core::diff::lines(old, new) {
        let heading = clause_of(&line.text);
        let clause = match line.kind {
            awf_core::diff::DiffKind::Equal => {
                if heading.is_some() {
                    clause_old = heading.clone();
                    clause_new = heading;
                }
                continue;
            }
            awf_core::diff::DiffKind::Delete => {
                if heading.is_some() {
                    clause_old = heading;
                }
                clause_old.clone()
            }
            awf_core::diff::DiffKind::Insert => {
                if heading.is_some() {
                    clause_new = heading;
                }
                clause_new.clone()
            }
        };
        let concerns = clause.as_deref().and_then(|c| match c.split('.').next() {
            Some("1" | "2" | "3" | "4") => Some("purposes".to_string()),
            Some("6" | "7" | "8") => Some("rights".to_string()),
            _ => None,
        });
        out.push(crate::dto::PolicyDiffLine { kind: line.kind, text: line.text, clause, concerns });
    }
    out
}

/// `1.2`, `6.2`, … when a line starts a numbered clause.
fn clause_of(line: &str) -> Option<String> {
    let head: String = line.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let head = head.trim_end_matches('.');
    (!head.is_empty() && head.chars().next().is_some_and(|c| c.is_ascii_digit())).then(|| head.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_diffs_mark_the_clause_and_whether_it_concerns_purposes_or_rights() {
        let old = "1 How We Collect\n1.2 When You Use\n(3) We may record crash data.\n6 Management\n6.3 Complaints\nWe reply in 15 days.\n";
        let new = "1 How We Collect\n1.2 When You Use\n(3) We may record crash data and interaction events.\n6 Management\n6.3 Complaints\nWe reply in 30 days.\n";
        let d = policy_diff(old, new);
        assert_eq!(d.len(), 4, "{d:?}");
        let widened = d.iter().find(|l| l.text.contains("interaction events")).unwrap();
        assert_eq!((widened.clause.as_deref(), widened.concerns.as_deref()), (Some("1.2"), Some("purposes")));
        let narrowed = d.iter().find(|l| l.text.contains("30 days")).unwrap();
        assert_eq!((narrowed.clause.as_deref(), narrowed.concerns.as_deref()), (Some("6.3"), Some("rights")));
        assert_eq!(clause_of("4.2 Transfer"), Some("4.2".into()));
        assert_eq!(clause_of("(3) words"), None);
        assert_eq!(clause_of("一我们如何"), None);
    }
}
