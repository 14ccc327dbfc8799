use leptos::prelude::*;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

use crate::api::audit::list_audit;
use crate::components::events::EventsTable;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::model::audit::{Action, AuditFilter, AuditPage as Page};

/// Action categories offered besides the single actions: a code prefix and its words.
const CATEGORIES: &[(&str, &str)] =
    &[("console.", "All console sign-ins and sign-outs"), ("account.", "All console account changes")];

fn filter_from(query: &ParamsMap) -> (AuditFilter, u32) {
    let get = |key: &str| query.get(key).unwrap_or_default();
    let page = get("page").parse().unwrap_or(1);
    (AuditFilter { action: get("action"), actor: get("actor"), outcome: get("outcome"), text: get("q") }, page)
}

fn page_href(filter: &AuditFilter, page: u32) -> String {
    let mut query = ParamsMap::new();
    for (key, value) in
        [("action", &filter.action), ("actor", &filter.actor), ("outcome", &filter.outcome), ("q", &filter.text)]
    {
        if !value.is_empty() {
            query.insert(key, value.clone());
        }
    }
    query.insert("page", page.to_string());
    format!("/audit{}", query.to_query_string())
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(filter_from));
    let data = Resource::new(move || filter.get(), |(filter, page)| list_audit(filter, page));
    let current = move || filter.get().0;
    view! {
        <PageHeader title="Audit log">"Every change made on this server and every sign-in, newest first."</PageHeader>
        <Form method="GET" action="/audit" attr:class="filters" attr:aria-label="Filter events">
            <div class="field">
                <label for="audit-action">"Action"</label>
                <select id="audit-action" name="action">
                    <option value="" selected=move || current().action.is_empty()>"Any action"</option>
                    {CATEGORIES
                        .iter()
                        .copied()
                        .chain(Action::ALL.iter().map(|action| (action.code(), action.label())))
                        .map(|(code, label)| {
                            view! { <option value=code selected=move || current().action == code>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-actor">"By"</label>
                <input id="audit-actor" name="actor" prop:value=move || current().actor/>
            </div>
            <div class="field">
                <label for="audit-outcome">"Result"</label>
                <select id="audit-outcome" name="outcome">
                    <option value="" selected=move || current().outcome.is_empty()>"Any result"</option>
                    <option value="success" selected=move || current().outcome == "success">"Succeeded"</option>
                    <option value="failure" selected=move || current().outcome == "failure">"Failed"</option>
                </select>
            </div>
            <div class="field">
                <label for="audit-q">"Search"</label>
                <input id="audit-q" name="q" type="search" prop:value=move || current().text/>
            </div>
            <div class="field actions">
                <button type="submit" class="primary">"Apply filters"</button>
                <a href="/audit" class="button">"Clear"</a>
            </div>
        </Form>
        <ResourceView resource=data let:page>
            <Results page filter=current()/>
        </ResourceView>
    }
}

#[component]
fn Results(page: Page, filter: AuditFilter) -> impl IntoView {
    let Page { events, page, page_count, total } = page;
    view! {
        <p class="count" data-testid="audit-count">{format!("{total} events · page {page} of {page_count}")}</p>
        <EventsTable events/>
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <A href=page_href(&filter, page - 1)>"← Newer"</A> })}
            {(page < page_count).then(|| view! { <A href=page_href(&filter, page + 1)>"Older →"</A> })}
        </nav>
    }
}
