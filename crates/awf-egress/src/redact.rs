//! The payload preview kept in the transmission log: the request body with every secret value
//! replaced, cut to a readable length. Secrets are recognised by their field names, so that a
//! new secret field is covered as long as it is named like one.

use serde_json::Value;

const PREVIEW_CHARS: usize = 600;
const SECRET_WORDS: [&str; 7] = ["password", "token", "sms_code", "secret", "authorization", "cookie", "api_key"];

fn is_secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| n.contains(w)) || n == "code"
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) && !v.is_null() {
                    *v = Value::String("<redacted>".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Items a batch preview names before "and N more".
const BATCH_NAMES: usize = 20;

/// The preview of a JSON body (empty when there is none). A batch of item writes
/// (`{"writes": [{"kind", "id", …}, …]}`) starts with the items it writes, since its cut JSON
/// would show only the first.
pub fn redact_preview(body: Option<&Value>) -> String {
    let Some(body) = body else { return String::new() };
    let mut copy = body.clone();
    redact(&mut copy);
    let summary = batch_summary(&copy).unwrap_or_default();
    let text = copy.to_string();
    if text.chars().count() <= PREVIEW_CHARS {
        return format!("{summary}{text}");
    }
    let cut: String = text.chars().take(PREVIEW_CHARS).collect();
    format!("{summary}{cut}… ({} bytes in all)", text.len())
}

/// "3 writes: agent/01H…, plugin/01H…, table/01H…; " for a batch of item writes.
fn batch_summary(v: &Value) -> Option<String> {
    let writes = v.as_object()?.get("writes")?.as_array()?;
    let names = writes
        .iter()
        .map(|w| Some(format!("{}/{}", w.get("kind")?.as_str()?, w.get("id")?.as_str()?)))
        .collect::<Option<Vec<_>>>()?;
    let shown = names.iter().take(BATCH_NAMES).cloned().collect::<Vec<_>>().join(", ");
    let more = match names.len().checked_sub(BATCH_NAMES) {
        Some(n) if n > 0 => format!(" and {n} more"),
        _ => String::new(),
    };
    Some(format!("{} writes: {shown}{more}; ", names.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_replaced_at_any_depth() {
        let body = json!({
            "login": "ada", "password": "hunter2-secret",
            "nested": [{"refresh_token": "awfr_abc"}, {"sms_code": "123456"}],
            "code": "654321", "phone": "+8613800000000"
        });
        let p = redact_preview(Some(&body));
        for secret in ["hunter2-secret", "awfr_abc", "123456", "654321"] {
            assert!(!p.contains(secret), "{secret} leaked into {p}");
        }
        assert!(p.contains("ada") && p.contains("+8613800000000"));
    }

    #[test]
    fn long_bodies_are_cut_on_character_boundaries() {
        let body = json!({ "instructions": "智".repeat(5_000) });
        let p = redact_preview(Some(&body));
        assert!(p.chars().count() < 700);
        assert!(p.ends_with("bytes in all)"));
        assert_eq!(redact_preview(None), "");
    }

    #[test]
    fn a_batch_of_writes_names_its_items_first() {
        let writes: Vec<Value> = (0..25)
            .map(|n| json!({"kind": "agent", "id": format!("A{n}"), "write": {"body": {"api_key": "marker-key"}}}))
            .collect();
        let p = redact_preview(Some(&json!({ "writes": writes })));
        assert!(p.starts_with("25 writes: agent/A0, agent/A1, "), "{p}");
        assert!(p.contains("agent/A19 and 5 more; {"), "{p}");
        assert!(!p.contains("agent/A20,") && !p.contains("marker-key"), "{p}");
        // Any other body is previewed as it is.
        assert_eq!(redact_preview(Some(&json!({"writes": [1]}))), r#"{"writes":[1]}"#);
    }
}
