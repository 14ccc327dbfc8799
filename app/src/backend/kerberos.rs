//! The Kerberos store: realms and their KDCs, the service keys of imported keytabs (kept like
//! private keys: in the database only, never listed with their bytes), principals mapped to
//! local users, and the domain names share permissions may use.

use std::time::Duration;

use smb_core::auth::kerberos::{KeytabContents, ServiceKey, SkippedKey, enctype_name};
use smb_core::{KerberosSettings, NtlmPolicy, fold_name};
use sqlx::SqlitePool;
use zeroize::Zeroizing;

use crate::backend::now;
use crate::backend::smb::{bump_version, setting};
use crate::error::{AppError, AppResult};

/// The port of a KDC named without one (RFC 4120 section 7.2.1).
pub const KDC_PORT: u16 = 88;

/// A realm as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Realm {
    pub name: String,
    /// `host` or `host:port`, in order of preference.
    pub kdcs: Vec<String>,
    pub created_at: i64,
}

/// A stored service key, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub principal: String,
    pub realm: String,
    pub kvno: u32,
    pub enctype: i32,
    pub key_timestamp: i64,
    pub imported_at: i64,
    pub source: String,
}

impl KeyInfo {
    pub fn enctype_name(&self) -> String {
        enctype_name(self.enctype)
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Keys new to the store.
    pub added: usize,
    /// Keys the store held already (same principal, kvno and enctype), replaced.
    pub replaced: usize,
    /// Entries of enctypes EdgeShare cannot use.
    pub skipped: Vec<SkippedKey>,
    /// The principals the keytab holds.
    pub principals: Vec<String>,
}

/// A realm name as stored: upper case, the characters of DNS names.
pub fn check_realm_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    let valid = !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        && !name.starts_with('.')
        && !name.ends_with('.');
    if !valid {
        return Err(AppError::invalid(
            "realm",
            format!("'{name}' is not a realm name: use its DNS-style name, e.g. CORP.EXAMPLE.COM."),
        ));
    }
    Ok(name.to_ascii_uppercase())
}

/// A KDC address as stored: `host` or `host:port` (`[v6]:port`), checked.
pub fn check_kdc(kdc: &str) -> AppResult<String> {
    let kdc = kdc.trim();
    let refuse = || {
        AppError::invalid(
            "kdcs",
            format!("'{kdc}' is not a KDC address: use host or host:port, e.g. dc1.corp.example.com or 192.0.2.5:88."),
        )
    };
    let (host, port) = split_host_port(kdc).ok_or_else(refuse)?;
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok || port == 0 {
        return Err(refuse());
    }
    Ok(kdc.to_owned())
}

/// `host[:port]`, `[v6]:port`, or a bare IPv6 address; the port defaults to 88.
pub fn split_host_port(kdc: &str) -> Option<(&str, u16)> {
    if let Some(rest) = kdc.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => port.parse().ok()?,
            None if after.is_empty() => KDC_PORT,
            None => return None,
        };
        return Some((host, port));
    }
    if kdc.matches(':').count() > 1 {
        // A bare IPv6 address.
        return kdc.parse::<std::net::Ipv6Addr>().ok().map(|_| (kdc, KDC_PORT));
    }
    match kdc.split_once(':') {
        Some((host, port)) => Some((host, port.parse().ok()?)),
        None => Some((kdc, KDC_PORT)),
    }
}

pub async fn list_realms(db: &SqlitePool) -> AppResult<Vec<Realm>> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, kdcs, created_at FROM kerberos_realms ORDER BY name").fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(name, kdcs, created_at)| Realm {
            name,
            kdcs: kdcs.split(',').filter(|k| !k.is_empty()).map(str::to_owned).collect(),
            created_at,
        })
        .collect())
}

pub async fn find_realm(db: &SqlitePool, name: &str) -> AppResult<Option<Realm>> {
    let name = check_realm_name(name)?;
    Ok(list_realms(db).await?.into_iter().find(|realm| realm.name == name))
}

