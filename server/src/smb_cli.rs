//! `edgeshare user ...` and `edgeshare share ...`: SMB users and shares from the command line.
//! A running server picks the changes up within a second (it watches the configuration version).

use std::path::Path;

use app::backend::{audit, smb};
use app::error::AppError;
use app::model::audit::Action;
use app::model::shares::{AccessLevel, EVERYONE, Permission, ShareEdit, ShareForm};
use app::service::{self, Actor, Control};
use smb_core::same_name;

use crate::admin::{current_uid, read_password};
use crate::config::{Grants, SettingsCommand, ShareCommand, UserCommand};

const ACTOR: &str = "command line";

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

pub async fn users(data_dir: &Path, command: UserCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let source = format!("command line (uid {})", current_uid());
    let record = |action: Action, target: String, detail: String| {
        let db = db.clone();
        let source = source.clone();
        async move { audit::record(&db, audit::Entry::success(ACTOR, action, &target).detail(detail).source(&source)).await }
    };
    match command {
        UserCommand::Add { name, password_stdin: _ } => {
            let name = smb::check_user_name(&name).map_err(plain)?.to_owned();
            let password = read_password()?;
            let name = smb::add_user(&db, &name, &password).await.map_err(plain)?;
            record(Action::UserCreate, name.clone(), String::new()).await;
            println!("created SMB user '{name}'");
        }
        UserCommand::List => {
            for user in smb::list_users(&db).await.map_err(plain)? {
                let state = match (user.enabled, user.locked_until) {
                    (false, _) => "disabled".to_owned(),
                    (true, Some(until)) => format!("locked out until {}", app::backend::rfc3339(until)),
                    (true, None) => "enabled".to_owned(),
                };
                println!("{:<20} {state}", user.name);
            }
        }
        UserCommand::SetPassword { name, password_stdin: _ } => {
            let password = read_password()?;
            let name = smb::set_user_password(&db, &name, &password).await.map_err(plain)?;
            record(Action::UserPassword, name.clone(), String::new()).await;
            println!("changed the password of '{name}'");
        }
        UserCommand::Remove { name } => {
            let name = smb::remove_user(&db, &name).await.map_err(plain)?;
            record(Action::UserRemove, name.clone(), String::new()).await;
            println!("removed SMB user '{name}'");
        }
        UserCommand::Enable { name } => {
            let name = smb::set_user_enabled(&db, &name, true).await.map_err(plain)?;
            record(Action::UserEnable, name.clone(), "enabled".into()).await;
            println!("enabled '{name}'");
        }
        UserCommand::Disable { name } => {
            let name = smb::set_user_enabled(&db, &name, false).await.map_err(plain)?;
            record(Action::UserEnable, name.clone(), "disabled".into()).await;
            println!("disabled '{name}'");
        }
        UserCommand::Unlock { name } => {
            smb::set_user_locked_until(&db, &name, None).await.map_err(plain)?;
            record(Action::UserUnlock, name.trim().to_owned(), String::new()).await;
            println!("unlocked '{}'", name.trim());
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
        ShareCommand::Add { name, path, grants: given, encrypt, access_based_enumeration, max_users, description } => {
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
    let (db, _) = crate::db::open(data_dir).await?;
    match command {
        SettingsCommand::List => {
            for (spec, value) in smb::list_settings(&db).await.map_err(plain)? {
                let marker = if value == spec.default { "" } else { " (changed)" };
                println!("{:<26} {:<10} {}{marker}", spec.key, value, spec.description);
            }
        }
        SettingsCommand::Set { key, value } => {
            let before = smb::setting(&db, &key).await.map_err(plain)?;
            let value = smb::change_setting(&db, &key, &value).await.map_err(plain)?;
            let detail = format!("{} -> {value}", before.as_deref().unwrap_or("default"));
            let source = format!("command line (uid {})", current_uid());
            audit::record(
                &db,
                audit::Entry::success(ACTOR, Action::SettingsChange, &key).detail(detail).source(&source),
            )
            .await;
            println!("{key} = {value}");
        }
    }
    db.close().await;
    Ok(())
}
