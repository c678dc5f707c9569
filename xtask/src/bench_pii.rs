//! `cargo xtask bench pii [--mb N]`: the PII scanner's throughput against `grep -E -o` (and
//! `rg`, when installed) on the same file in the same run.
//!
//! 1. Builds the scanner's driver in release mode
//!    (`cargo build --release -p awf-ingest --example pii_scan`).
//! 2. Writes a deterministic mixed Chinese/English corpus of N MB (default 100) under
//!    `target/bench-pii/`, with personal information planted at a known rate (about one item
//!    per 500 bytes), counted per kind.
//! 3. Runs the scanner three times (single-threaded; it reports its own scan time), then
//!    `grep -E -o` with equivalent patterns three times (`LC_ALL=C`, grep's fastest mode), then
//!    `rg -o` three times if `rg` is on `PATH`.
//! 4. Prints the median MB/s of each, the ratio scanner/grep, and the SPEC target
//!    (≥ 200 MB/s per core) as PASS or MISS; writes the same as JSON to
//!    `target/bench-pii/report.json`. A miss is reported, not an error.
//!
//! Two clocks are reported. *CPU time* (the scanning thread's own, from
//! `/proc/thread-self/schedstat`; for grep and rg the children's user+system time from
//! `/proc/self/stat`) is what "per core" means and stays meaningful on a machine busy with other
//! work; the SPEC verdict uses it when it is available (Linux), else the wall clock. The *wall
//! clock* is printed beside it. The scanner's scan-only time excludes reading the file and
//! checking it is UTF-8; the process figures (comparable with grep's) include both.
//!
//! The grep patterns find the same shapes without checksums, labels or word boundaries, so
//! grep does less work per match than the scanner and reports more matches.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::proc::{target_dir, which, Result};

/// The SPEC's throughput target for the scanner, per core.
const TARGET_MB_PER_S: f64 = 200.0;

/// How often each tool runs; the median counts.
const RUNS: usize = 3;

/// Parses `[--mb N]` and runs the benchmark.
pub fn run_args(args: &[String]) -> Result {
    let mut mb = 100;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mb" => {
                let v = it.next().ok_or("--mb needs a number of megabytes")?;
                mb = v.parse().map_err(|_| format!("--mb: `{v}` is not a number"))?;
            }
            other => return Err(format!("bench pii: unexpected argument `{other}` (usage: bench pii [--mb N])")),
        }
    }
    run(mb)
}

