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

mod app;
mod driver;
mod look;
mod wait;

mod candidate;
mod candidate_comments;
mod candidate_ui;
mod committee;
mod panel;
mod proctor;
mod rater;
mod staff;
mod two_factor;

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
const HOUR: i64 = 60 * 60 * 1000;
/// How long any one wait in the flow may take.
const PATIENCE: Duration = Duration::from_secs(30);

use app::*;
use driver::*;
use look::*;
use wait::*;
