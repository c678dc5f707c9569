//! [`Gate`]: purpose check, transmission log, cookies and connectivity around one HTTP client.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use awf_core::{clock, Outcome, Profile, SecretString, TransmissionRecord};
use awf_platform_api::{ErrorBody, Purpose, ANONYMOUS_ID_COOKIE, PURPOSE_HEADER, SESSION_COOKIE};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::address::PlatformAddress;
use crate::error::EgressError;
use crate::redact::redact_preview;

/// Largest answer the gate reads; a larger one is a contract violation, not a reason to run out
/// of memory.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// The time a streamed download may take (an ordinary call has 30 s).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How a request authenticates.
pub enum Auth<'a> {
    /// No credentials (cookies still go with consented purposes).
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(&'a SecretString),
}

/// Whether the platform answered lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connectivity {
    /// True when the last attempt got an answer (any status).
    pub online: bool,
    /// When the last attempt was made (RFC 3339); `None` before the first.
    pub last_checked: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// One cookie as the gate keeps it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct StoredCookie {
    value: String,
    /// RFC 3339: when the platform set it.
    set_at: String,
}

/// A cookie as the dashboard shows it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CookieInfo {
    pub name: String,
    pub set_at: String,
}

/// The profile secret holding the cookie jar.
const COOKIES_SECRET: &str = "platform-cookies";

/// An answer from the platform, before interpretation.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The answer's headers (such as `Upload-Offset`).
    pub headers: HeaderMap,
}

/// What a request carries.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    None,
    Json(&'a Value),
    /// Raw bytes (an upload chunk) of a media type; logged by size only.
    Bytes {
        content_type: &'static str,
        bytes: &'a [u8],
    },
}

/// The egress gate of one profile.
pub struct Gate {
    profile: Arc<Profile>,
    address: RwLock<PlatformAddress>,
    http: reqwest::blocking::Client,
    /// Cookies the platform set, by name. Sent only with consented purposes, never with
    /// `service_information`, which carries no identifier. Persisted as a profile secret (they
    /// include the session cookie), so they survive restarts and are deleted for real.
    cookies: Mutex<BTreeMap<String, StoredCookie>>,
    connectivity: Mutex<Connectivity>,
}

