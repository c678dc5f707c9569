//! From the parsed document to [`ImportedApi`]: version, info, servers, security schemes, and
//! one tool per operation. Every refusal names the node (pointer and line) that breaks a rule.

use std::collections::{HashMap, HashSet};

use super::limits::MAX_TOOLS;
use super::refs::Resolver;
use super::tree::{child, error_at, index, Node};
use super::{
    AuthScheme, ImportedApi, KeyLocation, ParamLocation, RequestBody, SpecError, SpecVersion, Tool, ToolParameter,
};

/// HTTP methods a path item may hold, lower case as written in documents.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Converts a parsed document.
pub(crate) fn convert(root: &Node) -> Result<ImportedApi, SpecError> {
    if root.members().is_none() {
        return Err(error_at("", root, format!("the document must be an object, found {}", root.kind())));
    }
    let version = spec_version(root)?;
    super::refs::check_all(root)?;
    let mut resolver = Resolver::new(root, version);
    let mut warnings = Vec::new();

    let (title, api_version, description) = info(root)?;
    let servers = match version {
        SpecVersion::Swagger2 => swagger_servers(root, &mut warnings)?,
        _ => openapi_servers(root, &mut warnings)?,
    };
    let auth_schemes = match version {
        SpecVersion::Swagger2 => swagger_schemes(root, &resolver)?,
        _ => openapi_schemes(root, &resolver)?,
    };
    let scheme_names: HashSet<&str> = auth_schemes.iter().map(scheme_name).collect();
    let global_security = match root.get("security") {
        Some(node) => security(node, "/security", &scheme_names)?,
        None => Vec::new(),
    };

    let operations = operations(root, version, &resolver)?;
    let tools = tools(root, version, &operations, &global_security, &scheme_names, &mut resolver, &mut warnings)?;

    if let Some(webhooks) = root.get("webhooks").and_then(Node::members) {
        if !webhooks.is_empty() {
            warnings.push(format!(
                "{} webhook(s) not imported: webhooks are requests the API sends, not operations to call",
                webhooks.len()
            ));
        }
    }
    warnings.extend(resolver.warnings());
    Ok(ImportedApi {
        spec_version: version,
        title,
        version: api_version,
        description,
        servers,
        tools,
        auth_schemes,
        warnings,
    })
}

fn spec_version(root: &Node) -> Result<SpecVersion, SpecError> {
    if let Some(node) = root.get("openapi") {
        let Some(text) = node.scalar_text() else {
            return Err(error_at(
                "/openapi",
                node,
                format!("`openapi` must be a version string, found {}", node.kind()),
            ));
        };
        return match minor_of_3(text) {
            Some("0") => Ok(SpecVersion::OpenApi30),
            Some("1") => Ok(SpecVersion::OpenApi31),
            _ => Err(error_at(
                "/openapi",
                node,
                format!("unsupported version {text} (Studio reads OpenAPI 3.0.x and 3.1.x, and Swagger 2.0)"),
            )),
        };
    }
    if let Some(node) = root.get("swagger") {
        return match node.scalar_text() {
            Some("2.0") => Ok(SpecVersion::Swagger2),
            Some(text) => Err(error_at(
                "/swagger",
                node,
                format!("unsupported version {text} (Studio reads Swagger 2.0, and OpenAPI 3.0.x and 3.1.x)"),
            )),
            None => Err(error_at("/swagger", node, format!("`swagger` must be \"2.0\", found {}", node.kind()))),
        };
    }
    Err(error_at("", root, "no version: `openapi` (3.0.x, 3.1.x) or `swagger` (\"2.0\") is required"))
}

/// The minor version of a `3.<minor>[.<patch>[-suffix]]` string.
fn minor_of_3(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("3.")?;
    let (minor, patch) = match rest.split_once('.') {
        Some((minor, patch)) => (minor, Some(patch)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let patch_ok = patch.is_none_or(|p| digits(p.split_once('-').map_or(p, |(n, _)| n)));
    (digits(minor) && patch_ok).then_some(minor)
}

/// Member `key` of an object at `pointer`, which must be a string when present.
fn opt_str<'n>(node: &'n Node, pointer: &str, key: &str) -> Result<Option<&'n str>, SpecError> {
    match node.get(key) {
        None => Ok(None),
        Some(value) => match value.as_str() {
            Some(s) => Ok(Some(s)),
            None => {
                Err(error_at(&child(pointer, key), value, format!("`{key}` must be a string, found {}", value.kind())))
            }
        },
    }
}

