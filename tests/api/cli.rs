//! The binary's data commands against a real database: `bank import` and `user add`.

use std::process::{Output, Stdio};

use imh_exam::auth::Role;
use imh_exam::store::users;

use crate::helpers::server::{imh_exam, Server};
use crate::helpers::{copy_dir, repo, test_db, Engine};
use crate::on_both_engines;

fn imh(url: &str, args: &[&str]) -> Output {
    imh_exam()
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn bank_import_from_the_command_line(engine: Engine) {
    let t = test_db(engine).await;
    let bank = repo().join("item-bank");
    let bank = bank.to_str().unwrap();

    let first = imh(&t.url, &["bank", "import", bank]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout)
            .starts_with("bank import: 202 new items, 0 new item versions, 20 new vignettes"),
        "{}",
        text(&first.stdout)
    );

    let second = imh(&t.url, &["bank", "import", bank]);
    assert!(second.status.success());
    assert_eq!(
        text(&second.stdout),
        "bank import: 0 new items, 0 new item versions, 0 new vignettes, 0 new vignette versions, 0 new bank documents, 0 status/level changes, 222 unchanged\n"
    );

    // A changed text under the same version: refused, named, nothing written.
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("bank");
    copy_dir(&repo().join("item-bank"), &copy);
    let file = copy.join("items/COM-0001.md");
    let changed = std::fs::read_to_string(&file).unwrap().replacen(
        "## Rationale\n",
        "## Rationale\nRevised. ",
        1,
    );
    std::fs::write(&file, changed).unwrap();
    let refused = imh(&t.url, &["bank", "import", copy.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        text(&refused.stderr),
        format!(
            "{}: item COM-0001 version 2 changed since it was imported; give it a new version number\nbank import: refused; nothing was imported\n",
            file.display()
        )
    );
}

async fn a_broken_bank_is_not_imported(engine: Engine) {
    let t = test_db(engine).await;
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("bank");
    copy_dir(&repo().join("item-bank"), &copy);
    let file = copy.join("items/THK-0001.md");
    let broken =
        std::fs::read_to_string(&file)
            .unwrap()
            .replacen("domain: THK", "domain: THINK", 1);
    std::fs::write(&file, broken).unwrap();
    let out = imh(&t.url, &["bank", "import", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:4: unknown domain \"THINK\"", file.display())),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("bank import: the bank has 1 error(s); nothing was imported\n"),
        "{stderr}"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM item_versions")
        .fetch_one(&t.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

async fn user_add_creates_staff_who_can_log_in(engine: Engine) {
    let t = test_db(engine).await;
    let mut child = imh_exam()
        .args([
            "user",
            "add",
            "--username",
            "Rosa",
            "--name",
            "Rosa Rater",
            "--role",
            "rater",
            "--organisation",
            "Lakeside",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &t.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a strong passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "created rosa (rater)\n");

    let user = users::authenticate(&t.db, "rosa", "a strong passphrase")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.role, user.organisation.as_str()),
        (Role::Rater, "Lakeside")
    );

    // The same name again is refused and says so.
    let again = imh(
        &t.url,
        &[
            "user",
            "add",
            "--username",
            "rosa",
            "--name",
            "Other",
            "--role",
            "admin",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        text(&again.stderr),
        "--username: a user named \"rosa\" already exists\n"
    );

    // Without --password-stdin a password is generated and printed once.
    let gen = imh(
        &t.url,
        &[
            "user",
            "add",
            "--username",
            "cora",
            "--name",
            "Cora C",
            "--role",
            "committee",
        ],
    );
    assert!(gen.status.success());
    let stdout = text(&gen.stdout);
    let password = stdout
        .lines()
        .nth(1)
        .unwrap()
        .strip_prefix("password: ")
        .unwrap();
    assert!(users::authenticate(&t.db, "cora", password)
        .await
        .unwrap()
        .is_some());
    // A bad role is a clear error from the command line.
    let bad = imh(
        &t.url,
        &[
            "user",
            "add",
            "--username",
            "x1x",
            "--name",
            "X",
            "--role",
            "root",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("unknown role \"root\""),
        "{}",
        text(&bad.stderr)
    );
}

on_both_engines!(
    bank_import_from_the_command_line,
    a_broken_bank_is_not_imported,
    user_add_creates_staff_who_can_log_in,
);

/// `serve` answers /healthz, then stops cleanly on SIGTERM.
async fn serve_stops_gracefully_on_sigterm(engine: Engine) {
    let t = test_db(engine).await;
    // Started, it answers /healthz (or `start` fails).
    let mut server = Server::start(&t.url).await;
    let status = server
        .terminate()
        .await
        .expect("the server did not stop within 10 s of SIGTERM");
    assert!(status.success(), "{status:?}");
}

on_both_engines!(serve_stops_gracefully_on_sigterm);
