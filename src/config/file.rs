//! The configuration file: TOML with a section per part of the server. Read with its spans
//! (toml_edit), so that every mistake is named at its `file:line:col`, and every mistake is
//! reported, not just the first (serde's `deny_unknown_fields` stops at one).

use std::ops::Range;

use toml_edit::{ImDocument, Item, Key, TableLike};

use super::resolve::Source;
use super::settings::{find, keys_of, SECTIONS, SETTINGS};
use super::Config;

/// Line and column (from 1, in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Errors found so far, with their offsets, to be reported in the file's order.
struct Errors<'a> {
    name: &'a str,
    text: &'a str,
    found: Vec<(usize, String)>,
}

impl Errors<'_> {
    fn at(&mut self, span: Option<Range<usize>>, message: String) {
        let offset = span.map_or(0, |s| s.start);
        let (line, col) = line_col(self.text, offset);
        self.found
            .push((offset, format!("{}:{line}:{col}: {message}", self.name)));
    }
}

fn sections_list() -> String {
    SECTIONS
        .iter()
        .map(|s| format!("[{s}]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sections other than `section` that have `key`: a key put in the wrong section.
fn belongs_in(key: &str, section: Option<&str>) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|s| s.key == key && Some(s.section) != section)
        .map(|s| s.section)
}

fn key_span(table: &dyn TableLike, key: &str) -> Option<Range<usize>> {
    table.key(key).and_then(Key::span)
}

/// Reads the file `name` holding `text` into `config`, marking each setting it sets in
/// `sources`; every mistake is added to `errors` as `name:line:col: message`.
pub(super) fn apply(
    name: &str,
    text: &str,
    config: &mut Config,
    sources: &mut [Source],
    errors: &mut Vec<String>,
) {
    let mut out = Errors {
        name,
        text,
        found: Vec::new(),
    };
    match ImDocument::parse(text) {
        Err(e) => {
            let message = e.message().trim().replace('\n', "; ");
            out.at(e.span(), format!("not valid TOML: {message}"));
        }
        Ok(doc) => read_sections(&doc, config, sources, &mut out),
    }
    out.found.sort_by_key(|(offset, _)| *offset);
    errors.extend(out.found.into_iter().map(|(_, m)| m));
}

fn read_sections(
    doc: &ImDocument<&str>,
    config: &mut Config,
    sources: &mut [Source],
    out: &mut Errors<'_>,
) {
    let root = doc.as_table();
    for (section, item) in root.iter() {
        let span = key_span(root, section);
        if !SECTIONS.contains(&section) {
            let message = match (item, belongs_in(section, None)) {
                (Item::Value(_), Some(home)) => {
                    format!("\"{section}\" must be in its section: put it under [{home}]")
                }
                (Item::Value(_), None) => format!(
                    "unknown key \"{section}\" outside any section; expected one of {}",
                    sections_list()
                ),
                _ => format!(
                    "unknown section [{section}]; expected one of {}",
                    sections_list()
                ),
            };
            out.at(span, message);
            continue;
        }
        let Some(table) = item.as_table_like() else {
            out.at(
                span,
                format!("[{section}] must be a table of settings, not an array or a value"),
            );
            continue;
        };
        for (key, item) in table.iter() {
            let span = key_span(table, key);
            let Some(i) = find(section, key) else {
                let mut message = format!(
                    "unknown key \"{key}\" in [{section}]; expected one of {}",
                    keys_of(section).join(", ")
                );
                if let Some(home) = belongs_in(key, Some(section)) {
                    message.push_str(&format!(" (\"{key}\" belongs in [{home}])"));
                }
                out.at(span, message);
                continue;
            };
            let setting = &SETTINGS[i];
            let Some(value) = item.as_value() else {
                out.at(
                    span,
                    format!("{} must be a value, not a table", setting.name()),
                );
                continue;
            };
            match (setting.from_toml)(value, config) {
                Ok(()) => {
                    let (line, _) = line_col(out.text, span.map_or(0, |s| s.start));
                    sources[i] = Source::File { line };
                }
                Err(e) => out.at(value.span(), format!("{}: {e}", setting.name())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let mut config = Config::default();
        let mut sources = vec![Source::Default; SETTINGS.len()];
        let mut errors = Vec::new();
        apply("site.toml", text, &mut config, &mut sources, &mut errors);
        errors
    }

    #[test]
    fn a_good_file_sets_its_settings_and_says_on_which_line() {
        let text = "# site\n[server]\nbind = \"0.0.0.0:80\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n\n[database]\nurl = \"postgres://imh:pw@db/imh\"\nreader_pool = 20\n\n[saves]\nbatch_size = 64\n";
        let mut config = Config::default();
        let mut sources = vec![Source::Default; SETTINGS.len()];
        let mut errors = Vec::new();
        apply("site.toml", text, &mut config, &mut sources, &mut errors);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(config.bind.port(), 80);
        assert_eq!(config.trusted_proxies.len(), 1);
        assert_eq!(config.db.url, "postgres://imh:pw@db/imh");
        assert_eq!(config.db.readers(), 20);
        assert_eq!(config.db.save_batch, 64);
        assert_eq!(
            sources[find("server", "bind").unwrap()],
            Source::File { line: 3 }
        );
        assert_eq!(
            sources[find("saves", "batch_size").unwrap()],
            Source::File { line: 11 }
        );
        assert_eq!(
            sources[find("server", "idle_timeout").unwrap()],
            Source::Default
        );
    }

    #[test]
    fn inline_and_dotted_tables_are_sections_too() {
        assert_eq!(
            errors("server = { bind = \"127.0.0.1:1\" }\nlimits.client_burst = 2\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unknown_keys_and_sections_are_named_at_their_line_all_of_them() {
        let text = "[server]\nbnd = \"0.0.0.0:80\"\nheader_timeout = \"10s\"\n\n[sever]\nx = 1\n\n[limits]\nbatch_size = 3\nclient_burst = 0\n";
        assert_eq!(
            errors(text),
            [
                "site.toml:2:1: unknown key \"bnd\" in [server]; expected one of bind, secure_cookies, trusted_proxies, header_timeout, idle_timeout, request_timeout, max_connections",
                "site.toml:3:18: [server] header_timeout: expected whole seconds from 1 to 86400, found \"10s\"",
                "site.toml:5:2: unknown section [sever]; expected one of [server], [limits], [database], [saves], [metrics], [log], [auth]",
                "site.toml:9:1: unknown key \"batch_size\" in [limits]; expected one of credential_checks, client_burst, client_per_minute, body_limit, upload_limit (\"batch_size\" belongs in [saves])",
                "site.toml:10:16: [limits] client_burst: expected a whole number of at least 1, found 0",
            ]
        );
    }

    #[test]
    fn a_setting_outside_its_section_and_tables_where_values_go() {
        assert_eq!(
            errors("bind = \"0.0.0.0:80\"\nwhatever = 1\n[[saves]]\nbatch_size = 1\n[server.tls]\ncert = \"x\"\n"),
            [
                "site.toml:1:1: \"bind\" must be in its section: put it under [server]",
                "site.toml:2:1: unknown key \"whatever\" outside any section; expected one of [server], [limits], [database], [saves], [metrics], [log], [auth]",
                "site.toml:3:3: [saves] must be a table of settings, not an array or a value",
                "site.toml:5:9: unknown key \"tls\" in [server]; expected one of bind, secure_cookies, trusted_proxies, header_timeout, idle_timeout, request_timeout, max_connections",
            ]
        );
    }

    #[test]
    fn broken_toml_is_named_at_its_place() {
        let e = errors("[server]\nbind = \"0.0.0.0:80\nidle_timeout = 5\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("site.toml:2:"), "{e:?}");
        assert!(e[0].contains("not valid TOML"), "{e:?}");
        assert!(!e[0].contains('\n'), "{e:?}");
        let e = errors("[server]\nbind = \"0.0.0.0:80\"\nbind = \"0.0.0.0:81\"\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("site.toml:3:"), "{e:?}");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
