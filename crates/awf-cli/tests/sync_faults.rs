//! The sync convergence proof (issue 6): two devices of one account make 10,000 changes between
//! them (edits, renames, creations, deletions) while every sync request goes through the
//! fault-injection proxy at a 30 % fault rate (dropped before or after the platform applied it,
//! delayed, truncated, 5xx, held until it times out, reset), and `awf sync` is killed with
//! SIGKILL at random points. When the faults stop, both devices and the platform hold exactly the
//! same agents, each at its latest local state: no change lost, none applied twice (the platform
//! counts writes whose origin it had already applied), no item duplicated.
//!
//! Seeded (`AWF_SYNC_SEED`), and sized by `AWF_SYNC_CHANGES` (default 10,000).
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use awf_core::{AgentDraft, OpenOptions, Profile};
use awf_faultproxy::{FaultConfig, FaultKind, FaultProxy};
use common::platform::Platform;
use common::{awf, ok};

const PASSWORD: &str = "correct-horse-battery-42";
/// Changes each device makes between two syncs.
const ROUND: usize = 500;

/// A small seeded PRNG (splitmix64): the run is the same for the same seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn awf_at(dir: &Path, platform: &str) -> Command {
    let mut c = awf(dir);
    c.env("AWF_PLATFORM_URL", platform).env_remove("AWF_PLATFORM_PASSWORD").env("AWF_SYNC_BACKOFF_CAP_MS", "300");
    c
}

