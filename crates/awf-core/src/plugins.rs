//! Plugins (B2): an OpenAPI or Swagger document turned into tools an agent can call, with how
//! the service authenticates and whether it is a third party's (policy §9).
//!
//! Invariant: a plugin record never holds a secret. The API key, bearer token or OAuth2 client
//! secret lives in the OS keyring (profile secret `plugin/<id>`), and only a flag saying that
//! one is set is stored, so a plugin can be exported, bundled or synced without leaking it.

use serde::{Deserialize, Serialize};

use awf_ingest::openapi::{self, AuthScheme, ImportedApi, KeyLocation, SpecVersion, Tool};

use crate::clock;
use crate::error::{CoreError, Result};
use crate::secret::SecretString;
use crate::storage::{Batch, Storage, Tree};
use crate::sync::{self, ItemKind, ItemSync, SyncOp};

/// Limits of a plugin's editable fields.
pub mod limits {
    pub const NAME_CHARS: usize = 80;
    pub const DESCRIPTION_CHARS: usize = 2_000;
    pub const URL_CHARS: usize = 2_000;
    pub const SECRET_BYTES: usize = 8_192;
}

/// How Studio authenticates to the plugin's service. Secrets are not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PluginAuth {
    #[default]
    None,
    /// An API key sent in a header, query parameter or cookie named `param_name`.
    ApiKey { location: KeyLocation, param_name: String },
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// OAuth 2.0 client credentials: the client secret is the stored secret.
    #[serde(rename = "oauth2_client_credentials")]
    #[cfg_attr(feature = "ts", ts(rename = "oauth2_client_credentials"))]
    OAuth2ClientCredentials { token_url: String, client_id: String, scopes: Vec<String> },
}

impl PluginAuth {
    /// Whether this method needs a secret at all.
    pub fn needs_secret(&self) -> bool {
        !matches!(self, PluginAuth::None)
    }

    /// The first scheme of a document that Studio supports, as a starting point.
    fn from_schemes(schemes: &[AuthScheme]) -> PluginAuth {
        for s in schemes {
            match s {
                AuthScheme::ApiKey { param_name, location, .. } => {
                    return PluginAuth::ApiKey { location: *location, param_name: param_name.clone() }
                }
                AuthScheme::Bearer { .. } => return PluginAuth::Bearer,
                AuthScheme::OAuth2ClientCredentials { token_url, scopes, .. } => {
                    return PluginAuth::OAuth2ClientCredentials {
                        token_url: token_url.clone(),
                        client_id: String::new(),
                        scopes: scopes.clone(),
                    }
                }
                AuthScheme::Basic { .. } | AuthScheme::Unsupported { .. } => {}
            }
        }
        PluginAuth::None
    }
}

/// The third-party declaration of policy §9: a service not run by AiWellFlow, with its own
/// privacy policy that the developer (and the agent's users) can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default, deny_unknown_fields)]
pub struct ThirdParty {
    pub is_third_party: bool,
    /// Who runs the service.
    pub provider: String,
    /// Its privacy policy (https). Required when `is_third_party`.
    pub privacy_policy_url: String,
}

/// Everything a developer edits on a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PluginDraft {
    pub name: String,
    pub description: String,
    /// The base URL the tools' paths are appended to.
    pub base_url: String,
    pub auth: PluginAuth,
    pub third_party: ThirdParty,
}

fn check_url(field: &str, url: &str, https_only: bool) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    let ok_scheme = lower.starts_with("https://") || (!https_only && lower.starts_with("http://"));
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
    if !ok_scheme || rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        let want = if https_only { "an https:// address" } else { "an http:// or https:// address" };
        return Err(CoreError::invalid(field, format!("must be {want} (it is `{url}`)")));
    }
    if url.chars().count() > limits::URL_CHARS {
        return Err(CoreError::invalid(field, format!("must be at most {} characters", limits::URL_CHARS)));
    }
    Ok(())
}

