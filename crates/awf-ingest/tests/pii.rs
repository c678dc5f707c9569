//! The PII scanner: precision and recall per kind against the labelled corpus
//! (`tests/data/pii-corpus.tsv`, printed with `cargo test -p awf-ingest --test pii -- --nocapture`),
//! the checksum functions, masking, positions, the documented edge cases, and property tests: no
//! input makes the scanner panic, and its findings are ordered, disjoint and on character
//! boundaries.

use std::collections::{BTreeMap, BTreeSet};

use awf_ingest::pii::{self, Finding, PiiKind};
use proptest::prelude::*;

const CORPUS: &str = include_str!("data/pii-corpus.tsv");

/// One labelled example: its text and the expected findings as (kind, byte start, byte end).
struct Example {
    line: usize,
    text: String,
    labels: Vec<(PiiKind, usize, usize)>,
}

fn kind_named(name: &str) -> Option<PiiKind> {
    PiiKind::ALL.into_iter().find(|k| format!("{k:?}") == name)
}

/// `\n`, `\t` and `\\` escapes of the corpus format.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn corpus() -> Vec<Example> {
    let mut examples = Vec::new();
    for (index, raw) in CORPUS.lines().enumerate() {
        let line = index + 1;
        if raw.starts_with('#') || raw.trim().is_empty() {
            continue;
        }
        let mut fields = raw.split('\t');
        let text = unescape(fields.next().unwrap_or_default());
        let mut labels = Vec::new();
        let mut from = 0;
        for field in fields {
            let (kind, value) = field.split_once('=').unwrap_or_else(|| panic!("line {line}: label `{field}`"));
            let kind = kind_named(kind).unwrap_or_else(|| panic!("line {line}: unknown kind `{kind}`"));
            let value = unescape(value);
            let start = from
                + text[from..]
                    .find(&value)
                    .unwrap_or_else(|| panic!("line {line}: `{value}` not in the text after {from}"));
            let end = start + value.len();
            labels.push((kind, start, end));
            from = end;
        }
        examples.push(Example { line, text, labels });
    }
    examples
}

#[derive(Default, Clone, Copy)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Tally {
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        1.0
    } else {
        n as f64 / d as f64
    }
}

#[test]
fn corpus_precision_and_recall() {
    let examples = corpus();
    let negatives = examples.iter().filter(|e| e.labels.is_empty()).count();
    assert!(examples.len() >= 300, "the corpus has {} examples; at least 300 wanted", examples.len());
    assert!(negatives >= 100, "the corpus has {negatives} hard negatives; at least 100 wanted");

    let mut per_kind: BTreeMap<PiiKind, Tally> = PiiKind::ALL.iter().map(|&k| (k, Tally::default())).collect();
    let mut misses = Vec::new();
    for ex in &examples {
        let gold: BTreeSet<(PiiKind, usize, usize)> = ex.labels.iter().copied().collect();
        let found: BTreeSet<(PiiKind, usize, usize)> =
            pii::scan(&ex.text).into_iter().map(|f| (f.kind, f.start, f.end)).collect();
        for &(kind, start, end) in &found {
            let t = per_kind.entry(kind).or_default();
            if gold.contains(&(kind, start, end)) {
                t.tp += 1;
            } else {
                t.fp += 1;
                misses.push(format!("  FP line {:>3} {kind:?} `{}` in {:?}", ex.line, &ex.text[start..end], ex.text));
            }
        }
        for &(kind, start, end) in gold.difference(&found) {
            per_kind.entry(kind).or_default().fn_ += 1;
            misses.push(format!("  FN line {:>3} {kind:?} `{}` in {:?}", ex.line, &ex.text[start..end], ex.text));
        }
    }

    let total =
        per_kind.values().fold(Tally::default(), |a, t| Tally { tp: a.tp + t.tp, fp: a.fp + t.fp, fn_: a.fn_ + t.fn_ });
    println!(
        "\nPII corpus: {} examples ({} with labels, {negatives} hard negatives), {} labels",
        examples.len(),
        examples.len() - negatives,
        total.tp + total.fn_
    );
    println!("{:<11} {:>5} {:>4} {:>4} {:>4} {:>9} {:>7}", "kind", "gold", "tp", "fp", "fn", "precision", "recall");
    for (kind, t) in &per_kind {
        println!(
            "{:<11} {:>5} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
            format!("{kind:?}"),
            t.tp + t.fn_,
            t.tp,
            t.fp,
            t.fn_,
            t.precision(),
            t.recall()
        );
    }
    println!(
        "{:<11} {:>5} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
        "overall",
        total.tp + total.fn_,
        total.tp,
        total.fp,
        total.fn_,
        total.precision(),
        total.recall()
    );
    if !misses.is_empty() {
        println!("misses:\n{}", misses.join("\n"));
    }
    for kind in PiiKind::ALL {
        let gold = per_kind[&kind].tp + per_kind[&kind].fn_;
        assert!(gold >= 15, "{kind:?} has only {gold} labelled positives; at least 15 wanted");
    }
    assert!(total.recall() >= 0.95, "overall recall {:.3} < 0.95", total.recall());
    assert!(total.precision() >= 0.95, "overall precision {:.3} < 0.95", total.precision());
}