/// Adds a realm, or replaces the KDCs of one already configured. Returns the realm as stored and
/// whether it is new.
pub async fn set_realm(db: &SqlitePool, name: &str, kdcs: &[String]) -> AppResult<(Realm, bool)> {
    let name = check_realm_name(name)?;
    if kdcs.is_empty() {
        return Err(AppError::invalid("kdcs", "Give at least one KDC (host or host:port)."));
    }
    let kdcs = kdcs.iter().map(|kdc| check_kdc(kdc)).collect::<AppResult<Vec<_>>>()?;
    let existed = find_realm(db, &name).await?.is_some();
    sqlx::query(
        "INSERT INTO kerberos_realms (name, kdcs, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET kdcs = ?2",
    )
    .bind(&name)
    .bind(kdcs.join(","))
    .bind(now())
    .execute(db)
    .await?;
    bump_version(db).await?;
    let realm = find_realm(db, &name).await?.ok_or_else(|| AppError::Internal("the realm just stored".into()))?;
    Ok((realm, !existed))
}

/// Removes a realm that no stored key belongs to.
pub async fn remove_realm(db: &SqlitePool, name: &str) -> AppResult<String> {
    let realm = find_realm(db, name).await?.ok_or_else(|| AppError::NotFound(format!("No realm named '{name}'.")))?;
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM kerberos_keys WHERE realm = ?")
        .bind(&realm.name)
        .fetch_one(db)
        .await?;
    if keys > 0 {
        return Err(AppError::Conflict(format!(
            "{} service key(s) of {} are stored: remove them first (edgeshare kerberos keytab remove).",
            keys, realm.name
        )));
    }
    sqlx::query("DELETE FROM kerberos_realms WHERE name = ?").bind(&realm.name).execute(db).await?;
    bump_version(db).await?;
    Ok(realm.name)
}

/// Stores a keytab's keys. Every key must belong to a configured realm; nothing is stored if one
/// does not. A key the store holds already (principal, kvno, enctype) is replaced.
pub async fn import_keys(db: &SqlitePool, contents: &KeytabContents, source: &str) -> AppResult<ImportReport> {
    if contents.keys.is_empty() {
        let skipped = contents.skipped.iter().map(|s| enctype_name(s.enctype)).collect::<Vec<_>>().join(", ");
        return Err(AppError::invalid(
            "keytab",
            if skipped.is_empty() {
                "The keytab holds no keys.".to_owned()
            } else {
                format!("The keytab holds no key EdgeShare can use (only {skipped}): export AES keys.")
            },
        ));
    }
    let realms: Vec<String> = list_realms(db).await?.into_iter().map(|realm| realm.name).collect();
    if let Some(key) = contents.keys.iter().find(|key| !realms.contains(&key.realm)) {
        return Err(AppError::invalid(
            "keytab",
            format!(
                "The keytab holds keys of the realm {} ({}), which is not configured: add the realm and its KDCs first.",
                key.realm,
                key.principal()
            ),
        ));
    }
    let mut report = ImportReport { skipped: contents.skipped.clone(), ..ImportReport::default() };
    let mut tx = db.begin().await?;
    for key in &contents.keys {
        let principal = key.principal();
        let components = serde_json::to_string(&key.components).map_err(|e| AppError::Internal(e.to_string()))?;
        let existing: i64 =
            sqlx::query_scalar("SELECT count(*) FROM kerberos_keys WHERE principal = ? AND kvno = ? AND enctype = ?")
                .bind(&principal)
                .bind(i64::from(key.kvno))
                .bind(key.enctype)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO kerberos_keys
                 (principal, realm, components, kvno, enctype, key, key_timestamp, imported_at, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (principal, kvno, enctype) DO UPDATE SET
                 key = ?6, key_timestamp = ?7, imported_at = ?8, source = ?9",
        )
        .bind(&principal)
        .bind(&key.realm)
        .bind(components)
        .bind(i64::from(key.kvno))
        .bind(key.enctype)
        .bind(key.key.as_slice())
        .bind(i64::from(key.timestamp))
        .bind(now())
        .bind(source)
        .execute(&mut *tx)
        .await?;
        if existing > 0 {
            report.replaced += 1;
        } else {
            report.added += 1;
        }
        if !report.principals.contains(&principal) {
            report.principals.push(principal);
        }
    }
    sqlx::query("UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'config_version'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(report)
}

pub async fn list_keys(db: &SqlitePool) -> AppResult<Vec<KeyInfo>> {
    let rows: Vec<(String, String, i64, i32, i64, i64, String)> = sqlx::query_as(
        "SELECT principal, realm, kvno, enctype, key_timestamp, imported_at, source FROM kerberos_keys
         ORDER BY principal, kvno DESC, enctype DESC",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(principal, realm, kvno, enctype, key_timestamp, imported_at, source)| KeyInfo {
            principal,
            realm,
            kvno: u32::try_from(kvno).unwrap_or_default(),
            enctype,
            key_timestamp,
            imported_at,
            source,
        })
        .collect())
}

