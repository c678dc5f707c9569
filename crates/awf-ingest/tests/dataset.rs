//! Dataset files: validation by format (with places) and chunking (units, bounds, coverage,
//! determinism, speed).

use std::time::Instant;

use awf_ingest::dataset::{self, Chunk, ChunkOptions, DatasetFormat};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/dataset/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn opts(max_chars: u32, overlap_chars: u32) -> ChunkOptions {
    ChunkOptions { max_chars, overlap_chars }
}

/// The invariants every chunking has: numbered in order, ranges in order and within the text on
/// character boundaries, texts within bounds.
fn check_invariants(format: DatasetFormat, text: &str, o: ChunkOptions, chunks: &[Chunk], extra_chars: usize) {
    for (i, c) in chunks.iter().enumerate() {
        let (s, e) = (c.start as usize, c.end as usize);
        assert_eq!(c.index as usize, i);
        assert!(s < e && e <= text.len(), "{format:?} chunk {i}: {s}..{e} of {}", text.len());
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e), "{format:?} chunk {i}: {s}..{e}");
        assert!(
            c.text.chars().count() <= o.max_chars as usize + extra_chars,
            "{format:?} chunk {i} has {} chars",
            c.text.chars().count()
        );
        assert!(!c.text.trim().is_empty());
        if matches!(format, DatasetFormat::Txt | DatasetFormat::Markdown | DatasetFormat::Jsonl) {
            assert_eq!(c.text, &text[s..e]);
        }
        if i > 0 {
            let p = &chunks[i - 1];
            assert!(p.start < c.start && p.end < c.end, "{format:?} chunk {i} is out of order");
        }
    }
}

/// Every byte of `text[from..]` outside all chunk ranges is whitespace (or one of `allowed`).
fn check_coverage(text: &str, from: usize, chunks: &[Chunk], allowed: &[char]) {
    let mut covered = from;
    let gap_ok = |gap: &str| gap.chars().all(|c| c.is_whitespace() || allowed.contains(&c));
    for c in chunks {
        let s = c.start as usize;
        if s > covered {
            assert!(gap_ok(&text[covered..s]), "uncovered {:?}", &text[covered..s]);
        }
        covered = covered.max(c.end as usize);
    }
    assert!(gap_ok(&text[covered..]), "uncovered tail {:?}", &text[covered..]);
}

// ---------------------------------------------------------------------------------------------
// Validation.

#[test]
fn plain_text_and_markdown_always_pass() {
    for text in ["", "{ not json", "a,\"b\n", "# x"] {
        assert_eq!(dataset::validate(DatasetFormat::Txt, text), Ok(()));
        assert_eq!(dataset::validate(DatasetFormat::Markdown, text), Ok(()));
    }
}

#[test]
fn json_errors_have_line_and_column() {
    assert_eq!(dataset::validate(DatasetFormat::Json, &fixture("items.json")), Ok(()));
    let e = dataset::validate(DatasetFormat::Json, &fixture("bad.json")).unwrap_err();
    assert_eq!((e.line, e.column), (4, 1));
    assert!(e.message.starts_with("not valid JSON"), "{}", e.message);
    assert!(!e.message.contains("at line"), "{}", e.message);
    assert!(dataset::validate(DatasetFormat::Json, "").is_err());
    assert_eq!(dataset::validate(DatasetFormat::Json, "[1] x").unwrap_err().column, 5);
}

#[test]
fn jsonl_errors_have_the_line() {
    assert_eq!(dataset::validate(DatasetFormat::Jsonl, &fixture("records.jsonl")), Ok(()));
    let e = dataset::validate(DatasetFormat::Jsonl, &fixture("bad.jsonl")).unwrap_err();
    assert_eq!((e.line, e.column), (3, 9));
    assert_eq!(dataset::validate(DatasetFormat::Jsonl, ""), Ok(()));
    assert_eq!(dataset::validate(DatasetFormat::Jsonl, "1\r\n\r\n\"a\"\r\n"), Ok(()));
    assert_eq!(dataset::validate(DatasetFormat::Jsonl, "1\n\n{\n").unwrap_err().line, 3);
}

#[test]
fn csv_errors_have_the_line() {
    assert_eq!(dataset::validate(DatasetFormat::Csv, &fixture("rows.csv")), Ok(()));
    assert_eq!(dataset::validate(DatasetFormat::Csv, ""), Ok(()));
    let e = dataset::validate(DatasetFormat::Csv, "a,b\n1,2\n3\n4,5,6\n").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.contains("1 more row"), "{}", e.message);
    let e = dataset::validate(DatasetFormat::Csv, "a,b\n1,\"open\n2,3\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("quote"), "{}", e.message);
}

