//! chromedriver and headless Chromium, and finishing a flow whatever happened in it.

use super::*;

// ----- chromedriver and Chromium -------------------------------------------------------------

/// chromedriver on a free 127.0.0.1 port, in its own process group with the browsers it starts;
/// the whole group is killed when this is dropped, also when the test panics.
pub(crate) struct Driver {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
    /// Chromium's profile, and chromedriver's log.
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !killed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn start_driver() -> Driver {
    use std::os::unix::process::CommandExt;
    assert!(
        Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
        "the browser test needs {CHROMEDRIVER} and {CHROMIUM}: run scripts/test as root (it \
         installs them), or install Debian's chromium and chromium-driver \
         (apt-get install chromium chromium-driver)"
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("chromedriver.log");
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {CHROMEDRIVER}: {e}"));
    let mut driver = Driver {
        child,
        port,
        log,
        dir,
    };
    let status = format!("http://127.0.0.1:{port}/status");
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Some(exit) = driver.child.try_wait().unwrap() {
            panic!(
                "chromedriver exited at start ({exit}); its log:\n{}",
                driver.log_text()
            );
        }
        if let Ok(res) = http.get(&status).send().await {
            if res.status().is_success() {
                break;
            }
        }
        assert!(
            start.elapsed() < PATIENCE,
            "chromedriver did not answer on 127.0.0.1:{port}; its log:\n{}",
            driver.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

impl Driver {
    pub(crate) fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// A headless Chromium session with a fresh profile and no background networking.
    pub(crate) async fn browser(&self) -> Client {
        let profile = self.dir.path().join("profile");
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--disable-default-apps".into(),
            "--window-size=1280,1024".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let client = builder
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium: {e}; its log:\n{}",
                    self.log_text()
                )
            });
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(120)),
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(0)),
            ))
            .await
            .unwrap();
        client
    }
}

/// Waits for a flow run as its own task, closes the browser whatever happened (so a failure in
/// the flow still closes it), then reports the flow's panic or its axe violations.
pub(crate) async fn finish(
    flow: tokio::task::JoinHandle<Vec<String>>,
    client: Client,
    driver: Driver,
) {
    let outcome = flow.await;
    let _ = client.close().await;
    drop(driver);
    let blocking = match outcome {
        Ok(b) => b,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the browser flow did not finish: {e}"),
    };
    assert!(
        blocking.is_empty(),
        "{} problems found on the pages (axe-core WCAG 2.1 A/AA violations, or pages wider than a phone):\n{}",
        blocking.len(),
        blocking.join("\n")
    );
}

/// Runs `flow` in a fresh headless Chromium: it is given the browser and chromedriver's address,
/// runs as its own task (so a failure in it still closes the browser), and the problems it
/// collected (axe violations, pages too wide) must be none.
pub(crate) async fn in_browser<F, Fut>(flow: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = Vec<String>> + Send + 'static,
{
    let driver = start_driver().await;
    let client = driver.browser().await;
    let url = format!("http://127.0.0.1:{}", driver.port);
    let task = tokio::spawn(flow(client.clone(), url));
    finish(task, client, driver).await;
}