// --- checksums ------------------------------------------------------------------------------

#[test]
fn luhn() {
    assert!(pii::luhn_valid("4111111111111111"));
    assert!(pii::luhn_valid("4111 1111 1111 1111"));
    assert!(pii::luhn_valid("4111-1111-1111-1111"));
    assert!(pii::luhn_valid("79927398713"));
    assert!(pii::luhn_valid("378282246310005"));
    assert!(!pii::luhn_valid("4111111111111112"));
    assert!(!pii::luhn_valid("79927398710"));
    assert!(!pii::luhn_valid(""));
    assert!(!pii::luhn_valid("4111x1111"));
    assert!(!pii::luhn_valid(&"1".repeat(40)), "longer than any card: refused, not overflowed");
}

#[test]
fn resident_id_checksum() {
    assert_eq!(pii::resident_id_check_char("11010519491231002"), Some('X'));
    assert_eq!(pii::resident_id_check_char("44052418800101001"), Some('4'));
    assert_eq!(pii::resident_id_check_char("11010119900307123"), Some('3'));
    assert_eq!(pii::resident_id_check_char("1101011990030712"), None);
    assert_eq!(pii::resident_id_check_char("1101011990030712a"), None);

    assert!(pii::resident_id_valid("11010519491231002X"));
    assert!(pii::resident_id_valid("11010519491231002x"));
    assert!(pii::resident_id_valid("110101199003071233"));
    assert!(!pii::resident_id_valid("110101199003071234"), "wrong check digit");
    assert!(!pii::resident_id_valid("440524188001010014"), "born 1880: outside 1900-2099");
    assert!(!pii::resident_id_valid("990101199003071235"), "province 99 does not exist");
    let body = "11010119900230123"; // 30 February
    let id = format!("{body}{}", pii::resident_id_check_char(body).unwrap());
    assert!(!pii::resident_id_valid(&id), "30 February is no birth date");
    let body = "11010120000229123"; // 2000 is a leap year
    let id = format!("{body}{}", pii::resident_id_check_char(body).unwrap());
    assert!(pii::resident_id_valid(&id));
    assert!(!pii::resident_id_valid("11010519491231002"), "17 characters");
}

// --- masking --------------------------------------------------------------------------------

#[test]
fn masks() {
    use PiiKind::*;
    assert_eq!(pii::mask(MobileCn, "13812345678"), "138****5678");
    assert_eq!(pii::mask(MobileCn, "+86 138-1234-5678"), "+86 138****5678");
    assert_eq!(pii::mask(ResidentId, "11010519491231002X"), "110105********002X");
    assert_eq!(pii::mask(Email, "alice@example.com"), "a***@example.com");
    assert_eq!(pii::mask(BankCard, "4111 1111 1111 1234"), "**** **** **** 1234");
    assert_eq!(pii::mask(Ipv4, "192.168.1.20"), "192.*.*.*");
    assert_eq!(pii::mask(Ipv6, "2001:db8::1"), "2001:****");
    assert_eq!(pii::mask(Ipv6, "::1"), "::****");
    assert_eq!(pii::mask(Name, "张三"), "张*");
    assert_eq!(pii::mask(Name, "欧阳娜娜"), "欧***");
    assert_eq!(pii::mask(Name, "John Smith"), "J***");
    assert_eq!(pii::mask(Address, "北京市海淀区中关村大街27号"), "北京市海淀区…");
    // Shapes the scanner never produces still mask without panicking.
    for kind in PiiKind::ALL {
        for odd in ["", "1", "@", "张", "..", "::", "x@", "12345678901234567890123456789"] {
            let masked = pii::mask(kind, odd);
            assert!(odd.is_empty() || !masked.is_empty(), "{kind:?} {odd:?}");
        }
    }
}

// --- positions and documented edge cases ----------------------------------------------------

