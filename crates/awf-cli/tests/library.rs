//! `awf plugin|dataset|table|search|bundle …` end to end on real profiles (store key in the real
//! OS keyring; `cargo xtask test` runs this inside a D-Bus session with gnome-keyring).

mod common;
use common::*;

fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../awf-ingest/tests/fixtures").join(rel)
}

fn json(c: std::process::Command) -> serde_json::Value {
    serde_json::from_str(&ok(c)).expect("--json prints JSON")
}

#[test]
fn plugin_import_lists_tools_and_a_broken_document_names_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = awf(dir.path());
    c.args(["plugin", "import", "--json"]).arg(fixture("openapi/petstore.yaml"));
    let p = json(c);
    let tools: Vec<&str> = p["spec"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["listPets", "createPets", "showPetById"]);

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "openapi: 3.0.0\ninfo:\n  title: t\n  version: '1'\npaths:\n  /a/{id}:\n    get:\n      responses:\n        '200':\n          description: ok\n").unwrap();
    let mut c = awf(dir.path());
    c.args(["plugin", "import"]).arg(&bad);
    let err = String::from_utf8_lossy(&fails(c).stderr).into_owned();
    assert!(err.starts_with("error[invalid_file]: `bad.yaml`: at /paths/~1a~1{id}"), "{err}");
    assert!(err.contains("(line 6)") || err.contains("(line 7)"), "{err}");
    assert!(err.contains("id"), "{err}");

    let mut c = awf(dir.path());
    c.args(["plugin", "list", "--json"]);
    assert_eq!(json(c).as_array().unwrap().len(), 1, "the broken document added nothing");
}

#[test]
fn table_import_reports_pii_and_refuses_ragged_rows_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    std::fs::write(&csv, "name,phone,email\n\"Li, Lei\",13812345678,li@example.com\n\"Wang\nFang\",,w@example.org\n")
        .unwrap();
    let mut c = awf(dir.path());
    c.args(["table", "import"]).arg(&csv);
    let out = ok(c);
    assert!(out.contains("2 row(s)"), "{out}");
    assert!(out.contains("PII: 3 finding(s)"), "{out}");
    assert!(out.contains("138****5678"), "masked: {out}");
    assert!(!out.contains("13812345678"), "never the value: {out}");

    let mut c = awf(dir.path());
    c.args(["table", "import"]).arg(fixture("csv/ragged.csv"));
    let err = String::from_utf8_lossy(&fails(c).stderr).into_owned();
    assert!(err.starts_with("error[invalid_file]:"), "{err}");
    assert!(err.contains("line "), "{err}");

    let mut c = awf(dir.path());
    c.args(["table", "import", "--json"]).arg(fixture("csv/gbk.csv"));
    let t = json(c);
    assert!(t["row_count"].as_u64().unwrap() > 0);
}

#[test]
fn bundle_export_validate_import_twice_and_search() {
    let src = tempfile::tempdir().unwrap();
    let mut c = awf(src.path());
    c.args(["plugin", "import", "--json"]).arg(fixture("openapi/petstore-swagger2.json"));
    let plugin = json(c)["id"].as_str().unwrap().to_string();
    let faq = src.path().join("returns-faq.md");
    std::fs::write(&faq, "# Returns\n\nWithin 30 days. Write to help@example.com.\n").unwrap();
    let mut c = awf(src.path());
    c.args(["dataset", "import", "--json"]).arg(&faq);
    let ds = json(c);
    assert_eq!(ds["pii"]["total"], 1);
    let ds = ds["id"].as_str().unwrap().to_string();
    let mut c = awf(src.path());
    c.args(["agents", "create", "--name", "Returns desk", "--instructions", "Be kind."]);
    let agent = ok(c).trim().to_string();
    let mut c = awf(src.path());
    c.args(["agents", "edit", &agent, "--attach", &plugin, "--attach", &ds]);
    ok(c);

    let mut c = awf(src.path());
    c.args(["search", "returns", "--json"]);
    let hits = json(c);
    let kinds: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"agent") && kinds.contains(&"dataset"), "{kinds:?}");

    let file = src.path().join("returns.awfbundle");
    let mut c = awf(src.path());
    c.args(["bundle", "export", &agent, "--out"]).arg(&file);
    assert!(ok(c).contains("No secrets are included"));

    let dst = tempfile::tempdir().unwrap();
    let mut c = awf(dst.path());
    c.args(["bundle", "validate"]).arg(&file);
    let out = ok(c);
    assert!(
        out.contains("Valid bundle (format 1): agent Returns desk, 1 revision(s), 1 plugin(s), 1 dataset(s)"),
        "{out}"
    );
    let mut c = awf(dst.path());
    c.args(["agents", "list", "--json"]);
    assert_eq!(json(c).as_array().unwrap().len(), 0, "validate wrote nothing");

    for expected in ["Imported agent", "Updated agent"] {
        let mut c = awf(dst.path());
        c.args(["bundle", "import"]).arg(&file);
        let out = ok(c);
        assert!(out.starts_with(expected), "{out}");
    }
    let mut c = awf(dst.path());
    c.args(["agents", "list", "--json"]);
    assert_eq!(json(c).as_array().unwrap().len(), 1, "importing twice does not duplicate");
    let mut c = awf(dst.path());
    c.args(["plugin", "list", "--json"]);
    assert_eq!(json(c).as_array().unwrap().len(), 1);

    // A truncated bundle: every problem listed, exit 1, nothing written.
    let bytes = std::fs::read(&file).unwrap();
    let cut = src.path().join("cut.awfbundle");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut c = awf(other.path());
    c.args(["bundle", "import", "--validate-only"]).arg(&cut);
    let out = fails(c);
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a complete bundle"));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[invalid_file]"));
}
