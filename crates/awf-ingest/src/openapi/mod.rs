//! OpenAPI 3.0/3.1 and Swagger 2.0 documents (JSON or YAML) to plugin tools (B2).
//! Local `$ref`s are resolved (with a cycle guard); external ones are refused. Every error
//! names the place: a JSON pointer into the document, and the line when the source has one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SpecVersion {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolParameter {
    pub name: String,
    pub location: ParamLocation,
    pub required: bool,
    pub description: String,
    /// The parameter's JSON Schema with local `$ref`s inlined (a cycle is left as `$ref`).
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub schema: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestBody {
    pub content_type: String,
    pub required: bool,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub schema: serde_json::Value,
}

/// One operation as a tool an agent can call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tool {
    /// `operationId`, or `<method>_<path words>` when absent; unique within the plugin.
    pub name: String,
    /// Upper-case HTTP method.
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub parameters: Vec<ToolParameter>,
    pub request_body: Option<RequestBody>,
    /// Names of the security schemes the operation accepts (empty: none required).
    pub security: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum KeyLocation {
    Header,
    Query,
    Cookie,
}

/// A security scheme the document declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthScheme {
    ApiKey { scheme: String, param_name: String, location: KeyLocation },
    Bearer { scheme: String },
    Basic { scheme: String },
    OAuth2ClientCredentials { scheme: String, token_url: String, scopes: Vec<String> },
    /// Declared but not supported by Studio (e.g. OAuth2 authorization code, OpenID Connect).
    Unsupported { scheme: String, kind: String },
}

/// What an import yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportedApi {
    pub spec_version: SpecVersion,
    pub title: String,
    pub version: String,
    pub description: String,
    /// Base URLs (OpenAPI `servers`, or Swagger `schemes`+`host`+`basePath`).
    pub servers: Vec<String>,
    pub tools: Vec<Tool>,
    pub auth_schemes: Vec<AuthScheme>,
    /// Things accepted but worth saying (e.g. an operation skipped because it is deprecated).
    pub warnings: Vec<String>,
}

/// Why a document was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{}{}: {message}", if pointer.is_empty() { "document".to_string() } else { format!("at {pointer}") }, line.map(|l| format!(" (line {l})")).unwrap_or_default())]
pub struct SpecError {
    /// JSON pointer (RFC 6901) to the offending node; empty for the whole document.
    pub pointer: String,
    /// 1-based line in the source text when known.
    pub line: Option<u32>,
    pub message: String,
}

/// Limits of one document.
pub mod limits {
    pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
    pub const MAX_TOOLS: usize = 2_000;
}

/// Parses and converts a document (JSON or YAML, detected).
pub fn import(text: &str) -> Result<ImportedApi, SpecError> {
    let _ = text;
    todo!("openapi::import")
}
