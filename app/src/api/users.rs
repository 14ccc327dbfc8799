//! Local SMB users (who may connect to shares) and the lockout policy that protects them, with
//! the `edgeshare user` and `edgeshare settings` command lines that do the same. Console
//! accounts are separate (`api::accounts`).

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::users::POLICY_FIELDS;
use crate::model::users::{LockoutPolicyView, UserSummary};
#[cfg(feature = "ssr")]
use crate::service::{Control, NewPassword};

#[server(endpoint = "list_smb_users")]
pub async fn list_smb_users() -> Result<Vec<UserSummary>, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        crate::service::users::list(&Control::console()?).await
    })
    .await
}

/// Creates an SMB user; returns its name as stored.
#[server(endpoint = "create_smb_user")]
pub async fn create_smb_user(name: String, password: String, confirm: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move {
        crate::service::users::create(&control, &actor, &name, NewPassword::typed_twice(&password, &confirm)).await
    })
    .await
}

#[server(endpoint = "set_smb_user_password")]
pub async fn set_smb_user_password(name: String, password: String, confirm: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move {
        crate::service::users::set_password(&control, &actor, &name, NewPassword::typed_twice(&password, &confirm))
            .await
    })
    .await
}

/// Returns the name as stored, and whether it is enabled now.
#[server(endpoint = "set_smb_user_enabled")]
pub async fn set_smb_user_enabled(name: String, enabled: bool) -> Result<(String, bool), AppError> {
    super::as_admin(|control, actor| async move {
        let name = crate::service::users::set_enabled(&control, &actor, &name, enabled).await?;
        Ok((name, enabled))
    })
    .await
}

/// Removes an SMB user and its share permissions; returns the name as it was stored.
#[server(endpoint = "remove_smb_user")]
pub async fn remove_smb_user(name: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { crate::service::users::remove(&control, &actor, &name).await }).await
}

/// Ends a lockout now, in the database (as `edgeshare user unlock` does) and in the running
/// engine, so the next sign-in works without waiting for the engine to reread its configuration.
#[server(endpoint = "unlock_smb_user")]
pub async fn unlock_smb_user(name: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { crate::service::users::unlock(&control, &actor, &name).await }).await
}

#[server(endpoint = "get_lockout_policy")]
pub async fn get_lockout_policy() -> Result<LockoutPolicyView, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        let settings = crate::service::settings::list(&Control::console()?).await?;
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
    super::as_admin(|control, actor| async move {
        use crate::service::settings::{Change, change};
        let changes: Vec<Change<'_>> = POLICY_FIELDS
            .into_iter()
            .zip([&threshold, &window_seconds, &duration_seconds])
            .map(|((field, key), value)| Change { field, key, value })
            .collect();
        change(&control, &actor, &changes).await
    })
    .await
}
