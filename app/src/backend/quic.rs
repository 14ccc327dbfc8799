//! SMB over QUIC for the console: its status from the store and the running engine, turning it on
//! and off with a port check, and the client access preview.

use std::net::{SocketAddr, UdpSocket};

use crate::backend::certs::{self, StoredCert};
use crate::backend::{AppState, now, smb};
use crate::error::{AppError, AppResult};
use crate::model::quic::{AccessPreview, AccessRow, CertificateChoice, MappingRow, QuicStatus};

pub async fn status(state: &AppState) -> AppResult<QuicStatus> {
    let db = &state.db;
    let settings = certs::quic_settings(db).await?;
    let stored = certs::list(db).await?;
    let at = now();
    let find = |thumbprint: &str| stored.iter().find(|c| c.info.thumbprint == thumbprint);
    let mappings = certs::list_mappings(db)
        .await?
        .into_iter()
        .map(|m| {
            let cert = find(&m.thumbprint);
            MappingRow {
                subject: cert.map(|c| c.info.subject.clone()).unwrap_or_default(),
                days_left: cert.map(|c| (c.info.not_after - at).div_euclid(86_400)),
                name: m.name,
                thumbprint: m.thumbprint,
                require_client_auth: m.require_client_auth,
                skip_client_access_check: m.skip_client_access_check,
                allow_named_pipes: m.allow_named_pipes,
                is_default: m.is_default,
            }
        })
        .collect();
    let access = certs::list_access(db)
        .await?
        .into_iter()
        .map(|a| {
            let (kind, value) = match a.entry.matches {
                smb_core::ClientMatch::Sha256(hex) => ("sha256", hex),
                smb_core::ClientMatch::Issuer(dn) => ("issuer", dn),
            };
            AccessRow { name: a.name, allow: a.entry.allow, kind: kind.into(), value }
        })
        .collect();
    let certificates = stored
        .iter()
        .filter(|c| c.has_key && !c.info.is_ca)
        .map(|c: &StoredCert| CertificateChoice {
            thumbprint: c.info.thumbprint.clone(),
            subject: c.info.subject.clone(),
            dns_names: c.info.dns_names.clone(),
            usable: c.usable(at),
        })
        .collect();
    let flag = |value: Option<String>, default: bool| value.map_or(default, |v| v == "true");
    let sessions = state.engine.sessions();
    Ok(QuicStatus {
        enabled: settings.enabled,
        address: settings.address.ip().to_string(),
        port: settings.address.port(),
        listening: state.engine.quic_address().map(|a| a.to_string()),
        error: state.engine.quic_error(),
        connections_now: state.engine.connection_counts().1,
        sessions_now: sessions.iter().filter(|s| s.transport == smb_core::Transport::Quic).count(),
        encrypt_smb: flag(smb::setting(db, "quic_encrypt_smb").await?, false),
        auto_remap: flag(smb::setting(db, "quic_auto_remap").await?, true),
        mappings,
        access,
        certificates,
    })
}

/// Whether another program holds UDP `address` (the engine's own listener excepted).
pub fn port_taken(engine: &smb_core::EngineHandle, address: SocketAddr) -> Option<String> {
    if engine.quic_address() == Some(address) {
        return None;
    }
    UdpSocket::bind(address).err().map(|error| error.to_string())
}

/// What `name`'s access lists would do with the client certificate chain in `pem`.
pub async fn preview(state: &AppState, name: &str, pem: &str) -> AppResult<AccessPreview> {
    let settings = certs::quic_settings(&state.db).await?;
    let mapping = settings
        .mappings
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| AppError::invalid("name", format!("'{}' is not a mapped server name.", name.trim())))?;
    let chain: Vec<Vec<u8>> = certs::parse_chain(pem)?.into_iter().map(|der| der.to_vec()).collect();
    if !mapping.require_client_auth {
        return Ok(AccessPreview {
            allowed: true,
            reason: format!("{} does not ask for client certificates: every client may connect.", mapping.name),
        });
    }
    Ok(match smb_core::transport::client_access::decide(mapping, &chain) {
        Ok(reason) => AccessPreview { allowed: true, reason },
        Err(reason) => AccessPreview { allowed: false, reason },
    })
}
