use std::time::Duration;

use leptos::prelude::*;

use crate::api::sessions::{CloseFile, CloseSession, SetDurableTimeout, get_durable_timeout, get_live_status};
use crate::components::form::{Field, FormError, Submit, action_error};
use crate::components::format::duration;
use crate::components::layout::use_viewer;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::model::sessions::{LiveStatus, OpenFileRow, SessionRow};

/// How often the tables refresh themselves.
const REFRESH: Duration = Duration::from_secs(2);

#[component]
pub fn SessionsPage() -> impl IntoView {
    let can_change = use_viewer().can_change();
    let close_session = ServerAction::<CloseSession>::new();
    let close_file = ServerAction::<CloseFile>::new();
    let tick = RwSignal::new(0_u64);
    // The row whose Close button asked for confirmation: kept here so that a refresh, which
    // redraws the tables, does not lose it.
    let asking = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                if !focus_in_tables() {
                    tick.update(|t| *t += 1);
                }
            },
            REFRESH,
        )
        .ok();
        on_cleanup(move || {
            if let Some(handle) = handle {
                handle.clear();
            }
        });
    });
    let live = Resource::new(
        move || (tick.get(), close_session.version().get(), close_file.version().get()),
        |_| get_live_status(),
    );
    let error = Signal::derive(move || {
        [action_error(close_session).get(), action_error(close_file).get()].into_iter().flatten().next()
    });
    view! {
        <PageHeader title="Sessions and open files">
            "Who is connected now, over which transport and with which protection, and what they have open. "
            "The tables update every two seconds, and wait while you are using them with the keyboard. "
            "Closing a session signs its user out; the client must sign in again. "
            "Closing a file ends that handle; unsaved data in the client's cache may be lost."
        </PageHeader>
        <FormError error/>
        <ResourceView resource=live let:status>
            <Tables status can_change asking close_session close_file/>
        </ResourceView>
        <div class="cards">
            <DurableCard can_change/>
        </div>
    }
}

/// Durable opens: how long one waits for its client after a lost connection.
#[component]
fn DurableCard(can_change: bool) -> impl IntoView {
    let save = ServerAction::<SetDurableTimeout>::new();
    let current = Resource::new(move || save.version().get(), |_| get_durable_timeout());
    let error = action_error(save);
    view! {
        <section class="card" aria-labelledby="durable-title">
            <h2 id="durable-title">"Durable opens"</h2>
            <p>
                "A client that loses its connection (a laptop closing its lid, Wi-Fi to LTE) reclaims its durable "
                "opens on a new one, with their locks and caching, if it comes back in time. Another client that "
                "needs such a file meanwhile closes the waiting open. Clients may ask for up to 300 seconds; this is "
                "the wait when they ask for no particular time."
            </p>
            <ResourceView resource=current let:seconds>
                <p data-testid="durable-summary">{format!("Durable opens wait {seconds} seconds for their client.")}</p>
                {can_change
                    .then(|| {
                        view! {
                            <ActionForm action=save>
                                <FormError error/>
                                <Field form="durable" name="seconds" label="Wait for the client (seconds)" error
                                    value=seconds.clone() hint="1 to 300." required=true inputmode="numeric"/>
                                <p class="hint">"Command line: "
                                    <code>"edgeshare settings set durable_timeout_seconds N"</code></p>
                                <Submit pending=save.pending() label="Save" busy_label="Saving…"/>
                            </ActionForm>
                        }
                    })}
            </ResourceView>
        </section>
    }
}

/// Whether the keyboard focus is inside the live tables (the browser only): refreshing then would
/// take the focus away.
fn focus_in_tables() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document().active_element().and_then(|element| element.closest(".live-tables").ok().flatten()).is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

#[component]
fn Tables(
    status: LiveStatus,
    can_change: bool,
    asking: RwSignal<Option<String>>,
    close_session: ServerAction<CloseSession>,
    close_file: ServerAction<CloseFile>,
) -> impl IntoView {
    let LiveStatus { sessions, files } = status;
    let (session_count, file_count) = (sessions.len(), files.len());
    let session_columns =
        &["User", "Client", "Transport", "Dialect", "Signing", "Encryption", "Shares", "Opens", "Connected", "Idle"];
    view! {
        <div class="live-tables">
        <section class="card wide" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions " <span class="count">{format!("({session_count})")}</span></h2>
            <DataTable class="sessions" columns=session_columns actions=can_change rows=sessions
                empty="No one is connected." row=move |row| session_row(row, can_change, asking, close_session)/>
        </section>
        <section class="card wide" aria-labelledby="files-heading">
            <h2 id="files-heading">"Open files " <span class="count">{format!("({file_count})")}</span></h2>
            <DataTable class="open-files" columns=&["Path", "User", "Client", "Access", "Locks"] actions=can_change
                rows=files empty="No file is open." row=move |row| file_row(row, can_change, asking, close_file)/>
        </section>
        </div>
    }
}

/// A badge for a protection that is on (its algorithm) or off.
fn protection(value: Option<String>, off: &'static str) -> impl IntoView {
    match value {
        Some(algorithm) => view! { <span class="badge good">{algorithm}</span> }.into_any(),
        None => view! { <span class="badge muted">{off}</span> }.into_any(),
    }
}

