//! The console session of the current request (tower-sessions, stored in the database).
//!
//! The session holds only the account id and the password epoch it was signed in under; the
//! account is read afresh on every request, so removals, role changes and password resets take
//! effect at once.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::backend::accounts::{self, Account};
use crate::backend::{AppState, state};
use crate::error::{AppError, AppResult};
use crate::model::auth::{ConsoleState, Role};

const SIGNED_IN: &str = "signed_in";

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SignedIn {
    account_id: i64,
    password_changed_at: i64,
}

fn session_error(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "console session store");
    AppError::Internal("session store".into())
}

async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>().await.map_err(session_error)
}

/// The signed-in account, if any and if still valid.
pub async fn current_account() -> AppResult<Option<Account>> {
    account_of(&state()?, &session().await?).await
}

/// The account `session` is signed in as, if it still may be.
async fn account_of(state: &AppState, session: &Session) -> AppResult<Option<Account>> {
    let Some(signed_in) = session.get::<SignedIn>(SIGNED_IN).await.map_err(session_error)? else {
        return Ok(None);
    };
    let account = accounts::find_by_id(&state.db, signed_in.account_id).await?;
    match account {
        Some(account) if account.password_changed_at == signed_in.password_changed_at => Ok(Some(account)),
        _ => {
            // Removed, or the password changed since: this session is over.
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// What every page needs first, for the request's session: whether setup is pending and who is
/// signed in. The server works it out before it renders a page, and the server functions that
/// sign in and out return it.
pub async fn console_state_of(state: &AppState, session: &Session) -> AppResult<ConsoleState> {
    let setup_needed = !accounts::any_exists(&state.db).await?;
    let viewer = account_of(state, session).await?.map(|account| account.viewer());
    Ok(ConsoleState {
        server_name: state.info.server_name.clone(),
        setup_needed,
        setup_token_required: setup_needed && state.setup_token.is_some(),
        viewer,
    })
}

/// [`console_state_of`] the current request.
pub async fn console_state() -> AppResult<ConsoleState> {
    console_state_of(&state()?, &session().await?).await
}

pub async fn require_signed_in() -> AppResult<Account> {
    current_account().await?.ok_or(AppError::Unauthenticated)
}

/// The signed-in account when it may change things; every mutating server function starts here.
pub async fn require_admin() -> AppResult<Account> {
    let account = require_signed_in().await?;
    if account.role != Role::Admin {
        return Err(AppError::Forbidden { role: account.role.to_string() });
    }
    Ok(account)
}

/// Starts a signed-in session under a fresh id (no session fixation).
pub async fn sign_in(account: &Account) -> AppResult<()> {
    let session = session().await?;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SIGNED_IN, SignedIn { account_id: account.id, password_changed_at: account.password_changed_at })
        .await
        .map_err(session_error)
}

pub async fn sign_out() -> AppResult<()> {
    session().await?.flush().await.map_err(session_error)
}

/// The client's address, for the audit log and the sign-in throttle.
pub async fn client_address() -> String {
    match leptos_axum::extract::<ConnectInfo<SocketAddr>>().await {
        Ok(ConnectInfo(address)) => address.ip().to_string(),
        Err(_) => "unknown".to_owned(),
    }
}
