//! The health report: what the configuration and the running engine say about SMB over QUIC.
//! [`report`] is a pure function of its inputs, so every verdict is testable without a server.

use std::net::SocketAddr;

use smb_core::ClientMatch;

use crate::backend::certs::{self, AccessEntry, CheckStatus, Mapping, StoredCert};
use crate::backend::{AppState, now, rfc3339};
use crate::error::AppResult;
use crate::model::health::{HealthItem, HealthReport, Level};
use crate::model::identity::{IdentityStatus, KdcCheck};

/// Everything the report looks at, gathered at one moment.
pub struct Inputs<'a> {
    /// Unix seconds: certificates are judged at this time.
    pub at: i64,
    pub quic_enabled: bool,
    pub quic_configured: SocketAddr,
    pub quic_bound: Option<SocketAddr>,
    pub quic_error: Option<String>,
    pub tcp_bound: Option<SocketAddr>,
    pub certificates: &'a [StoredCert],
    pub mappings: &'a [Mapping],
    pub access: &'a [AccessEntry],
    /// CA certificates in the store that client certificate chains can lead to.
    pub client_cas: usize,
    /// The resource budget in use, and what it refused.
    pub budget: &'a smb_core::BudgetUse,
}

fn item(area: &str, subject: &str, check: &str, level: Level, detail: String, fix: Option<&str>) -> HealthItem {
    HealthItem {
        area: area.to_owned(),
        subject: subject.to_owned(),
        check: check.to_owned(),
        level,
        detail,
        fix: if level == Level::Good { None } else { fix.map(str::to_owned) },
    }
}

/// A certificate check's status as a health verdict.
pub fn level_of(status: CheckStatus) -> Level {
    match status {
        CheckStatus::Pass => Level::Good,
        CheckStatus::Warning => Level::Warning,
        CheckStatus::Fail => Level::Critical,
    }
}

/// The items of the report, in the order the page shows them.
pub fn report(inputs: &Inputs<'_>) -> Vec<HealthItem> {
    let mut items = Vec::new();
    listener(inputs, &mut items);
    budget(inputs.budget, &mut items);
    if inputs.quic_enabled && inputs.mappings.is_empty() {
        items.push(item(
            "SMB over QUIC",
            "Server names",
            "Mappings",
            Level::Critical,
            "No server name is mapped to a certificate: every client is refused.".into(),
            Some("Map the names clients use to a certificate (SMB over QUIC page, or `edgeshare quic map`)."),
        ));
    }
    for mapping in inputs.mappings {
        mapped_certificate(inputs, mapping, &mut items);
        client_access(inputs, mapping, &mut items);
        if mapping.allow_named_pipes {
            items.push(item(
                "Named pipes",
                &mapping.name,
                "Named pipes over QUIC",
                Level::Warning,
                "Clients using this name reach IPC$ (named pipes, remote administration calls) over QUIC.".into(),
                Some(
                    "Allow named pipes only where clients need them (e.g. to browse shares); clear the flag otherwise.",
                ),
            ));
        }
    }
    if !inputs.mappings.is_empty() && inputs.mappings.iter().all(|m| !m.allow_named_pipes) {
        items.push(item(
            "Named pipes",
            "All server names",
            "Named pipes over QUIC",
            Level::Good,
            "Refused over QUIC, as Windows Server does by default.".into(),
            None,
        ));
    }
    tcp_exposure(inputs, &mut items);
    items
}

fn listener(inputs: &Inputs<'_>, items: &mut Vec<HealthItem>) {
    let subject = format!("UDP {}", inputs.quic_configured);
    items.push(match (inputs.quic_enabled, inputs.quic_bound, &inputs.quic_error) {
        (false, _, _) => item(
            "SMB over QUIC",
            &subject,
            "Listener",
            Level::Warning,
            "SMB over QUIC is off: clients cannot connect with /TRANSPORT:QUIC.".into(),
            Some("Turn it on on the SMB over QUIC page, or run `edgeshare quic enable`."),
        ),
        (true, Some(bound), _) => {
            item("SMB over QUIC", &subject, "Listener", Level::Good, format!("Listening on UDP {bound}."), None)
        }
        (true, None, error) => item(
            "SMB over QUIC",
            &subject,
            "Listener",
            Level::Critical,
            match error {
                Some(error) => format!("Not listening: {error}."),
                None => "Not listening yet.".into(),
            },
            Some(
                "If another program holds the port, stop it or choose another port (`edgeshare quic enable --port N`).",
            ),
        ),
    });
}

