//! Three-way merge of instructions text (C2): the base revision, mine (the local edit) and
//! theirs (the platform's newer revision).
//!
//! Line-based diff3: the base is diffed against each side (Myers, via `similar`, no deadline so
//! the diffs are minimal), and the base lines matched on *both* sides split the texts into stable
//! chunks and unstable chunks. An unstable chunk changed on one side only takes that side; changed
//! identically on both sides it is taken once; changed differently it is a conflict, written with
//! `<<<<<<< mine` / `||||||| base` / `=======` / `>>>>>>> theirs` markers.
//!
//! Lines keep their own line endings (`\n`, `\r\n`, or none on a final line), so a text without a
//! final newline stays so and CRLF lines come back as they were. A final line without a newline is
//! a different line from the same line with one (as in `git merge-file`).

use serde::Serialize;
use similar::{Algorithm, DiffOp};

/// The outcome of [`merge3`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Merge {
    /// Every change applied; no conflict.
    Clean(String),
    /// At least one region was changed differently on both sides. `text` holds the merge with
    /// conflict markers; `hunks` lists the conflicting regions in order.
    Conflicted { text: String, hunks: Vec<ConflictHunk> },
}

/// One conflicting region: the three versions of it, each its raw lines (endings included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictHunk {
    pub base: String,
    pub mine: String,
    pub theirs: String,
    /// The 1-based line of `text` holding this hunk's `<<<<<<< mine` marker.
    pub line: usize,
}

/// Marker lines, in the order they appear in a conflict block.
pub const MARKER_MINE: &str = "<<<<<<< mine";
pub const MARKER_BASE: &str = "||||||| base";
pub const MARKER_SEP: &str = "=======";
pub const MARKER_THEIRS: &str = ">>>>>>> theirs";

