//! The command surface: the one API that the desktop shell, the HTTP bridge and the CLI call.
//!
//! Each command has a name, a request type and a response type, all listed once in
//! [`commands`]. Requests and responses are JSON; errors are [`ApiError`] with a closed
//! [`ErrorCode`]. The TypeScript bindings in `ui/src/lib/api/bindings.ts` are generated from
//! this crate by [`bindings::generate`] and a test fails when the committed file is stale.
//!
//! API boundary: nothing below this crate (the core) knows about these DTOs or codes.

mod account;
pub mod bindings;
pub mod commands;
pub mod dto;
pub mod error;
pub mod export;
pub mod library;
mod privacy;
pub mod rights;
mod session;
pub mod sync;
pub mod uploads;

pub use error::{ApiError, ErrorCode};
pub use session::{Api, ApiConfig};
