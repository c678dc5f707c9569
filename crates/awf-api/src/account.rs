//! Account and platform commands: sign-up with the age gate, log-in, log-out, profile, the
//! platform address, connectivity and the transmission log. Everything that reaches the
//! platform goes through the profile's [`PlatformClient`] (the egress gate).

use std::sync::Arc;

use awf_core::{ConsentMethod, ConsentRecord, Purpose};
use awf_egress::{default_platform_url, Gate, PlatformAddress, PlatformClient};
use awf_platform_api::age::{age_band, age_on, parse_date_of_birth};
use awf_platform_api::{AccountProfile, AgeBand, GuardianConsent, LoginRequest, RegisterRequest};

use crate::dto::{
    AcceptPolicyRequest, LoginForm, PlatformInfo, PlatformStatus, PolicyText, RegisterForm, SetPlatformUrl,
    SettingsView,
};
use crate::error::{ApiError, ErrorCode};
use crate::session::Api;

/// The policy version that ships with this build (`assets/policy/v1`).
pub const BUNDLED_POLICY_VERSION: u32 = 1;
const POLICY_ZH: &str = include_str!("../../../assets/policy/v1/zh-CN.txt");
const POLICY_EN: &str = include_str!("../../../assets/policy/v1/en.txt");

impl Api {
    /// The egress gate and platform client of the open profile, built on first use.
    pub fn platform(&self) -> Result<Arc<PlatformClient>, ApiError> {
        let profile = self.profile()?;
        let mut slot = self.platform_slot().lock().expect("platform lock");
        if let Some(c) = slot.as_ref() {
            if Arc::ptr_eq(c.gate().profile(), &profile) {
                return Ok(c.clone());
            }
        }
        let settings = profile.settings()?;
        let url = settings.platform_url.clone().unwrap_or_else(default_platform_url);
        let address = PlatformAddress::parse(&url).or_else(|_| PlatformAddress::parse(&default_platform_url()))?;
        let client = Arc::new(PlatformClient::new(Gate::new(profile, address)));
        *slot = Some(client.clone());
        Ok(client)
    }

    /// Connectivity and session as known now, without asking the platform.
    pub fn platform_status(&self) -> Result<PlatformStatus, ApiError> {
        let client = self.platform()?;
        let gate = client.gate();
        let session = client.session()?;
        let c = gate.connectivity();
        Ok(PlatformStatus {
            platform_url: gate.address().as_str(),
            online: c.online,
            last_checked: c.last_checked,
            last_error: c.last_error,
            platform: self.platform_info_cache().lock().expect("info lock").clone(),
            signed_in: session.signed_in,
            account: session.account,
            policy_accepted: gate.profile().consents().allows(Purpose::AccountOperation)?,
        })
    }

