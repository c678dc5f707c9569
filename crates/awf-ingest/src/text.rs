//! Turning file bytes into text: BOM detection, UTF-8 validation, GBK/GB18030 detection, and
//! a clear error (byte offset and line of the first bad sequence) when none fits.
//!
//! The order of the checks, and why:
//!
//! 1. A byte-order mark decides: UTF-8 (`EF BB BF`, stripped), UTF-16 LE (`FF FE`) or BE
//!    (`FE FF`). A file that announces an encoding and then breaks it is refused, never
//!    re-guessed.
//! 2. Without a UTF-16 mark, a NUL byte means a binary file (or UTF-16 without a mark, which
//!    we do not guess at): refused.
//! 3. Valid UTF-8 is UTF-8.
//! 4. Otherwise GB18030 (a superset of GBK, the mainland-Chinese Windows default) is tried,
//!    and accepted only when the bytes decode without a single error **and** look like
//!    Chinese text — see [`looks_like_gbk`] for the rule. GB18030 assigns a character to
//!    most byte pairs, so "decodes" alone would silently turn a Latin-1 `résumés` into
//!    ideographs; the rule refuses that.
//! 5. Anything else is a [`DecodeError`] naming the first byte that is not UTF-8, with the
//!    advice to re-save the file as UTF-8.

use serde::{Deserialize, Serialize};

/// The encoding a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SourceEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (the mark is not part of the text).
    Utf8Bom,
    /// UTF-16 little-endian, announced by the `FF FE` byte-order mark.
    Utf16Le,
    /// UTF-16 big-endian, announced by the `FE FF` byte-order mark.
    Utf16Be,
    /// GBK / GB18030 (mainland-Chinese Windows default), detected when the bytes are not UTF-8.
    Gb18030,
}

/// Decoded text and how it was decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, without any byte-order mark.
    pub text: String,
    /// How the bytes were read.
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
    /// What is wrong and what to do about it, in a sentence.
    pub message: String,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Detects and decodes. NUL bytes outside UTF-16 mean a binary file and are refused.
///
/// # Errors
///
/// A [`DecodeError`] when the bytes contain NUL (outside UTF-16), when a byte-order mark's
/// encoding is broken later in the file, or when the bytes are neither UTF-8 nor text-like
/// GB18030.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        refuse_nul(bytes)?;
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok(Decoded { text: text.to_owned(), encoding: SourceEncoding::Utf8Bom }),
            Err(e) => {
                let offset = UTF8_BOM.len() + e.valid_up_to();
                Err(error_at(
                    bytes,
                    offset,
                    "the file starts with a UTF-8 byte-order mark but is not valid UTF-8 here; re-save it as UTF-8"
                        .to_owned(),
                ))
            }
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, false).map(|text| Decoded { text, encoding: SourceEncoding::Utf16Le });
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, true).map(|text| Decoded { text, encoding: SourceEncoding::Utf16Be });
    }
    refuse_nul(bytes)?;
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(Decoded { text: text.to_owned(), encoding: SourceEncoding::Utf8 }),
        Err(e) => e,
    };
    let bad = utf8_error.valid_up_to();
    // A file whose valid prefix already holds several non-ASCII UTF-8 characters is UTF-8 with
    // damage, not GBK: a GBK file almost never starts with three byte pairs that happen to be
    // well-formed UTF-8. Re-reading it as GB18030 would turn all of it into nonsense.
    let mostly_utf8 = non_ascii_chars(&bytes[..bad]) >= 3;
    if !mostly_utf8 {
        if let Some(text) = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
            if looks_like_gbk(bytes, &text) {
                return Ok(Decoded { text: text.into_owned(), encoding: SourceEncoding::Gb18030 });
            }
        }
    }
    let message = if mostly_utf8 {
        "this byte is not valid UTF-8, although the text before it is: the file is neither clean UTF-8 nor \
         GBK (it may be damaged or mix encodings); re-save it as UTF-8"
    } else {
        "the file is neither UTF-8 nor GBK/GB18030 (it may be Latin-1, Windows-1252 or another legacy \
         encoding); this is the first byte that is not UTF-8; re-save the file as UTF-8 (in Excel: \
         Save As → \"CSV UTF-8\")"
    };
    Err(error_at(bytes, bad, message.to_owned()))
}

