//! Console accounts (who may use this console, and with which role). SMB users are separate.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::auth::Role;
use crate::error::{AppError, AppResult};
#[cfg(feature = "ssr")]
use crate::model::audit::Action;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub name: String,
    pub role: Role,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
}

/// Account names: letters, digits, `.`, `_` and `-`, starting with a letter or digit.
/// Compared without regard to case, like Windows account names.
pub fn check_account_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter an account name."));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid("name", format!("Use at most {MAX_NAME_CHARS} characters.")));
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid("name", "Start the name with a letter or a digit."));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(AppError::invalid(
            "name",
            format!("'{bad}' is not allowed: use letters, digits, '.', '_' and '-'."),
        ));
    }
    Ok(name)
}

/// Console passwords: at least ten characters, typed the same twice.
pub fn check_new_password(password: &str, confirm: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid("password", format!("Use at least {MIN_PASSWORD_CHARS} characters.")));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid("password", format!("Use at most {MAX_PASSWORD_BYTES} bytes.")));
    }
    if password.trim().is_empty() {
        return Err(AppError::invalid("password", "The password cannot be only spaces."));
    }
    if password != confirm {
        return Err(AppError::invalid("confirm", "The two passwords differ."));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_accept_windows_like_names() {
        assert_eq!(check_account_name("  alice.smith-2 ").unwrap(), "alice.smith-2");
    }

    #[test]
    fn account_names_refuse_empty_long_and_odd_characters() {
        for bad in ["", "   ", "-lead", "a b", "x/y", "élan", &"a".repeat(65)] {
            let error = check_account_name(bad).unwrap_err();
            assert!(error.for_field("name").is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords_must_be_long_enough_and_confirmed() {
        assert!(check_new_password("short", "short").unwrap_err().for_field("password").is_some());
        assert!(check_new_password("long enough pw", "other").unwrap_err().for_field("confirm").is_some());
        assert!(check_new_password("          ", "          ").is_err());
        check_new_password("long enough pw", "long enough pw").unwrap();
    }
}