/// Removes a principal's keys (of one key version, or all). Returns how many.
pub async fn remove_keys(db: &SqlitePool, principal: &str, kvno: Option<u32>) -> AppResult<u64> {
    let removed = sqlx::query("DELETE FROM kerberos_keys WHERE principal = ?1 AND (?2 IS NULL OR kvno = ?2)")
        .bind(principal.trim())
        .bind(kvno.map(i64::from))
        .execute(db)
        .await?
        .rows_affected();
    if removed == 0 {
        let which = kvno.map_or(String::new(), |kvno| format!(" with key version {kvno}"));
        return Err(AppError::NotFound(format!("No key of '{}'{which} is stored.", principal.trim())));
    }
    bump_version(db).await?;
    Ok(removed)
}

/// The stored keys with their bytes, for the engine.
async fn service_keys(db: &SqlitePool) -> AppResult<Vec<ServiceKey>> {
    let rows: Vec<(String, String, i64, i32, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT realm, components, kvno, enctype, key, key_timestamp FROM kerberos_keys ORDER BY principal, kvno",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(realm, components, kvno, enctype, key, timestamp)| {
            let key = Zeroizing::new(key);
            Some(ServiceKey {
                realm,
                components: serde_json::from_str(&components).ok()?,
                kvno: u32::try_from(kvno).ok()?,
                enctype,
                timestamp: u32::try_from(timestamp).unwrap_or_default(),
                key: key.clone(),
            })
        })
        .collect())
}

/// A principal `user@REALM` as mapped: a realm is required, and the user part non-empty.
pub fn check_principal(principal: &str) -> AppResult<String> {
    let principal = principal.trim();
    match principal.rsplit_once('@') {
        Some((user, realm)) if !user.is_empty() && !user.contains('/') => {
            Ok(format!("{user}@{}", check_realm_name(realm).map_err(|_| bad_principal(principal))?))
        }
        _ => Err(bad_principal(principal)),
    }
}

fn bad_principal(principal: &str) -> AppError {
    AppError::invalid("principal", format!("'{principal}' is not a user principal: write it as user@REALM."))
}

pub async fn list_principal_map(db: &SqlitePool) -> AppResult<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT principal, smb_user FROM kerberos_principal_map ORDER BY principal_key")
        .fetch_all(db)
        .await?)
}

/// Maps a principal to a local user (replacing its mapping if it had one).
pub async fn map_principal(db: &SqlitePool, principal: &str, user: &str) -> AppResult<(String, String)> {
    let principal = check_principal(principal)?;
    let user = crate::backend::smb::find_user(db, user).await?.name;
    sqlx::query(
        "INSERT INTO kerberos_principal_map (principal, principal_key, smb_user, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (principal_key) DO UPDATE SET principal = ?1, smb_user = ?3",
    )
    .bind(&principal)
    .bind(fold_name(&principal))
    .bind(&user)
    .bind(now())
    .execute(db)
    .await?;
    bump_version(db).await?;
    Ok((principal, user))
}

