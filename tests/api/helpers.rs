//! Test helpers: a fresh database per test on either engine, a server on a random port, and a
//! browser-like client that keeps cookies and fills in CSRF tokens. `exam` has the fixtures
//! below the web (a sitting, its candidates), `server` the binary run as a process.

pub mod exam;
pub mod sat;
pub mod server;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use imh_exam::auth::{Role, Username};
use imh_exam::config::Config;
use imh_exam::store::users::{self, NewUser};
use imh_exam::store::Db;
use imh_exam::web::{self, AppState};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Generates, for each named `async fn(Engine)`, a module with a `sqlite` and a `postgres` test.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Engine::Postgres).await
                }
            }
        )*
    };
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The server's PostgreSQL for tests; each test gets its own database on it.
fn postgres_admin_url() -> String {
    std::env::var("IMH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub db: Db,
    /// The database URL, for running the binary against the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Drops test databases left by earlier runs whose process is gone.
async fn drop_stale_databases(admin: &mut sqlx::PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'imh_test_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

pub async fn test_db(engine: Engine) -> TestDb {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            let db = Db::connect(&url).await.expect("open SQLite");
            TestDb {
                db,
                url,
                _dir: Some(dir),
            }
        }
        Engine::Postgres => {
            let admin_url = postgres_admin_url();
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is needed for the tests at {admin_url} ({e}); start it (see README) or set IMH_TEST_POSTGRES_URL"
                )
            });
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                drop_stale_databases(&mut admin).await;
            }
            let name = format!(
                "imh_test_{}_{n}_{}",
                std::process::id(),
                rand::random::<u32>()
            );
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            let db = Db::connect(&url)
                .await
                .expect("open PostgreSQL test database");
            TestDb {
                db,
                url,
                _dir: None,
            }
        }
    }
}

/// A running server on a random port with its own database.
pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The server's state, for its limits' counters.
    pub state: AppState,
    /// Kept so the database lives as long as the server.
    _test_db: TestDb,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_on(test_db(engine).await).await
}

/// A server over a database prepared beforehand.
pub async fn spawn_app_on(test_db: TestDb) -> TestApp {
    spawn_app_with(test_db, Config::default()).await
}

/// A server with its own settings (its `bind` is replaced by a random port).
pub async fn spawn_app_with(test_db: TestDb, config: Config) -> TestApp {
    let db = test_db.db.clone();
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
    tokio::spawn(web::serve(state.clone(), listener, async {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        db,
        state,
        _test_db: test_db,
        shutdown: Some(tx),
    }
}

pub const PASSWORD: &str = "a long test password";

impl TestApp {
    /// The URL of the server's database, for the binary run as a process on the same data.
    pub fn db_url(&self) -> &str {
        &self._test_db.url
    }

    /// A new browser: its own cookies, not following redirects so tests can see them.
    pub fn browser(&self) -> Browser {
        self.browser_from("127.0.0.1")
    }

    /// A browser on another machine, as the server sees it: its connections come from
    /// `local` (any 127.x.y.z address reaches the server on loopback).
    pub fn browser_from(&self, local: &str) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(Some(local.parse().unwrap()))
                .build()
                .unwrap(),
        }
    }

    /// Creates a staff account with `PASSWORD`, named "Test `username`".
    pub async fn add_staff(&self, username: &str, role: Role, organisation: &str) {
        let display_name = format!("Test {username}");
        add_user(&self.db, username, &display_name, role, organisation).await;
    }

    /// A new browser signed in as the staff member `username` (whose password is `PASSWORD`).
    pub async fn signed_in(&self, username: &str) -> Browser {
        let b = self.browser();
        let res = b.login(username, PASSWORD).await;
        assert_eq!(res.status(), 303, "{username} logs in");
        b
    }

    /// A browser signed in as a new staff member of `role`.
    pub async fn as_role(&self, role: Role) -> Browser {
        let username = format!("{}-{}", role.code(), rand::random::<u32>());
        self.add_staff(&username, role, "Test Org").await;
        self.signed_in(&username).await
    }
}

/// Four raters (`rater1`..`rater4`) with the demo's severities, for `demo::completed_sitting`.
pub async fn demo_raters(db: &Db) -> Vec<(i64, f64)> {
    let mut raters = Vec::new();
    for (i, severity) in [0.0, 0.4, -0.6, 0.1].into_iter().enumerate() {
        let org = format!("Rater organisation {i}");
        raters.push((
            add_staff(db, &format!("rater{}", i + 1), Role::Rater, &org).await,
            severity,
        ));
    }
    raters
}

/// Creates a staff account named `username` with `PASSWORD`; returns its id.
pub async fn add_staff(db: &Db, username: &str, role: Role, organisation: &str) -> i64 {
    add_user(db, username, username, role, organisation).await
}

async fn add_user(
    db: &Db,
    username: &str,
    display_name: &str,
    role: Role,
    organisation: &str,
) -> i64 {
    users::add_user(
        db,
        NewUser {
            username: &Username::parse(username).unwrap(),
            display_name,
            role,
            organisation,
            password: PASSWORD,
            added_by: "test",
        },
    )
    .await
    .unwrap()
}

/// The `csrf` hidden field of the first form in `html`.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf field in page:\n{html}"))
        + marker.len();
    html[start..start + 64].to_string()
}

/// The text of `html` between the first `start` and the `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page:\n{html}"))
        + start.len();
    let j = html[i..].find(end).unwrap() + i;
    &html[i..j]
}

/// One browser: a cookie jar and the habit of sending forms with their CSRF token. A clone
/// shares the cookie jar.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    /// A new browser for a server run as a process; a request it cannot finish in 5 s fails.
    pub fn for_server(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        }
    }

    /// The same browser (its cookies too) talking to another server of the same host.
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            client: self.client.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Opens `page`, then posts `fields` to `action` with the page's CSRF token.
    pub async fn post_form(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = csrf_of(&self.get_text(page).await);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &token));
        self.client
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Enters the exam with an access code, as at `/enter`.
    pub async fn enter(&self, code: &str) -> reqwest::Response {
        self.post_form("/enter", "/enter", &[("code", code)]).await
    }

    /// The CSRF token of the candidate's pages, which the exam page's script sends.
    pub async fn candidate_token(&self) -> String {
        csrf_of(&self.get_text("/candidate").await)
    }

    /// Enters with `code` (which must be let in) and returns the candidate's token: entering
    /// rotates it, so it is read afterwards.
    pub async fn enter_as_candidate(&self, code: &str) -> String {
        let res = self.enter(code).await;
        assert_eq!(res.status(), 303);
        self.candidate_token().await
    }

    /// Saves one answer as the exam page's script does; an error if the server is gone.
    pub async fn try_save(
        &self,
        token: &str,
        part: u8,
        item: &str,
        value: &str,
        seq: u64,
    ) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(self.url("/exam/api/save"))
            .header("x-csrf-token", token)
            .json(&serde_json::json!({"part": part, "item": item, "value": value, "seq": seq}))
            .send()
            .await
    }

    /// `try_save` to a server that is up.
    pub async fn save(
        &self,
        token: &str,
        part: u8,
        item: &str,
        value: &str,
        seq: u64,
    ) -> reqwest::Response {
        self.try_save(token, part, item, value, seq).await.unwrap()
    }
}

/// The number a `SELECT COUNT(*) ...` without parameters gives.
pub async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

/// Copies a folder tree, for tests that edit a copy of the sample bank.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
