//! The metrics listener and the request id, on both engines: a short exam moves the counters
//! a scrape shows (and only the metrics address serves them); every answer carries an id that
//! is also on its error page, in its JSON error and in its log line.

use std::io::BufRead;
use std::time::Duration;

use imh_exam::config::Config;
use imh_exam::metrics::sample;
use imh_exam::store::{attempts, now_ms};
use imh_exam::web;

use crate::helpers::exam::{OpenSitting, SoakSave};
use crate::helpers::server::{imh_exam, Server};
use crate::helpers::{spawn_app_with, test_db, Browser, Engine, TestApp};
use crate::on_both_engines;

on_both_engines!(
    a_scrape_after_a_short_exam_shows_the_counters_moved,
    the_request_id_is_in_the_header_the_error_page_and_the_log_line,
);

/// A server with a metrics listener on a port of its own; returns it and the listener's base.
async fn spawn_with_metrics(engine: Engine, config: Config) -> (TestApp, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        metrics_bind: Some(addr),
        ..config
    };
    let app = spawn_app_with(test_db(engine).await, config).await;
    tokio::spawn(web::metrics::serve(
        app.state.clone(),
        listener,
        std::future::pending(),
    ));
    (app, format!("http://{addr}"))
}

async fn scrape(metrics: &str) -> String {
    let res = reqwest::get(format!("{metrics}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        res.headers()
    );
    res.text().await.unwrap()
}

fn request_id(res: &reqwest::Response) -> String {
    res.headers()["x-request-id"].to_str().unwrap().to_string()
}

async fn a_scrape_after_a_short_exam_shows_the_counters_moved(engine: Engine) {
    // A burst of 3 per door and client, so the fourth event beacon is throttled.
    let config = Config {
        client_burst: 3,
        ..Config::default()
    };
    let (app, metrics) = spawn_with_metrics(engine, config).await;
    let open = OpenSitting::new(&app.db).await;
    let seat = open.start_part_one(&app.db, "metrics@example.org").await;
    let cand = app.browser();
    let token = cand.enter_as_candidate(&seat.code).await;

    // Five saves, and a retry of the first (acknowledged again, stored once).
    for seq in (1..=5).chain([1]) {
        let res = SoakSave::nth(&seat.attempt, seq)
            .send(&cand, &token)
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // A save the page's script could never send: refused before the writer, with its id.
    let res = cand.save(&token, 3, "X", "0", 6).await;
    assert_eq!(res.status(), 422);
    let id = request_id(&res);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str(), "{body}");

    // Browser events: three within the burst, the fourth turned away.
    let event = || {
        cand.client
            .post(cand.url("/exam/api/event"))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({ "kind": "focus-lost", "detail": "" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(event().await.unwrap().status(), 204);
    }
    let throttled = event().await.unwrap();
    assert_eq!(throttled.status(), 429);
    let id = request_id(&throttled);
    let body: serde_json::Value = throttled.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str(), "{body}");

    // A wrong password and a wrong access code.
    let staff = app.browser();
    assert_eq!(
        staff
            .login("nobody-here", "not the password at all")
            .await
            .status(),
        401
    );
    assert_eq!(staff.enter("AAAA-BBBB-CCCC").await.status(), 401);

    let text = scrape(&metrics).await;
    let sitting = open.sitting.id.to_string();
    let at = |name: &str, labels: &[(&str, &str)]| sample(&text, name, labels);
    assert_eq!(at("imh_saves_acknowledged_total", &[]), Some(6.0), "{text}");
    assert_eq!(
        at(
            "imh_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/exam/api/save"),
                ("status", "200")
            ]
        ),
        Some(6.0)
    );
    assert_eq!(
        at(
            "imh_http_requests_total",
            &[("route", "/exam/api/save"), ("status", "422")]
        ),
        Some(1.0)
    );
    assert_eq!(
        at(
            "imh_http_request_duration_seconds_count",
            &[("route", "/exam/api/save"), ("status", "200")]
        ),
        Some(6.0)
    );
    assert_eq!(
        at(
            "imh_http_requests_total",
            &[("route", "/exam/api/event"), ("status", "204")]
        ),
        Some(3.0)
    );
    assert_eq!(
        at(
            "imh_http_requests_total",
            &[("route", "/exam/api/event"), ("status", "429")]
        ),
        Some(1.0)
    );
    assert_eq!(
        at("imh_throttled_total", &[("door", "event"), ("why", "rate")]),
        Some(1.0)
    );
    assert_eq!(
        at("imh_sign_in_failures_total", &[("door", "login")]),
        Some(1.0)
    );
    assert_eq!(
        at("imh_sign_in_failures_total", &[("door", "enter")]),
        Some(1.0)
    );
    // Every save reached the writer in some batch; each batch's commit was timed.
    assert_eq!(at("imh_save_batch_size_sum", &[]), Some(6.0));
    let batches = at("imh_save_batch_size_count", &[]).unwrap();
    assert!((1.0..=6.0).contains(&batches), "{batches}");
    assert_eq!(
        at("imh_save_commit_duration_seconds_count", &[]),
        Some(batches)
    );
    assert_eq!(at("imh_save_queue_depth", &[]), Some(0.0));
    assert_eq!(
        at("imh_open_attempts", &[("sitting", sitting.as_str())]),
        Some(1.0)
    );
    for pool in ["reader", "writer"] {
        let open = at("imh_db_pool_connections", &[("pool", pool)]).unwrap();
        let idle = at("imh_db_pool_idle_connections", &[("pool", pool)]).unwrap();
        assert!(
            open >= 1.0 && idle <= open,
            "{pool}: {open} open, {idle} idle"
        );
    }

    // Submitted: a later save is refused by the writer, and the sitting has no open attempt.
    attempts::submit(&app.db, seat.attempt.id, "candidate", now_ms())
        .await
        .unwrap()
        .unwrap();
    let res = SoakSave::nth(&seat.attempt, 7)
        .send(&cand, &token)
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let text = scrape(&metrics).await;
    assert_eq!(
        sample(&text, "imh_saves_refused_total", &[("reason", "submitted")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "imh_saves_acknowledged_total", &[]),
        Some(6.0)
    );
    assert_eq!(
        sample(&text, "imh_open_attempts", &[("sitting", sitting.as_str())]),
        None
    );

    // OpenMetrics for a scraper that asks for it.
    let res = reqwest::Client::new()
        .get(format!("{metrics}/metrics"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(res.text().await.unwrap().ends_with("# EOF\n"));

    // The public address does not serve the metrics; the metrics address serves nothing else.
    let public = app.browser().get("/metrics").await;
    assert_eq!(public.status(), 404);
    assert!(!public.text().await.unwrap().contains("imh_"));
    let other = reqwest::get(format!("{metrics}/login")).await.unwrap();
    assert_eq!(other.status(), 404);
}

/// Lines of the server's JSON log that belong to request `id`.
fn lines_of(log: &std::path::Path, id: &str) -> Vec<serde_json::Value> {
    let file = std::fs::File::open(log).unwrap();
    std::io::BufReader::new(file)
        .lines()
        .map(Result::unwrap)
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(&l)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {l}"))
        })
        .filter(|l| l["span"]["request_id"] == id)
        .collect()
}

/// The log line answering request `id`, once the server has written it.
async fn answered(log: &std::path::Path, id: &str) -> serde_json::Value {
    for _ in 0..50 {
        if let Some(line) = lines_of(log, id)
            .into_iter()
            .find(|l| l["message"] == "answered")
        {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no log line answers {id}: {}",
        std::fs::read_to_string(log).unwrap()
    );
}

async fn the_request_id_is_in_the_header_the_error_page_and_the_log_line(engine: Engine) {
    let db = test_db(engine).await;
    let open = OpenSitting::new(&db.db).await;
    let seat = open.start_part_one(&db.db, "ids@example.org").await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let server = Server::start_writing(
        &db.url,
        &[
            ("RUST_LOG", "imh_exam=debug"),
            ("IMH_LOG_FORMAT", "json"),
            ("IMH_METRICS_BIND", metrics.as_str()),
        ],
        std::fs::File::create(&log).unwrap().into(),
    )
    .await;

    // An error page: its id in the header, on the page and in the log line with its route.
    let visitor = Browser::for_server(&server.base);
    let res = visitor
        .client
        .get(visitor.url("/no-such-page"))
        // A client's own id is never taken: the server always makes its own.
        .header("x-request-id", "chosen-by-the-client")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let id = request_id(&res);
    assert_ne!(id, "chosen-by-the-client");
    assert_eq!(uuid_version(&id), 4, "{id}");
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("<code>{id}</code>")), "{page}");
    let line = answered(&log, &id).await;
    assert_eq!(line["status"], 404, "{line}");
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["span"]["route"], "unmatched", "{line}");
    assert_eq!(line["span"]["method"], "GET", "{line}");
    assert!(line["latency_ms"].as_f64().is_some(), "{line}");

    // A save: its span names the matched route and the attempt.
    let token = visitor.enter_as_candidate(&seat.code).await;
    let res = SoakSave::nth(&seat.attempt, 1)
        .send(&visitor, &token)
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = request_id(&res);
    let line = answered(&log, &id).await;
    assert_eq!(line["status"], 200, "{line}");
    assert_eq!(line["span"]["route"], "/exam/api/save", "{line}");
    assert_eq!(line["span"]["attempt"], seat.attempt.id, "{line}");

    // A candidate's page: the sitting.
    let res = visitor.get("/candidate").await;
    assert_eq!(res.status(), 200);
    let line = answered(&log, &request_id(&res)).await;
    assert_eq!(line["span"]["sitting"], open.sitting.id, "{line}");

    // Started by `serve`: the metrics on their own address, not on the public one.
    let scraped = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &scraped,
            "imh_http_requests_total",
            &[("route", "/exam/api/save"), ("status", "200")]
        ),
        Some(1.0),
        "{scraped}"
    );
    assert_eq!(visitor.get("/metrics").await.status(), 404);
    drop(server);
}

fn uuid_version(id: &str) -> u32 {
    // xxxxxxxx-xxxx-Vxxx-…: the version is the first digit of the third group.
    assert_eq!(id.len(), 36, "{id}");
    id.split('-')
        .nth(2)
        .and_then(|g| g.chars().next())
        .and_then(|c| c.to_digit(16))
        .unwrap()
}

#[test]
fn the_metrics_need_an_address_of_their_own_and_the_log_format_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    let serve = |args: &[&str]| {
        let out = imh_exam()
            .arg("serve")
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let said = serve(&["--bind", "127.0.0.1:9", "--metrics-bind", "127.0.0.1:9"]);
    assert!(
        said.contains("--metrics-bind 127.0.0.1:9: the metrics need an address of their own"),
        "{said}"
    );
    let said = serve(&["--log-format", "xml"]);
    assert!(
        said.contains("\"xml\" is not a log format: text or json"),
        "{said}"
    );
}