fn session_row(
    row: SessionRow,
    can_change: bool,
    asking: RwSignal<Option<String>>,
    close_session: ServerAction<CloseSession>,
) -> impl IntoView {
    let (connection, session_id) = (row.connection, row.session_id);
    let close = can_change.then(|| {
        view! {
            <td>
                <ConfirmButton
                    id=format!("session-{connection}-{session_id}")
                    asking
                    aria_label=format!("Close the session of {} from {}", row.user, row.client)
                    prompt=format!("Close {}'s session? The client will have to sign in again.", row.user)
                    confirm="Close session"
                    pending=close_session.pending()
                    on_confirm=move || {
                        close_session.dispatch(CloseSession { connection, session_id });
                    }
                />
            </td>
        }
    });
    view! {
        <tr data-session=format!("{connection}-{session_id}") data-user=row.user>
            <td>{row.user.clone()}</td>
            <td class="mono nowrap">{row.client}</td>
            <td>
                <span class=if row.transport == "QUIC" { "badge good" } else { "badge" }>
                    {row.transport.clone()}
                </span>
                {(row.channels > 1).then(|| view! {
                    <span class="badge" title="Multichannel: the session runs over several connections">
                        {format!("{} channels", row.channels)}
                    </span>
                })}
            </td>
            <td>{row.dialect.clone()}</td>
            <td>{protection(row.signing.clone(), "Off")}</td>
            <td>{protection(row.encryption.clone(), "Off")}</td>
            <td>{row.shares.join(", ")}</td>
            <td class="number">{row.opens}</td>
            <td class="nowrap">{duration(row.connected_seconds)}</td>
            <td class="nowrap">{duration(row.idle_seconds)}</td>
            {close}
        </tr>
    }
}

fn file_row(
    row: OpenFileRow,
    can_change: bool,
    asking: RwSignal<Option<String>>,
    close_file: ServerAction<CloseFile>,
) -> impl IntoView {
    let (connection, file_id) = (row.connection, row.file_id);
    let path = if row.path.is_empty() { format!("{}\\", row.share) } else { format!("{}\\{}", row.share, row.path) };
    let access = if row.access.is_empty() { "attributes only".to_owned() } else { row.access.join(", ") };
    let close = can_change.then(|| {
        view! {
            <td>
                <ConfirmButton
                    id=format!("file-{connection}-{file_id}")
                    asking
                    aria_label=format!("Close {path}")
                    prompt=format!("Close {path} for {}?", row.user)
                    confirm="Close file"
                    pending=close_file.pending()
                    on_confirm=move || {
                        close_file.dispatch(CloseFile { connection, file_id });
                    }
                />
            </td>
        }
    });
    view! {
        <tr data-file=format!("{connection}-{file_id}")>
            <td class="mono">
                {path.clone()}
                {row.is_directory.then(|| view! { " " <span class="badge muted">"folder"</span> })}
                {match row.waiting_seconds {
                    Some(seconds) => {
                        Some(
                            view! {
                                " "
                                <span
                                    class="badge warn"
                                    title="Its connection was lost: kept for the client to reclaim on a new one"
                                >
                                    {format!("waiting for its client, {seconds} s left")}
                                </span>
                            }
                                .into_any(),
                        )
                    }
                    None if row.persistent => {
                        Some(
                            view! {
                                " "
                                <span
                                    class="badge muted"
                                    title="Continuously available share: the open outlives a restart of the server"
                                >
                                    "persistent"
                                </span>
                            }
                                .into_any(),
                        )
                    }
                    None if row.durable => Some(view! { " " <span class="badge muted">"durable"</span> }.into_any()),
                    None => None,
                }}
            </td>
            <td>{row.user}</td>
            <td class="mono nowrap">{row.client}</td>
            <td>{access}</td>
            <td class="number">{row.locks}</td>
            {close}
        </tr>
    }
}

/// A Close button that asks before it acts: the first press shows `prompt` with a confirming
/// button and a Cancel button (which row is asking lives in `asking`, so that it survives the
/// tables' refresh); the confirming button runs `on_confirm`.
#[component]
fn ConfirmButton(
    id: String,
    asking: RwSignal<Option<String>>,
    aria_label: String,
    prompt: String,
    confirm: &'static str,
    #[prop(into)] pending: Signal<bool>,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let on_confirm = std::sync::Arc::new(on_confirm);
    let is_asking = {
        let id = id.clone();
        move || asking.with(|current| current.as_deref() == Some(id.as_str()))
    };
    view! {
        <Show
            when=is_asking
            fallback=move || {
                let id = id.clone();
                view! {
                    <button
                        type="button"
                        class="danger small"
                        aria-label=aria_label.clone()
                        on:click=move |_| asking.set(Some(id.clone()))
                    >
                        "Close"
                    </button>
                }
            }
        >
            <span class="confirm" role="group" aria-label=prompt.clone()>
                <span class="confirm-text">{prompt.clone()}</span>
                <button
                    type="button"
                    class="danger small"
                    disabled=move || pending.get()
                    on:click={
                        let on_confirm = on_confirm.clone();
                        move |_| {
                            asking.set(None);
                            on_confirm();
                        }
                    }
                >
                    {confirm}
                </button>
                <button type="button" class="small" on:click=move |_| asking.set(None)>"Cancel"</button>
            </span>
        </Show>
    }
}
