//! Enterprise identity: Kerberos realms and their KDCs, keytab import, the NTLM policy, the KDC
//! proxy, domain names and principal mappings, as `edgeshare kerberos` and `edgeshare kdc-proxy`
//! do them.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::identity::{DomainNameView, IdentityStatus, KdcCheck, KeytabImported, MappingView, RealmView};
#[cfg(feature = "ssr")]
use crate::service::kerberos;

#[server(endpoint = "get_identity_status")]
pub async fn get_identity_status() -> Result<IdentityStatus, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        kerberos::status(&crate::service::Control::console()?).await
    })
    .await
}

/// Adds a realm or replaces its KDCs (one per line, or separated by commas or spaces).
#[server(endpoint = "set_realm")]
pub async fn set_realm(realm: String, kdcs: String) -> Result<RealmView, AppError> {
    super::as_admin(|control, actor| async move {
        let kdcs: Vec<String> =
            kdcs.split([',', ' ', '\n', '\r', '\t']).filter(|kdc| !kdc.is_empty()).map(str::to_owned).collect();
        kerberos::set_realm(&control, &actor, &realm, &kdcs).await
    })
    .await
}

#[server(endpoint = "remove_realm")]
pub async fn remove_realm(realm: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { kerberos::remove_realm(&control, &actor, &realm).await }).await
}

/// Whether each KDC of a realm answers (a TCP connection to its Kerberos port).
#[server(endpoint = "check_kdcs")]
pub async fn check_kdcs(realm: String) -> Result<Vec<KdcCheck>, AppError> {
    crate::backend::respond(async move {
        crate::backend::session::require_signed_in().await?;
        kerberos::check_kdcs(&crate::service::Control::console()?, &realm).await
    })
    .await
}

/// Imports a keytab file read by the browser (base64).
#[server(endpoint = "import_keytab")]
pub async fn import_keytab(keytab_base64: String, file_name: String) -> Result<KeytabImported, AppError> {
    super::as_admin(|control, actor| async move {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(keytab_base64.trim())
            .map_err(|_| AppError::invalid("keytab", "Choose a keytab file."))?;
        kerberos::import_keytab(&control, &actor, &bytes, &file_name).await
    })
    .await
}

/// Removes a principal's keys of one key version.
#[server(endpoint = "remove_keys")]
pub async fn remove_keys(principal: String, kvno: u32) -> Result<u64, AppError> {
    super::as_admin(
        |control, actor| async move { kerberos::remove_keys(&control, &actor, &principal, Some(kvno)).await },
    )
    .await
}

#[server(endpoint = "set_ntlm_policy")]
pub async fn set_ntlm_policy(policy: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { kerberos::set_ntlm_policy(&control, &actor, &policy).await }).await
}

/// Turns the KDC proxy on (at `port` and `address`) or off.
#[server(endpoint = "set_kdc_proxy")]
pub async fn set_kdc_proxy(enabled: bool, port: String, address: String) -> Result<bool, AppError> {
    super::as_admin(|control, actor| async move {
        if enabled {
            kerberos::enable_kdc_proxy(&control, &actor, Some(&port), Some(&address)).await?;
        } else {
            kerberos::disable_kdc_proxy(&control, &actor).await?;
        }
        Ok(enabled)
    })
    .await
}

#[server(endpoint = "set_domain_name")]
pub async fn set_domain_name(name: String, sid: String) -> Result<DomainNameView, AppError> {
    super::as_admin(|control, actor| async move { kerberos::set_domain_name(&control, &actor, &name, &sid).await })
        .await
}

#[server(endpoint = "remove_domain_name")]
pub async fn remove_domain_name(name: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { kerberos::remove_domain_name(&control, &actor, &name).await }).await
}

#[server(endpoint = "map_principal")]
pub async fn map_principal(principal: String, user: String) -> Result<MappingView, AppError> {
    super::as_admin(|control, actor| async move { kerberos::map_principal(&control, &actor, &principal, &user).await })
        .await
}

#[server(endpoint = "unmap_principal")]
pub async fn unmap_principal(principal: String) -> Result<String, AppError> {
    super::as_admin(|control, actor| async move { kerberos::unmap_principal(&control, &actor, &principal).await }).await
}