pub async fn unmap_principal(db: &SqlitePool, principal: &str) -> AppResult<String> {
    let removed: Option<String> =
        sqlx::query_scalar("DELETE FROM kerberos_principal_map WHERE principal_key = ? RETURNING principal")
            .bind(fold_name(principal.trim()))
            .fetch_optional(db)
            .await?;
    let removed = removed.ok_or_else(|| AppError::NotFound(format!("'{}' is not mapped.", principal.trim())))?;
    bump_version(db).await?;
    Ok(removed)
}

/// A SID as written (`S-1-5-21-...`), upper case; refused unless it is one.
pub fn check_sid(sid: &str) -> AppResult<String> {
    let sid = sid.trim().to_ascii_uppercase();
    let parts: Vec<&str> = sid.split('-').collect();
    let valid = parts.len() >= 3
        && parts.len() <= 18
        && parts[0] == "S"
        && parts[1] == "1"
        && parts[2..]
            .iter()
            .all(|part| !part.is_empty() && part.len() <= 15 && part.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        return Err(AppError::invalid("sid", format!("'{sid}' is not a SID: it looks like S-1-5-21-...-1104.")));
    }
    Ok(sid)
}

/// A domain name as share permissions write it: `DOMAIN\name`.
pub fn check_domain_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    match name.split_once('\\') {
        Some((domain, account))
            if !domain.is_empty()
                && !account.is_empty()
                && domain.len() <= 15
                && account.chars().count() <= 256
                && !account.contains('\\')
                && !name.chars().any(char::is_control) =>
        {
            Ok(format!("{}\\{account}", domain.to_ascii_uppercase()))
        }
        _ => Err(AppError::invalid(
            "name",
            format!("'{name}' is not a domain name: write it as DOMAIN\\user or DOMAIN\\group, e.g. CORP\\Sales."),
        )),
    }
}

pub async fn list_domain_names(db: &SqlitePool) -> AppResult<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT name, sid FROM domain_names ORDER BY name_key").fetch_all(db).await?)
}

/// Records the SID of a domain user or group (replacing the SID of a name recorded already).
pub async fn set_domain_name(db: &SqlitePool, name: &str, sid: &str) -> AppResult<(String, String)> {
    let name = check_domain_name(name)?;
    let sid = check_sid(sid)?;
    sqlx::query(
        "INSERT INTO domain_names (name, name_key, sid, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name_key) DO UPDATE SET name = ?1, sid = ?3",
    )
    .bind(&name)
    .bind(fold_name(&name))
    .bind(&sid)
    .bind(now())
    .execute(db)
    .await?;
    bump_version(db).await?;
    Ok((name, sid))
}

pub async fn remove_domain_name(db: &SqlitePool, name: &str) -> AppResult<String> {
    let removed: Option<String> = sqlx::query_scalar("DELETE FROM domain_names WHERE name_key = ? RETURNING name")
        .bind(fold_name(name.trim()))
        .fetch_optional(db)
        .await?;
    let removed =
        removed.ok_or_else(|| AppError::NotFound(format!("No domain name '{}' is recorded.", name.trim())))?;
    bump_version(db).await?;
    Ok(removed)
}

/// Kerberos as the engine applies it.
pub async fn kerberos_settings(db: &SqlitePool) -> AppResult<KerberosSettings> {
    let defaults = KerberosSettings::default();
    let max_skew = setting(db, "kerberos_max_skew_seconds")
        .await?
        .and_then(|value| value.parse().ok())
        .map_or(defaults.max_skew, Duration::from_secs);
    let ntlm = setting(db, "ntlm_policy").await?.and_then(|value| NtlmPolicy::parse(&value)).unwrap_or_default();
    Ok(KerberosSettings {
        keys: service_keys(db).await?,
        max_skew,
        ntlm,
        principal_map: list_principal_map(db).await?,
        domain_names: list_domain_names(db).await?,
    })
}
