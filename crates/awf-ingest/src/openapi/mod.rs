//! OpenAPI 3.0/3.1 and Swagger 2.0 documents (JSON or YAML) to plugin tools (B2).
//!
//! [`import`] reads a document and yields one [`Tool`] per operation, the base URLs and the
//! security schemes. Every error names the place: a JSON pointer (RFC 6901) into the document
//! and the 1-based line of the source, and says why. The rules:
//!
//! - **Syntax.** The first non-blank character decides: `{` is JSON, anything else YAML (one
//!   document; duplicate keys refused in both; YAML anchors, aliases and `<<` merges applied
//!   with a bound on what aliases expand to). Syntax errors give their line and column.
//!   Nesting deeper than [`limits::MAX_DEPTH`] is refused; nothing recurses on input depth
//!   beyond that, so no input can overflow the stack.
//! - **Versions.** `swagger: "2.0"`, `openapi: 3.0.x` and `openapi: 3.1.x`; anything else is
//!   refused at `/openapi` or `/swagger`.
//! - **References.** Every `$ref` in the document (outside literal data such as `example`) must
//!   be local (`#/…`) and point at something: an external one is refused ("bundle the document
//!   first"), a dangling one too. Chains of refs are followed for path items, parameters,
//!   request bodies and security schemes; a cycle there is refused. Schemas are inlined into
//!   the tools' parameter and body schemas; a recursive schema stays `{"$ref": …}` after its
//!   first expansion, as does one whose expansion would pass [`limits::MAX_SCHEMA_DEPTH`], the
//!   size budgets, or [`limits::MAX_NESTED_REFS`] refs one inside another (with a warning).
//!   `oneOf`/`anyOf`/`allOf` are kept as written (their refs inlined). Responses are not read
//!   beyond their presence.
//! - **Operations.** Methods get, put, post, delete, options, head, patch, trace. Path-level
//!   parameters merge with the operation's (the operation wins on the same name and
//!   location). Every `{name}` of the path template must be a declared path parameter, every
//!   path parameter must be in the template and `required: true`. Swagger 2 `in: body` and
//!   `in: formData` parameters become the request body (`consumes` picks the media type);
//!   OpenAPI 3 `requestBody` needs a non-empty `content` (JSON preferred). `responses` is
//!   required in 2.0 and 3.0, optional in 3.1 (as the specifications say); `paths` likewise.
//!   Duplicate `operationId`s are refused. Deprecated operations are checked but skipped (with
//!   a warning); 3.1 webhooks are not tools (a warning says so).
//! - **Tools.** Named by `operationId`, else `<method>_<path words>` (`get_pets_by_petId`) made
//!   unique with `_2`, `_3`…; the security is the operation's or the document's (scheme names;
//!   each must be declared).
//! - **Security schemes.** apiKey (header/query/cookie), http bearer and basic, OAuth2 client
//!   credentials (3.x `flows.clientCredentials`, 2.0 `flow: application`, `tokenUrl`
//!   required); other declared kinds are kept as [`AuthScheme::Unsupported`]; an unknown type
//!   is refused.
//! - **Servers.** 3.x `servers[].url` with variables replaced by their defaults; 2.0 `schemes`
//!   (default https) + `host` + `basePath`. None declared: a warning, no base URL.
//! - **Limits.** Documents over [`limits::MAX_DOCUMENT_BYTES`] or with more than
//!   [`limits::MAX_TOOLS`] operations are refused. Nothing panics on any input.

mod convert;
mod json;
mod refs;
mod tree;
mod yaml;

use serde::{Deserialize, Serialize};

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SpecVersion {
    /// `swagger: "2.0"`.
    #[serde(rename = "swagger_2")]
    #[cfg_attr(feature = "ts", ts(rename = "swagger_2"))]
    Swagger2,
    /// `openapi: 3.0.x`.
    #[serde(rename = "openapi_3_0")]
    #[cfg_attr(feature = "ts", ts(rename = "openapi_3_0"))]
    OpenApi30,
    /// `openapi: 3.1.x`.
    #[serde(rename = "openapi_3_1")]
    #[cfg_attr(feature = "ts", ts(rename = "openapi_3_1"))]
    OpenApi31,
}

/// Where a tool parameter goes in the request (Swagger 2 body and form fields become the
/// [`RequestBody`] instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    Path,
    Query,
    Header,
    Cookie,
}

/// One parameter of a tool (path-level and operation-level parameters merged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolParameter {
    /// The name as sent: path template name, query key, header or cookie name.
    pub name: String,
    pub location: ParamLocation,
    /// Always true for path parameters (the importer refuses others).
    pub required: bool,
    /// The document's description, or empty.
    pub description: String,
    /// The parameter's JSON Schema with local `$ref`s inlined (a cycle is left as `$ref`).
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub schema: serde_json::Value,
}

