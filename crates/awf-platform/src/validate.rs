//! Field validation for registration and the profile, and the age gate (§7). Pure functions of
//! their input (and "today"), so they are unit-tested here without a server.

use awf_platform_api::age;
use time::Date;

use crate::error::ApiError;

pub fn account_name(name: &str, field: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err(ApiError::invalid(field, "The account name must be 3 to 32 characters long."));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(ApiError::invalid(field, "The account name may contain only letters, digits, '_', '-' and '.'."));
    }
    Ok(())
}

/// The key under which a phone is unique: its digits without the optional `+`, so that
/// `+8613800000000` and `8613800000000` are the same phone.
pub fn phone_key(phone: &str, field: &str) -> Result<String, ApiError> {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(field, "The phone must be an optional '+' followed by 6 to 15 digits."));
    }
    Ok(digits.to_string())
}

pub fn password(password: &str) -> Result<(), ApiError> {
    let len = password.chars().count();
    if !(8..=128).contains(&len) {
        return Err(ApiError::invalid("password", "The password must be 8 to 128 characters long."));
    }
    Ok(())
}

/// Parses `YYYY-MM-DD`, not before 1900 and not after `today`. The rule is the contract's
/// (`awf_platform_api::age`), shared with the client so that both sides judge a date alike.
pub fn date_of_birth(s: &str, today: Date) -> Result<Date, ApiError> {
    age::parse_date_of_birth(s, today).map_err(|e| ApiError::invalid("date_of_birth", e.message()))
}

pub use age::{age_band, age_on};

/// An optional profile text: at most `max` characters and no control characters (checked on
/// the text as sent, as the OpenAPI document states it); stored trimmed, and `Ok(None)` (clear
/// the field) when nothing but spaces remains.
pub fn optional_text(value: &str, max: usize, field: &str) -> Result<Option<String>, ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("At most {max} characters.")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "Control characters are not allowed."));
    }
    let value = value.trim();
    Ok((!value.is_empty()).then(|| value.to_string()))
}

/// An e-mail address: empty (clears it), or one `@` with something on both sides, no spaces or
/// control characters, at most 254 characters.
pub fn email(value: &str) -> Result<Option<String>, ApiError> {
    if value.is_empty() {
        return Ok(None);
    }
    let mut parts = value.split('@');
    let shape = matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && !d.is_empty());
    let clean = !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if value.chars().count() > 254 || !shape || !clean {
        return Err(ApiError::invalid(
            "email",
            "The e-mail address must look like name@example.com (at most 254 characters).",
        ));
    }
    Ok(Some(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use awf_platform_api::AgeBand;
    use time::macros::date;

    #[test]
    fn account_names() {
        assert!(account_name("ab", "n").is_err());
        assert!(account_name("abc", "n").is_ok());
        assert!(account_name("a.b-c_D9", "n").is_ok());
        assert!(account_name(&"a".repeat(32), "n").is_ok());
        assert!(account_name(&"a".repeat(33), "n").is_err());
        assert!(account_name("with space", "n").is_err());
        assert!(account_name("名字很好", "n").is_err());
        assert_eq!(account_name("x", "account_name").unwrap_err().body.field.as_deref(), Some("account_name"));
    }

    #[test]
    fn phones() {
        assert_eq!(phone_key("+8613800000000", "phone").unwrap(), "8613800000000");
        assert_eq!(phone_key("123456", "phone").unwrap(), "123456");
        assert!(phone_key("12345", "phone").is_err());
        assert!(phone_key(&"1".repeat(16), "phone").is_err());
        assert!(phone_key("++123456", "phone").is_err());
        assert!(phone_key("12 3456", "phone").is_err());
        assert!(phone_key("١٢٣٤٥٦٧", "phone").is_err(), "non-ASCII digits");
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"密".repeat(128)).is_ok());
        assert!(password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn dates_of_birth() {
        let today = date!(2026 - 03 - 15);
        assert_eq!(date_of_birth("2000-02-29", today).unwrap(), date!(2000 - 02 - 29));
        for bad in [
            "2001-02-29",
            "2000-13-01",
            "2000-00-10",
            "2000-1-01",
            "20000101",
            "+200-01-01",
            "2026-03-16",
            "1899-12-31",
            "",
        ] {
            assert!(date_of_birth(bad, today).is_err(), "{bad}");
        }
        assert!(date_of_birth("2026-03-15", today).is_ok());
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        let dob = date!(2008 - 03 - 15);
        assert_eq!(age_on(dob, date!(2026 - 03 - 14)), 17);
        assert_eq!(age_on(dob, date!(2026 - 03 - 15)), 18);
        assert_eq!(age_band(13), AgeBand::Child);
        assert_eq!(age_band(14), AgeBand::Minor);
        assert_eq!(age_band(17), AgeBand::Minor);
        assert_eq!(age_band(18), AgeBand::Adult);
    }

    #[test]
    fn profile_texts() {
        assert_eq!(optional_text("", 64, "display_name").unwrap(), None);
        assert_eq!(optional_text(" Ann ", 64, "display_name").unwrap().as_deref(), Some("Ann"));
        assert_eq!(optional_text("   ", 64, "display_name").unwrap(), None);
        assert!(optional_text(&" ".repeat(65), 64, "display_name").is_err(), "length is checked before trimming");
        assert!(optional_text("a\u{85}b", 64, "display_name").is_err(), "C1 control");
        assert!(optional_text(&"x".repeat(65), 64, "display_name").is_err());
        assert!(optional_text("a\u{0}b", 64, "display_name").is_err());
        assert_eq!(email("").unwrap(), None);
        assert!(email("a@b").is_ok());
        assert!(email("a@b@c").is_err());
        assert!(email("@b").is_err());
        assert!(email("a b@c").is_err());
        assert!(email(" a@b").is_err());
        assert!(email(&format!("a@{}", "b".repeat(253))).is_err());
    }
}
