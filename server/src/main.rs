//! `edgeshare`: the web console, the configuration store and the SMB engine in one process.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = server::config::Cli::parse();
    if matches!(cli.command, server::config::Command::Serve(_)) {
        limit_malloc_arenas();
    }
    match server::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives each thread that allocates its own arena (up to eight per core) and keeps what is
/// freed in each: message buffers of up to 8 MiB, taken on one thread and freed on another, then
/// held hundreds of MiB after a burst (`make bench-abuse`: 589 MiB peak under attack over TCP with
/// the default, 392 MiB with two arenas). glibc reads MALLOC_ARENA_MAX when a process starts, so
/// the server starts itself again with it, once, before any thread exists; an administrator's own
/// value is kept.
fn limit_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(own) = std::env::current_exe() else { return };
    let error = std::process::Command::new(own).args(std::env::args_os().skip(1)).env("MALLOC_ARENA_MAX", "2").exec();
    eprintln!("warning: could not restart with MALLOC_ARENA_MAX=2 ({error}); going on without it");
}
