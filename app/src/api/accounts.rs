//! Console accounts (who may use this console, and with which role). SMB users are separate.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::accounts::AccountSummary;
#[cfg(feature = "ssr")]
use crate::service::{Control, NewPassword, accounts};

#[server(endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<Vec<AccountSummary>, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        accounts::list(&Control::console()?).await
    })
    .await
}

#[server(endpoint = "create_account")]
pub async fn create_account(name: String, role: String, password: String, confirm: String) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        accounts::create(&control, &actor, &name, &role, NewPassword::typed_twice(&password, &confirm)).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "remove_account")]
pub async fn remove_account(name: String) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        accounts::remove(&control, &actor, &name).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "set_account_role")]
pub async fn set_account_role(name: String, role: String) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        accounts::set_role(&control, &actor, &name, &role).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "reset_account_password")]
pub async fn reset_account_password(name: String, password: String, confirm: String) -> Result<(), AppError> {
    super::as_admin(|control, actor| async move {
        accounts::set_password(&control, &actor, &name, NewPassword::typed_twice(&password, &confirm)).await?;
        Ok(())
    })
    .await
}
