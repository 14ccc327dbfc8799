//! The SMB engine inside the server: built from the database, kept in step with it, and its
//! events written to the audit log.

use std::time::Duration;

use app::backend::{audit, smb};
use smb_core::{EngineHandle, Event};
use sqlx::SqlitePool;
use tokio::task::JoinHandle;

/// Builds the engine from the stored configuration.
pub async fn start(db: &SqlitePool, server_name: &str) -> anyhow::Result<EngineHandle> {
    let config = smb::engine_config(db, server_name)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the SMB configuration: {e}"))?;
    Ok(EngineHandle::new(config))
}

/// Re-applies the configuration whenever its version changes (a console action or the command
/// line in another process), within a second.
pub fn watch_config(db: SqlitePool, engine: EngineHandle, server_name: String) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = smb::config_version(&db).await.unwrap_or(0);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            ticker.tick().await;
            // SMB over QUIC enabled but not listening (its port was taken): try again.
            if engine.quic_error().is_some() {
                engine.start();
            }
            let Ok(version) = smb::config_version(&db).await else { continue };
            if version == seen {
                continue;
            }
            match smb::engine_config(&db, &server_name).await {
                Ok(config) => {
                    engine.apply(config);
                    seen = version;
                    tracing::info!(version, "applied the changed SMB configuration");
                }
                Err(error) => tracing::error!(%error, "cannot read the changed SMB configuration"),
            }
        }
    })
}

/// Writes engine events to the audit log; a lockout is also stored with the user.
pub fn record_events(db: SqlitePool, engine: &EngineHandle) -> JoinHandle<()> {
    let mut events = engine.subscribe();
    let engine = engine.clone();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the audit log fell behind the engine's events");
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if let Some(entry) = entry_for(&event) {
                audit::record(&db, entry).await;
            }
            if let Event::AccountLockedOut { user, until, .. } = &event {
                match smb::set_user_locked_until(&db, user, Some(*until)).await {
                    Ok(_) => engine.shared().lockout_saved(user, *until),
                    Err(error) => tracing::error!(%error, %user, "cannot store a lockout"),
                }
            }
        }
    })
}

/// The audit entry an engine event becomes.
pub fn entry_for(event: &Event) -> Option<audit::Entry> {
    Some(match event {
        Event::Connected { client, transport, .. } => audit::Entry::success("-", "smb.connect", &client.to_string())
            .detail(format!("over {}", transport.as_str()))
            .source(&client.ip().to_string()),
        Event::Disconnected { client, transport, .. } => {
            audit::Entry::success("-", "smb.disconnect", &client.to_string())
                .detail(format!("over {}", transport.as_str()))
                .source(&client.ip().to_string())
        }
        Event::LogonSucceeded { client, user, dialect, signing, encryption, .. } => {
            audit::Entry::success(user, "smb.logon", user)
                .detail(format!("SMB {dialect}, signing {signing}, encryption {encryption}"))
                .source(&client.ip().to_string())
        }
        Event::LogonFailed { client, user, reason, status, .. } => {
            let name = user.as_deref().unwrap_or("(unknown)");
            audit::Entry::failure(name, "smb.logon", name)
                .detail(format!("{reason} ({status})"))
                .source(&client.ip().to_string())
        }
        Event::AccountLockedOut { user, until, failures } => audit::Entry::failure(user, "smb.lockout", user)
            .detail(format!("{failures} failed sign-ins; locked until {}", app::backend::rfc3339(*until)))
            .source("engine"),
        Event::TreeConnected { client, user, share, .. } => {
            audit::Entry::success(user, "smb.tree_connect", share).source(&client.ip().to_string())
        }
        Event::TreeConnectDenied { client, user, share, reason, .. } => {
            audit::Entry::failure(user, "smb.tree_connect", share)
                .detail(reason.clone())
                .source(&client.ip().to_string())
        }
        Event::QuicAccepted { client, server_name, mapping, thumbprint, client_certificate } => {
            let mut detail = format!("mapping {mapping}, certificate {thumbprint}");
            if !client_certificate.is_empty() {
                detail.push_str("; ");
                detail.push_str(client_certificate);
            }
            audit::Entry::success("-", "quic.connect", server_name.as_deref().unwrap_or("(no server name)"))
                .detail(detail)
                .source(&client.to_string())
        }
        Event::QuicRefused { client, server_name, reason } => {
            audit::Entry::failure("-", "quic.connect", server_name.as_deref().unwrap_or("(no server name)"))
                .detail(reason.clone())
                .source(&client.to_string())
        }
        Event::ClosedByAdministrator { .. } => return None,
    })
}
