//! SMB users, shares and engine settings in the database, and the engine configuration built
//! from them. Every change bumps `config_version`, which a running server watches.

mod engine;
mod journal;
mod names;
mod settings;
mod shares;
mod users;

pub use engine::*;
pub use journal::*;
use names::*;
pub use settings::*;
pub use shares::*;
pub use users::*;

#[cfg(test)]
mod tests {
    use crate::backend::now;
    use crate::error::AppError;

    use smb_core::{Access, ShareConfig};
    use sqlx::SqlitePool;
    use std::path::Path;

    use super::*;

    #[test]
    fn computer_names_follow_netbios_rules() {
        assert_eq!(computer_name("files.example.com"), "FILES");
        assert_eq!(computer_name("a-very-long-host-name-indeed"), "A-VERY-LONG-HOS");
        assert_eq!(computer_name("..."), "EDGESHARE");
    }

    #[test]
    fn share_names_refuse_reserved_names_and_characters() {
        assert!(check_share_name("Sales Team").is_ok());
        assert!(check_share_name("ipc$").is_err());
        assert!(check_share_name("a/b").is_err());
        assert!(check_share_name(&"x".repeat(81)).is_err());
        assert!(check_share_name(&"x".repeat(80)).is_ok());
    }

    #[test]
    fn user_names_follow_windows_rules() {
        assert!(check_user_name("alice").is_ok());
        assert!(check_user_name("al@ce").is_err());
        assert!(check_user_name("everyone").is_err());
        assert!(check_user_name(&"x".repeat(21)).is_err());
    }

    async fn database() -> SqlitePool {
        // One connection: every connection to `sqlite::memory:` would be a database of its own.
        let db = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("../server/migrations").run(&db).await.unwrap();
        db
    }

    fn share(name: &str, path: &Path, permissions: &[(&str, Access)]) -> ShareConfig {
        ShareConfig {
            name: name.into(),
            path: path.to_owned(),
            description: String::new(),
            permissions: permissions.iter().map(|(p, a)| ((*p).to_owned(), *a)).collect(),
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        }
    }

    #[tokio::test]
    async fn updating_a_share_replaces_its_options_and_permissions_and_bumps_the_version() {
        let db = database().await;
        let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        add_user(&db, "alice", "alice password").await.unwrap();
        add_share(&db, &share("sales", old_dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let version = config_version(&db).await.unwrap();

        let mut changed = share("Sales-EU", new_dir.path(), &[("alice", Access::Full)]);
        changed.description = "Sales in Europe".into();
        changed.encrypt_data = true;
        changed.access_based_enumeration = true;
        changed.max_users = Some(5);
        let previous = update_share(&db, "SALES", &changed, None).await.unwrap();

        assert_eq!(previous.name, "sales");
        assert_eq!(previous.permissions, vec![(smb_core::EVERYONE.to_owned(), Access::Read)]);
        let shares = list_shares(&db).await.unwrap();
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].config, changed);
        assert_eq!(config_version(&db).await.unwrap(), version + 1);
    }

    #[tokio::test]
    async fn a_share_that_changed_since_it_was_read_is_not_overwritten() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let read = find_share(&db, "SALES").await.unwrap();
        let mut meanwhile = read.clone();
        meanwhile.description = "changed by someone else".into();
        update_share(&db, "sales", &meanwhile, Some(&read)).await.unwrap();
        let version = config_version(&db).await.unwrap();

        let mut mine = read.clone();
        mine.encrypt_data = true;
        let error = update_share(&db, "sales", &mine, Some(&read)).await.unwrap_err();

