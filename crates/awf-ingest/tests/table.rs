//! CSV tables from fixture files: quoting, encodings, delimiters, ragged rows, types, limits.

use awf_ingest::table::{self, limits, CellError, ColumnType, CsvOptions, ParsedCsv, RaggedRow, TableError};
use awf_ingest::text::SourceEncoding;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/csv/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> Result<ParsedCsv, TableError> {
    table::parse_csv(&fixture(name), CsvOptions::default())
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

#[test]
fn quoted_fields_commas_newlines_and_escaped_quotes() {
    let p = parse("quoted.csv").unwrap();
    assert_eq!(p.delimiter, b',');
    assert_eq!(p.header, strings(&["id", "name", "note"]));
    assert_eq!(
        p.rows,
        vec![
            strings(&["1", "Smith, John", "said \"hi\""]),
            strings(&["2", "multi\nline\nnote", "plain"]),
            strings(&["3", "after", "x"]),
        ]
    );
    // Row 2 spans lines 3–5, so row 3 starts on line 6.
    assert_eq!(p.row_lines, vec![2, 3, 6]);
}

#[test]
fn utf8_bom_is_not_part_of_the_first_name() {
    let p = parse("bom.csv").unwrap();
    assert_eq!(p.encoding, SourceEncoding::Utf8Bom);
    assert_eq!(p.header, strings(&["name", "city"]));
    assert!(!p.header[0].starts_with('\u{FEFF}'));
    assert_eq!(p.rows, vec![strings(&["张三", "北京"])]);
}

#[test]
fn gbk_file_is_decoded() {
    let bytes = fixture("gbk.csv");
    // The fixture is what encoding_rs writes as GBK.
    assert_eq!(bytes, encoding_rs::GBK.encode("姓名,年龄,城市\n张三,28,北京\n李四,35,上海\n王五,41,广州\n").0.as_ref());
    let p = table::parse_csv(&bytes, CsvOptions::default()).unwrap();
    assert_eq!(p.encoding, SourceEncoding::Gb18030);
    assert_eq!(p.header, strings(&["姓名", "年龄", "城市"]));
    assert_eq!(p.rows[2], strings(&["王五", "41", "广州"]));
    let types: Vec<_> = table::infer_columns(&p).into_iter().map(|c| c.ty).collect();
    assert_eq!(types, vec![ColumnType::Text, ColumnType::Integer, ColumnType::Text]);
}

#[test]
fn latin1_file_is_refused_with_its_place() {
    match parse("latin1.csv") {
        Err(TableError::Encoding(e)) => {
            assert_eq!((e.line, e.offset), (2, 14));
            assert!(e.message.contains("UTF-8"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn semicolon_and_tab_are_detected() {
    let p = parse("semicolon.csv").unwrap();
    assert_eq!(p.delimiter, b';');
    assert_eq!(p.rows[0], strings(&["café", "1,50", "12"]));
    let p = parse("tab.csv").unwrap();
    assert_eq!(p.delimiter, b'\t');
    assert_eq!(p.rows[0], strings(&["1", "Ada", "first, and best"]));
}

#[test]
fn a_given_delimiter_is_used() {
    let p = table::parse_csv(b"a|b,c\n1|2,3\n", CsvOptions { delimiter: Some(b'|'), has_header: true }).unwrap();
    assert_eq!(p.header, strings(&["a", "b,c"]));
}

#[test]
fn every_ragged_row_is_reported_by_line() {
    match parse("ragged.csv") {
        Err(TableError::Ragged(rows)) => assert_eq!(
            rows,
            vec![
                RaggedRow { line: 3, expected: 3, found: 2 },
                RaggedRow { line: 5, expected: 3, found: 4 },
                RaggedRow { line: 6, expected: 3, found: 1 },
            ]
        ),
        other => panic!("{other:?}"),
    }
    let message = parse("ragged.csv").unwrap_err().to_string();
    assert!(message.contains("3 row(s)") && message.contains("line 3"), "{message}");
}

#[test]
fn type_errors_by_row_line_and_column() {
    let p = parse("types.csv").unwrap();
    let mut columns = table::infer_columns(&p);
    // Inference sees the bad cells and falls back to Text for those columns.
    let inferred: Vec<_> = columns.iter().map(|c| c.ty).collect();
    assert_eq!(
        inferred,
        vec![ColumnType::Text, ColumnType::Text, ColumnType::Text, ColumnType::Text, ColumnType::Number]
    );
    // The user says what the columns are.
    columns[1].ty = ColumnType::Integer;
    columns[2].ty = ColumnType::Date;
    columns[3].ty = ColumnType::Boolean;
    let errors = table::typed_rows(&columns, &p.rows, Some(&p.row_lines)).unwrap_err();
    let places: Vec<_> =
        errors.iter().map(|e| (e.row, e.line, e.column.as_str(), e.value.as_str(), e.expected)).collect();
    assert_eq!(
        places,
        vec![
            (3, Some(4), "age", "abc", ColumnType::Integer),
            (3, Some(4), "joined", "2023-02-30", ColumnType::Date),
            (3, Some(4), "active", "maybe", ColumnType::Boolean),
        ]
    );
    assert!(errors.iter().all(|e| !e.message.is_empty()));

    // Without the bad row everything converts.
    let ok = table::typed_rows(&columns, &p.rows[..2], None).unwrap();
    assert_eq!(ok[0], vec![serde_json::json!("Ada"), 36.into(), "2024-01-31".into(), true.into(), 9.5.into()]);
    assert_eq!(ok[1][4], serde_json::json!(8.0));
}

#[test]
fn cell_errors_stop_at_one_thousand() {
    let columns = vec![table::Column { name: "n".into(), ty: ColumnType::Integer }];
    let rows: Vec<Vec<String>> = (0..1500).map(|_| vec!["x".to_string()]).collect();
    let errors: Vec<CellError> = table::typed_rows(&columns, &rows, None).unwrap_err();
    assert_eq!(errors.len(), limits::MAX_CELL_ERRORS);
    assert_eq!(errors[999].row, 1000);
    assert_eq!(errors[0].line, None);
}

#[test]
fn header_only_is_an_empty_table() {
    let p = parse("header_only.csv").unwrap();
    assert_eq!(p.header, strings(&["id", "name", "email"]));
    assert!(p.rows.is_empty() && p.row_lines.is_empty());
    assert!(table::infer_columns(&p).iter().all(|c| c.ty == ColumnType::Text));
}

#[test]
fn empty_file_is_empty() {
    assert_eq!(parse("empty.csv"), Err(TableError::Empty));
    assert_eq!(table::parse_csv(b"\n\n  \n", CsvOptions::default()), Err(TableError::Empty));
    assert_eq!(table::parse_csv(b"", CsvOptions { delimiter: None, has_header: false }), Err(TableError::Empty));
}

#[test]
fn crlf_line_endings() {
    let p = parse("crlf.csv").unwrap();
    assert_eq!(p.header, strings(&["id", "name"]));
    assert_eq!(p.rows, vec![strings(&["1", "two\r\nlines"]), strings(&["2", "b"])]);
    assert_eq!(p.row_lines, vec![2, 4]);
}

#[test]
fn blank_lines_are_not_rows_and_lines_stay_right() {
    let p = parse("blank_lines.csv").unwrap();
    assert_eq!(p.rows, vec![strings(&["1", "a"]), strings(&["2", "b"]), strings(&["3", "c"])]);
    assert_eq!(p.row_lines, vec![3, 6, 8]);
}

#[test]
fn blank_and_duplicate_header_names() {
    let p = parse("headers.csv").unwrap();
    assert_eq!(p.header, strings(&["id", "column_2", "name", "name_2", "column_5"]));
}

#[test]
fn no_header_names_columns() {
    let p = table::parse_csv(b"1,2\n3,4\n", CsvOptions { delimiter: None, has_header: false }).unwrap();
    assert_eq!(p.header, strings(&["column_1", "column_2"]));
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.row_lines, vec![1, 2]);
}

#[test]
fn unclosed_quote_names_its_line() {
    match parse("unclosed.csv") {
        Err(TableError::Csv { line, message }) => {
            assert_eq!(line, 3);
            assert!(message.contains("quote"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_are_enforced() {
    let wide = (0..=limits::MAX_COLUMNS).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
    assert_eq!(
        table::parse_csv(wide.as_bytes(), CsvOptions::default()),
        Err(TableError::TooLarge { what: "the number of columns", limit: 256, actual: 257 })
    );
    let big = format!("a\n{}\n", "x".repeat(limits::MAX_CELL_BYTES + 1));
    assert!(matches!(
        table::parse_csv(big.as_bytes(), CsvOptions::default()),
        Err(TableError::TooLarge { what: "a cell's size in bytes", actual, .. }) if actual == 65_537
    ));
    let mut many = String::from("n\n");
    for _ in 0..=limits::MAX_ROWS {
        many.push_str("1\n");
    }
    assert_eq!(
        table::parse_csv(many.as_bytes(), CsvOptions::default()),
        Err(TableError::TooLarge { what: "the number of rows", limit: 1_000_000, actual: 1_000_001 })
    );
}

#[test]
fn utf16_csv() {
    let mut bytes = vec![0xFF, 0xFE];
    for u in "a,b\n1,2\n".encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let p = table::parse_csv(&bytes, CsvOptions::default()).unwrap();
    assert_eq!(p.encoding, SourceEncoding::Utf16Le);
    assert_eq!(p.rows, vec![strings(&["1", "2"])]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_csv_never_panics_on_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        delimiter in proptest::sample::select(vec![b';', b'"', b'\n', b'\r', 0, b' ', 0xE4]),
    ) {
        let _ = table::parse_csv(&bytes, CsvOptions::default());
        let _ = table::parse_csv(&bytes, CsvOptions { delimiter: Some(delimiter), has_header: false });
    }

    #[test]
    fn parse_csv_never_panics_with_odd_delimiters(
        text in "[a,;\"\r\n 张]{0,100}",
        delimiter in proptest::sample::select(vec![b'"', b'\n', b'\r', 0, 0xE4, 0xBC]),
    ) {
        let _ = table::parse_csv(text.as_bytes(), CsvOptions { delimiter: Some(delimiter), has_header: true });
    }

    #[test]
    fn parse_csv_never_panics_on_csvish_text(text in "[a-c,;\t|\"\r\n 张é]{0,200}") {
        if let Ok(p) = table::parse_csv(text.as_bytes(), CsvOptions::default()) {
            prop_assert_eq!(p.rows.len(), p.row_lines.len());
            prop_assert!(p.rows.iter().all(|r| r.len() == p.header.len()));
            prop_assert!(p.row_lines.windows(2).all(|w| w[0] < w[1]));
            let columns = table::infer_columns(&p);
            // Inferred types always accept their column.
            prop_assert!(table::typed_rows(&columns, &p.rows, Some(&p.row_lines)).is_ok());
        }
    }

    #[test]
    fn inferred_types_accept_their_cells(cells in proptest::collection::vec("(-?[0-9]{1,5}(\\.[0-9]{1,3})?|yes|NO|是|2024-0[1-9]-1[0-9]|x)?", 1..30)) {
        let p = ParsedCsv {
            encoding: SourceEncoding::Utf8,
            delimiter: b',',
            header: vec!["c".into()],
            rows: cells.iter().map(|c| vec![c.clone()]).collect(),
            row_lines: (2..).take(cells.len()).collect(),
        };
        let columns = table::infer_columns(&p);
        prop_assert!(table::typed_rows(&columns, &p.rows, None).is_ok());
    }
}
