//! Plugins, datasets, tables, search and bundles end to end on real sled, with plugin secrets in
//! the real OS keyring (a Secret Service in CI; `cargo xtask test` provides one).

use std::io::{Cursor, Read};

use awf_core::bundle;
use awf_core::plugins::{PluginAuth, ThirdParty};
use awf_core::{AgentDraft, CoreError, OpenOptions, Profile, SecretString};
use awf_ingest::dataset::ChunkOptions;
use awf_ingest::openapi::KeyLocation;
use awf_ingest::pii::PiiKind;
use awf_ingest::table::{Column, ColumnType};

const PETSTORE: &str = r#"{
  "openapi": "3.0.0",
  "info": { "title": "Swagger Petstore", "version": "1.0.0" },
  "servers": [{ "url": "https://petstore.example.com/v1" }],
  "components": { "securitySchemes": { "key": { "type": "apiKey", "name": "X-API-Key", "in": "header" } } },
  "security": [{ "key": [] }],
  "paths": {
    "/pets": {
      "get": { "operationId": "listPets", "summary": "List all pets",
        "parameters": [{ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer" } }],
        "responses": { "200": { "description": "ok" } } }
    },
    "/pets/{petId}": {
      "get": { "operationId": "showPetById", "summary": "Info for a specific pet",
        "parameters": [{ "name": "petId", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": { "200": { "description": "ok" } } }
    }
  }
}"#;

/// A resident ID with a valid check digit (synthetic), a mobile number and an email.
const PII_CSV: &str =
    "name,phone,email,id_number,age\nAlice,13812345678,alice@example.com,11010519491231002X,34\nBob,,bob@example.org,,41\n";

const MARKER_SECRET: &str = "MARKER-SECRET-7f3a9c-do-not-leak";

fn open(dir: &std::path::Path) -> Profile {
    Profile::open(OpenOptions::new(dir)).expect("profile opens with the OS keyring")
}

fn no_progress() -> impl FnMut(u64, u64) {
    |_, _| {}
}

#[test]
fn plugin_import_edit_secret_in_keyring_and_delete_detaches() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let plugin = p.plugins().import("petstore.json", PETSTORE).unwrap();
    assert_eq!(plugin.draft.name, "Swagger Petstore");
    assert_eq!(plugin.draft.base_url, "https://petstore.example.com/v1");
    let names: Vec<&str> = plugin.spec.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["listPets", "showPetById"]);
    assert_eq!(plugin.draft.auth, PluginAuth::ApiKey { location: KeyLocation::Header, param_name: "X-API-Key".into() });

    // A bad document names its place and writes nothing.
    let err = p.plugins().import("bad.json", r#"{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"$ref": "other.yaml#/R"}}}}}}"#);
    assert!(err.is_err());
    assert_eq!(p.plugins().list().unwrap().len(), 1);

    // Third-party declaration needs a provider and an https privacy policy (§9).
    let mut draft = plugin.draft.clone();
    draft.third_party =
        ThirdParty { is_third_party: true, provider: "Pet Co".into(), privacy_policy_url: String::new() };
    let e = p.plugins().update(&plugin.id, draft.clone(), None).unwrap_err();
    assert!(matches!(&e, CoreError::Invalid { field, .. } if field == "third_party.privacy_policy_url"), "{e}");
    draft.third_party.privacy_policy_url = "http://pets.example.com/privacy".into();
    assert!(p.plugins().update(&plugin.id, draft.clone(), None).is_err(), "plain http is refused");
    draft.third_party.privacy_policy_url = "https://pets.example.com/privacy".into();
    let updated = p.plugins().update(&plugin.id, draft, Some(plugin.version)).unwrap();
    assert!(updated.draft.third_party.is_third_party);

    // The secret goes to the keyring, never into the store or the record.
    let with_secret = p.plugins().set_secret(&plugin.id, Some(&SecretString::new(MARKER_SECRET.into()))).unwrap();
    assert!(with_secret.secret_set);
    assert_eq!(p.plugins().secret(&plugin.id).unwrap().unwrap().expose(), MARKER_SECRET);
    assert!(!serde_json::to_string(&with_secret).unwrap().contains(MARKER_SECRET));
    let entry =
        keyring::Entry::new(awf_core::keys::KEYRING_SERVICE, &format!("plugin/{}/{}", plugin.id, p.profile_id()))
            .unwrap();
    assert_eq!(entry.get_password().unwrap(), MARKER_SECRET, "the secret is in the OS keyring");

    // Attach to an agent; deleting the plugin detaches it and removes the secret.
    let mut d = AgentDraft::named("Pets");
    d.plugin_ids = vec![plugin.id.clone()];
    let agent = p.agents().create(d).unwrap();
    p.plugins().delete(&plugin.id).unwrap();
    assert!(p.agents().get(&agent.id).unwrap().draft.plugin_ids.is_empty());
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
    drop(p);
    for f in walk(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!contains(&bytes, MARKER_SECRET.as_bytes()), "{} holds the secret", f.display());
    }
}

#[test]
fn dataset_import_chunks_findings_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let text = "# FAQ\n\nCall us at 13812345678 or write to help@example.com.\n\n".repeat(50);
    let mut seen = Vec::new();
    let ds = p
        .datasets()
        .import("faq.md", text.as_bytes(), ChunkOptions { max_chars: 200, overlap_chars: 20 }, &mut |d, t| {
            seen.push((d, t))
        })
        .unwrap();
    assert_eq!(ds.name, "faq");
    assert!(ds.chunk_count > 1);
    assert_eq!(ds.pii.by_kind.get(&PiiKind::MobileCn), Some(&50));
    assert_eq!(ds.pii.by_kind.get(&PiiKind::Email), Some(&50));
    let f = &ds.pii.findings[0];
    assert_eq!((f.line, f.kind), (3, PiiKind::MobileCn));
    assert!(!f.masked.contains("13812345678"), "findings are masked: {}", f.masked);
    assert!(seen.last().is_some_and(|(d, t)| d == t), "progress reaches its total");
    let page = p.datasets().chunks(&ds.id, 0, 5).unwrap();
    assert_eq!(page.total, ds.chunk_count);
    assert_eq!(page.chunks.len(), 5);
    assert_eq!(p.datasets().text(&ds.id).unwrap(), text);

    // GBK text is detected and stored as UTF-8.
    let (gbk, _, _) = encoding_gbk("客户问答：请致电联系我们。\n");
    let ds2 = p.datasets().import("问答.txt", &gbk, ChunkOptions::default(), &mut no_progress()).unwrap();
    assert_eq!(p.datasets().text(&ds2.id).unwrap(), "客户问答：请致电联系我们。\n");

    // Refusals write nothing and say why.
    let before = p.datasets().list().unwrap().len();
    let e = p.datasets().import("data.exe", b"x", ChunkOptions::default(), &mut no_progress()).unwrap_err();
    assert!(e.to_string().contains(".txt, .md, .csv, .json or .jsonl"), "{e}");
    let e = p.datasets().import("bad.jsonl", b"{\"a\":1}\n{oops}\n", ChunkOptions::default(), &mut no_progress());
    assert!(e.unwrap_err().to_string().contains("line 2"));
    let e = p.datasets().import("empty.txt", b"  \n", ChunkOptions::default(), &mut no_progress()).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    assert_eq!(p.datasets().list().unwrap().len(), before);

    p.datasets().delete(&ds.id).unwrap();
    assert!(p.datasets().get(&ds.id).is_err());
}

fn encoding_gbk(s: &str) -> (Vec<u8>, (), ()) {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    assert!(!unmappable);
    (bytes.into_owned(), (), ())
}

#[test]
fn table_from_csv_types_findings_and_row_edits() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let t = p.tables().import_csv("people.csv", PII_CSV.as_bytes(), None).unwrap();
    assert_eq!(t.row_count, 2);
    let types: Vec<(String, ColumnType)> = t.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
    assert_eq!(types[4], ("age".into(), ColumnType::Integer));
    assert_eq!(t.pii.by_kind.get(&PiiKind::MobileCn), Some(&1));
    assert_eq!(t.pii.by_kind.get(&PiiKind::Email), Some(&2));
    assert_eq!(t.pii.by_kind.get(&PiiKind::ResidentId), Some(&1));
    let id_finding = t.pii.findings.iter().find(|f| f.kind == PiiKind::ResidentId).unwrap();
    assert_eq!(id_finding.location, "row 1, column id_number");

    // A type error names its row and column; nothing changes.
    let rows = vec![vec![
        "Carol".into(),
        serde_json::Value::Null,
        serde_json::Value::Null,
        serde_json::Value::Null,
        "abc".into(),
    ]];
    let e = p.tables().replace_rows(&t.id, None, rows, None).unwrap_err();
    assert!(e.to_string().contains("row 1, column `age`"), "{e}");
    assert_eq!(p.tables().get(&t.id).unwrap().row_count, 2);

    let mut rows = p.tables().all_rows(&t.id).unwrap();
    rows.push(vec![
        "Carol".into(),
        serde_json::Value::Null,
        serde_json::Value::Null,
        serde_json::Value::Null,
        29.into(),
    ]);
    let t2 = p.tables().replace_rows(&t.id, None, rows, Some(t.version)).unwrap();
    assert_eq!(t2.row_count, 3);
    assert_eq!(p.tables().rows(&t.id, 2, 10).unwrap().rows[0][0], "Carol");

    // By hand.
    let cols =
        vec![Column { name: "q".into(), ty: ColumnType::Text }, Column { name: "Q".into(), ty: ColumnType::Text }];
    let e = p.tables().create("faq", "", cols).unwrap_err();
    assert!(matches!(&e, CoreError::Invalid { field, .. } if field == "columns[1].name"), "{e}");

    // Ragged rows are reported by line and nothing is created.
    let before = p.tables().list().unwrap().len();
    let e = p.tables().import_csv("bad.csv", b"a,b\n1,2\n3\n4,5,6\n", None).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("line 3"), "{msg}");
    assert_eq!(p.tables().list().unwrap().len(), before);
}

