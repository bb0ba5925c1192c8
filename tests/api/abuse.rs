//! What an anonymous visitor can cost the server, and what one client can do to others:
//! password checks at once, per-client backoff and rate limits, bounded input, the `next=`
//! redirect. What one connection can cost is in `connections.rs`.

use std::process::{Command, Stdio};
use std::time::Duration;

use imh_exam::auth::Role;
use imh_exam::bank::Level;
use imh_exam::config::Config;
use imh_exam::exam::form::Parts;
use imh_exam::store::bank::blueprints;
use imh_exam::store::users;
use imh_exam::store::{now_ms, Db};

use crate::delivery::{admitted, candidate, import_sample, open_sitting};
use crate::helpers::{csrf_of, spawn_app, spawn_app_with, test_db, Browser, Engine, PASSWORD};
use crate::on_both_engines;

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{} without Retry-After", res.status()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn failures(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM login_failures")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// 32 sign-ins at once, each from its own address: never more argon2 runs at once than the
/// permits, and those that find the line full are told 503 with `Retry-After`.
async fn sign_in_checks_never_exceed_their_permits(engine: Engine) {
    let config = Config {
        credential_checks: 2,
        ..Config::default()
    };
    let app = spawn_app_with(test_db(engine).await, config).await;
    app.add_staff("ada", Role::Admin, "").await;
    let gate = &app.state.limits.credentials;
    assert_eq!(gate.permits(), 2);

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let b = app.browser_from(&format!("127.0.0.{}", 10 + i));
        let username = if i % 2 == 0 {
            "ada".to_string()
        } else {
            format!("nobody{i}")
        };
        tasks.spawn(async move {
            let res = b.login(&username, "not the password").await;
            let retry = (res.status() == 503).then(|| retry_after(&res));
            (res.status().as_u16(), retry)
        });
    }
    let mut checked = 0;
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            (401, _) => checked += 1,
            (503, Some(secs)) => assert!(secs >= 1),
            other => panic!("a sign-in answered {other:?}"),
        }
    }
    assert!(checked >= 1, "some sign-ins were checked");
    assert!(gate.peak() >= 1);
    assert!(
        gate.peak() <= gate.permits(),
        "{} checks ran at once, {} allowed",
        gate.peak(),
        gate.permits()
    );

    // With every place in line taken, a sign-in is answered 503 at once, not queued...
    let held: Vec<_> = std::iter::from_fn(|| gate.admit()).collect();
    let res = app.browser().login("ada", PASSWORD).await;
    assert_eq!(res.status(), 503);
    assert_eq!(retry_after(&res), 1);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("The server is busy checking other sign-ins"),
        "{html}"
    );
    // ...and signs in once there is room.
    drop(held);
    assert_eq!(app.browser().login("ada", PASSWORD).await.status(), 303);
}

/// A browser whose requests reach the server through a proxy that reports `client`.
fn behind_proxy(base: &str, client: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        format!("198.51.100.1, {client}").parse().unwrap(),
    );
    Browser {
        base: base.to_string(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap(),
    }
}

/// A flood of bad sign-ins from one client (wrong passwords for a real account, then many
/// usernames) gets that client 429 with `Retry-After`; the account's owner, on another
/// connection, signs in as ever. Run once on socket addresses, once behind a trusted proxy.
async fn a_flood_of_sign_ins_locks_out_no_one_else(engine: Engine) {
    let direct = spawn_app(engine).await;
    let proxied = spawn_app_with(
        test_db(engine).await,
        Config {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..Config::default()
        },
    )
    .await;
    for (app, flooder, owner) in [
        (
            &direct,
            direct.browser_from("127.0.0.2"),
            direct.browser_from("127.0.0.3"),
        ),
        (
            &proxied,
            behind_proxy(&proxied.base, "203.0.113.7"),
            behind_proxy(&proxied.base, "203.0.113.8"),
        ),
    ] {
        app.add_staff("ada", Role::Admin, "").await;
        let mut statuses = Vec::new();
        for i in 0..30 {
            let username = if i < 6 {
                "ada".to_string()
            } else {
                format!("user{i}")
            };
            let res = flooder.login(&username, "wrong password").await;
            statuses.push(res.status().as_u16());
            if res.status() == 429 {
                assert!(retry_after(&res) >= 1);
                let html = res.text().await.unwrap();
                assert!(html.contains("Wait"), "{html}");
            }
        }
        assert_eq!(&statuses[..5], [401; 5], "{statuses:?}");
        assert_eq!(
            statuses[5], 429,
            "the sixth try at one account waits: {statuses:?}"
        );
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        assert!(
            statuses.iter().filter(|s| **s == 429).count() >= 10,
            "{statuses:?}"
        );
        // The flooder is refused even with the right password...
        let res = flooder.login("ada", PASSWORD).await;
        assert_eq!(res.status(), 429);
        assert!(retry_after(&res) >= 1);
        // ...while the owner, from elsewhere, is not held up at all.
        assert_eq!(owner.login("ada", PASSWORD).await.status(), 303);
    }
}

