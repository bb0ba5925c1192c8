//! `imh-exam config check`: the effective settings and where each came from, on a good file, on
//! files with mistakes (every one named at file:line:col), and with flags and environment
//! variables over the file; `serve` refuses a bad file the same way. The example file in the
//! repository is checked, and it and the README name every setting.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use imh_exam::config::settings::SETTINGS;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary in `dir`, with none of the settings' variables from the test's own environment.
fn bin(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imh-exam"));
    command
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .env_remove("IMH_CONFIG");
    for s in SETTINGS {
        if let Some(env) = s.env {
            command.env_remove(env);
        }
    }
    command
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `config check` in a fresh folder holding `file` as `site.toml`.
fn check(file: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.toml"), file).unwrap();
    let out = bin(dir.path())
        .args(["config", "check"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out, dir)
}

/// The report's line for `key`.
fn line_of<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no line for {key} in:\n{stdout}"))
}

#[test]
fn the_example_file_is_accepted_and_every_value_is_traced_to_its_line() {
    let example = repo().join("imh-exam.example.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = bin(dir.path())
        .args(["config", "check", "--config", example.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("# file: {}\n", example.display())),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&example).unwrap();
    let line = |key: &str| {
        1 + written
            .lines()
            .position(|l| l.starts_with(&format!("{key} = ")))
            .unwrap()
    };
    assert_eq!(
        line_of(&stdout, "bind"),
        format!(
            "bind = \"127.0.0.1:8080\"  # file {}:{}",
            example.display(),
            line("bind")
        )
    );
    assert_eq!(
        line_of(&stdout, "upload_limit"),
        format!(
            "upload_limit = 16777216  # file {}:{}",
            example.display(),
            line("upload_limit")
        )
    );
    // Commented out in the example: the default, which depends on the machine or engine.
    assert!(line_of(&stdout, "credential_checks").ends_with("  # default"));
    assert_eq!(
        line_of(&stdout, "reader_pool"),
        "reader_pool = 8  # default"
    );
    for s in SETTINGS {
        line_of(&stdout, s.key);
    }
}

#[test]
fn the_example_file_and_the_readme_name_every_setting() {
    let example = std::fs::read_to_string(repo().join("imh-exam.example.toml")).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for s in SETTINGS {
        // In its own section of the example, set or commented out.
        let section = example
            .split("\n[")
            .find(|part| part.starts_with(&format!("{}]", s.section)))
            .unwrap_or_else(|| panic!("the example has no [{}]", s.section));
        assert!(
            section.contains(&format!("\n{} = ", s.key))
                || section.contains(&format!("\n# {} = ", s.key)),
            "the example lacks {}",
            s.name()
        );
        assert!(
            readme.contains(&format!("`{}`", s.name())),
            "the README's table lacks `{}`",
            s.name()
        );
    }
    assert!(
        readme.contains(&format!("```toml\n{example}```")),
        "the README's example is imh-exam.example.toml as it is"
    );
}

#[test]
fn an_unknown_key_is_named_at_its_line() {
    let (out, _dir) = check(
        "[server]\nbind = \"127.0.0.1:8080\"\nbnd = \"0.0.0.0:80\"\n",
        &["--config", "site.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "site.toml:3:1: unknown key \"bnd\" in [server]; expected one of bind, secure_cookies, trusted_proxies, header_timeout, idle_timeout, request_timeout, max_connections\nconfig check: 1 error(s)\n"
    );
}

#[test]
fn bad_values_are_all_named_not_just_the_first() {
    let (out, _dir) = check(
        "[server]\nheader_timeout = 0\ntrusted_proxies = [\"10.0.0.0/8\", \"the proxy\"]\n\n[database]\nurl = \"mysql://imh:hunter2@db/imh\"\n\n[saves]\nbatch_size = 10_000\n\n[tls]\ncert = \"site.pem\"\n",
        &["--config", "site.toml", "--client-burst", "lots"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        [
            "site.toml:2:18: [server] header_timeout: expected whole seconds from 1 to 86400, found 0",
            "site.toml:3:19: [server] trusted_proxies: item 2: \"the proxy\" is neither an address (10.0.0.1) nor a network (10.0.0.0/8)",
            "site.toml:6:7: [database] url: expected sqlite:FILE or postgres://user@host/db, found \"mysql://imh:****@db/imh\"",
            "site.toml:9:14: [saves] batch_size: expected at most 4096",
            "site.toml:11:2: unknown section [tls]; expected one of [server], [limits], [database], [saves], [metrics], [log], [auth]",
            "--client-burst: expected a whole number of at least 1, found \"lots\"",
            "config check: 6 error(s)",
            "",
        ]
        .join("\n")
    );
}

#[test]
fn broken_toml_and_a_missing_file_are_named() {
    let (out, _dir) = check(
        "[server]\nbind = \"127.0.0.1:1\n",
        &["--config", "site.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("site.toml:2:"), "{stderr}");
    assert!(stderr.contains(": not valid TOML: "), "{stderr}");

    let (out, _dir) = check("", &["--config", "elsewhere.toml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "elsewhere.toml: cannot read the configuration file: No such file or directory"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_flag_beats_its_variable_beats_the_file_beats_the_default() {
    let (out, _dir) = check(
        "[server]\nbind = \"127.0.0.1:7000\"\nidle_timeout = 90\n\n[limits]\nclient_burst = 5\nclient_per_minute = 30\n\n[database]\nurl = \"postgres://imh:hunter2@db.example/imh\"\n",
        &["--bind", "127.0.0.1:9000", "--client-per-minute", "40"],
        &[
            // The file named by the variable rather than --config.
            ("IMH_CONFIG", "site.toml"),
            ("IMH_BIND", "127.0.0.1:8000"),
            ("IMH_CLIENT_BURST", "7"),
            ("IMH_SECURE_COOKIES", "true"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("# file: site.toml\n"), "{stdout}");
    // Flag over variable over file.
    assert_eq!(
        line_of(&stdout, "bind"),
        "bind = \"127.0.0.1:9000\"  # flag --bind"
    );
    // Flag over file.
    assert_eq!(
        line_of(&stdout, "client_per_minute"),
        "client_per_minute = 40  # flag --client-per-minute"
    );
    // Variable over file.
    assert_eq!(
        line_of(&stdout, "client_burst"),
        "client_burst = 7  # env IMH_CLIENT_BURST"
    );
    // Variable over default.
    assert_eq!(
        line_of(&stdout, "secure_cookies"),
        "secure_cookies = true  # env IMH_SECURE_COOKIES"
    );
    // File over default.
    assert_eq!(
        line_of(&stdout, "idle_timeout"),
        "idle_timeout = 90  # file site.toml:3"
    );
    // The default, on the file's engine.
    assert_eq!(
        line_of(&stdout, "header_timeout"),
        "header_timeout = 10  # default"
    );
    assert_eq!(
        line_of(&stdout, "reader_pool"),
        "reader_pool = 12  # default"
    );
    // The password never shown.
    assert_eq!(
        line_of(&stdout, "url"),
        "url = \"postgres://imh:****@db.example/imh\"  # file site.toml:10"
    );
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

#[test]
fn a_file_in_the_current_folder_is_read_only_when_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("imh-exam.toml"),
        "[server]\nbind = \"127.0.0.1:7000\"\n",
    )
    .unwrap();
    let out = bin(dir.path()).args(["config", "check"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("# no configuration file"), "{stdout}");
    assert_eq!(
        line_of(&stdout, "bind"),
        "bind = \"127.0.0.1:8080\"  # default"
    );
    assert!(
        stdout.contains(
            "# ./imh-exam.toml exists but is not read: name it with --config imh-exam.toml\n"
        ),
        "{stdout}"
    );
    let named = bin(dir.path())
        .args(["config", "check", "--config", "imh-exam.toml"])
        .output()
        .unwrap();
    assert_eq!(
        line_of(&text(&named.stdout), "bind"),
        "bind = \"127.0.0.1:7000\"  # file imh-exam.toml:2"
    );
}

#[test]
fn serve_refuses_a_bad_file_before_opening_anything() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.toml"),
        "[limits]\nclient_burst = -1\n",
    )
    .unwrap();
    let out = bin(dir.path())
        .args(["serve", "--config", "site.toml", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "imh-exam: the settings are refused:\nsite.toml:2:16: [limits] client_burst: expected a whole number of at least 1, found -1\n"
    );
    assert!(
        !dir.path().join("imh-exam.db").exists(),
        "no database was created"
    );
}

#[test]
fn demo_keeps_its_own_database_whatever_the_file_or_environment_say() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.toml"),
        "[database]\nurl = \"sqlite:from-file.db\"\n",
    )
    .unwrap();
    // No bank here: the demo stops after opening its database, before serving.
    let out = bin(dir.path())
        .args(["demo", "--config", "site.toml", "--bank", "no-bank"])
        .args(["--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", "sqlite:from-env.db")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the item bank folder no-bank was not found"),
        "{}",
        text(&out.stderr)
    );
    assert!(dir.path().join("imh-exam-demo.db").exists());
    assert!(!dir.path().join("from-file.db").exists());
    assert!(!dir.path().join("from-env.db").exists());
}

#[test]
fn two_factor_settings_read_roles_and_a_key_file_and_name_a_wrong_role() {
    let (out, _dir) = check(
        "[auth]\ntwo_factor_roles = [\"admin\", \"committee\"]\ntwo_factor_key_file = \"/etc/imh/2fa.key\"\n",
        &["--config", "site.toml"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        line_of(&stdout, "two_factor_roles"),
        "two_factor_roles = [\"admin\", \"committee\"]  # file site.toml:2"
    );
    assert_eq!(
        line_of(&stdout, "two_factor_key_file"),
        "two_factor_key_file = \"/etc/imh/2fa.key\"  # file site.toml:3"
    );

    // The flag takes commas as the variable does, and beats the file.
    let (out, _dir) = check(
        "[auth]\ntwo_factor_roles = [\"admin\"]\n",
        &[
            "--config",
            "site.toml",
            "--require-two-factor",
            "proctor,rater",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        line_of(&text(&out.stdout), "two_factor_roles"),
        "two_factor_roles = [\"proctor\", \"rater\"]  # flag --require-two-factor"
    );

    let (out, _dir) = check(
        "[auth]\ntwo_factor_roles = [\"admin\", \"candidate\"]\n",
        &["--config", "site.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "site.toml:2:20: [auth] two_factor_roles: item 2: unknown role \"candidate\"; expected admin, proctor, rater, committee or panelist\nconfig check: 1 error(s)\n"
    );
}