fn mapped_certificate(inputs: &Inputs<'_>, mapping: &Mapping, items: &mut Vec<HealthItem>) {
    let subject = format!("{} → {}", mapping.name, mapping.thumbprint);
    let Some(certificate) = inputs.certificates.iter().find(|c| c.info.thumbprint == mapping.thumbprint) else {
        items.push(item(
            "Certificate",
            &subject,
            "Present",
            Level::Critical,
            "The mapped certificate is not in the store.".into(),
            Some("Import the certificate again, or map the name to another one."),
        ));
        return;
    };
    items.push(if certificate.info.covers(&mapping.name) {
        item(
            "Certificate",
            &subject,
            "Name coverage",
            Level::Good,
            format!("The certificate names {}.", mapping.name),
            None,
        )
    } else {
        item(
            "Certificate",
            &subject,
            "Name coverage",
            Level::Critical,
            format!(
                "The certificate does not name {} (it names {}): clients refuse the connection.",
                mapping.name,
                certificate.info.dns_names.join(", ")
            ),
            Some("Map the name to a certificate that carries it, or import one that does: mappings move to it."),
        )
    });
    for check in certificate.checks(inputs.at) {
        items.push(item("Certificate", &subject, check.name, level_of(check.status), check.detail, check.fix));
    }
}

fn client_access(inputs: &Inputs<'_>, mapping: &Mapping, items: &mut Vec<HealthItem>) {
    if !mapping.require_client_auth {
        return;
    }
    let entries: Vec<&AccessEntry> =
        inputs.access.iter().filter(|a| a.name.eq_ignore_ascii_case(&mapping.name)).collect();
    let allows = entries.iter().filter(|a| a.entry.allow).count();
    let (level, detail, fix) = if inputs.client_cas == 0 {
        (
            Level::Critical,
            "Client authentication is required, but the store holds no CA certificate that client certificates \
             could chain to: nobody can connect."
                .to_owned(),
            Some("Import the CA that issues your clients' certificates (`edgeshare cert import --pem CA.pem`)."),
        )
    } else if mapping.skip_client_access_check {
        (
            Level::Good,
            "Client certificates must chain to a trusted CA; the allow and block lists are skipped.".to_owned(),
            None,
        )
    } else if allows == 0 {
        (
            Level::Critical,
            "Client authentication is required but no allow entry exists: nobody can connect.".to_owned(),
            Some("Allow client certificates by SHA-256 or by issuer, or turn off client authentication."),
        )
    } else {
        let describe = |entry: &&AccessEntry| match &entry.entry.matches {
            ClientMatch::Sha256(hex) => format!("SHA-256 {}…", &hex[..hex.len().min(12)]),
            ClientMatch::Issuer(dn) => format!("issuer {dn}"),
        };
        let allowed: Vec<String> = entries.iter().filter(|a| a.entry.allow).map(describe).collect();
        let blocked = entries.len() - allows;
        (Level::Good, format!("Allowed: {}; {blocked} blocked.", allowed.join(", ")), None)
    };
    items.push(item("Client access", &mapping.name, "Client certificates", level, detail, fix));
}