impl PluginDraft {
    /// Checks every field; the first problem is returned with the field's path.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(CoreError::invalid("name", "must not be empty"));
        }
        if self.name.chars().count() > limits::NAME_CHARS {
            return Err(CoreError::invalid("name", format!("must be at most {} characters", limits::NAME_CHARS)));
        }
        if self.description.chars().count() > limits::DESCRIPTION_CHARS {
            return Err(CoreError::invalid(
                "description",
                format!("must be at most {} characters", limits::DESCRIPTION_CHARS),
            ));
        }
        if !self.base_url.is_empty() {
            check_url("base_url", &self.base_url, false)?;
        }
        match &self.auth {
            PluginAuth::ApiKey { param_name, .. } if param_name.trim().is_empty() => {
                return Err(CoreError::invalid("auth.param_name", "must name the header, query parameter or cookie"))
            }
            PluginAuth::OAuth2ClientCredentials { token_url, .. } => check_url("auth.token_url", token_url, true)?,
            _ => {}
        }
        if self.third_party.is_third_party {
            if self.third_party.provider.trim().is_empty() {
                return Err(CoreError::invalid("third_party.provider", "a third-party service must name its provider"));
            }
            if self.third_party.privacy_policy_url.is_empty() {
                return Err(CoreError::invalid(
                    "third_party.privacy_policy_url",
                    "a third-party service must link its privacy policy (policy §9)",
                ));
            }
            check_url("third_party.privacy_policy_url", &self.third_party.privacy_policy_url, true)?;
        }
        Ok(())
    }
}

/// What the document said, kept as imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PluginSpec {
    pub spec_version: SpecVersion,
    pub title: String,
    pub api_version: String,
    /// The file name it came from, or `pasted`.
    pub source_name: String,
    pub servers: Vec<String>,
    pub tools: Vec<Tool>,
    pub auth_schemes: Vec<AuthScheme>,
    pub warnings: Vec<String>,
}

/// A stored plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Plugin {
    pub id: String,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub draft: PluginDraft,
    pub spec: PluginSpec,
    /// Whether a secret for `auth` is in the keyring (the secret itself never is here).
    pub secret_set: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u32,
}

/// What the plugin list shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PluginSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tool_count: u32,
    pub is_third_party: bool,
    pub auth: String,
    pub secret_set: bool,
    pub updated_at: String,
}

impl Plugin {
    pub fn summary(&self) -> PluginSummary {
        PluginSummary {
            id: self.id.clone(),
            name: self.draft.name.clone(),
            description: self.draft.description.clone(),
            tool_count: self.spec.tools.len() as u32,
            is_third_party: self.draft.third_party.is_third_party,
            auth: match self.draft.auth {
                PluginAuth::None => "none",
                PluginAuth::ApiKey { .. } => "api_key",
                PluginAuth::Bearer => "bearer",
                PluginAuth::OAuth2ClientCredentials { .. } => "oauth2_client_credentials",
            }
            .into(),
            secret_set: self.secret_set,
            updated_at: self.updated_at.clone(),
        }
    }
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| CoreError::Corrupt { detail: format!("{what} record: {e}") })
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("domain types serialise")
}

/// The name of a plugin's secret among the profile's secrets.
pub fn secret_name(id: &str) -> String {
    format!("plugin/{id}")
}

/// Plugin operations over one profile.
pub struct Plugins<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) profile: &'a crate::Profile,
}

