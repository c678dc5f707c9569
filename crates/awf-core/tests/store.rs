//! The store end to end on real sled in temporary directories, with the store key in the real
//! OS keyring (a Secret Service in CI; `cargo xtask test` provides one).

use awf_core::agents::limits;
use awf_core::diff::DiffKind;
use awf_core::{AgentDraft, CoreError, ListQuery, OpenOptions, Profile, ResponseFormat, Variable};

fn open(dir: &std::path::Path) -> Profile {
    Profile::open(OpenOptions::new(dir)).expect("profile opens with the OS keyring")
}

fn full_draft() -> AgentDraft {
    let mut d = AgentDraft::named("Customer support");
    d.description = "Answers order questions".into();
    d.icon = "🛎️".into();
    d.instructions = "You are polite.\nYou answer about orders.".into();
    d.opening_message = "Hello! How can I help?".into();
    d.suggested_questions = vec!["Where is my order?".into(), "How do I return an item?".into()];
    d.model.model = "awf-large".into();
    d.model.temperature = 0.2;
    d.model.top_p = 0.9;
    d.model.max_tokens = 2048;
    d.model.response_format = ResponseFormat::Json;
    d.variables = vec![Variable {
        name: "order_id".into(),
        description: "The order".into(),
        default_value: String::new(),
        required: true,
    }];
    d.plugin_ids = vec!["plugin-orders".into()];
    d.dataset_ids = vec!["dataset-faq".into()];
    d
}

#[test]
fn crud_with_every_field_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let p = open(dir.path());
        let a = p.agents().create(full_draft()).unwrap();
        assert_eq!((a.version, a.latest_revision), (1, 1));
        a.id
    };
    let p = open(dir.path());
    let a = p.agents().get(&id).unwrap();
    assert_eq!(a.draft, full_draft());
    let mut d = a.draft.clone();
    d.name = "Support (EU)".into();
    let b = p.agents().update(&id, d.clone(), Some(1)).unwrap();
    assert_eq!((b.version, b.latest_revision), (2, 1), "a name change is not an instruction revision");
    assert!(matches!(p.agents().update(&id, d.clone(), Some(1)), Err(CoreError::Conflict { expected: 1, actual: 2 })));
    let unchanged = p.agents().update(&id, d, Some(2)).unwrap();
    assert_eq!(unchanged.version, 2, "saving an unchanged draft writes nothing");
    drop(p);
    let p = open(dir.path());
    assert_eq!(p.agents().get(&id).unwrap().draft.name, "Support (EU)");
}

#[test]
fn revisions_diff_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let a = p.agents().create(full_draft()).unwrap();
    let mut d = a.draft.clone();
    d.instructions = "You are polite.\nYou answer about orders and refunds.".into();
    let a = p.agents().update(&a.id, d.clone(), Some(a.version)).unwrap();
    d.instructions = "Be brief.".into();
    let a = p.agents().update(&a.id, d, Some(a.version)).unwrap();
    let hist = p.agents().history(&a.id).unwrap();
    assert_eq!(hist.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![3, 2, 1]);
    let diff = p.agents().diff(&a.id, 1, Some(2)).unwrap();
    assert!(diff.iter().any(|l| l.kind == DiffKind::Delete && l.text == "You answer about orders."));
    assert!(diff.iter().any(|l| l.kind == DiffKind::Insert && l.text == "You answer about orders and refunds."));
    assert!(diff.iter().any(|l| l.kind == DiffKind::Equal && l.text == "You are polite."));
    let restored = p.agents().restore(&a.id, 1).unwrap();
    assert_eq!(restored.draft.instructions, full_draft().instructions);
    let hist = p.agents().history(&a.id).unwrap();
    assert_eq!((hist[0].seq, hist[0].restored_from), (4, Some(1)));
    drop(p);
    let p = open(dir.path());
    assert_eq!(p.agents().get(&a.id).unwrap().draft.instructions, full_draft().instructions);
    assert_eq!(p.agents().history(&a.id).unwrap().len(), 4);
}

