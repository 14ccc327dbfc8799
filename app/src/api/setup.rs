//! The setup wizard: from a certificate to clients reading files over QUIC.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::audit::Action;
use crate::model::setup::{SetupRequest, SetupSummary};

#[server(endpoint = "apply_setup")]
pub async fn apply_setup(request: SetupRequest) -> Result<SetupSummary, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let summary = crate::backend::setup::apply(&state, &request).await?;
        let detail = format!(
            "names {}, share {} for {}, listening on UDP {}",
            summary.names.join(", "),
            summary.share,
            summary.user,
            summary.listening
        );
        let entry = audit::Entry::success(&actor.name, Action::QuicSetup, &summary.names.join(", ")).detail(detail);
        audit::record(&state.db, entry.source(&session::client_address().await)).await;
        Ok(summary)
    })
    .await
}
