//! The SMB engine inside the server: built from the database, kept in step with it, and its
//! events written to the audit log.

use std::sync::Arc;
use std::time::Duration;

use app::backend::{audit, smb};
use app::model::audit::{Action, Outcome};
use smb_core::{EngineHandle, Event};
use sqlx::SqlitePool;
use tokio::task::JoinHandle;

/// Builds the engine from the stored configuration, with the journal of persistent opens:
/// those a previous run left (a restart, or a crash) are opened again and wait for their
/// clients; those that cannot be (their file or share is gone) are forgotten.
pub async fn start(db: &SqlitePool, server_name: &str) -> anyhow::Result<EngineHandle> {
    let config = smb::engine_config(db, server_name)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the SMB configuration: {e}"))?;
    let engine = EngineHandle::new(config);
    engine.shared().set_network_interfaces(crate::interfaces::read());
    let stored = smb::stored_opens(db).await.map_err(|e| anyhow::anyhow!("cannot read the persistent opens: {e}"))?;
    for (open, outcome) in engine.restore(stored) {
        match outcome {
            Ok(()) => tracing::info!(
                share = %open.share,
                path = %open.path,
                user = %open.user,
                locks = open.locks.len(),
                timeout_seconds = open.timeout_ms / 1000,
                "a persistent open waits for its client again"
            ),
            Err(reason) => {
                tracing::warn!(share = %open.share, path = %open.path, %reason, "a persistent open cannot be restored");
                smb::forget_open(db, open.persistent_id)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot forget a persistent open: {e}"))?;
            }
        }
    }
    engine.set_journal(Arc::new(smb::DatabaseJournal::new(db.clone())));
    Ok(engine)
}

/// Re-applies the configuration whenever its version changes (a console action or the command
/// line in another process), within a second.
pub fn watch_config(
    db: SqlitePool,
    engine: EngineHandle,
    server_name: String,
    kdc_proxy: Arc<crate::kdc_proxy::KdcProxy>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = smb::config_version(&db).await.unwrap_or(0);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            ticker.tick().await;
            // SMB over QUIC or the KDC proxy enabled but not listening (a port was taken):
            // try again.
            if engine.quic_error().is_some() {
                engine.start();
            }
            if kdc_proxy.failing() {
                kdc_proxy.reconcile().await;
            }
            let Ok(version) = smb::config_version(&db).await else { continue };
            if version == seen {
                continue;
            }
            match smb::engine_config(&db, &server_name).await {
                Ok(config) => {
                    engine.apply(config);
                    kdc_proxy.reconcile().await;
                    seen = version;
                    tracing::info!(version, "applied the changed SMB configuration");
                }
                Err(error) => tracing::error!(%error, "cannot read the changed SMB configuration"),
            }
        }
    })
}

/// Failures of clients that have not signed in (failed sign-ins, refused QUIC handshakes)
/// recorded one by one per action and minute; past that, counted and summarised in one event,
/// so that a flood of them cannot flood the audit log. The same holds for events one client
/// causes per open file (durable opens reclaimed or ended): a client can hold thousands.
const UNAUTHENTICATED_EVENTS_PER_MINUTE: u32 = 60;

/// How often the resource budget's refusals are summarised, and the log pruned.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

/// Per action: events recorded in this minute, and events left out.
#[derive(Default)]
struct Flood {
    recorded: std::collections::HashMap<Action, (u32, u64)>,
}

impl Flood {
    /// Whether to record this event one by one.
    fn admits(&mut self, entry: &audit::Entry) -> bool {
        let unauthenticated = entry.action == Action::SmbLogon || entry.actor == "-";
        let per_open = matches!(entry.action, Action::SmbDurableReclaim | Action::SmbDurableExpire);
        if !per_open && (entry.outcome != Outcome::Failure || !unauthenticated) {
            return true;
        }
        let (recorded, left_out) = self.recorded.entry(entry.action).or_default();
        if *recorded < UNAUTHENTICATED_EVENTS_PER_MINUTE {
            *recorded += 1;
            true
        } else {
            *left_out += 1;
            false
        }
    }

    /// Summaries of what was left out this minute; starts the next.
    fn summaries(&mut self) -> Vec<audit::Entry> {
        std::mem::take(&mut self.recorded)
            .into_iter()
            .filter(|(_, (_, left_out))| *left_out > 0)
            .map(|(action, (recorded, left_out))| {
                audit::Entry::failure("-", action, "(many)")
                    .detail(format!("{left_out} more in the last minute, not recorded one by one (after {recorded})"))
                    .source("engine")
            })
            .collect()
    }
}

