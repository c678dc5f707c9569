//! The PII scanner: finds personal information in text so the developer sees it before any of
//! it could leave the machine (policy §1.5 4.4). One pass over the bytes, no regex engine.
//!
//! # What is detected, and the rules
//!
//! Every rule below is deliberately conservative: a finding is reported only where a checksum,
//! a fixed shape or a field label makes it reliable. Numeric and address-like matches obey a
//! **word boundary**: a match is never preceded or followed by an ASCII letter or digit, so a
//! digit run inside a longer digit/letter run (`abc13812345678`, `13812345678000`) is not a
//! match; nor is one that continues with `.`+digit or `-`+digit (`3.13812345678`,
//! `2024-13812345678`).
//!
//! | kind | rule |
//! |---|---|
//! | [`PiiKind::MobileCn`] | 11 digits `1[3-9]…`; optional `+86`, `86` or `0086` prefix (joined, or followed by one space or `-`); the number contiguous or grouped 3-4-4 with one kind of separator (space or `-`). `_` is no word character: `wxid_13800138000` shows the number and reports it. `+8613812345678` and `008613812345678` count; a bare `8613812345678` is just 13 digits. |
//! | [`PiiKind::ResidentId`] | 17 digits + digit/`X`; province code of the first two digits one of the 34 real codes (11–82); birth date `YYYYMMDD` a real date in 1900–2099; ISO 7064 MOD 11-2 check character verified ([`resident_id_valid`]). Contiguous, or grouped 6-8-4 with spaces or `-`. |
//! | [`PiiKind::Email`] | local part of letters, digits and `._%+-` (at most 64, no leading/trailing/double dot); domain of at least two labels of `[A-Za-z0-9-]` (no label starting or ending in `-`), the last one all letters, at least 2 long and not a file extension (`icon@2x.png` is a file name). |
//! | [`PiiKind::BankCard`] | 13–19 digits, contiguous or grouped 4-4-4-4, 4-4-4-3, 4-4-4-4-3, 4-6-5 or 4-6-4 with one kind of separator (space or `-`), or 6-13 with a space; Luhn verified ([`luhn_valid`]) **and** a card-network prefix fitting the length: 13 digits start with 4 (Visa), 14–15 with 3 (Diners, Amex, JCB), 16–19 with 3, 4, 5, 6 or 9 or 2221–2720. The prefix rule keeps timestamps (`20261129123045`), millisecond epochs and 13-digit EAN barcodes (`690…`) out. |
//! | [`PiiKind::Ipv4`] | dotted quad, each part 0–255 without leading zeros (`0` itself is fine), not part of a longer dotted run (`1.2.3.4.5`). A dotted quad right after `version`/`ver`/`ver.`/`版本`/`版本号` (optionally with `:`/`：`/spaces between) is a version string, not an address. A bare `1.2.3.4` **is** reported: nothing tells it apart from an address. |
//! | [`PiiKind::Ipv6`] | 1–4 hex digit groups with at least two colons: eight groups, or fewer with exactly one `::`; an IPv4 tail counts as two groups. It must contain at least one decimal digit, which keeps code such as `a::b` out; a prefix ending in `::` before `/` (`2001:db8::/32`) is a network, not an address; times `12:30:45` and MAC addresses `00:1A:2B:3C:4D:5E` have neither eight groups nor `::`. |
//! | [`PiiKind::Name`] | only a labelled value: `姓名`, `联系人`, `收件人`, `收货人` (colon optional), `Name:` (capital N, or any case after a qualifier such as `Full`, `First`, `Customer`, `Recipient`). The value is 2–4 Han characters (a trailing field word like `电话` or a form of address like `先生` is cut off), Han parts joined by `·` (`买买提·艾力`, 3–12 characters), or 1–4 capitalised Latin words (initials `J.` and titles `Mr.` allowed). Placeholders (`未知`, `Unknown`, `N/A`…) and values that are themselves labels are refused. |
//! | [`PiiKind::Address`] | a labelled value after `地址：`/`住址：` (not `IP地址`, `邮箱地址`, `服务器地址`…) or `Address:` (capital A, or after a qualifier such as `Home`, `Shipping`, `Billing`); or the unlabelled Chinese pattern *province*`省`…`市`…`区`/`县`…`路`/`街`/`道`*digits*`号` (or, before `市`, an autonomous region's full name and its city, one of 北京/天津/上海/重庆, or a 2–4 character city name), extended by `院`, `3号楼`, `2单元`, `301室`, `A座` and the like. A Chinese value runs to the first space, punctuation or following field label; a Latin one to the end of the line, `;`, `|`, a following `Label:` or the end of a sentence. |
//!
//! When a digit run is both a valid resident ID and Luhn-valid, the ID checksum decides: it is
//! a [`PiiKind::ResidentId`] only. An e-mail address wins over a number inside its local part
//! (`13812345678@qq.com` is one e-mail). Findings never overlap and come in order.
//!
//! Not detected (no reliable rule): names and addresses without a label or the address pattern,
//! full-width digits and separators (`１３８…`, `138－0013－8000`), numbers written in Han
//! numerals, the full-width `＠`, the 15-digit first-generation ID, Latin names not capitalised,
//! addresses whose city is a county-level city (`苏州市昆山市…`) unless labelled, IPv6 written
//! without any decimal digit.
//!
//! # Speed
//!
//! The scan is one forward pass over the bytes. A 256-entry table sends only ASCII digits, `@`,
//! `:` and the last bytes of the few Han characters that start a label or an address (姓 联 收
//! 地 住 省 市) to candidate work. The table is read eight bytes at a time into one word, so quiet
//! text costs no branch per byte; about one Han character in five costs a three-byte comparison
//! more. Every candidate looks at a bounded window, so the whole scan is linear in the input.
//! `cargo xtask bench pii` measures it against `grep -E`.

use std::collections::BTreeMap;

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
    /// E-mail address (a practical subset of RFC 5322: dot-atom local part, DNS domain).
    Email,
    /// Payment card number (13–19 digits, Luhn verified).
    BankCard,
    /// IPv4 address (dotted quad, no leading zeros).
    Ipv4,
    /// IPv6 address (full or `::`-compressed, optional IPv4 tail).
    Ipv6,
    /// A personal name where a reliable rule exists (a labelled field such as `姓名：` / `Name:`).
    Name,
    /// A postal address where a reliable rule exists (labelled field or a CN address pattern).
    Address,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 8] = [
        PiiKind::MobileCn,
        PiiKind::ResidentId,
        PiiKind::Email,
        PiiKind::BankCard,
        PiiKind::Ipv4,
        PiiKind::Ipv6,
        PiiKind::Name,
        PiiKind::Address,
    ];
}

