//! `$ref`s: checking every one in the document, following chains of them to an object
//! (parameters, request bodies, path items, security schemes), and inlining schemas.
//!
//! Only local references (`#/…`, a JSON pointer into the same document, `%`-escapes decoded)
//! are followed. Schema inlining stops — leaving `{"$ref": …}` in place — at a cycle (a schema
//! already being expanded on the way down), when the result would nest deeper than
//! [`limits::MAX_SCHEMA_DEPTH`](super::limits::MAX_SCHEMA_DEPTH) levels, or when one schema or
//! the whole import reached its size budget; the last two add a warning.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::limits::{MAX_INLINED_NODES, MAX_NESTED_REFS, MAX_SCHEMA_DEPTH, MAX_SCHEMA_NODES};
use super::tree::{child, error_at, lookup, percent_decode, split_pointer, Node, Path, Value};
use super::{SpecError, SpecVersion};

/// Parses a `$ref` value into pointer tokens, or says why it cannot be followed.
fn ref_tokens(reference: &str) -> Result<Vec<String>, String> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(format!("external $ref `{reference}` is not supported: bundle the document first"));
    };
    percent_decode(fragment)
        .and_then(|decoded| split_pointer(&decoded))
        .ok_or_else(|| format!("$ref `{reference}` is not a JSON pointer (`#/…`)"))
}

/// Canonical pointer of a `$ref` target (escapes normalised), for messages and cycle checks.
fn canonical(tokens: &[String]) -> String {
    tokens.iter().fold(String::new(), |acc, t| child(&acc, t))
}

/// Finds the target of `reference`, written at `at` (the `$ref` member).
fn target<'a>(root: &'a Node, reference: &str, at: Path<'_>, ref_node: &Node) -> Result<(&'a Node, String), SpecError> {
    let tokens = ref_tokens(reference).map_err(|m| error_at(&at.render(), ref_node, m))?;
    let node = lookup(root, &tokens)
        .ok_or_else(|| error_at(&at.render(), ref_node, format!("$ref `{reference}` points at nothing")))?;
    Ok((node, canonical(&tokens)))
}

/// The `$ref` of an object (a string member), if it has one.
pub(crate) fn ref_of(node: &Node) -> Option<(&str, &Node)> {
    let member = node.get("$ref")?;
    Some((member.as_str()?, member))
}

/// Checks every `$ref` in the document: it must be local and point at something. Literal data
/// (`example`, the `value` of Example Objects, `default`, `enum`, `const`) is not looked into;
/// those words are only keywords outside maps of names (`properties`, `responses`, …), where a
/// schema or a response may well be called `default`.
pub(crate) fn check_all(root: &Node) -> Result<(), SpecError> {
    let mut checked = HashSet::new();
    walk(root, root, Path::At(""), false, &mut checked)
}

/// Keys whose value maps names (chosen by the document's author) to objects.
const NAME_MAPS: [&str; 22] = [
    "paths",
    "webhooks",
    "components",
    "schemas",
    "responses",
    "parameters",
    "requestBodies",
    "headers",
    "securitySchemes",
    "securityDefinitions",
    "definitions",
    "links",
    "callbacks",
    "pathItems",
    "content",
    "encoding",
    "variables",
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "scopes",
];