/// Usernames that are no usernames are refused with the reason, before anything is stored.
async fn a_bad_username_is_refused_and_never_stored(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Admin, "").await;
    let b = app.browser();
    // Within the sign-in form's 32 KiB: the username's own check answers.
    let long = "a".repeat(10_000);
    for (username, reason) in [
        (long.as_str(), "a username has 3 to 64 characters"),
        ("x", "a username has 3 to 64 characters"),
        (
            "ada\nINFO imh_exam: forged",
            "may hold only letters, digits",
        ),
        ("a\rda", "may hold only letters, digits"),
        ("bad name", "may hold only letters, digits"),
    ] {
        let res = b.login(username, "wrong password").await;
        assert_eq!(res.status(), 422, "{username:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("That is not a username:"), "{html}");
        assert!(html.contains(reason), "{username:?}: {html}");
        assert!(html.len() < 20_000, "the refused text is not echoed back");
    }
    // Past it, the whole request is refused as too large, unread.
    let res = b.login(&"a".repeat(100_000), "wrong password").await;
    assert_eq!(res.status(), 413);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("larger than this server accepts at /login (32 KiB)"),
        "{html}"
    );
    assert!(html.len() < 20_000, "the refused text is not echoed back");
    let res = b.login("ada", &"p".repeat(5_000)).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("a password has at most 1024 characters"),
        "{html}"
    );
    assert_eq!(failures(&app.db).await, 0, "nothing refused was stored");
    // A well-formed failure is stored, and without the name as typed.
    assert_eq!(b.login("Hunter2Secret", "x").await.status(), 401);
    assert_eq!(failures(&app.db).await, 1);
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT client, account FROM login_failures")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored[0].0, "127.0.0.1");
    assert!(!stored[0].1.contains("hunter2"), "{stored:?}");
}