/// The body of a tool's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestBody {
    /// The media type chosen: `application/json` first, then any JSON type, else the first
    /// declared (Swagger 2: from `consumes`; form fields: multipart or URL-encoded).
    pub content_type: String,
    pub required: bool,
    /// The body's JSON Schema with local `$ref`s inlined (Swagger 2 form fields: an object
    /// schema with one property per field).
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
    /// The path template as written (`/pets/{petId}`), relative to a server URL.
    pub path: String,
    /// The operation's summary, or empty.
    pub summary: String,
    /// The operation's description, or empty.
    pub description: String,
    pub parameters: Vec<ToolParameter>,
    pub request_body: Option<RequestBody>,
    /// Names of the security schemes the operation accepts (empty: none required).
    pub security: Vec<String>,
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum KeyLocation {
    Header,
    Query,
    Cookie,
}

/// A security scheme the document declares. `scheme` is the name the document gives it (what
/// [`Tool::security`] lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthScheme {
    /// A key sent as the header, query parameter or cookie named `param_name`.
    ApiKey { scheme: String, param_name: String, location: KeyLocation },
    /// HTTP `Authorization: Bearer …`.
    Bearer { scheme: String },
    /// HTTP basic authentication.
    Basic { scheme: String },
    /// OAuth2 client credentials: a token from `token_url`; `scopes` are the names declared.
    #[serde(rename = "oauth2_client_credentials")]
    #[cfg_attr(feature = "ts", ts(rename = "oauth2_client_credentials"))]
    OAuth2ClientCredentials { scheme: String, token_url: String, scopes: Vec<String> },
    /// Declared but not supported by Studio (e.g. OAuth2 authorization code, OpenID Connect).
    Unsupported { scheme: String, kind: String },
}

/// What an import yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportedApi {
    pub spec_version: SpecVersion,
    /// `info.title`.
    pub title: String,
    /// `info.version`: the API's version, not the specification's.
    pub version: String,
    /// `info.description`, or empty.
    pub description: String,
    /// Base URLs (OpenAPI `servers`, or Swagger `schemes`+`host`+`basePath`).
    pub servers: Vec<String>,
    /// One per operation, in document order (deprecated operations left out).
    pub tools: Vec<Tool>,
    /// The declared security schemes, in document order.
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
    /// 1-based line in the source text when known (for an object member, the line of its key).
    pub line: Option<u32>,
    /// Why (`` `responses` is required``).
    pub message: String,
}

/// Limits of one document.
pub mod limits {
    /// Largest document accepted, in bytes.
    pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
    /// Most operations (tools) one document may declare, deprecated ones included.
    pub const MAX_TOOLS: usize = 2_000;
    /// Deepest nesting of arrays and objects in a document.
    pub const MAX_DEPTH: usize = 100;
    /// Deepest nesting of an inlined schema: a `$ref` whose expansion would go deeper stays a
    /// `$ref`. With [`MAX_DEPTH`], it keeps an [`ImportedApi`](super::ImportedApi) serialised
    /// as JSON within `serde_json`'s default recursion limit (128) when read back.
    pub const MAX_SCHEMA_DEPTH: usize = 100;
    /// Most `$ref`s expanded one inside another in an inlined schema (deeper ones stay `$ref`s;
    /// a chain of schemas that only point at each other does not nest, so depth alone would not
    /// bound it).
    pub const MAX_NESTED_REFS: usize = 64;
    /// Most values YAML aliases may expand to in one document.
    pub const MAX_ALIAS_NODES: usize = 1_000_000;
    /// Most values one inlined schema may hold before further `$ref`s stay references.
    pub const MAX_SCHEMA_NODES: usize = 10_000;
    /// Most values inlining may produce over a whole import.
    pub const MAX_INLINED_NODES: usize = 500_000;
}

/// Parses and converts a document (JSON or YAML, detected by its first non-blank character:
/// `{` is JSON). See the module documentation for what is resolved and what is refused.
///
/// # Errors
///
/// A [`SpecError`] naming the node (pointer, line) that breaks a rule or a limit, or the line and
/// column of a syntax error.
pub fn import(text: &str) -> Result<ImportedApi, SpecError> {
    if text.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(SpecError {
            pointer: String::new(),
            line: None,
            message: format!(
                "the document is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits::MAX_DOCUMENT_BYTES
            ),
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match text.trim_start().chars().next() {
        None => {
            return Err(SpecError { pointer: String::new(), line: None, message: "the document is empty".into() });
        }
        Some('{') => json::parse(text)?,
        Some(_) => yaml::parse(text)?,
    };
    convert::convert(&root)
}
