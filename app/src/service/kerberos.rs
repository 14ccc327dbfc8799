//! Kerberos and NTLM: realms and their KDCs, keytab import and removal, principal mappings,
//! domain names, the NTLM policy, and the status the Identity page and `edgeshare kerberos
//! status` show.

use smb_core::auth::kerberos::{enctype_name, read_keytab};
use smb_core::fold_name;

use crate::backend::kdc_proxy::ProxyOutcome;
use crate::backend::{kerberos, rfc3339, smb};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::identity::{
    DomainNameView, IdentityStatus, KdcCheck, KdcProxyView, KeyView, KeytabImported, MappingView, NameCoverage,
    RealmView,
};
use crate::service::{Actor, Control};

/// The names clients use: the server's own (when it runs in this process) and every SMB over
/// QUIC mapping's.
/// The names clients use: the server's own, then the SMB over QUIC mappings' (which are also
/// the names the KDC proxy has a certificate for).
fn client_names(server_name: Option<&str>, mapped: &[String]) -> Vec<String> {
    let mut names: Vec<String> = server_name.map(str::to_owned).into_iter().collect();
    for name in mapped {
        if !names.iter().any(|known| known.eq_ignore_ascii_case(name)) {
            names.push(name.clone());
        }
    }
    names
}

/// Whether the key of `principal` (`cifs/NAME@REALM`) serves clients that use `name`.
pub fn covers(principal: &str, name: &str) -> bool {
    principal
        .split_once('@')
        .and_then(|(service, _)| service.split_once('/'))
        .is_some_and(|(kind, host)| kind.eq_ignore_ascii_case("cifs") && host.eq_ignore_ascii_case(name))
}

/// A TCP port for the KDC proxy (`port`), checked as its setting is and refused when it is the
/// console's; errors name `field`.
pub fn check_kdc_proxy_port(control: &Control, port: &str, field: &'static str) -> AppResult<String> {
    let port = smb::check_setting(smb::setting_spec("kdc_proxy_port")?, port).map_err(at(field))?;
    if let Some(console) = control.console_port()
        && port == console.to_string()
    {
        return Err(AppError::invalid(
            field,
            format!("The console listens on TCP {console}: give the KDC proxy another port."),
        ));
    }
    Ok(port)
}

pub async fn status(control: &Control) -> AppResult<IdentityStatus> {
    let db = &control.db;
    let keys = kerberos::list_keys(db).await?;
    let mapped: Vec<String> =
        crate::backend::certs::list_mappings(db).await?.into_iter().map(|mapping| mapping.name).collect();
    let coverage = client_names(control.server_name(), &mapped)
        .into_iter()
        .map(|name| {
            let mut principals: Vec<String> =
                keys.iter().filter(|key| covers(&key.principal, &name)).map(|key| key.principal.clone()).collect();
            principals.dedup();
            NameCoverage { name, principals }
        })
        .collect();
    let settings = smb::list_settings(db).await?;
    let value =
        |key: &str| settings.iter().find(|(spec, _)| spec.key == key).map(|(_, v)| v.clone()).unwrap_or_default();
    Ok(IdentityStatus {
        realms: kerberos::list_realms(db)
            .await?
            .into_iter()
            .map(|realm| RealmView { name: realm.name, kdcs: realm.kdcs })
            .collect(),
        keys: keys
            .iter()
            .map(|key| KeyView {
                principal: key.principal.clone(),
                kvno: key.kvno,
                enctype: key.enctype_name(),
                imported_at: rfc3339(key.imported_at),
                source: key.source.clone(),
            })
            .collect(),
        coverage,
        mappings: kerberos::list_principal_map(db)
            .await?
            .into_iter()
            .map(|(principal, user)| MappingView { principal, user })
            .collect(),
        domain_names: kerberos::list_domain_names(db)
            .await?
            .into_iter()
            .map(|(name, sid)| DomainNameView { name, sid })
            .collect(),
        ntlm_policy: value("ntlm_policy"),
        max_skew_seconds: value("kerberos_max_skew_seconds").parse().unwrap_or(300),
        kdc_proxy: kdc_proxy_view(control, &value, mapped),
    })
}

