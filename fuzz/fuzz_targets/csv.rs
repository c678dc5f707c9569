//! Any bytes as a CSV table: parsing, type inference and typed conversion never panic, and what
//! parses is consistent (one line number per row, every row as wide as the header).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = awf_ingest::table::parse_csv(data, awf_ingest::table::CsvOptions::default()) {
        assert_eq!(parsed.rows.len(), parsed.row_lines.len());
        for r in &parsed.rows {
            assert_eq!(r.len(), parsed.header.len());
        }
        let columns = awf_ingest::table::infer_columns(&parsed);
        assert_eq!(columns.len(), parsed.header.len());
        // Inferred types always fit the data they were inferred from.
        assert!(awf_ingest::table::typed_rows(&columns, &parsed.rows, Some(&parsed.row_lines)).is_ok());
    }
});
