//! `edgeshare admin ...`: console accounts from the command line (first administrator on a
//! headless server, recovery when every administrator forgot the password).

use std::io::BufRead;
use std::path::Path;

use anyhow::Context;
use app::error::AppError;
use app::service::{Actor, Control, NewPassword, accounts};

use crate::config::AdminCommand;

pub async fn run(data_dir: &Path, command: AdminCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
    let result = async {
        match command {
            AdminCommand::Add { name, role, password_stdin: _ } => {
                let password = read_password()?;
                let (name, role) = accounts::create(&control, &actor, &name, &role, NewPassword::once(&password))
                    .await
                    .map_err(plain)?;
                println!("created console account '{name}' ({role})");
            }
            AdminCommand::List => {
                for account in accounts::list(&control).await.map_err(plain)? {
                    let last = account.last_sign_in_at.unwrap_or_else(|| "never".into());
                    println!(
                        "{:<32} {:<7} created {}  last sign-in {}",
                        account.name, account.role, account.created_at, last
                    );
                }
            }
            AdminCommand::Remove { name } => {
                let name = accounts::remove(&control, &actor, &name).await.map_err(plain)?;
                println!("removed console account '{name}'");
            }
            AdminCommand::SetPassword { name, password_stdin: _ } => {
                let password = read_password()?;
                let name = accounts::set_password(&control, &actor, &name, NewPassword::once(&password))
                    .await
                    .map_err(plain)?;
                println!("changed the password of '{name}'");
            }
            AdminCommand::SetRole { name, role } => {
                let (name, role) = accounts::set_role(&control, &actor, &name, &role).await.map_err(plain)?;
                println!("'{name}' is now {role}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}

/// The first line of standard input, without its line ending.
pub fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

pub fn current_uid() -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX)
    }
    #[cfg(not(unix))]
    {
        u32::MAX
    }
}
