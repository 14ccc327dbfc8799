//! `/metrics`: the running server in the Prometheus text format, for monitoring systems. Counts
//! and certificate expiry only; no user names, addresses or secrets.

use app::backend::kdc_proxy::{KdcProxyState, ProxyOutcome};
use app::backend::{AppState, certs, now};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use smb_core::{Counters, EngineHandle};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabel {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabels {
    thumbprint: String,
    subject: String,
    /// The server names mapped to it for SMB over QUIC, comma-separated; empty when unmapped.
    mapped_names: String,
}

/// One certificate of the store, as the metrics show it.
pub struct CertificateExpiry {
    pub thumbprint: String,
    pub subject: String,
    pub mapped_names: Vec<String>,
    /// Whole days until it expires; negative once expired.
    pub days_left: i64,
}

/// What one scrape reports, gathered from the engine and the certificate store.
pub struct Snapshot {
    pub connections: (usize, usize),
    pub sessions: (usize, usize),
    pub open_files: usize,
    pub quic_listening: bool,
    pub counters: Counters,
    /// How often each limit of the resource budget refused something.
    pub refusals: Vec<(smb_core::Refusal, u64)>,
    pub certificates: Vec<CertificateExpiry>,
    pub kdc_proxy_listening: bool,
    /// What became of the KDC proxy's requests since start.
    pub kdc_proxy: Vec<(ProxyOutcome, u64)>,
}

impl Snapshot {
    pub fn of(engine: &EngineHandle, kdc_proxy: &KdcProxyState, certificates: Vec<CertificateExpiry>) -> Snapshot {
        let sessions = engine.sessions();
        let quic_sessions = sessions.iter().filter(|s| s.transport == smb_core::Transport::Quic).count();
        Snapshot {
            connections: engine.connection_counts(),
            sessions: (sessions.len() - quic_sessions, quic_sessions),
            open_files: engine.open_files().len(),
            quic_listening: engine.quic_address().is_some(),
            counters: engine.counters(),
            refusals: engine.refusals(),
            certificates,
            kdc_proxy_listening: kdc_proxy.listening().is_some(),
            kdc_proxy: kdc_proxy.outcomes(),
        }
    }
}

fn gauge(value: i64) -> Gauge {
    let gauge = Gauge::default();
    gauge.set(value);
    gauge
}

fn counter(value: u64) -> Counter {
    let counter = Counter::default();
    counter.inc_by(value);
    counter
}

fn per_transport(registry: &mut Registry, name: &str, help: &str, (tcp, quic): (usize, usize)) {
    let family = Family::<TransportLabel, Gauge>::default();
    family.get_or_create(&TransportLabel { transport: "tcp" }).set(tcp as i64);
    family.get_or_create(&TransportLabel { transport: "quic" }).set(quic as i64);
    registry.register(name, help, family);
}

/// The snapshot in the Prometheus text exposition format.
pub fn render(snapshot: &Snapshot) -> String {
    let mut registry = Registry::with_prefix("edgeshare");
    per_transport(&mut registry, "connections", "SMB connections open now", snapshot.connections);
    per_transport(&mut registry, "sessions", "Signed-in SMB sessions now", snapshot.sessions);
    registry.register("open_files", "Files and directories open now", gauge(snapshot.open_files as i64));
    registry.register(
        "quic_listening",
        "1 while SMB over QUIC listens, 0 otherwise",
        gauge(i64::from(snapshot.quic_listening)),
    );
    let c = &snapshot.counters;
    registry.register("connections_accepted", "SMB connections accepted since start", counter(c.connections_accepted));
    registry.register("logons", "Successful SMB sign-ins since start", counter(c.logons));
    registry.register("logon_failures", "Failed SMB sign-ins since start", counter(c.logon_failures));
    registry.register("read_bytes", "Bytes clients read from files since start", counter(c.bytes_read));
    registry.register("written_bytes", "Bytes clients wrote to files since start", counter(c.bytes_written));
    registry.register(
        "quic_handshake_failures",
        "QUIC connections refused since start (failed handshakes, unknown names, client access denied)",
        counter(c.quic_refused),
    );
    let refused = Family::<LimitLabel, Counter>::default();
    for (limit, count) in &snapshot.refusals {
        refused.get_or_create(&LimitLabel { limit: limit.name() }).inc_by(*count);
    }
    registry.register("refused", "What each limit of the resource budget refused since start", refused);
    let days = Family::<CertificateLabels, Gauge>::default();
    for certificate in &snapshot.certificates {
        let labels = CertificateLabels {
            thumbprint: certificate.thumbprint.clone(),
            subject: certificate.subject.clone(),
            mapped_names: certificate.mapped_names.join(","),
        };
        days.get_or_create(&labels).set(certificate.days_left);
    }
    registry.register("certificate_days_left", "Whole days until each stored certificate expires", days);
    registry.register(
        "kdc_proxy_listening",
        "1 while the KDC proxy listens, 0 otherwise",
        gauge(i64::from(snapshot.kdc_proxy_listening)),
    );
    let proxied = Family::<OutcomeLabel, Counter>::default();
    for (outcome, count) in &snapshot.kdc_proxy {
        proxied.get_or_create(&OutcomeLabel { outcome: outcome.name() }).inc_by(*count);
    }
    registry.register("kdc_proxy_requests", "KDC proxy requests since start, by what became of them", proxied);
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

pub async fn handler(State(state): State<AppState>) -> Response {
    let at = now();
    let certificates = match certs::list(&state.db).await {
        Ok(list) => list
            .into_iter()
            .map(|c| CertificateExpiry {
                days_left: (c.info.not_after - at).div_euclid(86_400),
                thumbprint: c.info.thumbprint,
                subject: c.info.subject,
                mapped_names: c.mapped_names,
            })
            .collect(),
        Err(error) => {
            tracing::error!(%error, "metrics: the certificate store is unreadable");
            return (StatusCode::SERVICE_UNAVAILABLE, "the certificate store is unreadable\n").into_response();
        }
    };
    let body = render(&Snapshot::of(&state.engine, &state.kdc_proxy, certificates));
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            connections: (2, 3),
            sessions: (1, 2),
            open_files: 4,
            quic_listening: true,
            counters: Counters {
                connections_accepted: 10,
                logons: 7,
                logon_failures: 2,
                bytes_read: 4096,
                bytes_written: 512,
                quic_refused: 1,
            },
            refusals: vec![(smb_core::Refusal::PreauthTimeout, 5), (smb_core::Refusal::Opens, 0)],
            certificates: vec![CertificateExpiry {
                thumbprint: "AB12".into(),
                subject: "CN=files.example.com".into(),
                mapped_names: vec!["files.example.com".into(), "fs.example.com".into()],
                days_left: 41,
            }],
            kdc_proxy_listening: true,
            kdc_proxy: vec![(ProxyOutcome::Forwarded, 12), (ProxyOutcome::UnknownRealm, 3)],
        }
    }

    #[test]
    fn the_metrics_carry_live_gauges_per_transport_totals_and_certificate_expiry() {
        let text = render(&snapshot());
        for line in [
            "edgeshare_connections{transport=\"tcp\"} 2",
            "edgeshare_connections{transport=\"quic\"} 3",
            "edgeshare_sessions{transport=\"quic\"} 2",
            "edgeshare_open_files 4",
            "edgeshare_quic_listening 1",
            "edgeshare_logon_failures_total 2",
            "edgeshare_read_bytes_total 4096",
            "edgeshare_quic_handshake_failures_total 1",
            "edgeshare_refused_total{limit=\"preauth_timeout\"} 5",
            "edgeshare_refused_total{limit=\"opens\"} 0",
            "edgeshare_kdc_proxy_listening 1",
            "edgeshare_kdc_proxy_requests_total{outcome=\"forwarded\"} 12",
            "edgeshare_kdc_proxy_requests_total{outcome=\"unknown_realm\"} 3",
            "edgeshare_certificate_days_left{thumbprint=\"AB12\",subject=\"CN=files.example.com\",\
             mapped_names=\"files.example.com,fs.example.com\"} 41",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
