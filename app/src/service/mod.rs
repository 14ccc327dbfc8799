//! The control layer: one function per administrative action, called by the console's server
//! functions and by the command line alike. Each takes the [`Actor`] who acts and does check ->
//! store -> apply to the running engine -> audit, once. Compiled only with the `ssr` feature.

pub mod accounts;
pub mod auth;
pub mod certs;
pub mod kerberos;
pub mod quic;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod shares;
pub mod users;

use sqlx::SqlitePool;

use crate::backend::{AppState, audit, session};
use crate::error::AppResult;
use crate::model::audit::Action;

/// A new password: typed twice in the console's forms, once on the command line.
#[derive(Clone, Copy, Debug)]
pub struct NewPassword<'a> {
    pub password: &'a str,
    pub confirm: Option<&'a str>,
}

impl<'a> NewPassword<'a> {
    pub fn typed_twice(password: &'a str, confirm: &'a str) -> Self {
        NewPassword { password, confirm: Some(confirm) }
    }

    pub fn once(password: &'a str) -> Self {
        NewPassword { password, confirm: None }
    }

    /// The password again, as typed the second time (the first, when typed once).
    pub fn confirmation(&self) -> &'a str {
        self.confirm.unwrap_or(self.password)
    }
}

/// Who acts: recorded in the audit log as its actor and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in console account, from this client address.
    Console { account: String, address: String },
    /// The local command line, run as this Unix user.
    CommandLine { uid: u32 },
}

impl Actor {
    /// The signed-in administrator of this console request (refused for other roles).
    pub async fn console_admin() -> AppResult<Actor> {
        let account = session::require_admin().await?;
        Ok(Actor::Console { account: account.name, address: session::client_address().await })
    }

    /// The audit log's actor.
    pub fn name(&self) -> &str {
        match self {
            Actor::Console { account, .. } => account,
            Actor::CommandLine { .. } => "command line",
        }
    }

    /// The audit log's source: where the change came from.
    pub fn source(&self) -> String {
        match self {
            Actor::Console { address, .. } => address.clone(),
            Actor::CommandLine { uid } => format!("command line (uid {uid})"),
        }
    }

    /// A successful `action` on `target` by this actor.
    pub fn did(&self, action: Action, target: &str) -> audit::Entry {
        audit::Entry::success(self.name(), action, target).source(&self.source())
    }
}

/// Where a change is stored, and the engine that applies it.
#[derive(Clone)]
pub struct Control {
    pub db: SqlitePool,
    /// The engine of this process (the console's); `None` for the command line, whose changes a
    /// running server applies when it sees the configuration version change (within a second).
    engine: Option<AppState>,
}

impl Control {
    /// The console's: changes are in force in this process's engine when the action returns.
    pub fn console() -> AppResult<Control> {
        let state = crate::backend::state()?;
        Ok(Control { db: state.db.clone(), engine: Some(state) })
    }

    /// The control layer of a running server's state (the health report's, outside a request).
    pub fn of(state: AppState) -> Control {
        Control { db: state.db.clone(), engine: Some(state) }
    }

    /// The command line's, over the database of a server that may be running or not.
    pub fn command_line(db: SqlitePool) -> Control {
        Control { db, engine: None }
    }

    /// Applies the stored configuration to the engine of this process, if it has one.
    pub async fn apply(&self) -> AppResult<()> {
        match &self.engine {
            Some(state) => state.apply_configuration().await,
            None => Ok(()),
        }
    }

    /// The name this server answers to, when it runs in this process.
    pub fn server_name(&self) -> Option<&str> {
        self.engine.as_ref().map(|state| state.info.server_name.as_str())
    }

    /// The TCP port of this process's console, when it runs one.
    pub fn console_port(&self) -> Option<u16> {
        let url = &self.engine.as_ref()?.info.console_url;
        let authority = url.split("://").nth(1)?.split('/').next()?;
        let port = authority.rsplit_once(':').map(|(_, port)| port).filter(|port| !port.ends_with(']'));
        match port {
            Some(port) => port.parse().ok(),
            None if url.starts_with("https") => Some(443),
            None => Some(80),
        }
    }

    /// The state of the KDC proxy of this process, if it runs one.
    pub fn kdc_proxy(&self) -> Option<&crate::backend::kdc_proxy::KdcProxyState> {
        self.engine.as_ref().map(|state| state.kdc_proxy.as_ref())
    }

    /// The engine of this process, if it has one.
    pub fn engine(&self) -> Option<&smb_core::EngineHandle> {
        self.engine.as_ref().map(|state| &state.engine)
    }

    /// Records an event in the audit log.
    pub async fn audit(&self, entry: audit::Entry) {
        audit::record(&self.db, entry).await;
    }
}
