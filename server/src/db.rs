//! The configuration database: one SQLite file in the data directory, migrated at start.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tower_sessions_sqlx_store::SqliteStore;

use crate::console_sessions::HashedIds;

/// The console's session store: in the database, under digests of the session ids.
pub type ConsoleSessions = HashedIds<SqliteStore>;

pub const FILE_NAME: &str = "edgeshare.db";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Opens (creating if needed) and migrates the database, and prepares the session table. Errors
/// name the file, so that a bad data directory is one clear line at start.
pub async fn open(data_dir: &Path) -> anyhow::Result<(SqlitePool, ConsoleSessions)> {
    let path = path(data_dir);
    let pool = connect(&path)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {}", path.display(), root_cause(&e)))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database {}: {e}", path.display()))?;
    let clashes = app::backend::smb::fold_stored_names(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot fold the names in the database {}: {e}", path.display()))?;
    for clash in clashes {
        tracing::warn!("{clash}");
    }
    let sessions = SqliteStore::new(pool.clone()).with_table_name("console_sessions").map_err(anyhow::Error::msg)?;
    sessions
        .migrate()
        .await
        .with_context(|| format!("cannot prepare console sessions in the database {}", path.display()))?;
    Ok((pool, HashedIds::new(sessions)))
}

/// The innermost cause of an error: sqlx repeats its cause in its own message.
fn root_cause(error: &anyhow::Error) -> String {
    error.chain().last().map(ToString::to_string).unwrap_or_default()
}

async fn connect(path: &Path) -> anyhow::Result<SqlitePool> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Every committed change (an account, a share, a key) survives a power loss, not just a
        // crash of the process.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    restrict_to_owner(path)?;
    Ok(pool)
}

/// The data directory holds password hashes and private keys: owner only.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict the permissions of {}", dir.display()))?;
    }
    Ok(())
}

fn restrict_to_owner(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opening_creates_and_migrates_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, _) = open(dir.path()).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&pool).await.unwrap();
        assert_eq!(mode, "wal");
        let keys: bool = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&pool).await.unwrap();
        assert!(keys);
        // Opening again applies no migration twice.
        drop(pool);
        open(dir.path()).await.unwrap();
    }

    #[tokio::test]
    async fn an_unusable_path_fails_with_the_path_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let error = open(&blocker.join("data")).await.unwrap_err();
        let line = format!("{error:#}");
        assert!(line.contains(&blocker.display().to_string()), "{line}");
        assert!(!line.contains('\n'));
    }
}
