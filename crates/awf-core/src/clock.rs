//! Timestamps as fixed-width RFC 3339 UTC strings (`2026-01-02T03:04:05.678Z`), which sort
//! lexicographically in time order and read the same in Rust, TypeScript and JSON exports.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Now, formatted.
pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// Formats an instant in the store's timestamp format.
pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&FORMAT).expect("a UTC instant always formats")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_width_and_sortable() {
        let a = super::format(time::macros::datetime!(2026-01-02 03:04:05.6 UTC));
        assert_eq!(a, "2026-01-02T03:04:05.600Z");
        let b = super::format(time::macros::datetime!(2026-01-02 03:04:05.61 UTC));
        assert!(a < b);
    }
}