#[test]
fn formats_from_file_names() {
    assert_eq!(DatasetFormat::from_file_name("a.MD"), Some(DatasetFormat::Markdown));
    assert_eq!(DatasetFormat::from_file_name("x.ndjson"), Some(DatasetFormat::Jsonl));
    assert_eq!(DatasetFormat::from_file_name("x.pdf"), None);
    assert_eq!(DatasetFormat::from_file_name("noext"), None);
}

// ---------------------------------------------------------------------------------------------
// Chunking by format.

#[test]
fn markdown_prefers_headings() {
    let text = fixture("guide.md");
    let o = opts(200, 0);
    let chunks = dataset::chunks(DatasetFormat::Markdown, &text, o);
    check_invariants(DatasetFormat::Markdown, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &[]);
    assert!(chunks.len() >= 3);
    // Every chunk but the first starts with a heading, and the code block's comment is never
    // taken for one.
    for c in &chunks[1..] {
        assert!(c.text.starts_with('#'), "{:?}", c.text);
        assert!(!c.text.starts_with("# not a heading"));
    }
}

#[test]
fn text_prefers_paragraphs_then_sentences() {
    let text = fixture("notes.txt");
    let o = opts(130, 0);
    let chunks = dataset::chunks(DatasetFormat::Txt, &text, o);
    check_invariants(DatasetFormat::Txt, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &[]);
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    // The Chinese paragraph is one chunk (it fits); the English one ends at a sentence.
    assert!(texts[0].starts_with("第一段") && texts[0].ends_with("是不是？"), "{texts:?}");
    assert!(texts[1].starts_with("Second paragraph.") && texts[1].ends_with('.'), "{texts:?}");
}

#[test]
fn text_overlap_repeats_the_previous_end() {
    let text = "word ".repeat(400);
    let o = opts(100, 30);
    let chunks = dataset::chunks(DatasetFormat::Txt, &text, o);
    check_invariants(DatasetFormat::Txt, &text, o, &chunks, 0);
    for w in chunks.windows(2) {
        let (p, n) = (&w[0], &w[1]);
        assert!(n.start < p.end);
        assert_eq!(text[n.start as usize..p.end as usize].chars().count(), 30);
    }
}

#[test]
fn cjk_overlap_is_on_character_boundaries() {
    let text = "中文字符没有空格也没有标点".repeat(100);
    let o = opts(100, 10);
    let chunks = dataset::chunks(DatasetFormat::Txt, &text, o);
    check_invariants(DatasetFormat::Txt, &text, o, &chunks, 0);
    assert_eq!(chunks[0].text.chars().count(), 100);
    assert_eq!(chunks[1].start, chunks[0].end - 30); // 10 characters of 3 bytes
}

#[test]
fn jsonl_records_are_merged_and_never_split_when_they_fit() {
    let text = fixture("records.jsonl");
    let o = opts(140, 0);
    let chunks = dataset::chunks(DatasetFormat::Jsonl, &text, o);
    check_invariants(DatasetFormat::Jsonl, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &[]);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].text.lines().count(), 2);
    for c in &chunks {
        for line in c.text.lines().filter(|l| !l.trim().is_empty()) {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}

#[test]
fn jsonl_long_record_is_cut() {
    let long = format!("{{\"text\": \"{}\"}}", "lorem ipsum ".repeat(50));
    let text = format!("{{\"a\":1}}\n{long}\n{{\"b\":2}}\n");
    let o = opts(100, 20);
    let chunks = dataset::chunks(DatasetFormat::Jsonl, &text, o);
    check_invariants(DatasetFormat::Jsonl, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &[]);
    assert_eq!(chunks[0].text, "{\"a\":1}");
    assert_eq!(chunks.last().unwrap().text, "{\"b\":2}");
}

#[test]
fn csv_chunks_repeat_the_header() {
    let text = fixture("rows.csv");
    let o = opts(100, 0);
    let chunks = dataset::chunks(DatasetFormat::Csv, &text, o);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].text, text.trim_end());
    assert_eq!(chunks[0].start as usize, "question,answer\n".len());

    let mut big = String::from("id,text\n");
    for i in 0..60 {
        big.push_str(&format!("{i},\"row {i}, with a comma\"\n"));
    }
    let chunks = dataset::chunks(DatasetFormat::Csv, &big, o);
    check_invariants(DatasetFormat::Csv, &big, o, &chunks, "id,text\n".len());
    check_coverage(&big, "id,text\n".len(), &chunks, &[]);
    assert!(chunks.len() > 5);
    for c in &chunks {
        assert!(c.text.starts_with("id,text\n"));
        assert!(c.text["id,text\n".len()..].starts_with(|ch: char| ch.is_ascii_digit()));
        assert_eq!(&c.text["id,text\n".len()..], &big[c.start as usize..c.end as usize]);
    }
}