fn opt_bool(node: &Node, pointer: &str, key: &str) -> Result<Option<bool>, SpecError> {
    match node.get(key) {
        None => Ok(None),
        Some(value) => match value.as_bool() {
            Some(b) => Ok(Some(b)),
            None => {
                Err(error_at(&child(pointer, key), value, format!("`{key}` must be a boolean, found {}", value.kind())))
            }
        },
    }
}

/// Member `key`, which must be an object when present.
fn opt_object<'n>(node: &'n Node, pointer: &str, key: &str) -> Result<Option<&'n Node>, SpecError> {
    match node.get(key) {
        None => Ok(None),
        Some(value) if value.members().is_some() => Ok(Some(value)),
        Some(value) => {
            Err(error_at(&child(pointer, key), value, format!("`{key}` must be an object, found {}", value.kind())))
        }
    }
}

fn opt_array<'n>(node: &'n Node, pointer: &str, key: &str) -> Result<Option<&'n [Node]>, SpecError> {
    match node.get(key) {
        None => Ok(None),
        Some(value) => match value.items() {
            Some(items) => Ok(Some(items)),
            None => {
                Err(error_at(&child(pointer, key), value, format!("`{key}` must be an array, found {}", value.kind())))
            }
        },
    }
}

fn is_extension(key: &str) -> bool {
    key.starts_with("x-")
}

fn info(root: &Node) -> Result<(String, String, String), SpecError> {
    let Some(info) = opt_object(root, "", "info")? else {
        return Err(error_at("", root, "`info` is required"));
    };
    let Some(title) = opt_str(info, "/info", "title")? else {
        return Err(error_at("/info", info, "`info.title` is required"));
    };
    let version = match info.get("version") {
        None => return Err(error_at("/info", info, "`info.version` is required")),
        Some(v) => v
            .scalar_text()
            .map(str::to_string)
            .ok_or_else(|| error_at("/info/version", v, format!("`version` must be a string, found {}", v.kind())))?,
    };
    let description = opt_str(info, "/info", "description")?.unwrap_or_default();
    Ok((title.to_string(), version, description.to_string()))
}

/// OpenAPI 3 `servers`, with `{variables}` replaced by their defaults.
fn openapi_servers(root: &Node, warnings: &mut Vec<String>) -> Result<Vec<String>, SpecError> {
    let mut servers = Vec::new();
    for (i, server) in opt_array(root, "", "servers")?.unwrap_or_default().iter().enumerate() {
        let at = index("/servers", i);
        if server.members().is_none() {
            return Err(error_at(&at, server, format!("a server must be an object, found {}", server.kind())));
        }
        let Some(url) = server.get("url") else {
            return Err(error_at(&at, server, "server has no `url`"));
        };
        let Some(url_text) = url.as_str() else {
            return Err(error_at(
                &child(&at, "url"),
                url,
                format!("server url must be a string, found {}", url.kind()),
            ));
        };
        let variables = opt_object(server, &at, "variables")?;
        let mut out = String::new();
        let mut rest = url_text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
            let name = &rest[open + 1..close];
            let Some(variable) = variables.and_then(|v| v.get(name)) else {
                return Err(error_at(
                    &child(&at, "url"),
                    url,
                    format!("server variable `{name}` is not defined in `variables`"),
                ));
            };
            let var_at = child(&child(&at, "variables"), name);
            let Some(default) = variable.get("default").and_then(Node::scalar_text) else {
                return Err(error_at(&var_at, variable, format!("server variable `{name}` has no `default` string")));
            };
            out.push_str(&rest[..open]);
            out.push_str(default);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        servers.push(out);
    }
    if servers.is_empty() {
        warnings.push("no `servers`: the base URL must be set by hand".to_string());
    }
    Ok(servers)
}

/// Swagger 2 `schemes` + `host` + `basePath`.
fn swagger_servers(root: &Node, warnings: &mut Vec<String>) -> Result<Vec<String>, SpecError> {
    let host = opt_str(root, "", "host")?;
    let base_path = opt_str(root, "", "basePath")?.unwrap_or("/");
    if !base_path.starts_with('/') {
        let node = root.get("basePath").unwrap_or(root);
        return Err(error_at("/basePath", node, format!("`basePath` must start with `/`, found `{base_path}`")));
    }
    let mut schemes = Vec::new();
    for (i, scheme) in opt_array(root, "", "schemes")?.unwrap_or_default().iter().enumerate() {
        match scheme.as_str() {
            Some(s @ ("http" | "https" | "ws" | "wss")) => schemes.push(s),
            _ => {
                return Err(error_at(
                    &index("/schemes", i),
                    scheme,
                    "a scheme must be one of \"http\", \"https\", \"ws\", \"wss\"",
                ))
            }
        }
    }
    let Some(host) = host else {
        warnings.push("no `host`: the base URL must be set by hand".to_string());
        return Ok(Vec::new());
    };
    if schemes.is_empty() {
        schemes.push("https");
    }
    let base_path = base_path.trim_end_matches('/');
    Ok(schemes.into_iter().map(|scheme| format!("{scheme}://{host}{base_path}")).collect())
}

