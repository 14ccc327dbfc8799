//! `edgeshare`: the web console, the configuration store and the SMB engine in one process.

use clap::Parser;

/// mimalloc rather than the C library's allocator: the engine's message buffers (up to 8 MiB, freed
/// on other threads than they were taken on) are returned to the system once free, where glibc's
/// per-thread arenas kept hundreds of MiB after a burst (`make bench-abuse`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