#[test]
fn duplicate_archive_delete_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let a = p.agents().create(full_draft()).unwrap();
    let copy = p.agents().duplicate(&a.id).unwrap();
    assert_ne!(copy.id, a.id);
    assert_eq!(copy.draft.name, "Customer support (copy)");
    assert_eq!(copy.draft.instructions, a.draft.instructions);
    let long = p.agents().create(AgentDraft::named("n".repeat(limits::NAME_CHARS))).unwrap();
    assert_eq!(p.agents().duplicate(&long.id).unwrap().draft.name.chars().count(), limits::NAME_CHARS);

    p.agents().set_archived(&copy.id, true).unwrap();
    let visible = p.agents().list(&ListQuery::default()).unwrap();
    assert!(!visible.iter().any(|s| s.id == copy.id));
    let all = p.agents().list(&ListQuery { include_archived: true, ..Default::default() }).unwrap();
    assert!(all.iter().any(|s| s.id == copy.id && s.archived));
    let found = p.agents().list(&ListQuery { filter: "ORDER QUEST".into(), include_archived: false }).unwrap();
    assert_eq!(
        found.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec![a.id.as_str()],
        "filter matches the description, case-insensitively"
    );

    p.agents().delete(&a.id).unwrap();
    assert!(matches!(p.agents().get(&a.id), Err(CoreError::NotFound { .. })));
    assert!(matches!(p.agents().history(&a.id), Err(CoreError::NotFound { .. })));
    assert!(matches!(p.agents().revision(&a.id, 1), Err(CoreError::NotFound { .. })));
    drop(p);
    let p = open(dir.path());
    assert_eq!(p.agents().count(), 3, "the copy, the long-named agent and its copy remain");
}

#[test]
fn rejected_saves_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let a = p.agents().create(full_draft()).unwrap();
    let mut d = a.draft.clone();
    d.instructions = "x".repeat(1024 * 1024);
    assert!(matches!(p.agents().update(&a.id, d, Some(1)), Err(CoreError::TooLarge { .. })));
    let mut d = a.draft.clone();
    d.name = String::new();
    assert!(matches!(p.agents().update(&a.id, d, Some(1)), Err(CoreError::Invalid { .. })));
    drop(p);
    let p = open(dir.path());
    assert_eq!(p.agents().get(&a.id).unwrap(), a);
    assert_eq!(p.agents().history(&a.id).unwrap().len(), 1);
}

/// Secrets (platform tokens) round-trip through the real Secret Service; one longer than
/// Windows' 2,560-byte credential cap is split into parts and rejoined, never truncated, and
/// deleting it removes every part.
#[test]
fn profile_secrets_round_trip_through_the_os_keyring_in_parts() {
    use awf_core::{KeyVault, OsKeyring, SecretString};
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let long = format!("awfa_{}", "x7".repeat(4_000));
    p.put_secret("platform-tokens", &SecretString::new(long.clone())).unwrap();
    assert_eq!(p.secret("platform-tokens").unwrap().unwrap().expose(), long);
    let entry = format!("platform-tokens/{}", p.profile_id());
    let part1 = OsKeyring.get_secret(&format!("{entry}#1")).unwrap().expect("the first part is its own entry");
    assert!(part1.expose().len() <= 2_000);
    p.put_secret("platform-tokens", &SecretString::new("short".into())).unwrap();
    assert_eq!(p.secret("platform-tokens").unwrap().unwrap().expose(), "short");
    assert!(OsKeyring.get_secret(&format!("{entry}#1")).unwrap().is_none(), "stale parts are removed");
    p.delete_secret("platform-tokens").unwrap();
    assert!(p.secret("platform-tokens").unwrap().is_none());
    p.put_secret("platform-tokens", &SecretString::new(long)).unwrap();
    p.delete_secret("platform-tokens").unwrap();
    assert!(OsKeyring.get_secret(&format!("{entry}#1")).unwrap().is_none(), "parts are deleted too");
}