    /// Asks the platform for its capabilities (the connectivity probe), then reports the status.
    /// Never fails because the platform is down: that is reported as `online: false`.
    pub fn platform_check(&self) -> Result<PlatformStatus, ApiError> {
        // A cancellation asked while offline goes first: it completes once the platform answers.
        if self.is_locked() {
            let _ = self.resume_cancellation();
        }
        let client = self.platform()?;
        match client.capabilities() {
            Ok(c) => {
                let _ = self.learn_policy(&client, c.policy_version);
                *self.platform_info_cache().lock().expect("info lock") = Some(PlatformInfo {
                    server: c.server,
                    api_version: c.api_version,
                    region: c.region,
                    policy_version: c.policy_version,
                    dev_mode: c.dev_mode,
                });
            }
            Err(awf_egress::EgressError::Unreachable { .. }) | Err(awf_egress::EgressError::BadResponse { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let _ = client.gate().profile().purge_expired(time::OffsetDateTime::now_utc());
        // Back online and signed in: settle what is owed (receipts, deletions, queued telemetry
        // of granted purposes). Failures stay owed for the next check.
        if client.gate().connectivity().online && client.session().is_ok_and(|s| s.signed_in) {
            let _ = self.flush_due();
        }
        self.platform_status()
    }

    /// The newest privacy policy known: the one shipped with the app, or a newer one the
    /// platform published.
    pub fn policy_text(&self) -> PolicyText {
        let newest = self.profile().ok().and_then(|p| {
            let v = p.consents().terms().ok()?.version;
            (v > BUNDLED_POLICY_VERSION)
                .then(|| p.record::<awf_platform_api::PolicyDocument>(&policy_record(v)).ok().flatten())
                .flatten()
        });
        match newest {
            Some(d) => PolicyText { version: d.version, zh_cn: d.zh_cn, en: d.en },
            None => {
                PolicyText { version: BUNDLED_POLICY_VERSION, zh_cn: POLICY_ZH.to_string(), en: POLICY_EN.to_string() }
            }
        }
    }

    /// The policy text of `version`, if known here.
    pub(crate) fn policy_of(&self, version: u32) -> Option<PolicyText> {
        if version == BUNDLED_POLICY_VERSION {
            return Some(PolicyText { version, zh_cn: POLICY_ZH.to_string(), en: POLICY_EN.to_string() });
        }
        let d = self.profile().ok()?.record::<awf_platform_api::PolicyDocument>(&policy_record(version)).ok()??;
        Some(PolicyText { version, zh_cn: d.zh_cn, en: d.en })
    }

    /// Fetches a newer policy the platform announced, keeps it, and records its terms.
    fn learn_policy(&self, client: &PlatformClient, announced: u32) -> Result<(), ApiError> {
        let profile = self.profile()?;
        if announced <= profile.consents().terms()?.version.max(BUNDLED_POLICY_VERSION) {
            return Ok(());
        }
        let doc = client.policy()?;
        profile.save_record(&policy_record(doc.version), Some(&doc))?;
        profile.consents().set_terms(&awf_core::consent::PolicyTerms {
            version: doc.version,
            purposes: doc.purposes.iter().map(|t| (t.purpose, t.since_version)).collect(),
        })?;
        Ok(())
    }

    /// Records acceptance of the policy: grants the account-operation purpose.
    pub fn accept_policy(&self, r: AcceptPolicyRequest) -> Result<ConsentRecord, ApiError> {
        let current = self.policy_text().version;
        if r.policy_version != current {
            return Err(ApiError::new(
                ErrorCode::PolicyOutdated,
                format!("Policy version {} is not the one this app shows ({current}).", r.policy_version),
            )
            .field("policy_version")
            .hint("Reload the policy and accept the version shown."));
        }
        let method = r.method.unwrap_or(ConsentMethod::SignUpForm);
        Ok(self.profile()?.consents().set(Purpose::AccountOperation, true, r.policy_version, method)?)
    }

    /// Asks the platform to text a sign-up code to `phone`.
    pub fn request_sms_code(&self, phone: String) -> Result<awf_platform_api::SmsCodeSent, ApiError> {
        Ok(self.platform()?.request_sms_code(phone.trim())?)
    }

    /// Registers an account after checking the age gate here too (§7).
    pub fn register(&self, f: RegisterForm) -> Result<AccountProfile, ApiError> {
        let today = time::OffsetDateTime::now_utc().date();
        let dob = parse_date_of_birth(f.date_of_birth.trim(), today)
            .map_err(|e| ApiError::new(ErrorCode::InvalidInput, e.message()).field("date_of_birth"))?;
        let band = age_band(age_on(dob, today));
        let guardian = match band {
            AgeBand::Adult => None,
            AgeBand::Minor | AgeBand::Child => Some(check_guardian(f.guardian)?),
        };
        let client = self.platform()?;
        let policy_version = client
            .gate()
            .profile()
            .consents()
            .get(Purpose::AccountOperation)?
            .filter(|c| c.granted)
            .map_or(self.policy_text().version, |c| c.policy_version);
        let account = client.register(RegisterRequest {
            account_name: f.account_name.trim().to_string(),
            phone: f.phone.trim().to_string(),
            password: f.password,
            sms_code: f.sms_code.trim().to_string(),
            date_of_birth: f.date_of_birth.trim().to_string(),
            guardian,
            policy_version,
        })?;
        // The receipt of the policy acceptance (and any other consent) goes to the new account.
        let _ = client.send_receipts();
        Ok(account)
    }

    /// Signs in.
    pub fn login(&self, f: LoginForm) -> Result<AccountProfile, ApiError> {
        if f.login.trim().is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidInput, "Enter your account name or phone.").field("login"));
        }
        if f.password.is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidInput, "Enter your password.").field("password"));
        }
        let client = self.platform()?;
        let account = client.login(LoginRequest { login: f.login.trim().to_string(), password: f.password })?;
        let _ = client.send_receipts();
        Ok(account)
    }

    /// Signs out (tokens are deleted here even when the platform cannot be told).
    pub fn logout(&self) -> Result<PlatformStatus, ApiError> {
        let client = self.platform()?;
        match client.logout() {
            Ok(()) | Err(awf_egress::EgressError::Unreachable { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.platform_status()
    }

    /// The settings as the UI shows them.
    pub fn settings_view(&self) -> Result<SettingsView, ApiError> {
        let s = self.profile()?.settings()?;
        Ok(SettingsView {
            platform_url: self.platform()?.gate().address().as_str(),
            custom_platform_url: s.platform_url.is_some(),
            default_platform_url: default_platform_url(),
        })
    }

    /// Changes the platform address (`None` goes back to the default). Refuses a non-loopback
    /// `http://` address; signs out of the previous platform's session locally.
    pub fn set_platform_url(&self, r: SetPlatformUrl) -> Result<SettingsView, ApiError> {
        let profile = self.profile()?;
        let url = r.url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        let address = PlatformAddress::parse(url.as_deref().unwrap_or(&default_platform_url()))?;
        let client = self.platform()?;
        if client.gate().address() != address {
            client.forget_session()?;
            client.gate().set_address(address);
            *self.platform_info_cache().lock().expect("info lock") = None;
        }
        let mut settings = profile.settings()?;
        settings.platform_url = url;
        profile.save_settings(&settings)?;
        self.settings_view()
    }
}

fn check_guardian(g: Option<GuardianConsent>) -> Result<GuardianConsent, ApiError> {
    let need = |msg: &str| {
        ApiError::new(ErrorCode::GuardianRequired, msg.to_string())
            .field("guardian")
            .hint("Users under 18 need a guardian's consent (privacy policy §7): the guardian's name and phone, and their confirmation.")
    };
    let g = g.ok_or_else(|| need("You are under 18: a guardian's consent is required to register."))?;
    if g.name.trim().is_empty() {
        return Err(need("Enter your guardian's name.").field("guardian.name"));
    }
    if g.phone.trim().is_empty() {
        return Err(need("Enter your guardian's phone.").field("guardian.phone"));
    }
    if !g.attestation {
        return Err(need("Your guardian must confirm that they consent.").field("guardian.attestation"));
    }
    Ok(GuardianConsent { name: g.name.trim().to_string(), phone: g.phone.trim().to_string(), attestation: true })
}

/// The record name under which a fetched policy version is kept.
fn policy_record(version: u32) -> String {
    format!("policy-doc-{version}")
}
