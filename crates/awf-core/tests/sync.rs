//! The local half of sync on real sled: every local change of an agent is queued in the same
//! batch, the queue keeps the latest change per item, an acknowledgement removes only the change
//! it acknowledges, and changes from the platform are applied without being queued.

use awf_core::agents::SyncedAgent;
use awf_core::sync::{self, ItemKind, ItemStatus, ItemSync, Outcome, SyncOp};
use awf_core::{AgentDraft, OpenOptions, Profile};

/// Opens with the OS keyring (a Secret Service in CI; `cargo xtask test` provides one).
fn open(dir: &std::path::Path) -> Profile {
    Profile::open(OpenOptions::new(dir)).expect("profile opens with the OS keyring")
}

#[test]
fn every_local_change_is_queued_once_per_item_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, first_change) = {
        let p = open(dir.path());
        let a = p.agents().create(AgentDraft::named("a")).unwrap();
        let b = p.agents().create(AgentDraft::named("b")).unwrap();
        let first = p.sync().entry(ItemKind::Agent, &a.id).unwrap().unwrap();
        assert_eq!(first.op, SyncOp::Upsert);
        let mut d = a.draft.clone();
        d.instructions = "be brief".into();
        p.agents().update(&a.id, d, None).unwrap();
        p.agents().delete(&b.id).unwrap();
        (a, b, first.change)
    };
    let p = open(dir.path());
    let outbox = p.sync().outbox().unwrap();
    assert_eq!(outbox.len(), 2, "one entry per item: {outbox:?}");
    let ea = p.sync().entry(ItemKind::Agent, &a.id).unwrap().unwrap();
    assert_eq!(ea.op, SyncOp::Upsert);
    assert_ne!(ea.change, first_change, "a new change gets a new idempotency key");
    assert_eq!(p.sync().entry(ItemKind::Agent, &b.id).unwrap().unwrap().op, SyncOp::Delete);
}

#[test]
fn an_acknowledgement_removes_only_the_change_it_acknowledges() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let a = p.agents().create(AgentDraft::named("a")).unwrap();
    let sent = p.sync().entry(ItemKind::Agent, &a.id).unwrap().unwrap();
    // Edited while the first change was in flight.
    p.agents().update(&a.id, AgentDraft::named("a2"), None).unwrap();
    let acked = ItemSync { server_rev: 1, status: ItemStatus::Synced, ..ItemSync::default() };
    p.sync()
        .record(vec![Outcome {
            entry: sent.clone(),
            requeue: None,
            state: Some(acked),
            history: Some(sync::event(ItemKind::Agent, &a.id, "pushed", "revision 1")),
        }])
        .unwrap();
    let left = p.sync().entry(ItemKind::Agent, &a.id).unwrap().expect("the later change is still queued");
    assert_ne!(left.change, sent.change);
    assert_eq!(p.sync().state(ItemKind::Agent, &a.id).unwrap().server_rev, 1);
    assert_eq!(p.sync().history(10).unwrap()[0].event, "pushed");
    // Acknowledging the later one empties the queue.
    p.sync().record(vec![Outcome { entry: left, requeue: None, state: None, history: None }]).unwrap();
    assert!(p.sync().outbox().unwrap().is_empty());
}

#[test]
fn changes_from_the_platform_are_applied_without_being_queued() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let mut draft = AgentDraft::named("from elsewhere");
    draft.instructions = "line one\n".into();
    let body = SyncedAgent { draft, archived: false, created_at: "2026-01-01T00:00:00Z".into() };
    let state =
        ItemSync { server_rev: 3, base: Some(body.to_value()), status: ItemStatus::Synced, ..ItemSync::default() };
    let id = "01JREMOTE0000000000000000A";
    let agent = p.agents().apply_remote(id, &body, &state).unwrap();
    assert_eq!(agent.draft.name, "from elsewhere");
    assert!(p.sync().outbox().unwrap().is_empty());
    assert_eq!(p.sync().state(ItemKind::Agent, id).unwrap().server_rev, 3);
    assert_eq!(p.agents().history(id).unwrap().len(), 1);
    p.agents().delete_remote(id, &ItemSync { server_rev: 4, ..state }).unwrap();
    assert!(p.agents().get(id).is_err());
    assert!(p.sync().outbox().unwrap().is_empty());
    // An invalid body from the platform is refused with the field at fault.
    let err =
        SyncedAgent::from_value(&serde_json::json!({"draft": {"name": ""}, "archived": false, "created_at": "x"}))
            .unwrap_err();
    assert!(err.to_string().contains("name") || err.to_string().contains("body"), "{err}");
}

#[test]
fn sync_off_for_an_item_takes_it_out_of_the_queue_and_on_queues_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    let a = p.agents().create(AgentDraft::named("a")).unwrap();
    p.sync().set_enabled(ItemKind::Agent, &a.id, false).unwrap();
    assert!(p.sync().outbox().unwrap().is_empty());
    assert_eq!(p.sync().state(ItemKind::Agent, &a.id).unwrap().status, ItemStatus::Off);
    p.sync().set_enabled(ItemKind::Agent, &a.id, true).unwrap();
    assert_eq!(p.sync().outbox().unwrap().len(), 1);
    assert!(!p.sync().state(ItemKind::Agent, &a.id).unwrap().off);
}
