//! Server names mapped to certificates for SMB over QUIC (like `New-SmbServerCertificateMapping`),
//! client access entries per name, and the QUIC settings the engine serves.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use smb_core::{CertificateMapping, ClientAccess, ClientMatch, QuicSettings};
use sqlx::SqlitePool;
use zeroize::Zeroizing;

use super::*;
use crate::backend::now;
use crate::backend::smb::{bump_version, setting};
use crate::error::{AppError, AppResult};

/// A server name's certificate mapping, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub name: String,
    pub thumbprint: String,
    pub require_client_auth: bool,
    pub skip_client_access_check: bool,
    pub allow_named_pipes: bool,
    pub is_default: bool,
}

pub async fn list_mappings(db: &SqlitePool) -> AppResult<Vec<Mapping>> {
    let rows: Vec<(String, String, bool, bool, bool, bool)> = sqlx::query_as(
        "SELECT name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, is_default \
         FROM quic_mappings ORDER BY name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, is_default)| {
            Mapping { name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, is_default }
        })
        .collect())
}

/// Maps a server name to a certificate (replacing its mapping, if any). The name must be among
/// the certificate's names (subject alternative names, or its subject's common name) and the
/// certificate must pass the checks.
pub async fn map(db: &SqlitePool, mapping: &Mapping) -> AppResult<Mapping> {
    let name = mapping.name.trim().trim_end_matches('.').to_ascii_lowercase();
    if !valid_dns_name(&name) || name.starts_with("*.") {
        return Err(AppError::invalid("name", format!("'{name}' is not a server name clients can use.")));
    }
    let cert = require(db, &mapping.thumbprint).await?;
    if !cert.info.covers(&name) {
        return Err(AppError::invalid(
            "name",
            format!(
                "{name} is not among the certificate's names ({}).",
                if cert.info.dns_names.is_empty() { cert.info.subject.clone() } else { cert.info.dns_names.join(", ") }
            ),
        ));
    }
    let at = now();
    if let Some(failed) = cert.checks(at).into_iter().find(|c| c.status == CheckStatus::Fail) {
        return Err(AppError::invalid(
            "thumbprint",
            format!(
                "Certificate {} cannot serve SMB over QUIC: {}: {}. {}",
                cert.info.thumbprint,
                failed.name,
                failed.detail,
                failed.fix.unwrap_or_default()
            ),
        ));
    }
    let mut stored = Mapping { name, thumbprint: cert.info.thumbprint.clone(), ..mapping.clone() };
    let mut tx = db.begin().await?;
    if stored.is_default {
        sqlx::query("UPDATE quic_mappings SET is_default = 0 WHERE is_default = 1").execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO quic_mappings (name, thumbprint, require_client_auth, skip_client_access_check, allow_named_pipes, \
         is_default, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO UPDATE SET thumbprint = ?2, \
         require_client_auth = ?3, skip_client_access_check = ?4, allow_named_pipes = ?5, is_default = ?6",
    )
    .bind(&stored.name)
    .bind(&stored.thumbprint)
    .bind(stored.require_client_auth)
    .bind(stored.skip_client_access_check)
    .bind(stored.allow_named_pipes)
    .bind(stored.is_default)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    bump_version(db).await?;
    stored.is_default = mapping.is_default;
    Ok(stored)
}

/// Removes a server name's mapping: clients using that name are refused from then on.
pub async fn unmap(db: &SqlitePool, name: &str) -> AppResult<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let removed = sqlx::query("DELETE FROM quic_mappings WHERE name = ?").bind(&name).execute(db).await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("No mapping for {name}.")));
    }
    bump_version(db).await?;
    Ok(name)
}

/// The port SMB over QUIC listens on unless configured.
pub const DEFAULT_QUIC_PORT: u16 = 443;

/// SMB over QUIC as the engine needs it: listener settings and the mappings with their chains
/// and keys.
/// A mapping with its certificate, as the engine needs it.
#[derive(sqlx::FromRow)]
pub(super) struct MappedRow {
    name: String,
    thumbprint: String,
    chain_pem: String,
    key_pem: String,
    allow_named_pipes: bool,
    is_default: bool,
    require_client_auth: bool,
    skip_client_access_check: bool,
}

/// Where SMB over QUIC listens (or would): the stored address and port, or the defaults.
pub async fn quic_address(db: &SqlitePool) -> AppResult<SocketAddr> {
    let port = setting(db, "quic_port").await?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_QUIC_PORT);
    let default_ip = QuicSettings::default().address.ip();
    let ip: IpAddr = setting(db, "quic_address").await?.and_then(|v| v.parse().ok()).unwrap_or(default_ip);
    Ok(SocketAddr::new(ip, port))
}

