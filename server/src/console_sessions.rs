//! Console sessions in the database under a digest of their id, never the id itself: the id is
//! what the browser's cookie carries, so anyone who could read the database (a backup, a copy of
//! the data directory) could otherwise sign in as every administrator with an open session.

use async_trait::async_trait;
use aws_lc_rs::digest::{SHA256, digest};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// A session store that keeps each record under the SHA-256 of its id (its first 128 bits).
#[derive(Clone, Debug)]
pub struct HashedIds<S> {
    inner: S,
}

impl<S> HashedIds<S> {
    pub fn new(inner: S) -> Self {
        HashedIds { inner }
    }
}

/// The id a session is stored under.
pub fn stored_id(id: &Id) -> Id {
    let mut input = b"edgeshare console session ".to_vec();
    input.extend_from_slice(&id.0.to_le_bytes());
    let digest = digest(&SHA256, &input);
    let mut first = [0; 16];
    first.copy_from_slice(&digest.as_ref()[..16]);
    Id(i128::from_le_bytes(first))
}

fn stored(record: &Record) -> Record {
    Record { id: stored_id(&record.id), ..record.clone() }
}

#[async_trait]
impl<S: SessionStore> SessionStore for HashedIds<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let mut row = stored(record);
            self.inner.create(&mut row).await?;
            if row.id == stored_id(&record.id) {
                return Ok(());
            }
            // The digest collided with a stored session and the inner store chose another id,
            // whose preimage no cookie can carry: drop that row and start from a fresh id.
            self.inner.delete(&row.id).await?;
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner.save(&stored(record)).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.inner.load(&stored_id(id)).await?.map(|record| Record { id: *id, ..record }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.inner.delete(&stored_id(id)).await
    }
}

#[async_trait]
impl<S: ExpiredDeletion> ExpiredDeletion for HashedIds<S> {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.inner.delete_expired().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_are_found_by_the_id_the_cookie_carries_and_stored_under_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let (db, store) = crate::db::open(dir.path()).await.unwrap();
        let mut record = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        store.create(&mut record).await.unwrap();
        let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM console_sessions").fetch_all(&db).await.unwrap();
        assert_eq!(stored, [stored_id(&record.id).to_string()], "only the digest is a key");
        assert_eq!(store.load(&record.id).await.unwrap().unwrap().id, record.id);
        assert!(store.load(&stored_id(&record.id)).await.unwrap().is_none(), "the digest is no cookie");
        store.delete(&record.id).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
    }
}