#[test]
fn csv_header_only_and_empty() {
    let chunks = dataset::chunks(DatasetFormat::Csv, "a,b\n", ChunkOptions::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!((chunks[0].start, chunks[0].end, chunks[0].text.as_str()), (0, 3, "a,b"));
    assert!(dataset::chunks(DatasetFormat::Csv, "", ChunkOptions::default()).is_empty());
    assert!(dataset::chunks(DatasetFormat::Txt, " \n\t", ChunkOptions::default()).is_empty());
    // Blank text is no content in any format: a CSV whose only "header" is tabs and spaces too.
    for format in
        [DatasetFormat::Txt, DatasetFormat::Markdown, DatasetFormat::Csv, DatasetFormat::Json, DatasetFormat::Jsonl]
    {
        for blank in ["\t   \t", " ", "\r\n\r\n", "\t\n\t\n"] {
            assert!(dataset::chunks(format, blank, ChunkOptions::default()).is_empty(), "{format:?} {blank:?}");
        }
    }
}

#[test]
fn json_array_items_are_grouped_compactly() {
    let text = fixture("items.json");
    let chunks = dataset::chunks(DatasetFormat::Json, &text, ChunkOptions::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0].text,
        "{\"id\":1,\"text\":\"first item\"}\n{\"id\":2,\"text\":\"second item\",\"tags\":[\"a\",\"b\"]}\n3\n\"four\""
    );
    assert_eq!(chunks[0].start as usize, text.find('{').unwrap());
    assert_eq!(chunks[0].end as usize, text.rfind('"').unwrap() + 1);

    let o = opts(100, 10);
    let chunks = dataset::chunks(DatasetFormat::Json, &text, o);
    check_invariants(DatasetFormat::Json, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &['[', ']', ',']);
    // 87 characters once compact: one chunk, although the file has 109 bytes.
    assert_eq!(chunks.len(), 1);
    // Four items of 38 characters: two fit in 100 (38 + 1 + 38), three do not.
    let item = "\"abcdefghijklmnopqrstuvwxyzabcdefghij\"";
    let chunks = dataset::chunks(DatasetFormat::Json, &format!("[{item}, {item}, {item}, {item}]"), o);
    assert_eq!(chunks.iter().map(|c| c.text.lines().count()).collect::<Vec<_>>(), vec![2, 2]);
}

#[test]
fn json_that_is_not_an_array_is_text() {
    let text = format!("{{\"long\": \"{}\"}}", "words and more words. ".repeat(30));
    let o = opts(100, 10);
    let chunks = dataset::chunks(DatasetFormat::Json, &text, o);
    check_invariants(DatasetFormat::Txt, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &[]);
    assert!(chunks.len() > 5);
}

#[test]
fn long_whitespace_is_neither_a_chunk_nor_overlapped() {
    let text = format!("{}{}{}", "first words ".repeat(20), " \n".repeat(5000), "last words ".repeat(20));
    let o = opts(100, 40);
    let chunks = dataset::chunks(DatasetFormat::Txt, &text, o);
    check_invariants(DatasetFormat::Txt, &text, o, &chunks, 0);
    check_coverage(&text, 0, &chunks, &[]);
    assert!(chunks.len() < 10, "{}", chunks.len());
    let last_first = chunks.iter().rposition(|c| c.text.contains("first")).unwrap();
    assert!(chunks[last_first + 1].text.starts_with("last words"));
}

#[test]
fn chunking_is_deterministic() {
    let text = fixture("guide.md");
    let a = dataset::chunks(DatasetFormat::Markdown, &text, opts(150, 20));
    let b = dataset::chunks(DatasetFormat::Markdown, &text, opts(150, 20));
    assert_eq!(a, b);
}

#[test]
fn options_out_of_bounds_are_clamped() {
    let text = "x".repeat(1000);
    let chunks = dataset::chunks(DatasetFormat::Txt, &text, opts(1, 1000));
    assert!(chunks.iter().all(|c| c.text.len() <= 100));
    assert!(opts(1, 1000).validate().is_err());
}

/// Linear time: several megabytes of mixed text chunk quickly even in a debug build (the
/// release figure for 50 MB is in `fifty_megabytes_in_release`).
#[test]
fn chunking_is_linear() {
    let paragraph = "A sentence of English text. 一个中文句子。Another sentence here!\nA second line\n\n";
    let text = paragraph.repeat(4 * 1024 * 1024 / paragraph.len());
    for format in [DatasetFormat::Txt, DatasetFormat::Markdown, DatasetFormat::Jsonl] {
        let started = Instant::now();
        let chunks = dataset::chunks(format, &text, ChunkOptions::default());
        assert!(chunks.len() > 1000);
        assert!(started.elapsed().as_secs() < 20, "{format:?}: {:?}", started.elapsed());
    }
}

