//! The sync calls of [`PlatformClient`] against the reference platform (embedded, on loopback):
//! nothing leaves without the hosting consent; writes, conflicts, replays, deletes with receipts,
//! the change feed, and a resumable upload, all under `developer_data_hosting` in the log.

use std::sync::Arc;

use awf_core::{ConsentMethod, LogQuery, OpenOptions, Profile, SecretString};
use awf_egress::{DeleteOutcome, EgressError, Gate, PlatformAddress, PlatformClient, PutOutcome};
use awf_platform::{App, PlatformConfig};
use awf_platform_api::{
    DeletionScope, ItemKind, ItemWrite, NewUpload, PlatformErrorCode, Purpose, RegisterRequest, SmsMessage, SyncStats,
};
use serde_json::json;

struct Server {
    url: String,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = PlatformConfig::new(dir.path().to_path_buf());
    config.dev = true;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let url = runtime.block_on(async {
        let app = App::open(config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(app.serve(listener, std::future::pending()));
        url
    });
    Server { url, _dir: dir, _runtime: runtime }
}

fn signed_in(server: &Server, dir: &std::path::Path) -> PlatformClient {
    let profile =
        Profile::open(OpenOptions::new(dir).passphrase(Some(SecretString::new("profile passphrase".into())))).unwrap();
    profile.consents().set(Purpose::AccountOperation, true, 1, ConsentMethod::SignUpForm).unwrap();
    let client = PlatformClient::new(Gate::new(Arc::new(profile), PlatformAddress::parse(&server.url).unwrap()));
    let phone = "+8613866660001";
    client.request_sms_code(phone).unwrap();
    let outbox: Vec<SmsMessage> = reqwest::blocking::Client::new()
        .get(format!("{}/v1/dev/sms-outbox", server.url))
        .query(&[("phone", phone)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    client
        .register(RegisterRequest {
            account_name: "syncclient".into(),
            phone: phone.into(),
            password: "a long enough password".into(),
            sms_code: outbox.last().unwrap().code.clone(),
            date_of_birth: "1990-01-01".into(),
            guardian: None,
            policy_version: 1,
        })
        .unwrap();
    client
}

fn stats(server: &Server) -> SyncStats {
    reqwest::blocking::get(format!("{}/v1/dev/sync-stats", server.url)).unwrap().json().unwrap()
}

fn write(text: &str) -> ItemWrite {
    ItemWrite {
        body: json!({ "instructions": text }),
        pii_findings: 0,
        attestation: None,
        origin: Some("dev1/1".into()),
    }
}

#[test]
fn items_changes_and_uploads_through_the_gate() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = signed_in(&server, dir.path());

    // Without the hosting consent the gate sends nothing.
    let e = client.put_item(ItemKind::Agent, "A1", 0, "key-0", &write("v1")).unwrap_err();
    assert!(matches!(e, EgressError::ConsentRequired { purpose: Purpose::DeveloperDataHosting }), "{e:?}");
    assert_eq!(stats(&server).writes_applied, 0);
    let mut nothing = Vec::new();
    let e = client.download_upload("upl_00000000000000000000000000000000", &mut nothing).unwrap_err();
    assert!(matches!(e, EgressError::ConsentRequired { purpose: Purpose::DeveloperDataHosting }), "{e:?}");
    assert!(nothing.is_empty());

    client
        .gate()
        .profile()
        .consents()
        .set(Purpose::DeveloperDataHosting, true, 1, ConsentMethod::ConsentCentre)
        .unwrap();
    client.send_receipts().unwrap();

    let PutOutcome::Applied(s1) = client.put_item(ItemKind::Agent, "A1", 0, "key-1", &write("v1")).unwrap() else {
        panic!("not applied")
    };
    assert_eq!((s1.revision, s1.origin.as_deref()), (1, Some("dev1/1")));
    // A retry of the same change: the same answer, one write on the server.
    assert_eq!(
        client.put_item(ItemKind::Agent, "A1", 0, "key-1", &write("v1")).unwrap(),
        PutOutcome::Applied(s1.clone())
    );
    let PutOutcome::Applied(s2) = client.put_item(ItemKind::Agent, "A1", 1, "key-2", &write("v2")).unwrap() else {
        panic!("not applied")
    };
    assert_eq!(s2.revision, 2);
    // A stale revision is a conflict holding the platform's state, not an error.
    match client.put_item(ItemKind::Agent, "A1", 1, "key-3", &write("v2 elsewhere")).unwrap() {
        PutOutcome::Conflict(c) => assert_eq!((c.expected, c.current), (1, Some(s2.clone()))),
        other => panic!("{other:?}"),
    }
    // Other refusals are errors with their code.
    let e = client.put_item(ItemKind::Agent, "A1", 2, "key-2", &write("v3")).unwrap_err();
    assert_eq!(e.platform_code(), Some(PlatformErrorCode::IdempotencyKeyReused));
    let pii = ItemWrite { pii_findings: 2, ..write("rows") };
    let e = client.put_item(ItemKind::Dataset, "D1", 0, "key-4", &pii).unwrap_err();
    assert_eq!(e.platform_code(), Some(PlatformErrorCode::AttestationRequired));
    assert_eq!(
        client.put_item(ItemKind::Agent, "../x", 0, "key-5", &write("x")).unwrap_err().platform_code(),
        Some(PlatformErrorCode::NotFound)
    );
    let st = stats(&server);
    assert_eq!((st.writes_applied, st.idempotent_replays), (2, 1));

    assert_eq!(client.get_item(ItemKind::Agent, "A1").unwrap(), Some(s2.clone()));
    assert_eq!(client.get_item(ItemKind::Agent, "nope").unwrap(), None);

    // Delete: a conflict when stale, else the tombstone and a receipt that verifies.
    assert!(matches!(client.delete_item(ItemKind::Agent, "A1", 1, "key-6").unwrap(), DeleteOutcome::Conflict(_)));
    let DeleteOutcome::Deleted(d) = client.delete_item(ItemKind::Agent, "A1", 2, "key-7").unwrap() else {
        panic!("not deleted")
    };
    assert!(d.state.deleted);
    assert_eq!(d.receipt.scope, DeletionScope::Item { kind: "agent".into(), id: "A1".into() });
    assert_eq!(client.receipt_keys().unwrap().verify(&d.receipt), Ok(()));

    let feed = client.changes(0, 10).unwrap();
    assert_eq!((feed.changes, feed.next, feed.more), (vec![d.state.clone()], 3, false));

    // An upload in two chunks; a wrong offset is a 409 and the offset says where to resume.
    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    let upload = client
        .create_upload(&NewUpload {
            length: content.len() as u64,
            // SHA-256 of `content` (computed once; the crate has no hashing dependency).
            sha256: "988b6bed449d762250291121232acd400e44842143669b39d5a5fe5251a08339".into(),
            dataset_id: "D1".into(),
        })
        .unwrap();
    client.upload_chunk(&upload.upload_id, 0, &content[..20_000]).unwrap();
    let e = client.upload_chunk(&upload.upload_id, 0, &content[..20_000]).unwrap_err();
    assert_eq!(e.platform_code(), Some(PlatformErrorCode::UploadOffsetMismatch));
    assert_eq!(client.upload_offset(&upload.upload_id).unwrap(), 20_000);
    // Not finished: its content is refused 409 and nothing is written.
    let mut partial = Vec::new();
    let e = client.download_upload(&upload.upload_id, &mut partial).unwrap_err();
    assert_eq!(e.platform_code(), Some(PlatformErrorCode::UploadIncomplete), "{e:?}");
    assert!(partial.is_empty());
    let done = client.upload_chunk(&upload.upload_id, 20_000, &content[20_000..]).unwrap();
    // The finished content streams back, identical, checked against its SHA-256; to a file too.
    let mut back = Vec::new();
    let (n, digest) = client.download_upload(&upload.upload_id, &mut back).unwrap();
    assert_eq!((n, digest.as_str()), (50_000, "988b6bed449d762250291121232acd400e44842143669b39d5a5fe5251a08339"));
    assert!(back == content);
    let file = dir.path().join("download.bin");
    client.download_upload_to(&upload.upload_id, &file).unwrap();
    assert!(std::fs::read(&file).unwrap() == content);
    let e = client.download_upload_to("upl_00000000000000000000000000000000", &file).unwrap_err();
    assert_eq!(e.platform_code(), Some(PlatformErrorCode::NotFound));
    assert!(!file.exists(), "a failed download leaves no file");
    assert!(done.complete && done.offset == 50_000);
    assert_eq!(stats(&server).upload_bytes_received, 50_000);
    let missing = client.upload_offset("upl_00000000000000000000000000000000").unwrap_err();
    assert_eq!(missing.platform_code(), Some(PlatformErrorCode::NotFound));

    // Every sync request is in the log under its purpose; chunks by size only.
    let log = client.gate().profile().transmissions().list(&LogQuery::default()).unwrap();
    let chunks: Vec<_> = log.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(chunks.len(), 3);
    for r in &chunks {
        assert_eq!(r.purpose, Purpose::DeveloperDataHosting);
        assert!(r.preview.starts_with("<20000 bytes") || r.preview.starts_with("<30000 bytes"), "{}", r.preview);
    }
    assert!(chunks.iter().all(|r| r.bytes_up > 20_000));
    // Downloads are logged with the bytes received.
    let downloads: Vec<_> =
        log.iter().filter(|r| r.method == "GET" && r.path.ends_with("/content") && r.status == Some(200)).collect();
    assert_eq!(downloads.len(), 2);
    assert!(downloads.iter().all(|r| r.purpose == Purpose::DeveloperDataHosting && r.bytes_down > 50_000));
    assert!(log
        .iter()
        .filter(|r| r.path.starts_with("/v1/items/"))
        .all(|r| r.purpose == Purpose::DeveloperDataHosting));
}