fn found(text: &str) -> Vec<(PiiKind, &str)> {
    pii::scan(text).into_iter().map(|f| (f.kind, &text[f.start..f.end])).collect()
}

#[test]
fn lines_and_columns_count_characters() {
    let text = "第一行没有\n姓名：张三，手机13800138000\r\nemail: a@example.com";
    let f = pii::scan(text);
    let at: Vec<(PiiKind, u32, u32)> = f.iter().map(|f| (f.kind, f.line, f.column)).collect();
    assert_eq!(at, [(PiiKind::Name, 2, 4), (PiiKind::MobileCn, 2, 9), (PiiKind::Email, 3, 8)]);
    assert_eq!(pii::counts(&f).get(&PiiKind::Name), Some(&1));
    assert_eq!(pii::counts(&f).get(&PiiKind::Ipv4), None);
}

#[test]
fn checksum_decides_between_id_and_card() {
    // A valid ID that is also Luhn-valid is an ID only.
    let id = "110101199003070054";
    assert!(pii::resident_id_valid(id) && pii::luhn_valid(id));
    assert_eq!(found(&format!("号码 {id}")), [(PiiKind::ResidentId, id)]);
    // 18 Luhn-valid digits that fail the ID rules are a card.
    let card = "622202000000000007";
    assert!(!pii::resident_id_valid(card) && pii::luhn_valid(card));
    assert_eq!(found(&format!("卡 {card}")), [(PiiKind::BankCard, card)]);
}

#[test]
fn word_boundaries() {
    assert_eq!(found("手机13800138000。"), [(PiiKind::MobileCn, "13800138000")]);
    assert!(found("abc13800138000").is_empty());
    assert!(found("13800138000abc").is_empty());
    assert!(found("138001380001").is_empty());
    assert!(found("3.13800138000").is_empty());
    assert!(found("2024-13800138000").is_empty());
    assert!(found("13800138000.5").is_empty());
    assert_eq!(
        found("13800138000,13900139000"),
        [(PiiKind::MobileCn, "13800138000"), (PiiKind::MobileCn, "13900139000")]
    );
}

#[test]
fn email_wins_over_a_number_in_its_local_part() {
    assert_eq!(found("13800138000@example.com"), [(PiiKind::Email, "13800138000@example.com")]);
    assert_eq!(found("+8613800138000@example.com"), [(PiiKind::Email, "+8613800138000@example.com")]);
}

#[test]
fn version_strings_times_and_code_are_not_addresses() {
    assert!(found("version 1.2.3.4").is_empty());
    assert!(found("版本号：1.2.3.4").is_empty());
    assert!(found("v1.2.3.4").is_empty());
    assert!(found("1.2.3.4.5").is_empty());
    assert_eq!(found("server 1.2.3.4"), [(PiiKind::Ipv4, "1.2.3.4")], "a bare dotted quad is reported");
    assert!(found("12:30:45").is_empty());
    assert!(found("00:1A:2B:3C:4D:5E").is_empty());
    assert!(found("Vec::new a::b std::io").is_empty());
    assert_eq!(found("IPv6:fe80::1"), [(PiiKind::Ipv6, "fe80::1")]);
    assert_eq!(found("192.0.2.1:8080"), [(PiiKind::Ipv4, "192.0.2.1")]);
    assert_eq!(found("[::1]:80"), [(PiiKind::Ipv6, "::1")]);
}

#[test]
fn labels() {
    assert_eq!(found("姓名：张三电话：13800138000")[0], (PiiKind::Name, "张三"));
    assert!(found("收件人地址：暂无").is_empty());
    assert!(found("IP地址：10.0.0.x").is_empty());
    assert!(found("name: build").is_empty(), "lower-case `name:` alone is a YAML key");
    assert_eq!(found("full name: Li Lei"), [(PiiKind::Name, "Li Lei")]);
    assert!(found("Username: Admin").is_empty());
    assert_eq!(found("寄到深圳市南山区科技园路1号"), [(PiiKind::Address, "深圳市南山区科技园路1号")]);
    assert_eq!(found("收件人：王小明先生"), [(PiiKind::Name, "王小明")]);
    assert_eq!(found("姓名：买买提·艾力"), [(PiiKind::Name, "买买提·艾力")]);
    assert!(found("姓名：张三丰李四王五").is_empty(), "too long for a name");
}

