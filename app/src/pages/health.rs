use leptos::prelude::*;

use crate::api::health::{get_health, list_budget_settings};
use crate::components::format::timestamp;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::model::health::{BudgetSetting, HealthItem, HealthReport, Level};

#[component]
pub fn HealthPage() -> impl IntoView {
    let refresh = RwSignal::new(0_u64);
    let report = Resource::new(move || refresh.get(), |_| get_health());
    let budget = Resource::new(move || refresh.get(), |_| list_budget_settings());
    view! {
        <PageHeader title="Health">
            "Every check of SMB over QUIC in one place: the listener, each server name's certificate, client access, "
            "named pipes, SMB over TCP exposure, and the resource budget (connections and open files against their "
            "limits, and what the limits refused). Monitoring systems read the same report at "
            <a href="/api/health" class="mono">"/api/health"</a> " and counters at " <a href="/metrics" class="mono">"/metrics"</a> "."
        </PageHeader>
        <ResourceView resource=report let:report>
            <Report report refresh/>
        </ResourceView>
        <ResourceView resource=budget let:settings>
            <Budget settings/>
        </ResourceView>
    }
}

/// The resource budget's settings: what each limit is now, its default and why it exists.
#[component]
fn Budget(settings: Vec<BudgetSetting>) -> impl IntoView {
    view! {
        <section class="card wide" aria-labelledby="budget-title">
            <h2 id="budget-title">"Resource budget"</h2>
            <p class="hint">
                "What every client may make the server hold, before and after sign-in. Change a value with "
                <code>"edgeshare settings set KEY VALUE"</code> "; it applies at once."
            </p>
            <DataTable class="budget" columns=&["Setting", "Value", "Default", "Meaning"] rows=settings row=|setting: BudgetSetting| {
                let changed = setting.value != setting.default;
                view! {
                    <tr data-setting=setting.key>
                        <td class="mono">{setting.key.clone()}</td>
                        <td class="number">
                            {setting.value}
                            {changed.then(|| view! { " " <span class="badge muted">"changed"</span> })}
                        </td>
                        <td class="number">{setting.default}</td>
                        <td>{setting.description}</td>
                    </tr>
                }
            }/>
        </section>
    }
}

/// The badge style of a verdict.
pub fn badge_class(level: Level) -> &'static str {
    match level {
        Level::Good => "badge good",
        Level::Warning => "badge warn",
        Level::Critical => "badge bad",
    }
}

/// The badge of a whole report's verdict.
pub fn level_badge(level: Level) -> impl IntoView {
    view! { <span class=badge_class(level) data-level=level.as_str()>{level.label()}</span> }
}

#[component]
fn Report(report: HealthReport, refresh: RwSignal<u64>) -> impl IntoView {
    let HealthReport { status, generated_at, items } = report;
    let count = |level: Level| items.iter().filter(|i| i.level == level).count();
    let (critical, warnings) = (count(Level::Critical), count(Level::Warning));
    let summary = match (critical, warnings) {
        (0, 0) => "Every check passes.".to_owned(),
        (0, w) => format!("{w} check(s) need attention; nothing stops clients."),
        (c, _) => format!("{c} critical finding(s): some or all clients cannot connect."),
    };
    view! {
        <section class=format!("card wide health-status {}", status.as_str()) aria-labelledby="health-overall" data-testid="health-status">
            <h2 id="health-overall">"Overall: " {level_badge(status)}</h2>
            <p>{summary}</p>
            <p class="hint">
                "Checked " {timestamp(&generated_at)} ". "
                <button type="button" class="small" on:click=move |_| refresh.update(|r| *r += 1)>"Check again"</button>
            </p>
        </section>
        <DataTable class="health" columns=&["Verdict", "Area", "Subject", "Check", "Finding", "How to fix"] rows=items
            row=|item| view! { <Row item/> }/>
    }
}

#[component]
fn Row(item: HealthItem) -> impl IntoView {
    let check = item.check.clone();
    view! {
        <tr data-level=item.level.as_str() data-check=check>
            <td>
                <span class=badge_class(item.level)>{item.level.verdict()}</span>
            </td>
            <td>{item.area}</td>
            <td class="mono">{item.subject}</td>
            <td>{item.check}</td>
            <td>{item.detail}</td>
            <td>{item.fix.unwrap_or_default()}</td>
        </tr>
    }
}