fn with_stdin(mut c: Command, input: &str) -> std::process::Output {
    use std::io::Write;
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The agents of a profile: id → (name, instructions, archived).
fn agents_of(dir: &Path) -> BTreeMap<String, (String, String, bool)> {
    let p = Profile::open(OpenOptions::new(dir)).unwrap();
    let q = awf_core::ListQuery { filter: String::new(), include_archived: true };
    p.agents()
        .list(&q)
        .unwrap()
        .into_iter()
        .map(|s| {
            let a = p.agents().get(&s.id).unwrap();
            (a.id, (a.draft.name, a.draft.instructions, a.archived))
        })
        .collect()
}

/// `ROUND` random changes to the agents this device created (`own`).
fn make_changes(dir: &Path, own: &mut Vec<String>, rng: &mut Rng, device: &str, counter: &mut usize, budget: usize) {
    let p = Profile::open(OpenOptions::new(dir)).unwrap();
    for _ in 0..budget {
        *counter += 1;
        let n = *counter;
        let roll = rng.below(100);
        if own.len() < 5 || roll < 10 {
            let mut d = AgentDraft::named(format!("{device} agent {n}"));
            d.instructions = format!("created as change {n}\n");
            own.push(p.agents().create(d).unwrap().id);
        } else if roll < 14 {
            let id = own.swap_remove(rng.below(own.len() as u64) as usize);
            p.agents().delete(&id).unwrap();
        } else {
            let id = &own[rng.below(own.len() as u64) as usize];
            let mut d = p.agents().get(id).unwrap().draft;
            if roll < 35 {
                d.name = format!("{device} renamed at {n}");
            } else {
                d.instructions.push_str(&format!("change {n}\n"));
                // Keep texts short: the run is about ordering, not size.
                if d.instructions.len() > 4000 {
                    d.instructions = format!("trimmed at {n}\n");
                }
            }
            p.agents().update(id, d, None).unwrap();
        }
    }
}

/// `awf sync`, killed with SIGKILL after `kill_after` when given, else to its end.
fn sync(dir: &Path, url: &str, kill_after: Option<Duration>) -> Option<serde_json::Value> {
    let mut c = awf_at(dir, url);
    c.args(["sync", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(after) = kill_after {
        let start = Instant::now();
        while start.elapsed() < after {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return None;
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "awf sync failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn ten_thousand_changes_on_two_devices_converge_through_faults_and_kills() {
    let seed: u64 = std::env::var("AWF_SYNC_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261203);
    let total: usize = std::env::var("AWF_SYNC_CHANGES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let mut rng = Rng(seed);
    let pdata = tempfile::tempdir().unwrap();
    let platform = Platform::start(pdata.path(), 0, &[]);
    let upstream = format!("127.0.0.1:{}", platform.port).parse().unwrap();
    let config = FaultConfig {
        seed,
        rate: 0.0,
        kinds: FaultKind::ALL.to_vec(),
        // Short, so the run stays a few minutes: a held request is closed after `hold` (the
        // client then sees a lost connection, as after its own timeout).
        delay: Duration::from_millis(100),
        hold: Duration::from_millis(300),
    };
    let proxy = FaultProxy::start(upstream, config).unwrap();
    let devices = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];

    // Sign up on one device and log in on the other, straight to the platform.
    let (a, b) = (devices[0].path(), devices[1].path());
    let mut c = awf_at(a, &platform.url);
    c.args(["signup", "code", "--phone", "+8613800006601", "--accept-policy"]);
    ok(c);
    let code = platform.sms_code("+8613800006601");
    let mut c = awf_at(a, &platform.url);
    c.args(["signup", "create", "--account-name", "converge", "--phone", "+8613800006601", "--sms-code", &code]);
    c.args(["--date-of-birth", "1990-05-17", "--password-stdin"]);
    assert!(with_stdin(c, &format!("{PASSWORD}\n")).status.success());
    let mut c = awf_at(b, &platform.url);
    c.args(["login", "--login", "converge", "--password-stdin", "--accept-policy"]);
    assert!(with_stdin(c, &format!("{PASSWORD}\n")).status.success());
    for d in [a, b] {
        let mut c = awf_at(d, &platform.url);
        c.args(["consent", "grant", "developer_data_hosting"]);
        ok(c);
    }

    // Rounds: a device changes things, then syncs through the faults, sometimes killed.
    proxy.set_rate(0.3);
    let mut own: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut counter = 0;
    let mut kills = 0;
    let mut turn = 0;
    while counter < total {
        let dev = turn % 2;
        let dir = devices[dev].path();
        let budget = ROUND.min(total - counter);
        make_changes(dir, &mut own[dev], &mut rng, ["a", "b"][dev], &mut counter, budget);
        if rng.below(2) == 0 {
            let after = Duration::from_millis(50 + rng.below(1500));
            if sync(dir, &proxy.url(), Some(after)).is_none() {
                kills += 1;
            }
        }
        sync(dir, &proxy.url(), None);
        turn += 1;
    }
    let faults = proxy.stats();
    assert!(
        faults.requests > 100 && faults.total_faults() * 5 > faults.requests,
        "the proxy injected faults into over a fifth of the requests: {faults:?}"
    );

    // The faults stop; both devices sync until nothing is pending and nothing new arrives.
    proxy.set_rate(0.0);
    let mut quiet = 0;
    for _ in 0..20 {
        let ra = sync(a, &proxy.url(), None).unwrap();
        let rb = sync(b, &proxy.url(), None).unwrap();
        let busy = |r: &serde_json::Value| {
            ["pushed", "deleted", "pulled", "merged", "pending"].iter().any(|k| r[*k].as_u64().unwrap_or(0) > 0)
        };
        assert_eq!((ra["conflicts"].as_u64(), rb["conflicts"].as_u64()), (Some(0), Some(0)), "{ra} {rb}");
        quiet = if busy(&ra) || busy(&rb) { 0 } else { quiet + 1 };
        if quiet == 2 {
            break;
        }
    }
    assert_eq!(quiet, 2, "the devices settled");

    // Both devices hold the same agents, each device's own at its latest state.
    let (la, lb) = (agents_of(a), agents_of(b));
    assert_eq!(la.len(), own[0].len() + own[1].len(), "no agent lost or duplicated");
    assert_eq!(la, lb, "the two devices converged");

    // The platform holds exactly those, at their latest state.
    let token = {
        use awf_core::KeyVault;
        let key: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("key.json")).unwrap()).unwrap();
        let name = format!("platform-tokens/{}", key["profile_id"].as_str().unwrap());
        let json = awf_core::OsKeyring.get_secret(&name).unwrap().expect("tokens in the keyring");
        let v: serde_json::Value = serde_json::from_str(json.expose()).unwrap();
        v["access_token"].as_str().unwrap().to_string()
    };
    let http = reqwest::blocking::Client::new();
    let mut held = BTreeMap::new();
    let mut after = 0u64;
    loop {
        let page: awf_platform_api::Changes = http
            .get(format!("{}/v1/changes?after={after}&limit=1000", platform.url))
            .bearer_auth(&token)
            .header("x-awf-purpose", "developer_data_hosting")
            .send()
            .unwrap()
            .json()
            .unwrap();
        for st in page.changes {
            if !st.deleted {
                let body = st.body.unwrap();
                let d = &body["draft"];
                let entry = (
                    d["name"].as_str().unwrap().to_string(),
                    d["instructions"].as_str().unwrap().to_string(),
                    body["archived"].as_bool().unwrap(),
                );
                assert!(held.insert(st.id.clone(), entry).is_none(), "{} twice in the feed", st.id);
            }
        }
        after = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(held, la, "the platform holds exactly the devices' agents");

    let stats: serde_json::Value =
        reqwest::blocking::get(format!("{}/v1/dev/sync-stats", platform.url)).unwrap().json().unwrap();
    assert_eq!(stats["live_items"].as_u64(), Some(la.len() as u64), "{stats}");
    assert_eq!(stats["duplicate_origins"], 0, "no change applied twice: {stats}");
    assert!(platform.received("POST /v1/items/batch") > 0, "the writes went in batches, faults and all");
    eprintln!(
        "converged: {counter} changes, {} agents, {kills} kills, {} faults {:?}, platform {stats}",
        la.len(),
        faults.total_faults(),
        faults.faults
    );
}