fn scheme_name(scheme: &AuthScheme) -> &str {
    match scheme {
        AuthScheme::ApiKey { scheme, .. }
        | AuthScheme::Bearer { scheme }
        | AuthScheme::Basic { scheme }
        | AuthScheme::OAuth2ClientCredentials { scheme, .. }
        | AuthScheme::Unsupported { scheme, .. } => scheme,
    }
}

/// The scheme objects of a map (`components.securitySchemes`, `securityDefinitions`), refs
/// followed: (name, object, pointer of the object).
fn scheme_objects<'a>(
    map: Option<&'a Node>,
    map_at: &str,
    resolver: &Resolver<'a>,
) -> Result<Vec<(&'a str, &'a Node, String)>, SpecError> {
    let mut out = Vec::new();
    for (name, node) in map.and_then(Node::members).unwrap_or_default() {
        if is_extension(name) {
            continue;
        }
        let (scheme, at) = resolver.follow(node, &child(map_at, name))?;
        if scheme.members().is_none() {
            return Err(error_at(
                &at,
                scheme,
                format!("security scheme `{name}` must be an object, found {}", scheme.kind()),
            ));
        }
        out.push((name.as_str(), scheme, at));
    }
    Ok(out)
}

/// An apiKey scheme (both versions).
fn api_key(name: &str, scheme: &Node, at: &str, cookie_ok: bool) -> Result<AuthScheme, SpecError> {
    let Some(param_name) = opt_str(scheme, at, "name")? else {
        return Err(error_at(at, scheme, format!("apiKey scheme `{name}` has no `name`")));
    };
    let Some(location) = opt_str(scheme, at, "in")? else {
        return Err(error_at(at, scheme, format!("apiKey scheme `{name}` has no `in`")));
    };
    let location = match location {
        "header" => KeyLocation::Header,
        "query" => KeyLocation::Query,
        "cookie" if cookie_ok => KeyLocation::Cookie,
        other => {
            let expected = if cookie_ok { "header, query or cookie" } else { "header or query" };
            let node = scheme.get("in").unwrap_or(scheme);
            return Err(error_at(
                &child(at, "in"),
                node,
                format!("unsupported apiKey location `{other}` (expected {expected})"),
            ));
        }
    };
    Ok(AuthScheme::ApiKey { scheme: name.to_string(), param_name: param_name.to_string(), location })
}

/// Names of an OAuth2 `scopes` map.
fn scopes(flow: &Node, at: &str) -> Result<Vec<String>, SpecError> {
    Ok(opt_object(flow, at, "scopes")?
        .and_then(Node::members)
        .unwrap_or_default()
        .iter()
        .map(|(k, _)| k.clone())
        .collect())
}

