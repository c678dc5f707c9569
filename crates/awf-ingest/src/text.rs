//! Turning file bytes into text: BOM detection, UTF-8 validation, GBK/GB18030 detection, and
//! a clear error (byte offset and line of the first bad sequence) when none fits.

use serde::{Deserialize, Serialize};

/// The encoding a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SourceEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// GBK / GB18030 (mainland-Chinese Windows default), detected when the bytes are not UTF-8.
    Gb18030,
}

/// Decoded text and how it was decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: SourceEncoding,
}

/// Bytes that are no text encoding we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, byte {offset}: {message}")]
pub struct DecodeError {
    /// Byte offset of the first undecodable sequence.
    pub offset: usize,
    /// 1-based line of that offset.
    pub line: usize,
    pub message: String,
}

/// Detects and decodes. NUL bytes outside UTF-16 mean a binary file and are refused.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let _ = bytes;
    todo!("text::decode")
}
