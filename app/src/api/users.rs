//! Local SMB users (who may connect to shares) and the lockout policy that protects them, with
//! the `edgeshare user` and `edgeshare settings` command lines that do the same. Console
//! accounts are separate (`api::accounts`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
use crate::model::shell_word;

/// As `backend::smb::MIN_SMB_PASSWORD_CHARS`, which the browser cannot see.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// An SMB user as the Users page shows it: never its password or hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub name: String,
    pub enabled: bool,
    /// Locked out now, as the running engine or the database says.
    pub locked_out: bool,
    /// RFC 3339, UTC, when the lockout is known to end.
    pub locked_until: Option<String>,
    pub created_at: String,
    pub password_changed_at: String,
}

/// The account lockout policy (settings `lockout_threshold`, `lockout_window_seconds`,
/// `lockout_duration_seconds`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicyView {
    /// Failed sign-ins that lock an account; 0: never.
    pub threshold: String,
    pub window_seconds: String,
    pub duration_seconds: String,
}

/// The policy's form fields with the setting each one stores.
pub const POLICY_FIELDS: [(&str, &str); 3] = [
    ("threshold", "lockout_threshold"),
    ("window_seconds", "lockout_window_seconds"),
    ("duration_seconds", "lockout_duration_seconds"),
];

pub fn user_command(action: &str, name: &str) -> String {
    format!("edgeshare user {action} {}", shell_word(name))
}

/// Passwords go through standard input so that they stay out of shell history and `ps`.
pub fn password_command(action: &str, name: &str) -> String {
    format!("edgeshare user {action} {} --password-stdin", shell_word(name))
}

pub fn setting_command(key: &str, value: &str) -> String {
    format!("edgeshare settings set {key} {}", shell_word(value.trim()))
}

#[server(endpoint = "list_smb_users")]
pub async fn list_smb_users() -> Result<Vec<UserSummary>, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{rfc3339, session, smb, state};
        let state = state()?;
        session::require_signed_in().await?;
        Ok(smb::list_users(&state.db)
            .await?
            .into_iter()
            .map(|user| UserSummary {
                // The engine knows a lockout before the database stores it.
                locked_out: user.locked_until.is_some() || state.engine.is_locked_out(&user.name),
                locked_until: user.locked_until.map(rfc3339),
                name: user.name,
                enabled: user.enabled,
                created_at: rfc3339(user.created_at),
                password_changed_at: rfc3339(user.password_changed_at),
            })
            .collect())
    })
    .await
}

#[cfg(feature = "ssr")]
fn check_confirmation(password: &str, confirm: &str) -> crate::error::AppResult<()> {
    crate::backend::smb::check_smb_password(password)?;
    if password != confirm {
        return Err(AppError::invalid("confirm", "The two passwords differ."));
    }
    Ok(())
}

/// Creates an SMB user; returns its name as stored.
#[server(endpoint = "create_smb_user")]
pub async fn create_smb_user(name: String, password: String, confirm: String) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let name = smb::check_user_name(&name)?.to_owned();
        check_confirmation(&password, &confirm)?;
        let name = smb::add_user(&state.db, &name, &password).await?;
        state.apply_configuration().await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::UserCreate, &name).source(&session::client_address().await),
        )
        .await;
        Ok(name)
    })
    .await
}

#[server(endpoint = "set_smb_user_password")]
pub async fn set_smb_user_password(name: String, password: String, confirm: String) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        check_confirmation(&password, &confirm)?;
        let name = smb::set_user_password(&state.db, &name, &password).await?;
        state.apply_configuration().await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::UserPassword, &name)
                .detail("new sessions need the new password; signed-in sessions stay")
                .source(&session::client_address().await),
        )
        .await;
        Ok(name)
    })
    .await
}