fn kdc_proxy_view(control: &Control, value: &dyn Fn(&str) -> String, names: Vec<String>) -> KdcProxyView {
    let running = control.kdc_proxy();
    let outcomes = running.map(|state| state.outcomes()).unwrap_or_default();
    let forwarded = outcomes.iter().filter(|(o, _)| *o == ProxyOutcome::Forwarded).map(|(_, n)| n).sum();
    let failed = outcomes.iter().filter(|(o, _)| *o != ProxyOutcome::Forwarded).map(|(_, n)| n).sum();
    KdcProxyView {
        enabled: value("kdc_proxy_enabled") == "true",
        address: value("kdc_proxy_address"),
        port: value("kdc_proxy_port").parse().unwrap_or(443),
        timeout_seconds: value("kdc_proxy_timeout_seconds").parse().unwrap_or(10),
        listening: running.and_then(|state| state.listening()).map(|address| address.to_string()),
        error: running.and_then(|state| state.error()),
        names,
        forwarded,
        failed,
    }
}

/// Turns the KDC proxy on, at `port` and `address` when given (else as configured). Refused
/// without a realm to serve, and on the console's own port.
pub async fn enable_kdc_proxy(
    control: &Control,
    actor: &Actor,
    port: Option<&str>,
    address: Option<&str>,
) -> AppResult<KdcProxyView> {
    if kerberos::list_realms(&control.db).await?.is_empty() {
        return Err(AppError::Conflict(
            "Add a realm and its KDCs first: the KDC proxy forwards only to configured realms.".into(),
        ));
    }
    let port_value = match port {
        Some(port) => port.to_owned(),
        None => smb::setting(&control.db, "kdc_proxy_port").await?.unwrap_or_else(|| "443".into()),
    };
    let port_value = check_kdc_proxy_port(control, &port_value, "port")?;
    let mut changes =
        vec![crate::service::settings::Change { field: "port", key: "kdc_proxy_port", value: &port_value }];
    if let Some(address) = address {
        changes.push(crate::service::settings::Change { field: "address", key: "kdc_proxy_address", value: address });
    }
    changes.push(crate::service::settings::Change { field: "enabled", key: "kdc_proxy_enabled", value: "true" });
    crate::service::settings::change(control, actor, &changes).await?;
    if let (Some(proxy), Ok(port)) = (control.kdc_proxy(), port_value.parse()) {
        proxy.settled(true, port, PROXY_SETTLES).await;
    }
    Ok(status(control).await?.kdc_proxy)
}

pub async fn disable_kdc_proxy(control: &Control, actor: &Actor) -> AppResult<KdcProxyView> {
    let change = crate::service::settings::Change { field: "enabled", key: "kdc_proxy_enabled", value: "false" };
    crate::service::settings::change(control, actor, &[change]).await?;
    if let Some(proxy) = control.kdc_proxy() {
        proxy.settled(false, 0, PROXY_SETTLES).await;
    }
    Ok(status(control).await?.kdc_proxy)
}

/// How long turning the KDC proxy on or off waits for the listener, in this process, to follow.
const PROXY_SETTLES: std::time::Duration = std::time::Duration::from_secs(3);

fn at(field: &'static str) -> impl Fn(AppError) -> AppError {
    move |error| match error {
        AppError::Invalid { message, .. } => AppError::invalid(field, message),
        other => other,
    }
}

/// Adds a realm or replaces its KDCs. Returns the realm as stored.
pub async fn set_realm(control: &Control, actor: &Actor, name: &str, kdcs: &[String]) -> AppResult<RealmView> {
    let (realm, new) = kerberos::set_realm(&control.db, name, kdcs).await?;
    control.apply().await?;
    let detail = format!("{} KDCs: {}", if new { "added;" } else { "changed;" }, realm.kdcs.join(", "));
    control.audit(actor.did(Action::KerberosRealm, &realm.name).detail(detail)).await;
    Ok(RealmView { name: realm.name, kdcs: realm.kdcs })
}

pub async fn remove_realm(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    let name = kerberos::remove_realm(&control.db, name).await?;
    control.apply().await?;
    control.audit(actor.did(Action::KerberosRealm, &name).detail("removed")).await;
    Ok(name)
}