/// [`check_all`] below `node`; `names` when `node` is one of the [`NAME_MAPS`].
fn walk<'a>(
    root: &Node,
    node: &'a Node,
    pointer: Path<'_>,
    names: bool,
    checked: &mut HashSet<&'a str>,
) -> Result<(), SpecError> {
    match &node.value {
        Value::Object(members) => {
            for (key, value) in members {
                let at = Path::Key(&pointer, key);
                if !names {
                    if key == "$ref" {
                        if let Some(reference) = value.as_str() {
                            if checked.insert(reference) {
                                target(root, reference, at, value)?;
                            }
                        }
                        continue;
                    }
                    if matches!(key.as_str(), "example" | "default" | "enum" | "const") {
                        continue;
                    }
                    if key == "examples" {
                        // OpenAPI Example Objects may be `$ref`s; their `value` is literal, as is
                        // all of a JSON Schema `examples` array.
                        for (name, example) in value.members().unwrap_or_default() {
                            if let Some((reference, ref_node)) = ref_of(example) {
                                target(root, reference, Path::Key(&Path::Key(&at, name), "$ref"), ref_node)?;
                            }
                        }
                        continue;
                    }
                }
                walk(root, value, at, !names && NAME_MAPS.contains(&key.as_str()), checked)?;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(root, item, Path::Index(&pointer, i), false, checked)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reference resolution and schema inlining over one document.
pub(crate) struct Resolver<'a> {
    root: &'a Node,
    version: SpecVersion,
    /// Targets of the `$ref` strings met so far, with their canonical pointers and heights.
    targets: HashMap<String, Target<'a>>,
    /// Nodes the whole import may still produce by inlining.
    budget: usize,
    /// `$ref`s a limit left as references: per tool (in order), the references and why.
    kept: Vec<(String, Vec<String>, BTreeSet<Kept>)>,
    /// The first tool whose schemas met the whole import's budget.
    exhausted_at: Option<String>,
}

impl<'a> Resolver<'a> {
    pub fn new(root: &'a Node, version: SpecVersion) -> Resolver<'a> {
        Resolver {
            root,
            version,
            targets: HashMap::new(),
            budget: MAX_INLINED_NODES,
            kept: Vec::new(),
            exhausted_at: None,
        }
    }

    /// Follows a chain of `$ref`s from `node` (at `pointer`) to the object it names. Returns the
    /// object and its pointer (where its own members' errors are reported).
    pub fn follow(&self, node: &'a Node, pointer: &str) -> Result<(&'a Node, String), SpecError> {
        let mut current = node;
        let mut at = pointer.to_string();
        let mut seen: Vec<String> = Vec::new();
        let mut visited: HashSet<String> = HashSet::new();
        while let Some((reference, ref_node)) = ref_of(current) {
            let ref_at = child(&at, "$ref");
            let (next, next_at) = target(self.root, reference, Path::At(&ref_at), ref_node)?;
            if !visited.insert(next_at.clone()) || next_at == pointer {
                // Reported at the `$ref` the chain started from.
                let (first_at, first) =
                    ref_of(node).map(|(_, n)| (child(pointer, "$ref"), n)).unwrap_or((ref_at, ref_node));
                seen.push(next_at);
                return Err(error_at(
                    &first_at,
                    first,
                    format!("$ref cycle: {} → {}", pointer_or_root(pointer), seen.join(" → ")),
                ));
            }
            seen.push(next_at.clone());
            current = next;
            at = next_at;
        }
        Ok((current, at))
    }

    /// The schema at `node` as JSON with local `$ref`s inlined. `context` names the tool in
    /// warnings.
    pub fn schema(&mut self, node: &Node, pointer: &str, context: &str) -> Result<serde_json::Value, SpecError> {
        self.schema_at_depth(node, pointer, context, 0)
    }

    /// Like [`Resolver::schema`] for a schema that will sit `depth` levels inside another.
    pub fn schema_at_depth(
        &mut self,
        node: &Node,
        pointer: &str,
        context: &str,
        depth: usize,
    ) -> Result<serde_json::Value, SpecError> {
        let mut inliner = Inliner { resolver: self, context, stack: Vec::new(), budget: MAX_SCHEMA_NODES };
        inliner.inline(node, Path::At(pointer), depth)
    }

    /// What the limits left unexpanded, one warning per tool (and one for the whole import).
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .kept
            .iter()
            .map(|(context, refs, why)| {
                let why = why.iter().map(|k| k.describe()).collect::<Vec<_>>().join("; ");
                match refs.as_slice() {
                    [one] => format!("{context}: `$ref` `{one}` left as a reference: {why}"),
                    many => {
                        let listed = many.iter().take(3).map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ");
                        let more = if many.len() > 3 { ", …" } else { "" };
                        format!("{context}: {} `$ref`s left as references ({listed}{more}): {why}", many.len())
                    }
                }
            })
            .collect();
        if let Some(first) = &self.exhausted_at {
            out.push(format!(
                "inlined schemas reached the limit of {MAX_INLINED_NODES} values for the whole document: \
                 from {first} on, `$ref`s stay references"
            ));
        }
        out
    }

    fn keep(&mut self, context: &str, reference: &str, why: Kept) {
        let at = match self.kept.iter().position(|(c, _, _)| c == context) {
            Some(i) => i,
            None => {
                self.kept.push((context.to_string(), Vec::new(), BTreeSet::new()));
                self.kept.len() - 1
            }
        };
        let entry = &mut self.kept[at];
        if !entry.1.iter().any(|r| r == reference) {
            entry.1.push(reference.to_string());
        }
        entry.2.insert(why);
    }

    /// The target of a schema `$ref` (looked up once per distinct string).
    fn target(&mut self, reference: &str, at: Path<'_>, ref_node: &Node) -> Result<Target<'a>, SpecError> {
        if let Some(found) = self.targets.get(reference) {
            return Ok(found.clone());
        }
        let (node, pointer) = target(self.root, reference, at, ref_node)?;
        let found = Target { node, pointer, height: node.height() };
        self.targets.insert(reference.to_string(), found.clone());
        Ok(found)
    }
}

/// Where a `$ref` leads.
#[derive(Clone)]
struct Target<'a> {
    node: &'a Node,
    /// Canonical pointer (cycles are detected on it).
    pointer: String,
    /// Levels of nesting of the target as written.
    height: usize,
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() {
        "#"
    } else {
        pointer
    }
}

/// One schema being inlined.
struct Inliner<'r, 'a> {
    resolver: &'r mut Resolver<'a>,
    context: &'r str,
    /// Targets being expanded on the way down (a cycle stops at the second visit).
    stack: Vec<String>,
    /// Nodes this schema may still produce.
    budget: usize,
}

impl Inliner<'_, '_> {
    fn inline(&mut self, node: &Node, pointer: Path<'_>, depth: usize) -> Result<serde_json::Value, SpecError> {
        self.budget = self.budget.saturating_sub(1);
        self.resolver.budget = self.resolver.budget.saturating_sub(1);
        match &node.value {
            Value::Object(members) => {
                if let Some((reference, ref_node)) = ref_of(node) {
                    return self.expand(members, reference, ref_node, pointer, depth);
                }
                let mut out = serde_json::Map::new();
                for (key, value) in members {
                    let v = if is_literal(key) {
                        value.to_json()
                    } else if matches!(
                        key.as_str(),
                        "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas"
                    ) {
                        self.names(value, Path::Key(&pointer, key), depth + 1)?
                    } else {
                        self.inline(value, Path::Key(&pointer, key), depth + 1)?
                    };
                    out.insert(key.clone(), v);
                }
                Ok(serde_json::Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.inline(item, Path::Index(&pointer, i), depth + 1)?);
                }
                Ok(serde_json::Value::Array(out))
            }
            _ => Ok(node.to_json()),
        }
    }

    /// A map of names to schemas (`properties`): names are not keywords.
    fn names(&mut self, node: &Node, pointer: Path<'_>, depth: usize) -> Result<serde_json::Value, SpecError> {
        let Some(members) = node.members() else { return self.inline(node, pointer, depth) };
        let mut out = serde_json::Map::new();
        for (name, schema) in members {
            out.insert(name.clone(), self.inline(schema, Path::Key(&pointer, name), depth + 1)?);
        }
        Ok(serde_json::Value::Object(out))
    }

    fn expand(
        &mut self,
        members: &[(String, Node)],
        reference: &str,
        ref_node: &Node,
        pointer: Path<'_>,
        depth: usize,
    ) -> Result<serde_json::Value, SpecError> {
        let kept = || serde_json::json!({ "$ref": reference });
        let Target { node: target, pointer: at, height } =
            self.resolver.target(reference, Path::Key(&pointer, "$ref"), ref_node)?;
        if self.stack.contains(&at) {
            return Ok(kept());
        }
        if depth + height > MAX_SCHEMA_DEPTH {
            self.resolver.keep(self.context, reference, Kept::Depth);
            return Ok(kept());
        }
        if self.stack.len() >= MAX_NESTED_REFS {
            self.resolver.keep(self.context, reference, Kept::Chain);
            return Ok(kept());
        }
        if self.resolver.budget == 0 {
            if self.resolver.exhausted_at.is_none() {
                self.resolver.exhausted_at = Some(self.context.to_string());
            }
            return Ok(kept());
        }
        if self.budget == 0 {
            self.resolver.keep(self.context, reference, Kept::Size);
            return Ok(kept());
        }
        self.stack.push(at.clone());
        let expanded = self.inline(target, Path::At(&at), depth);
        self.stack.pop();
        let mut expanded = expanded?;
        // OpenAPI 3.1 schemas may set keywords beside `$ref` (a description, say); earlier
        // versions ignore them, as their specifications say.
        if self.resolver.version == SpecVersion::OpenApi31 && members.len() > 1 {
            if let serde_json::Value::Object(out) = &mut expanded {
                for (key, value) in members.iter().filter(|(k, _)| k != "$ref") {
                    let v = if is_literal(key) {
                        value.to_json()
                    } else {
                        self.inline(value, Path::Key(&pointer, key), depth + 1)?
                    };
                    out.insert(key.clone(), v);
                }
            }
        }
        Ok(expanded)
    }
}

/// Why a limit left a `$ref` unexpanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kept {
    Depth,
    Chain,
    Size,
}

impl Kept {
    fn describe(self) -> String {
        match self {
            Kept::Depth => format!("the inlined schema would nest deeper than {MAX_SCHEMA_DEPTH} levels"),
            Kept::Chain => format!("more than {MAX_NESTED_REFS} `$ref`s expand one inside another"),
            Kept::Size => format!("the inlined schema reached its limit of {MAX_SCHEMA_NODES} values"),
        }
    }
}

/// Keywords whose value is data, not a schema: copied as written.
fn is_literal(key: &str) -> bool {
    matches!(key, "example" | "examples" | "default" | "enum" | "const")
}
