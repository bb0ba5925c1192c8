//! What one connection can cost the server: a connection that sends nothing (or a byte a
//! second) is closed, connections past the cap are refused at once, and a body larger than its
//! route takes, or without its token, is refused from the request head, its connection closed.

use std::time::Duration;

use imh_exam::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, spawn_app_with, test_db, Engine};

/// Reads until the server closes the connection; true if it did within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_all).await.is_ok()
}

/// Connections that send nothing, or a head one byte at a time, are closed after the header
/// timeout; a kept-alive connection after the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_are_closed() {
    let header = Duration::from_secs(1);
    let idle = Duration::from_secs(2);
    let slack = Duration::from_secs(5);
    let app = spawn_app_with(
        test_db(Engine::Sqlite).await,
        Config {
            header_timeout: header,
            idle_timeout: idle,
            ..Config::default()
        },
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();

    let mut silent = TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut silent, header + slack).await,
        "a silent connection stayed open"
    );

    // One byte of a head at a time: the clock is not reset by each byte.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed = false;
    for byte in head.iter().take(60) {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(150), slow.read(&mut probe)).await {
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => panic!("the server answered a head that never ended"),
            Err(_) => {}
        }
    }
    assert!(
        closed,
        "a head sent a byte at a time was read for {header:?} + slack and more"
    );

    // A kept-alive connection is served, then closed once idle.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.unwrap();
    let response = String::from_utf8_lossy(&buf[..n]);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        closed_within(&mut kept, idle + slack).await,
        "an idle keep-alive stayed open"
    );
}

/// Past the cap, a connection is told 503 and closed; when one closes, the next is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused() {
    let app = spawn_app_with(
        test_db(Engine::Sqlite).await,
        Config {
            max_connections: 2,
            header_timeout: Duration::from_secs(60),
            ..Config::default()
        },
    )
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let held = [
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    let mut third = TcpStream::connect(&addr).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), third.read_to_string(&mut answer))
        .await
        .expect("the connection past the cap was answered and closed")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    drop(held);
    let b = app.browser();
    let mut served = false;
    for _ in 0..50 {
        if let Ok(res) = b.client.get(b.url("/healthz")).send().await {
            if res.status() == 200 {
                served = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the server did not take connections again");
}

/// Sends `head` (a request head, no body) and returns what the server answers within 5 s, or
/// `None` if it waited for the body instead.
async fn answer_to_head(addr: &str, head: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 16 * 1024];
    let mut got = Vec::new();
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(7).any(|w| w == b"</html>") || got.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

/// A body larger than its route takes, or one whose token could only come in a header that is
/// missing, is refused from the request head alone: the server never reads (nor waits for) the
/// megabytes an attacker declares. Each route's limit fits what it takes: a sign-in form a few
/// KiB, a save the longest response any blueprint allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_from_the_head() {
    let app = spawn_app(Engine::Sqlite).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let res = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    let token = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("imh_csrf="))
        .map(|v| v[..64].to_string())
        .expect("a CSRF cookie");
    let head = |path: &str, kind: &str, length: usize, header_token: bool| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nCookie: imh_csrf={token}\r\n{}Content-Type: {kind}\r\nContent-Length: {length}\r\n\r\n",
            if header_token { format!("x-csrf-token: {token}\r\n") } else { String::new() }
        )
    };
    let json = "application/json";
    let form = "application/x-www-form-urlencoded";

    let save = answer_to_head(&addr, &head("/exam/api/save", json, 3 << 20, true))
        .await
        .expect("an oversized save was answered without its body");
    assert!(save.starts_with("HTTP/1.1 413"), "{save}");
    assert!(save.contains("/exam/api/save"), "{save}");

    assert!(save.contains("connection: close"), "{save}");

    let sign_in = answer_to_head(&addr, &head("/login", form, 2 << 20, false))
        .await
        .expect("an oversized sign-in was answered without its body");
    assert!(sign_in.starts_with("HTTP/1.1 413"), "{sign_in}");
    assert!(sign_in.contains("32 KiB"), "{sign_in}");

    // A script's request without its token header: refused, body unread.
    let no_token = answer_to_head(&addr, &head("/exam/api/save", json, 3 << 20, false))
        .await
        .expect("a save without its token was answered without its body");
    assert!(no_token.starts_with("HTTP/1.1 403"), "{no_token}");

    // Without even the token cookie (a script that never loaded a page): refused from the head
    // alone as well, and the connection closed, so its body is never taken in.
    let no_cookie = format!(
        "POST /exam/api/save HTTP/1.1\r\nHost: x\r\nContent-Type: {json}\r\nContent-Length: {}\r\n\r\n",
        3 << 20
    );
    let answer = answer_to_head(&addr, &no_cookie)
        .await
        .expect("a save without a token cookie was answered without its body");
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");

    // A body a little over its limit (within 1 MiB) is read and thrown away first, so the
    // sender reads the answer rather than a reset connection.
    assert_eq!(
        answer_to_head(&addr, &head("/login", form, 100_000, false)).await,
        None,
        "a body within the drain limit was not read before the answer"
    );
    let b = app.browser();
    let res = b.login(&"a".repeat(1_000_000), "x").await;
    assert_eq!(res.status(), 413);

    // Other forms keep the general limit: a 1 MiB form is read (the server waits for it).
    assert_eq!(
        answer_to_head(&addr, &head("/admin/users", form, 1 << 20, false)).await,
        None,
        "a form within the general limit was refused before its body arrived"
    );

    // The longest response a blueprint allows still fits a save's limit, JSON-escaped.
    let longest = "\r\n".repeat(imh_exam::bank::MAX_CHARACTERS_CEILING as usize);
    let body = serde_json::json!({"part": 1, "item": "X", "value": longest, "seq": 1}).to_string();
    assert!(
        body.len() <= imh_exam::web::EXAM_API_BODY_LIMIT,
        "{} > {}",
        body.len(),
        imh_exam::web::EXAM_API_BODY_LIMIT
    );
}
