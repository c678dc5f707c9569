//! The full data export (D6) end to end on real sled, with secrets in the real OS keyring (a
//! Secret Service in CI; `cargo xtask test` provides one) and in passphrase mode.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use awf_core::export::{self, ExportError, Manifest, ProblemKind, Registry};
use awf_core::transmissions::{Outcome, TransmissionRecord};
use awf_core::{AgentDraft, ConsentMethod, OpenOptions, Profile, Purpose, SecretString};
use awf_ingest::dataset::ChunkOptions;

const PETSTORE: &str = r#"{
  "openapi": "3.0.0",
  "info": { "title": "Swagger Petstore", "version": "1.0.0" },
  "servers": [{ "url": "https://petstore.example.com/v1" }],
  "components": { "securitySchemes": { "key": { "type": "apiKey", "name": "X-API-Key", "in": "header" } } },
  "security": [{ "key": [] }],
  "paths": { "/pets": { "get": { "operationId": "listPets", "responses": { "200": { "description": "ok" } } } } }
}"#;

const CSV: &str = "name,phone,age\nAlice,13812345678,34\nBob,,41\n";
const PLUGIN_SECRET: &str = "MARKER-PLUGIN-SECRET-5d1e2c";
const TOKEN_SECRET: &str = "MARKER-TOKEN-SECRET-a8b7c6";
const COOKIE_SECRET: &str = "MARKER-COOKIE-SECRET-0f9e8d";
const PASSPHRASE: &str = "MARKER-PASSPHRASE-correct horse battery";

fn open(dir: &Path) -> Profile {
    Profile::open(OpenOptions::new(dir)).expect("profile opens with the OS keyring")
}

fn dataset_text(lines: usize) -> String {
    (0..lines).map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n")).collect()
}

fn log_record(i: u64) -> TransmissionRecord {
    TransmissionRecord {
        seq: 0,
        at: awf_core::clock::now(),
        method: "POST".into(),
        path: format!("/v1/agents/{i}"),
        host: "127.0.0.1:1".into(),
        purpose: Purpose::AccountOperation,
        outcome: Outcome::Sent,
        status: Some(200),
        bytes_up: 10,
        bytes_down: 20,
        preview: "{}".into(),
        error: None,
    }
}

/// A profile with something in every category; returns the dataset's text.
fn seed(p: &Profile) -> String {
    let a = p.agents().create(AgentDraft::named("Support bot")).unwrap();
    let mut d = a.draft.clone();
    d.instructions = "Answer politely.".into();
    let a = p.agents().update(&a.id, d.clone(), None).unwrap();
    d.instructions = "Answer politely and briefly.".into();
    p.agents().update(&a.id, d, None).unwrap();
    let b = p.agents().create(AgentDraft::named("Archived <b>bot</b>")).unwrap();
    p.agents().set_archived(&b.id, true).unwrap();

    let plugin = p.plugins().import("petstore.json", PETSTORE).unwrap();
    p.plugins().set_secret(&plugin.id, Some(&SecretString::new(PLUGIN_SECRET.into()))).unwrap();
    p.put_secret("platform-tokens", &SecretString::new(format!("{{\"access_token\":\"{TOKEN_SECRET}\"}}"))).unwrap();
    p.put_secret("platform-cookies", &SecretString::new(format!("{{\"sid\":\"{COOKIE_SECRET}\"}}"))).unwrap();

    let text = dataset_text(20_000);
    p.datasets().import("notes 2024.txt", text.as_bytes(), ChunkOptions::default(), &mut |_, _| {}).unwrap();
    p.tables().import_csv("people.csv", CSV.as_bytes(), None).unwrap();

    p.consents().set(Purpose::AccountOperation, true, 1, ConsentMethod::SignUpForm).unwrap();
    p.consents().set(Purpose::UsageAnalytics, true, 1, ConsentMethod::ConsentCentre).unwrap();
    p.consents().set(Purpose::Marketing, false, 1, ConsentMethod::ConsentCentre).unwrap();
    p.telemetry().offer(Purpose::UsageAnalytics, "agent_created", serde_json::json!({ "n": 1 })).unwrap();
    for i in 0..7 {
        p.transmissions().append(log_record(i)).unwrap();
    }
    p.search().record("petstore").unwrap();
    text
}

