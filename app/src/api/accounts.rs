//! Console accounts (who may use this console, and with which role). SMB users are separate.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::accounts::AccountSummary;
#[cfg(feature = "ssr")]
use crate::model::accounts::check_new_password;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
#[cfg(feature = "ssr")]
use crate::model::auth::Role;

#[server(endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<Vec<AccountSummary>, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{accounts, session, state};
        session::require_signed_in().await?;
        accounts::list(&state()?.db).await
    })
    .await
}

#[server(endpoint = "create_account")]
pub async fn create_account(name: String, role: String, password: String, confirm: String) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{accounts, audit, session, state};
        let actor = session::require_admin().await?;
        let state = state()?;
        let role: Role = role.parse()?;
        check_new_password(&password, &confirm)?;
        let account = accounts::create(&state.db, &name, role, &password).await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::AccountCreate, &account.name)
                .detail(format!("role {role}"))
                .source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}

#[server(endpoint = "remove_account")]
pub async fn remove_account(name: String) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{accounts, audit, session, state};
        let actor = session::require_admin().await?;
        let state = state()?;
        if actor.name.eq_ignore_ascii_case(name.trim()) {
            return Err(AppError::Conflict(
                "You cannot remove the account you are signed in with. Ask another administrator.".into(),
            ));
        }
        let removed = accounts::remove(&state.db, &name).await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::AccountRemove, &removed.name)
                .detail(format!("role was {}", removed.role))
                .source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}

#[server(endpoint = "set_account_role")]
pub async fn set_account_role(name: String, role: String) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{accounts, audit, session, state};
        let actor = session::require_admin().await?;
        let state = state()?;
        let role: Role = role.parse()?;
        let (account, previous) = accounts::set_role(&state.db, &name, role).await?;
        if previous != role {
            audit::record(
                &state.db,
                audit::Entry::success(&actor.name, Action::AccountRole, &account.name)
                    .detail(format!("{previous} -> {role}"))
                    .source(&session::client_address().await),
            )
            .await;
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "reset_account_password")]
pub async fn reset_account_password(name: String, password: String, confirm: String) -> Result<(), AppError> {
    crate::backend::respond(async move {
        use crate::backend::{accounts, audit, session, state};
        let actor = session::require_admin().await?;
        let state = state()?;
        check_new_password(&password, &confirm)?;
        let account = accounts::set_password(&state.db, &name, &password).await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, Action::AccountPassword, &account.name)
                .detail("password changed; the account's open console sessions ended")
                .source(&session::client_address().await),
        )
        .await;
        Ok(())
    })
    .await
}