#[test]
fn search_finds_every_kind_and_history_is_local_and_clearable() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let mut d = AgentDraft::named("Order helper");
    d.description = "Answers about parcels".into();
    p.agents().create(d).unwrap();
    p.plugins().import("petstore.json", PETSTORE).unwrap();
    p.datasets().import("parcel-faq.txt", b"Where is my parcel?", ChunkOptions::default(), &mut no_progress()).unwrap();
    p.tables().import_csv("parcels.csv", b"parcel_id,status\n1,sent\n", None).unwrap();

    let kinds = |q: &str| -> Vec<String> {
        p.search().query(q, 50).unwrap().iter().map(|h| format!("{:?}:{}", h.kind, h.field)).collect()
    };
    let hits = kinds("PARCEL");
    assert!(hits.contains(&"Agent:description".to_string()), "{hits:?}");
    assert!(hits.contains(&"Dataset:name".to_string()), "{hits:?}");
    assert!(hits.contains(&"Table:name".to_string()), "{hits:?}");
    assert!(kinds("showPetById").contains(&"Tool:tool".to_string()));
    assert!(kinds("petstore").contains(&"Plugin:name".to_string()));
    assert!(p.search().query("   ", 50).unwrap().is_empty());

    p.search().record("parcel").unwrap();
    p.search().record("pets").unwrap();
    p.search().record("parcel").unwrap();
    let h: Vec<String> = p.search().history().unwrap().into_iter().map(|e| e.query).collect();
    assert_eq!(h, ["parcel", "pets"], "newest first, repeats folded");
    for i in 0..120 {
        p.search().record(&format!("q{i}")).unwrap();
    }
    assert_eq!(p.search().history().unwrap().len(), awf_core::search::HISTORY_KEPT);
    let inv = p.inventory().unwrap();
    assert_eq!(inv.iter().find(|c| c.category == "search_history").unwrap().count, 100);
    assert_eq!(p.search().clear_history().unwrap(), 100);
    assert!(p.search().history().unwrap().is_empty());
}

