//! `edgeshare user ...` and `edgeshare share ...`: SMB users and shares from the command line.
//! A running server picks the changes up within a second (it watches the configuration version).

use std::path::Path;

use app::backend::{audit, smb};
use app::error::AppError;
use smb_core::{Access, EVERYONE, ShareConfig, same_name};

use crate::admin::{current_uid, read_password};
use crate::config::{SettingsCommand, ShareCommand, UserCommand};

const ACTOR: &str = "command line";

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

pub async fn users(data_dir: &Path, command: UserCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let source = format!("command line (uid {})", current_uid());
    let record = |action: &'static str, target: String, detail: String| {
        let db = db.clone();
        let source = source.clone();
        async move { audit::record(&db, audit::Entry::success(ACTOR, action, &target).detail(detail).source(&source)).await }
    };
    match command {
        UserCommand::Add { name, password_stdin: _ } => {
            let name = smb::check_user_name(&name).map_err(plain)?.to_owned();
            let password = read_password()?;
            let name = smb::add_user(&db, &name, &password).await.map_err(plain)?;
            record("smb.user.create", name.clone(), String::new()).await;
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
            record("smb.user.password", name.clone(), String::new()).await;
            println!("changed the password of '{name}'");
        }
        UserCommand::Remove { name } => {
            let name = smb::remove_user(&db, &name).await.map_err(plain)?;
            record("smb.user.remove", name.clone(), String::new()).await;
            println!("removed SMB user '{name}'");
        }
        UserCommand::Enable { name } => {
            let name = smb::set_user_enabled(&db, &name, true).await.map_err(plain)?;
            record("smb.user.enable", name.clone(), "enabled".into()).await;
            println!("enabled '{name}'");
        }
        UserCommand::Disable { name } => {
            let name = smb::set_user_enabled(&db, &name, false).await.map_err(plain)?;
            record("smb.user.enable", name.clone(), "disabled".into()).await;
            println!("disabled '{name}'");
        }
        UserCommand::Unlock { name } => {
            smb::set_user_locked_until(&db, &name, None).await.map_err(plain)?;
            record("smb.user.unlock", name.trim().to_owned(), String::new()).await;
            println!("unlocked '{}'", name.trim());
        }
    }
    db.close().await;
    Ok(())
}

pub async fn shares(data_dir: &Path, command: ShareCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let source = format!("command line (uid {})", current_uid());
    match command {
        ShareCommand::Add {
            name,
            path,
            full,
            change,
            read,
            deny,
            encrypt,
            access_based_enumeration,
            max_users,
            description,
        } => {
            let mut permissions: Vec<(String, Access)> = Vec::new();
            for (users, access) in
                [(full, Access::Full), (change, Access::Change), (read, Access::Read), (deny, Access::Deny)]
            {
                for user in users {
                    let user = if same_name(&user, EVERYONE) {
                        EVERYONE.to_owned()
                    } else {
                        smb::check_user_name(&user).map_err(plain)?.to_owned()
                    };
                    permissions.retain(|(u, _)| !same_name(u, &user));
                    permissions.push((user, access));
                }
            }
            if permissions.is_empty() {
                // As on Windows, a new share lets everyone read.
                permissions.push((EVERYONE.to_owned(), Access::Read));
            }
            let share = ShareConfig {
                name,
                path,
                description,
                permissions,
                encrypt_data: encrypt,
                access_based_enumeration,
                max_users,
            };
            smb::add_share(&db, &share).await.map_err(plain)?;
            let detail = describe(&share);
            audit::record(
                &db,
                audit::Entry::success(ACTOR, "smb.share.create", share.name.trim())
                    .detail(detail.clone())
                    .source(&source),
            )
            .await;
            println!("shared {} as '{}' ({detail})", share.path.display(), share.name.trim());
        }
        ShareCommand::List => {
            for share in smb::list_shares(&db).await.map_err(plain)? {
                println!("{:<20} {}  {}", share.config.name, share.config.path.display(), describe(&share.config));
            }
        }
        ShareCommand::Remove { name } => {
            let name = smb::remove_share(&db, &name).await.map_err(plain)?;
            audit::record(&db, audit::Entry::success(ACTOR, "smb.share.remove", &name).source(&source)).await;
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
                audit::Entry::success(ACTOR, "smb.settings.change", &key).detail(detail).source(&source),
            )
            .await;
            println!("{key} = {value}");
        }
    }
    db.close().await;
    Ok(())
}

/// Permissions and options in one line.
pub fn describe(share: &ShareConfig) -> String {
    let mut parts: Vec<String> =
        share.permissions.iter().map(|(user, access)| format!("{user}: {}", access.as_str())).collect();
    if share.encrypt_data {
        parts.push("encrypted".into());
    }
    if share.access_based_enumeration {
        parts.push("access-based enumeration".into());
    }
    if let Some(max) = share.max_users {
        parts.push(format!("at most {max} users"));
    }
    parts.join(", ")
}