#[test]
fn grouped_forms() {
    assert_eq!(found("身份证：110105 19491231 002X"), [(PiiKind::ResidentId, "110105 19491231 002X")]);
    assert_eq!(found("身份证：110105-19491231-002x。"), [(PiiKind::ResidentId, "110105-19491231-002x")]);
    assert!(found("身份证：110105 19491231 0021").is_empty(), "wrong check digit");
    assert_eq!(found("卡号 622848 0000000123455"), [(PiiKind::BankCard, "622848 0000000123455")]);
    assert_eq!(found("Amex 3782 822463 10005"), [(PiiKind::BankCard, "3782 822463 10005")]);
    assert_eq!(found("卡 4111-1111-1111-1111-"), [(PiiKind::BankCard, "4111-1111-1111-1111")]);
    assert!(found("卡 4111-1111-1111-1111-2").is_empty(), "a dashed token is one token");
    assert_eq!(found("4111 1111 1111 1111 2026"), [(PiiKind::BankCard, "4111 1111 1111 1111")]);
    assert_eq!(found("+86 138-0013-8000"), [(PiiKind::MobileCn, "+86 138-0013-8000")]);
    assert!(found("6901234567892").is_empty(), "a 13-digit EAN barcode is no Visa number");
}

/// Inputs built to provoke the worst case of each candidate kind stay linear (a quadratic
/// scan of these would not finish in any reasonable time).
#[test]
fn pathological_inputs_stay_linear() {
    let n = 200_000;
    for unit in ["1:", "a@", "1 ", "1-", "1.", "姓名", "市", "::", "a.b@", "1234 ", "Name: A ", "地址：北京市"]
    {
        let text = unit.repeat(n / unit.len());
        let started = std::time::Instant::now();
        let _ = pii::scan(&text);
        assert!(started.elapsed().as_secs() < 20, "`{unit}` repeated took {:?}", started.elapsed());
    }
}

// --- properties -----------------------------------------------------------------------------

/// Checks the invariants of `scan` on `text`.
fn check_invariants(text: &str) -> Result<(), TestCaseError> {
    let findings = pii::scan(text);
    let mut last_end = 0;
    for f in &findings {
        prop_assert!(f.start < f.end, "empty finding {f:?}");
        prop_assert!(f.end <= text.len(), "{f:?} beyond the text");
        prop_assert!(f.start >= last_end, "{f:?} overlaps or is out of order");
        prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end), "{f:?} not on char boundaries");
        let (line, column) = naive_position(text, f.start);
        prop_assert_eq!((f.line, f.column), (line, column), "position of {:?}", f);
        let _ = pii::mask(f.kind, &text[f.start..f.end]);
        last_end = f.end;
    }
    Ok(())
}

fn naive_position(text: &str, start: usize) -> (u32, u32) {
    let head = &text[..start];
    let line = head.matches('\n').count() as u32 + 1;
    let line_start = head.rfind('\n').map_or(0, |i| i + 1);
    (line, head[line_start..].chars().count() as u32 + 1)
}

/// Text made of fragments that come close to every rule, glued in random order.
fn fragments() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "13800138000",
        "+86 138 0013 8000",
        "0086-",
        "11010519491231002X",
        "110101199003071233",
        "4111 1111 1111 1111",
        "4111-1111-",
        "a.b+c@example.com",
        "@",
        ".",
        ":",
        "::",
        "fe80::1",
        "::ffff:1.2.3.4",
        "192.168.1.1",
        "255.",
        "姓名：",
        "联系人",
        "收件人",
        "地址：",
        "Name: ",
        "Address: ",
        "John ",
        "张三",
        "北京市",
        "浙江省",
        "海淀区",
        "大街",
        "27号",
        "院",
        "3号楼",
        "版本",
        "version ",
        " ",
        "-",
        "\n",
        "x",
        "X",
        "０",
        "é",
        "😀",
        "，",
        "：",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_invariants(&text)?;
    }

    #[test]
    fn pii_alphabet_strings_never_panic(
        text in "[0-9a-fA-FxX .:@+\\-_\n姓名联系人收件货地址住省市区县路街道号院楼室：，。é😀]{0,96}"
    ) {
        check_invariants(&text)?;
    }

    #[test]
    fn glued_fragments_never_panic(text in fragments()) {
        check_invariants(&text)?;
    }
}

#[test]
fn finding_is_plain_data() {
    let f = Finding { kind: PiiKind::Email, start: 0, end: 1, line: 1, column: 1 };
    let json = serde_json::to_string(&f).unwrap();
    assert_eq!(json, r#"{"kind":"email","start":0,"end":1,"line":1,"column":1}"#);
}
