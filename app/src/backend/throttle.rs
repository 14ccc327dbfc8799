//! Throttling of failed console sign-ins, per account name and per client address.
//!
//! The first [`FREE_FAILURES`] failures cost nothing; each further one blocks the key for twice as
//! long as the previous (15 s, 30 s, ... up to [`MAX_BLOCK`]). Failures are forgotten
//! [`FORGET_AFTER`] seconds after the last one, and a successful sign-in forgets them at once.
//! Kept in the database so that a restart does not reset an attack in progress.
//!
//! An attempt counts as a failure from the moment it is let through ([`reserve`]), before its
//! password is checked: counting only once a check had failed let 40 parallel wrong passwords all
//! be checked, each having seen the count from before any of them failed.

use sqlx::{SqliteConnection, SqlitePool};

use crate::backend::now;
use crate::error::AppResult;

pub const FREE_FAILURES: i64 = 5;
const FIRST_BLOCK: i64 = 15;
const MAX_BLOCK: i64 = 15 * 60;
const FORGET_AFTER: i64 = 60 * 60;

/// Seconds a key stays blocked after its `failures`-th failure.
pub fn block_seconds(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(16) as u32;
    (FIRST_BLOCK << doublings).min(MAX_BLOCK)
}

/// The keys a sign-in attempt counts against.
pub fn keys(name: &str, source: &str) -> [String; 2] {
    [format!("name:{}", name.trim().to_ascii_lowercase()), format!("address:{source}")]
}

/// Seconds until the first of `keys` is free again, when one is blocked now.
pub async fn blocked_for(db: &SqlitePool, keys: &[String]) -> AppResult<Option<u64>> {
    let mut connection = db.acquire().await?;
    longest_block(&mut connection, keys, now()).await
}

async fn longest_block(connection: &mut SqliteConnection, keys: &[String], now: i64) -> AppResult<Option<u64>> {
    let mut longest = 0;
    for key in keys {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, last_failure_at FROM sign_in_throttle WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut *connection)
                .await?;
        if let Some((failures, last)) = row {
            longest = longest.max(last + block_seconds(failures) - now);
        }
    }
    Ok((longest > 0).then_some(longest as u64))
}

/// Lets one sign-in attempt through unless a key is blocked, and counts it against every key as a
/// failure until [`clear`] says it succeeded. The check and the count are one transaction that
/// takes SQLite's write lock first (`BEGIN IMMEDIATE`), so parallel attempts are counted one after
/// another and at most [`FREE_FAILURES`] of a burst get through. Returns the seconds to wait when
/// blocked; nothing is counted then.
pub async fn reserve(db: &SqlitePool, keys: &[String]) -> AppResult<Option<u64>> {
    let now = now();
    let mut transaction = db.begin_with("BEGIN IMMEDIATE").await?;
    if let Some(retry_after_seconds) = longest_block(&mut transaction, keys, now).await? {
        return Ok(Some(retry_after_seconds));
    }
    for key in keys {
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES (?1, 1, ?2)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN ?2 - last_failure_at > ?3 THEN 1 ELSE failures + 1 END,
               last_failure_at = ?2",
        )
        .bind(key)
        .bind(now)
        .bind(FORGET_AFTER)
        .execute(&mut *transaction)
        .await?;
    }
    sqlx::query("DELETE FROM sign_in_throttle WHERE last_failure_at < ?")
        .bind(now - FORGET_AFTER)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(None)
}

pub async fn clear(db: &SqlitePool, keys: &[String]) -> AppResult<()> {
    for key in keys {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = ?").bind(key).execute(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failures_are_free_then_blocks_double_up_to_the_cap() {
        assert_eq!(block_seconds(FREE_FAILURES - 1), 0);
        assert_eq!(block_seconds(FREE_FAILURES), 15);
        assert_eq!(block_seconds(FREE_FAILURES + 1), 30);
        assert_eq!(block_seconds(FREE_FAILURES + 20), MAX_BLOCK);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_attempts_are_counted_before_any_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let options =
            sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("t.db")).create_if_missing(true);
        let db = sqlx::sqlite::SqlitePoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
        sqlx::query(
            "CREATE TABLE sign_in_throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure_at INTEGER NOT NULL)",
        )
        .execute(&db)
        .await
        .unwrap();
        let keys = keys("root", "192.0.2.1");
        let mut attempts = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let (db, keys) = (db.clone(), keys.clone());
            attempts.spawn(async move { reserve(&db, &keys).await.unwrap() });
        }
        let let_through = attempts.join_all().await.into_iter().filter(Option::is_none).count();
        assert_eq!(let_through as i64, FREE_FAILURES);
        assert!(blocked_for(&db, &keys).await.unwrap().is_some());
        clear(&db, &keys).await.unwrap();
        assert_eq!(reserve(&db, &keys).await.unwrap(), None, "a success forgets the failures");
    }

    #[test]
    fn names_are_throttled_without_regard_to_case() {
        assert_eq!(keys(" Alice ", "10.0.0.1")[0], keys("alice", "10.0.0.2")[0]);
    }
}