fn openapi_schemes(root: &Node, resolver: &Resolver<'_>) -> Result<Vec<AuthScheme>, SpecError> {
    let components = opt_object(root, "", "components")?;
    let map = match components {
        Some(c) => opt_object(c, "/components", "securitySchemes")?,
        None => None,
    };
    let mut out = Vec::new();
    for (name, scheme, at) in scheme_objects(map, "/components/securitySchemes", resolver)? {
        let Some(kind) = opt_str(scheme, &at, "type")? else {
            return Err(error_at(&at, scheme, format!("security scheme `{name}` has no `type`")));
        };
        let unsupported = |kind: &str| AuthScheme::Unsupported { scheme: name.to_string(), kind: kind.to_string() };
        out.push(match kind {
            "apiKey" => api_key(name, scheme, &at, true)?,
            "http" => {
                let Some(http) = opt_str(scheme, &at, "scheme")? else {
                    return Err(error_at(&at, scheme, format!("http scheme `{name}` has no `scheme`")));
                };
                match http.to_ascii_lowercase().as_str() {
                    "bearer" => AuthScheme::Bearer { scheme: name.to_string() },
                    "basic" => AuthScheme::Basic { scheme: name.to_string() },
                    other => unsupported(&format!("http {other}")),
                }
            }
            "oauth2" => {
                let Some(flows) = opt_object(scheme, &at, "flows")? else {
                    return Err(error_at(&at, scheme, format!("oauth2 scheme `{name}` has no `flows`")));
                };
                let flows_at = child(&at, "flows");
                match opt_object(flows, &flows_at, "clientCredentials")? {
                    Some(flow) => {
                        let flow_at = child(&flows_at, "clientCredentials");
                        let Some(token_url) = opt_str(flow, &flow_at, "tokenUrl")? else {
                            return Err(error_at(
                                &flow_at,
                                flow,
                                format!("oauth2 clientCredentials flow of `{name}` has no `tokenUrl`"),
                            ));
                        };
                        AuthScheme::OAuth2ClientCredentials {
                            scheme: name.to_string(),
                            token_url: token_url.to_string(),
                            scopes: scopes(flow, &flow_at)?,
                        }
                    }
                    None => {
                        let mut names = flows.members().unwrap_or_default().iter().map(|(k, _)| k.as_str());
                        let first = names.find(|k| !is_extension(k));
                        unsupported(&format!("oauth2 {}", first.unwrap_or("without flows")))
                    }
                }
            }
            "openIdConnect" | "mutualTLS" => unsupported(kind),
            other => {
                let node = scheme.get("type").unwrap_or(scheme);
                return Err(error_at(
                    &child(&at, "type"),
                    node,
                    format!(
                        "unknown security scheme type `{other}` \
                         (expected apiKey, http, oauth2, openIdConnect or mutualTLS)"
                    ),
                ));
            }
        });
    }
    Ok(out)
}

fn swagger_schemes(root: &Node, resolver: &Resolver<'_>) -> Result<Vec<AuthScheme>, SpecError> {
    let map = opt_object(root, "", "securityDefinitions")?;
    let mut out = Vec::new();
    for (name, scheme, at) in scheme_objects(map, "/securityDefinitions", resolver)? {
        let Some(kind) = opt_str(scheme, &at, "type")? else {
            return Err(error_at(&at, scheme, format!("security scheme `{name}` has no `type`")));
        };
        out.push(match kind {
            "basic" => AuthScheme::Basic { scheme: name.to_string() },
            "apiKey" => api_key(name, scheme, &at, false)?,
            "oauth2" => {
                let Some(flow) = opt_str(scheme, &at, "flow")? else {
                    return Err(error_at(&at, scheme, format!("oauth2 scheme `{name}` has no `flow`")));
                };
                match flow {
                    "application" => {
                        let Some(token_url) = opt_str(scheme, &at, "tokenUrl")? else {
                            return Err(error_at(
                                &at,
                                scheme,
                                format!("oauth2 application flow of `{name}` has no `tokenUrl`"),
                            ));
                        };
                        AuthScheme::OAuth2ClientCredentials {
                            scheme: name.to_string(),
                            token_url: token_url.to_string(),
                            scopes: scopes(scheme, &at)?,
                        }
                    }
                    "implicit" | "password" | "accessCode" => {
                        AuthScheme::Unsupported { scheme: name.to_string(), kind: format!("oauth2 {flow}") }
                    }
                    other => {
                        let node = scheme.get("flow").unwrap_or(scheme);
                        return Err(error_at(
                            &child(&at, "flow"),
                            node,
                            format!(
                                "unknown oauth2 flow `{other}` \
                                 (expected implicit, password, application or accessCode)"
                            ),
                        ));
                    }
                }
            }
            other => {
                let node = scheme.get("type").unwrap_or(scheme);
                return Err(error_at(
                    &child(&at, "type"),
                    node,
                    format!("unknown security scheme type `{other}` (expected basic, apiKey or oauth2)"),
                ));
            }
        });
    }
    Ok(out)
}

