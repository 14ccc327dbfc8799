//! The table of audit events, shared by the dashboard and the audit page.

use leptos::prelude::*;

use crate::components::format::timestamp;
use crate::components::table::DataTable;
use crate::model::audit::{Action, AuditEvent, Outcome};

#[component]
pub fn EventsTable(events: Vec<AuditEvent>) -> impl IntoView {
    let columns = &["Time", "Action", "By", "Target", "Result", "Details", "From"];
    view! {
        <DataTable class="events" columns rows=events empty="No events match." row=|event: AuditEvent| {
            let failed = event.outcome == Outcome::Failure;
            view! {
                <tr class:failure=failed data-action=event.action.clone()>
                    <td class="nowrap">{timestamp(&event.at)}</td>
                    <td>{Action::label_of(&event.action).to_owned()}</td>
                    <td>{event.actor}</td>
                    <td>{event.target}</td>
                    <td>
                        <span class=if failed { "badge bad" } else { "badge good" }>
                            {if failed { "Failed" } else { "Succeeded" }}
                        </span>
                    </td>
                    <td>{event.detail}</td>
                    <td class="nowrap">{event.source}</td>
                </tr>
            }
        }/>
    }
}
