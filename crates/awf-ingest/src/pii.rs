//! The PII scanner: finds personal information in text so the developer sees it before any of
//! it could leave the machine (policy §1.5 4.4). One pass over the bytes, no regex engine.

use serde::{Deserialize, Serialize};

/// What kind of personal information a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// Mainland-China mobile number (11 digits, 1[3-9]…, optional +86 / 86 prefix).
    MobileCn,
    /// Resident identity card number (18 characters, ISO 7064 MOD 11-2 check digit verified).
    ResidentId,
    Email,
    /// Payment card number (13–19 digits, Luhn verified).
    BankCard,
    Ipv4,
    Ipv6,
    /// A personal name where a reliable rule exists (a labelled field such as `姓名：` / `Name:`).
    Name,
    /// A postal address where a reliable rule exists (labelled field or a CN address pattern).
    Address,
}

/// One finding: where it is and what it is. The matched text itself is not kept here; callers
/// show a masked excerpt ([`mask`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    pub kind: PiiKind,
    /// Byte range in the scanned text.
    pub start: usize,
    pub end: usize,
    /// 1-based line and 1-based column (in characters) of `start`.
    pub line: u32,
    pub column: u32,
}

/// Scans `text`, returning findings in order of position. Never panics.
pub fn scan(text: &str) -> Vec<Finding> {
    let _ = text;
    todo!("pii::scan")
}

/// A masked rendering of a matched value for display (e.g. `138****5678`, `a***@example.com`).
pub fn mask(kind: PiiKind, matched: &str) -> String {
    let _ = (kind, matched);
    todo!("pii::mask")
}