fn tcp_exposure(inputs: &Inputs<'_>, items: &mut Vec<HealthItem>) {
    items.push(match inputs.tcp_bound {
        None => item(
            "SMB over TCP",
            "TCP listener",
            "Exposure",
            Level::Good,
            "Off: clients reach files over QUIC only.".into(),
            None,
        ),
        Some(address) if address.ip().is_loopback() => item(
            "SMB over TCP",
            &format!("TCP {address}"),
            "Exposure",
            Level::Good,
            "Listening on a loopback address: reachable from this machine only.".into(),
            None,
        ),
        Some(address) => item(
            "SMB over TCP",
            &format!("TCP {address}"),
            "Exposure",
            Level::Warning,
            format!("SMB over TCP listens on {address}: clients there bypass QUIC and its certificate checks."),
            Some("At the edge, keep TCP port 445 off the internet: bind it to an internal address or turn it off."),
        ),
    });
}

/// Use at or above this share of a limit is a warning: the next clients may be refused.
const NEAR_LIMIT_PERCENT: u64 = 80;

/// The resource budget: connections and opens against their limits, and what was refused.
fn budget(budget: &smb_core::BudgetUse, items: &mut Vec<HealthItem>) {
    let capacity = |used: u64, limit: u64| {
        if used * 100 >= limit * NEAR_LIMIT_PERCENT { Level::Warning } else { Level::Good }
    };
    let connections = (u64::from(budget.connections), u64::from(budget.max_connections));
    items.push(item(
        "Resource budget",
        "Connections",
        "Capacity",
        capacity(connections.0, connections.1),
        format!("{} of {} connections in use.", connections.0, connections.1),
        Some("If these are legitimate clients, raise the limit: `edgeshare settings set limit_connections N`."),
    ));
    let descriptors = budget.descriptor_limit.map_or(String::new(), |n| format!(" (descriptor limit {n})"));
    items.push(item(
        "Resource budget",
        "Open files",
        "Capacity",
        capacity(budget.opens, budget.max_opens),
        format!("{} of {} open files and directories{descriptors}.", budget.opens, budget.max_opens),
        Some("Raise `limit_opens` (and the service's descriptor limit, LimitNOFILE), or close idle opens."),
    ));
    let refused: Vec<String> = budget
        .refusals
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(limit, count)| format!("{} {count}", limit.name()))
        .collect();
    let detail = if refused.is_empty() {
        "Nothing refused since the server started.".to_owned()
    } else {
        format!("Refused since the server started: {}.", refused.join(", "))
    };
    items.push(item("Resource budget", "Limits", "Refusals", Level::Good, detail, None));
}

/// The worst verdict of `items` (good when there are none).
pub fn overall(items: &[HealthItem]) -> Level {
    items.iter().map(|i| i.level).max().unwrap_or(Level::Good)
}

/// Whether our clock and the realm's KDCs' agree (RFC 4120 section 1.6): past the allowed skew
/// every Kerberos logon fails (KRB_AP_ERR_SKEW), so that is critical; past half of it, a warning
/// while there is still time. The farthest KDC counts. `None` when no KDC told its time.
fn clock_item(realm: &str, answering: &[&KdcCheck], max_skew: u64) -> Option<HealthItem> {
    let worst =
        answering.iter().filter_map(|kdc| kdc.clock_offset_seconds).max_by_key(|offset| offset.unsigned_abs())?;
    let distance = worst.unsigned_abs();
    let direction = if worst > 0 { "ahead of" } else { "behind" };
    let (level, detail) = if distance > max_skew {
        (
            Level::Critical,
            format!(
                "the KDC's clock is {distance} s {direction} ours, more than the {max_skew} s allowed: Kerberos logons fail"
            ),
        )
    } else if distance > max_skew / 2 {
        (Level::Warning, format!("the KDC's clock is {distance} s {direction} ours; {max_skew} s are allowed"))
    } else {
        (Level::Good, format!("in step with the KDC's (within {distance} s; {max_skew} s allowed)"))
    };
    let fix = "Synchronize this server's clock with the domain's time source (NTP).";
    Some(item("Kerberos", realm, "Clock", level, detail, Some(fix)))
}