/// Imports a keytab file's keys. `source` is the file's name, for the list and the audit log.
pub async fn import_keytab(control: &Control, actor: &Actor, bytes: &[u8], source: &str) -> AppResult<KeytabImported> {
    let contents = read_keytab(bytes).map_err(|message| AppError::invalid("keytab", message))?;
    let source = source.rsplit(['/', '\\']).next().unwrap_or(source).chars().take(200).collect::<String>();
    let report = kerberos::import_keys(&control.db, &contents, &source).await?;
    control.apply().await?;
    let imported = KeytabImported {
        added: report.added,
        replaced: report.replaced,
        skipped: report
            .skipped
            .iter()
            .map(|s| format!("{} kvno {} {}", s.principal, s.kvno, enctype_name(s.enctype)))
            .collect(),
        principals: report.principals,
    };
    let detail = format!(
        "{} key(s) added, {} replaced, {} skipped; principals: {}",
        imported.added,
        imported.replaced,
        imported.skipped.len(),
        imported.principals.join(", ")
    );
    control.audit(actor.did(Action::KerberosKeytab, &source).detail(detail)).await;
    Ok(imported)
}

/// Removes a principal's keys (one key version, or all). Refused when it would leave no key
/// while NTLM is refused: nobody could sign in.
pub async fn remove_keys(control: &Control, actor: &Actor, principal: &str, kvno: Option<u32>) -> AppResult<u64> {
    let keys = kerberos::list_keys(&control.db).await?;
    let remaining = keys.iter().filter(|key| key.principal != principal.trim() || kvno.is_some_and(|v| v != key.kvno));
    if remaining.count() == 0 && smb::setting(&control.db, "ntlm_policy").await?.as_deref() == Some("refuse") {
        return Err(AppError::Conflict(
            "NTLM is refused and these are the last Kerberos keys: nobody could sign in. Allow NTLM first.".into(),
        ));
    }
    let removed = kerberos::remove_keys(&control.db, principal, kvno).await?;
    control.apply().await?;
    let which = kvno.map_or("every key version".to_owned(), |kvno| format!("key version {kvno}"));
    control
        .audit(actor.did(Action::KerberosKeytab, principal.trim()).detail(format!("removed {removed} key(s), {which}")))
        .await;
    Ok(removed)
}

/// Sets the NTLM policy (`allow` or `refuse`). Refusing needs a Kerberos key: without one,
/// nobody could sign in.
pub async fn set_ntlm_policy(control: &Control, actor: &Actor, policy: &str) -> AppResult<String> {
    let spec = smb::setting_spec("ntlm_policy")?;
    let policy = smb::check_setting(spec, policy).map_err(|e| match e {
        AppError::Invalid { message, .. } => AppError::invalid("ntlm_policy", message),
        other => other,
    })?;
    if policy == "refuse" && kerberos::list_keys(&control.db).await?.is_empty() {
        return Err(AppError::invalid(
            "ntlm_policy",
            "Import a keytab before refusing NTLM: without Kerberos keys, nobody could sign in.",
        ));
    }
    let change = crate::service::settings::Change { field: "ntlm_policy", key: "ntlm_policy", value: &policy };
    crate::service::settings::change(control, actor, &[change]).await?;
    Ok(policy)
}

pub async fn map_principal(control: &Control, actor: &Actor, principal: &str, user: &str) -> AppResult<MappingView> {
    let (principal, user) = kerberos::map_principal(&control.db, principal, user).await?;
    control.apply().await?;
    control
        .audit(actor.did(Action::KerberosMapping, &principal).detail(format!("signs in as the SMB user {user}")))
        .await;
    Ok(MappingView { principal, user })
}

pub async fn unmap_principal(control: &Control, actor: &Actor, principal: &str) -> AppResult<String> {
    let principal = kerberos::unmap_principal(&control.db, principal).await?;
    control.apply().await?;
    control.audit(actor.did(Action::KerberosMapping, &principal).detail("mapping removed")).await;
    Ok(principal)
}

pub async fn set_domain_name(control: &Control, actor: &Actor, name: &str, sid: &str) -> AppResult<DomainNameView> {
    let (name, sid) = kerberos::set_domain_name(&control.db, name, sid).await?;
    control.apply().await?;
    control.audit(actor.did(Action::KerberosName, &name).detail(format!("SID {sid}"))).await;
    Ok(DomainNameView { name, sid })
}