/// The rule that tells GBK/GB18030 Chinese text from other legacy encodings that GB18030
/// happens to decode (Latin-1, Windows-1252). `text` is `bytes` decoded as GB18030 without
/// errors. Accepted when all of these hold:
///
/// * no control characters other than tab, line feed, carriage return and form feed;
/// * the multi-byte characters are mostly ordinary ones — both bytes in `A1..=FE` with the
///   first byte in the GB2312 symbol rows (`A1..=A9`) or hanzi rows (`B0..=F7`) — at least
///   twice as many as all others (pairs whose second byte is ASCII, pairs with a first byte
///   below `A1`, four-byte sequences). Latin-1 letters sit between ASCII letters, so GB18030
///   pairs them with an ASCII second byte (`é` + `s`): they fail this test;
/// * at least one run of two ordinary characters in a row (a Chinese word), or at least
///   three ordinary characters in all. A lone `ö` + `ß` pair in `Größe` is one
///   "character"; Chinese text has words.
///
/// Traditional-Chinese text saved as GBK uses many extension characters and may be refused;
/// the error then asks for UTF-8, which is always accepted.
fn looks_like_gbk(bytes: &[u8], text: &str) -> bool {
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{0C}')) {
        return false;
    }
    let (mut ordinary, mut unusual, mut run, mut longest_run) = (0usize, 0usize, 0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        if lead < 0x80 {
            run = 0;
            i += 1;
            continue;
        }
        if lead == 0x80 || lead == 0xFF {
            // Single bytes (`80` is the euro sign in GB18030): not GBK.
            unusual += 1;
            run = 0;
            i += 1;
            continue;
        }
        let second = bytes.get(i + 1).copied().unwrap_or(0);
        if second.is_ascii_digit() {
            // A four-byte GB18030 sequence: never produced by GBK.
            unusual += 1;
            run = 0;
            i += 4;
            continue;
        }
        if matches!(lead, 0xA1..=0xA9 | 0xB0..=0xF7) && second >= 0xA1 && second != 0xFF {
            ordinary += 1;
            run += 1;
            longest_run = longest_run.max(run);
        } else {
            unusual += 1;
            run = 0;
        }
        i += 2;
    }
    ordinary > 0 && ordinary >= 2 * unusual && (longest_run >= 2 || ordinary >= 3)
}

fn decode_utf16(body: &[u8], big_endian: bool) -> Result<String, DecodeError> {
    const BOM: usize = 2;
    let units = body.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    let mut text = String::with_capacity(body.len() / 2);
    let mut line = 1;
    let mut unit_index = 0usize;
    let mut previous = '\0';
    for decoded in char::decode_utf16(units) {
        let offset = BOM + 2 * unit_index;
        match decoded {
            Ok('\0') => {
                return Err(DecodeError {
                    offset,
                    line,
                    message: "the file holds a NUL character: it is a binary file, not text".to_owned(),
                });
            }
            Ok(c) => {
                if (c == '\n' && previous != '\r') || c == '\r' {
                    line += 1;
                }
                previous = c;
                text.push(c);
                unit_index += c.len_utf16();
            }
            Err(_) => {
                return Err(DecodeError {
                    offset,
                    line,
                    message: "the file starts with a UTF-16 byte-order mark but holds an unpaired surrogate here; \
                              re-save it as UTF-8"
                        .to_owned(),
                });
            }
        }
    }
    if body.len() % 2 == 1 {
        return Err(DecodeError {
            offset: BOM + body.len() - 1,
            line,
            message: "the file starts with a UTF-16 byte-order mark but has an odd number of bytes (it is cut \
                      short); re-save it as UTF-8"
                .to_owned(),
        });
    }
    Ok(text)
}

fn refuse_nul(bytes: &[u8]) -> Result<(), DecodeError> {
    match memchr::memchr(0, bytes) {
        None => Ok(()),
        Some(offset) => Err(error_at(
            bytes,
            offset,
            "the file holds NUL bytes: it is a binary file, not text (a UTF-16 file without a byte-order mark \
             also looks like this; re-save it as UTF-8)"
                .to_owned(),
        )),
    }
}

fn error_at(bytes: &[u8], offset: usize, message: String) -> DecodeError {
    DecodeError { offset, line: line_at(bytes, offset) as usize, message }
}

fn non_ascii_chars(valid_utf8: &[u8]) -> usize {
    // Every non-ASCII character has exactly one lead byte (>= 0xC0).
    valid_utf8.iter().filter(|&&b| b >= 0xC0).count()
}

/// The 1-based line of byte `offset`. A line ends at `\n`, `\r\n` or a lone `\r`.
pub(crate) fn line_at(bytes: &[u8], offset: usize) -> u64 {
    let mut counter = LineCounter::new();
    counter.advance(bytes, offset.min(bytes.len()))
}