impl Gate {
    /// A gate for `profile` talking to `address`.
    pub fn new(profile: Arc<Profile>, address: PlatformAddress) -> Gate {
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            // A redirect would send the request somewhere the gate did not vet.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("AiWellFlow-Studio/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds with static settings");
        let jar = profile
            .secret(COOKIES_SECRET)
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str(s.expose()).ok())
            .unwrap_or_default();
        Gate {
            profile,
            address: RwLock::new(address),
            http,
            cookies: Mutex::new(jar),
            connectivity: Mutex::new(Connectivity { online: false, last_checked: None, last_error: None }),
        }
    }

    /// The profile whose consents and log this gate uses.
    pub fn profile(&self) -> &Arc<Profile> {
        &self.profile
    }

    /// The platform address in use.
    pub fn address(&self) -> PlatformAddress {
        self.address.read().expect("address lock").clone()
    }

    /// Points the gate at another platform; cookies of the old one are dropped.
    pub fn set_address(&self, address: PlatformAddress) {
        *self.address.write().expect("address lock") = address;
        let _ = self.clear_cookies();
        *self.connectivity.lock().expect("connectivity lock") =
            Connectivity { online: false, last_checked: None, last_error: None };
    }

    /// Whether the platform answered the last request.
    pub fn connectivity(&self) -> Connectivity {
        self.connectivity.lock().expect("connectivity lock").clone()
    }

    /// The cookies held for the platform (values stay inside the gate).
    pub fn cookies(&self) -> Vec<CookieInfo> {
        self.cookies
            .lock()
            .expect("cookie lock")
            .iter()
            .map(|(name, c)| CookieInfo { name: name.clone(), set_at: c.set_at.clone() })
            .collect()
    }

    /// Deletes one cookie (or all with `None`), from memory and from where it is persisted.
    pub fn delete_cookies(&self, name: Option<&str>) -> Result<usize, EgressError> {
        let mut jar = self.cookies.lock().expect("cookie lock");
        let removed = match name {
            Some(n) => usize::from(jar.remove(n).is_some()),
            None => std::mem::take(&mut *jar).len(),
        };
        self.persist(&jar)?;
        Ok(removed)
    }

    /// Forgets the platform's cookies (log-out, another platform).
    pub fn clear_cookies(&self) -> Result<(), EgressError> {
        self.delete_cookies(None).map(|_| ())
    }

    fn persist(&self, jar: &BTreeMap<String, StoredCookie>) -> Result<(), EgressError> {
        if jar.is_empty() {
            self.profile.delete_secret(COOKIES_SECRET)?;
        } else {
            let json = SecretString::new(serde_json::to_string(jar).expect("cookies serialise"));
            self.profile.put_secret(COOKIES_SECRET, &json)?;
        }
        Ok(())
    }

    fn refuses_cookies(&self) -> bool {
        self.profile.settings().map(|s| s.refuse_cookies).unwrap_or(false)
    }

    fn log(&self, record: TransmissionRecord) -> Result<(), EgressError> {
        self.profile.transmissions().append(record)?;
        Ok(())
    }

    /// Sends one request through the gate. Refused (and logged as refused) when `purpose`
    /// lacks consent; otherwise sent, logged with its sizes and outcome, and answered.
    pub(crate) fn send(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
    ) -> Result<Answer, EgressError> {
        self.send_with(purpose, method, path, body, auth, &[])
    }

    /// [`Gate::send`] with extra request headers (such as `Idempotency-Key`); they carry no
    /// secret and are not logged.
    pub(crate) fn send_with(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
        extra: &[(&'static str, &str)],
    ) -> Result<Answer, EgressError> {
        self.send_payload(purpose, method, path, body.map_or(Payload::None, Payload::Json), auth, extra)
    }

    /// [`Gate::send_with`] with any [`Payload`]: raw bytes are previewed in the log by their size
    /// and media type only.
    pub(crate) fn send_payload(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        payload: Payload<'_>,
        auth: Auth<'_>,
        extra: &[(&'static str, &str)],
    ) -> Result<Answer, EgressError> {
        self.send_to(purpose, method, path, payload, auth, extra, None)
    }

    /// [`Gate::send_payload`] whose successful (2xx) answer body is streamed into `sink` instead
    /// of being read into memory (the returned [`Answer::body`] is then empty); an error answer is
    /// read as usual. The transmission log records the bytes streamed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_to(
        &self,
        purpose: Purpose,
        method: Method,
        path: &str,
        payload: Payload<'_>,
        auth: Auth<'_>,
        extra: &[(&'static str, &str)],
        sink: Option<&mut dyn std::io::Write>,
    ) -> Result<Answer, EgressError> {
        let body = match payload {
            Payload::Json(v) => Some(v),
            _ => None,
        };
        let address = self.address();
        let mut record = TransmissionRecord {
            seq: 0,
            at: clock::now(),
            method: method.as_str().to_string(),
            path: path.to_string(),
            host: address.host(),
            purpose,
            outcome: Outcome::Refused,
            status: None,
            bytes_up: 0,
            bytes_down: 0,
            preview: match payload {
                Payload::Bytes { content_type, bytes } => format!("<{} bytes of {content_type}>", bytes.len()),
                _ => redact_preview(body),
            },
            error: None,
        };
        if !self.profile.consents().allows(purpose)? {
            record.error = Some(format!("no consent for {}", purpose.as_str()));
            self.log(record)?;
            return Err(EgressError::ConsentRequired { purpose });
        }

        let url = address.join(path);
        let (body_bytes, content_type) = match payload {
            Payload::None => (None, None),
            Payload::Json(b) => (Some(serde_json::to_vec(b).expect("JSON values serialise")), Some("application/json")),
            Payload::Bytes { content_type, bytes } => (Some(bytes.to_vec()), Some(content_type)),
        };
        let mut headers = HeaderMap::new();
        headers.insert(PURPOSE_HEADER, HeaderValue::from_static(purpose.as_str()));
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        for (name, value) in extra {
            let value = HeaderValue::from_str(value).map_err(|_| EgressError::InvalidAddress {
                url: address.as_str(),
                reason: format!("the {name} header value is not valid"),
            })?;
            headers.insert(*name, value);
        }
        if let Auth::Bearer(token) = auth {
            let mut v =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| EgressError::NotSignedIn)?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        if purpose != Purpose::ServiceInformation && !self.refuses_cookies() {
            let jar = self.cookies.lock().expect("cookie lock");
            if !jar.is_empty() {
                let line = jar.iter().map(|(k, c)| format!("{k}={}", c.value)).collect::<Vec<_>>().join("; ");
                if let Ok(mut v) = HeaderValue::from_str(&line) {
                    v.set_sensitive(true);
                    headers.insert(COOKIE, v);
                }
            }
        }
        let mut request = self.http.request(method.clone(), url.clone()).headers(headers);
        if let Some(b) = &body_bytes {
            request = request.body(b.clone());
        }
        if sink.is_some() {
            // A download may take longer than an ordinary call.
            request = request.timeout(DOWNLOAD_TIMEOUT);
        }
        let request = request
            .build()
            .map_err(|e| EgressError::InvalidAddress { url: address.as_str(), reason: e.to_string() })?;
        record.bytes_up = request_size(&request, &address, body_bytes.as_ref().map_or(0, Vec::len));

        let result = self.http.execute(request);
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                let detail = describe(&e);
                record.outcome = Outcome::Failed;
                record.error = Some(detail.clone());
                self.set_connectivity(false, Some(detail.clone()));
                self.log(record)?;
                return Err(EgressError::Unreachable { url: address.as_str(), detail });
            }
        };
        let status = response.status().as_u16();
        let header_bytes = response_head_size(&response);
        let response_headers = response.headers().clone();
        if purpose != Purpose::ServiceInformation && !self.refuses_cookies() {
            self.take_cookies(response.headers())?;
        }
        if let (Some(sink), true) = (sink, (200..300).contains(&status)) {
            let mut response = response;
            let copied = std::io::copy(&mut response, sink);
            record.outcome = Outcome::Sent;
            record.status = Some(status);
            self.set_connectivity(true, None);
            return match copied {
                Ok(n) => {
                    record.bytes_down = header_bytes + n;
                    self.log(record)?;
                    Ok(Answer { status, body: Vec::new(), headers: response_headers })
                }
                Err(e) => {
                    let detail = format!("reading the answer failed: {e}");
                    record.bytes_down = header_bytes;
                    record.error = Some(detail.clone());
                    self.log(record)?;
                    Err(EgressError::BadResponse { path: path.to_string(), detail })
                }
            };
        }
        let body = read_limited(response);
        record.outcome = Outcome::Sent;
        record.status = Some(status);
        self.set_connectivity(true, None);
        let body = match body {
            Ok(b) => b,
            Err(detail) => {
                record.bytes_down = header_bytes;
                record.error = Some(detail.clone());
                self.log(record)?;
                return Err(EgressError::BadResponse { path: path.to_string(), detail });
            }
        };
        record.bytes_down = header_bytes + body.len() as u64;
        if status >= 400 {
            record.error = Some(match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(e) => {
                    serde_json::to_value(e.code).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
                }
                Err(_) => format!("HTTP {status}"),
            });
        }
        self.log(record)?;
        Ok(Answer { status, body, headers: response_headers })
    }

    fn set_connectivity(&self, online: bool, error: Option<String>) {
        *self.connectivity.lock().expect("connectivity lock") =
            Connectivity { online, last_checked: Some(clock::now()), last_error: error };
    }

    fn take_cookies(&self, headers: &HeaderMap) -> Result<(), EgressError> {
        let mut jar = self.cookies.lock().expect("cookie lock");
        let mut changed = false;
        for v in headers.get_all(SET_COOKIE) {
            let Ok(text) = v.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
            let name = name.trim();
            // Only the platform's own cookies are kept; anything else is ignored.
            if name != SESSION_COOKIE && name != ANONYMOUS_ID_COOKIE {
                continue;
            }
            let expired = parts.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("max-age=-")
            });
            if expired || value.trim().is_empty() {
                changed |= jar.remove(name).is_some();
            } else if jar.get(name).is_none_or(|c| c.value != value.trim()) {
                jar.insert(name.to_string(), StoredCookie { value: value.trim().to_string(), set_at: clock::now() });
                changed = true;
            }
        }
        if changed {
            self.persist(&jar)?;
        }
        Ok(())
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "the connection was refused or could not be made".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}