/// Names of the schemes a security requirement list accepts (in order, without repeats).
fn security(node: &Node, at: &str, declared: &HashSet<&str>) -> Result<Vec<String>, SpecError> {
    let Some(requirements) = node.items() else {
        return Err(error_at(at, node, format!("`security` must be an array, found {}", node.kind())));
    };
    let mut names: Vec<String> = Vec::new();
    for (i, requirement) in requirements.iter().enumerate() {
        let req_at = index(at, i);
        let Some(members) = requirement.members() else {
            return Err(error_at(&req_at, requirement, "a security requirement must be an object"));
        };
        for (name, scopes) in members {
            if !declared.contains(name.as_str()) {
                return Err(error_at(
                    &child(&req_at, name),
                    scopes,
                    format!("security scheme `{name}` is not declared"),
                ));
            }
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    Ok(names)
}

/// One operation found under `paths`.
struct Operation<'a> {
    path: &'a str,
    method: &'static str,
    node: &'a Node,
    at: String,
    /// The path item (refs followed) and its pointer.
    item: &'a Node,
    item_at: String,
}

/// Walks `paths`: checks its shape, counts operations against the limit, and refuses
/// duplicate operationIds.
fn operations<'a>(
    root: &'a Node,
    version: SpecVersion,
    resolver: &Resolver<'a>,
) -> Result<Vec<Operation<'a>>, SpecError> {
    let paths = match root.get("paths") {
        None if version == SpecVersion::OpenApi31 => return Ok(Vec::new()),
        None => return Err(error_at("", root, "`paths` is required")),
        Some(paths) => paths,
    };
    let Some(members) = paths.members() else {
        return Err(error_at("/paths", paths, format!("`paths` must be an object, found {}", paths.kind())));
    };
    let mut out = Vec::new();
    let mut ids: HashMap<&str, (String, u32)> = HashMap::new();
    for (path, item) in members {
        if is_extension(path) {
            continue;
        }
        let item_at = child("/paths", path);
        if !path.starts_with('/') {
            return Err(error_at(&item_at, item, format!("path `{path}` must start with `/`")));
        }
        let (item, item_at) = resolver.follow(item, &item_at)?;
        let Some(item_members) = item.members() else {
            return Err(error_at(&item_at, item, format!("a path item must be an object, found {}", item.kind())));
        };
        for (key, node) in item_members {
            let Some(method) = METHODS.iter().find(|m| **m == key) else { continue };
            let at = child(&item_at, key);
            if node.members().is_none() {
                return Err(error_at(&at, node, format!("an operation must be an object, found {}", node.kind())));
            }
            if let Some(id) = opt_str(node, &at, "operationId")? {
                let id_at = child(&at, "operationId");
                let line = node.get("operationId").map_or(node.line, |n| n.line);
                if let Some((first_at, first_line)) = ids.get(id) {
                    return Err(super::tree::error(
                        &id_at,
                        line,
                        format!("duplicate operationId `{id}` (also at {first_at}, line {first_line})"),
                    ));
                }
                ids.insert(id, (at.clone(), line));
            }
            out.push(Operation { path, method, node, at, item, item_at: item_at.clone() });
            if out.len() > MAX_TOOLS {
                return Err(error_at(
                    "/paths",
                    paths,
                    format!("more than {MAX_TOOLS} operations (the limit of one plugin)"),
                ));
            }
        }
    }
    Ok(out)
}

/// A parameter after refs and validation.
struct Param<'a> {
    name: &'a str,
    location: &'a str,
    required: bool,
    node: &'a Node,
    at: String,
}

/// The `parameters` list of a path item or an operation.
fn parameters<'a>(
    owner: &'a Node,
    owner_at: &str,
    version: SpecVersion,
    resolver: &Resolver<'a>,
) -> Result<Vec<Param<'a>>, SpecError> {
    let mut out: Vec<Param<'a>> = Vec::new();
    for (i, node) in opt_array(owner, owner_at, "parameters")?.unwrap_or_default().iter().enumerate() {
        let (param, at) = resolver.follow(node, &index(&child(owner_at, "parameters"), i))?;
        if param.members().is_none() {
            return Err(error_at(&at, param, format!("a parameter must be an object, found {}", param.kind())));
        }
        let Some(name) = opt_str(param, &at, "name")? else {
            return Err(error_at(&at, param, "parameter has no `name`"));
        };
        let Some(location) = opt_str(param, &at, "in")? else {
            return Err(error_at(&at, param, format!("parameter `{name}` has no `in`")));
        };
        let known: &[&str] = match version {
            SpecVersion::Swagger2 => &["path", "query", "header", "body", "formData"],
            _ => &["path", "query", "header", "cookie"],
        };
        if !known.contains(&location) {
            let node = param.get("in").unwrap_or(param);
            return Err(error_at(
                &child(&at, "in"),
                node,
                format!("unsupported parameter location `{location}` (expected {})", known.join(", ")),
            ));
        }
        let required = opt_bool(param, &at, "required")?.unwrap_or(false);
        if location == "path" && !required {
            return Err(error_at(&at, param, format!("path parameter `{name}` must be required (`required: true`)")));
        }
        if let Some(first) = out.iter().find(|p| p.name == name && p.location == location) {
            return Err(error_at(
                &at,
                param,
                format!("duplicate parameter `{name}` in {location} (also at {})", first.at),
            ));
        }
        out.push(Param { name, location, required, node: param, at });
    }
    Ok(out)
}

