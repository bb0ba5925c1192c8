//! `config check`'s report: every setting with its effective value and where it came from,
//! written as TOML (the sources as comments), with a database URL's password masked.

use super::resolve::Effective;
use super::settings::{SECTIONS, SETTINGS};

/// `url` with any password replaced by `****`: in its user part (`postgres://u:pw@h/d`) and
/// in a `password=` parameter.
pub fn mask_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(start) = url.find("://").map(|i| i + 3) {
        let rest = &url[start..];
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                out = format!("{}:****{}", &url[..start + colon], &url[start + at..]);
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=****"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

/// The report: a header naming the file read, then a TOML section per section, each setting
/// as `key = value  # where from`.
pub fn render(effective: &Effective) -> String {
    let mut out = String::from(
        "# imh-exam config check: every setting, its effective value and where it came from\n",
    );
    match &effective.file {
        Some(name) => out.push_str(&format!("# file: {}\n", crate::escape::controls(name))),
        None => {
            out.push_str("# no configuration file (give one with --config PATH or IMH_CONFIG)\n")
        }
    }
    for section in SECTIONS {
        out.push_str(&format!("\n[{section}]\n"));
        for (i, setting) in SETTINGS.iter().enumerate() {
            if setting.section == *section {
                out.push_str(&format!(
                    "{} = {}  # {}\n",
                    setting.key,
                    (setting.show)(&effective.config),
                    effective.origin(i)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve;

    #[test]
    fn passwords_are_masked_wherever_they_are() {
        assert_eq!(mask_url("sqlite:imh.db"), "sqlite:imh.db");
        assert_eq!(mask_url("postgres://imh@db/imh"), "postgres://imh@db/imh");
        assert_eq!(
            mask_url("postgres://imh:s3cr:et@db:5432/imh"),
            "postgres://imh:****@db:5432/imh"
        );
        assert_eq!(
            mask_url("postgresql://db/imh?user=imh&password=pw&sslmode=require"),
            "postgresql://db/imh?user=imh&password=****&sslmode=require"
        );
        assert_eq!(
            mask_url("postgres://u:p@w@h/d"),
            "postgres://u:****@h/d",
            "the last @ before the path ends the user part"
        );
    }

    #[test]
    fn the_report_is_toml_with_every_setting_and_its_origin() {
        let e = resolve(
            Some((
                "site.toml",
                "[database]\nurl = \"postgres://imh:hunter2@db/imh\"\n",
            )),
            &[],
        )
        .unwrap();
        let report = render(&e);
        assert!(report.contains("# file: site.toml\n"), "{report}");
        assert!(
            report.contains("\nurl = \"postgres://imh:****@db/imh\"  # file site.toml:2\n"),
            "{report}"
        );
        assert!(!report.contains("hunter2"), "{report}");
        assert!(
            report.contains("\nreader_pool = 12  # default\n"),
            "{report}"
        );
        assert!(
            report.contains("\nbind = \"127.0.0.1:8080\"  # default\n"),
            "{report}"
        );
        // Every setting once (a key two sections share, like `bind`, once in each), and the
        // whole report reads as TOML.
        for s in SETTINGS {
            assert_eq!(
                report.matches(&format!("\n{} = ", s.key)).count(),
                SETTINGS.iter().filter(|t| t.key == s.key).count(),
                "{}",
                s.key
            );
        }
        let doc: toml_edit::DocumentMut = report.parse().expect("the report is TOML");
        assert_eq!(doc["saves"]["batch_size"].as_integer(), Some(128));
    }
}
