//! The journal of persistent opens (continuously available shares) in the database: the engine
//! writes an open's state before its client hears of it, and the server reads them all back when
//! it starts again, so that a restart (an upgrade or a crash) does not lose them.

use smb_core::{OpenJournal, PersistentOpen};
use sqlx::SqlitePool;

use crate::backend::now;
use crate::error::{AppError, AppResult};

/// Stores (or replaces) one open's state.
pub async fn record_open(db: &SqlitePool, open: &PersistentOpen) -> AppResult<()> {
    let state = serde_json::to_string(open).map_err(|e| AppError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO persistent_opens (persistent_id, state, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (persistent_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(open.persistent_id as i64)
    .bind(state)
    .bind(now())
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets an open that ended.
pub async fn forget_open(db: &SqlitePool, persistent_id: u64) -> AppResult<()> {
    sqlx::query("DELETE FROM persistent_opens WHERE persistent_id = ?").bind(persistent_id as i64).execute(db).await?;
    Ok(())
}

/// Every stored open. A row that no longer reads as an open is dropped (and logged).
pub async fn stored_opens(db: &SqlitePool) -> AppResult<Vec<PersistentOpen>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT persistent_id, state FROM persistent_opens ORDER BY persistent_id")
            .fetch_all(db)
            .await?;
    let mut opens = Vec::with_capacity(rows.len());
    for (id, state) in rows {
        match serde_json::from_str::<PersistentOpen>(&state) {
            Ok(open) => opens.push(open),
            Err(error) => {
                tracing::warn!(persistent_id = id, %error, "dropping a persistent open that cannot be read");
                forget_open(db, id as u64).await?;
            }
        }
    }
    Ok(opens)
}

/// The engine's journal on the database. `record` waits for the row to be written (the engine
/// calls it from a connection's worker, inside `block_in_place`); `forget` does not wait.
pub struct DatabaseJournal {
    db: SqlitePool,
    runtime: tokio::runtime::Handle,
}

impl DatabaseJournal {
    /// Needs a multi-threaded Tokio runtime (the server's).
    pub fn new(db: SqlitePool) -> DatabaseJournal {
        DatabaseJournal { db, runtime: tokio::runtime::Handle::current() }
    }
}

impl OpenJournal for DatabaseJournal {
    fn record(&self, open: &PersistentOpen) -> Result<(), String> {
        let write = record_open(&self.db, open);
        tokio::task::block_in_place(|| self.runtime.block_on(write)).map_err(|e| e.to_string())
    }

    fn forget(&self, persistent_id: u64) {
        let db = self.db.clone();
        self.runtime.spawn(async move {
            if let Err(error) = forget_open(&db, persistent_id).await {
                tracing::error!(persistent_id, %error, "cannot forget a persistent open");
            }
        });
    }
}