/// `{names}` of a path template.
fn template_names(path: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        names.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    names
}

/// `<method>_<path words>`, e.g. `get_pets_by_petId` for `GET /pets/{petId}`.
fn generated_name(method: &str, path: &str) -> String {
    let mut words = vec![method.to_string()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let (prefix, text) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(inner) if !inner.contains(['{', '}']) => ("by_", inner),
            _ => ("", segment),
        };
        let cleaned: String = text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let cleaned = cleaned.split('_').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("_");
        if !cleaned.is_empty() {
            words.push(format!("{prefix}{cleaned}"));
        }
    }
    if words.len() == 1 {
        words.push("root".to_string());
    }
    words.join("_")
}

/// The preferred media type of a list: JSON first, then any `+json`, else the first.
fn preferred<'s>(types: &[&'s str]) -> Option<&'s str> {
    types
        .iter()
        .find(|t| t.eq_ignore_ascii_case("application/json"))
        .or_else(|| types.iter().find(|t| t.to_ascii_lowercase().contains("json")))
        .or_else(|| types.first())
        .copied()
}

/// Swagger 2 `consumes` of an operation, or the document's.
fn consumes<'a>(root: &'a Node, op: &Operation<'a>) -> Result<Vec<&'a str>, SpecError> {
    let (node, at) = match op.node.get("consumes") {
        Some(_) => (op.node, op.at.clone()),
        None => (root, String::new()),
    };
    let mut out = Vec::new();
    for (i, item) in opt_array(node, &at, "consumes")?.unwrap_or_default().iter().enumerate() {
        match item.as_str() {
            Some(s) => out.push(s),
            None => return Err(error_at(&index(&child(&at, "consumes"), i), item, "a media type must be a string")),
        }
    }
    Ok(out)
}

/// Everything [`tools`] needs besides the operation.
struct Context<'c, 'a> {
    root: &'a Node,
    version: SpecVersion,
    global_security: &'c [String],
    scheme_names: &'c HashSet<&'c str>,
}

fn tools<'a>(
    root: &'a Node,
    version: SpecVersion,
    operations: &[Operation<'a>],
    global_security: &[String],
    scheme_names: &HashSet<&str>,
    resolver: &mut Resolver<'a>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Tool>, SpecError> {
    let cx = Context { root, version, global_security, scheme_names };
    let mut taken: HashSet<String> = operations
        .iter()
        .filter_map(|op| op.node.get("operationId").and_then(Node::as_str))
        .map(str::to_string)
        .collect();
    let mut tools = Vec::new();
    for op in operations {
        let name = match op.node.get("operationId").and_then(Node::as_str) {
            Some(id) => id.to_string(),
            None => {
                let base = generated_name(op.method, op.path);
                let mut name = base.clone();
                let mut n = 2;
                while taken.contains(&name) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                taken.insert(name.clone());
                name
            }
        };
        let tool = tool(&cx, op, name, resolver)?;
        if op.node.get("deprecated").and_then(Node::as_bool) == Some(true) {
            warnings.push(format!("skipped deprecated operation {} {} (`{}`)", tool.method, tool.path, tool.name));
            continue;
        }
        tools.push(tool);
    }
    Ok(tools)
}

