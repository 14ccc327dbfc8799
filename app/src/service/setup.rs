//! The setup wizard's last step: everything it gathered is checked first, then applied (first
//! user, first share with Full access for that user, server names mapped, SMB over QUIC on, and
//! when asked for the realm, its keytab and the KDC proxy), so a refusal leaves the
//! configuration as it was.

use std::net::{IpAddr, SocketAddr};

use smb_core::{Access, ShareConfig};

use smb_core::auth::kerberos::read_keytab;

use crate::backend::certs::{self, CheckStatus, Mapping};
use crate::backend::{kerberos, now, quic, smb};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::setup::{KerberosSetup, KerberosSummary, SetupRequest, SetupSummary};
use crate::service::{Actor, Control};

/// The same error under the wizard's name for the field.
fn as_field(error: AppError, field: &str) -> AppError {
    match error {
        AppError::Invalid { message, .. } => AppError::Invalid { field: field.into(), message },
        other => other,
    }
}

pub async fn apply(control: &Control, actor: &Actor, request: &SetupRequest) -> AppResult<SetupSummary> {
    let db = &control.db;
    // The certificate and the names.
    let cert =
        certs::get(db, &certs::normalize_thumbprint(&request.thumbprint).map_err(|e| as_field(e, "certificate"))?)
            .await?
            .ok_or_else(|| AppError::invalid("certificate", "Choose or create a certificate first."))?;
    if let Some(failed) = cert.checks(now()).into_iter().find(|c| c.status == CheckStatus::Fail) {
        return Err(AppError::invalid(
            "certificate",
            format!("This certificate cannot serve SMB over QUIC: {}: {}.", failed.name, failed.detail),
        ));
    }
    let names: Vec<String> =
        crate::model::certs::split_names(&request.names).iter().map(|n| n.to_ascii_lowercase()).collect();
    if names.is_empty() {
        return Err(AppError::invalid("names", "Choose at least one name clients will use."));
    }
    if let Some(name) = names.iter().find(|n| !cert.info.covers(n) || n.starts_with("*.")) {
        return Err(AppError::invalid("names", format!("{name} is not a name of this certificate.")));
    }
    // Where to listen.
    let ip: IpAddr =
        request.address.trim().parse().map_err(|_| {
            AppError::invalid("address", "Give an IP address to listen on, such as :: (all addresses).")
        })?;
    let port: u16 = request
        .port
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| AppError::invalid("port", "Give a UDP port from 1 to 65535 (clients use 443)."))?;
    let listen = SocketAddr::new(ip, port);
    if let Some(engine) = control.engine()
        && let Some(error) = quic::port_taken(engine, listen)
    {
        return Err(AppError::invalid("port", format!("UDP {listen} cannot be used: {error}. Choose another port.")));
    }
    // The first share and user.
    let share_name = smb::check_share_name(&request.share).map_err(|e| as_field(e, "share"))?.to_owned();
    let path = smb::check_share_path(&request.path)?;
    if smb::list_shares(db).await?.iter().any(|s| smb_core::same_name(&s.config.name, &share_name)) {
        return Err(AppError::invalid("share", format!("A share named '{share_name}' already exists.")));
    }
    let user = smb::check_user_name(&request.user).map_err(|e| as_field(e, "user"))?.to_owned();
    smb::check_smb_password(&request.password)?;
    if request.password != request.confirm {
        return Err(AppError::invalid("confirm", "The two passwords differ."));
    }
    if smb::list_users(db).await?.iter().any(|u| smb_core::same_name(&u.name, &user)) {
        return Err(AppError::invalid("user", format!("A user named '{user}' already exists: choose another name.")));
    }
    let kerberos = match &request.kerberos {
        Some(setup) => Some(check_kerberos(control, setup, &names).await?),
        None => None,
    };

    // Everything checked: apply.
    let user = smb::add_user(db, &user, &request.password).await?;
    smb::add_share(
        db,
        &ShareConfig {
            name: share_name.clone(),
            path: path.clone(),
            description: "Created by the setup wizard".into(),
            permissions: vec![(user.clone(), Access::Full)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        },
    )
    .await?;
    for name in &names {
        let mapping = Mapping {
            name: name.clone(),
            thumbprint: cert.info.thumbprint.clone(),
            require_client_auth: false,
            skip_client_access_check: false,
            allow_named_pipes: false,
            is_default: false,
        };
        certs::map(db, &mapping).await?;
    }
    smb::change_setting(db, "quic_address", &ip.to_string()).await?;
    smb::change_setting(db, "quic_port", &port.to_string()).await?;
    smb::change_setting(db, "quic_enabled", "true").await?;
    control.apply().await?;
    let listening = listen.to_string();
    let detail = format!("names {}, share {share_name} for {user}, listening on UDP {listening}", names.join(", "));
    control.audit(actor.did(Action::QuicSetup, &names.join(", ")).detail(detail)).await;
    let kerberos = match kerberos {
        Some(checked) => Some(apply_kerberos(control, actor, checked, ip).await?),
        None => None,
    };
    // What clients must trust: nothing when a public CA issued the certificate.
    let trust = cert.checks(now()).into_iter().find(|c| c.name == "Trust").filter(|c| c.status != CheckStatus::Pass);
    let trust_export = trust.map(|_| (cert.info.thumbprint.clone(), !cert.info.self_signed));
    Ok(SetupSummary {
        names,
        share: share_name,
        user,
        listening,
        port,
        thumbprint: cert.info.thumbprint.clone(),
        trust_export_ca: trust_export.as_ref().map(|(_, ca)| *ca),
        kerberos,
    })
}

