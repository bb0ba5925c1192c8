//! What the benches that drive the real server share: starting it on a free port (killed when
//! dropped), reading a page's form token, and a sitting of candidates who entered through it
//! ([`sitting`]).

// Each bench compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::process::{Child, Command};
use std::time::Duration;

pub mod sitting;

/// `imh-exam serve` (the build `binary`) on a free port, on `url`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts it and waits until `/healthz` answers 200.
    pub async fn start(binary: &str, url: &str) -> Server {
        Server::start_with(binary, url, &[]).await
    }

    /// The same, with more arguments for `serve`.
    pub async fn start_with(binary: &str, url: &str, args: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Server {
            child: Command::new(binary)
                .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
                .args(args)
                .env("DATABASE_URL", url)
                .env("RUST_LOG", "warn")
                .spawn()
                .expect("start the server"),
            base: format!("http://127.0.0.1:{port}"),
        };
        let probe = reqwest::Client::new();
        for _ in 0..400 {
            if probe
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not come up");
    }

    /// The server's process id (for its memory, CPU and I/O counters in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on loopback, for a listener the server opens itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The CSRF token a page's form carries.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..start + 64].to_string()
}

/// The CPU time a process has used so far (user + system), from /proc/PID/stat in clock ticks
/// of 10 ms (Linux's USER_HZ on every architecture we build for).
pub fn cpu_time(pid: u32) -> std::time::Duration {
    stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// The CPU time of this process's threads whose name starts with `prefix` (from
/// /proc/self/task/TID/stat), e.g. the load harness's attacker threads.
pub fn threads_cpu_time(prefix: &str) -> std::time::Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return std::time::Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix))
        })
        .map(|t| stat_cpu(&std::fs::read_to_string(t.path().join("stat")).unwrap_or_default()))
        .sum()
}

/// utime + stime of a /proc stat line.
fn stat_cpu(stat: &str) -> std::time::Duration {
    // The command name may hold spaces; the fields after it are fixed.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    std::time::Duration::from_millis(ticks * 10)
}