/// Runs the benchmark on an `mb`-megabyte corpus and prints the report.
pub fn run(mb: usize) -> Result {
    if mb == 0 || mb > 4096 {
        return Err(format!("bench pii: --mb {mb} is out of range (1–4096)"));
    }
    crate::cargo().args(["build", "--release", "-p", "awf-ingest", "--example", "pii_scan"]).run()?;
    let scanner =
        target_dir().join("release").join("examples").join(format!("pii_scan{}", std::env::consts::EXE_SUFFIX));
    if !scanner.is_file() {
        return Err(format!("{} was not built", scanner.display()));
    }

    let dir = target_dir().join("bench-pii");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let corpus = dir.join(format!("corpus-{mb}mb.txt"));
    let started = Instant::now();
    let planted = write_corpus(&corpus, mb * 1_000_000)?;
    let bytes = std::fs::metadata(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?.len();
    let mb = bytes as f64 / 1e6;
    println!(
        "bench pii: wrote {} ({mb:.1} MB, {:.0}% of the bytes in Han characters) in {:.1} s; planted {} items: {}",
        corpus.display(),
        han_share(&corpus)? * 100.0,
        started.elapsed().as_secs_f64(),
        planted.total(),
        planted.describe()
    );
    let clk_tck: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);

    // The scanner: its own scan time (wall and thread CPU), and the whole process like grep's.
    let mut scan = Speeds::default();
    let mut process = Speeds::default();
    let mut last_json = String::new();
    for run in 1..=RUNS {
        let (out, wall, cpu) = timed(Command::new(&scanner).arg(&corpus), clk_tck)?;
        if !out.status.success() {
            return Err(format!("pii_scan failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        let json = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let seconds = json_number(&json, "seconds").ok_or_else(|| format!("pii_scan printed no time: {json}"))?;
        scan.push(mb, seconds, json_number(&json, "cpu_seconds"));
        process.push(mb, wall, cpu);
        println!(
            "  scanner run {run}: scan {} | process {}   findings {}",
            scan.last(),
            process.last(),
            json_field(&json, "counts")
        );
        last_json = json;
    }

    let grep = which("grep")
        .map(|p| measure("grep -E -o", Command::new(p).env("LC_ALL", "C").args(grep_args()).arg(&corpus), mb, clk_tck));
    let rg = which("rg").map(|p| measure("rg -o", Command::new(p).args(rg_args()).arg(&corpus), mb, clk_tck));

    let (verdict_speed, clock) = match scan.median_cpu() {
        Some(cpu) => (cpu, "CPU time"),
        None => (scan.median_wall(), "wall clock"),
    };
    let verdict = if verdict_speed >= TARGET_MB_PER_S { "PASS" } else { "MISS" };
    let mut report = String::new();
    let _ = writeln!(report, "\nPII scanner benchmark ({mb:.1} MB mixed zh/en, {RUNS} runs each, medians)");
    let _ = writeln!(report, "  {:<34} {:>14} {:>14}", "", "CPU time", "wall clock");
    let row = |name: &str, s: &Speeds| {
        format!("  {name:<34} {:>9} MB/s {:>9.1} MB/s", fmt_opt(s.median_cpu()), s.median_wall())
    };
    let _ = writeln!(report, "{}", row("pii::scan, 1 thread (scan only)", &scan));
    let _ = writeln!(report, "{}", row("pii_scan process (read+UTF-8+scan)", &process));
    for (name, tool) in [("grep -E -o (LC_ALL=C)", &grep), ("rg -o", &rg)] {
        match tool {
            Some(Ok(t)) => {
                let _ = writeln!(report, "{}   {} matches", row(name, &t.speeds), t.matches);
            }
            Some(Err(e)) => {
                let _ = writeln!(report, "  {name:<34} failed: {e}");
            }
            None => {
                let _ = writeln!(report, "  {name:<34} not installed");
            }
        }
    }
    for (name, tool) in [("grep", &grep), ("rg", &rg)] {
        if let Some(Ok(t)) = tool {
            let _ = writeln!(
                report,
                "  ratio scanner/{name}: {} (CPU, process vs process), {:.2}x (wall, process vs process), {} (CPU, scan only)",
                fmt_ratio(process.median_cpu(), t.speeds.median_cpu()),
                process.median_wall() / t.speeds.median_wall(),
                fmt_ratio(scan.median_cpu(), t.speeds.median_cpu()),
            );
        }
    }
    let _ = writeln!(
        report,
        "  findings {} (planted {}: {})",
        json_field(&last_json, "counts"),
        planted.total(),
        planted.describe()
    );
    let _ = writeln!(
        report,
        "  SPEC target >= {TARGET_MB_PER_S} MB/s per core: {verdict} ({verdict_speed:.1} MB/s, {clock} of the scan)"
    );
    print!("{report}");

    let tool_json = |t: &Option<std::result::Result<Tool, String>>| match t {
        Some(Ok(t)) => format!("{{{},\"matches\":{}}}", t.speeds.json(), t.matches),
        _ => "null".to_string(),
    };
    let json = format!(
        "{{\"bytes\":{bytes},\"runs\":{RUNS},\"planted\":{},\"scanner_scan\":{{{}}},\"scanner_process\":{{{}}},\"scanner_last\":{last_json},\"grep\":{},\"rg\":{},\"target_mb_per_s\":{TARGET_MB_PER_S},\"verdict_clock\":\"{clock}\",\"verdict\":\"{verdict}\"}}\n",
        planted.json(),
        scan.json(),
        process.json(),
        tool_json(&grep),
        tool_json(&rg)
    );
    let path = dir.join("report.json");
    std::fs::write(&path, json).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("  report: {}", path.display());
    Ok(())
}

/// MB/s per run, by the wall clock and (where measurable) by CPU time.
#[derive(Default)]
struct Speeds {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

impl Speeds {
    fn push(&mut self, mb: f64, wall_seconds: f64, cpu_seconds: Option<f64>) {
        self.wall.push(mb / wall_seconds.max(1e-9));
        if let Some(c) = cpu_seconds {
            self.cpu.push(mb / c.max(1e-9));
        }
    }

    fn last(&self) -> String {
        let wall = self.wall.last().copied().unwrap_or(0.0);
        match (self.cpu.len() == self.wall.len()).then(|| self.cpu.last()).flatten() {
            Some(cpu) => format!("{cpu:>7.1} MB/s CPU, {wall:>7.1} MB/s wall"),
            None => format!("{wall:>7.1} MB/s wall"),
        }
    }

    fn median_wall(&self) -> f64 {
        median(&mut self.wall.clone())
    }

    /// `None` unless every run had a CPU time.
    fn median_cpu(&self) -> Option<f64> {
        (!self.cpu.is_empty() && self.cpu.len() == self.wall.len()).then(|| median(&mut self.cpu.clone()))
    }

    fn json(&self) -> String {
        format!(
            "\"median_mb_per_s_cpu\":{},\"median_mb_per_s_wall\":{:.1}",
            self.median_cpu().map_or("null".into(), |c| format!("{c:.1}")),
            self.median_wall()
        )
    }
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |x| format!("{x:.1}"))
}

fn fmt_ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    }
}

/// Runs `cmd` to completion: its output, wall seconds and CPU seconds (user + system of the
/// child, from the change in this process's `cutime`/`cstime`; `None` where that is not
/// available).
fn timed(cmd: &mut Command, clk_tck: f64) -> Result<(std::process::Output, f64, Option<f64>)> {
    let before = children_cpu_ticks();
    let t = Instant::now();
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    let wall = t.elapsed().as_secs_f64();
    let cpu = before.zip(children_cpu_ticks()).map(|(a, b)| (b.saturating_sub(a)) as f64 / clk_tck);
    Ok((out, wall, cpu))
}

/// `cutime + cstime` of this process (Linux `/proc/self/stat`, in clock ticks): the CPU time
/// of its finished, waited-for children.
fn children_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (`state`).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the whole line: 13 and 14 from `state`.
    let cutime: u64 = fields.get(13)?.parse().ok()?;
    let cstime: u64 = fields.get(14)?.parse().ok()?;
    Some(cutime + cstime)
}