/// One finding: where it is and what it is. The matched text itself is not kept here; callers
/// show a masked excerpt ([`mask`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    /// What was found.
    pub kind: PiiKind,
    /// Byte range in the scanned text.
    pub start: usize,
    /// End of the byte range (exclusive); always on a character boundary.
    pub end: usize,
    /// 1-based line and 1-based column (in characters) of `start`.
    pub line: u32,
    /// 1-based column of `start`, counted in characters (not bytes) from the start of the line.
    pub column: u32,
}

/// Scans `text`, returning findings in order of position. Never panics.
///
/// Findings do not overlap; their ranges are on character boundaries. See the module
/// documentation for the rules of each kind.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut scanner = Scanner { b: text.as_bytes(), found: Vec::new() };
    scanner.run();
    positions(text.as_bytes(), scanner.found)
}

/// How many findings of each kind (kinds without findings are absent).
pub fn counts(findings: &[Finding]) -> BTreeMap<PiiKind, usize> {
    let mut map = BTreeMap::new();
    for f in findings {
        *map.entry(f.kind).or_insert(0) += 1;
    }
    map
}

/// A masked rendering of a matched value for display (e.g. `138****5678`, `a***@example.com`).
///
/// - `MobileCn`: first 3 and last 4 digits of the national number (`+86 ` kept when the match
///   had a country prefix): `138****5678`.
/// - `ResidentId`: first 6 and last 4 characters: `110101********123X`.
/// - `Email`: first character of the local part and the domain: `a***@example.com`.
/// - `BankCard`: last 4 digits: `**** **** **** 1234`.
/// - `Ipv4` / `Ipv6`: first part only: `192.*.*.*`, `2001:****`.
/// - `Name`: first character, then one `*` per further character (at most three): `张*`.
/// - `Address`: first 6 characters and `…`.
///
/// A value that does not have the expected shape is masked as its first character and `***`.
/// Never panics.
pub fn mask(kind: PiiKind, matched: &str) -> String {
    let generic = || match matched.chars().next() {
        Some(c) => format!("{c}***"),
        None => String::new(),
    };
    let digits = || matched.chars().filter(char::is_ascii_digit).collect::<String>();
    match kind {
        PiiKind::MobileCn => {
            let d = digits();
            if d.len() < 11 {
                return generic();
            }
            let national = &d[d.len() - 11..];
            let prefix = if d.len() > 11 { "+86 " } else { "" };
            format!("{prefix}{}****{}", &national[..3], &national[7..])
        }
        PiiKind::ResidentId => {
            let chars: Vec<char> = matched.chars().filter(|c| !c.is_whitespace()).collect();
            if chars.len() < 11 {
                return generic();
            }
            let head: String = chars[..6].iter().collect();
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
        }
        PiiKind::Email => match matched.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() => {
                let first = local.chars().next().unwrap_or('*');
                format!("{first}***@{domain}")
            }
            _ => generic(),
        },
        PiiKind::BankCard => {
            let d = digits();
            if d.len() < 4 {
                return generic();
            }
            format!("**** **** **** {}", &d[d.len() - 4..])
        }
        PiiKind::Ipv4 => match matched.split_once('.') {
            Some((first, _)) => format!("{first}.*.*.*"),
            None => generic(),
        },
        PiiKind::Ipv6 => {
            if matched.starts_with("::") {
                "::****".to_string()
            } else {
                match matched.split_once(':') {
                    Some((first, _)) => format!("{first}:****"),
                    None => generic(),
                }
            }
        }
        PiiKind::Name => {
            let mut chars = matched.chars().filter(|c| !c.is_whitespace());
            match chars.next() {
                Some(first) => {
                    let stars = chars.count().clamp(1, 3);
                    format!("{first}{}", "*".repeat(stars))
                }
                None => String::new(),
            }
        }
        PiiKind::Address => {
            let head: String = matched.chars().take(6).collect();
            format!("{head}…")
        }
    }
}

/// Luhn (mod 10) check of a string of ASCII digits; spaces and `-` are ignored. `false` for an
/// empty string or any other character.
pub fn luhn_valid(number: &str) -> bool {
    let mut digits = [0u8; 32];
    let mut n = 0;
    for c in number.bytes() {
        match c {
            b'0'..=b'9' => {
                if n == digits.len() {
                    return false;
                }
                digits[n] = c;
                n += 1;
            }
            b' ' | b'-' => {}
            _ => return false,
        }
    }
    n > 0 && luhn(&digits[..n])
}

/// The ISO 7064 MOD 11-2 check character (`0`–`9` or `X`) of the first 17 digits of a resident
/// ID; `None` unless `first17` is exactly 17 ASCII digits.
pub fn resident_id_check_char(first17: &str) -> Option<char> {
    let d = first17.as_bytes();
    if d.len() != 17 || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(id_check_char(d) as char)
}

/// Whether `id` is a plausible resident ID number: 17 digits and a digit or `X`/`x`, a real
/// province code (11–82), a real birth date in 1900–2099, and the right check character.
pub fn resident_id_valid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) && id_valid(&b[..17], b[17])
}

// ---------------------------------------------------------------------------------------------
// Checksums and shapes.

fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (k, &c) in d.iter().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if k % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// `d` is 17 ASCII digits.
fn id_check_char(d: &[u8]) -> u8 {
    let sum: u32 = d.iter().zip(ID_WEIGHTS).map(|(&c, w)| u32::from(c - b'0') * w).sum();
    ID_CHECK[(sum % 11) as usize]
}

const PROVINCE_CODES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |acc, &c| acc.saturating_mul(10).saturating_add(u32::from(c.wrapping_sub(b'0'))))
}

/// `d` is 17 ASCII digits, `check` the 18th character.
fn id_valid(d: &[u8], check: u8) -> bool {
    if d.len() != 17 {
        return false;
    }
    let province = num(&d[..2]) as u8;
    if !PROVINCE_CODES.contains(&province) {
        return false;
    }
    let (year, month, day) = (num(&d[6..10]), num(&d[10..12]), num(&d[12..14]));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days && id_check_char(d) == check.to_ascii_uppercase()
}

fn mobile(d: &[u8]) -> bool {
    d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]) && d.iter().all(u8::is_ascii_digit)
}

/// Luhn and a card-network prefix that fits the length: 13 digits only Visa (`4`), 14–15 only
/// Diners/Amex/JCB (`3`), 16–19 any of `3`, `4`, `5`, `6`, `9` or `2221`–`2720`. The length rule
/// keeps 13-digit EAN barcodes (`690…`) out.
fn card(d: &[u8]) -> bool {
    let network = match (d.len(), d.first()) {
        (13, Some(b'4')) | (14 | 15, Some(b'3')) => true,
        (16..=19, Some(b'3' | b'4' | b'5' | b'6' | b'9')) => true,
        (16..=19, Some(b'2')) => (2221..=2720).contains(&num(&d[..4])),
        _ => false,
    };
    network && luhn(d)
}

// ---------------------------------------------------------------------------------------------
// Byte helpers. All of them are total: out of range reads give 0 (NUL, never meaningful here).

