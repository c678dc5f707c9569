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

/// The preview of a JSON body (empty when there is none).
pub fn redact_preview(body: Option<&Value>) -> String {
    let Some(body) = body else { return String::new() };
    let mut copy = body.clone();
    redact(&mut copy);
    let text = copy.to_string();
    if text.chars().count() <= PREVIEW_CHARS {
        return text;
    }
    let cut: String = text.chars().take(PREVIEW_CHARS).collect();
    format!("{cut}… ({} bytes in all)", text.len())
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
}
