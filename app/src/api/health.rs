//! The health report of the certificate and SMB over QUIC configuration: one list of checks, each
//! with its verdict, the reason and how to fix it. The same report is served as JSON at
//! `/api/health` for monitoring.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::health::{BudgetSetting, HealthReport};

#[server(endpoint = "get_health")]
pub async fn get_health() -> Result<HealthReport, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{health, session, state};
        let state = state()?;
        session::require_signed_in().await?;
        health::collect(&state).await
    })
    .await
}

/// The resource budget's settings, with their defaults and meaning.
#[server(endpoint = "list_budget_settings")]
pub async fn list_budget_settings() -> Result<Vec<BudgetSetting>, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        crate::service::settings::budget(&crate::service::Control::console()?).await
    })
    .await
}