#[inline]
fn at(b: &[u8], i: usize) -> u8 {
    match b.get(i) {
        Some(&c) => c,
        None => 0,
    }
}

#[inline]
fn before(b: &[u8], i: usize) -> u8 {
    if i == 0 {
        0
    } else {
        at(b, i - 1)
    }
}

#[inline]
fn starts(b: &[u8], i: usize, s: &str) -> bool {
    b.get(i..).is_some_and(|rest| rest.starts_with(s.as_bytes()))
}

#[inline]
fn ends(b: &[u8], i: usize, s: &str) -> bool {
    b.get(..i).is_some_and(|head| head.ends_with(s.as_bytes()))
}

fn ends_ci(b: &[u8], i: usize, s: &str) -> bool {
    let s = s.as_bytes();
    i >= s.len() && b.get(i - s.len()..i).is_some_and(|w| w.eq_ignore_ascii_case(s))
}

/// `s` ends at `i` as a whole ASCII word (not preceded by a letter or digit).
fn ends_word_ci(b: &[u8], i: usize, s: &str) -> bool {
    ends_ci(b, i, s) && !before(b, i - s.len()).is_ascii_alphanumeric()
}

fn run_end(b: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && pred(b[i]) {
        i += 1;
    }
    i
}

fn digit_end(b: &[u8], i: usize) -> usize {
    run_end(b, i, |c| c.is_ascii_digit())
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// A CJK unified ideograph (U+4E00–U+9FFF) starts at `i`.
fn han_at(b: &[u8], i: usize) -> bool {
    match at(b, i) {
        0xE4 => at(b, i + 1) >= 0xB8 && (0x80..0xC0).contains(&at(b, i + 1)) && (0x80..0xC0).contains(&at(b, i + 2)),
        0xE5..=0xE9 => (0x80..0xC0).contains(&at(b, i + 1)) && (0x80..0xC0).contains(&at(b, i + 2)),
        _ => false,
    }
}

/// The number of Han characters in a row starting at `i`, at most `max`.
fn han_run(b: &[u8], i: usize, max: usize) -> usize {
    let mut n = 0;
    while n < max && han_at(b, i + 3 * n) {
        n += 1;
    }
    n
}

/// The number of Han characters in a row ending at `i`, at most `max`.
fn han_run_back(b: &[u8], i: usize, max: usize) -> usize {
    let mut n = 0;
    while n < max && i >= 3 * (n + 1) && han_at(b, i - 3 * (n + 1)) {
        n += 1;
    }
    n
}

/// Horizontal space at `i` (ASCII space or the ideographic space U+3000): its byte length.
fn space_at(b: &[u8], i: usize) -> usize {
    if at(b, i) == b' ' {
        1
    } else if starts(b, i, "\u{3000}") {
        3
    } else {
        0
    }
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    loop {
        match space_at(b, i) {
            0 => return i,
            n => i += n,
        }
    }
}

/// A colon (`:` or `：`) at `i`: its byte length.
fn colon_at(b: &[u8], i: usize) -> usize {
    if at(b, i) == b':' {
        1
    } else if starts(b, i, "：") {
        3
    } else {
        0
    }
}

/// Nothing that would continue a numeric token follows at `e`: no ASCII letter or digit, no
/// `.`+digit (a longer dotted run or a decimal) and no `-`+digit (a longer dashed run).
fn end_ok(b: &[u8], e: usize) -> bool {
    let c = at(b, e);
    !c.is_ascii_alphanumeric() && !((c == b'.' || c == b'-') && at(b, e + 1).is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Word lists.

/// Provinces (省) whose name ends right before `省`.
const PROVINCES: [&str; 23] = [
    "黑龙江",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
];

/// Autonomous regions (自治区), whose cities follow right after the region's full name.
const AUTONOMOUS_REGIONS: [&str; 5] =
    ["内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区"];

/// File extensions that are no top-level domain: `icon@2x.png` is a file name, not an address.
const FILE_EXTENSIONS: [&str; 24] = [
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "js", "mjs", "css", "scss", "json", "yaml", "yml",
    "toml", "txt", "pdf", "html", "htm", "xml", "csv", "tsv", "log",
];

/// Municipalities directly under the central government.
const MUNICIPALITIES: [&str; 4] = ["北京", "天津", "上海", "重庆"];

/// Field labels that end a Chinese value (`张三电话：…`, `…88号手机13800000000`). Longest first
/// where one is a prefix of another.
const CN_FIELD_LABELS: [&str; 22] = [
    "联系电话",
    "手机号码",
    "电话号码",
    "身份证号",
    "电子邮件",
    "电话",
    "手机号",
    "手机",
    "邮箱",
    "邮编",
    "地址",
    "住址",
    "姓名",
    "性别",
    "年龄",
    "身份证",
    "证件号",
    "备注",
    "单位",
    "职业",
    "联系人",
    "收件人",
];

/// Forms of address after a Han name (`王小明先生`): not part of the name.
const HONORIFICS: [&str; 3] = ["先生", "女士", "小姐"];

/// Middle dots joining the parts of a transcribed name (`买买提·艾力`).
const NAME_DOTS: [&str; 3] = ["·", "・", "•"];

/// Han words after which a `地址`/`住址` label is not a postal address.
const NOT_POSTAL: [&str; 20] = [
    "邮件",
    "邮箱",
    "网站",
    "网页",
    "网络",
    "服务器",
    "链接",
    "电子",
    "接口",
    "内存",
    "物理",
    "主页",
    "文件",
    "回调",
    "请求",
    "下载",
    "访问",
    "代理",
    "网关",
    "钱包",
];

/// Starts of Han values that are not names (placeholders, field words, function words).
const NOT_NAME_CN: [&str; 33] = [
    "地址", "电话", "手机", "信息", "姓名", "邮箱", "号码", "身份", "未知", "不详", "匿名", "保密", "待定", "请", "和",
    "与", "及", "是", "的", "为", "或", "栏", "字段", "格式", "必填", "填写", "可以", "不能", "需要", "列表", "管理",
    "数量", "人数",
];

/// Latin values that are placeholders, not names.
const NOT_NAME_LATIN: [&str; 14] = [
    "unknown",
    "none",
    "null",
    "tbd",
    "anonymous",
    "test",
    "example",
    "string",
    "required",
    "optional",
    "name",
    "your",
    "redacted",
    "hidden",
];

/// Words allowed right before `name:` (any case).
const NAME_QUALIFIERS: [&str; 23] = [
    "full",
    "first",
    "last",
    "given",
    "family",
    "middle",
    "legal",
    "real",
    "contact",
    "customer",
    "client",
    "recipient",
    "sender",
    "patient",
    "student",
    "employee",
    "applicant",
    "cardholder",
    "holder",
    "your",
    "my",
    "his",
    "her",
];

/// Words allowed right before `address:` (any case).
const ADDRESS_QUALIFIERS: [&str; 22] = [
    "home",
    "mailing",
    "postal",
    "shipping",
    "billing",
    "delivery",
    "residential",
    "permanent",
    "current",
    "street",
    "office",
    "work",
    "business",
    "registered",
    "return",
    "contact",
    "customer",
    "your",
    "my",
    "his",
    "her",
    "their",
];

/// Titles that keep their period inside a Latin name (`Mr. John Smith`).
const TITLES: [&str; 5] = ["Mr", "Mrs", "Ms", "Dr", "Prof"];

/// Characters that start no city name but often come right before one (`寄到`, `位于`, `我住在`).
const NOT_CITY: [&str; 26] = [
    "在", "到", "至", "于", "往", "住", "寄", "送", "是", "从", "自", "位", "来", "去", "的", "和", "与", "及", "发",
    "址", "我", "他", "她", "你", "您", "回",
];

/// Characters one of which a Chinese address value must contain.
const CN_ADDRESS_CHARS: [&str; 13] = ["省", "市", "区", "县", "路", "街", "道", "号", "镇", "村", "乡", "楼", "室"];

// ---------------------------------------------------------------------------------------------
// The scanner.

const C_DIGIT: u8 = 1;
const C_AT: u8 = 2;
const C_COLON: u8 = 3;
const C_HAN: u8 = 4;

/// The Han characters that start a label (姓名, 联系人, 收件人/收货人, 地址/住址) or an address
/// pattern (省, 市).
const ANCHORS: [&str; 7] = ["姓", "联", "收", "地", "住", "省", "市"];

/// Which bytes start candidate work: ASCII digits, `@`, `:`, and the last bytes of the anchor
/// characters. Keying Han anchors on their *last* byte (one of 7 of the 64 continuation values)
/// sends only about a fifth of all Han characters to the three-byte comparison; keying them on
/// the lead byte would send nearly every one.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = C_DIGIT;
        c += 1;
    }
    t[b'@' as usize] = C_AT;
    t[b':' as usize] = C_COLON;
    let mut k = 0;
    while k < ANCHORS.len() {
        t[ANCHORS[k].as_bytes()[2] as usize] = C_HAN;
        k += 1;
    }
    t
};

/// The next position at or after `i` that needs candidate work: an ASCII digit, `@`, `:`, or
/// the last byte of an anchor character.
///
/// The hot path of the scan. Eight bytes at a time, their classes are gathered into one word
/// without a branch per byte; the non-zero bytes of the word are then visited in order, and a Han
/// last byte that does not end an anchor is dropped there without leaving the word.
#[inline]
fn next_candidate(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut classes = 0u64;
        for (k, &c) in chunk.iter().enumerate() {
            classes |= u64::from(CLASS[c as usize]) << (8 * k);
        }
        while classes != 0 {
            let k = (classes.trailing_zeros() / 8) as usize;
            let p = i + k;
            if CLASS[b[p] as usize] != C_HAN || anchor_ends_at(b, p) {
                return Some(p);
            }
            classes &= !(0xFFu64 << (8 * k));
        }
        i += 8;
    }
    while i < b.len() {
        let class = CLASS[b[i] as usize];
        if class != 0 && (class != C_HAN || anchor_ends_at(b, i)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// An anchor character (姓 联 收 地 住 省 市) ends at byte `p`.
#[inline]
fn anchor_ends_at(b: &[u8], p: usize) -> bool {
    if p < 2 || p >= b.len() {
        return false;
    }
    let k = (b[p - 2] as u32) << 16 | (b[p - 1] as u32) << 8 | b[p] as u32;
    matches!(k, K_XING | K_LIAN | K_SHOU | K_DI | K_ZHU | K_SHENG | K_SHI)
}

const fn key(s: &str) -> u32 {
    let b = s.as_bytes();
    (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32
}

const K_XING: u32 = key("姓");
const K_LIAN: u32 = key("联");
const K_SHOU: u32 = key("收");
const K_DI: u32 = key("地");
const K_ZHU: u32 = key("住");
const K_SHENG: u32 = key("省");
const K_SHI: u32 = key("市");

struct Span {
    kind: PiiKind,
    start: usize,
    end: usize,
}

struct Scanner<'a> {
    b: &'a [u8],
    found: Vec<Span>,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        while i < n {
            let Some(pos) = next_candidate(b, i) else { break };
            let next = match CLASS[b[pos] as usize] {
                C_DIGIT => self.digits(pos),
                C_AT => self.at_sign(pos),
                C_COLON => self.colon(pos),
                _ => self.han(pos - 2),
            };
            // Every handler moves forward; this guards the loop's termination regardless.
            i = next.max(pos + 1);
        }
    }

    fn last_end(&self) -> usize {
        self.found.last().map_or(0, |s| s.end)
    }

    /// Records a finding. One that starts inside earlier findings (an e-mail address whose local
    /// part held a number) replaces them.
    fn push(&mut self, kind: PiiKind, start: usize, end: usize) {
        while self.found.last().is_some_and(|s| s.end > start) {
            self.found.pop();
        }
        self.found.push(Span { kind, start, end });
    }

    // --- numbers: mobile, ID, card, IPv4 ---------------------------------------------------

    fn digits(&mut self, i: usize) -> usize {
        let b = self.b;
        let p = before(b, i);
        if p.is_ascii_alphanumeric() {
            return run_end(b, i, |c| c.is_ascii_alphanumeric());
        }
        if p == b'.' && i >= 2 && b[i - 2].is_ascii_digit() {
            return run_end(b, i, |c| c.is_ascii_digit() || c == b'.');
        }
        let g0e = digit_end(b, i);
        let g0 = g0e - i;
        if at(b, g0e) == b'.' && at(b, g0e + 1).is_ascii_digit() {
            if g0 <= 3 {
                if let Some(e) = ipv4_at(b, i) {
                    // `-` may follow: ranges such as `10.0.0.1-10.0.0.254`.
                    let c = at(b, e);
                    let ends = !(c.is_ascii_alphanumeric() || (c == b'.' && at(b, e + 1).is_ascii_digit()));
                    if ends && !after_version_word(b, i) {
                        self.push(PiiKind::Ipv4, i, e);
                        return e;
                    }
                }
            }
            return run_end(b, i, |c| c.is_ascii_digit() || c == b'.');
        }
        let plus = p == b'+' && !before(b, i - 1).is_ascii_alphanumeric();
        if let Some(e) = phone_prefixed(b, i, g0e, plus) {
            self.push(PiiKind::MobileCn, if plus { i - 1 } else { i }, e);
            return e;
        }
        let hit = match g0 {
            3 | 4 => grouped(b, i, g0e),
            6 => grouped_from_six(b, i, g0e),
            _ => single(b, i, g0e),
        };
        if let Some((kind, e)) = hit {
            self.push(kind, i, e);
            return e;
        }
        if at(b, g0e) == b'-' && at(b, g0e + 1).is_ascii_digit() {
            // A dashed token (dates, order numbers) is one token: no match starts inside it.
            let mut e = g0e;
            while at(b, e) == b'-' && at(b, e + 1).is_ascii_digit() {
                e = digit_end(b, e + 1);
            }
            return e;
        }
        g0e
    }

    // --- e-mail ---------------------------------------------------------------------------

    fn at_sign(&mut self, a: usize) -> usize {
        let b = self.b;
        let local_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
        let mut s = a;
        while s > 0 && local_char(b[s - 1]) {
            s -= 1;
            if a - s > 64 {
                return a + 1;
            }
        }
        while s < a && b[s] == b'.' {
            s += 1;
        }
        if s == a || b[a - 1] == b'.' || b[s..a].windows(2).any(|w| w == b"..") {
            return a + 1;
        }
        let label_char = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
        let mut pos = a + 1;
        let mut labels = 0;
        let last = loop {
            let ls = pos;
            while label_char(at(b, pos)) && pos - ls <= 63 {
                pos += 1;
            }
            if pos == ls || pos - ls > 63 || b[ls] == b'-' || b[pos - 1] == b'-' {
                return a + 1;
            }
            labels += 1;
            if at(b, pos) == b'.' && label_char(at(b, pos + 1)) && pos - a < 253 {
                pos += 1;
                continue;
            }
            break (ls, pos);
        };
        let tld = &b[last.0..last.1];
        if labels < 2
            || tld.len() < 2
            || !tld.iter().all(u8::is_ascii_alphabetic)
            || FILE_EXTENSIONS.iter().any(|x| tld.eq_ignore_ascii_case(x.as_bytes()))
        {
            return a + 1;
        }
        self.push(PiiKind::Email, s, last.1);
        last.1
    }

    // --- colon: IPv6, English labels ------------------------------------------------------

    fn colon(&mut self, p: usize) -> usize {
        let b = self.b;
        // The alphanumeric run left of the colon (looked at up to five characters).
        let mut s = p;
        while s > 0 && b[s - 1].is_ascii_alphanumeric() && p - s < 5 {
            s -= 1;
        }
        let n = p - s;
        if n == 0 {
            if at(b, p + 1) == b':' && before(b, p) != b'.' && p >= self.last_end() {
                if let Some(e) = ipv6_at(b, p) {
                    self.push(PiiKind::Ipv6, p, e);
                    return e;
                }
                return run_end(b, p, |c| is_hex(c) || c == b':' || c == b'.');
            }
            return p + 1;
        }
        let whole = !before(b, s).is_ascii_alphanumeric();
        if whole && b[s..p].iter().all(|&c| is_hex(c)) && before(b, s) != b'.' && s >= self.last_end() {
            if let Some(e) = ipv6_at(b, s) {
                self.push(PiiKind::Ipv6, s, e);
                return e;
            }
            return run_end(b, p, |c| is_hex(c) || c == b':' || c == b'.');
        }
        self.ascii_label(p).unwrap_or(p + 1)
    }

    /// `Name:` / `Address:` (with an allowed qualifier word before them) and the value after.
    fn ascii_label(&mut self, p: usize) -> Option<usize> {
        let b = self.b;
        let (kind, word, qualifiers): (_, _, &[&str]) = if ends_ci(b, p, "name") {
            (PiiKind::Name, 4, &NAME_QUALIFIERS)
        } else if ends_ci(b, p, "address") {
            (PiiKind::Address, 7, &ADDRESS_QUALIFIERS)
        } else {
            return None;
        };
        let ws = p - word;
        let pb = before(b, ws);
        if pb.is_ascii_alphanumeric() || matches!(pb, b'_' | b'-' | b'.' | b'@' | b'#' | b'$' | b'&' | b'=' | b'\\') {
            return None;
        }
        let mut qualified = false;
        if pb == b' ' {
            let qe = ws - 1;
            let qs = {
                let mut q = qe;
                while q > 0 && b[q - 1].is_ascii_alphabetic() && qe - q <= 12 {
                    q -= 1;
                }
                q
            };
            if qs < qe {
                let q = &b[qs..qe];
                if before(b, qs).is_ascii_alphanumeric()
                    || !qualifiers.iter().any(|w| q.eq_ignore_ascii_case(w.as_bytes()))
                {
                    return None;
                }
                qualified = true;
            }
        }
        if !qualified && !b[ws].is_ascii_uppercase() {
            return None;
        }
        let v = skip_spaces(b, p + 1);
        let e = match kind {
            PiiKind::Name => name_value(b, v)?,
            _ => address_value(b, v)?,
        };
        self.push(kind, v, e);
        Some(e)
    }

    // --- Han anchors: Chinese labels and the address pattern -----------------------------

    fn han(&mut self, i: usize) -> usize {
        let b = self.b;
        let k = (at(b, i) as u32) << 16 | (at(b, i + 1) as u32) << 8 | at(b, i + 2) as u32;
        let next = i + 3;
        let hit = match k {
            K_XING if starts(b, next, "名") => self.cn_label(i, next + 3, PiiKind::Name),
            K_LIAN if starts(b, next, "系人") => self.cn_label(i, next + 6, PiiKind::Name),
            K_SHOU if starts(b, next, "件人") || starts(b, next, "货人") => {
                self.cn_label(i, next + 6, PiiKind::Name)
            }
            K_DI | K_ZHU if starts(b, next, "址") => self.cn_label(i, next + 3, PiiKind::Address),
            K_SHENG => self.address_from_province(i),
            K_SHI => self.address_from_city(i),
            _ => None,
        };
        hit.unwrap_or(next)
    }

    /// A Chinese label `[label_start, label_end)` and its value. Returns the value's end.
    fn cn_label(&mut self, label_start: usize, label_end: usize, kind: PiiKind) -> Option<usize> {
        let b = self.b;
        if kind == PiiKind::Address {
            let pb = before(b, label_start);
            if pb.is_ascii_alphanumeric() || NOT_POSTAL.iter().any(|w| ends(b, label_start, w)) {
                return None;
            }
        }
        let mut v = skip_spaces(b, label_end);
        let colon = colon_at(b, v);
        v = skip_spaces(b, v + colon);
        let e = match kind {
            PiiKind::Name => name_value(b, v)?,
            _ if colon > 0 => address_value(b, v)?,
            _ => return None,
        };
        if v < self.last_end() {
            return None;
        }
        self.push(kind, v, e);
        Some(e)
    }

    /// `…省…市…区…路…号` with a known province name before `省` (at `i`).
    fn address_from_province(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        let start = i - PROVINCES.iter().find(|p| ends(b, i, p))?.len();
        let pos = han_until(b, i + 3, &["市"], 1, 5)?;
        let e = address_rest(b, pos)?;
        self.push_address(start, e)
    }

    /// `…市…区…路…号` without a province: a municipality, or a 2–4 character city (`市` at `i`).
    fn address_from_city(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        let region = (1..=4).find_map(|k| {
            let city = i.checked_sub(3 * k)?;
            AUTONOMOUS_REGIONS.iter().find(|r| ends(b, city, r)).map(|r| city - r.len())
        });
        let start = match (region, MUNICIPALITIES.iter().find(|m| ends(b, i, m))) {
            (Some(start), _) => start,
            (None, Some(m)) => i - m.len(),
            (None, None) => {
                let mut run = han_run_back(b, i, 6);
                // The city of `…省…市` starts after `省` (the province itself is another rule's).
                let mut after_province = false;
                if let Some(k) = (1..=run).find(|&k| ends(b, i - 3 * (k - 1), "省")) {
                    run = k - 1;
                    after_province = true;
                }
                if run < 2 {
                    return None;
                }
                let mut run_start = i - 3 * run;
                let mut whole = run <= 4 && (after_province || run_start < 3 || !han_at(b, run_start - 3));
                // `寄到深圳市`, `我住在乌鲁木齐市`: verbs and prepositions are not the city.
                while run > 2 && NOT_CITY.iter().any(|w| starts(b, run_start, w)) {
                    run -= 1;
                    run_start += 3;
                    whole = run <= 4;
                }
                if whole {
                    run_start
                } else {
                    i - 6
                }
            }
        };
        let e = address_rest(b, i + 3)?;
        self.push_address(start, e)
    }

    fn push_address(&mut self, start: usize, end: usize) -> Option<usize> {
        if start < self.last_end() {
            return None;
        }
        self.push(PiiKind::Address, start, end);
        Some(end)
    }
}

/// `+86`/`86`/`0086` + a mobile number. `i..g0e` is the first digit run; `plus` says a `+`
/// (itself on a word boundary) comes right before `i`.
fn phone_prefixed(b: &[u8], i: usize, g0e: usize, plus: bool) -> Option<usize> {
    let g0 = &b[i..g0e];
    if ((plus && g0.len() == 13 && g0.starts_with(b"86")) || (g0.len() == 15 && g0.starts_with(b"0086")))
        && mobile(&g0[g0.len() - 11..])
        && end_ok(b, g0e)
    {
        return Some(g0e);
    }
    if !(g0 == b"86" || (g0 == b"0086" && !plus)) {
        return None;
    }
    let sep = at(b, g0e);
    if sep != b' ' && sep != b'-' {
        return None;
    }
    let s = g0e + 1;
    let e1 = digit_end(b, s);
    if e1 - s == 11 {
        return (mobile(&b[s..e1]) && end_ok(b, e1)).then_some(e1);
    }
    if e1 - s == 3 {
        let sep2 = at(b, e1);
        if sep2 != b' ' && sep2 != b'-' {
            return None;
        }
        let e2 = digit_end(b, e1 + 1);
        if e2 - e1 != 5 || at(b, e2) != sep2 {
            return None;
        }
        let e3 = digit_end(b, e2 + 1);
        if e3 - e2 != 5 {
            return None;
        }
        let mut d = [0u8; 11];
        d[..3].copy_from_slice(&b[s..e1]);
        d[3..7].copy_from_slice(&b[e1 + 1..e2]);
        d[7..].copy_from_slice(&b[e2 + 1..e3]);
        return (mobile(&d) && end_ok(b, e3)).then_some(e3);
    }
    None
}

/// One contiguous digit run `s..e` (or 17 digits and `X`).
fn single(b: &[u8], s: usize, e: usize) -> Option<(PiiKind, usize)> {
    let d = &b[s..e];
    if d.len() == 17 && matches!(at(b, e), b'X' | b'x') {
        return (end_ok(b, e + 1) && id_valid(d, at(b, e))).then_some((PiiKind::ResidentId, e + 1));
    }
    if !end_ok(b, e) {
        return None;
    }
    if mobile(d) {
        return Some((PiiKind::MobileCn, e));
    }
    if d.len() == 18 && id_valid(&d[..17], d[17]) {
        return Some((PiiKind::ResidentId, e));
    }
    card(d).then_some((PiiKind::BankCard, e))
}

/// Digit groups separated by one kind of separator, starting with a 3- or 4-digit group at
/// `s..g0e`: a 3-4-4 mobile number or a grouped card number. With `-` the whole dashed token
/// must be the number; with spaces the longest matching prefix of the groups counts.
fn grouped(b: &[u8], s: usize, g0e: usize) -> Option<(PiiKind, usize)> {
    let mut groups = [(s, g0e); 6];
    let mut k = 1;
    let mut sep = 0u8;
    let mut e = g0e;
    loop {
        let c = at(b, e);
        if !((c == b' ' || c == b'-') && at(b, e + 1).is_ascii_digit() && (sep == 0 || sep == c)) {
            break;
        }
        if k == groups.len() {
            if c == b'-' {
                return None;
            }
            break;
        }
        sep = c;
        let ge = digit_end(b, e + 1);
        groups[k] = (e + 1, ge);
        k += 1;
        e = ge;
    }
    if k == 1 {
        return None;
    }
    let lowest = if sep == b'-' { k } else { 2 };
    for m in (lowest..=k.min(5)).rev() {
        let gs = &groups[..m];
        let end = gs[m - 1].1;
        if !end_ok(b, end) {
            continue;
        }
        let mut sizes = [0usize; 5];
        for (size, g) in sizes.iter_mut().zip(gs) {
            *size = g.1 - g.0;
        }
        let sizes = &sizes[..m];
        let mut d = [0u8; 24];
        let mut n = 0;
        for g in gs {
            let part = &b[g.0..g.1];
            if n + part.len() > d.len() {
                return None;
            }
            d[n..n + part.len()].copy_from_slice(part);
            n += part.len();
        }
        let d = &d[..n];
        if sizes == [3, 4, 4] && mobile(d) {
            return Some((PiiKind::MobileCn, end));
        }
        let card_shape = matches!(sizes, [4, 4, 4, 4] | [4, 4, 4, 3] | [4, 4, 4, 4, 3] | [4, 6, 5] | [4, 6, 4]);
        if card_shape && card(d) {
            return Some((PiiKind::BankCard, end));
        }
    }
    None
}

/// A resident ID written 6-8-4 (`110105 19491231 002X`, space or `-`) or a 19-digit card
/// written 6-13 (`622848 0000000123455`), starting with the 6-digit group `s..g0e`.
fn grouped_from_six(b: &[u8], s: usize, g0e: usize) -> Option<(PiiKind, usize)> {
    let sep = at(b, g0e);
    if sep != b' ' && sep != b'-' {
        return None;
    }
    let e1 = digit_end(b, g0e + 1);
    let mut d = [0u8; 19];
    d[..6].copy_from_slice(&b[s..g0e]);
    if e1 - g0e == 9 && at(b, e1) == sep {
        d[6..14].copy_from_slice(&b[g0e + 1..e1]);
        let e2 = digit_end(b, e1 + 1);
        if e2 - e1 == 5 && end_ok(b, e2) {
            d[14..17].copy_from_slice(&b[e1 + 1..e2 - 1]);
            return id_valid(&d[..17], b[e2 - 1]).then_some((PiiKind::ResidentId, e2));
        }
        if e2 - e1 == 4 && matches!(at(b, e2), b'X' | b'x') && end_ok(b, e2 + 1) {
            d[14..17].copy_from_slice(&b[e1 + 1..e2]);
            return id_valid(&d[..17], at(b, e2)).then_some((PiiKind::ResidentId, e2 + 1));
        }
        return None;
    }
    if sep == b' ' && e1 - g0e == 14 && end_ok(b, e1) {
        d[6..].copy_from_slice(&b[g0e + 1..e1]);
        return card(&d).then_some((PiiKind::BankCard, e1));
    }
    None
}

/// A dotted quad starting at `i`; its end.
fn ipv4_at(b: &[u8], i: usize) -> Option<usize> {
    let mut pos = i;
    for part in 0..4 {
        let e = digit_end(b, pos);
        let len = e - pos;
        if len == 0 || len > 3 || (len > 1 && b[pos] == b'0') || num(&b[pos..e]) > 255 {
            return None;
        }
        pos = e;
        if part < 3 {
            if at(b, pos) != b'.' {
                return None;
            }
            pos += 1;
        }
    }
    Some(pos)
}

/// A version word (`version`, `ver`, `ver.`, `版本`, `版本号`) comes right before `i`, with
/// optional spaces and colons between.
fn after_version_word(b: &[u8], i: usize) -> bool {
    let mut j = i;
    for _ in 0..4 {
        if matches!(before(b, j), b' ' | b':' | b'\t') {
            j -= 1;
        } else if ends(b, j, "：") || ends(b, j, "\u{3000}") {
            j -= 3;
        }
    }
    ends_word_ci(b, j, "version")
        || ends_word_ci(b, j, "ver")
        || ends_word_ci(b, j, "ver.")
        || ends(b, j, "版本")
        || ends(b, j, "版本号")
}

/// An IPv6 address starting at `s` (a hex group or `::`); its end.
fn ipv6_at(b: &[u8], s: usize) -> Option<usize> {
    let mut pos = s;
    let mut groups = 0;
    let mut compressed = false;
    let mut colons = 0;
    if at(b, pos) == b':' {
        if at(b, pos + 1) != b':' {
            return None;
        }
        compressed = true;
        colons = 2;
        pos += 2;
    }
    loop {
        let mut h = 0;
        while h < 5 && is_hex(at(b, pos + h)) {
            h += 1;
        }
        if h == 0 {
            break;
        }
        if h > 4 {
            return None;
        }
        if at(b, pos + h) == b'.' {
            pos = ipv4_at(b, pos)?;
            groups += 2;
            break;
        }
        groups += 1;
        pos += h;
        if groups > 8 {
            return None;
        }
        if at(b, pos) != b':' {
            break;
        }
        if at(b, pos + 1) == b':' {
            if compressed {
                return None;
            }
            compressed = true;
            colons += 2;
            pos += 2;
        } else if is_hex(at(b, pos + 1)) {
            colons += 1;
            pos += 1;
        } else {
            break;
        }
    }
    let complete = if compressed { groups <= 7 } else { groups == 8 };
    let c = at(b, pos);
    let continues = c.is_ascii_alphanumeric()
        || (c == b'.' && at(b, pos + 1).is_ascii_digit())
        || (c == b':' && (at(b, pos + 1) == b':' || is_hex(at(b, pos + 1))));
    let has_digit = b[s..pos].iter().any(u8::is_ascii_digit);
    // `2001:db8::/32` is a network prefix, not an address.
    let prefix = b[s..pos].ends_with(b"::") && c == b'/';
    (colons >= 2 && complete && !continues && has_digit && !prefix).then_some(pos)
}

/// A name value at `v`: 2–4 Han characters (a trailing field word cut off) or capitalised Latin
/// words. Its end.
fn name_value(b: &[u8], v: usize) -> Option<usize> {
    if han_at(b, v) {
        let mut e = v + 3 * han_run(b, v, 8);
        let mut han = (e - v) / 3;
        // Names of several parts joined by a middle dot (`买买提·艾力`).
        let mut dotted = false;
        while han < 12 {
            let dot = NAME_DOTS.iter().find(|d| starts(b, e, d)).map_or(0, |d| d.len());
            if dot == 0 || !han_at(b, e + dot) {
                break;
            }
            let more = han_run(b, e + dot, 8);
            e += dot + 3 * more;
            han += more;
            dotted = true;
        }
        if han_at(b, e) {
            return None;
        }
        if let Some(word) = CN_FIELD_LABELS.iter().chain(&HONORIFICS).find(|w| ends(b, e, w) && e - w.len() > v) {
            e -= word.len();
            han -= word.len() / 3;
        } else if colon_at(b, e) > 0 {
            // The run is itself a label (`收件人地址：`).
            return None;
        }
        let plausible = if dotted { (3..=12).contains(&han) } else { (2..=4).contains(&han) };
        if !plausible || NOT_NAME_CN.iter().any(|w| starts(b, v, w)) {
            return None;
        }
        return Some(e);
    }
    if !at(b, v).is_ascii_uppercase() {
        return None;
    }
    let mut words = [(0usize, 0usize); 4];
    let mut k = 0;
    let mut pos = v;
    while k < words.len() && at(b, pos).is_ascii_uppercase() {
        let ws = pos;
        pos = run_end(b, pos + 1, |c| c.is_ascii_alphabetic() || c == b'\'' || c == b'-');
        let mut we = pos;
        while we > ws + 1 && matches!(b[we - 1], b'\'' | b'-') {
            we -= 1;
        }
        if at(b, pos) == b'.' && (we - ws == 1 || TITLES.iter().any(|t| &b[ws..we] == t.as_bytes())) {
            pos += 1;
            we = pos;
        } else if at(b, pos).is_ascii_digit() || at(b, pos) == b'_' {
            return None;
        }
        words[k] = (ws, we);
        k += 1;
        if at(b, pos) == b' ' && at(b, pos + 1).is_ascii_uppercase() && we == pos {
            pos += 1;
        } else {
            break;
        }
    }
    // A last word followed by a colon is the next field's label (`Name: Li Lei Email: …`).
    if k > 0 && at(b, words[k - 1].1) == b':' {
        k -= 1;
    }
    let words = &words[..k];
    let first = words.first()?;
    let longest = words.iter().map(|w| w.1 - w.0).max().unwrap_or(0);
    let first_word = b[first.0..first.1].strip_suffix(b".").unwrap_or(&b[first.0..first.1]);
    if longest < 2 || NOT_NAME_LATIN.iter().any(|w| first_word.eq_ignore_ascii_case(w.as_bytes())) {
        return None;
    }
    if at(b, first.1) == b'/' {
        // `N/A`, `Li/Wang`: not a reliable name.
        return None;
    }
    Some(words[k - 1].1)
}

/// An address value at `v` (Chinese or Latin); its end.
fn address_value(b: &[u8], v: usize) -> Option<usize> {
    if han_at(b, v) {
        cn_address_value(b, v)
    } else {
        latin_address_value(b, v)
    }
}

fn cn_address_value(b: &[u8], v: usize) -> Option<usize> {
    let mut pos = v;
    let mut chars = 0;
    while pos < b.len() && chars < 60 {
        let c = b[pos];
        if c < 0x80 {
            if c.is_ascii_alphanumeric() || c == b'-' || c == b'#' {
                pos += 1;
                chars += 1;
                continue;
            }
            break;
        }
        if !han_at(b, pos) || (pos > v && CN_FIELD_LABELS.iter().any(|l| starts(b, pos, l))) {
            break;
        }
        pos += 3;
        chars += 1;
    }
    let mut e = pos;
    while e > v && matches!(b[e - 1], b'-' | b'#') {
        e -= 1;
    }
    let value = &b[v..e];
    let han = value.iter().filter(|&&c| c >= 0xE0).count();
    let looks_postal = CN_ADDRESS_CHARS.iter().any(|w| value.windows(3).any(|x| x == w.as_bytes()));
    (chars >= 4 && han >= 2 && looks_postal).then_some(e)
}

fn latin_address_value(b: &[u8], v: usize) -> Option<usize> {
    let limit = v.saturating_add(120);
    let mut pos = v;
    while pos < b.len() && pos < limit {
        match b[pos] {
            b'\n' | b'\r' | b'\t' | b'|' | b';' | b'<' | b'>' | b'"' => break,
            b' ' if at(b, pos + 1) == b' ' => break,
            b':' | b'@' => {
                // A following label (`…, Phone: …`) or an e-mail address: cut before its word.
                while pos > v && b[pos - 1].is_ascii_alphanumeric() {
                    pos -= 1;
                }
                break;
            }
            b'.' if matches!(at(b, pos + 1), b' ' | b'\n' | b'\r' | 0) => {
                let ws = {
                    let mut q = pos;
                    while q > v && b[q - 1].is_ascii_alphabetic() {
                        q -= 1;
                    }
                    q
                };
                let abbreviation = pos - ws <= 4 && ws < pos && b[ws].is_ascii_uppercase();
                if abbreviation && at(b, pos + 1) == b' ' && at(b, pos + 2) != 0 {
                    pos += 1;
                } else {
                    break;
                }
            }
            c if c >= 0x80 => break,
            _ => pos += 1,
        }
    }
    let mut e = pos;
    while e > v && matches!(b[e - 1], b' ' | b',' | b'.' | b'-' | b'(' | b'/') {
        e -= 1;
    }
    let value = &b[v..e];
    let has_digit = value.iter().any(u8::is_ascii_digit);
    let has_word = value.split(|c| !c.is_ascii_alphabetic()).any(|w| w.len() >= 3);
    (e - v >= 6 && has_digit && has_word).then_some(e)
}

/// From `pos`, 1..=`max` Han characters the last of which is one of `ends` (at least `min`
/// characters before it); the position after it.
fn han_until(b: &[u8], pos: usize, ends: &[&str], min: usize, max: usize) -> Option<usize> {
    let mut q = pos;
    for k in 0..=max {
        if !han_at(b, q) {
            return None;
        }
        if k >= min && ends.iter().any(|e| starts(b, q, e)) {
            return Some(q + 3);
        }
        q += 3;
    }
    None
}

/// After `市`: district (`区`/`县`), street (`路`/`街`/`道`), number and `号`, then the
/// building/unit/room extension. The end of the address.
fn address_rest(b: &[u8], pos: usize) -> Option<usize> {
    let pos = han_until(b, pos, &["区", "县"], 1, 6)?;
    let mut q = pos;
    for k in 0..16 {
        let street_end = starts(b, q, "路") || starts(b, q, "街") || starts(b, q, "道");
        if han_at(b, q) {
            q += 3;
        } else if at(b, q).is_ascii_digit() {
            q += 1;
        } else {
            return None;
        }
        if k >= 1 && street_end {
            if let Some(e) = house_number(b, q) {
                return Some(address_extension(b, e));
            }
        }
    }
    None
}

/// Digits (optionally `-`digits) and `号` at `q`; the position after `号`.
fn house_number(b: &[u8], q: usize) -> Option<usize> {
    let e = digit_end(b, q);
    if e == q || e - q > 5 {
        return None;
    }
    let e = if at(b, e) == b'-' && at(b, e + 1).is_ascii_digit() { digit_end(b, e + 1) } else { e };
    starts(b, e, "号").then_some(e + 3)
}

/// `院`, `3号楼`, `2单元`, `301室`, `A座`… after a house number.
fn address_extension(b: &[u8], mut e: usize) -> usize {
    if starts(b, e, "院") {
        e += 3;
    }
    for _ in 0..4 {
        let s = e;
        let mut q = digit_end(b, s);
        if q == s && at(b, s).is_ascii_uppercase() {
            q = s + 1;
        }
        if q == s || q - s > 5 {
            break;
        }
        if at(b, q) == b'-' && at(b, q + 1).is_ascii_digit() {
            q = digit_end(b, q + 1);
        }
        let suffix = ["号楼", "单元", "栋", "幢", "楼", "层", "室", "号", "座"].iter().find(|x| starts(b, q, x));
        match suffix {
            Some(x) => e = q + x.len(),
            None => break,
        }
    }
    e
}

/// Line and column of each span, in one forward pass (spans are in order).
fn positions(b: &[u8], spans: Vec<Span>) -> Vec<Finding> {
    let mut out = Vec::with_capacity(spans.len());
    let mut cursor = 0;
    let mut line = 1u32;
    let mut column = 1u32;
    for s in spans {
        let start = s.start.min(b.len()).max(cursor);
        let gap = &b[cursor..start];
        let mut newlines = 0u32;
        let mut last_nl = None;
        for nl in memchr::memchr_iter(b'\n', gap) {
            newlines = newlines.saturating_add(1);
            last_nl = Some(nl);
        }
        match last_nl {
            Some(nl) => {
                line = line.saturating_add(newlines);
                column = 1u32.saturating_add(char_count(&gap[nl + 1..]));
            }
            None => column = column.saturating_add(char_count(gap)),
        }
        cursor = start;
        out.push(Finding { kind: s.kind, start: s.start, end: s.end, line, column });
    }
    out
}

fn char_count(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|&&c| (c & 0xC0) != 0x80).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn han_characters() {
        assert!(han_at("张".as_bytes(), 0));
        assert!(!han_at("，".as_bytes(), 0));
        assert!(!han_at("ぁ".as_bytes(), 0));
    }
}
