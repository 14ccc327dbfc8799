//! The setup wizard: from a certificate to clients reading files over QUIC.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::setup::{SetupRequest, SetupSummary};

#[server(endpoint = "apply_setup")]
pub async fn apply_setup(request: SetupRequest) -> Result<SetupSummary, AppError> {
    crate::backend::respond(async move {
        use crate::service::{Actor, Control};
        let actor = Actor::console_admin().await?;
        crate::service::setup::apply(&Control::console()?, &actor, &request).await
    })
    .await
}
