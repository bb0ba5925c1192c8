//! The `imh-exam` binary run as its own process, for tests that kill it, stop it or run its
//! commands: what an in-process `TestApp` cannot show.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The `imh-exam` binary with its log silenced; add the arguments and the database.
pub fn imh_exam() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imh-exam"));
    command.env("RUST_LOG", "off");
    command
}

/// `imh-exam serve` on a free port, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(url: &str) -> Server {
        Server::start_with(url, &[]).await
    }

    /// The same, with extra environment variables for the server process.
    pub async fn start_with(url: &str, env: &[(&str, &str)]) -> Server {
        Server::start_writing(url, env, Stdio::inherit()).await
    }

    /// The same, its standard output (the log) sent to `out`.
    // The guard's Drop waits for the process; the lint cannot see through it.
    #[allow(clippy::zombie_processes)]
    pub async fn start_writing(url: &str, env: &[(&str, &str)], out: Stdio) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = imh_exam()
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .envs(env.iter().copied())
            .stdout(out)
            .spawn()
            .unwrap();
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if server.health().await == 200 {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not come up");
    }

    /// The status of `/healthz`, 0 when there is no answer within 5 s.
    pub async fn health(&self) -> u16 {
        reqwest::Client::new()
            .get(format!("{}/healthz", self.base))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }

    /// Sends `signal` ("KILL", "TERM") to the process.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGKILL: the process ends at once, whatever it was doing.
    pub fn kill(&mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }

    /// Lets `tasks` go on (each saving until the server stops answering) until more than
    /// `enough` saves are acknowledged in `acks` or 2 s pass, kills the server in the middle of
    /// it, waits for the tasks to notice, and returns every acknowledgement.
    pub async fn kill_mid_stream<T: Clone>(
        &mut self,
        tasks: Vec<tokio::task::JoinHandle<()>>,
        acks: &std::sync::Arc<std::sync::Mutex<Vec<T>>>,
        enough: usize,
    ) -> Vec<T> {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if acks.lock().unwrap().len() > enough {
                break;
            }
        }
        self.kill();
        for task in tasks {
            task.await.unwrap();
        }
        let acked = acks.lock().unwrap().clone();
        acked
    }

    /// SIGTERM, then up to 10 s for the process to end: its exit status, or `None` if it is
    /// still running (it is killed when dropped).
    pub async fn terminate(&mut self) -> Option<ExitStatus> {
        self.signal("TERM");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
