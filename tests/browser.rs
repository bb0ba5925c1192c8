//! A real browser takes the exam: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`; `scripts/test` installs them when run as root). The
//! candidate enters with an access code, answers and flags a question, moves on, reloads and
//! finds the answers, changes one while the network is cut (it waits in the browser and is sent
//! when the network returns), submits Part One and sees the receipt, then starts Part Two; a
//! proctor then opens the sitting's console. A second test has a rater score two responses with
//! the keyboard alone (Tab, arrow keys, typing, Enter). axe-core (vendored in `tests/assets/axe.min.js`)
//! checks the candidate's, the proctor's and the rater's pages against WCAG 2.1 A and AA: no violation may be
//! serious or critical.
//!
//! Only 127.0.0.1 is used: the exam server and chromedriver both listen there, and Chromium runs
//! with its background networking switched off.

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
const AXE: &str = include_str!("assets/axe.min.js");
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

/// Runs axe on the page shown, prints what it found, and returns the serious and critical
/// violations, each described in full.
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
    let mut blocking = Vec::new();
    for v in &violations {
        let text = describe(page, v);
        println!("{text}");
        if matches!(v["impact"].as_str(), Some("serious" | "critical")) {
            blocking.push(text);
        }
    }
    blocking
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

// ----- the flow ----------------------------------------------------------------------------------

