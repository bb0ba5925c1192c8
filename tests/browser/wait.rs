//! Waiting for the browser, finding things on the page, and the keyboard.

use super::*;

// ----- waiting and looking ---------------------------------------------------------------------

/// A bounded wait: each `tick` sleeps a little, and panics with `what` once `PATIENCE` is up.
pub(crate) struct Wait {
    pub(crate) start: Instant,
    pub(crate) what: String,
}

impl Wait {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Self {
            start: Instant::now(),
            what: what.into(),
        }
    }

    pub(crate) async fn tick(&self, seen: impl std::fmt::Display) {
        assert!(
            self.start.elapsed() < PATIENCE,
            "timed out waiting for {} (last seen: {seen})",
            self.what
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `script` (JavaScript with its own `return`) in the page.
pub(crate) async fn eval(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Waits until `script` (a JavaScript expression) gives `want`.
pub(crate) async fn wait_js(c: &Client, script: &str, want: Value, what: &str) {
    let wait = Wait::new(what);
    let check = format!("return {script};");
    loop {
        let got = eval(c, &check).await;
        if got == want {
            return;
        }
        wait.tick(got).await;
    }
}

/// Waits until the loaded page's `h1` starts with `prefix`, reading it in one script call: a
/// page that moves on by itself (or after a click on a form that posts back to the same
/// address) would leave an element found before the move stale or missing.
pub(crate) async fn wait_heading(c: &Client, prefix: &str) {
    let wait = Wait::new(format!("a page headed {prefix:?}"));
    let script = "return document.readyState === 'complete' \
                  ? (document.querySelector('h1')?.textContent || '') : ''";
    loop {
        // A script run while the page is being replaced may fail; the next tick reads again.
        let h1 = match c.execute(script, vec![]).await {
            Ok(v) => v.as_str().unwrap_or_default().trim().to_string(),
            Err(e) => format!("({e})"),
        };
        if h1.starts_with(prefix) {
            return;
        }
        wait.tick(h1).await;
    }
}

/// Waits until the browser shows `path` and has loaded it.
pub(crate) async fn wait_for_path(c: &Client, path: &str) {
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

pub(crate) async fn go(c: &Client, base: &str, path: &str) {
    c.goto(&format!("{base}{path}")).await.unwrap();
    wait_for_path(c, path).await;
}

pub(crate) async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    match c.find(Locator::Css(selector)).await {
        Ok(el) => el,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            panic!("no {selector:?} on {url:?}: {e}")
        }
    }
}

pub(crate) async fn button(c: &Client, text: &str) -> fantoccini::elements::Element {
    let xpath = format!("//main//button[normalize-space()='{text}']");
    c.find(Locator::XPath(&xpath)).await.unwrap_or_else(|e| {
        panic!("no button {text:?}: {e}");
    })
}

/// Whether the input `id` is checked in the browser, and was rendered checked by the server.
pub(crate) async fn checked(c: &Client, id: &str) -> (bool, bool) {
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
pub(crate) async fn set_offline(c: &Client, driver: &str, offline: bool) {
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
pub(crate) async fn wait_saved(c: &Client, db: &Db, attempt_id: i64, key: &str, value: &str) {
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

/// Presses Tab until the focused element matches `want` (a JavaScript predicate on `el`);
/// returns how many presses it took. Looking at the focus is all the script does.
pub(crate) async fn tab_to(c: &Client, want: &str, what: &str) -> usize {
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

pub(crate) async fn keys(c: &Client, text: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Sends the page's form by its submit button.
pub(crate) async fn submit(c: &Client) {
    css(c, "main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}