/// A profile with an agent that has every kind of attached item, and a plugin secret.
fn rich_profile(p: &Profile) -> String {
    let plugin = p.plugins().import("petstore.json", PETSTORE).unwrap();
    p.plugins().set_secret(&plugin.id, Some(&SecretString::new(MARKER_SECRET.into()))).unwrap();
    let ds = p
        .datasets()
        .import("faq.md", "# FAQ\n\nShipping takes 3 days.\n".as_bytes(), ChunkOptions::default(), &mut no_progress())
        .unwrap();
    let t = p.tables().import_csv("people.csv", PII_CSV.as_bytes(), None).unwrap();
    let mut d = AgentDraft::named("Shop assistant");
    d.instructions = "v1".into();
    d.plugin_ids = vec![plugin.id];
    d.dataset_ids = vec![ds.id, t.id];
    let a = p.agents().create(d).unwrap();
    let mut d2 = a.draft.clone();
    d2.instructions = "v2: be brief".into();
    p.agents().update(&a.id, d2, None).unwrap();
    a.id
}

fn export_bytes(p: &Profile, id: &str) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    bundle::export(p, id, &mut buf).unwrap();
    buf.into_inner()
}

fn zip_texts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().into_owned(), v)
        })
        .collect()
}

#[test]
fn bundle_round_trip_no_secret_no_duplicates() {
    let src_dir = tempfile::tempdir().unwrap();
    let src = open(src_dir.path());
    let id = rich_profile(&src);
    let bytes = export_bytes(&src, &id);
    assert!(!contains(&bytes, MARKER_SECRET.as_bytes()));
    for (name, content) in zip_texts(&bytes) {
        assert!(!contains(&content, MARKER_SECRET.as_bytes()), "{name} holds the secret");
    }

    let dst_dir = tempfile::tempdir().unwrap();
    let dst = open(dst_dir.path());
    let c = bundle::read(Cursor::new(&bytes)).unwrap();
    let r = bundle::import(&dst, &c).unwrap();
    assert!(r.created);
    assert_eq!((r.plugins, r.datasets, r.tables), (1, 1, 1));
    assert_eq!(r.secrets_needed, ["Swagger Petstore"]);
    let a = dst.agents().get(&id).unwrap();
    assert_eq!(a, src.agents().get(&id).unwrap());
    assert_eq!(dst.agents().revisions(&id).unwrap(), src.agents().revisions(&id).unwrap());
    let ds_id = &a.draft.dataset_ids[0];
    assert_eq!(dst.datasets().text(ds_id).unwrap(), src.datasets().text(ds_id).unwrap());
    let t_id = &a.draft.dataset_ids[1];
    assert_eq!(dst.tables().all_rows(t_id).unwrap(), src.tables().all_rows(t_id).unwrap());
    assert!(!dst.plugins().get(&a.draft.plugin_ids[0]).unwrap().secret_set);

    // Twice: nothing is duplicated.
    let r2 = bundle::import(&dst, &bundle::read(Cursor::new(&bytes)).unwrap()).unwrap();
    assert!(!r2.created);
    assert_eq!(dst.agents().count(), 1);
    assert_eq!(dst.plugins().list().unwrap().len(), 1);
    assert_eq!(dst.datasets().list().unwrap().len(), 1);
    assert_eq!(dst.tables().list().unwrap().len(), 1);
    assert_eq!(dst.agents().revisions(&id).unwrap().len(), 2);

    // Re-export from the destination: the same content (times aside).
    let again = bundle::read(Cursor::new(export_bytes(&dst, &id))).unwrap();
    let mut m1 = c.manifest.clone();
    let mut m2 = again.manifest.clone();
    m1.created_at.clear();
    m2.created_at.clear();
    assert_eq!(m1, m2);
}