/// What the report says of Kerberos: every name clients use has a key, each realm's KDCs
/// answer, the KDC proxy listens when on, and NTLM refused leaves a way to sign in.
pub fn identity(status: &IdentityStatus, checks: &[(String, Vec<KdcCheck>)]) -> Vec<HealthItem> {
    let mut items = Vec::new();
    let area = "Kerberos";
    if status.ntlm_policy == "refuse" {
        let (level, detail) = if status.kerberos_on() {
            (Level::Good, "NTLM is refused: only Kerberos signs in".to_owned())
        } else {
            (Level::Critical, "NTLM is refused and no Kerberos key is stored: nobody can sign in".to_owned())
        };
        items.push(item(area, "NTLM", "Policy", level, detail, Some("Import a keytab, or allow NTLM.")));
    } else {
        items.push(item(area, "NTLM", "Policy", Level::Good, "NTLM is allowed".to_owned(), None));
    }
    if !status.kerberos_on() {
        return items;
    }
    for name in &status.coverage {
        let (level, detail) = if name.principals.is_empty() {
            (
                Level::Warning,
                format!("no cifs/{} key: Kerberos clients using this name fall back to NTLM or fail", name.name),
            )
        } else {
            (Level::Good, format!("covered by {}", name.principals.join(", ")))
        };
        let fix = "Export the key of cifs/NAME (ktpass, samba-tool domain exportkeytab, kadmin ktadd) and import it on the Identity page.";
        items.push(item(area, &name.name, "Service key", level, detail, Some(fix)));
    }
    for (realm, kdcs) in checks {
        let answering: Vec<&KdcCheck> = kdcs.iter().filter(|kdc| kdc.reachable).collect();
        let (level, detail) = match (answering.len(), kdcs.len()) {
            (0, _) => (
                Level::Critical,
                format!(
                    "no KDC answers: {}",
                    kdcs.iter().map(|k| format!("{} {}", k.kdc, k.detail)).collect::<Vec<_>>().join("; ")
                ),
            ),
            (n, total) if n < total => (Level::Warning, format!("{n} of {total} KDCs answer")),
            (_, total) => (Level::Good, format!("{total} KDC(s) answer ({})", answering[0].detail)),
        };
        items.push(item(
            area,
            realm,
            "KDCs reachable",
            level,
            detail,
            Some("Check the KDC addresses and the firewall to them."),
        ));
        if let Some(clock) = clock_item(realm, &answering, status.max_skew_seconds) {
            items.push(clock);
        }
    }
    let proxy = &status.kdc_proxy;
    if proxy.enabled {
        let (level, detail) = match (&proxy.listening, &proxy.error) {
            (Some(address), _) => (Level::Good, format!("listening on TCP {address}")),
            (None, Some(error)) => (Level::Critical, error.clone()),
            (None, None) => (Level::Warning, "enabled, not listening yet".to_owned()),
        };
        let fix = "Free the port or choose another on the Identity page.";
        items.push(item(area, "KDC proxy", "Listening", level, detail, Some(fix)));
        let (level, detail) = if proxy.names.is_empty() {
            (Level::Critical, "no name has a certificate: every client's TLS handshake with the proxy fails".to_owned())
        } else {
            (Level::Good, format!("TLS for {}", proxy.names.join(", ")))
        };
        let fix = "Map the server's public name to a certificate on the SMB over QUIC page: the proxy uses it.";
        items.push(item(area, "KDC proxy", "Certificate", level, detail, Some(fix)));
    }
    items
}

