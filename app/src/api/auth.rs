//! Console sign-in: the first administrator, sign in, sign out, and who is looking.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::auth::ConsoleState;

#[server(endpoint = "console_state")]
pub async fn get_console_state() -> Result<ConsoleState, AppError> {
    crate::backend::respond(crate::backend::session::console_state()).await
}

/// Creates the first administrator; refused as soon as any console account exists. On a console
/// that listens beyond loopback, `token` must be the setup token the server printed at start.
#[server(endpoint = "create_first_admin")]
pub async fn create_first_admin(
    name: String,
    password: String,
    confirm: String,
    token: Option<String>,
) -> Result<ConsoleState, AppError> {
    crate::backend::respond(crate::service::auth::first_admin(&name, &password, &confirm, token)).await
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(name: String, password: String) -> Result<ConsoleState, AppError> {
    crate::backend::respond(crate::service::auth::sign_in(&name, &password)).await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<ConsoleState, AppError> {
    crate::backend::respond(crate::service::auth::sign_out()).await
}
