//! `edgeshare user ...` and `edgeshare share ...`: SMB users and shares from the command line.
//! A running server picks the changes up within a second (it watches the configuration version).

use std::path::Path;

use app::error::AppError;
use app::model::shares::{AccessLevel, EVERYONE, Permission, ShareEdit, ShareForm};
use app::service::{self, Actor, Control, NewPassword};
use smb_core::same_name;

use crate::admin::{current_uid, read_password};
use crate::config::{Grants, SettingsCommand, ShareCommand, UserCommand};

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

pub async fn users(data_dir: &Path, command: UserCommand) -> anyhow::Result<()> {
    use app::service::users;
    let (db, _) = crate::db::open(data_dir).await?;
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
    match command {
        UserCommand::Add { name, password_stdin: _ } => {
            let password = read_password()?;
            let name = users::create(&control, &actor, &name, NewPassword::once(&password)).await.map_err(plain)?;
            println!("created SMB user '{name}'");
        }
        UserCommand::List => {
            for user in users::list(&control).await.map_err(plain)? {
                let state = match (user.enabled, user.locked_until) {
                    (false, _) => "disabled".to_owned(),
                    (true, Some(until)) => format!("locked out until {until}"),
                    (true, None) => "enabled".to_owned(),
                };
                println!("{:<20} {state}", user.name);
            }
        }
        UserCommand::SetPassword { name, password_stdin: _ } => {
            let password = read_password()?;
            let name =
                users::set_password(&control, &actor, &name, NewPassword::once(&password)).await.map_err(plain)?;
            println!("changed the password of '{name}'");
        }
        UserCommand::Remove { name } => {
            let name = users::remove(&control, &actor, &name).await.map_err(plain)?;
            println!("removed SMB user '{name}'");
        }
        UserCommand::Enable { name } => {
            let name = users::set_enabled(&control, &actor, &name, true).await.map_err(plain)?;
            println!("enabled '{name}'");
        }
        UserCommand::Disable { name } => {
            let name = users::set_enabled(&control, &actor, &name, false).await.map_err(plain)?;
            println!("disabled '{name}'");
        }
        UserCommand::Unlock { name } => {
            let name = users::unlock(&control, &actor, &name).await.map_err(plain)?;
            println!("unlocked '{name}'");
        }
    }
    db.close().await;
    Ok(())
}

/// The grants of `--full/--change/--read/--deny` options, in that order (a user named twice gets
/// the last).
fn grants(Grants { full, change, read, deny }: Grants) -> Vec<Permission> {
    let mut grants: Vec<Permission> = Vec::new();
    for (users, access) in
        [(full, AccessLevel::Full), (change, AccessLevel::Change), (read, AccessLevel::Read), (deny, AccessLevel::Deny)]
    {
        for principal in users {
            grants.retain(|p| !same_name(&p.principal, &principal));
            grants.push(Permission { principal, access });
        }
    }
    grants
}

pub async fn shares(data_dir: &Path, command: ShareCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
    match command {
        ShareCommand::Add {
            name,
            path,
            grants: given,
            encrypt,
            access_based_enumeration,
            max_users,
            continuous_availability,
            description,
        } => {
            let mut permissions = grants(given);
            if permissions.is_empty() {
                // As on Windows, a new share lets everyone read.
                permissions.push(Permission { principal: EVERYONE.to_owned(), access: AccessLevel::Read });
            }
            let form = ShareForm {
                name,
                path: path.display().to_string(),
                description,
                permissions,
                encrypt_data: encrypt,
                access_based_enumeration,
                max_users: max_users.map(|n| n.to_string()).unwrap_or_default(),
                continuous_availability,
            };
            let name = service::shares::create(&control, &actor, &form).await.map_err(plain)?;
            println!("shared {} as '{name}'", path.display());
        }
        ShareCommand::Set {
            name,
            rename,
            path,
            description,
            grants: given,
            revoke,
            encrypt,
            access_based_enumeration,
            max_users,
            continuous_availability,
        } => {
            let edit = ShareEdit {
                rename,
                path: path.map(|p| p.display().to_string()),
                description,
                grant: grants(given),
                revoke,
                encrypt_data: encrypt,
                access_based_enumeration,
                max_users: max_users
                    .map(|n| if n.trim().eq_ignore_ascii_case("unlimited") { String::new() } else { n }),
                continuous_availability,
            };
            let name = service::shares::edit(&control, &actor, &name, &edit).await.map_err(plain)?;
            let share = service::shares::list(&db).await.map_err(plain)?.into_iter().find(|s| s.name == name);
            match share {
                Some(share) => println!("changed share '{name}' ({})", ShareForm::from_summary(&share).describe()),
                None => println!("changed share '{name}'"),
            }
        }
        ShareCommand::List => {
            for share in service::shares::list(&db).await.map_err(plain)? {
                println!("{:<20} {}", share.name, ShareForm::from_summary(&share).describe());
            }
        }
        ShareCommand::Remove { name } => {
            let name = service::shares::remove(&control, &actor, &name).await.map_err(plain)?;
            println!("removed share '{name}' (its files are untouched)");
        }
    }
    db.close().await;
    Ok(())
}

pub async fn settings(data_dir: &Path, command: SettingsCommand) -> anyhow::Result<()> {
    use app::service::settings::{self, Change};
    let (db, _) = crate::db::open(data_dir).await?;
    let control = Control::command_line(db.clone());
    match command {
        SettingsCommand::List => {
            for (spec, value) in settings::list(&control).await.map_err(plain)? {
                let marker = if value == spec.default { "" } else { " (changed)" };
                println!("{:<26} {:<10} {}{marker}", spec.key, value, spec.description);
            }
        }
        SettingsCommand::Set { key, value } => {
            let actor = Actor::CommandLine { uid: current_uid() };
            let change = Change { field: "value", key: &key, value: &value };
            match settings::change(&control, &actor, &[change]).await.map_err(plain)?.pop() {
                Some((key, value)) => println!("{key} = {value}"),
                None => println!("{key} is already {}", value.trim()),
            }
        }
    }
    db.close().await;
    Ok(())
}
