//! Starts the real reference platform (`awf-platform`) as a process on loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `target/<profile>/awf-platform`, built on demand when a lone `cargo test -p awf-cli` ran
/// without it (a workspace test run builds it with everything else).
pub fn platform_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join(format!("awf-platform{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "awf-platform", "--bin", "awf-platform"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building awf-platform failed");
    }
    bin
}

/// A running platform; killed on drop.
pub struct Platform {
    pub url: String,
    pub port: u16,
    child: Child,
}

impl Platform {
    /// Starts `awf-platform --dev` on `port` (0: any) with its store in `data`.
    pub fn start(data: &Path, port: u16, extra: &[&str]) -> Platform {
        let mut child = Command::new(platform_bin())
            .args(["--dev", "--port", &port.to_string(), "--data-dir"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("awf-platform starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("awf-platform printed its URL").unwrap();
            if let Some(u) = line.strip_prefix("AWF_PLATFORM_URL=") {
                break u.trim().to_string();
            }
        };
        // Keep draining stdout (SMS lines) so the platform never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Platform { url, port, child }
    }

    fn get(&self, path: &str) -> serde_json::Value {
        reqwest::blocking::get(format!("{}{path}", self.url)).unwrap().json().unwrap()
    }

    /// The last SMS code the dev outbox holds for `phone`.
    pub fn sms_code(&self, phone: &str) -> String {
        let outbox = self.get(&format!("/v1/dev/sms-outbox?phone={}", phone.replace('+', "%2B")));
        outbox.as_array().and_then(|a| a.last()).and_then(|m| m["code"].as_str()).expect("a code was sent").to_string()
    }

    /// How many requests of `route` (`METHOD /path`) the platform has received.
    pub fn received(&self, route: &str) -> u64 {
        self.get("/v1/dev/stats")["by_route"][route].as_u64().unwrap_or(0)
    }

    /// How many item-write requests the platform has received: `PUT` and `DELETE` of one item,
    /// and batches of writes.
    pub fn item_requests(&self) -> u64 {
        let stats = self.get("/v1/dev/stats");
        ["PUT /v1/items/{kind}/{id}", "DELETE /v1/items/{kind}/{id}", "POST /v1/items/batch"]
            .iter()
            .map(|r| stats["by_route"][r].as_u64().unwrap_or(0))
            .sum()
    }

    /// How many requests of `purpose` the platform has received.
    pub fn received_for(&self, purpose: &str) -> u64 {
        self.get("/v1/dev/stats")["by_purpose"][purpose].as_u64().unwrap_or(0)
    }

    /// Account ids the platform would text marketing to (dev endpoint).
    pub fn marketing_recipients(&self) -> Vec<String> {
        serde_json::from_value(self.get("/v1/dev/marketing-recipients")).unwrap()
    }

    /// Stops the process (the platform "goes down").
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
