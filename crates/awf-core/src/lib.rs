//! AiWellFlow Studio core: the domain logic and the encrypted local store.
//!
//! Everything a front end can do goes through [`Profile`], which owns one data directory:
//! its lock, its data key and its sled store. The crate knows nothing of Tauri, of HTTP
//! serving or of the JSON the UI speaks; the command surface (`awf-api`) sits on top.
//!
//! Architecture invariants kept here:
//! - values are sealed with XChaCha20-Poly1305 before they reach sled, bound to their tree and key;
//! - the data key lives only in the OS keyring (or is wrapped by an Argon2id passphrase key);
//! - a write is acknowledged only after sled has flushed it to disk.

pub mod agents;
pub mod bundle;
pub mod clock;
pub mod consent;
pub mod crash;
pub mod crypto;
pub mod datasets;
pub mod diff;
pub mod error;
pub mod export;
pub mod findings;
pub mod keys;
pub mod ledger;
pub mod lock;
pub mod merge;
mod migrate;
pub mod paths;
pub mod plugins;
pub mod profile;
pub mod purposes;
pub mod receipts;
pub mod search;
pub mod secret;
pub mod settings;
pub mod shred;
pub mod storage;
pub mod sync;
pub mod tables;
pub mod telemetry;
pub mod transmissions;

pub use agents::{
    Agent, AgentDraft, AgentSummary, ListQuery, ModelSettings, ResponseFormat, Revision, RevisionSummary, Variable,
};
pub use consent::{ConsentMethod, ConsentRecord, Purpose};
pub use error::{CoreError, Result};
pub use keys::{KeyVault, OsKeyring};
pub use profile::{LocalCategory, OpenOptions, Profile, PurgeReport};
pub use secret::SecretString;
pub use settings::Settings;
pub use transmissions::{LogQuery, Outcome, TransmissionRecord};