fn run_export(p: &Profile, dest: &Path) -> awf_core::export::ExportSummary {
    let cancel = AtomicBool::new(false);
    let mut last = None;
    let summary = Registry::local().export(p, dest, &cancel, &mut |pr| last = Some(pr.clone())).unwrap();
    let last = last.expect("progress was reported");
    assert_eq!(last.bytes_written, last.estimated_total, "the last report is complete");
    summary
}

/// Every entry of the archive, decompressed.
fn entries(zip_path: &Path) -> BTreeMap<String, Vec<u8>> {
    let bytes = std::fs::read(zip_path).unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        out.insert(name, buf);
    }
    out
}

fn lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn every_category_is_present_and_the_manifest_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let text = seed(&p);
    let dest = out.path().join("export.zip");
    let summary = run_export(&p, &dest);
    assert!(dest.is_file());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "only the export, no temporary file");

    let files = entries(&dest);
    let manifest: Manifest = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest.format, export::FORMAT);
    assert_eq!(manifest.format_version, export::FORMAT_VERSION);
    assert_eq!(manifest.profile_id, p.profile_id());
    assert_eq!(summary.files, files.len() as u64);
    // The manifest lists every other file, with its size and hash.
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let present: BTreeSet<&str> = files.keys().map(String::as_str).filter(|n| *n != "manifest.json").collect();
    assert_eq!(listed, present);
    for f in &manifest.files {
        let data = &files[&f.path];
        assert_eq!(f.bytes, data.len() as u64, "{}", f.path);
        assert_eq!(f.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data)), "{}", f.path);
    }

    // Every inventory category is exported by some registered source.
    let covered: BTreeSet<String> = manifest.categories.iter().flat_map(|c| c.covers.clone()).collect();
    for c in p.inventory().unwrap() {
        assert!(covered.contains(&c.category), "inventory category `{}` has no export source", c.category);
    }
    let count =
        |name: &str| manifest.categories.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("{name}")).count;
    assert_eq!(count("agents"), 2);
    assert_eq!(count("instruction_revisions"), 4, "creation (one per agent) and two edits");
    assert_eq!(count("plugins"), 1);
    assert_eq!(count("datasets"), 1);
    assert_eq!(count("tables"), 1);
    assert_eq!(count("consents"), 3);
    assert_eq!(count("consent_ledger"), 3);
    assert_eq!(count("transmission_log"), 7);
    assert_eq!(count("telemetry_queue"), 1);
    assert_eq!(count("search_history"), 1);
    assert_eq!(count("secrets"), 3, "tokens, cookies and one plugin secret exist (values withheld)");

    // Agents and their revisions, as JSON Lines.
    let agents = lines(&files["agents.jsonl"]);
    assert_eq!(agents.len(), 2);
    assert!(agents.iter().any(|a| a["instructions"] == "Answer politely and briefly."));
    assert!(agents.iter().any(|a| a["archived"] == true));
    let revisions = lines(&files["instruction_revisions.jsonl"]);
    assert!(revisions.iter().all(|r| r["agent_id"].is_string() && r["seq"].is_u64()));
    // The plugin record says only that a secret is set.
    let plugins = lines(&files["plugins.jsonl"]);
    assert_eq!(plugins[0]["secret_set"], true);
    // The dataset's text, byte for byte, under its original name.
    let ds: serde_json::Value = serde_json::from_slice(&files["datasets.json"]).unwrap();
    let file = ds[0]["file"].as_str().unwrap();
    assert!(file.ends_with("/notes 2024.txt"), "{file}");
    assert_eq!(files[file], text.as_bytes());
    // Table schema and rows.
    let tables: serde_json::Value = serde_json::from_slice(&files["tables.json"]).unwrap();
    assert_eq!(tables[0]["table"]["columns"].as_array().unwrap().len(), 3);
    let rows = lines(&files[tables[0]["rows_file"].as_str().unwrap()]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "Alice");
    // PII findings are there (masked), never the phone number itself.
    let pii: serde_json::Value = serde_json::from_slice(&files["pii_findings.json"]).unwrap();
    assert!(pii.as_array().unwrap().iter().any(|i| i["pii"]["total"].as_u64().unwrap() > 0));
    assert!(!contains(&files["pii_findings.json"], "13812345678"));
    // The transmission log, newest first.
    let log = lines(&files["transmission_log.jsonl"]);
    assert_eq!(log.iter().map(|r| r["seq"].as_u64().unwrap()).collect::<Vec<_>>(), vec![7, 6, 5, 4, 3, 2, 1]);

    // The consent ledger re-verifies from the export alone.
    let ledger: Vec<awf_core::ledger::LedgerEntry> = std::str::from_utf8(&files["consent_ledger.jsonl"])
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut prev = awf_core::ledger::GENESIS.to_string();
    for e in &ledger {
        assert_eq!(e.prev_hash, prev);
        assert_eq!(awf_core::ledger::entry_hash(e), e.hash, "entry {}", e.seq);
        prev = e.hash.clone();
    }
    let verification: serde_json::Value = serde_json::from_slice(&files["consent_ledger_verification.json"]).unwrap();
    assert_eq!(verification["report"]["intact"], true);

    // The index: every category, escaped, no script, links to files.
    let index = String::from_utf8(files["index.html"].clone()).unwrap();
    for c in &manifest.categories {
        assert!(index.contains(&export::escape_html(&c.title)), "{}", c.name);
    }
    assert!(!index.to_lowercase().contains("<script"));
    assert!(index.contains("href=\"agents.jsonl\""));
    assert!(index.contains("notes%202024.txt"));

    let report = export::verify(&dest).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.files_checked, manifest.files.len() as u64);
    assert_eq!(report.profile_id, p.profile_id());
}

