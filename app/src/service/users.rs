//! SMB users: list, create, re-key, enable or disable, unlock and remove them.

use crate::backend::{rfc3339, smb};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::users::UserSummary;
use crate::service::{Actor, Control, NewPassword};

fn check_password(password: NewPassword<'_>) -> AppResult<()> {
    smb::check_smb_password(password.password)?;
    if password.confirmation() != password.password {
        return Err(AppError::invalid("confirm", "The two passwords differ."));
    }
    Ok(())
}

pub async fn list(control: &Control) -> AppResult<Vec<UserSummary>> {
    Ok(smb::list_users(&control.db)
        .await?
        .into_iter()
        .map(|user| UserSummary {
            // The engine knows a lockout before the database stores it.
            locked_out: user.locked_until.is_some() || control.engine().is_some_and(|e| e.is_locked_out(&user.name)),
            locked_until: user.locked_until.map(rfc3339),
            name: user.name,
            enabled: user.enabled,
            created_at: rfc3339(user.created_at),
            password_changed_at: rfc3339(user.password_changed_at),
        })
        .collect())
}

/// Creates an SMB user; returns its name as stored.
pub async fn create(control: &Control, actor: &Actor, name: &str, password: NewPassword<'_>) -> AppResult<String> {
    let name = smb::check_user_name(name)?.to_owned();
    check_password(password)?;
    let name = smb::add_user(&control.db, &name, password.password).await?;
    control.apply().await?;
    control.audit(actor.did(Action::UserCreate, &name)).await;
    Ok(name)
}

/// Gives a user a new password; sessions already signed in stay. Returns the name as stored.
pub async fn set_password(
    control: &Control,
    actor: &Actor,
    name: &str,
    password: NewPassword<'_>,
) -> AppResult<String> {
    check_password(password)?;
    let name = smb::set_user_password(&control.db, name, password.password).await?;
    control.apply().await?;
    control
        .audit(
            actor
                .did(Action::UserPassword, &name)
                .detail("new sessions need the new password; signed-in sessions stay"),
        )
        .await;
    Ok(name)
}

/// Enables or disables a user; returns the name as stored.
pub async fn set_enabled(control: &Control, actor: &Actor, name: &str, enabled: bool) -> AppResult<String> {
    let name = smb::set_user_enabled(&control.db, name, enabled).await?;
    control.apply().await?;
    control.audit(actor.did(Action::UserEnable, &name).detail(if enabled { "enabled" } else { "disabled" })).await;
    Ok(name)
}

/// Removes a user and its share permissions; returns the name as it was stored.
pub async fn remove(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    let name = smb::remove_user(&control.db, name).await?;
    control.apply().await?;
    control.audit(actor.did(Action::UserRemove, &name).detail("its share permissions were removed too")).await;
    Ok(name)
}

/// Ends a lockout now: in the database, and in this process's engine, so that the next sign-in
/// works without waiting for the engine to reread its configuration. Returns the name as stored.
pub async fn unlock(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    let user = smb::find_user(&control.db, name).await?;
    smb::set_user_locked_until(&control.db, &user.name, None).await?;
    if let Some(engine) = control.engine() {
        engine.unlock_user(&user.name);
    }
    control.audit(actor.did(Action::UserUnlock, &user.name)).await;
    Ok(user.name)
}