#[test]
fn tampered_or_truncated_bundles_are_rejected_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let id = rich_profile(&p);
    let bytes = export_bytes(&p, &id);

    // Truncated.
    for cut in [bytes.len() / 2, bytes.len() - 10, 10] {
        let e = bundle::read(Cursor::new(&bytes[..cut])).unwrap_err();
        assert!(e.0[0].message.contains("not a complete bundle"), "{e}");
    }
    // Not a zip at all.
    assert!(bundle::read(Cursor::new(b"hello".to_vec())).is_err());

    // One data file changed (rebuilt archive, so only the content check can catch it).
    let entries = zip_texts(&bytes);
    let rebuild = |f: &Edit| -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in &entries {
            if let Some(c) = f(name, content.clone()) {
                w.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
                std::io::Write::write_all(&mut w, &c).unwrap();
            }
        }
        w.finish().unwrap().into_inner()
    };
    let tampered = rebuild(&|name, mut c| {
        if name.starts_with("datasets/") {
            c[3] ^= 1;
        }
        Some(c)
    });
    let e = bundle::read(Cursor::new(tampered)).unwrap_err();
    assert!(e.0.iter().any(|pr| pr.place.starts_with("datasets/") && pr.message.contains("altered")), "{e:?}");

    // Manifest edited: its checksum fails, and a broken agent is named too.
    let tampered = rebuild(&|name, c| {
        if name == "bundle.json" {
            let s = String::from_utf8(c).unwrap().replacen("\"name\": \"Shop assistant\"", "\"name\": \"\"", 1);
            return Some(s.into_bytes());
        }
        Some(c)
    });
    let e = bundle::read(Cursor::new(tampered)).unwrap_err();
    let text = format!("{e:?}");
    assert!(text.contains("does not match its checksum"), "{text}");
    assert!(e.0.iter().any(|pr| pr.place == "bundle.json /agent" && pr.message.contains("name")), "{text}");

    // A missing file and an unexpected one are both reported.
    let tampered = rebuild(&|name, c| if name.starts_with("tables/") { None } else { Some(c) });
    let e = bundle::read(Cursor::new(tampered)).unwrap_err();
    assert!(e.0.iter().any(|pr| pr.place.starts_with("tables/") && pr.message == "is missing"), "{e:?}");

    // A newer format is named as such.
    let newer = rebuild(&|name, c| match name {
        "bundle.json" => Some(
            String::from_utf8(c).unwrap().replacen("\"format_version\": 1", "\"format_version\": 9", 1).into_bytes(),
        ),
        "bundle.json.sha256" => None,
        _ => Some(c),
    });
    let e = bundle::read(Cursor::new(newer)).unwrap_err();
    assert!(e.0.iter().any(|pr| pr.message.contains("update Studio")), "{e:?}");

    // Validation wrote nothing.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = open(fresh_dir.path());
    assert_eq!(fresh.agents().count(), 0);
}

