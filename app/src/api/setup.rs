//! The setup wizard: from a certificate to clients reading files over QUIC.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::setup::{SetupRequest, SetupSummary};

#[server(endpoint = "apply_setup")]
pub async fn apply_setup(request: SetupRequest) -> Result<SetupSummary, AppError> {
    super::as_admin(|control, actor| async move { crate::service::setup::apply(&control, &actor, &request).await })
        .await
}