#[test]
fn registered_categories_cover_the_inventory_of_an_empty_profile() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let covered: BTreeSet<String> = Registry::local().categories().into_iter().flat_map(|c| c.covers).collect();
    for c in p.inventory().unwrap() {
        assert!(covered.contains(&c.category), "inventory category `{}` has no export source", c.category);
    }
    // An empty profile exports and verifies too.
    let dest = dir.path().join("empty.zip");
    Registry::local().export(&p, &dest, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert!(export::verify(&dest).unwrap().ok);
}

#[test]
fn a_source_joins_by_registering_and_names_are_unique() {
    struct Extra;
    impl export::ExportSource for Extra {
        fn name(&self) -> &str {
            "extra"
        }
        fn title(&self) -> &str {
            "Extra <data>"
        }
        fn write(&self, _: &Profile, out: &mut dyn export::EntrySink) -> Result<(), ExportError> {
            out.add_count(1);
            out.note("left out on purpose");
            out.json("extra/info.json", &serde_json::json!({ "ok": true }))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let mut r = Registry::local();
    r.register(std::sync::Arc::new(Extra)).unwrap();
    assert!(matches!(r.register(std::sync::Arc::new(Extra)), Err(ExportError::DuplicateCategory { .. })));
    let dest = dir.path().join("x.zip");
    let s = r.export(&p, &dest, &AtomicBool::new(false), &mut |_| {}).unwrap();
    let extra = s.categories.iter().find(|c| c.name == "extra").unwrap();
    assert_eq!((extra.count, extra.files.clone()), (1, vec!["extra/info.json".to_string()]));
    let index = String::from_utf8(entries(&dest)["index.html"].clone()).unwrap();
    assert!(index.contains("Extra &lt;data&gt;") && index.contains("left out on purpose"));
    assert!(export::verify(&dest).unwrap().ok);
}

#[test]
fn one_tampered_byte_fails_verify_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let text = "unique-marker-line-0042 in the middle of the text\n".repeat(1000);
    let ds = p.datasets().import("tamper.txt", text.as_bytes(), ChunkOptions::default(), &mut |_, _| {}).unwrap();
    let dest = dir.path().join("t.zip");
    run_export(&p, &dest);
    assert!(export::verify(&dest).unwrap().ok);

    // Dataset text is stored as is: flip one byte of it in place.
    let mut bytes = std::fs::read(&dest).unwrap();
    let at = bytes.windows(23).position(|w| w == b"unique-marker-line-0042").unwrap() + 500;
    bytes[at] ^= 0x01;
    std::fs::write(&dest, &bytes).unwrap();
    let report = export::verify(&dest).unwrap();
    assert!(!report.ok);
    let file = format!("datasets/{}/tamper.txt", ds.id);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].path, file);
    assert!(matches!(report.problems[0].kind, ProblemKind::Damaged | ProblemKind::Hash));

    // A manifest that no longer matches a file names that file too.
    bytes[at] ^= 0x01;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let rewritten = dir.path().join("edited.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&rewritten).unwrap());
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        if name == "agents.jsonl" {
            continue; // removed
        }
        if name == "search_history.json" {
            buf.extend_from_slice(b" "); // resized
        }
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut w, &buf).unwrap();
    }
    w.start_file("smuggled.txt", zip::write::SimpleFileOptions::default()).unwrap();
    w.finish().unwrap();
    let report = export::verify(&rewritten).unwrap();
    let found: BTreeSet<(String, ProblemKind)> = report.problems.iter().map(|p| (p.path.clone(), p.kind)).collect();
    assert_eq!(
        found,
        BTreeSet::from([
            ("agents.jsonl".to_string(), ProblemKind::Missing),
            ("search_history.json".to_string(), ProblemKind::Size),
            ("smuggled.txt".to_string(), ProblemKind::Extra),
        ])
    );
}

