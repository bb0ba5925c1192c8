//! The `imh-exam` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = imh_exam::cli::Cli::parse();
    imh_exam::cli::init_tracing(cli.log_format());
    match imh_exam::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("imh-exam: {e:#}");
            ExitCode::FAILURE
        }
    }
}