/// Gathers the inputs from the store and the running engine, and reports.
pub async fn collect(state: &AppState) -> AppResult<HealthReport> {
    let db = &state.db;
    let settings = certs::quic_settings(db).await?;
    let certificates = certs::list(db).await?;
    let mappings = certs::list_mappings(db).await?;
    let access = certs::list_access(db).await?;
    let at = now();
    let items = report(&Inputs {
        at,
        quic_enabled: settings.enabled,
        quic_configured: settings.address,
        quic_bound: state.engine.quic_address(),
        quic_error: state.engine.quic_error(),
        tcp_bound: state.engine.tcp_address(),
        certificates: &certificates,
        mappings: &mappings,
        access: &access,
        client_cas: settings.client_cas.len(),
        budget: &state.engine.budget_use(),
    });
    let control = crate::service::Control::of(state.clone());
    let status = crate::service::kerberos::status(&control).await?;
    let mut checks = Vec::new();
    for realm in &status.realms {
        checks.push((realm.name.clone(), crate::service::kerberos::check_kdcs(&control, &realm.name).await?));
    }
    let mut items = items;
    items.extend(identity(&status, &checks));
    Ok(HealthReport { status: overall(&items), generated_at: rfc3339(at), items })
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose};
    use smb_core::ClientAccess;

    use super::*;
    use crate::backend::certs::KeyKind;

    fn certificate(name: &str) -> StoredCert {
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyKind::EcdsaP256.generate().unwrap();
        let info = certs::inspect(params.self_signed(&key).unwrap().der()).unwrap();
        StoredCert {
            info,
            has_key: true,
            origin: "generated".into(),
            created_at: 0,
            local_ca: None,
            mapped_names: vec![name.to_owned()],
            chain_length: 0,
        }
    }

    fn mapping(name: &str, certificate: &StoredCert) -> Mapping {
        Mapping {
            name: name.into(),
            thumbprint: certificate.info.thumbprint.clone(),
            require_client_auth: false,
            skip_client_access_check: false,
            allow_named_pipes: false,
            is_default: false,
        }
    }

    fn inputs<'a>(certificates: &'a [StoredCert], mappings: &'a [Mapping], access: &'a [AccessEntry]) -> Inputs<'a> {
        Inputs {
            at: now(),
            quic_enabled: true,
            quic_configured: "[::]:443".parse().unwrap(),
            quic_bound: Some("[::]:443".parse().unwrap()),
            quic_error: None,
            tcp_bound: None,
            certificates,
            mappings,
            access,
            client_cas: 1,
            budget: Box::leak(Box::new(budget_use(3, 0))),
        }
    }

    fn budget_use(connections: u32, refused_preauth: u64) -> smb_core::BudgetUse {
        smb_core::BudgetUse {
            connections,
            max_connections: 100,
            opens: 10,
            max_opens: 1000,
            descriptor_limit: Some(20_000),
            refusals: vec![(smb_core::Refusal::PreauthTimeout, refused_preauth), (smb_core::Refusal::Opens, 0)],
        }
    }

    #[test]
    fn connections_near_their_limit_warn_and_refusals_are_counted_by_limit() {
        let quiet = report(&inputs(&[], &[], &[]));
        let capacity = quiet.iter().find(|i| i.subject == "Connections").unwrap();
        assert_eq!((capacity.level, capacity.detail.as_str()), (Level::Good, "3 of 100 connections in use."));
        let refusals = quiet.iter().find(|i| i.check == "Refusals").unwrap();
        assert_eq!(refusals.detail, "Nothing refused since the server started.");

        let busy = budget_use(85, 12);
        let items = report(&Inputs { budget: &busy, ..inputs(&[], &[], &[]) });
        let capacity = items.iter().find(|i| i.subject == "Connections").unwrap();
        assert_eq!(capacity.level, Level::Warning);
        assert!(capacity.fix.as_deref().unwrap().contains("limit_connections"));
        let refusals = items.iter().find(|i| i.check == "Refusals").unwrap();
        assert_eq!(refusals.detail, "Refused since the server started: preauth_timeout 12.");
    }

    fn critical(items: &[HealthItem]) -> Vec<&str> {
        items.iter().filter(|i| i.level == Level::Critical).map(|i| i.check.as_str()).collect()
    }

    #[test]
    fn a_valid_mapping_is_healthy_but_for_the_self_signed_trust_warning() {
        let certs = [certificate("fs.example.com")];
        let maps = [mapping("fs.example.com", &certs[0])];
        let items = report(&inputs(&certs, &maps, &[]));
        assert_eq!(overall(&items), Level::Warning);
        let warnings: Vec<&str> = items.iter().filter(|i| i.level != Level::Good).map(|i| i.check.as_str()).collect();
        assert_eq!(warnings, ["Trust"]);
        assert!(items.iter().all(|i| (i.level == Level::Good) == i.fix.is_none()));
    }

    #[test]
    fn a_mapped_certificate_past_its_end_makes_the_report_critical() {
        let certs = [certificate("fs.example.com")];
        let maps = [mapping("fs.example.com", &certs[0])];
        let mut later = inputs(&certs, &maps, &[]);
        later.at = certs[0].info.not_after + 1;
        let items = report(&later);
        assert_eq!(critical(&items), ["Validity"]);
        assert_eq!(overall(&items), Level::Critical);
    }

    #[test]
    fn a_name_its_certificate_does_not_carry_is_a_critical_mismatch() {
        let certs = [certificate("fs.example.com")];
        let maps = [mapping("files.example.org", &certs[0])];
        let items = report(&inputs(&certs, &maps, &[]));
        assert_eq!(critical(&items), ["Name coverage"]);
    }

    #[test]
    fn client_authentication_without_an_allow_entry_means_nobody_can_connect() {
        let certs = [certificate("fs.example.com")];
        let mut maps = [mapping("fs.example.com", &certs[0])];
        maps[0].require_client_auth = true;
        let items = report(&inputs(&certs, &maps, &[]));
        let finding = items.iter().find(|i| i.area == "Client access").unwrap();
        assert_eq!(finding.level, Level::Critical);
        assert!(finding.detail.contains("nobody can connect"), "{}", finding.detail);
        let allowed = [AccessEntry {
            name: "fs.example.com".into(),
            entry: ClientAccess { matches: ClientMatch::Issuer("CN=Clients".into()), allow: true },
        }];
        let items = report(&inputs(&certs, &maps, &allowed));
        assert_eq!(items.iter().find(|i| i.area == "Client access").unwrap().level, Level::Good);
    }

    #[test]
    fn quic_on_without_a_bound_listener_or_mappings_is_critical_and_names_the_error() {
        let mut state = inputs(&[], &[], &[]);
        state.quic_bound = None;
        state.quic_error = Some("cannot listen on UDP [::]:443: address in use".into());
        let items = report(&state);
        assert_eq!(critical(&items), ["Listener", "Mappings"]);
        assert!(items[0].detail.contains("address in use"));
    }

    #[test]
    fn smb_over_tcp_on_a_public_address_is_a_warning_and_on_loopback_is_fine() {
        let mut state = inputs(&[], &[], &[]);
        state.tcp_bound = Some("0.0.0.0:445".parse().unwrap());
        let tcp = |items: Vec<HealthItem>| items.into_iter().find(|i| i.area == "SMB over TCP").unwrap().level;
        assert_eq!(tcp(report(&state)), Level::Warning);
        state.tcp_bound = Some("127.0.0.1:4445".parse().unwrap());
        assert_eq!(tcp(report(&state)), Level::Good);
    }

    fn identity_status(keys: bool, ntlm: &str) -> IdentityStatus {
        use crate::model::identity::{KdcProxyView, KeyView, NameCoverage, RealmView};
        IdentityStatus {
            realms: vec![RealmView { name: "EXAMPLE.COM".into(), kdcs: vec!["kdc1".into(), "kdc2".into()] }],
            keys: if keys {
                vec![KeyView {
                    principal: "cifs/fs.example.com@EXAMPLE.COM".into(),
                    kvno: 2,
                    enctype: "aes256-cts-hmac-sha1-96".into(),
                    imported_at: String::new(),
                    source: "fs.keytab".into(),
                }]
            } else {
                Vec::new()
            },
            coverage: vec![
                NameCoverage {
                    name: "fs.example.com".into(),
                    principals: vec!["cifs/fs.example.com@EXAMPLE.COM".into()],
                },
                NameCoverage { name: "files.example.com".into(), principals: Vec::new() },
            ],
            mappings: Vec::new(),
            domain_names: Vec::new(),
            ntlm_policy: ntlm.into(),
            max_skew_seconds: 300,
            kdc_proxy: KdcProxyView {
                enabled: true,
                address: "::".into(),
                port: 443,
                timeout_seconds: 10,
                listening: None,
                error: Some("cannot listen on TCP [::]:443: address in use".into()),
                names: vec!["fs.example.com".into()],
                forwarded: 0,
                failed: 0,
            },
        }
    }

    fn kdc(name: &str, reachable: bool) -> KdcCheck {
        KdcCheck {
            kdc: name.into(),
            reachable,
            detail: if reachable { "answered in 1 ms" } else { "refused" }.into(),
            clock_offset_seconds: reachable.then_some(0),
        }
    }

    fn clock(items: &[HealthItem]) -> Option<&HealthItem> {
        items.iter().find(|item| item.check == "Clock")
    }

    #[test]
    fn a_kdc_clock_past_the_allowed_skew_is_critical_and_past_half_of_it_a_warning() {
        let status = identity_status(true, "allow");
        let with_offset = |offset| {
            let mut near = kdc("kdc1", true);
            let mut far = kdc("kdc2", true);
            near.clock_offset_seconds = Some(1);
            far.clock_offset_seconds = Some(offset);
            identity(&status, &[("EXAMPLE.COM".to_owned(), vec![near, far])])
        };
        assert_eq!(clock(&with_offset(-20)).unwrap().level, Level::Good);
        let warning = with_offset(200);
        assert_eq!(clock(&warning).unwrap().level, Level::Warning);
        assert!(clock(&warning).unwrap().detail.contains("200 s ahead of ours"), "{:?}", clock(&warning));
        let critical = with_offset(-301);
        assert_eq!(clock(&critical).unwrap().level, Level::Critical);
        assert!(clock(&critical).unwrap().detail.contains("301 s behind ours"), "{:?}", clock(&critical));
        // No KDC told its time: no clock item.
        let silent = identity(&status, &[("EXAMPLE.COM".to_owned(), vec![kdc("kdc1", false)])]);
        assert!(clock(&silent).is_none());
    }

    #[test]
    fn refusing_ntlm_without_kerberos_keys_is_critical_and_a_name_without_a_key_warns() {
        let items = identity(&identity_status(false, "refuse"), &[]);
        assert_eq!(critical(&items), ["Policy"]);
        let items = identity(&identity_status(true, "refuse"), &[("EXAMPLE.COM".into(), vec![kdc("kdc1", true)])]);
        let warned: Vec<&str> =
            items.iter().filter(|i| i.level == Level::Warning).map(|i| i.subject.as_str()).collect();
        assert_eq!(warned, ["files.example.com"]);
    }

    #[test]
    fn no_kdc_answering_or_a_proxy_that_cannot_listen_is_critical() {
        let checks = [("EXAMPLE.COM".to_owned(), vec![kdc("kdc1", false), kdc("kdc2", false)])];
        let items = identity(&identity_status(true, "allow"), &checks);
        assert_eq!(critical(&items), ["KDCs reachable", "Listening"]);
        let checks = [("EXAMPLE.COM".to_owned(), vec![kdc("kdc1", false), kdc("kdc2", true)])];
        let items = identity(&identity_status(true, "allow"), &checks);
        assert!(items.iter().any(|i| i.check == "KDCs reachable" && i.level == Level::Warning));
    }

    #[test]
    fn a_kdc_proxy_without_a_mapped_certificate_is_critical_for_no_handshake_can_succeed() {
        let mut status = identity_status(true, "allow");
        status.kdc_proxy.listening = Some("[::]:443".into());
        status.kdc_proxy.error = None;
        assert!(critical(&identity(&status, &[])).is_empty());
        status.kdc_proxy.names.clear();
        assert_eq!(critical(&identity(&status, &[])), ["Certificate"]);
    }
}