/// Returns the name as stored, and whether it is enabled now.
#[server(endpoint = "set_smb_user_enabled")]
pub async fn set_smb_user_enabled(name: String, enabled: bool) -> Result<(String, bool), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let name = smb::set_user_enabled(&state.db, &name, enabled).await?;
        state.apply_configuration().await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::UserEnable, &name)
                .detail(if enabled { "enabled" } else { "disabled" })
                .source(&session::client_address().await),
        )
        .await;
        Ok((name, enabled))
    })
    .await
}

/// Removes an SMB user and its share permissions; returns the name as it was stored.
#[server(endpoint = "remove_smb_user")]
pub async fn remove_smb_user(name: String) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let name = smb::remove_user(&state.db, &name).await?;
        state.apply_configuration().await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::UserRemove, &name)
                .detail("its share permissions were removed too")
                .source(&session::client_address().await),
        )
        .await;
        Ok(name)
    })
    .await
}

/// Ends a lockout now, in the database (as `edgeshare user unlock` does) and in the running
/// engine, so the next sign-in works without waiting for the engine to reread its configuration.
#[server(endpoint = "unlock_smb_user")]
pub async fn unlock_smb_user(name: String) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let user = smb::find_user(&state.db, &name).await?;
        smb::set_user_locked_until(&state.db, &user.name, None).await?;
        state.engine.unlock_user(&user.name);
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::UserUnlock, &user.name).source(&session::client_address().await),
        )
        .await;
        Ok(user.name)
    })
    .await
}

#[server(endpoint = "get_lockout_policy")]
pub async fn get_lockout_policy() -> Result<LockoutPolicyView, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{session, smb, state};
        let state = state()?;
        session::require_signed_in().await?;
        let settings = smb::list_settings(&state.db).await?;
        let value = |key: &str| {
            settings.iter().find(|(spec, _)| spec.key == key).map(|(_, value)| value.clone()).unwrap_or_default()
        };
        Ok(LockoutPolicyView {
            threshold: value("lockout_threshold"),
            window_seconds: value("lockout_window_seconds"),
            duration_seconds: value("lockout_duration_seconds"),
        })
    })
    .await
}

/// Checks all three values before storing any; each change is audited with its old value.
/// Returns the settings that changed, as `(key, value)`.
#[server(endpoint = "set_lockout_policy")]
pub async fn set_lockout_policy(
    threshold: String,
    window_seconds: String,
    duration_seconds: String,
) -> Result<Vec<(String, String)>, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let mut checked = Vec::new();
        for ((field, key), value) in POLICY_FIELDS.into_iter().zip([&threshold, &window_seconds, &duration_seconds]) {
            let spec = smb::setting_spec(key)?;
            // The setting's own check names its field `value`; here each has its own input.
            let value = smb::check_setting(spec, value).map_err(|error| match error {
                AppError::Invalid { message, .. } => AppError::invalid(field, message),
                other => other,
            })?;
            checked.push((spec, value));
        }
        let source = session::client_address().await;
        let mut changed = Vec::new();
        for (spec, value) in checked {
            let before = smb::setting(&state.db, spec.key).await?;
            if before.as_deref().unwrap_or(spec.default) == value {
                continue;
            }
            let value = smb::change_setting(&state.db, spec.key, &value).await?;
            audit::record(
                &state.db,
                audit::Entry::success(&actor.name, Action::SettingsChange, spec.key)
                    .detail(format!("{} -> {value}", before.as_deref().unwrap_or("default")))
                    .source(&source),
            )
            .await;
            changed.push((spec.key.to_owned(), value));
        }
        if !changed.is_empty() {
            state.apply_configuration().await?;
        }
        Ok(changed)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_names_and_keep_passwords_off_the_command_line() {
        assert_eq!(user_command("unlock", "bob"), "edgeshare user unlock bob");
        assert_eq!(user_command("remove", "Sales Bot"), "edgeshare user remove 'Sales Bot'");
        assert_eq!(password_command("add", "alice"), "edgeshare user add alice --password-stdin");
        assert_eq!(setting_command("lockout_threshold", " 3 "), "edgeshare settings set lockout_threshold 3");
    }
}
