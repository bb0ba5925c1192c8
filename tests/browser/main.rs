//! Real browsers use the server: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`; `scripts/test` installs them when run as root).
//!
//! Each audience's flows are a module: the candidate takes the exam (`candidate`), the rater
//! scores by keyboard alone (`rater`). Every page a flow reaches is looked at by [`look`]:
//! axe-core (vendored in `tests/assets/axe.min.js`) checks it against WCAG 2.1 A and AA and no
//! violation of any impact may remain; screenshots at 1280 and 390 px wide are kept under
//! `target/tmp/screens/`; and at 390 px the page may be no wider than the viewport.
//!
//! Only 127.0.0.1 is used: the exam server and chromedriver both listen there, and Chromium runs
//! with its background networking switched off.

mod candidate;
mod candidate_ui;
mod committee;
mod proctor;
mod rater;
mod staff;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use imh_exam::auth::{Role, Username};
use imh_exam::bank::Level;
use imh_exam::config::Config;
use imh_exam::exam::chain::receipt;
use imh_exam::exam::clock::Multiplier;
use imh_exam::exam::form::Parts;
use imh_exam::exam::registration::NewRegistration;
use imh_exam::store::bank::{blueprints, import_dir};
use imh_exam::store::ratings;
use imh_exam::store::sittings::{self, NewSitting};
use imh_exam::store::users::{add_user, NewUser};
use imh_exam::store::{attempts, now_ms, Db};
use imh_exam::web::{self, AppState};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// axe-core, injected into each page checked.
const AXE: &str = include_str!("../assets/axe.min.js");
const HOUR: i64 = 60 * 60 * 1000;
/// How long any one wait in the flow may take.
const PATIENCE: Duration = Duration::from_secs(30);

// ----- the server, its data and the candidate -----------------------------------------------

