//! Local SMB users (who may connect to shares) and the lockout policy that protects them, with
//! the `edgeshare user` and `edgeshare settings` command lines that do the same. Console
//! accounts are separate (`api::accounts`).

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
#[cfg(feature = "ssr")]
use crate::model::users::POLICY_FIELDS;
use crate::model::users::{LockoutPolicyView, UserSummary};

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
