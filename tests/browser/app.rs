//! The server under test, its data, and staff who sign in.

use super::*;

// ----- the server, its data and the candidate -----------------------------------------------

/// A server on a random port with its own SQLite database, stopped when dropped.
pub(crate) struct App {
    pub(crate) base: String,
    pub(crate) db: Db,
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub(crate) async fn spawn_app() -> App {
    spawn_app_with(Config::default()).await
}

/// The same, with its own settings (its `bind` is replaced by a random port).
pub(crate) async fn spawn_app_with(config: Config) -> App {
    imh_exam::cli::init_tracing(imh_exam::config::LogFormat::Text);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.expect("open SQLite");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(
        db.clone(),
        Config {
            bind: addr,
            ..config
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

pub(crate) async fn import_sample(db: &Db) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank");
    import_dir(db, &root, "test").await.unwrap();
}

/// A sitting open from an hour ago for eight hours, offering every blueprint.
pub(crate) async fn open_sitting(db: &Db, name: &str) -> sittings::Sitting {
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
pub(crate) async fn admitted_candidate(db: &Db) -> (i64, String) {
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

// ----- staff ----------------------------------------------------------------------------------

/// Adds a staff account `username` with `role` and a password of `"a long " + username + "
/// password"`, then signs in as them through the login form and waits for their home page.
pub(crate) async fn staff_signs_in(c: &Client, base: &str, db: &Db, username: &str, role: Role) {
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
    submit(c).await;
    wait_for_path(c, "/").await;
}