/// A server on a random port with its own SQLite database, stopped when dropped.
struct App {
    base: String,
    db: Db,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn spawn_app() -> App {
    imh_exam::cli::init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.expect("open SQLite");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(
        db.clone(),
        Config {
            bind: addr,
            ..Config::default()
        },
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(web::serve(state, listener, async {
        let _ = rx.await;
    }));
    App {
        base: format!("http://{addr}"),
        db,
        _dir: dir,
        shutdown: Some(tx),
    }
}

async fn import_sample(db: &Db) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank");
    import_dir(db, &root, "test").await.unwrap();
}

/// A sitting open from an hour ago for eight hours, offering every blueprint.
async fn open_sitting(db: &Db, name: &str) -> sittings::Sitting {
    let now = now_ms();
    let ids: Vec<String> = blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    let id = sittings::create_sitting(
        db,
        &NewSitting {
            name,
            place: "remote",
            opens_at: now - HOUR,
            closes_at: now + 8 * HOUR,
            blueprints: &ids,
        },
        "proctor",
    )
    .await
    .unwrap();
    sittings::sitting(db, id).await.unwrap().unwrap()
}

/// An open sitting with one admitted Level III candidate who sits both parts; returns the
/// registration id and the access code.
async fn admitted_candidate(db: &Db) -> (i64, String) {
    let bps = blueprints(db).await.unwrap();
    let sitting = open_sitting(db, "Browser window").await;
    let (reg_id, code) = sittings::register(
        db,
        &sitting,
        &NewRegistration {
            name: "Ana Ruiz".into(),
            email: "ana@example.org".into(),
            organisation: "Lakeside".into(),
            level: Level::III,
            parts: Parts::BOTH,
            multiplier: Multiplier::parse("1").unwrap(),
            extra_breaks: 0,
            retake_override: None,
        },
        &bps,
        "proctor",
        false,
    )
    .await
    .unwrap();
    assert!(sittings::admit(db, reg_id, "proctor").await.unwrap());
    (reg_id, code)
}

// ----- chromedriver and Chromium -------------------------------------------------------------

/// chromedriver on a free 127.0.0.1 port, in its own process group with the browsers it starts;
/// the whole group is killed when this is dropped, also when the test panics.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
    /// Chromium's profile, and chromedriver's log.
    dir: tempfile::TempDir,
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

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Driver {
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
    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// A headless Chromium session with a fresh profile and no background networking.
    async fn browser(&self) -> Client {
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

// ----- waiting and looking ---------------------------------------------------------------------

/// A bounded wait: each `tick` sleeps a little, and panics with `what` once `PATIENCE` is up.
struct Wait {
    start: Instant,
    what: String,
}

impl Wait {
    fn new(what: impl Into<String>) -> Self {
        Self {
            start: Instant::now(),
            what: what.into(),
        }
    }

    async fn tick(&self, seen: impl std::fmt::Display) {
        assert!(
            self.start.elapsed() < PATIENCE,
            "timed out waiting for {} (last seen: {seen})",
            self.what
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the browser shows `path` and has loaded it.
async fn wait_for_path(c: &Client, path: &str) {
    let wait = Wait::new(format!("the browser to reach {path}"));
    loop {
        let url = c.current_url().await.unwrap();
        if url.path() == path {
            let ready = c
                .execute("return document.readyState", vec![])
                .await
                .unwrap();
            if ready == "complete" {
                return;
            }
        }
        // What the page says, so a timeout shows why the browser is elsewhere (an error page,
        // say), not only where it is.
        let heading = match c.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let heading: String = heading.chars().take(300).collect();
        wait.tick(format!("{url}: {heading}")).await;
    }
}

async fn go(c: &Client, base: &str, path: &str) {
    c.goto(&format!("{base}{path}")).await.unwrap();
    wait_for_path(c, path).await;
}

async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    match c.find(Locator::Css(selector)).await {
        Ok(el) => el,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            panic!("no {selector:?} on {url:?}: {e}")
        }
    }
}

async fn button(c: &Client, text: &str) -> fantoccini::elements::Element {
    let xpath = format!("//main//button[normalize-space()='{text}']");
    c.find(Locator::XPath(&xpath)).await.unwrap_or_else(|e| {
        panic!("no button {text:?}: {e}");
    })
}

/// Whether the input `id` is checked in the browser, and was rendered checked by the server.
async fn checked(c: &Client, id: &str) -> (bool, bool) {
    let el = css(c, &format!("#{id}")).await;
    let selected = el.is_selected().await.unwrap();
    let rendered = c
        .execute(
            "return document.getElementById(arguments[0]).hasAttribute('checked')",
            vec![json!(id)],
        )
        .await
        .unwrap();
    (selected, rendered == true)
}

/// Cuts the browser's network, or gives it back (chromedriver's network conditions, which
/// Chromium reports to the page as `navigator.onLine` and the offline/online events).
async fn set_offline(c: &Client, driver: &str, offline: bool) {
    let session = c.session_id().await.unwrap().expect("a WebDriver session");
    let url = format!("{driver}/session/{session}/chromium/network_conditions");
    let http = reqwest::Client::new();
    let res = if offline {
        http.post(&url)
            .json(&json!({ "network_conditions": {
                "offline": true, "latency": 0, "download_throughput": -1, "upload_throughput": -1
            }}))
            .send()
            .await
    } else {
        http.delete(&url).send().await
    }
    .unwrap();
    let status = res.status();
    assert!(
        status.is_success(),
        "chromedriver refused the network conditions: {}",
        res.text().await.unwrap_or_default()
    );
}

/// Waits until the page's script says everything is saved, nothing waits in its queue, and the
/// database holds `value` for `key`.
async fn wait_saved(c: &Client, db: &Db, attempt_id: i64, key: &str, value: &str) {
    let wait = Wait::new(format!(
        "{key} = {value:?} to be saved by the page's script"
    ));
    let queue_key = format!("imh-exam-queue-{attempt_id}");
    loop {
        let status = css(c, "#save-status").await.text().await.unwrap();
        let queue = c
            .execute(
                "return localStorage.getItem(arguments[0])",
                vec![json!(queue_key)],
            )
            .await
            .unwrap();
        let queue_empty = queue.is_null() || queue == "[]";
        let stored = attempts::answers(db, attempt_id).await.unwrap();
        let stored = stored.get(key).map(String::as_str);
        if status == "All answers saved." && queue_empty && stored == Some(value) {
            return;
        }
        let seen = format!("status {status:?}, queue {queue}, stored {stored:?}");
        wait.tick(seen).await;
    }
}

// ----- axe ---------------------------------------------------------------------------------------

const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
  .then(function (r) {
    done({
      passes: r.passes.length,
      incomplete: r.incomplete.map(function (v) { return v.id; }),
      violations: r.violations.map(function (v) {
        return {
          id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
          nodes: v.nodes.map(function (n) {
            return { target: n.target, html: n.html, summary: n.failureSummary };
          })
        };
      })
    });
  })
  .catch(function (e) { done({ error: String((e && e.stack) || e) }); });
"#;

/// Runs axe on the page shown, prints what it found, and returns every violation, whatever
/// its impact, each described in full.
async fn axe(c: &Client, page: &str) -> Vec<String> {
    let loaded = c.execute("return typeof window.axe", vec![]).await.unwrap();
    if loaded != "object" {
        // The script runs as the body of WebDriver's function, which the page's CSP does not
        // govern.
        let kind = c
            .execute(&format!("{AXE}\n;return typeof window.axe;"), vec![])
            .await
            .unwrap_or_else(|e| panic!("injecting axe into {page}: {e}"));
        assert_eq!(kind, "object", "axe did not load on {page}");
    }
    let result = c
        .execute_async(AXE_RUN, vec![])
        .await
        .unwrap_or_else(|e| panic!("running axe on {page}: {e}"));
    if let Some(err) = result.get("error") {
        panic!("axe failed on {page}: {err}");
    }
    assert!(
        result["passes"].as_u64().is_some_and(|n| n > 0),
        "axe checked nothing on {page}: {result}"
    );
    let violations = result["violations"].as_array().cloned().unwrap_or_default();
    println!(
        "axe on {page}: {} rules passed, {} violated, incomplete (needs review): {}",
        result["passes"],
        violations.len(),
        result["incomplete"]
    );
    let mut found = Vec::new();
    for v in &violations {
        let text = describe(page, v);
        println!("{text}");
        found.push(text);
    }
    found
}

fn describe(page: &str, v: &Value) -> String {
    let mut s = format!(
        "  [{}] {} on {page}: {} ({})",
        v["impact"].as_str().unwrap_or("?"),
        v["id"].as_str().unwrap_or("?"),
        v["help"].as_str().unwrap_or(""),
        v["helpUrl"].as_str().unwrap_or("")
    );
    for n in v["nodes"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n      target {}\n        html {}\n        {}",
            n["target"],
            n["html"].as_str().unwrap_or(""),
            n["summary"]
                .as_str()
                .unwrap_or("")
                .replace('\n', "\n        ")
        ));
    }
    s
}

/// Waits for a flow run as its own task, closes the browser whatever happened (so a failure in
/// the flow still closes it), then reports the flow's panic or its axe violations.
async fn finish(flow: tokio::task::JoinHandle<Vec<String>>, client: Client, driver: Driver) {
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

/// Presses Tab until the focused element matches `want` (a JavaScript predicate on `el`);
/// returns how many presses it took. Looking at the focus is all the script does.
async fn tab_to(c: &Client, want: &str, what: &str) -> usize {
    let check = format!("const el = document.activeElement; return !!(el && ({want}));");
    for presses in 0..80 {
        if c.execute(&check, vec![]).await.unwrap() == true {
            return presses;
        }
        c.active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab)
            .await
            .unwrap();
    }
    panic!("Tab never reached {what}");
}

async fn keys(c: &Client, text: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

// ----- staff ----------------------------------------------------------------------------------

/// Adds a staff account `username` with `role` and a password of `"a long " + username + "
/// password"`, then signs in as them through the login form and waits for their home page.
async fn staff_signs_in(c: &Client, base: &str, db: &Db, username: &str, role: Role) {
    let password = format!("a long {username} password");
    add_user(
        db,
        NewUser {
            username: &Username::parse(username).unwrap(),
            display_name: &format!("{} of the staff", username.to_uppercase()),
            role,
            organisation: "",
            password: &password,
            added_by: "test",
        },
    )
    .await
    .unwrap();
    c.delete_all_cookies().await.unwrap();
    go(c, base, "/login").await;
    css(c, "#username").await.send_keys(username).await.unwrap();
    css(c, "#password")
        .await
        .send_keys(&password)
        .await
        .unwrap();
    css(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(c, "/").await;
}

// ----- looking at a page as its users would ------------------------------------------------

/// The widths every page is looked at: a desktop and a phone (an iPhone 12 to 15 is 390 px).
const WIDTHS: [u32; 2] = [1280, 390];

/// Where the screenshots go, kept for people to look at after a run.
fn screens_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Resizes the browser's window so that the page's viewport is `width` px wide.
async fn set_width(c: &Client, width: u32) {
    c.set_window_size(width, 900).await.unwrap();
    let inner = c.execute("return window.innerWidth", vec![]).await.unwrap();
    let inner = inner.as_u64().unwrap_or(0);
    if inner != u64::from(width) && inner > 0 {
        // The window's frame takes some of it: grow the window by the difference.
        let frame = u64::from(width)
            .saturating_sub(inner)
            .max(inner.saturating_sub(u64::from(width)));
        let outer = if inner < u64::from(width) {
            u64::from(width) + frame
        } else {
            u64::from(width) - frame
        };
        c.set_window_size(outer as u32, 900).await.unwrap();
    }
}

/// A file name for a page's description.
fn slug(page: &str) -> String {
    let mut s = String::new();
    for ch in page.chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

/// Looks at the page shown as its users would: axe-core checks it against WCAG 2.1 A and AA
/// (every violation counts, whatever its impact), and at each of `WIDTHS` a screenshot is kept
/// and the page must fit the viewport (`document.documentElement.scrollWidth <= innerWidth`).
/// Returns what is wrong, each described in full; the window is left 1280 px wide.
async fn look(c: &Client, page: &str) -> Vec<String> {
    let mut found = axe(c, page).await;
    for width in WIDTHS {
        set_width(c, width).await;
        let sizes = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
        if scroll > inner {
            let wide = c
                .execute(WIDEST, vec![])
                .await
                .unwrap_or_else(|_| json!("?"));
            found.push(format!(
                "  {page} is {scroll} px wide in a {inner} px viewport; widest elements: {wide}"
            ));
        }
        let png = c.screenshot().await.unwrap();
        assert!(png.len() > 1000, "an empty screenshot of {page}");
        let file = screens_dir().join(format!("{}-{width}.png", slug(page)));
        std::fs::write(&file, png).unwrap();
    }
    set_width(c, WIDTHS[0]).await;
    found
}

/// The elements that stick out to the right of the viewport, for a failure's message.
const WIDEST: &str = r#"
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.right > window.innerWidth + 1) {
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
      ' right=' + Math.round(r.right));
  }
  if (out.length >= 8) break;
}
return out;
"#;

/// Switches the page's CSS media to print (or back to screen) through Chromium's DevTools
/// protocol, as the print preview would lay it out.
async fn print_media(c: &Client, driver: &str, print: bool) {
    let session = c.session_id().await.unwrap().expect("a WebDriver session");
    let url = format!("{driver}/session/{session}/goog/cdp/execute");
    let media = if print { "print" } else { "" };
    let res = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "media": media } }))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "chromedriver refused print media: {}",
        res.text().await.unwrap_or_default()
    );
}

/// A screenshot of the page as printed (print media), kept beside the others; returns what
/// the printed page shows of `selector` (its visible text), so a test can say what prints.
async fn print_shot(c: &Client, driver: &str, page: &str, selector: &str) -> String {
    print_media(c, driver, true).await;
    set_width(c, 816).await; // US Letter at 96 dpi
    let png = c.screenshot().await.unwrap();
    let file = screens_dir().join(format!("{}-print.png", slug(page)));
    std::fs::write(&file, png).unwrap();
    let shown = css(c, selector).await.text().await.unwrap();
    print_media(c, driver, false).await;
    set_width(c, WIDTHS[0]).await;
    shown
}