/// 50 MB of text with no break at all (the worst case: every chunk is a hard cut) and 50 MB of
/// prose. Run with `cargo test --release -p awf-ingest --test dataset -- --ignored`.
#[test]
#[ignore = "timing: meaningful in release builds only"]
fn fifty_megabytes_in_release() {
    let size = 50 * 1024 * 1024;
    let prose = "Lorem ipsum dolor sit amet. 中文句子也在这里。\n\n".repeat(size / 64);
    let solid = "中".repeat(size / 3);
    for (name, text) in [("prose", &prose), ("solid", &solid)] {
        for o in [ChunkOptions::default(), opts(100, 49), opts(8000, 0)] {
            let started = Instant::now();
            let n = dataset::chunks(DatasetFormat::Txt, text, o).len();
            let took = started.elapsed();
            eprintln!("{name} {o:?}: {n} chunks in {took:?}");
            assert!(took.as_secs_f64() < 3.0, "{name} {o:?} took {took:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn any_format() -> impl Strategy<Value = DatasetFormat> {
    prop_oneof![
        Just(DatasetFormat::Txt),
        Just(DatasetFormat::Markdown),
        Just(DatasetFormat::Csv),
        Just(DatasetFormat::Json),
        Just(DatasetFormat::Jsonl),
    ]
}

fn any_options() -> impl Strategy<Value = ChunkOptions> {
    (100u32..400).prop_flat_map(|max| (Just(max), 0..max / 2)).prop_map(|(max, overlap)| opts(max, overlap))
}

/// Text with every kind of break: words, sentences of both scripts, lines, blank lines,
/// headings, fences, quotes and JSON punctuation.
fn texty() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[a-z]{1,12}",
            Just(" ".to_string()),
            Just(". ".to_string()),
            Just("。".to_string()),
            Just("？」".to_string()),
            Just("\n".to_string()),
            Just("\n\n".to_string()),
            Just("\n# Heading\n".to_string()),
            Just("\n```\n# code\n```\n".to_string()),
            Just("\r\n".to_string()),
            "[中文字符é😀]{1,20}",
            "[\",{}\\[\\]:]{1,3}",
            Just("\t   \t".to_string()),
            "[ \n]{50,300}",
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn chunks_hold_their_invariants(format in any_format(), text in texty(), o in any_options()) {
        let chunks = dataset::chunks(format, &text, o);
        let header_chars = if format == DatasetFormat::Csv {
            chunks.first().and_then(|c| c.text.split_once('\n')).map_or(0, |(h, _)| h.chars().count() + 1)
        } else {
            0
        };
        // CSV headers may hold newlines in quotes; bound their text loosely, their ranges strictly.
        let extra = if format == DatasetFormat::Csv { header_chars.max(text.chars().count()) } else { 0 };
        check_invariants(format, &text, o, &chunks, extra);
        if matches!(format, DatasetFormat::Txt | DatasetFormat::Markdown | DatasetFormat::Jsonl) {
            check_coverage(&text, 0, &chunks, &[]);
        }
        prop_assert_eq!(chunks, dataset::chunks(format, &text, o));
    }

    #[test]
    fn chunks_never_panic_on_any_text(format in any_format(), text in "\\PC{0,300}", o in any_options()) {
        let chunks = dataset::chunks(format, &text, o);
        for c in &chunks {
            prop_assert!(text.is_char_boundary(c.start as usize) && text.is_char_boundary(c.end as usize));
        }
        let _ = dataset::validate(format, &text);
    }

    #[test]
    fn csv_rows_are_covered_and_bounded(rows in proptest::collection::vec("[a-z 张,.]{0,40}", 0..80), o in any_options()) {
        let text = format!("q,a\n{}", rows.join("\n"));
        let chunks = dataset::chunks(DatasetFormat::Csv, &text, o);
        check_invariants(DatasetFormat::Csv, &text, o, &chunks, "q,a\n".len());
        if text[4..].trim().is_empty() {
            prop_assert_eq!(chunks.len(), 1);
        } else {
            check_coverage(&text, 4, &chunks, &[]);
            for c in &chunks {
                prop_assert!(c.text.starts_with("q,a\n"));
            }
        }
    }

    #[test]
    fn json_arrays_are_covered_and_bounded(items in proptest::collection::vec("[a-z 中]{0,150}", 0..40), o in any_options()) {
        let text = serde_json::to_string_pretty(&items).unwrap();
        let chunks = dataset::chunks(DatasetFormat::Json, &text, o);
        check_invariants(DatasetFormat::Json, &text, o, &chunks, 0);
        check_coverage(&text, 0, &chunks, &['[', ']', ',']);
        // Grouped items are one compact JSON string per line; a cut item is a slice of the text.
        for c in &chunks {
            let raw = &text[c.start as usize..c.end as usize];
            prop_assert!(c.text == raw || c.text.lines().all(|l| serde_json::from_str::<String>(l).is_ok()));
        }
    }
}
