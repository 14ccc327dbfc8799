//! Console accounts: list, create, remove, change role and reset the password of one.

use smb_core::same_name;

use crate::backend::accounts;
use crate::error::{AppError, AppResult};
use crate::model::accounts::{AccountSummary, check_account_name, check_new_password};
use crate::model::audit::Action;
use crate::model::auth::Role;
use crate::service::{Actor, Control, NewPassword};

pub async fn list(control: &Control) -> AppResult<Vec<AccountSummary>> {
    accounts::list(&control.db).await
}

/// Creates an account with `role` (`admin` or `reader`). Returns the name as stored and the role.
pub async fn create(
    control: &Control,
    actor: &Actor,
    name: &str,
    role: &str,
    password: NewPassword<'_>,
) -> AppResult<(String, Role)> {
    let role: Role = role.parse()?;
    let name = check_account_name(name)?;
    check_new_password(password.password, password.confirmation())?;
    let account = accounts::create(&control.db, name, role, password.password).await?;
    control.audit(actor.did(Action::AccountCreate, &account.name).detail(format!("role {role}"))).await;
    Ok((account.name, role))
}

/// Removes an account; never the one the console request comes from (another administrator
/// must), nor the last administrator. Returns the name as it was stored.
pub async fn remove(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    if let Actor::Console { account, .. } = actor
        && same_name(account, name.trim())
    {
        return Err(AppError::Conflict(
            "You cannot remove the account you are signed in with. Ask another administrator.".into(),
        ));
    }
    let removed = accounts::remove(&control.db, name).await?;
    control.audit(actor.did(Action::AccountRemove, &removed.name).detail(format!("role was {}", removed.role))).await;
    Ok(removed.name)
}

/// Gives an account `role`; audited when it changes. Returns the name as stored and the role.
pub async fn set_role(control: &Control, actor: &Actor, name: &str, role: &str) -> AppResult<(String, Role)> {
    let role: Role = role.parse()?;
    let (account, previous) = accounts::set_role(&control.db, name, role).await?;
    if previous != role {
        control.audit(actor.did(Action::AccountRole, &account.name).detail(format!("{previous} -> {role}"))).await;
    }
    Ok((account.name, role))
}

/// Sets a new password; the account's open console sessions end. Returns the name as stored.
pub async fn set_password(
    control: &Control,
    actor: &Actor,
    name: &str,
    password: NewPassword<'_>,
) -> AppResult<String> {
    check_new_password(password.password, password.confirmation())?;
    let account = accounts::set_password(&control.db, name, password.password).await?;
    control
        .audit(
            actor
                .did(Action::AccountPassword, &account.name)
                .detail("password changed; the account's open console sessions ended"),
        )
        .await;
    Ok(account.name)
}