/// Counts lines incrementally along monotonically increasing byte offsets, so that line
/// numbers of many positions cost one pass over the text in total.
#[derive(Debug, Clone)]
pub(crate) struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    /// A counter at byte 0, line 1.
    pub(crate) fn new() -> Self {
        LineCounter { pos: 0, line: 1 }
    }

    /// The 1-based line of byte `to` (which must not be before the previous call's).
    /// A line ends at `\n`, `\r\n` or a lone `\r`.
    pub(crate) fn advance(&mut self, bytes: &[u8], to: usize) -> u64 {
        let to = to.min(bytes.len());
        if to > self.pos {
            for i in memchr::memchr2_iter(b'\n', b'\r', &bytes[self.pos..to]) {
                let at = self.pos + i;
                // `\r\n` counts once, at its `\n`.
                if bytes[at] == b'\n' || bytes.get(at + 1) != Some(&b'\n') {
                    self.line += 1;
                }
            }
            self.pos = to;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_utf8() {
        let d = decode("名字,age\n张三,3\n".as_bytes()).unwrap();
        assert_eq!(d.encoding, SourceEncoding::Utf8);
        assert_eq!(d.text, "名字,age\n张三,3\n");
        assert_eq!(decode(b"").unwrap(), Decoded { text: String::new(), encoding: SourceEncoding::Utf8 });
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let d = decode(b"\xEF\xBB\xBFname,age\n").unwrap();
        assert_eq!(d.encoding, SourceEncoding::Utf8Bom);
        assert_eq!(d.text, "name,age\n");
        assert!(!d.text.starts_with('\u{FEFF}'));
    }

    #[test]
    fn utf8_bom_then_broken_is_refused_at_the_bad_byte() {
        let e = decode(b"\xEF\xBB\xBFab\ncd\xFF").unwrap_err();
        assert_eq!((e.offset, e.line), (8, 2));
    }

    #[test]
    fn utf16_both_orders() {
        let text = "名字,age\r\n张三,3\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&le).unwrap(), Decoded { text: text.to_owned(), encoding: SourceEncoding::Utf16Le });
        assert_eq!(decode(&be).unwrap(), Decoded { text: text.to_owned(), encoding: SourceEncoding::Utf16Be });
    }

    #[test]
    fn utf16_errors_say_where() {
        // An unpaired high surrogate on line 2.
        let e = decode(&[0xFF, 0xFE, b'a', 0, b'\n', 0, 0x00, 0xD8, b'b', 0]).unwrap_err();
        assert_eq!((e.offset, e.line), (6, 2));
        assert!(e.message.contains("surrogate"), "{}", e.message);
        // An odd length.
        let e = decode(&[0xFF, 0xFE, b'a', 0, b'b']).unwrap_err();
        assert_eq!(e.offset, 4);
        // A NUL character.
        let e = decode(&[0xFE, 0xFF, 0, b'a', 0, 0]).unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("binary"));
    }

    #[test]
    fn nul_bytes_mean_binary() {
        let e = decode(b"PK\x03\x04\n\x00\x00").unwrap_err();
        assert_eq!((e.offset, e.line), (5, 2));
        assert!(e.message.contains("binary file"), "{}", e.message);
        // Even when the rest is valid UTF-8.
        assert!(decode(b"abc\0def").unwrap_err().message.contains("binary"));
    }

    #[test]
    fn gbk_chinese_csv_is_detected() {
        let csv = "姓名,年龄,城市\n张三,28,北京\n李四,35,上海\n王五,41,广州\n";
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(csv);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err());
        let d = decode(&bytes).unwrap();
        assert_eq!(d.encoding, SourceEncoding::Gb18030);
        assert_eq!(d.text, csv);
    }

    #[test]
    fn gbk_with_single_characters_only_is_detected() {
        // No two Chinese characters in a row, but several of them.
        let csv = "id,sex\n1,男\n2,女\n3,男\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(csv);
        assert_eq!(decode(&bytes).unwrap().text, csv);
    }

    #[test]
    fn latin1_is_not_misread_as_gbk() {
        // "résumés" in Latin-1: E9 73 and E9 73 are valid GB18030 pairs, so GB18030 decodes the
        // whole file without an error. The rule refuses it: the pairs have ASCII second bytes.
        let bytes = b"name,title\nJos\xE9,r\xE9sum\xE9s\n";
        assert!(encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(b"r\xE9sum\xE9s").is_some());
        let e = decode(bytes).unwrap_err();
        assert_eq!((e.offset, e.line), (14, 2));
        assert!(e.message.contains("neither UTF-8 nor GBK"), "{}", e.message);
        assert!(e.message.contains("re-save"), "{}", e.message);
        // "Größe": ö and ß form one ordinary-looking pair; one pair alone is not Chinese text.
        assert!(decode(b"Gr\xF6\xDFe\n").is_err());
        // "café" at the end of a line: not even valid GB18030.
        let e = decode(b"a\ncaf\xE9\n").unwrap_err();
        assert_eq!((e.offset, e.line), (5, 2));
    }

    #[test]
    fn windows_1252_quotes_are_refused() {
        assert!(decode(b"\x93hello\x94 world\n").is_err());
    }

    #[test]
    fn damaged_utf8_is_not_reread_as_gbk() {
        let mut bytes = "第一行中文内容\n第二行".as_bytes().to_vec();
        bytes.push(0xE4); // a cut-off character
        let e = decode(&bytes).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.offset, bytes.len() - 1);
    }

    #[test]
    fn control_characters_are_not_gbk() {
        let mut bytes = encoding_rs::GBK.encode("中文内容").0.into_owned();
        assert_eq!(decode(&bytes).unwrap().encoding, SourceEncoding::Gb18030);
        bytes.push(0x01);
        assert!(decode(&bytes).is_err());
    }

    #[test]
    fn lines_count_every_convention() {
        let b = b"a\r\nb\rc\nd";
        assert_eq!(line_at(b, 0), 1);
        assert_eq!(line_at(b, 3), 2);
        assert_eq!(line_at(b, 5), 3);
        assert_eq!(line_at(b, 7), 4);
        assert_eq!(line_at(b, 100), 4);
    }
}