pub async fn quic_settings(db: &SqlitePool) -> AppResult<QuicSettings> {
    let defaults = QuicSettings::default();
    let flag = |value: Option<String>| value.is_some_and(|v| v == "true");
    let number = |value: Option<String>, default: u64| value.and_then(|v| v.parse().ok()).unwrap_or(default);
    let address = quic_address(db).await?;
    let rows: Vec<MappedRow> = sqlx::query_as(
        "SELECT m.name, m.thumbprint, c.chain_pem, c.key_pem, m.allow_named_pipes, m.is_default, \
         m.require_client_auth, m.skip_client_access_check FROM quic_mappings m \
         JOIN certificates c ON c.thumbprint = m.thumbprint WHERE c.key_pem IS NOT NULL",
    )
    .fetch_all(db)
    .await?;
    let all_access = list_access(db).await?;
    let mut mappings = Vec::new();
    let mut default_mapping = None;
    for row in rows {
        let chain = parse_chain(&row.chain_pem)?.into_iter().map(|der| der.to_vec()).collect();
        if row.is_default {
            default_mapping = Some(row.name.clone());
        }
        let access =
            all_access.iter().filter(|a| a.name.eq_ignore_ascii_case(&row.name)).map(|a| a.entry.clone()).collect();
        mappings.push(CertificateMapping {
            name: row.name,
            thumbprint: row.thumbprint,
            chain,
            key: Zeroizing::new(row.key_pem.into_bytes()),
            allow_named_pipes: row.allow_named_pipes,
            require_client_auth: row.require_client_auth,
            skip_client_access_check: row.skip_client_access_check,
            access,
        });
    }
    let seconds = |key: &'static str, default: Duration| async move {
        AppResult::Ok(Duration::from_secs(number(setting(db, key).await?, default.as_secs())))
    };
    Ok(QuicSettings {
        enabled: flag(setting(db, "quic_enabled").await?),
        address,
        mappings,
        default_mapping,
        idle_timeout: seconds("quic_idle_timeout_seconds", defaults.idle_timeout).await?,
        keep_alive: seconds("quic_keep_alive_seconds", defaults.keep_alive).await?,
        client_cas: client_cas(db).await?,
    })
}

/// Every CA certificate of the store (DER): the anchors client certificate chains must reach.
pub(super) async fn client_cas(db: &SqlitePool) -> AppResult<Vec<Vec<u8>>> {
    let chains: Vec<String> =
        sqlx::query_scalar("SELECT chain_pem FROM certificates WHERE is_ca = 1 AND not_after > ?")
            .bind(now())
            .fetch_all(db)
            .await?;
    let mut cas = Vec::new();
    for pem in chains {
        cas.push(parse_chain(&pem)?[0].to_vec());
    }
    Ok(cas)
}

/// One client access entry of a server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessEntry {
    pub name: String,
    pub entry: ClientAccess,
}

pub async fn list_access(db: &SqlitePool) -> AppResult<Vec<AccessEntry>> {
    let rows: Vec<(String, String, String, bool)> =
        sqlx::query_as("SELECT name, kind, value, allow FROM quic_client_access ORDER BY name, allow, kind, value")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(name, kind, value, allow)| {
            let matches = if kind == "sha256" { ClientMatch::Sha256(value) } else { ClientMatch::Issuer(value) };
            AccessEntry { name, entry: ClientAccess { matches, allow } }
        })
        .collect())
}

/// Checks what an administrator typed for an access entry: a SHA-256 (64 hex digits, spaces or
/// colons allowed) or an issuer distinguished name.
pub fn client_match(sha256: Option<&str>, issuer: Option<&str>) -> AppResult<ClientMatch> {
    match (sha256, issuer) {
        (Some(hash), None) => {
            let hex: String =
                hash.chars().filter(|c| !c.is_whitespace() && *c != ':').collect::<String>().to_ascii_uppercase();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(AppError::invalid("sha256", "A SHA-256 is 64 hexadecimal digits."));
            }
            Ok(ClientMatch::Sha256(hex))
        }
        (None, Some(issuer)) => {
            let issuer = issuer.trim();
            if issuer.is_empty() || !issuer.contains('=') {
                return Err(AppError::invalid(
                    "issuer",
                    "Give the issuer's distinguished name, e.g. CN=Example Issuing CA, O=Example.",
                ));
            }
            Ok(ClientMatch::Issuer(issuer.to_owned()))
        }
        _ => Err(AppError::invalid("sha256", "Give either a SHA-256 or an issuer, not both.")),
    }
}

/// Adds (`add`) or removes an allow (`allow`) or block entry for the mapped server `name`.
pub async fn change_access(
    db: &SqlitePool,
    name: &str,
    matches: &ClientMatch,
    allow: bool,
    add: bool,
) -> AppResult<String> {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if !list_mappings(db).await?.iter().any(|m| m.name.eq_ignore_ascii_case(&name)) {
        return Err(AppError::NotFound(format!("No mapping for {name}: map it first (edgeshare quic map).")));
    }
    let (kind, value) = match matches {
        ClientMatch::Sha256(hash) => ("sha256", hash.as_str()),
        ClientMatch::Issuer(issuer) => ("issuer", issuer.as_str()),
    };
    if add {
        sqlx::query(
            "INSERT OR IGNORE INTO quic_client_access (name, kind, value, allow, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&name)
        .bind(kind)
        .bind(value)
        .bind(allow)
        .bind(now())
        .execute(db)
        .await?;
    } else {
        let removed =
            sqlx::query("DELETE FROM quic_client_access WHERE name = ? AND kind = ? AND value = ? AND allow = ?")
                .bind(&name)
                .bind(kind)
                .bind(value)
                .bind(allow)
                .execute(db)
                .await?;
        if removed.rows_affected() == 0 {
            let what = if allow { "allow" } else { "block" };
            return Err(AppError::NotFound(format!("{name} has no such {what} entry.")));
        }
    }
    bump_version(db).await?;
    Ok(name)
}
