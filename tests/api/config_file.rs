//! The configuration file in use: `serve` takes its settings (a flag still overriding it), a
//! data command takes its database from it, and the store opens the pools it names.

use std::time::Duration;

use imh_exam::config::DbConfig;
use imh_exam::store::{users, Db};

use crate::helpers::server::{imh_exam, Server};
use crate::helpers::{test_db, Browser, Engine};
use crate::on_both_engines;

async fn serve_takes_its_settings_from_the_file(engine: Engine) {
    let t = test_db(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("imh-exam.toml");
    // The file's address is overridden by the --bind that `Server` passes (the server would not
    // be found otherwise); its body limit makes a 3 KiB sign-in form too large.
    std::fs::write(
        &file,
        "[server]\nbind = \"127.0.0.1:9\"\n\n[limits]\nbody_limit = 2048\n",
    )
    .unwrap();
    let with_file = Server::start_with(&t.url, &[("IMH_CONFIG", file.to_str().unwrap())]).await;
    let without = Server::start(&t.url).await;
    let long_name = "z".repeat(3000);
    let b = Browser::for_server(&with_file.base);
    assert_eq!(b.login(&long_name, "x").await.status(), 413);
    assert_eq!(b.login("nobody", "x").await.status(), 401);
    let b = Browser::for_server(&without.base);
    assert_eq!(
        b.login(&long_name, "x").await.status(),
        422,
        "without the file, the form is read and its username refused"
    );
}

async fn a_data_command_takes_its_database_from_the_file(engine: Engine) {
    let t = test_db(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, format!("[database]\nurl = \"{}\"\n", t.url)).unwrap();
    let out = imh_exam()
        .args(["user", "add", "--username", "ada", "--name", "Ada Admin"])
        .args(["--role", "admin", "--config", file.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(users::user_by_username(&t.db, "ada")
        .await
        .unwrap()
        .is_some());
    assert!(
        !dir.path().join("imh-exam.db").exists(),
        "not the default database"
    );
}

async fn the_store_opens_the_pools_the_settings_name(engine: Engine) {
    let t = test_db(engine).await;
    let db = Db::open(&DbConfig {
        url: t.url.clone(),
        reader_pool: Some(3),
        writer_pool: 2,
        acquire_timeout: Duration::from_secs(4),
        writer_timeout: Duration::from_secs(7),
        ..DbConfig::default()
    })
    .await
    .unwrap();
    let (readers, writer) = (db.pool.options(), db.writer.options());
    // Read connections in all: the pool's and those kept for the candidates' pages.
    assert_eq!(db.read_connections(), 3);
    assert_eq!(readers.get_acquire_timeout(), Duration::from_secs(4));
    match engine {
        // SQLite has one writer whatever the file says, with its own wait.
        Engine::Sqlite => {
            assert_eq!(writer.get_max_connections(), 1);
            assert_eq!(writer.get_acquire_timeout(), Duration::from_secs(7));
        }
        Engine::Postgres => {
            assert_eq!(writer.get_max_connections(), 2);
            assert_eq!(writer.get_acquire_timeout(), Duration::from_secs(4));
        }
    }
    // The defaults: the engine's reader pool.
    let default = Db::connect(&t.url).await.unwrap();
    let expected = if engine == Engine::Sqlite { 8 } else { 12 };
    assert_eq!(default.read_connections(), expected);
    db.close().await;
    default.close().await;
}

on_both_engines!(
    serve_takes_its_settings_from_the_file,
    a_data_command_takes_its_database_from_the_file,
    the_store_opens_the_pools_the_settings_name,
);