/// A child process killed (and waited for) when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the server's log says about bad sign-ins: nothing forged, no name that was not an
/// account (it may be a password), nothing huge. Runs the real binary to read its real log.
async fn the_log_repeats_no_hostile_username(engine: Engine) {
    let t = test_db(engine).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // Killed when dropped, so a failing assertion does not leave the server running.
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_imh-exam"))
            .args(["serve", "--bind", &bind])
            .env("DATABASE_URL", &t.url)
            .env("RUST_LOG", "imh_exam=debug")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    );
    let b = Browser {
        base: format!("http://{bind}"),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let mut up = false;
    for _ in 0..100 {
        if b.client.get(b.url("/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");
    let forged = "ada\n2026-01-01T00:00:00.000000Z  INFO imh_exam: FORGED admin signed in";
    assert_eq!(b.login(forged, "x").await.status(), 422);
    assert_eq!(b.login(&"z".repeat(10_000), "x").await.status(), 422);
    assert_eq!(b.login(&"z".repeat(1_000_000), "x").await.status(), 413);
    assert_eq!(b.login("Hunter2Secret", "x").await.status(), 401);
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    for _ in 0..100 {
        if child.0.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(child);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("sign-in refused: not a username"), "{log}");
    assert!(
        log.contains("failed staff sign-in: no such account"),
        "{log}"
    );
    assert!(!log.contains("FORGED"), "{log}");
    assert!(!log.to_lowercase().contains("hunter2"), "{log}");
    assert!(!log.contains("zzzz"), "the huge username reached the log");
    assert!(log.len() < 20_000, "{} bytes of log", log.len());
}

/// Failures older than the window are deleted when the next one comes, and count no more.
async fn old_failures_are_purged(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Admin, "").await;
    let now = now_ms();
    let old = now - users::LOGIN_WINDOW_MS - 1_000;
    let ada = imh_exam::auth::sha256_hex("ada");
    for at in [old, old - 1, old - 2, old - 3, old - 4, old - 60_000] {
        sqlx::query("INSERT INTO login_failures (client, account, at) VALUES ($1, $2, $3)")
            .bind("127.0.0.1")
            .bind(&ada)
            .bind(at)
            .execute(&app.db.writer)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO login_failures (client, account, at) VALUES ($1, $2, $3)")
        .bind("192.0.2.9")
        .bind(&ada)
        .bind(now - 1_000)
        .execute(&app.db.writer)
        .await
        .unwrap();
    // Six old failures at ada from here do not hold ada up...
    let b = app.browser();
    assert_eq!(b.login("bea", "wrong password").await.status(), 401);
    // ...and the failure just made purged them: the recent row and the new one are left.
    let left: Vec<i64> = sqlx::query_scalar("SELECT at FROM login_failures ORDER BY at")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter().all(|at| *at > now - users::LOGIN_WINDOW_MS),
        "{left:?}"
    );
    assert_eq!(app.browser().login("ada", PASSWORD).await.status(), 303);
}

/// `next=` after sign-in goes only to a path on this site; anything else goes to `/`, and no
/// value makes a 500.
async fn next_goes_only_to_this_site(engine: Engine) {
    let app = spawn_app(engine).await;
    let long = format!("/{}", "a".repeat(5_000));
    let hostile = [
        "/%09/evil.test",
        "/%0a/x",
        "/%0d%0aSet-Cookie:%20x=1",
        "//evil.test",
        "/%5Cevil",
        "/%5C/evil.test",
        "https://evil.test",
        "https%3A%2F%2Fevil.test",
        "/%2F/evil.test",
        "%20/x",
        "/%E3%80%80/evil.test",
        "/%C2%A0/evil.test",
        long.as_str(),
    ];
    // A visitor already signed in is sent straight on.
    let admin = app.as_role(Role::Admin).await;
    for raw in hostile {
        let res = admin.get(&format!("/login?next={raw}")).await;
        assert_eq!(res.status(), 303, "{raw}");
        assert_eq!(res.headers()["location"], "/", "{raw}");
    }
    let res = admin.get("/login?next=%2Fsittings%2F1%3Fx%3D2").await;
    assert_eq!(res.headers()["location"], "/sittings/1?x=2");
    // The form keeps only a safe value.
    let anon = app.browser();
    for raw in hostile {
        let res = anon.get(&format!("/login?next={raw}")).await;
        assert_eq!(res.status(), 200, "{raw}");
        let html = res.text().await.unwrap();
        assert!(html.contains("name=\"next\" value=\"/\""), "{raw}");
    }
    // And signing in with a hostile `next` in the form lands on `/`.
    app.add_staff("ada", Role::Admin, "").await;
    for next in ["/\t/evil.test", "/\n/x", "/\\evil", " /x"] {
        let res = app
            .browser()
            .post_form(
                "/login",
                "/login",
                &[("username", "ada"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(res.status(), 303, "{next:?}");
        assert_eq!(res.headers()["location"], "/", "{next:?}");
    }
}

/// Floods of access codes and of exam events from one client get 429; a candidate on another
/// connection still enters and is heard.
async fn an_enter_flood_gets_429_and_another_client_still_enters(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let sitting = open_sitting(&app.db, now_ms()).await;
    let bps = blueprints(&app.db).await.unwrap();
    let (_, code) = admitted(
        &app.db,
        &sitting,
        &candidate("a@example.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    let (_, flooder_code) = admitted(
        &app.db,
        &sitting,
        &candidate("b@example.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;

    let flooder = app.browser_from("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..25 {
        let res = flooder
            .post_form(
                "/enter",
                "/enter",
                &[("code", &format!("AAAA-BBBB-{i:04}"))],
            )
            .await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(retry_after(&res) >= 1);
            let html = res.text().await.unwrap();
            assert!(
                html.contains("Too many attempts came from your connection"),
                "{html}"
            );
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // A refusal is answered only after the wait it names, so a script looping on refusals
    // runs at its allowance (one a second here), however fast it sends...
    let started = std::time::Instant::now();
    let mut refused = 0;
    for i in 0..6 {
        let res = flooder
            .post_form(
                "/enter",
                "/enter",
                &[("code", &format!("CCCC-DDDD-{i:04}"))],
            )
            .await;
        refused += usize::from(res.status() == 429);
    }
    assert!(refused >= 2, "{refused} of 6 refused");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "6 requests past the allowance took {:?}",
        started.elapsed()
    );
    // ...while a candidate elsewhere enters at once.
    let candidate = app.browser_from("127.0.0.3");
    let res = candidate
        .post_form("/enter", "/enter", &[("code", &code)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/candidate");

    // The event beacon: a flood from one candidate's connection gets 429 as JSON.
    let token = csrf_of(&candidate.get_text("/candidate").await);
    let event = |b: &Browser, token: &str| {
        b.client
            .post(b.url("/exam/api/event"))
            .header("x-csrf-token", token)
            .json(&serde_json::json!({ "kind": "focus-lost", "detail": "" }))
            .send()
    };
    let mut last = None;
    for _ in 0..25 {
        let res = event(&candidate, &token).await.unwrap();
        last = Some(res.status().as_u16());
        if res.status() == 429 {
            assert!(retry_after(&res) >= 1);
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(body["error"]
                .as_str()
                .unwrap()
                .contains("Too many requests"));
            break;
        }
        assert_eq!(res.status(), 204);
    }
    assert_eq!(last, Some(429));
    // Another candidate, on another connection, is heard.
    let other = app.browser_from("127.0.0.4");
    let res = other
        .post_form("/enter", "/enter", &[("code", &flooder_code)])
        .await;
    assert_eq!(res.status(), 303);
    let token = csrf_of(&other.get_text("/candidate").await);
    assert_eq!(event(&other, &token).await.unwrap().status(), 204);
}

on_both_engines!(
    sign_in_checks_never_exceed_their_permits,
    a_flood_of_sign_ins_locks_out_no_one_else,
    a_bad_username_is_refused_and_never_stored,
    the_log_repeats_no_hostile_username,
    old_failures_are_purged,
    next_goes_only_to_this_site,
    an_enter_flood_gets_429_and_another_client_still_enters,
);
