//! A JSON reader that keeps the line of every value. It is iterative (an explicit stack, capped
//! at [`limits::MAX_DEPTH`](super::limits::MAX_DEPTH) levels), refuses duplicate keys, and
//! reports syntax errors with their line, column and the pointer of the value being read.

use super::limits::MAX_DEPTH;
use super::tree::{child, error, number_from_text, stack_pointer, Node, Open, Value};
use super::SpecError;

/// Reads one JSON document.
pub(crate) fn parse(text: &str) -> Result<Node, SpecError> {
    Reader { text, bytes: text.as_bytes(), pos: 0, line: 1, line_start: 0, stack: Vec::new() }.document()
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    stack: Vec<Open>,
}

impl Reader<'_> {
    fn document(mut self) -> Result<Node, SpecError> {
        'value: loop {
            self.skip_ws();
            let line = self.line;
            let mut node = match self.peek() {
                Some(b'{') => {
                    self.open_container()?;
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Node::new(line, Value::Object(Vec::new()))
                    } else {
                        self.stack.push(Open::object(line));
                        self.member_key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.open_container()?;
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        Node::new(line, Value::Array(Vec::new()))
                    } else {
                        self.stack.push(Open::array(line));
                        continue 'value;
                    }
                }
                Some(b'"') => Node::new(line, Value::String(self.string()?)),
                Some(b't') => self.literal("true", Value::Bool(true))?,
                Some(b'f') => self.literal("false", Value::Bool(false))?,
                Some(b'n') => self.literal("null", Value::Null)?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(_) => return Err(self.syntax(format!("expected a value, found {}", self.found()))),
                None => return Err(self.syntax("unexpected end of input, expected a value")),
            };
            // Attach the finished value to its container; close containers that end here.
            loop {
                let Some(top) = self.stack.last_mut() else {
                    self.skip_ws();
                    if self.pos < self.bytes.len() {
                        return Err(self.syntax(format!("{} after the document", self.found())));
                    }
                    return Ok(node);
                };
                top.push(node);
                let is_object = matches!(top.kind, super::tree::OpenKind::Object { .. });
                self.skip_ws();
                match (self.peek(), is_object) {
                    (Some(b','), true) => {
                        self.pos += 1;
                        self.skip_ws();
                        self.member_key()?;
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        self.pos += 1;
                        continue 'value;
                    }
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        self.pos += 1;
                        node = match self.stack.pop() {
                            Some(open) => open.finish(),
                            None => return Err(self.syntax("unbalanced brackets")),
                        };
                    }
                    (_, true) => {
                        return Err(self.syntax(format!("expected `,` or `}}` after a member, found {}", self.found())))
                    }
                    (_, false) => {
                        return Err(self.syntax(format!("expected `,` or `]` after an item, found {}", self.found())))
                    }
                }
            }
        }
    }

    /// Refuses a container that would nest deeper than the cap.
    fn open_container(&self) -> Result<(), SpecError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(error(
                &stack_pointer(&self.stack),
                self.line,
                format!("the document nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// Reads `"key" :` of the next member into the open object.
    fn member_key(&mut self) -> Result<(), SpecError> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax(format!("expected a string key, found {}", self.found())));
        }
        let line = self.line;
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.syntax(format!("expected `:` after the key, found {}", self.found())));
        }
        self.pos += 1;
        let duplicate = self.stack.last_mut().map(|top| top.set_key(key.clone(), line));
        if let Some(Err(first)) = duplicate {
            let pointer = child(&stack_pointer(&self.stack), &key);
            return Err(error(&pointer, line, format!("duplicate key `{key}` (first at line {first})")));
        }
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
    }

    /// What is at the current position, for messages.
    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            Some(c) if c.is_control() => format!("{c:?}"),
            Some(c) => format!("`{c}`"),
            None => "the end of input".to_string(),
        }
    }

    /// A syntax error at the current position: pointer of the value being read, line, column.
    fn syntax(&self, what: impl std::fmt::Display) -> SpecError {
        let end = self.pos.min(self.bytes.len());
        let column = self.bytes[self.line_start.min(end)..end].iter().filter(|b| (*b & 0xC0) != 0x80).count() + 1;
        error(
            &stack_pointer(&self.stack),
            self.line,
            format!("invalid JSON: {what} (line {}, column {column})", self.line),
        )
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Node, SpecError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(Node::new(self.line, value))
        } else {
            Err(self.syntax(format!("expected a value, found {}", self.found())))
        }
    }

    fn number(&mut self) -> Result<Node, SpecError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while r.peek().is_some_and(|b| b.is_ascii_digit()) {
                r.pos += 1;
            }
            r.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.syntax("invalid number: expected a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.syntax("invalid number: expected a digit after `.`"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.syntax("invalid number: expected a digit in the exponent"));
            }
        }
        let raw = &self.text[start..self.pos];
        match number_from_text(raw, integer) {
            Some(n) => Ok(Node::new(self.line, Value::Number(n, raw.to_string()))),
            None => {
                self.pos = start;
                Err(self.syntax(format!("number `{raw}` is out of range")))
            }
        }
    }

    /// Reads a string starting at its opening quote.
    fn string(&mut self) -> Result<String, SpecError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run = self.pos;
            while self.peek().is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // The run stops on an ASCII byte or the end, both character boundaries.
            out.push_str(&self.text[run..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(b'\n') => return Err(self.syntax("unterminated string (a line break must be written `\\n`)")),
                Some(_) => return Err(self.syntax(format!("control character {} in a string", self.found()))),
                None => return Err(self.syntax("unterminated string")),
            }
        }
    }

    /// Reads the escape after a backslash.
    fn escape(&mut self) -> Result<char, SpecError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let high = self.hex4()?;
                if (0xDC00..0xE000).contains(&high) {
                    return Err(self.syntax("lone low surrogate in a `\\u` escape"));
                }
                if !(0xD800..0xDC00).contains(&high) {
                    return char::from_u32(high).ok_or_else(|| self.syntax("invalid `\\u` escape"));
                }
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(self.syntax("lone high surrogate in a `\\u` escape"));
                }
                self.pos += 2;
                let low = self.hex4()?;
                if !(0xDC00..0xE000).contains(&low) {
                    return Err(self.syntax("lone high surrogate in a `\\u` escape"));
                }
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(code).ok_or_else(|| self.syntax("invalid `\\u` escape"));
            }
            _ => return Err(self.syntax(format!("invalid escape `\\` followed by {}", self.found()))),
        };
        self.pos += 1;
        Ok(c)
    }

    fn hex4(&mut self) -> Result<u32, SpecError> {
        let digits = self.bytes.get(self.pos..self.pos + 4).filter(|d| d.iter().all(u8::is_ascii_hexdigit));
        let Some(digits) = digits else {
            return Err(self.syntax("expected four hex digits after `\\u`"));
        };
        let value = digits.iter().fold(0u32, |acc, d| acc * 16 + char::from(*d).to_digit(16).unwrap_or(0));
        self.pos += 4;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_with_lines() {
        let node =
            parse("{\n \"a\": [1, 2.5, -3e2],\n \"b\": {\"c\": \"x\\u00e9\\ud83d\\ude00\"},\n \"d\": null\n}").unwrap();
        assert_eq!(node.line, 1);
        assert_eq!(node.get("a").unwrap().line, 2);
        assert_eq!(node.get("b").unwrap().get("c").unwrap().as_str(), Some("xé😀"));
        assert_eq!(node.get("d").unwrap().line, 4);
        assert_eq!(node.get("a").unwrap().to_json(), serde_json::json!([1, 2.5, -300.0]));
    }

    #[test]
    fn syntax_errors_name_line_column_and_pointer() {
        let e = parse("{\n \"a\": {\"b\": [1, 2 3]}\n}").unwrap_err();
        assert_eq!(e.pointer, "/a/b/2");
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("column 19"), "{}", e.message);
        let e = parse("{\"a\": 1, \"a\": 2}").unwrap_err();
        assert_eq!(e.pointer, "/a");
        assert!(e.message.contains("duplicate key"));
        assert!(parse("{\"a\": \"\\ud800\"}").is_err());
        assert!(parse("{\"a\": 1e999}").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse("{\"é").is_err());
    }

    #[test]
    fn nesting_is_capped() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nests deeper"));
        assert_eq!(e.pointer, format!("{}", "/0".repeat(MAX_DEPTH)));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }
}
