//! Signing in to the console, out of it, and creating its first administrator. These act on the
//! console request's session (they are the console's alone; the command line has `edgeshare
//! admin`).

use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::auth::ConsoleState;

/// Creates the first administrator and signs the request in as it; refused as soon as any
/// console account exists. On a console that listens beyond loopback, `token` must be the setup
/// token the server printed at start.
pub async fn first_admin(name: &str, password: &str, confirm: &str, token: Option<String>) -> AppResult<ConsoleState> {
    use crate::backend::{accounts, audit, session, state};
    let state = state()?;
    let source = session::client_address().await;
    if accounts::any_exists(&state.db).await? {
        return Err(AppError::Conflict(
            "An administrator already exists. Sign in, or ask an administrator for an account.".into(),
        ));
    }
    if let Some(expected) = &state.setup_token {
        let token = token.unwrap_or_default();
        if token.trim().is_empty() {
            return Err(AppError::invalid("token", "Enter the setup token from the server's log."));
        }
        if !expected.matches(&token) {
            tracing::warn!(%source, "console: first administrator refused: wrong setup token");
            return Err(AppError::invalid(
                "token",
                "This is not the setup token. Copy it from the line \"Setup token: ...\" that the server \
                 printed when it started.",
            ));
        }
    }
    crate::model::accounts::check_new_password(password, confirm)?;
    let account = accounts::create_first_admin(&state.db, name, password).await?;
    audit::record(
        &state.db,
        audit::Entry::success(&account.name, Action::AccountCreate, &account.name)
            .detail("first administrator, created from the setup page")
            .source(&source),
    )
    .await;
    session::sign_in(&account).await?;
    session::console_state().await
}

/// Signs the request in, through the sign-in throttle; every attempt is audited.
pub async fn sign_in(name: &str, password: &str) -> AppResult<ConsoleState> {
    use crate::backend::{accounts, audit, passwords, session, state, throttle};
    let state = state()?;
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter your account name."));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    let source = session::client_address().await;
    let keys = throttle::keys(&name, &source);
    let db = &state.db;
    let throttled = |retry_after_seconds: u64| {
        let entry = audit::Entry::failure(&name, Action::ConsoleSignIn, &name)
            .detail(format!("refused: throttled for {retry_after_seconds} more seconds"))
            .source(&source);
        async move {
            audit::record(db, entry).await;
            Err(AppError::Throttled { retry_after_seconds })
        }
    };
    // Refused at once while blocked, without waiting for a turn at argon2.
    if let Some(retry_after_seconds) = throttle::blocked_for(&state.db, &keys).await? {
        return throttled(retry_after_seconds).await;
    }
    // The turn first, so that an attempt the server has no room to check does not count; then
    // the attempt is counted before its password is checked, so that parallel attempts cannot
    // all pass the throttle before any of them has failed.
    let turn = passwords::turn().await?;
    if let Some(retry_after_seconds) = throttle::reserve(&state.db, &keys).await? {
        return throttled(retry_after_seconds).await;
    }
    match accounts::verify(&state.db, turn, &name, password).await? {
        Some(account) => {
            throttle::clear(&state.db, &keys).await?;
            accounts::touch_sign_in(&state.db, account.id).await?;
            audit::record(
                &state.db,
                audit::Entry::success(&account.name, Action::ConsoleSignIn, &account.name).source(&source),
            )
            .await;
            session::sign_in(&account).await?;
            session::console_state().await
        }
        None => {
            audit::record(
                &state.db,
                audit::Entry::failure(&name, Action::ConsoleSignIn, &name)
                    .detail("wrong account name or password")
                    .source(&source),
            )
            .await;
            Err(AppError::invalid("password", "The account name or password is wrong."))
        }
    }
}

/// Ends the request's session.
pub async fn sign_out() -> AppResult<ConsoleState> {
    use crate::backend::{audit, session, state};
    let state = state()?;
    if let Some(account) = session::current_account().await? {
        let source = session::client_address().await;
        audit::record(
            &state.db,
            audit::Entry::success(&account.name, Action::ConsoleSignOut, &account.name).source(&source),
        )
        .await;
    }
    session::sign_out().await?;
    session::console_state().await
}
