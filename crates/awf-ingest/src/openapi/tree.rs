//! The parsed document as a tree that remembers where each node came from. Both the JSON and
//! the YAML readers produce it, so the conversion and its errors never care about the syntax.
//! Objects keep their members in document order (tools and schemes come out in that order
//! whatever features `serde_json` is built with).

use super::SpecError;

/// One value of the document and the 1-based line it starts on. For an object member that is
/// the line of its key, which is where a reader looks for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: u32,
    pub value: Value,
}

/// The JSON data model. Numbers keep their source text (a YAML `version: 1.10` stays "1.10").
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number, String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    pub fn new(line: u32, value: Value) -> Node {
        Node { line, value }
    }

    /// The member `key` of an object (`None` for other kinds of node).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn members(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// A string, or a number's source text (for version fields written unquoted in YAML).
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            Value::Number(_, raw) => Some(raw),
            _ => None,
        }
    }

    /// What kind of node this is, for messages ("found an array").
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(..) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The node as plain JSON, `$ref`s left as they are. The depth is bounded by the readers'
    /// nesting cap, so the recursion is too.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n, _) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Object(members) => {
                serde_json::Value::Object(members.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Number of nodes in this subtree (itself included).
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Array(items) => items.iter().map(Node::size).sum(),
            Value::Object(members) => members.iter().map(|(_, v)| v.size()).sum(),
            _ => 0,
        }
    }

    /// Levels of arrays and objects below and including this node (a scalar is 0).
    pub fn height(&self) -> usize {
        match &self.value {
            Value::Array(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            Value::Object(members) => 1 + members.iter().map(|(_, v)| v.height()).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// Escapes one reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `pointer` with one more token.
pub(crate) fn child(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    out.push_str(&escape_token(token));
    out
}

/// `pointer` with an array index.
pub(crate) fn index(pointer: &str, i: usize) -> String {
    format!("{pointer}/{i}")
}

/// A pointer built on the way down a tree and rendered only when an error needs it (walking a
/// large document allocates nothing per node).
#[derive(Clone, Copy)]
pub(crate) enum Path<'p> {
    /// A pointer already rendered.
    At(&'p str),
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    pub fn render(&self) -> String {
        match self {
            Path::At(pointer) => (*pointer).to_string(),
            Path::Key(parent, key) => child(&parent.render(), key),
            Path::Index(parent, i) => index(&parent.render(), *i),
        }
    }
}

/// Splits a JSON pointer into its unescaped tokens; `None` when an escape is malformed.
pub(crate) fn split_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').map(unescape_token).collect()
}

fn unescape_token(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Decodes `%XX` escapes of a URI fragment; `None` when one is malformed or not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Looks a pointer up in the tree: the node, or `None` when nothing is there.
pub(crate) fn lookup<'a>(root: &'a Node, tokens: &[String]) -> Option<&'a Node> {
    let mut node = root;
    for token in tokens {
        node = match &node.value {
            Value::Object(members) => members.iter().find(|(k, _)| k == token).map(|(_, v)| v)?,
            Value::Array(items) => {
                // RFC 6901: decimal digits without leading zeros.
                if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
                    return None;
                }
                if !token.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                items.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(node)
}

/// Builds an error at `pointer`, on `line`.
pub(crate) fn error(pointer: &str, line: u32, message: impl Into<String>) -> SpecError {
    SpecError { pointer: pointer.to_string(), line: Some(line), message: message.into() }
}

/// Builds an error at `pointer`, on the line of `node`.
pub(crate) fn error_at(pointer: &str, node: &Node, message: impl Into<String>) -> SpecError {
    error(pointer, node.line, message)
}

/// An open container of a reader's stack, used to name the place of an error met half-way
/// through it (syntax errors, duplicate keys, the nesting cap).
pub(crate) struct Open {
    /// Line of the container's first token.
    pub line: u32,
    pub kind: OpenKind,
}

pub(crate) enum OpenKind {
    Array(Vec<Node>),
    Object {
        members: Vec<(String, Node)>,
        /// Keys seen so far and their lines (duplicates are refused).
        seen: std::collections::HashMap<String, u32>,
        /// The key whose value is being read, and its line.
        key: Option<(String, u32)>,
    },
}

impl Open {
    pub fn array(line: u32) -> Open {
        Open { line, kind: OpenKind::Array(Vec::new()) }
    }

    pub fn object(line: u32) -> Open {
        Open { line, kind: OpenKind::Object { members: Vec::new(), seen: Default::default(), key: None } }
    }

    /// Records the key of the next member; `Err(first line)` when the object already has it.
    pub fn set_key(&mut self, key: String, line: u32) -> Result<(), u32> {
        if let OpenKind::Object { seen, key: pending, .. } = &mut self.kind {
            if let Some(first) = seen.get(&key) {
                return Err(*first);
            }
            seen.insert(key.clone(), line);
            *pending = Some((key, line));
        }
        Ok(())
    }

    /// Adds a finished value: an array item keeps its own line, an object member takes its
    /// key's line.
    pub fn push(&mut self, mut node: Node) {
        match &mut self.kind {
            OpenKind::Array(items) => items.push(node),
            OpenKind::Object { members, key, .. } => {
                if let Some((k, line)) = key.take() {
                    node.line = line;
                    members.push((k, node));
                }
            }
        }
    }

    /// Closes the container into a node.
    pub fn finish(self) -> Node {
        match self.kind {
            OpenKind::Array(items) => Node::new(self.line, Value::Array(items)),
            OpenKind::Object { members, .. } => Node::new(self.line, Value::Object(members)),
        }
    }
}

/// The pointer of the value a reader is at, from its stack of open containers.
pub(crate) fn stack_pointer(stack: &[Open]) -> String {
    let mut out = String::new();
    for open in stack {
        match &open.kind {
            OpenKind::Array(items) => out.push_str(&format!("/{}", items.len())),
            OpenKind::Object { key: Some((key, _)), .. } => {
                out.push('/');
                out.push_str(&escape_token(key));
            }
            OpenKind::Object { key: None, .. } => {}
        }
    }
    out
}

/// Reads a plain number's text into a JSON number (`None` if it is not finite).
pub(crate) fn number_from_text(text: &str, integer: bool) -> Option<serde_json::Number> {
    if integer {
        if let Ok(i) = text.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = text.parse::<u64>() {
            return Some(u.into());
        }
    }
    let f = text.parse::<f64>().ok()?;
    serde_json::Number::from_f64(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_round_trip() {
        assert_eq!(child("/paths", "/pets/{id}"), "/paths/~1pets~1{id}");
        assert_eq!(child("", "a~b"), "/a~0b");
        assert_eq!(split_pointer("/paths/~1pets~1{id}/get").unwrap(), vec!["paths", "/pets/{id}", "get"]);
        assert_eq!(split_pointer("/a~0b").unwrap(), vec!["a~b"]);
        assert!(split_pointer("/a~2").is_none());
        assert!(split_pointer("a").is_none());
        assert_eq!(percent_decode("%7Bid%7D").unwrap(), "{id}");
        assert!(percent_decode("%7").is_none());
        assert!(percent_decode("%zz").is_none());
    }
}
