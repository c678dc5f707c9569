//! The rights calls of [`PlatformClient`] against the reference platform (embedded, on loopback):
//! receipts that verify, erasure, rights requests, and cancellation (refusals keep the session,
//! success forgets it, the password never reaches the transmission log, a retry replays).

use std::sync::Arc;

use awf_core::{ConsentMethod, LogQuery, OpenOptions, Profile, SecretString};
use awf_egress::{EgressError, Gate, PlatformAddress, PlatformClient};
use awf_platform::{App, PlatformConfig};
use awf_platform_api::{
    AttachmentUpload, DeletionScope, NewRightsRequest, PlatformErrorCode, Purpose, RegisterRequest, RequestCategory,
    RequestStatus, SmsMessage,
};

const PASSWORD: &str = "a long enough password";

/// The platform in dev mode on a free loopback port, served from a background runtime.
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

/// A passphrase-mode profile (no keyring service needed) whose policy is accepted, and a client
/// signed in to a new account `name`.
fn signed_in(server: &Server, dir: &std::path::Path, name: &str, phone: &str) -> PlatformClient {
    let profile =
        Profile::open(OpenOptions::new(dir).passphrase(Some(SecretString::new("profile passphrase".into())))).unwrap();
    profile.consents().set(Purpose::AccountOperation, true, 1, ConsentMethod::SignUpForm).unwrap();
    let gate = Gate::new(Arc::new(profile), PlatformAddress::parse(&server.url).unwrap());
    let client = PlatformClient::new(gate);
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
            account_name: name.into(),
            phone: phone.into(),
            password: PASSWORD.into(),
            sms_code: outbox.last().unwrap().code.clone(),
            date_of_birth: "1990-01-01".into(),
            guardian: None,
            policy_version: 1,
        })
        .unwrap();
    client
}

fn platform_code(e: &EgressError) -> Option<(u16, PlatformErrorCode, Option<String>)> {
    match e {
        EgressError::Platform { status, body } => Some((*status, body.code, body.field.clone())),
        _ => None,
    }
}

#[test]
fn erasure_and_rights_requests_through_the_gate() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = signed_in(&server, dir.path(), "requester", "+8613822220001");
    let keys = client.receipt_keys().unwrap();

    let filed = client
        .submit_request(&NewRightsRequest {
            category: RequestCategory::Correction,
            text: "My organisation is wrong.".into(),
            attachments: vec![AttachmentUpload {
                name: "proof.txt".into(),
                media_type: "text/plain".into(),
                content_base64: "cHJvb2Y=".into(),
            }],
        })
        .unwrap();
    assert_eq!((filed.status, filed.attachments[0].size), (RequestStatus::Open, 5));
    assert_eq!(client.requests().unwrap(), vec![filed.clone()]);
    assert_eq!(client.request(&filed.id).unwrap(), filed);
    let missing = client.request("req_missing").unwrap_err();
    assert_eq!(platform_code(&missing).map(|c| c.1), Some(PlatformErrorCode::NotFound));
    assert_eq!(platform_code(&client.request("../account/profile").unwrap_err()).map(|c| c.0), Some(404));

    let second = client
        .submit_request(&NewRightsRequest {
            category: RequestCategory::Withdrawal,
            text: "Withdrawn by mistake.".into(),
            attachments: vec![],
        })
        .unwrap();
    let item = client.delete_request(&second.id).unwrap();
    assert_eq!(item.scope, DeletionScope::Item { kind: "rights_request".into(), id: second.id.clone() });
    assert_eq!(keys.verify(&item), Ok(()));
    assert_eq!(client.requests().unwrap(), vec![filed.clone()]);

    let receipt = client.erase_all_data().unwrap();
    assert_eq!(receipt.scope, DeletionScope::AllData);
    assert_eq!(receipt.deleted["rights_requests"], 1);
    assert_eq!(keys.verify(&receipt), Ok(()));
    assert!(client.requests().unwrap().is_empty());
    assert!(client.session().unwrap().signed_in, "erasure keeps the account and the session");
}

#[test]
fn cancellation_forgets_the_session_keeps_the_password_out_of_the_log_and_replays() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = signed_in(&server, dir.path(), "Canceller", "+8613822220002");
    let account_id = client.session().unwrap().account.unwrap().account_id;
    let key = "01JEGRESSCANCEL00000000000";

    // Refusals keep the session.
    let wrong = SecretString::new("not the password".into());
    let e = client.cancel_account(&wrong, "Canceller", key).unwrap_err();
    assert_eq!(platform_code(&e), Some((401, PlatformErrorCode::InvalidCredentials, None)));
    assert!(client.session().unwrap().signed_in);
    let right = SecretString::new(PASSWORD.into());
    let e = client.cancel_account(&right, "canceller", key).unwrap_err();
    assert_eq!(platform_code(&e), Some((422, PlatformErrorCode::InvalidInput, Some("account_name".into()))));
    assert!(client.session().unwrap().signed_in);

    let receipt = client.cancel_account(&right, "Canceller", key).unwrap();
    assert_eq!((receipt.scope.clone(), receipt.account_id.as_str()), (DeletionScope::Account, account_id.as_str()));
    assert_eq!(client.receipt_keys().unwrap().verify(&receipt), Ok(()));
    let session = client.session().unwrap();
    assert!(!session.signed_in && session.account.is_none(), "tokens and the cached account are gone");
    assert!(matches!(client.held_data(), Err(EgressError::NotSignedIn)));

    // A retry (the first answer lost) goes out with the key alone and gets the same receipt.
    assert_eq!(client.cancel_account(&right, "Canceller", key).unwrap(), receipt);

    // The log holds every cancellation attempt, none with the password in clear.
    let log = client.gate().profile().transmissions().list(&LogQuery::default()).unwrap();
    let cancels: Vec<_> = log.iter().filter(|r| r.path == "/v1/account/cancel").collect();
    assert_eq!(cancels.len(), 4);
    for record in &log {
        for secret in [PASSWORD, "not the password"] {
            assert!(!record.preview.contains(secret), "{} leaked: {}", record.path, record.preview);
        }
    }
    assert!(cancels.iter().all(|r| r.preview.contains("<redacted>") && r.purpose == Purpose::AccountOperation));
}
