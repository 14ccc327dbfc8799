//! The audit log: every administrative action and security event, newest first.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::audit::{AuditFilter, AuditPage};

#[server(endpoint = "list_audit")]
pub async fn list_audit(filter: AuditFilter, page: u32) -> Result<AuditPage, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, state};
        session::require_signed_in().await?;
        audit::list(&state()?.db, &filter, page.max(1)).await
    })
    .await
}