fn tool<'a>(
    cx: &Context<'_, 'a>,
    op: &Operation<'a>,
    name: String,
    resolver: &mut Resolver<'a>,
) -> Result<Tool, SpecError> {
    let version = cx.version;
    let summary = opt_str(op.node, &op.at, "summary")?.unwrap_or_default().to_string();
    let description = opt_str(op.node, &op.at, "description")?.unwrap_or_default().to_string();
    opt_bool(op.node, &op.at, "deprecated")?;

    match op.node.get("responses") {
        None if version != SpecVersion::OpenApi31 => {
            return Err(error_at(&op.at, op.node, "`responses` is required"));
        }
        Some(responses) if responses.members().is_none() => {
            return Err(error_at(
                &child(&op.at, "responses"),
                responses,
                format!("`responses` must be an object, found {}", responses.kind()),
            ));
        }
        _ => {}
    }

    // Path-level parameters, overridden by the operation's own (same name and location).
    let own = parameters(op.node, &op.at, version, resolver)?;
    let mut params: Vec<Param<'a>> = parameters(op.item, &op.item_at, version, resolver)?
        .into_iter()
        .filter(|p| !own.iter().any(|o| o.name == p.name && o.location == p.location))
        .collect();
    params.extend(own);

    let template = template_names(op.path);
    for wanted in &template {
        if !params.iter().any(|p| p.location == "path" && p.name == *wanted) {
            return Err(error_at(
                &op.at,
                op.node,
                format!("parameter `{wanted}` is in the path template but not declared"),
            ));
        }
    }
    if let Some(stray) = params.iter().find(|p| p.location == "path" && !template.contains(&p.name)) {
        return Err(error_at(
            &stray.at,
            stray.node,
            format!("path parameter `{}` is not in the path template `{}`", stray.name, op.path),
        ));
    }

    let context = format!("tool `{name}`");
    let mut parameters = Vec::new();
    let mut body: Option<&Param<'a>> = None;
    let mut form: Vec<&Param<'a>> = Vec::new();
    for param in &params {
        let location = match param.location {
            "path" => ParamLocation::Path,
            "query" => ParamLocation::Query,
            "header" => ParamLocation::Header,
            "cookie" => ParamLocation::Cookie,
            "body" => {
                if let Some(first) = body {
                    return Err(error_at(
                        &param.at,
                        param.node,
                        format!("more than one body parameter (also `{}` at {})", first.name, first.at),
                    ));
                }
                body = Some(param);
                continue;
            }
            _ => {
                form.push(param);
                continue;
            }
        };
        parameters.push(ToolParameter {
            name: param.name.to_string(),
            location,
            required: param.required,
            description: opt_str(param.node, &param.at, "description")?.unwrap_or_default().to_string(),
            schema: parameter_schema(param, version, resolver, &context, 0)?,
        });
    }

    let request_body = match version {
        SpecVersion::Swagger2 => swagger_body(cx, op, body, &form, resolver, &context)?,
        _ => openapi_body(op, resolver, &context)?,
    };

    let security = match op.node.get("security") {
        Some(node) => security(node, &child(&op.at, "security"), cx.scheme_names)?,
        None => cx.global_security.to_vec(),
    };

    Ok(Tool {
        name,
        method: op.method.to_ascii_uppercase(),
        path: op.path.to_string(),
        summary,
        description,
        parameters,
        request_body,
        security,
    })
}

