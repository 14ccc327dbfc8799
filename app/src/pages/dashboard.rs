use leptos::prelude::*;

use crate::api::health::get_health;
use crate::api::overview::{get_activity, get_overview};
use crate::components::chart::{LineChart, Series};
use crate::components::events::EventsTable;
use crate::components::format::{bytes, duration, timestamp};
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::model::health::{HealthReport, Level};
use crate::model::overview::{ActivityPoint, Overview};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    let health = Resource::new(|| (), |_| get_health());
    let tick = RwSignal::new(0_u64);
    Effect::new(move |_| {
        let handle =
            set_interval_with_handle(move || tick.update(|t| *t += 1), crate::model::overview::ACTIVITY_REFRESH).ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    let activity = Resource::new(move || tick.get(), |_| get_activity());
    view! {
        <PageHeader title="Dashboard"/>
        // The health and activity cards add to the overview; when they fail, the overview says why.
        <ResourceView resource=health quiet=true let:report>
            <HealthCard report/>
        </ResourceView>
        <ResourceView resource=activity quiet=true let:points>
            <Activity points/>
        </ResourceView>
        <ResourceView resource=data let:overview>
            <Cards overview/>
        </ResourceView>
    }
}

/// Throughput and sessions over the last hour.
#[component]
fn Activity(points: Vec<ActivityPoint>) -> impl IntoView {
    let now = points.last().map_or(0, |p| p.at);
    if points.len() < 2 {
        return view! {
            <section class="card wide" aria-labelledby="card-activity">
                <h2 id="card-activity">"Activity"</h2>
                <p class="empty">"The charts fill in as the server runs: a point every 15 seconds, for an hour."</p>
            </section>
        }
        .into_any();
    }
    let series = |name, class, value: fn(&ActivityPoint) -> u64| Series {
        name,
        class,
        points: points.iter().map(|p| (p.at, value(p))).collect(),
    };
    let throughput =
        vec![series("Read", "read", |p| p.read_per_second), series("Written", "written", |p| p.written_per_second)];
    let sessions =
        vec![series("Sessions", "sessions", |p| p.sessions), series("Connections", "connections", |p| p.connections)];
    view! {
        <section class="card wide" aria-labelledby="card-activity" data-testid="activity">
            <h2 id="card-activity">"Activity"</h2>
            <div class="charts">
                <LineChart title="Throughput" series=throughput format=|v| format!("{}/s", bytes(v)) now/>
                <LineChart title="Sessions and connections" series=sessions format=|v| v.to_string() now/>
            </div>
        </section>
    }
    .into_any()
}

/// The overall verdict of the health report, with its most severe findings.
#[component]
fn HealthCard(report: HealthReport) -> impl IntoView {
    let worst: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.level == report.status && i.level != Level::Good)
        .take(3)
        .map(|i| format!("{}: {} — {}", i.subject, i.check, i.detail))
        .collect();
    // The listener is only a warning when SMB over QUIC is off: offer the wizard.
    let quic_off = report.items.iter().any(|i| i.check == "Listener" && i.level == Level::Warning)
        && crate::components::layout::use_viewer().can_change();
    view! {
        <section
            class=format!("card wide health-status {}", report.status.as_str())
            aria-labelledby="card-health"
            data-testid="dashboard-health"
        >
            <h2 id="card-health">"SMB over QUIC health: " {crate::pages::health::level_badge(report.status)}</h2>
            {(!worst.is_empty())
                .then(|| view! { <ul>{worst.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul> })}
            {quic_off
                .then(|| {
                    view! {
                        <p>
                            <a class="button" href="/welcome">"Set up SMB over QUIC"</a>
                            " Certificate, server names, port, a first share and user: five steps."
                        </p>
                    }
                })}
            <p><a href="/health">"Open the health report"</a></p>
        </section>
    }
}

#[component]
fn Cards(overview: Overview) -> impl IntoView {
    let certificate = match (&overview.console_tls, overview.console_tls_days_left) {
        (Some(tls), Some(days)) => {
            let (class, state) = match days {
                d if d < 0 => ("badge bad", "Expired".to_owned()),
                d if d < 30 => ("badge warn", format!("Expires in {d} days")),
                d => ("badge good", format!("{d} days left")),
            };
            view! {
                <dl>
                    <dt>"Certificate"</dt>
                    <dd>{tls.subject.clone()} " " <span class=class>{state}</span></dd>
                    <dt>"Names"</dt>
                    <dd>{tls.names.join(", ")}</dd>
                    <dt>"Valid until"</dt>
                    <dd>{timestamp(&tls.not_after)}</dd>
                    <dt>"Issued by"</dt>
                    <dd>
                        {if tls.self_signed {
                            "Itself (self-signed): browsers warn until you configure a trusted certificate."
                        } else {
                            "A certificate authority"
                        }}
                    </dd>
                    <dt>"File"</dt>
                    <dd class="mono">{tls.path.clone()}</dd>
                </dl>
            }
            .into_any()
        }
        _ => view! { <p class="warn-text">"Plain HTTP on a loopback address: reachable from this machine only."</p> }
            .into_any(),
    };
    let failures_warn = overview.failed_sign_ins_24h > 0;
    view! {
        <div class="cards">
            <section class="card" aria-labelledby="card-server">
                <h2 id="card-server">"Server"</h2>
                <dl>
                    <dt>"Name"</dt>
                    <dd>{overview.server_name}</dd>
                    <dt>"Version"</dt>
                    <dd>{overview.version}</dd>
                    <dt>"Running for"</dt>
                    <dd>{duration(overview.uptime_seconds)} " (since " {timestamp(&overview.started_at)} ")"</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="card-console">
                <h2 id="card-console">"Console"</h2>
                <dl>
                    <dt>"Address"</dt>
                    <dd class="mono">{overview.console_url}</dd>
                </dl>
                {certificate}
            </section>
            <section class="card" aria-labelledby="card-accounts">
                <h2 id="card-accounts">"Console accounts"</h2>
                <dl>
                    <dt>"Administrators"</dt>
                    <dd>{overview.admins}</dd>
                    <dt>"Readers"</dt>
                    <dd>{overview.readers}</dd>
                    <dt>"Failed sign-ins, last 24 h"</dt>
                    <dd class:warn-text=failures_warn>{overview.failed_sign_ins_24h}</dd>
                </dl>
                <p><a href="/accounts">"Manage console accounts"</a></p>
            </section>
            <section class="card" aria-labelledby="card-database">
                <h2 id="card-database">"Configuration database"</h2>
                <dl>
                    <dt>"File"</dt>
                    <dd class="mono">{overview.database_path}</dd>
                    <dt>"Size"</dt>
                    <dd>{bytes(overview.database_bytes)}</dd>
                </dl>
            </section>
        </div>
        <section class="card wide" aria-labelledby="card-recent">
            <h2 id="card-recent">"Recent activity"</h2>
            <EventsTable events=overview.recent_events/>
            <p><a href="/audit">"Open the audit log"</a></p>
        </section>
    }
}
