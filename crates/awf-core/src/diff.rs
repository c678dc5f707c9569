//! Line diffs of instruction revisions, for the history view and for merges.

use serde::Serialize;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffLine {
    pub kind: DiffKind,
    pub text: String,
}

/// Whether a line is kept, added or removed going from the old text to the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    Equal,
    Insert,
    Delete,
}

/// A line diff of `old` → `new`.
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::configure().timeout(std::time::Duration::from_millis(200)).diff_lines(old, new);
    diff.iter_all_changes()
        .map(|c| DiffLine {
            kind: match c.tag() {
                similar::ChangeTag::Equal => DiffKind::Equal,
                similar::ChangeTag::Insert => DiffKind::Insert,
                similar::ChangeTag::Delete => DiffKind::Delete,
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_changed_lines() {
        let d = lines("a\nb\nc\n", "a\nB\nc\n");
        let kinds: Vec<_> = d.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(
            kinds,
            vec![(DiffKind::Equal, "a"), (DiffKind::Delete, "b"), (DiffKind::Insert, "B"), (DiffKind::Equal, "c")]
        );
    }
}
