//! Where the command's log lines go and how they look: text for a person, or one JSON object a
//! line for a log collector (`[log] format`).

use super::{Cli, Command};
use crate::config::LogFormat;

impl Cli {
    /// How the command's log lines are written (`[log] format` of serve and demo; text for
    /// the others).
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            // Read before the command runs (its errors are reported then): text if unreadable.
            Command::Serve { settings } => settings
                .config()
                .map_or(LogFormat::Text, |config| config.log_format),
            Command::Demo { settings, .. } => settings
                .config()
                .map_or(LogFormat::Text, |config| config.log_format),
            _ => LogFormat::Text,
        }
    }
}

pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "imh_exam=info,tower_http=info,warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        // A line per event: its fields at the top level, the request's span (its id, route,
        // attempt or sitting) under "span".
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