impl Plugins<'_> {
    fn not_found(id: &str) -> CoreError {
        CoreError::NotFound { kind: "plugin", id: id.to_string() }
    }

    /// Parses a document without storing anything: what an import would create.
    pub fn preview(text: &str) -> std::result::Result<ImportedApi, openapi::SpecError> {
        openapi::import(text)
    }

    /// Imports a document as a new plugin. The name comes from the document's title; auth is
    /// preset from the first supported security scheme; the base URL from the first server.
    pub fn import(&self, source_name: &str, text: &str) -> std::result::Result<Plugin, ImportError> {
        let api = openapi::import(text).map_err(ImportError::Spec)?;
        let name: String =
            if api.title.trim().is_empty() { source_name.to_string() } else { api.title.trim().to_string() };
        let draft = PluginDraft {
            name: name.chars().take(limits::NAME_CHARS).collect(),
            description: api.description.chars().take(limits::DESCRIPTION_CHARS).collect(),
            base_url: api.servers.iter().find(|s| check_url("", s, false).is_ok()).cloned().unwrap_or_default(),
            auth: PluginAuth::from_schemes(&api.auth_schemes),
            third_party: ThirdParty::default(),
        };
        let now = clock::now();
        let plugin = Plugin {
            id: ulid::Ulid::new().to_string(),
            draft,
            spec: PluginSpec {
                spec_version: api.spec_version,
                title: api.title,
                api_version: api.version,
                source_name: source_name.chars().take(200).collect(),
                servers: api.servers,
                tools: api.tools,
                auth_schemes: api.auth_schemes,
                warnings: api.warnings,
            },
            secret_set: false,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        self.put(&plugin).map_err(ImportError::Store)?;
        Ok(plugin)
    }

    /// Stores a local change of a plugin with its outbox entry, in one batch (see `sync`).
    pub(crate) fn put(&self, plugin: &Plugin) -> Result<()> {
        let mut b = Batch::default();
        b.put(Tree::Plugins, plugin.id.as_bytes(), encode(plugin));
        sync::enqueue(&mut b, ItemKind::Plugin, &plugin.id, SyncOp::Upsert);
        self.storage.commit(b)
    }

    pub fn get(&self, id: &str) -> Result<Plugin> {
        let bytes = self.storage.get(Tree::Plugins, id.as_bytes())?.ok_or_else(|| Self::not_found(id))?;
        decode("plugin", &bytes)
    }

    pub fn exists(&self, id: &str) -> Result<bool> {
        Ok(self.storage.get(Tree::Plugins, id.as_bytes())?.is_some())
    }

    /// Every plugin, most recently changed first.
    pub fn list(&self) -> Result<Vec<Plugin>> {
        let mut out: Vec<Plugin> = self
            .storage
            .scan_prefix(Tree::Plugins, b"")?
            .into_iter()
            .map(|(_, v)| decode("plugin", &v))
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| b.id.cmp(&a.id)));
        Ok(out)
    }

    /// Saves edited fields. A change of auth method deletes a secret set for the old one.
    pub fn update(&self, id: &str, draft: PluginDraft, expected_version: Option<u32>) -> Result<Plugin> {
        draft.validate()?;
        let mut p = self.get(id)?;
        if let Some(expected) = expected_version {
            if expected != p.version {
                return Err(CoreError::Conflict { expected, actual: p.version });
            }
        }
        if p.draft == draft {
            return Ok(p);
        }
        let auth_kind_changed = std::mem::discriminant(&p.draft.auth) != std::mem::discriminant(&draft.auth);
        if auth_kind_changed && p.secret_set {
            self.profile.delete_secret(&secret_name(id))?;
            p.secret_set = false;
        }
        p.draft = draft;
        p.version += 1;
        p.updated_at = clock::now();
        self.put(&p)?;
        Ok(p)
    }

    /// Stores the secret of the plugin's auth method in the OS keyring (`None` deletes it).
    pub fn set_secret(&self, id: &str, secret: Option<&SecretString>) -> Result<Plugin> {
        let mut p = self.get(id)?;
        match secret {
            Some(s) => {
                if !p.draft.auth.needs_secret() {
                    return Err(CoreError::invalid(
                        "secret",
                        "this plugin's auth method is `none`: it takes no secret",
                    ));
                }
                if s.expose().trim().is_empty() {
                    return Err(CoreError::invalid("secret", "must not be empty"));
                }
                if s.expose().len() > limits::SECRET_BYTES {
                    return Err(CoreError::TooLarge {
                        field: "secret".into(),
                        limit: limits::SECRET_BYTES,
                        actual: s.expose().len(),
                    });
                }
                self.profile.put_secret(&secret_name(id), s)?;
                p.secret_set = true;
            }
            None => {
                self.profile.delete_secret(&secret_name(id))?;
                p.secret_set = false;
            }
        }
        p.updated_at = clock::now();
        p.version += 1;
        self.put(&p)?;
        Ok(p)
    }

    /// Reads the plugin's secret (for calling the service; never for display or export).
    pub fn secret(&self, id: &str) -> Result<Option<SecretString>> {
        self.get(id)?;
        self.profile.secret(&secret_name(id))
    }

    /// Deletes the plugin and its secret, and detaches it from every agent.
    pub fn delete(&self, id: &str) -> Result<()> {
        self.get(id)?;
        self.profile.delete_secret(&secret_name(id))?;
        self.profile.agents().detach(id)?;
        let mut b = Batch::default();
        b.delete(Tree::Plugins, id.as_bytes());
        sync::enqueue(&mut b, ItemKind::Plugin, id, SyncOp::Delete);
        self.storage.commit(b)
    }

    /// What of a plugin is synced (never its secret).
    pub fn synced(&self, id: &str) -> Result<SyncedPlugin> {
        Ok(SyncedPlugin::of(&self.get(id)?))
    }

    /// Applies a plugin as the platform holds it, with its sync state, in one batch and without
    /// queuing it. The secret stays this device's: a plugin new here has none ("secret not set
    /// on this device", `secret_set: false`); a changed auth method deletes the old one's.
    pub fn apply_remote(&self, id: &str, body: &SyncedPlugin, state: &ItemSync) -> Result<Plugin> {
        self.apply_synced(id, body, state, false)
    }

    /// Applies the three-way merge of a conflict: a local change, queued in the same batch.
    pub fn apply_merged(&self, id: &str, body: &SyncedPlugin, state: &ItemSync) -> Result<Plugin> {
        self.apply_synced(id, body, state, true)
    }

    fn apply_synced(&self, id: &str, body: &SyncedPlugin, state: &ItemSync, queue: bool) -> Result<Plugin> {
        body.draft.validate()?;
        let plugin = match self.get(id) {
            Ok(mut p) => {
                let auth_kind_changed =
                    std::mem::discriminant(&p.draft.auth) != std::mem::discriminant(&body.draft.auth);
                if auth_kind_changed && p.secret_set {
                    self.profile.delete_secret(&secret_name(id))?;
                    p.secret_set = false;
                }
                p.draft = body.draft.clone();
                p.spec = body.spec.clone();
                p.version += 1;
                p.updated_at = clock::now();
                p
            }
            Err(CoreError::NotFound { .. }) => Plugin {
                id: id.to_string(),
                draft: body.draft.clone(),
                spec: body.spec.clone(),
                secret_set: false,
                created_at: body.created_at.clone(),
                updated_at: clock::now(),
                version: 1,
            },
            Err(e) => return Err(e),
        };
        let mut b = Batch::default();
        b.put(Tree::Plugins, id.as_bytes(), encode(&plugin));
        b.put(Tree::SyncState, sync::item_key(ItemKind::Plugin, id), encode(state));
        if queue {
            sync::enqueue(&mut b, ItemKind::Plugin, id, SyncOp::Upsert);
        } else {
            b.delete(Tree::Outbox, sync::item_key(ItemKind::Plugin, id));
        }
        self.storage.commit(b)?;
        Ok(plugin)
    }

    /// Deletes a plugin the platform deleted (a tombstone), with this device's secret of it,
    /// without queuing anything.
    pub fn delete_remote(&self, id: &str, state: &ItemSync) -> Result<()> {
        if self.exists(id)? {
            self.profile.delete_secret(&secret_name(id))?;
            self.profile.agents().detach(id)?;
        }
        let mut b = Batch::default();
        b.delete(Tree::Plugins, id.as_bytes());
        b.put(Tree::SyncState, sync::item_key(ItemKind::Plugin, id), encode(state));
        b.delete(Tree::Outbox, sync::item_key(ItemKind::Plugin, id));
        self.storage.commit(b)
    }
}