/// Bytes of an HTTP/1.1 request as it goes on the wire: request line, headers (including the
/// `Host` and `Content-Length` the transport adds) and body.
fn request_size(req: &reqwest::blocking::Request, address: &PlatformAddress, body: usize) -> u64 {
    let url = req.url();
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut n = req.method().as_str().len() + 1 + target.len() + " HTTP/1.1\r\n".len();
    for (name, value) in req.headers() {
        n += name.as_str().len() + 2 + value.len() + 2;
    }
    n += "host: ".len() + address.host().len() + 2;
    if body > 0 {
        n += "content-length: ".len() + body.to_string().len() + 2;
    }
    n += 2 + body;
    n as u64
}

fn response_head_size(resp: &reqwest::blocking::Response) -> u64 {
    let mut n = "HTTP/1.1 200 OK\r\n".len();
    for (name, value) in resp.headers() {
        n += name.as_str().len() + 2 + value.len() + 2;
    }
    (n + 2) as u64
}

fn read_limited(resp: reqwest::blocking::Response) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut limited = resp.take(MAX_RESPONSE_BYTES as u64 + 1);
    limited.read_to_end(&mut out).map_err(|e| format!("reading the answer failed: {e}"))?;
    if out.len() > MAX_RESPONSE_BYTES {
        return Err(format!("the answer is larger than {} MiB", MAX_RESPONSE_BYTES / (1024 * 1024)));
    }
    Ok(out)
}
