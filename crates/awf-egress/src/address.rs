//! The platform address: `https://` anywhere, `http://` only on loopback (SPEC E2).

use crate::error::EgressError;

/// The address used when neither the settings nor `AWF_PLATFORM_URL` name one: the reference
/// platform's default port on loopback, as started by the run command.
pub const DEFAULT_PLATFORM_URL: &str = "http://127.0.0.1:47800";

/// `AWF_PLATFORM_URL` when set, else [`DEFAULT_PLATFORM_URL`].
pub fn default_platform_url() -> String {
    std::env::var("AWF_PLATFORM_URL").ok().filter(|s| !s.trim().is_empty()).unwrap_or(DEFAULT_PLATFORM_URL.into())
}

/// A validated platform base address (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAddress {
    url: reqwest::Url,
}

impl PlatformAddress {
    /// Parses and vets an address. Refuses plain `http://` to anything but loopback, any other
    /// scheme, credentials in the URL, queries and fragments.
    pub fn parse(input: &str) -> Result<PlatformAddress, EgressError> {
        let input = input.trim();
        let invalid = |reason: &str| EgressError::InvalidAddress { url: input.to_string(), reason: reason.to_string() };
        let url = reqwest::Url::parse(input).map_err(|e| invalid(&e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("an address must not carry a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("an address must not have a query or a fragment"));
        }
        let host = url.host().ok_or_else(|| invalid("the address has no host"))?;
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback = match host {
                    url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                    url::Host::Ipv4(ip) => ip.is_loopback(),
                    url::Host::Ipv6(ip) => ip.is_loopback(),
                };
                if !loopback {
                    return Err(EgressError::InsecureAddress { url: input.to_string() });
                }
            }
            other => return Err(invalid(&format!("the scheme `{other}` is not supported; use https://"))),
        }
        Ok(PlatformAddress { url })
    }

    /// The full URL of an API path such as `/v1/capabilities`.
    pub fn join(&self, path: &str) -> reqwest::Url {
        let mut url = self.url.clone();
        let base = url.path().trim_end_matches('/').to_string();
        // A query string (such as the change feed's `?after=…`) stays a query.
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        url.set_path(&format!("{base}{path}"));
        url.set_query(query);
        url
    }

    /// The address as text, without a trailing slash.
    pub fn as_str(&self) -> String {
        self.url.as_str().trim_end_matches('/').to_string()
    }

    /// `host:port`, for the transmission log.
    pub fn host(&self) -> String {
        match (self.url.host_str(), self.url.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(PlatformAddress::parse("https://api.example.com").is_ok());
        assert!(PlatformAddress::parse("http://127.0.0.1:47800/").is_ok());
        assert!(PlatformAddress::parse("http://localhost:1").is_ok());
        assert!(PlatformAddress::parse("http://[::1]:1").is_ok());
        assert!(PlatformAddress::parse("http://127.8.9.10").is_ok());
        for bad in ["http://example.com", "http://10.0.0.1:80", "http://192.168.1.2", "http://localhost.evil.com"] {
            assert!(
                matches!(PlatformAddress::parse(bad), Err(EgressError::InsecureAddress { .. })),
                "{bad} must be refused"
            );
        }
        for bad in ["ftp://x", "not a url", "https://u:p@x.com", "https://x.com/?a=1", "file:///etc/passwd"] {
            assert!(
                matches!(PlatformAddress::parse(bad), Err(EgressError::InvalidAddress { .. })),
                "{bad} must be invalid"
            );
        }
    }

    #[test]
    fn join_keeps_a_base_path() {
        let a = PlatformAddress::parse("https://x.com/platform/").unwrap();
        assert_eq!(a.join("/v1/capabilities").as_str(), "https://x.com/platform/v1/capabilities");
        assert_eq!(a.as_str(), "https://x.com/platform");
        let b = PlatformAddress::parse("http://127.0.0.1:9").unwrap();
        assert_eq!(b.join("/v1/policy").as_str(), "http://127.0.0.1:9/v1/policy");
        assert_eq!(b.host(), "127.0.0.1:9");
    }
}