/// What the resource budget refused since the last summary, as one event.
fn refusal_summary(engine: &EngineHandle, last: &mut Vec<(smb_core::Refusal, u64)>) -> Option<audit::Entry> {
    let now = engine.refusals();
    let changes: Vec<String> = now
        .iter()
        .filter_map(|(limit, count)| {
            let before = last.iter().find(|(l, _)| l == limit).map_or(0, |(_, c)| *c);
            (*count > before).then(|| format!("{} {}", limit.name(), count - before))
        })
        .collect();
    *last = now;
    (!changes.is_empty()).then(|| {
        audit::Entry::failure("-", Action::SmbLimit, "resource budget")
            .detail(format!("refused in the last minute: {}", changes.join(", ")))
            .source("engine")
    })
}

/// Writes engine events to the audit log; a lockout is also stored with the user. Failures of
/// unauthenticated clients are rate-limited, the budget's refusals summarised each minute, and
/// the log pruned to its retention each hour.
pub fn record_events(db: SqlitePool, engine: &EngineHandle) -> JoinHandle<()> {
    let mut events = engine.subscribe();
    let engine = engine.clone();
    tokio::spawn(async move {
        let mut flood = Flood::default();
        let mut refusals = engine.refusals();
        let mut summary = tokio::time::interval(SUMMARY_INTERVAL);
        let mut prune = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = summary.tick() => {
                    for entry in flood.summaries().into_iter().chain(refusal_summary(&engine, &mut refusals)) {
                        audit::record(&db, entry).await;
                    }
                    continue;
                }
                _ = prune.tick() => {
                    match audit::prune(&db).await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "audit log pruned to its retention"),
                        Err(error) => tracing::error!(%error, "cannot prune the audit log"),
                    }
                    continue;
                }
            };
            let event = match event {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the audit log fell behind the engine's events");
                    let entry = audit::Entry::failure("-", Action::AuditLost, "engine events")
                        .detail(format!("{missed} engine events came faster than they could be recorded"))
                        .source("engine");
                    audit::record(&db, entry).await;
                    continue;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if let Some(entry) = entry_for(&event)
                && flood.admits(&entry)
            {
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
        // Connections before sign-in are counted (`/metrics`), not audited one by one: anyone
        // on the internet can open them by the thousand.
        Event::Connected { .. } | Event::Disconnected { .. } => return None,
        Event::LogonSucceeded { client, user, dialect, signing, encryption, .. } => {
            audit::Entry::success(user, Action::SmbLogon, user)
                .detail(format!("SMB {dialect}, signing {signing}, encryption {encryption}"))
                .source(&client.ip().to_string())
        }
        Event::ChannelBound { client, user, session_id, .. } => audit::Entry::success(user, Action::SmbLogon, user)
            .detail(format!("a new channel of session {session_id:#x} (multichannel)"))
            .source(&client.ip().to_string()),
        Event::LogonFailed { client, user, reason, status, .. } => {
            let name = user.as_deref().unwrap_or("(unknown)");
            audit::Entry::failure(name, Action::SmbLogon, name)
                .detail(format!("{reason} ({status})"))
                .source(&client.ip().to_string())
        }
        Event::AccountLockedOut { user, until, failures } => audit::Entry::failure(user, Action::SmbLockout, user)
            .detail(format!("{failures} failed sign-ins; locked until {}", app::backend::rfc3339(*until)))
            .source("engine"),
        Event::TreeConnected { client, user, share, .. } => {
            audit::Entry::success(user, Action::SmbTreeConnect, share).source(&client.ip().to_string())
        }
        Event::TreeConnectDenied { client, user, share, reason, .. } => {
            audit::Entry::failure(user, Action::SmbTreeConnect, share)
                .detail(reason.clone())
                .source(&client.ip().to_string())
        }
        Event::QuicAccepted { client, server_name, mapping, thumbprint, client_certificate } => {
            let mut detail = format!("mapping {mapping}, certificate {thumbprint}");
            if !client_certificate.is_empty() {
                detail.push_str("; ");
                detail.push_str(client_certificate);
            }
            audit::Entry::success("-", Action::QuicConnect, server_name.as_deref().unwrap_or("(no server name)"))
                .detail(detail)
                .source(&client.to_string())
        }
        Event::QuicRefused { client, server_name, reason } => {
            audit::Entry::failure("-", Action::QuicConnect, server_name.as_deref().unwrap_or("(no server name)"))
                .detail(reason.clone())
                .source(&client.to_string())
        }
        Event::DurableReclaimed { user, share, path, client } => {
            audit::Entry::success(user, Action::SmbDurableReclaim, &format!("{share}\\{path}"))
                .detail("reclaimed on a new connection after a lost one".to_owned())
                .source(&client.ip().to_string())
        }
        Event::DurableExpired { share, path, reason } => {
            audit::Entry::success("-", Action::SmbDurableExpire, &format!("{share}\\{path}"))
                .detail(format!("closed while waiting for its client: {reason}"))
                .source("engine")
        }
        Event::ClosedByAdministrator { .. } => return None,
    })
}