/// The Kerberos step, checked: nothing of it is stored yet.
struct CheckedKerberos {
    realm: String,
    kdcs: Vec<String>,
    keytab: Vec<u8>,
    keytab_name: String,
    proxy_port: String,
}

/// Checks the Kerberos step before anything is applied: the realm and its KDCs, a keytab of that
/// realm with a `cifs/` key for every name clients will use (the point of the step: those
/// names are what remote clients ask tickets for), and a TCP port for the KDC proxy that is not
/// the console's.
async fn check_kerberos(control: &Control, setup: &KerberosSetup, names: &[String]) -> AppResult<CheckedKerberos> {
    use base64::Engine;
    let realm = kerberos::check_realm_name(&setup.realm)?;
    let kdcs = crate::model::certs::split_names(&setup.kdcs);
    if kdcs.is_empty() {
        return Err(AppError::invalid("kdcs", "Give at least one KDC of the realm (host or host:port)."));
    }
    let kdcs = kdcs.iter().map(|kdc| kerberos::check_kdc(kdc)).collect::<AppResult<Vec<_>>>()?;
    let keytab = base64::engine::general_purpose::STANDARD
        .decode(setup.keytab_base64.trim())
        .ok()
        .filter(|bytes| !bytes.is_empty())
        .ok_or_else(|| AppError::invalid("keytab", "Choose the keytab of the names clients use."))?;
    let contents = read_keytab(&keytab).map_err(|message| AppError::invalid("keytab", message))?;
    if let Some(key) = contents.keys.iter().find(|key| !key.realm.eq_ignore_ascii_case(&realm)) {
        return Err(AppError::invalid(
            "keytab",
            format!("This keytab holds a key of {}, not of the realm {realm}.", key.principal()),
        ));
    }
    let principals: Vec<String> = contents.keys.iter().map(|key| key.principal()).collect();
    let missing: Vec<&str> = names
        .iter()
        .filter(|name| !principals.iter().any(|principal| crate::service::kerberos::covers(principal, name)))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(
            "keytab",
            format!(
                "This keytab has no key of {}: export the cifs/ principal of every name clients use.",
                missing.iter().map(|name| format!("cifs/{name}@{realm}")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let proxy_port = crate::service::kerberos::check_kdc_proxy_port(control, &setup.proxy_port, "kdc_proxy_port")?;
    Ok(CheckedKerberos { realm, kdcs, keytab, keytab_name: setup.keytab_name.clone(), proxy_port })
}

/// Applies a checked Kerberos step with the Identity page's own service functions (each audited).
/// The KDC proxy listens on SMB over QUIC's address: the public one clients reach.
async fn apply_kerberos(
    control: &Control,
    actor: &Actor,
    checked: CheckedKerberos,
    address: IpAddr,
) -> AppResult<KerberosSummary> {
    let realm = crate::service::kerberos::set_realm(control, actor, &checked.realm, &checked.kdcs).await?;
    let name = if checked.keytab_name.trim().is_empty() { "keytab" } else { checked.keytab_name.as_str() };
    let imported = crate::service::kerberos::import_keytab(control, actor, &checked.keytab, name).await?;
    let address = address.to_string();
    let proxy =
        crate::service::kerberos::enable_kdc_proxy(control, actor, Some(&checked.proxy_port), Some(&address)).await?;
    Ok(KerberosSummary {
        realm: realm.name,
        principals: imported.principals,
        proxy_port: proxy.port,
        proxy_listening: proxy.listening,
        proxy_error: proxy.error,
    })
}