/// Rewrites one archive entry (`None` drops it).
type Edit = dyn Fn(&str, Vec<u8>) -> Option<Vec<u8>>;

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `docs/bundle.schema.json` names exactly the fields a written manifest has (top level, agent,
/// revision, plugin, dataset, table), so the documented schema cannot drift from the code.
#[test]
fn the_documented_schema_matches_what_is_written() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/bundle.schema.json")).expect("the schema is JSON");
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let id = rich_profile(&p);
    let entries = zip_texts(&export_bytes(&p, &id));
    let manifest: serde_json::Value =
        serde_json::from_slice(&entries.iter().find(|(n, _)| n == "bundle.json").unwrap().1).unwrap();
    let keys = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    };
    let required = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v["required"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(keys(&manifest), required(&schema));
    let defs = &schema["$defs"];
    assert_eq!(keys(&manifest["agent"]), required(&defs["agent"]));
    assert_eq!(keys(&manifest["revisions"][0]), required(&defs["revision"]));
    assert_eq!(keys(&manifest["plugins"][0]), required(&defs["plugin"]));
    assert_eq!(keys(&manifest["plugins"][0]["spec"]), required(&defs["plugin"]["properties"]["spec"]));
    assert_eq!(keys(&manifest["datasets"][0]["dataset"]), required(&defs["dataset"]));
    assert_eq!(keys(&manifest["tables"][0]["table"]), required(&defs["table"]));
    assert_eq!(keys(&manifest["tables"][0]["table"]["pii"]), required(&defs["pii"]));
    assert_eq!(manifest["format_version"], schema["properties"]["format_version"]["const"]);
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        // Mixed scripts, newlines, quotes and JSON-significant characters.
        proptest::string::string_regex("[a-zA-Z0-9 \\n\"\\\\{}\\[\\],:客户问答é🙂]{1,120}").unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

        /// Export → read → import into another profile → export again gives the same agent,
        /// history, dataset text, table rows and manifest.
        #[test]
        fn export_then_import_is_lossless(
            name in "[A-Za-z客户][A-Za-z0-9 客户]{0,30}",
            instructions in proptest::collection::vec(text(), 1..5),
            rows in proptest::collection::vec((text(), any::<i32>(), any::<bool>()), 0..40),
            data in text(),
        ) {
            let src_dir = tempfile::tempdir().unwrap();
            let src = open(src_dir.path());
            let dst_dir = tempfile::tempdir().unwrap();
            let dst = open(dst_dir.path());
            let ds = src.datasets().import("d.txt", data.as_bytes(), ChunkOptions::default(), &mut no_progress());
            let cols = vec![
                Column { name: "t".into(), ty: ColumnType::Text },
                Column { name: "n".into(), ty: ColumnType::Integer },
                Column { name: "b".into(), ty: ColumnType::Boolean },
            ];
            let t = src.tables().create("t", "", cols).unwrap();
            let rows: Vec<Vec<serde_json::Value>> =
                rows.into_iter().map(|(s, n, b)| vec![s.into(), n.into(), b.into()]).collect();
            src.tables().replace_rows(&t.id, None, rows, None).unwrap();
            let mut d = AgentDraft::named(name.trim());
            if d.name.is_empty() { d.name = "x".into(); }
            d.instructions = instructions[0].clone();
            if let Ok(ds) = &ds { d.dataset_ids.push(ds.id.clone()); }
            d.dataset_ids.push(t.id.clone());
            let a = src.agents().create(d).unwrap();
            for i in &instructions[1..] {
                let mut d = src.agents().get(&a.id).unwrap().draft;
                d.instructions = i.clone();
                src.agents().update(&a.id, d, None).unwrap();
            }
            let first = bundle::read(Cursor::new(export_bytes(&src, &a.id))).unwrap();
            bundle::import(&dst, &first).unwrap();
            prop_assert_eq!(dst.agents().get(&a.id).unwrap(), src.agents().get(&a.id).unwrap());
            prop_assert_eq!(dst.agents().revisions(&a.id).unwrap(), src.agents().revisions(&a.id).unwrap());
            prop_assert_eq!(dst.tables().all_rows(&t.id).unwrap(), src.tables().all_rows(&t.id).unwrap());
            if let Ok(ds) = &ds {
                prop_assert_eq!(dst.datasets().text(&ds.id).unwrap(), data.clone());
                prop_assert_eq!(dst.datasets().get(&ds.id).unwrap(), ds.clone());
            }
            let second = bundle::read(Cursor::new(export_bytes(&dst, &a.id))).unwrap();
            let (mut m1, mut m2) = (first.manifest, second.manifest);
            m1.created_at.clear();
            m2.created_at.clear();
            prop_assert_eq!(m1, m2);
            prop_assert_eq!(first.dataset_texts, second.dataset_texts);
            prop_assert_eq!(first.table_rows, second.table_rows);
        }
    }
}
