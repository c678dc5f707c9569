//! The egress gate: the only code in Studio that talks to the platform.
//!
//! Architecture invariant (SPEC §1, invariant 2): every byte sent to the platform goes through
//! [`Gate::send`], which
//! 1. knows the request's [`Purpose`] (a closed enum; each call site names one),
//! 2. refuses the request when that purpose lacks consent — nothing leaves the machine, and the
//!    refusal is logged,
//! 3. appends every request, sent, refused or failed, to the profile's transmission log, with its
//!    size and a preview of its payload in which secrets are redacted.
//!
//! No other crate owns an HTTP client for the platform. [`PlatformClient`] adds the typed calls
//! of the contract and the session: tokens live only in the OS keyring (through
//! [`awf_core::Profile::put_secret`]), are refreshed automatically and are deleted at log-out.

mod address;
mod client;
mod error;
mod gate;
mod redact;

pub use address::{default_platform_url, PlatformAddress, DEFAULT_PLATFORM_URL};
pub use awf_platform_api::Purpose;
pub use client::{DeleteOutcome, PlatformClient, PutOutcome, Session};
pub use error::EgressError;
pub use gate::{Auth, Connectivity, CookieInfo, Gate};
pub use redact::redact_preview;