/// Swagger 2 keywords a non-body parameter shares with JSON Schema.
const SWAGGER_SCHEMA_KEYS: [&str; 16] = [
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

/// The schema of a non-body parameter, `depth` levels inside the tool's schema.
fn parameter_schema(
    param: &Param<'_>,
    version: SpecVersion,
    resolver: &mut Resolver<'_>,
    context: &str,
    depth: usize,
) -> Result<serde_json::Value, SpecError> {
    if version == SpecVersion::Swagger2 {
        let Some(kind) = param.node.get("type") else {
            return Err(error_at(&param.at, param.node, format!("parameter `{}` has no `type`", param.name)));
        };
        let mut schema = serde_json::Map::new();
        for key in SWAGGER_SCHEMA_KEYS {
            if let Some(value) = param.node.get(key) {
                let v = resolver.schema_at_depth(value, &child(&param.at, key), context, depth + 1)?;
                schema.insert(key.to_string(), v);
            }
        }
        if kind.as_str() == Some("file") {
            schema.insert("type".into(), "string".into());
            schema.insert("format".into(), "binary".into());
        }
        return Ok(serde_json::Value::Object(schema));
    }
    if let Some(schema) = param.node.get("schema") {
        return resolver.schema_at_depth(schema, &child(&param.at, "schema"), context, depth);
    }
    if let Some(content) = opt_object(param.node, &param.at, "content")? {
        let content_at = child(&param.at, "content");
        if let Some((media, entry)) = content.members().and_then(<[_]>::first) {
            return match entry.get("schema") {
                Some(schema) => {
                    resolver.schema_at_depth(schema, &child(&child(&content_at, media), "schema"), context, depth)
                }
                None => Ok(serde_json::json!({})),
            };
        }
    }
    Err(error_at(&param.at, param.node, format!("parameter `{}` needs a `schema` or a `content`", param.name)))
}

fn openapi_body(
    op: &Operation<'_>,
    resolver: &mut Resolver<'_>,
    context: &str,
) -> Result<Option<RequestBody>, SpecError> {
    let Some(node) = op.node.get("requestBody") else { return Ok(None) };
    let (body, at) = resolver.follow(node, &child(&op.at, "requestBody"))?;
    if body.members().is_none() {
        return Err(error_at(&at, body, format!("`requestBody` must be an object, found {}", body.kind())));
    }
    let content = opt_object(body, &at, "content")?;
    let entries = content.and_then(Node::members).unwrap_or_default();
    let types: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let Some(content_type) = preferred(&types) else {
        return Err(error_at(&at, body, "`requestBody` needs a non-empty `content`"));
    };
    let entry = content.and_then(|c| c.get(content_type)).unwrap_or(body);
    let entry_at = child(&child(&at, "content"), content_type);
    let schema = match entry.get("schema") {
        Some(schema) => resolver.schema(schema, &child(&entry_at, "schema"), context)?,
        None => serde_json::json!({}),
    };
    Ok(Some(RequestBody {
        content_type: content_type.to_string(),
        required: opt_bool(body, &at, "required")?.unwrap_or(false),
        schema,
    }))
}

fn swagger_body<'a>(
    cx: &Context<'_, 'a>,
    op: &Operation<'a>,
    body: Option<&Param<'a>>,
    form: &[&Param<'a>],
    resolver: &mut Resolver<'a>,
    context: &str,
) -> Result<Option<RequestBody>, SpecError> {
    let consumes = consumes(cx.root, op)?;
    if let (Some(body), Some(first)) = (body, form.first()) {
        return Err(error_at(
            &body.at,
            body.node,
            format!("an operation cannot have both a body parameter and formData parameters (`{}`)", first.name),
        ));
    }
    if let Some(body) = body {
        let Some(schema) = body.node.get("schema") else {
            return Err(error_at(&body.at, body.node, format!("body parameter `{}` has no `schema`", body.name)));
        };
        return Ok(Some(RequestBody {
            content_type: preferred(&consumes).unwrap_or("application/json").to_string(),
            required: body.required,
            schema: resolver.schema(schema, &child(&body.at, "schema"), context)?,
        }));
    }
    if form.is_empty() {
        return Ok(None);
    }
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    let mut has_file = false;
    for param in form {
        let mut schema = parameter_schema(param, SpecVersion::Swagger2, resolver, context, 2)?;
        has_file |= param.node.get("type").and_then(Node::as_str) == Some("file");
        if let Some(description) = opt_str(param.node, &param.at, "description")? {
            if let serde_json::Value::Object(map) = &mut schema {
                map.insert("description".into(), description.into());
            }
        }
        properties.insert(param.name.to_string(), schema);
        if param.required {
            required.push(serde_json::Value::String(param.name.to_string()));
        }
    }
    let form_types = ["multipart/form-data", "application/x-www-form-urlencoded"];
    let content_type = consumes
        .iter()
        .copied()
        .find(|t| form_types.iter().any(|f| t.eq_ignore_ascii_case(f)))
        .unwrap_or(if has_file { form_types[0] } else { form_types[1] });
    let mut schema = serde_json::Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), serde_json::Value::Object(properties));
    let any_required = !required.is_empty();
    if any_required {
        schema.insert("required".into(), serde_json::Value::Array(required));
    }
    Ok(Some(RequestBody {
        content_type: content_type.to_string(),
        required: any_required,
        schema: serde_json::Value::Object(schema),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names() {
        assert_eq!(generated_name("get", "/pets/{petId}"), "get_pets_by_petId");
        assert_eq!(generated_name("post", "/"), "post_root");
        assert_eq!(generated_name("get", "/files/{name}.{ext}"), "get_files_name_ext");
        assert_eq!(generated_name("delete", "/pet-types/{id}/"), "delete_pet_types_by_id");
    }

    #[test]
    fn versions() {
        assert_eq!(minor_of_3("3.0.3"), Some("0"));
        assert_eq!(minor_of_3("3.1.0"), Some("1"));
        assert_eq!(minor_of_3("3.1"), Some("1"));
        assert_eq!(minor_of_3("3.0.0-rc2"), Some("0"));
        assert_eq!(minor_of_3("3.2.0"), Some("2"));
        assert_eq!(minor_of_3("3.x"), None);
        assert_eq!(minor_of_3("4.0.0"), None);
    }

    #[test]
    fn template() {
        assert_eq!(template_names("/a/{b}/c/{d}.{e}"), vec!["b", "d", "e"]);
        assert_eq!(template_names("/a/{b"), Vec::<&str>::new());
    }
}