/// Takes the exam in the browser; returns the serious and critical axe violations found on the
/// way, so the flow finishes before they are reported.
async fn take_the_exam(
    c: Client,
    driver: String,
    base: String,
    db: Db,
    reg_id: i64,
    code: String,
) -> Vec<String> {
    let mut blocking = Vec::new();

    // Entering with the access code, typed as a person would (lower case is fine).
    go(&c, &base, "/enter").await;
    css(&c, "#code")
        .await
        .send_keys(&code.to_lowercase())
        .await
        .unwrap();
    css(&c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/candidate").await;
    blocking.extend(axe(&c, "/candidate (candidate home)").await);

    // Part One, question 1: choose an option by its label, then flag it; the script saves both.
    button(&c, "Start Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/item/1").await;
    let a = attempts::attempts_of(&db, reg_id).await.unwrap().remove(0);
    assert_eq!(a.part, 1);
    let canonical = |pos: usize, shown: usize| {
        let e = &a.form.part_one[pos];
        (
            e.item_id.clone(),
            ((b'A' + e.option_order[shown]) as char).to_string(),
        )
    };
    let (first, first_answer) = canonical(0, 1);
    css(&c, "label[for='opt-1']").await.click().await.unwrap();
    wait_saved(&c, &db, a.id, &first, &first_answer).await;
    css(&c, "#flag").await.click().await.unwrap();
    wait_saved(&c, &db, a.id, &format!("@flag:{first}"), "1").await;
    blocking.extend(axe(&c, "/exam/1/item/1 (Part One question)").await);

    // Question 2, reached through the form's own button.
    button(&c, "Save and go to the next question")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/exam/1/item/2").await;
    let (second, second_answer) = canonical(1, 3);
    css(&c, "label[for='opt-3']").await.click().await.unwrap();
    wait_saved(&c, &db, a.id, &second, &second_answer).await;

    // A reload mid-exam shows both answers and the flag, as the server now renders them.
    go(&c, &base, "/exam/1/item/2").await;
    assert_eq!(
        checked(&c, "opt-3").await,
        (true, true),
        "question 2's answer after a reload"
    );
    go(&c, &base, "/exam/1/item/1").await;
    assert_eq!(
        checked(&c, "opt-1").await,
        (true, true),
        "question 1's answer"
    );
    assert_eq!(checked(&c, "flag").await, (true, true), "question 1's flag");

    // The network drops: a changed answer waits in the browser, the page says so plainly, and
    // the server still has the old answer; when the network returns, the edit is sent.
    set_offline(&c, &driver, true).await;
    let (_, changed_answer) = canonical(0, 2);
    css(&c, "label[for='opt-2']").await.click().await.unwrap();
    let wait = Wait::new("the page to say it is offline");
    loop {
        let status = css(&c, "#save-status").await.text().await.unwrap();
        if status.contains("You are offline") {
            break;
        }
        wait.tick(status).await;
    }
    let queued = c
        .execute(
            "return JSON.parse(localStorage.getItem(arguments[0]))",
            vec![json!(format!("imh-exam-queue-{}", a.id))],
        )
        .await
        .unwrap();
    assert_eq!(queued.as_array().map(Vec::len), Some(1), "{queued}");
    assert_eq!(
        attempts::answers(&db, a.id).await.unwrap()[&first],
        first_answer,
        "nothing reached the server while offline"
    );
    set_offline(&c, &driver, false).await;
    wait_saved(&c, &db, a.id, &first, &changed_answer).await;

    // Review, confirm, submit; the receipt is the fingerprint of the stored chain.
    go(&c, &base, "/exam/1/review").await;
    let review = css(&c, "main").await.text().await.unwrap();
    assert!(
        review.contains(&format!(
            "2 of {} questions answered",
            a.form.part_one.len()
        )),
        "{review}"
    );
    blocking.extend(axe(&c, "/exam/1/review (Part One review)").await);
    let confirm = css(&c, "#confirm").await;
    confirm.click().await.unwrap();
    assert!(confirm.is_selected().await.unwrap(), "the box is ticked");
    button(&c, "Submit Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/receipt").await;
    let shown = css(&c, "#receipt").await.text().await.unwrap();
    let stored = attempts::attempt(&db, a.id).await.unwrap().unwrap();
    assert!(stored.submitted_at.is_some(), "Part One is submitted");
    assert_eq!(shown, receipt(&stored.chain_head), "the receipt code");
    println!("Part One submitted; receipt {shown}");

    // Part Two starts only now, from the candidate's home page.
    go(&c, &base, "/candidate").await;
    button(&c, "Start Part Two").await.click().await.unwrap();
    wait_for_path(&c, "/exam/2/vignettes").await;
    blocking.extend(axe(&c, "/exam/2/vignettes (Part Two vignettes)").await);
    // Typing saves the text; the character count, a polite live region, follows once typing
    // pauses, counting as the server does (é is one character).
    let area = css(&c, "textarea").await;
    let item = area.attr("data-item").await.unwrap().unwrap();
    assert_eq!(
        area.attr("maxlength").await.unwrap().as_deref(),
        Some("6000")
    );
    area.send_keys("Hello é").await.unwrap();
    let two = attempts::attempts_of(&db, reg_id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.part == 2)
        .unwrap();
    wait_saved(&c, &db, two.id, &item, "Hello é").await;
    let count = css(&c, &format!("#cc-{item}")).await.text().await.unwrap();
    assert_eq!(count, "7 of 6,000 characters");

    // The proctor's side of the same sitting: the list of sittings and the live console.
    let sitting_id = sittings::registration(&db, reg_id)
        .await
        .unwrap()
        .unwrap()
        .sitting_id;
    blocking.extend(proctor_console(&c, &base, &db, sitting_id).await);
    blocking
}

/// A proctor logs in and opens the sitting's console, which shows the candidate; axe checks the
/// staff pages the proctor works in.
async fn proctor_console(c: &Client, base: &str, db: &Db, sitting_id: i64) -> Vec<String> {
    let username = Username::parse("pat").unwrap();
    add_user(
        db,
        NewUser {
            username: &username,
            display_name: "Pat Proctor",
            role: Role::Proctor,
            organisation: "",
            password: "a long proctor password",
            added_by: "test",
        },
    )
    .await
    .unwrap();
    go(c, base, "/login").await;
    css(c, "#username").await.send_keys("pat").await.unwrap();
    css(c, "#password")
        .await
        .send_keys("a long proctor password")
        .await
        .unwrap();
    css(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(c, "/").await;
    let mut blocking = Vec::new();
    go(c, base, "/sittings").await;
    blocking.extend(axe(c, "/sittings (proctor: sittings)").await);
    go(c, base, &format!("/sittings/{sitting_id}")).await;
    let console = css(c, "main").await.text().await.unwrap();
    assert!(console.contains("Ana Ruiz"), "{console}");
    blocking.extend(axe(c, "/sittings/{id} (proctor console)").await);
    blocking
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
        "axe found {} serious or critical WCAG 2.1 A/AA violations:\n{}",
        blocking.len(),
        blocking.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_takes_the_exam_in_headless_chromium() {
    let driver = start_driver().await;
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let (reg_id, code) = admitted_candidate(&app.db).await;

    let client = driver.browser().await;
    // The flow runs as its own task so that a failure in it still closes the browser.
    let flow = tokio::spawn(take_the_exam(
        client.clone(),
        format!("http://127.0.0.1:{}", driver.port),
        app.base.clone(),
        app.db.clone(),
        reg_id,
        code,
    ));
    finish(flow, client, driver).await;
}

// ----- the rater ---------------------------------------------------------------------------------

/// A sitting whose one candidate has submitted Part Two (two vignettes answered), a rater who
/// holds both responses, and that rater's username.
async fn responses_to_rate(db: &Db) -> (i64, String) {
    let now = now_ms();
    let bps = blueprints(db).await.unwrap();
    let sitting = open_sitting(db, "Rating window").await;
    let (reg_id, _) = sittings::register(
        db,
        &sitting,
        &NewRegistration {
            name: "Bo Lind".into(),
            email: "bo@example.org".into(),
            organisation: "Hillview".into(),
            level: Level::III,
            parts: Parts {
                one: false,
                two: true,
            },
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
    sittings::admit(db, reg_id, "proctor").await.unwrap();
    let reg = sittings::registration(db, reg_id).await.unwrap().unwrap();
    let bp = bps.iter().find(|b| b.id == "level-iii").unwrap();
    let pool = imh_exam::store::bank::pool(db).await.unwrap();
    let a = attempts::start_part(db, &sitting, &reg, bp, &pool, 2, now)
        .await
        .unwrap();
    let mut chosen: Vec<&str> = a.form.part_two[..2]
        .iter()
        .map(|v| v.vignette_id.as_str())
        .collect();
    chosen.sort();
    attempts::save(db, a.id, "@choice", &chosen.join(","), 1, now + 1000)
        .await
        .unwrap();
    let mut seq = 1;
    for v in &a.form.part_two[..2] {
        for (item, _) in &v.items {
            seq += 1;
            attempts::save(
                db,
                a.id,
                item,
                "I would start by wondering with the parent what the baby might be feeling.",
                seq,
                now + 2000,
            )
            .await
            .unwrap();
        }
    }
    attempts::submit(db, a.id, "candidate", now + 3000)
        .await
        .unwrap()
        .unwrap();
    let rater = add_user(
        db,
        NewUser {
            username: &Username::parse("rita").unwrap(),
            display_name: "Rita Rater",
            role: Role::Rater,
            organisation: "Eastfield",
            password: "a long rater password",
            added_by: "test",
        },
    )
    .await
    .unwrap();
    ratings::assign_sitting(db, sitting.id, &Default::default(), "committee")
        .await
        .unwrap();
    // Two vignettes of three questions: six responses, each vignette's on one page.
    assert_eq!(ratings::queue(db, rater).await.unwrap().len(), 6);
    (rater, "rita".into())
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

/// The rater logs in, opens the queue and scores both responses with the keyboard alone:
/// Tab, arrow keys, typing and Enter. Returns the serious and critical axe violations.
async fn rate_by_keyboard(c: Client, base: String, db: Db, rater: i64) -> Vec<String> {
    let mut blocking = Vec::new();
    go(&c, &base, "/login").await;
    tab_to(&c, "el.id === 'username'", "the username field").await;
    keys(&c, "rita").await;
    keys(&c, &Key::Tab).await;
    keys(&c, "a long rater password").await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, "/").await;
    go(&c, &base, "/rate").await;
    blocking.extend(axe(&c, "/rate (rater: queue)").await);
    tab_to(
        &c,
        "el.tagName === 'A' && el.textContent.includes('Score the next response')",
        "the next response link",
    )
    .await;
    keys(&c, &Key::Enter).await;
    let queue = ratings::queue(&db, rater).await.unwrap();
    for (i, entry) in queue.iter().enumerate() {
        wait_for_path(&c, &format!("/rate/{}", entry.code)).await;
        if i == 0 {
            blocking.extend(axe(&c, "/rate/{code} (rater: the desk)").await);
        }
        // Into the score group, then two steps right: 0 → 1 → 2.
        tab_to(&c, "el.name === 'score'", "the score").await;
        keys(&c, &Key::Right).await;
        keys(&c, &Key::Right).await;
        let checked = c
            .execute(
                "return document.querySelector('input[name=score]:checked')?.value",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(checked, "2", "arrow keys choose the score");
        tab_to(&c, "el.name === 'feedback'", "the feedback").await;
        keys(&c, &format!("Keyboard feedback {i}.")).await;
        tab_to(&c, "el.name === 'note'", "the note").await;
        keys(&c, "Scored by keyboard.").await;
        tab_to(
            &c,
            "el.tagName === 'BUTTON' && el.value === 'submit'",
            "the submit button",
        )
        .await;
        keys(&c, &Key::Enter).await;
    }
    wait_for_path(&c, "/rate").await;
    let after = ratings::queue(&db, rater).await.unwrap();
    assert!(after
        .iter()
        .all(|e| e.state == ratings::ReadingState::Final));
    for (i, entry) in queue.iter().enumerate() {
        let d = ratings::desk(&db, rater, &entry.code)
            .await
            .unwrap()
            .unwrap();
        let mine = d.mine.unwrap();
        assert_eq!(mine.score, Some(2));
        assert_eq!(mine.feedback, format!("Keyboard feedback {i}."));
        assert!(mine.is_final);
    }
    blocking
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rater_scores_two_responses_by_keyboard_alone() {
    let driver = start_driver().await;
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let (rater, _) = responses_to_rate(&app.db).await;
    let client = driver.browser().await;
    let flow = tokio::spawn(rate_by_keyboard(
        client.clone(),
        app.base.clone(),
        app.db.clone(),
        rater,
    ));
    finish(flow, client, driver).await;
}
