//! `edgeshare`: the web console, the configuration store and the SMB engine in one process.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = server::config::Cli::parse();
    match server::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