/// Splits a text into lines, each keeping its ending.
fn split_lines(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

/// For every line of `old`, the index of the line of `new` it is matched with, if any.
fn matches(old: &[&str], new: &[&str]) -> Vec<Option<usize>> {
    let mut m = vec![None; old.len()];
    for op in similar::capture_diff_slices(Algorithm::Myers, old, new) {
        if let DiffOp::Equal { old_index, new_index, len } = op {
            for k in 0..len {
                m[old_index + k] = Some(new_index + k);
            }
        }
    }
    m
}

/// Three-way merge of `mine` and `theirs`, both edited from `base`.
pub fn merge3(base: &str, mine: &str, theirs: &str) -> Merge {
    let o = split_lines(base);
    let a = split_lines(mine);
    let b = split_lines(theirs);
    let ma = matches(&o, &a);
    let mb = matches(&o, &b);
    // Markers end like the texts' lines do.
    let eol = if [&o, &a, &b].iter().any(|t| t.first().is_some_and(|l| l.ends_with("\r\n"))) { "\r\n" } else { "\n" };

    let mut out = String::with_capacity(mine.len().max(theirs.len()));
    let mut hunks = Vec::new();
    let (mut io, mut ia, mut ib) = (0usize, 0usize, 0usize);
    loop {
        // A stable run: the base line matched on both sides, at the current positions.
        while io < o.len() && ma[io] == Some(ia) && mb[io] == Some(ib) {
            out.push_str(o[io]);
            io += 1;
            ia += 1;
            ib += 1;
        }
        if io == o.len() && ia == a.len() && ib == b.len() {
            break;
        }
        // The unstable chunk runs up to the next base line matched on both sides (or the ends).
        let (eo, ea, eb) = match (io..o.len()).find(|&j| ma[j].is_some() && mb[j].is_some()) {
            Some(j) => (j, ma[j].unwrap_or(ia), mb[j].unwrap_or(ib)),
            None => (o.len(), a.len(), b.len()),
        };
        let (co, ca, cb) = (&o[io..eo], &a[ia..ea], &b[ib..eb]);
        if ca == co {
            cb.iter().for_each(|l| out.push_str(l));
        } else if cb == co || ca == cb {
            ca.iter().for_each(|l| out.push_str(l));
        } else {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(eol);
            }
            let line = out.matches('\n').count() + 1;
            let block = |out: &mut String, marker: &str, lines: &[&str]| {
                out.push_str(marker);
                out.push_str(eol);
                lines.iter().for_each(|l| out.push_str(l));
                if !out.ends_with('\n') {
                    out.push_str(eol);
                }
            };
            block(&mut out, MARKER_MINE, ca);
            block(&mut out, MARKER_BASE, co);
            block(&mut out, MARKER_SEP, cb);
            out.push_str(MARKER_THEIRS);
            out.push_str(eol);
            hunks.push(ConflictHunk { base: co.concat(), mine: ca.concat(), theirs: cb.concat(), line });
        }
        (io, ia, ib) = (eo, ea, eb);
    }
    if hunks.is_empty() {
        Merge::Clean(out)
    } else {
        Merge::Conflicted { text: out, hunks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clean(m: Merge) -> String {
        match m {
            Merge::Clean(s) => s,
            Merge::Conflicted { text, .. } => panic!("unexpected conflict:\n{text}"),
        }
    }

    fn conflicted(m: Merge) -> (String, Vec<ConflictHunk>) {
        match m {
            Merge::Clean(s) => panic!("expected a conflict, got a clean merge:\n{s}"),
            Merge::Conflicted { text, hunks } => (text, hunks),
        }
    }

    /// The conflicted text with every conflict block replaced by the side `pick` chooses.
    fn resolve(text: &str, hunks: &[ConflictHunk], pick: impl Fn(&ConflictHunk) -> String) -> String {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut i = 0;
        let mut h = hunks.iter();
        while i < lines.len() {
            if lines[i].trim_end_matches(['\r', '\n']) == MARKER_MINE {
                let hunk = h.next().expect("a marker without a hunk");
                assert_eq!(hunk.line, i + 1, "hunk line points at its marker");
                out.push_str(&pick(hunk));
                while lines[i].trim_end_matches(['\r', '\n']) != MARKER_THEIRS {
                    i += 1;
                }
            } else {
                out.push_str(lines[i]);
            }
            i += 1;
        }
        assert!(h.next().is_none(), "a hunk without a marker");
        out
    }

    #[test]
    fn one_side_changed_takes_it() {
        assert_eq!(clean(merge3("a\nb\nc\n", "a\nB\nc\n", "a\nb\nc\n")), "a\nB\nc\n");
        assert_eq!(clean(merge3("a\nb\nc\n", "a\nb\nc\n", "a\nb\nC\n")), "a\nb\nC\n");
    }

    #[test]
    fn same_edit_on_both_sides_is_not_a_conflict() {
        assert_eq!(clean(merge3("a\nb\nc\n", "a\nX\nc\n", "a\nX\nc\n")), "a\nX\nc\n");
        assert_eq!(clean(merge3("a\nb\nc\n", "a\nc\n", "a\nc\n")), "a\nc\n");
    }

    #[test]
    fn edits_separated_by_an_unchanged_line_merge() {
        let base = "1\n2\n3\n4\n5\n";
        assert_eq!(clean(merge3(base, "1\nTWO\n3\n4\n5\n", "1\n2\n3\nFOUR\n5\n")), "1\nTWO\n3\nFOUR\n5\n");
    }

    #[test]
    fn adjacent_edits_conflict() {
        // Classic diff3: changes touching neighbouring lines with no unchanged line between them
        // form one unstable chunk, which both sides changed.
        let (text, hunks) = conflicted(merge3("1\n2\n3\n4\n", "1\nTWO\n3\n4\n", "1\n2\nTHREE\n4\n"));
        assert_eq!(text, "1\n<<<<<<< mine\nTWO\n3\n||||||| base\n2\n3\n=======\n2\nTHREE\n>>>>>>> theirs\n4\n");
        assert_eq!(
            hunks,
            vec![ConflictHunk { base: "2\n3\n".into(), mine: "TWO\n3\n".into(), theirs: "2\nTHREE\n".into(), line: 2 }]
        );
    }

    #[test]
    fn overlapping_edits_conflict_with_markers() {
        let base = "intro\nbe brief\noutro\n";
        let (text, hunks) = conflicted(merge3(base, "intro\nbe very brief\noutro\n", "intro\nbe thorough\noutro\n"));
        assert_eq!(
            text,
            "intro\n<<<<<<< mine\nbe very brief\n||||||| base\nbe brief\n=======\nbe thorough\n>>>>>>> theirs\noutro\n"
        );
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].line, 2);
        assert_eq!(hunks[0].base, "be brief\n");
        assert_eq!(hunks[0].mine, "be very brief\n");
        assert_eq!(hunks[0].theirs, "be thorough\n");
    }

    #[test]
    fn two_conflicts_report_their_lines() {
        let base = "a\nb\nc\nd\ne\n";
        let (text, hunks) = conflicted(merge3(base, "a\nB1\nc\nD1\ne\n", "a\nB2\nc\nD2\ne\n"));
        assert_eq!(hunks.len(), 2);
        let lines: Vec<&str> = text.lines().collect();
        for h in &hunks {
            assert_eq!(lines[h.line - 1], MARKER_MINE);
        }
        assert_eq!(hunks[0].line, 2);
        assert_eq!(hunks[1].line, 2 + 7 + 1);
    }

    #[test]
    fn deletion_against_edit_conflicts_and_deletion_alone_applies() {
        let base = "a\nb\nc\n";
        let (text, hunks) = conflicted(merge3(base, "a\nc\n", "a\nB\nc\n"));
        assert_eq!(text, "a\n<<<<<<< mine\n||||||| base\nb\n=======\nB\n>>>>>>> theirs\nc\n");
        assert_eq!(hunks[0].mine, "");
        // A deletion on one side and an edit elsewhere on the other.
        assert_eq!(clean(merge3("a\nb\nc\nd\ne\n", "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n")), "a\nc\nd\nE\n");
        // Both sides delete the same line.
        assert_eq!(clean(merge3(base, "a\nc\n", "a\nc\n")), "a\nc\n");
    }

    #[test]
    fn empty_base() {
        assert_eq!(clean(merge3("", "mine\n", "")), "mine\n");
        assert_eq!(clean(merge3("", "", "theirs\n")), "theirs\n");
        assert_eq!(clean(merge3("", "same\n", "same\n")), "same\n");
        let (text, hunks) = conflicted(merge3("", "x\n", "y\n"));
        assert_eq!(text, "<<<<<<< mine\nx\n||||||| base\n=======\ny\n>>>>>>> theirs\n");
        assert_eq!(hunks[0].line, 1);
        assert_eq!(clean(merge3("", "", "")), "");
    }

    #[test]
    fn insertions_at_start_and_end() {
        let base = "a\nb\n";
        assert_eq!(clean(merge3(base, "top\na\nb\n", "a\nb\nbottom\n")), "top\na\nb\nbottom\n");
        assert_eq!(clean(merge3(base, "a\nb\nbottom\n", "top\na\nb\n")), "top\na\nb\nbottom\n");
        // Both insert different lines at the same place.
        let (_, hunks) = conflicted(merge3(base, "a\nb\nm\n", "a\nb\nt\n"));
        assert_eq!((hunks[0].base.as_str(), hunks[0].mine.as_str(), hunks[0].theirs.as_str()), ("", "m\n", "t\n"));
    }

    #[test]
    fn missing_final_newline_is_preserved() {
        assert_eq!(clean(merge3("a\nb\nc", "A\nb\nc", "a\nb\nc")), "A\nb\nc");
        assert_eq!(clean(merge3("a\nb\nc", "A\nb\nc", "a\nb\nC")), "A\nb\nC");
        // Adding a final newline is a change of the last line.
        assert_eq!(clean(merge3("a\nb\nc", "A\nb\nc", "a\nb\nc\n")), "A\nb\nc\n");
        // A conflict on the last line of texts without a final newline: markers stay on their own lines.
        let (text, hunks) = conflicted(merge3("a\nb", "a\nx", "a\ny"));
        assert_eq!(text, "a\n<<<<<<< mine\nx\n||||||| base\nb\n=======\ny\n>>>>>>> theirs\n");
        assert_eq!(hunks[0].mine, "x");
    }

    #[test]
    fn crlf_lines_are_kept() {
        let base = "a\r\nb\r\nc\r\nd\r\n";
        assert_eq!(clean(merge3(base, "A\r\nb\r\nc\r\nd\r\n", "a\r\nb\r\nc\r\nD\r\n")), "A\r\nb\r\nc\r\nD\r\n");
        let (text, _) = conflicted(merge3(base, "a\r\nX\r\nc\r\nd\r\n", "a\r\nY\r\nc\r\nd\r\n"));
        assert_eq!(text, "a\r\n<<<<<<< mine\r\nX\r\n||||||| base\r\nb\r\n=======\r\nY\r\n>>>>>>> theirs\r\nc\r\nd\r\n");
        // Mixed endings pass through untouched.
        assert_eq!(clean(merge3("a\nb\r\nc\n", "a\nb\r\nC\n", "a\nb\r\nc\n")), "a\nb\r\nC\n");
    }

    #[test]
    fn serializes() {
        let json = serde_json::to_value(merge3("a\n", "b\n", "a\n")).unwrap();
        assert_eq!(json, serde_json::json!({ "clean": "b\n" }));
        let json = serde_json::to_value(merge3("a\n", "b\n", "c\n")).unwrap();
        assert_eq!(json["conflicted"]["hunks"][0]["line"], 1);
    }

    /// Texts from a small alphabet of lines, so that repeated lines and accidental matches are common.
    fn text() -> impl Strategy<Value = String> {
        (prop::collection::vec(prop::sample::select(vec!["a\n", "b\n", "c\n", "d\r\n", "e"]), 0..12))
            .prop_map(|v| v.concat())
    }

    /// Which side edits a region in the non-overlapping property.
    #[derive(Debug, Clone)]
    enum Side {
        Mine,
        Theirs,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn one_sided_and_identical_changes_are_clean(b in text(), x in text()) {
            prop_assert_eq!(merge3(&b, &x, &b), Merge::Clean(x.clone()));
            prop_assert_eq!(merge3(&b, &b, &x), Merge::Clean(x.clone()));
            prop_assert_eq!(merge3(&b, &x, &x), Merge::Clean(x.clone()));
        }

        /// (b) Non-overlapping edits: a base of distinct lines is cut into regions separated by at
        /// least one unchanged line; some regions are replaced (or deleted, or have lines inserted
        /// at an empty region) in mine only, others in theirs only. The merge is clean and equals the
        /// base with both sets of edits applied.
        #[test]
        fn non_overlapping_edits_merge_exactly(
            n in 1usize..40,
            cuts in prop::collection::vec((0usize..40, 0usize..4, prop::option::of(any::<bool>()), 0usize..4), 0..10),
            final_newline in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let base_lines: Vec<String> = (0..n).map(|i| format!("base line {i}{eol}")).collect();
            // Regions as (start, len) in the base, kept only if they leave an unchanged line
            // between them and the previous region.
            let mut starts: Vec<(usize, usize, Option<Side>, usize)> = cuts
                .into_iter()
                .map(|(s, l, side, ins)| (s % (n + 1), l, side.map(|m| if m { Side::Mine } else { Side::Theirs }), ins))
                .collect();
            starts.sort_by_key(|r| r.0);
            let mut regions = Vec::new();
            let mut next_free = 0usize;
            for (s, l, side, ins) in starts {
                if s < next_free {
                    continue;
                }
                let l = l.min(n - s);
                // An edit must change something.
                if l == 0 && ins == 0 {
                    continue;
                }
                regions.push((s, l, side, ins));
                next_free = s + l + 1;
            }
            let mut base = String::new();
            let mut mine = String::new();
            let mut theirs = String::new();
            let mut expected = String::new();
            let mut i = 0;
            let mut k = 0;
            let mut regions = regions.into_iter().peekable();
            while i <= n {
                if let Some(&(s, l, ref side, ins)) = regions.peek() {
                    if s == i {
                        let side = side.clone();
                        let old: String = base_lines[s..s + l].concat();
                        let new: String = (0..ins).map(|j| { k += 1; format!("{}{k}.{j}{eol}", match side { Some(Side::Mine) => "mine ", Some(Side::Theirs) => "theirs ", None => "both " }) }).collect();
                        base.push_str(&old);
                        expected.push_str(&new);
                        match side {
                            Some(Side::Mine) => { mine.push_str(&new); theirs.push_str(&old); }
                            Some(Side::Theirs) => { mine.push_str(&old); theirs.push_str(&new); }
                            // The same edit made on both sides.
                            None => { mine.push_str(&new); theirs.push_str(&new); }
                        }
                        regions.next();
                        i = s + l;
                        continue;
                    }
                }
                if i < n {
                    for t in [&mut base, &mut mine, &mut theirs, &mut expected] {
                        t.push_str(&base_lines[i]);
                    }
                }
                i += 1;
            }
            // Texts without a final newline: an unchanged last line without one (adding or
            // removing the final newline of a line is itself an edit of that line).
            if !final_newline {
                for t in [&mut base, &mut mine, &mut theirs, &mut expected] {
                    t.push_str("the end");
                }
            }
            prop_assert_eq!(merge3(&base, &mine, &theirs), Merge::Clean(expected));
        }

        /// (c) Conflicts: every hunk's marker sits at its `line`, its three sides all differ, and
        /// the merge is symmetric: swapping mine and theirs gives the same clean text, or the same
        /// hunks with the sides swapped; so resolving every hunk with mine gives the text that
        /// resolving the swapped merge's hunks with theirs gives.
        #[test]
        fn conflicts_are_well_formed_and_symmetric(b in text(), m in text(), t in text()) {
            let forward = merge3(&b, &m, &t);
            let backward = merge3(&b, &t, &m);
            match (&forward, &backward) {
                (Merge::Clean(x), Merge::Clean(y)) => prop_assert_eq!(x, y),
                (Merge::Conflicted { text: tf, hunks: hf }, Merge::Conflicted { text: tb, hunks: hb }) => {
                    prop_assert_eq!(hf.len(), hb.len());
                    for (f, r) in hf.iter().zip(hb) {
                        prop_assert!(f.mine != f.theirs && f.mine != f.base && f.theirs != f.base);
                        prop_assert_eq!((&f.base, &f.mine, &f.theirs, f.line), (&r.base, &r.theirs, &r.mine, r.line));
                    }
                    let with_mine = resolve(tf, hf, |h| h.mine.clone());
                    prop_assert_eq!(&with_mine, &resolve(tb, hb, |h| h.theirs.clone()));
                    let with_theirs = resolve(tf, hf, |h| h.theirs.clone());
                    prop_assert_eq!(&with_theirs, &resolve(tb, hb, |h| h.mine.clone()));
                }
                _ => prop_assert!(false, "asymmetric outcome: {forward:?} / {backward:?}"),
            }
        }
    }
}
