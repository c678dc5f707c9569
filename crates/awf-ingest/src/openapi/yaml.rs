//! A YAML reader over `yaml-rust2`'s event parser, building the same line-keeping tree as the
//! JSON reader. It pulls events one by one (the crate's own `load` recurses per level, which a
//! deeply nested document could overflow), caps nesting at
//! [`limits::MAX_DEPTH`](super::limits::MAX_DEPTH), refuses duplicate keys and non-scalar keys,
//! accepts one document only, and bounds what aliases may expand to (no "billion laughs").
//!
//! Plain scalars are typed by the YAML 1.2 core schema (`null`, `true`, `12`, `1.5`, `0x1f`);
//! quoted and block scalars are strings. Merge keys (`<<: *base`) are applied.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::limits::{MAX_ALIAS_NODES, MAX_DEPTH};
use super::tree::{child, error, number_from_text, stack_pointer, Node, Open, OpenKind, Value};
use super::SpecError;

/// An anchored node, with what an alias to it costs.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

/// What the reader knows of an open container besides its contents.
struct Extra {
    anchor: usize,
    /// A plain `<<` key was seen: apply the merge when the mapping closes.
    merge: bool,
}

/// Reads one YAML document.
pub(crate) fn parse(text: &str) -> Result<Node, SpecError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut extras: Vec<Extra> = Vec::new();
    let mut anchors: HashMap<usize, Anchored> = HashMap::new();
    let mut alias_nodes = 0usize;
    let mut root: Option<Node> = None;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| syntax(&e, &stack))?;
        let line = line_of(&mark);
        let wants_key = stack.last().is_some_and(wants_key);
        let (node, anchor) = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart => {
                if root.is_some() {
                    return Err(error("", line, "only one YAML document is allowed (found a second `---`)"));
                }
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                if wants_key {
                    if let Some(top) = stack.last_mut() {
                        if let Err(first) = top.set_key(text.clone(), line) {
                            let pointer = child(&stack_pointer(&stack[..stack.len() - 1]), &text);
                            return Err(error(
                                &pointer,
                                line,
                                format!("duplicate key `{text}` (first at line {first})"),
                            ));
                        }
                    }
                    if text == "<<" && style == TScalarStyle::Plain {
                        if let Some(extra) = extras.last_mut() {
                            extra.merge = true;
                        }
                    }
                    continue;
                }
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str" || t.suffix.ends_with(":str"));
                let value =
                    if style == TScalarStyle::Plain && !is_str_tag { plain_scalar(text) } else { Value::String(text) };
                (Node::new(line, value), anchor)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if wants_key {
                    return Err(error(&stack_pointer(&stack), line, "mapping keys must be scalars"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(error(
                        &stack_pointer(&stack),
                        line,
                        format!("the document nests deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let open =
                    if matches!(event, Event::SequenceStart(..)) { Open::array(line) } else { Open::object(line) };
                stack.push(open);
                extras.push(Extra { anchor, merge: false });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (Some(open), Some(extra)) = (stack.pop(), extras.pop()) else {
                    return Err(error("", line, "invalid YAML: unbalanced collection end"));
                };
                let mut node = open.finish();
                if extra.merge {
                    apply_merge(&mut node, &stack)?;
                }
                (node, extra.anchor)
            }
            Event::Alias(id) => {
                if wants_key {
                    return Err(error(&stack_pointer(&stack), line, "an alias cannot be a mapping key"));
                }
                let Some(anchored) = anchors.get(&id) else {
                    return Err(error(
                        &stack_pointer(&stack),
                        line,
                        "alias to an anchor that is not complete yet (a recursive alias)",
                    ));
                };
                alias_nodes = alias_nodes.saturating_add(anchored.size);
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err(error(
                        &stack_pointer(&stack),
                        line,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} values"),
                    ));
                }
                if stack.len() + anchored.height > MAX_DEPTH {
                    return Err(error(
                        &stack_pointer(&stack),
                        line,
                        format!("the document nests deeper than {MAX_DEPTH} levels (through an alias)"),
                    ));
                }
                let mut node = anchored.node.clone();
                node.line = line;
                (node, 0)
            }
        };
        if anchor != 0 {
            let (size, height) = (node.size(), node.height());
            anchors.insert(anchor, Anchored { node: node.clone(), size, height });
        }
        match stack.last_mut() {
            Some(top) => top.push(node),
            None => root = Some(node),
        }
    }
    root.ok_or_else(|| SpecError { pointer: String::new(), line: None, message: "the document is empty".into() })
}

fn wants_key(open: &Open) -> bool {
    matches!(open.kind, OpenKind::Object { key: None, .. })
}

fn line_of(mark: &Marker) -> u32 {
    u32::try_from(mark.line()).unwrap_or(u32::MAX).max(1)
}

fn syntax(e: &ScanError, stack: &[Open]) -> SpecError {
    let mark = e.marker();
    let line = line_of(mark);
    error(
        &stack_pointer(stack),
        line,
        format!("invalid YAML: {} (line {line}, column {})", e.info(), mark.col().saturating_add(1)),
    )
}

/// Types a plain scalar by the YAML 1.2 core schema.
fn plain_scalar(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let radix = |digits: &str, radix: u32| {
        if digits.is_empty() {
            return None;
        }
        i64::from_str_radix(digits, radix).ok().filter(|_| digits.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    if let Some(i) =
        text.strip_prefix("0x").and_then(|d| radix(d, 16)).or_else(|| text.strip_prefix("0o").and_then(|d| radix(d, 8)))
    {
        return Value::Number(i.into(), text);
    }
    if is_int(&text) {
        let digits = text.strip_prefix('+').unwrap_or(&text);
        if let Some(n) = number_from_text(digits, true) {
            return Value::Number(n, text);
        }
    }
    if is_float(&text) {
        if let Some(n) = number_from_text(text.strip_prefix('+').unwrap_or(&text), false) {
            return Value::Number(n, text);
        }
    }
    Value::String(text)
}

/// `[-+]?[0-9]+`
fn is_int(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(frac) => all_digits(int) && all_digits(frac) && (!int.is_empty() || !frac.is_empty()),
        None => !int.is_empty() && all_digits(int),
    };
    let exponent_ok = exponent.is_none_or(is_int);
    mantissa_ok && exponent_ok
}

/// Applies `<<` in a closed mapping: members of the merged mapping(s) that the mapping does not
/// set itself are added (the first merged mapping wins among several).
fn apply_merge(node: &mut Node, stack: &[Open]) -> Result<(), SpecError> {
    let Value::Object(members) = &mut node.value else { return Ok(()) };
    let Some(at) = members.iter().position(|(k, _)| k == "<<") else { return Ok(()) };
    let (_, merged) = members.remove(at);
    let sources: Vec<Node> = match merged.value {
        Value::Object(_) => vec![merged],
        Value::Array(items) if items.iter().all(|i| matches!(i.value, Value::Object(_))) => items,
        _ => {
            return Err(error(
                &child(&stack_pointer(stack), "<<"),
                merged.line,
                "a merge key `<<` takes a mapping or a list of mappings",
            ))
        }
    };
    for source in sources {
        if let Value::Object(extra) = source.value {
            for (k, v) in extra {
                if !members.iter().any(|(existing, _)| *existing == k) {
                    members.push((k, v));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_with_lines() {
        let node = parse("a: 1\nb:\n  - x\n  - y: 'true'\n    z: true\nc: 3.0.0\nd: 1.10\ne:\n").unwrap();
        assert_eq!(node.get("a").unwrap().to_json(), serde_json::json!(1));
        assert_eq!(node.get("b").unwrap().line, 2);
        let items = node.get("b").unwrap().items().unwrap();
        assert_eq!(items[0].line, 3);
        assert_eq!(items[1].line, 4);
        assert_eq!(items[1].get("y").unwrap().as_str(), Some("true"));
        assert_eq!(items[1].get("z").unwrap().line, 5);
        assert_eq!(items[1].get("z").unwrap().as_bool(), Some(true));
        assert_eq!(node.get("c").unwrap().as_str(), Some("3.0.0"));
        assert_eq!(node.get("d").unwrap().scalar_text(), Some("1.10"));
        assert_eq!(node.get("e").unwrap().value, Value::Null);
    }

    #[test]
    fn anchors_aliases_and_merges() {
        let node = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b]\n").unwrap();
        assert_eq!(node.get("other").unwrap().to_json(), serde_json::json!({"y": 3, "x": 1}));
        assert_eq!(node.get("list").unwrap().to_json(), serde_json::json!([{"x": 1, "y": 2}]));
    }

    #[test]
    fn errors() {
        let e = parse("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!((e.pointer.as_str(), e.line), ("/b/c", Some(4)));
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e.message.contains("one YAML document"));
        assert!(parse("").is_err());
        let deep = "- ".repeat(MAX_DEPTH + 1) + "x";
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nests deeper"), "{e:?}");
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert!(parse(laughs).unwrap_err().message.contains("aliases expand"));
    }
}