/// One external tool's measurement.
struct Tool {
    speeds: Speeds,
    matches: usize,
}

fn measure(name: &str, cmd: &mut Command, mb: f64, clk_tck: f64) -> std::result::Result<Tool, String> {
    let mut speeds = Speeds::default();
    let mut matches = 0;
    for run in 1..=RUNS {
        let (out, wall, cpu) = timed(cmd, clk_tck)?;
        // grep exits 1 when nothing matched; only 2 and up are errors.
        if out.status.code().is_none_or(|c| c > 1) {
            return Err(format!("{name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        matches = out.stdout.iter().filter(|&&c| c == b'\n').count();
        speeds.push(mb, wall, cpu);
        println!("  {name} run {run}: {}   {matches} matches", speeds.last());
    }
    Ok(Tool { speeds, matches })
}

/// Patterns for the same shapes as the scanner: mobile numbers (with the optional +86 prefix),
/// 18-character IDs, e-mail addresses, 13–19 digit cards (contiguous or 4-4-4-4), IPv4, IPv6-ish.
const PATTERNS: [&str; 7] = [
    r"(\+?86[- ]?)?1[3-9][0-9]{9}",
    r"[1-9][0-9]{16}[0-9Xx]",
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"[0-9]{13,19}",
    r"[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}",
    r"([0-9]{1,3}\.){3}[0-9]{1,3}",
    r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}",
];

fn grep_args() -> Vec<String> {
    let mut args = vec!["-E".to_string(), "-o".to_string()];
    for p in PATTERNS {
        args.push("-e".into());
        args.push(p.into());
    }
    args
}

fn rg_args() -> Vec<String> {
    let mut args = vec!["-o".to_string(), "--no-filename".to_string(), "--no-line-number".to_string()];
    for p in PATTERNS {
        args.push("-e".into());
        args.push(p.into());
    }
    args
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// The number after `"key":` in a one-line JSON object.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(&format!("\"{key}\":"))? + key.len() + 3..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-')).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The raw value after `"key":` when it is an object (`{…}` without nesting).
fn json_field(json: &str, key: &str) -> String {
    let Some(at) = json.find(&format!("\"{key}\":")) else { return "?".into() };
    let rest = &json[at + key.len() + 3..];
    match rest.find('}') {
        Some(end) if rest.starts_with('{') => rest[..=end].to_string(),
        _ => "?".into(),
    }
}

fn han_share(path: &Path) -> Result<f64> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let han = bytes.iter().filter(|&&c| c >= 0x80).count();
    Ok(han as f64 / bytes.len().max(1) as f64)
}

// ---------------------------------------------------------------------------------------------
// The corpus: deterministic (a fixed xorshift seed), so every run measures the same text.

/// xorshift64*: small, fast and good enough to shuffle sentences.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

const ZH: [&str; 24] = [
    "今天上午项目组在会议室讨论了新版本的发布计划，预计下周三完成全部测试。",
    "这个城市的市场规模在过去五年里增长了将近一倍，但竞争也越来越激烈。",
    "请在提交之前检查每一个字段是否填写完整，尤其是联系方式和收货信息。",
    "系统会在凌晨两点自动备份数据库，备份文件保留三十天后删除。",
    "我们建议把模型的温度参数设为0.7，这样生成的回答既稳定又有变化。",
    "市政府发布通知，地铁三号线将于周末暂停运营进行检修。",
    "用户反馈说导出功能在大文件上很慢，需要优化内存占用。",
    "第3季度的营收为1.2亿元，同比增长18%，毛利率保持稳定。",
    "数据集包含两万条客服对话，平均每条对话有六轮问答。",
    "收到您的订单后，我们会在48小时内安排发货，节假日顺延。",
    "本次更新修复了登录页面在低分辨率屏幕上显示错位的问题。",
    "请不要把密码、身份证号码或者银行卡信息粘贴到公开的聊天窗口中。",
    "会议定在下午3:30开始，预计持续一个半小时，请提前五分钟入场。",
    "模型在中文阅读理解任务上的准确率达到了百分之九十二。",
    "北京、上海和广州的用户占比最高，合计超过总用户数的一半。",
    "地址栏里显示的链接和页面标题不一致时，请不要输入任何个人信息。",
    "日志显示错误发生在2026-11-29 12:30:45，原因是连接超时。",
    "姓名一栏只需填写拼音，系统会自动转换为大写字母。",
    "这批样本中有百分之五的标注存在歧义，需要人工复核。",
    "我们的工作流支持条件分支、循环和并行执行三种控制结构。",
    "订单号2026112912304501已经出库，物流信息稍后更新。",
    "联系人信息会加密保存在本地，不会上传到任何服务器。",
    "版本 2.4.1.7 修复了三个安全问题，建议所有用户尽快升级。",
    "省级平台和市级平台之间的数据同步每十五分钟进行一次。",
];

const EN: [&str; 24] = [
    "The agent answers questions about the product catalogue and hands over to a human when unsure.",
    "We measured a median latency of 230 ms at 50 requests per second on a single core.",
    "Please review the pull request before Friday; the release branch closes at 17:00.",
    "The dataset was split into 80% training, 10% validation and 10% test examples.",
    "Version 3.1.4.1 of the plugin adds retries with exponential back-off.",
    "Our support team works from 09:00 to 18:00, Monday to Friday, except public holidays.",
    "The workflow reads a CSV file, cleans every row, and writes the result to a table.",
    "Order 20261129123045 was shipped yesterday and should arrive within three days.",
    "If the import fails, the error names the row, the column and the reason.",
    "Temperature 0.2 gave the most consistent answers in our evaluation of 1,200 prompts.",
    "The meeting notes are in the shared folder under 2026/Q4/planning.",
    "Tokens are counted per request; the limit is 8192 tokens for the context window.",
    "A MAC address such as 00:1A:2B:3C:4D:5E identifies a network card, not a person.",
    "Use std::collections::BTreeMap when the output must be sorted by key.",
    "The name field accepts up to 64 characters, including spaces and hyphens.",
    "Build 4521 passed all 1,873 tests in 12 minutes and 41 seconds.",
    "The address book sync runs every 15 minutes while the app is open.",
    "Invoices are numbered INV-2026-000417 and never reused after deletion.",
    "Large files are streamed in chunks of 64 KiB so memory stays flat.",
    "The chart shows weekly active users from week 1 to week 48 of 2026.",
    "Never paste customer data into a public issue tracker or a chat room.",
    "Retry after 30 seconds if the server answers with status 503.",
    "The scanner flags personal data before anything leaves the machine.",
    "Each step of the flow can call a tool, a model or another flow.",
];

const SURNAMES: [&str; 12] = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙"];
const GIVEN: [&str; 12] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "小明"];
const LATIN: [&str; 8] =
    ["John Doe", "Jane Roe", "Li Lei", "Han Meimei", "Mary Major", "Wei Zhang", "Anna Schmidt", "Tom Lee"];
const STREETS: [&str; 8] = [
    "北京市海淀区中关村大街",
    "上海市浦东新区世纪大道",
    "浙江省杭州市西湖区文三路",
    "广东省深圳市南山区科技园路",
    "江苏省南京市鼓楼区中山路",
    "四川省成都市武侯区人民南路",
    "天津市和平区南京路",
    "湖北省武汉市洪山区珞喻路",
];
const AREAS: [&str; 8] = ["110101", "110105", "310104", "440305", "330106", "510107", "120101", "320102"];

/// Planted items per kind, in the scanner's order of kinds.
#[derive(Default)]
struct Planted([usize; 8]);

const KINDS: [&str; 8] = ["mobile_cn", "resident_id", "email", "bank_card", "ipv4", "ipv6", "name", "address"];

impl Planted {
    fn total(&self) -> usize {
        self.0.iter().sum()
    }
    fn describe(&self) -> String {
        KINDS.iter().zip(self.0).map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    }
    fn json(&self) -> String {
        let fields: Vec<String> = KINDS.iter().zip(self.0).map(|(k, n)| format!("\"{k}\":{n}")).collect();
        format!("{{{}}}", fields.join(","))
    }
}

fn luhn_complete(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, c)| {
            let v = u32::from(c - b'0');
            // The check digit will sit right of `body`, so the rightmost body digit is doubled.
            if k % 2 == 0 {
                let d = v * 2;
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            } else {
                v
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn resident_id(rng: &mut Rng) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!(
        "{}{:04}{:02}{:02}{}",
        rng.pick(&AREAS),
        1950 + rng.below(60),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.digits(3)
    );
    let sum: u32 = body.bytes().zip(W).map(|(c, w)| u32::from(c - b'0') * w).sum();
    format!("{body}{}", char::from(b"10X98765432"[(sum % 11) as usize]))
}

/// One planted item in a short phrase; `kind` indexes [`KINDS`].
fn pii_phrase(rng: &mut Rng, kind: usize, zh: bool) -> String {
    match kind {
        0 => {
            let n = format!("1{}{}", rng.pick(&["38", "39", "50", "86", "77"]), rng.digits(8));
            if zh {
                format!("联系电话{n}。")
            } else {
                format!(" Call {} {} {} today. ", &n[..3], &n[3..7], &n[7..])
            }
        }
        1 => format!("{}{}{}", if zh { "身份证号" } else { " ID " }, resident_id(rng), if zh { "。" } else { ". " }),
        2 => format!(" user{}@example.{} ", rng.below(100_000), rng.pick(&["com", "org", "cn"])),
        3 => {
            let card = luhn_complete(&format!("622202{}", rng.digits(9)));
            if zh {
                format!("卡号{card}，")
            } else {
                format!(" card {} {} {} {}. ", &card[..4], &card[4..8], &card[8..12], &card[12..])
            }
        }
        4 => format!(" from 192.0.2.{} ", 1 + rng.below(254)),
        5 => format!(" addr 2001:db8::{:x}:{} ", 1 + rng.below(0xfffe), 1 + rng.below(9999)),
        6 => {
            if zh {
                format!("姓名：{}{}，", rng.pick(&SURNAMES), rng.pick(&GIVEN))
            } else {
                format!("\nName: {}\n", rng.pick(&LATIN))
            }
        }
        _ => format!("地址：{}{}号，", rng.pick(&STREETS), 1 + rng.below(999)),
    }
}

/// Writes about `size` bytes of corpus to `path`; the planted items per kind.
fn write_corpus(path: &PathBuf, size: usize) -> Result<Planted> {
    let file = std::fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut planted = Planted::default();
    let mut written = 0;
    let mut line = String::with_capacity(4096);
    while written < size {
        line.clear();
        for _ in 0..(3 + rng.below(5)) {
            let zh = rng.below(2) == 0;
            line.push_str(if zh { rng.pick(&ZH) } else { rng.pick(&EN) });
            if !zh {
                line.push(' ');
            }
            // About one sentence in six carries one item: roughly one per 500 bytes.
            if rng.below(6) == 0 {
                let kind = rng.below(8) as usize;
                line.push_str(&pii_phrase(&mut rng, kind, zh));
                planted.0[kind] += 1;
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))?;
        written += line.len();
    }
    out.flush().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(planted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_completion() {
        assert_eq!(luhn_complete("411111111111111"), "4111111111111111");
        assert_eq!(luhn_complete("7992739871"), "79927398713");
    }

    #[test]
    fn resident_id_check_digit() {
        // 11010519491231002X is the textbook example of the MOD 11-2 check.
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = "11010519491231002".bytes().zip(W).map(|(c, w)| u32::from(c - b'0') * w).sum();
        assert_eq!(b"10X98765432"[(sum % 11) as usize], b'X');
        let mut rng = Rng(1);
        assert_eq!(resident_id(&mut rng).len(), 18);
    }

    #[test]
    fn json_helpers() {
        let j = r#"{"bytes":10,"findings":2,"seconds":0.125000,"counts":{"email":1,"ipv4":1}}"#;
        assert_eq!(json_number(j, "seconds"), Some(0.125));
        assert_eq!(json_field(j, "counts"), r#"{"email":1,"ipv4":1}"#);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    }
}