/// What of a plugin is synced: what the developer authors and imported (the editable fields
/// with the auth *method* and its placement, the document's tools and schemes, the third-party
/// declaration), not the local bookkeeping (`version`, `updated_at`) nor `secret_set`, which
/// says whether *this device's* keyring holds the secret. The record holds no secret value at
/// all (the secret is only ever in the OS keyring), so nothing needs stripping; the body is
/// built field by field so that a field added to [`Plugin`] later is not synced unawares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncedPlugin {
    pub draft: PluginDraft,
    pub spec: PluginSpec,
    pub created_at: String,
}

impl SyncedPlugin {
    pub fn of(p: &Plugin) -> Self {
        SyncedPlugin { draft: p.draft.clone(), spec: p.spec.clone(), created_at: p.created_at.clone() }
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("plugins serialise")
    }

    /// Reads a platform body; an invalid one is refused with the field at fault.
    pub fn from_value(v: &serde_json::Value) -> Result<Self> {
        let s: SyncedPlugin = serde_json::from_value(v.clone()).map_err(|e| CoreError::Invalid {
            field: "body".into(),
            reason: format!("the platform sent a plugin this version cannot read: {e}"),
        })?;
        s.draft.validate()?;
        Ok(s)
    }
}

/// Why an import failed: the document, or the store.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Spec(openapi::SpecError),
    #[error(transparent)]
    Store(#[from] CoreError),
}