#[test]
fn a_cancelled_export_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let text = dataset_text(150_000); // ≈ 8 MB: many progress reports
    p.datasets().import("big.txt", text.as_bytes(), ChunkOptions::default(), &mut |_, _| {}).unwrap();
    let dest = out.path().join("cancelled.zip");
    let cancel = AtomicBool::new(false);
    let mut reports = 0;
    let err = Registry::local()
        .export(&p, &dest, &cancel, &mut |pr| {
            reports += 1;
            assert!(pr.bytes_written <= pr.estimated_total);
            if pr.category == "datasets" && pr.bytes_written > 2 * 1024 * 1024 {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .unwrap_err();
    assert!(matches!(err, ExportError::Cancelled), "{err}");
    assert!(reports > 2);
    assert!(!dest.exists());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "no partial or temporary file remains");
    // Cancelled before it started: nothing either.
    let err = Registry::local().export(&p, &dest, &AtomicBool::new(true), &mut |_| {}).unwrap_err();
    assert!(matches!(err, ExportError::Cancelled));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn an_export_into_a_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let err = Registry::local().export(&p, &dir.path().join("no/such/dir/x.zip"), &AtomicBool::new(false), &mut |_| {});
    assert!(matches!(err, Err(ExportError::Core(_))), "{err:?}");
}

fn assert_no_marker(zip_path: &Path, markers: &[&str]) {
    let raw = std::fs::read(zip_path).unwrap();
    for m in markers {
        assert!(!contains(&raw, m), "{m} in the raw archive");
    }
    for (name, data) in entries(zip_path) {
        for m in markers {
            assert!(!contains(&data, m), "{m} in {name}");
        }
    }
}

#[test]
fn no_secret_marker_appears_anywhere_in_the_export() {
    // Keyring mode: the plugin secret, tokens and cookies sit in the OS keyring.
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    seed(&p);
    assert!(p.secret("platform-tokens").unwrap().unwrap().expose().contains(TOKEN_SECRET));
    let dest = dir.path().join("keyring.zip");
    run_export(&p, &dest);
    assert_no_marker(&dest, &[PLUGIN_SECRET, TOKEN_SECRET, COOKIE_SECRET]);
    let files = entries(&dest);
    let secrets: serde_json::Value = serde_json::from_slice(&files["secrets.json"]).unwrap();
    assert_eq!(secrets["values_exported"], false);
    assert_eq!(secrets["platform_tokens"]["held"], true);

    // Passphrase mode: the same secrets are sealed in the store; the passphrase is a marker too.
    let dir = tempfile::tempdir().unwrap();
    let p = Profile::open(OpenOptions::new(dir.path()).passphrase(Some(SecretString::new(PASSPHRASE.into())))).unwrap();
    seed(&p);
    let dest = dir.path().join("passphrase.zip");
    run_export(&p, &dest);
    assert_no_marker(&dest, &[PLUGIN_SECRET, TOKEN_SECRET, COOKIE_SECRET, PASSPHRASE, "correct horse"]);
    assert!(export::verify(&dest).unwrap().ok);
}

#[test]
fn verify_reports_clear_errors_for_what_is_not_an_export() {
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("x.zip");
    std::fs::write(&not_zip, b"hello").unwrap();
    let e = export::verify(&not_zip).unwrap_err();
    assert!(e.to_string().contains("not a ZIP"), "{e}");
    let no_manifest = dir.path().join("y.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&no_manifest).unwrap());
    w.start_file("a.txt", zip::write::SimpleFileOptions::default()).unwrap();
    w.finish().unwrap();
    assert!(export::verify(&no_manifest).unwrap_err().to_string().contains("no manifest.json"));
    assert!(matches!(export::verify(&dir.path().join("missing.zip")), Err(ExportError::Core(_))));
}

mod corrupted {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> &'static [u8] {
        static SAMPLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        SAMPLE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let p = Profile::open(OpenOptions::new(dir.path()).passphrase(Some(SecretString::new(PASSPHRASE.into()))))
                .unwrap();
            p.agents().create(AgentDraft::named("a")).unwrap();
            p.datasets()
                .import("d.txt", dataset_text(200).as_bytes(), ChunkOptions::default(), &mut |_, _| {})
                .unwrap();
            p.tables().import_csv("t.csv", CSV.as_bytes(), None).unwrap();
            let dest = dir.path().join("s.zip");
            Registry::local().export(&p, &dest, &AtomicBool::new(false), &mut |_| {}).unwrap();
            std::fs::read(dest).unwrap()
        })
    }

    fn check(bytes: &[u8]) -> Result<export::VerifyReport, ExportError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.zip");
        std::fs::write(&path, bytes).unwrap();
        export::verify(&path)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Flipped bytes anywhere: verify never panics; it fails with a message or a named problem,
        /// or (a byte the checks do not cover, such as a timestamp) passes.
        #[test]
        fn flipped_bytes_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8)) {
            let mut bytes = sample().to_vec();
            for (i, x) in &flips {
                let at = i.index(bytes.len());
                bytes[at] ^= x;
            }
            match check(&bytes) {
                Ok(r) => {
                    prop_assert_eq!(r.ok, r.problems.is_empty());
                    for p in &r.problems {
                        prop_assert!(!p.path.is_empty() && !p.message.is_empty());
                    }
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }

        /// A truncated archive always fails, clearly.
        #[test]
        fn truncation_always_fails(len in 0usize..4096) {
            let full = sample();
            let cut = full.len().saturating_sub(1 + len * full.len() / 4096);
            match check(&full[..cut]) {
                Ok(r) => prop_assert!(!r.ok, "a truncated archive passed"),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn the_sample_itself_verifies() {
        assert!(check(sample()).unwrap().ok);
    }
}