/// Removes a recorded domain name, refused while a share permission names it.
pub async fn remove_domain_name(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    let used: Vec<String> = sqlx::query_scalar(
        "SELECT s.name FROM share_permissions p JOIN shares s ON s.id = p.share_id WHERE p.principal_key = ?",
    )
    .bind(fold_name(name.trim()))
    .fetch_all(&control.db)
    .await?;
    if !used.is_empty() {
        return Err(AppError::Conflict(format!(
            "'{}' has permissions on {}: remove them first.",
            name.trim(),
            used.join(", ")
        )));
    }
    let name = kerberos::remove_domain_name(&control.db, name).await?;
    control.apply().await?;
    control.audit(actor.did(Action::KerberosName, &name).detail("removed")).await;
    Ok(name)
}

/// How long one KDC may take to answer in [`check_kdcs`].
const KDC_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The longest KDC answer the check reads.
const KDC_CHECK_MAX_REPLY: usize = 64 * 1024;

/// Asks a KDC over TCP for something it cannot grant ([`clock_probe`]) and reads its clock from
/// the KRB-ERROR: the KDC's time minus ours, in seconds, measured at the answer's arrival. An
/// error is what to show: no connection, or no Kerberos answer.
async fn probe_kdc(host: &str, port: u16, realm: &str) -> Result<i64, String> {
    use smb_core::auth::kerberos::kkdcp::tcp_framed;
    use smb_core::auth::kerberos::service_ticket::{clock_probe, kdc_time};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let now = smb_core::engine::clock::unix(std::time::SystemTime::now());
    let request = clock_probe(realm, now, rand::random())?;
    let request = tcp_framed(&request).ok_or("the probe is too long")?;
    let mut stream =
        tokio::net::TcpStream::connect((host, port)).await.map_err(|error| format!("cannot connect: {error}"))?;
    const NO_ANSWER: &str = "accepts connections but gives no Kerberos answer";
    stream.write_all(&request).await.map_err(|_| NO_ANSWER)?;
    let length = stream.read_u32().await.map_err(|_| NO_ANSWER)? as usize;
    if length == 0 || length > KDC_CHECK_MAX_REPLY {
        return Err(NO_ANSWER.to_owned());
    }
    let mut reply = vec![0; length];
    stream.read_exact(&mut reply).await.map_err(|_| NO_ANSWER)?;
    let (ours, _) = smb_core::engine::clock::unix(std::time::SystemTime::now());
    let theirs = kdc_time(&reply).ok_or("answers, but not as a Kerberos KDC does")?;
    Ok(theirs - ours)
}

/// "its clock agrees with ours", "its clock is 42 s ahead of ours".
fn clock_phrase(offset: i64) -> String {
    match offset {
        -1..=1 => "its clock agrees with ours".to_owned(),
        ahead if ahead > 0 => format!("its clock is {ahead} s ahead of ours"),
        behind => format!("its clock is {} s behind ours", -behind),
    }
}

/// Whether each KDC of `realm` answers a Kerberos request on its port (TCP), how fast, and how
/// far its clock is from ours, in the realm's order.
pub async fn check_kdcs(control: &Control, realm: &str) -> AppResult<Vec<KdcCheck>> {
    let realm = kerberos::find_realm(&control.db, realm)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("No realm named '{}'.", realm.trim())))?;
    // All at once: a realm with dead KDCs answers in one timeout, not one per KDC (the health
    // report runs this at every load).
    let mut probes = tokio::task::JoinSet::new();
    for (index, kdc) in realm.kdcs.into_iter().enumerate() {
        let Some((host, port)) = kerberos::split_host_port(&kdc) else { continue };
        let host = host.to_owned();
        let realm = realm.name.clone();
        probes.spawn(async move {
            let started = std::time::Instant::now();
            let probe = tokio::time::timeout(KDC_CHECK_TIMEOUT, probe_kdc(&host, port, &realm)).await;
            let (reachable, detail, clock_offset_seconds) = match probe {
                Ok(Ok(offset)) => (
                    true,
                    format!("answered in {} ms, {}", started.elapsed().as_millis(), clock_phrase(offset)),
                    Some(offset),
                ),
                Ok(Err(error)) => (false, error, None),
                Err(_) => (false, format!("no answer within {} s", KDC_CHECK_TIMEOUT.as_secs()), None),
            };
            (index, KdcCheck { kdc, reachable, detail, clock_offset_seconds })
        });
    }
    let mut checks = probes.join_all().await;
    checks.sort_by_key(|(index, _)| *index);
    let checks = checks.into_iter().map(|(_, check)| check).collect();
    Ok(checks)
}
