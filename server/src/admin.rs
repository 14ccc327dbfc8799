//! `edgeshare admin ...`: console accounts from the command line (first administrator on a
//! headless server, recovery when every administrator forgot the password).

use std::io::BufRead;
use std::path::Path;

use anyhow::Context;
use app::backend::{accounts, audit};
use app::error::AppError;
use app::model::accounts::{check_account_name, check_new_password};
use app::model::audit::Action;
use app::model::auth::Role;

use crate::config::AdminCommand;

const ACTOR: &str = "command line";

pub async fn run(data_dir: &Path, command: AdminCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let source = format!("command line (uid {})", current_uid());
    let result = match command {
        AdminCommand::Add { name, role, password_stdin: _ } => {
            let role: Role = role.parse().map_err(plain)?;
            let name = check_account_name(&name).map_err(plain)?.to_owned();
            let password = read_password()?;
            check_new_password(&password, &password).map_err(plain)?;
            let account = accounts::create(&db, &name, role, &password).await.map_err(plain)?;
            audit::record(
                &db,
                audit::Entry::success(ACTOR, Action::AccountCreate, &account.name)
                    .detail(format!("role {role}"))
                    .source(&source),
            )
            .await;
            println!("created console account '{}' ({role})", account.name);
            Ok(())
        }
        AdminCommand::List => {
            for account in accounts::list(&db).await.map_err(plain)? {
                let last = account.last_sign_in_at.unwrap_or_else(|| "never".into());
                println!(
                    "{:<32} {:<7} created {}  last sign-in {}",
                    account.name, account.role, account.created_at, last
                );
            }
            Ok(())
        }
        AdminCommand::Remove { name } => {
            let removed = accounts::remove(&db, &name).await.map_err(plain)?;
            audit::record(
                &db,
                audit::Entry::success(ACTOR, Action::AccountRemove, &removed.name)
                    .detail(format!("role was {}", removed.role))
                    .source(&source),
            )
            .await;
            println!("removed console account '{}'", removed.name);
            Ok(())
        }
        AdminCommand::SetPassword { name, password_stdin: _ } => {
            let password = read_password()?;
            check_new_password(&password, &password).map_err(plain)?;
            let account = accounts::set_password(&db, &name, &password).await.map_err(plain)?;
            audit::record(
                &db,
                audit::Entry::success(ACTOR, Action::AccountPassword, &account.name)
                    .detail("password changed; the account's open console sessions ended")
                    .source(&source),
            )
            .await;
            println!("changed the password of '{}'", account.name);
            Ok(())
        }
        AdminCommand::SetRole { name, role } => {
            let role: Role = role.parse().map_err(plain)?;
            let (account, previous) = accounts::set_role(&db, &name, role).await.map_err(plain)?;
            if previous != role {
                audit::record(
                    &db,
                    audit::Entry::success(ACTOR, Action::AccountRole, &account.name)
                        .detail(format!("{previous} -> {role}"))
                        .source(&source),
                )
                .await;
            }
            println!("'{}' is now {role}", account.name);
            Ok(())
        }
    };
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