        assert!(matches!(error, AppError::Conflict(_)), "{error:?}");
        assert_eq!(find_share(&db, "sales").await.unwrap(), meanwhile);
        assert_eq!(config_version(&db).await.unwrap(), version);
    }

    #[tokio::test]
    async fn a_share_renamed_to_an_existing_name_is_refused_and_left_unchanged() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        add_share(&db, &share("finance", dir.path(), &[(smb_core::EVERYONE, Access::Change)])).await.unwrap();
        let version = config_version(&db).await.unwrap();

        let mut renamed = share("FINANCE", dir.path(), &[(smb_core::EVERYONE, Access::Full)]);
        renamed.description = "must not stick".into();
        let error = update_share(&db, "sales", &renamed, None).await.unwrap_err();

        assert_eq!(
            error.for_field("name"),
            Some("A share named 'finance' already exists: share names that differ only in case are one name.")
        );
        let shares = list_shares(&db).await.unwrap();
        let sales = shares.iter().find(|s| s.config.name == "sales").unwrap();
        assert_eq!(sales.config.description, "");
        assert_eq!(sales.config.permissions, vec![(smb_core::EVERYONE.to_owned(), Access::Read)]);
        assert_eq!(config_version(&db).await.unwrap(), version);
    }

    #[tokio::test]
    async fn a_share_may_change_only_the_case_of_its_own_name() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        update_share(&db, "sales", &share("Sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)]), None)
            .await
            .unwrap();
        assert_eq!(list_shares(&db).await.unwrap()[0].config.name, "Sales");
    }

    #[tokio::test]
    async fn updating_a_missing_share_is_refused_as_not_found() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        let error = update_share(&db, "ghost", &share("ghost", dir.path(), &[]), None).await.unwrap_err();
        assert!(matches!(error, AppError::NotFound(_)), "{error:?}");
    }

    #[tokio::test]
    async fn an_update_to_a_reserved_name_or_missing_directory_is_refused_before_any_change() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let reserved = update_share(&db, "sales", &share("IPC$", dir.path(), &[]), None).await.unwrap_err();
        assert!(reserved.for_field("name").is_some());
        let missing =
            update_share(&db, "sales", &share("sales", &dir.path().join("missing"), &[]), None).await.unwrap_err();
        assert!(missing.for_field("path").is_some());
        assert_eq!(list_shares(&db).await.unwrap()[0].config.path, dir.path());
    }

    #[tokio::test]
    async fn a_new_share_named_like_an_existing_one_in_another_case_is_a_duplicate() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let error = add_share(&db, &share("SALES", dir.path(), &[])).await.unwrap_err();
        assert_eq!(
            error.for_field("name"),
            Some("A share named 'sales' already exists: share names that differ only in case are one name.")
        );
        add_share(&db, &share("Équipe", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        assert!(add_share(&db, &share("ÉQUIPE", dir.path(), &[])).await.is_err());
        assert!(check_share_name("ıpc$").is_err(), "a reserved name in another case is reserved");
    }

    #[tokio::test]
    async fn a_user_named_like_an_existing_one_in_another_non_ascii_case_is_refused() {
        let db = database().await;
        add_user(&db, "Émile", "emile password").await.unwrap();
        for other in ["émile", "ÉMILE"] {
            let error = add_user(&db, other, "another password").await.unwrap_err();
            assert_eq!(
                error.for_field("name"),
                Some("A user named 'Émile' already exists: user names that differ only in case are one name.")
            );
        }
        let error = add_user(&db, "Émile", "another password").await.unwrap_err();
        assert_eq!(error.for_field("name"), Some("A user named 'Émile' already exists."));
        assert_eq!(list_users(&db).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_user_is_changed_and_removed_under_any_case_of_its_name() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_user(&db, "Émile", "emile password").await.unwrap();
        add_share(&db, &share("team", dir.path(), &[("ÉMILE", Access::Deny)])).await.unwrap();
        assert_eq!(set_user_password(&db, "ÉMILE", "new password").await.unwrap(), "Émile");
        assert_eq!(set_user_enabled(&db, "émile", false).await.unwrap(), "Émile");
        set_user_locked_until(&db, "ÉMILE", Some(now() + 60)).await.unwrap();
        assert!(find_user(&db, "émile").await.unwrap().locked_until.is_some());
        assert_eq!(remove_user(&db, "émile").await.unwrap(), "Émile");
        assert!(list_users(&db).await.unwrap().is_empty());
        assert!(list_shares(&db).await.unwrap()[0].config.permissions.is_empty(), "its permission went with it");
    }

    #[tokio::test]
    async fn names_stored_before_folding_are_refolded_and_clashes_reported() {
        let db = database().await;
        // As migration 0006 leaves rows stored before it: folded by lower(), ASCII only.
        for name in ["Émile", "émile", "ÉVA"] {
            sqlx::query(
                "INSERT INTO smb_users (name, name_key, nt_hash, created_at, password_changed_at)
                 VALUES (?1, lower(?1), zeroblob(16), 0, 0)",
            )
            .bind(name)
            .execute(&db)
            .await
            .unwrap();
        }
        let clashes = fold_stored_names(&db).await.unwrap();
        assert_eq!(clashes.len(), 1, "{clashes:?}");
        assert!(clashes[0].contains("'Émile' and 'émile'"), "{clashes:?}");
        assert!(add_user(&db, "éva", "eva password").await.is_err(), "ÉVA's name is folded now");
        assert!(fold_stored_names(&db).await.unwrap().len() == 1, "the clash stays until one is removed");
        remove_user(&db, "émile").await.unwrap();
        assert!(fold_stored_names(&db).await.unwrap().is_empty());
        assert_eq!(find_user(&db, "ÉMILE").await.unwrap().name, "Émile");
    }

    #[tokio::test]
    async fn permissions_name_existing_users_or_everyone_once_each() {
        let db = database().await;
        add_user(&db, "Alice", "alice password").await.unwrap();
        let checked = check_permissions(&db, &[("alice".into(), Access::Change), ("everyone".into(), Access::Read)])
            .await
            .unwrap();
        assert_eq!(checked, vec![("Alice".to_owned(), Access::Change), (smb_core::EVERYONE.to_owned(), Access::Read)]);

        for bad in [
            vec![],
            vec![("bob".to_owned(), Access::Read)],
            vec![("alice".to_owned(), Access::Read), ("ALICE".to_owned(), Access::Deny)],
        ] {
            let error = check_permissions(&db, &bad).await.unwrap_err();
            assert!(error.for_field("permissions").is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn share_paths_must_be_absolute_existing_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_share_path(&dir.path().display().to_string()).is_ok());
        assert!(check_share_path("relative/path").is_err());
        assert!(check_share_path(&format!("{}/missing", dir.path().display())).is_err());
        assert!(check_share_path(&format!("{}/../x", dir.path().display())).is_err());
    }
}
