//! The Shares page: every share (searched, sorted and paged in the browser), and for
//! administrators a form to create or change one, with the `edgeshare` command that does the same.

use leptos::prelude::*;

use crate::api::shares::{CreateShare, RemoveShare, UpdateShare, list_shares};
use crate::api::users::list_smb_users;
use crate::components::form::{ConfirmDelete, Field, FormError, Submit, action_error};
use crate::components::format::timestamp;
use crate::components::layout::use_viewer;
use crate::components::notice::{Notice, NoticePanel};
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::{Pager, Sort, SortHeader, page_of};
use crate::error::AppError;
use crate::model::shares::{
    AccessLevel, EVERYONE, MAX_DESCRIPTION_CHARS, Permission, ShareEdit, ShareForm, ShareSummary, add_command,
    remove_command, set_command,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Name,
    Path,
    Description,
    Created,
}

/// The shares that match `query` (name, path, description or a permission's user), in `sort` order.
fn arrange(list: &[ShareSummary], query: &str, sort: Sort<Column>) -> Vec<ShareSummary> {
    let query = query.trim().to_lowercase();
    let mut rows: Vec<ShareSummary> = list
        .iter()
        .filter(|share| {
            query.is_empty()
                || [&share.name, &share.path, &share.description].iter().any(|t| t.to_lowercase().contains(&query))
                || share.permissions.iter().any(|p| p.principal.to_lowercase().contains(&query))
        })
        .cloned()
        .collect();
    let key = |share: &ShareSummary| match sort.column {
        Column::Name => share.name.to_lowercase(),
        Column::Path => share.path.clone(),
        Column::Description => share.description.to_lowercase(),
        Column::Created => share.created_at.clone(),
    };
    rows.sort_by_cached_key(|share| (key(share), share.name.to_lowercase()));
    if !sort.ascending {
        rows.reverse();
    }
    rows
}

/// What the form edits: a new share, or the share of this name as it was when the form opened.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Editing {
    New,
    Existing(String, ShareForm),
}

/// The form's inputs, one signal each so that typing in one does not redraw the others.
#[derive(Clone, Copy)]
struct FormState {
    name: RwSignal<String>,
    path: RwSignal<String>,
    description: RwSignal<String>,
    permissions: RwSignal<Vec<Permission>>,
    encrypt_data: RwSignal<bool>,
    access_based_enumeration: RwSignal<bool>,
    max_users: RwSignal<String>,
    continuous_availability: RwSignal<bool>,
}

impl FormState {
    fn new() -> Self {
        FormState {
            name: RwSignal::new(String::new()),
            path: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            permissions: RwSignal::new(Vec::new()),
            encrypt_data: RwSignal::new(false),
            access_based_enumeration: RwSignal::new(false),
            max_users: RwSignal::new(String::new()),
            continuous_availability: RwSignal::new(false),
        }
    }

    fn load(&self, form: ShareForm) {
        self.name.set(form.name);
        self.path.set(form.path);
        self.description.set(form.description);
        self.permissions.set(form.permissions);
        self.encrypt_data.set(form.encrypt_data);
        self.access_based_enumeration.set(form.access_based_enumeration);
        self.max_users.set(form.max_users);
        self.continuous_availability.set(form.continuous_availability);
    }

    fn get(&self) -> ShareForm {
        ShareForm {
            name: self.name.get(),
            path: self.path.get(),
            description: self.description.get(),
            permissions: self.permissions.get(),
            encrypt_data: self.encrypt_data.get(),
            access_based_enumeration: self.access_based_enumeration.get(),
            max_users: self.max_users.get(),
            continuous_availability: self.continuous_availability.get(),
        }
    }
}

/// A new share lets everyone read, as on Windows and with `edgeshare share add`.
fn new_share() -> ShareForm {
    ShareForm {
        permissions: vec![Permission { principal: EVERYONE.into(), access: AccessLevel::Read }],
        ..ShareForm::default()
    }
}

#[component]
pub fn SharesPage() -> impl IntoView {
    let can_change = use_viewer().can_change();
    let create = ServerAction::<CreateShare>::new();
    let update = ServerAction::<UpdateShare>::new();
    let remove = ServerAction::<RemoveShare>::new();
    let shares = Resource::new(
        move || (create.version().get(), update.version().get(), remove.version().get()),
        |_| list_shares(),
    );
    let query = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort { column: Column::Name, ascending: true });
    let page = RwSignal::new(0_usize);
    let editing = RwSignal::new(None::<Editing>);
    let form = FormState::new();
    let notice = RwSignal::new(None::<Notice>);
    // The notice to show when the action now running succeeds.
    let on_success = StoredValue::new(None::<Notice>);

    let announce = move |name: &str| {
        if let Some(mut next) = on_success.get_value() {
            next.text = next.text.replace("{name}", name);
            notice.set(Some(next));
        }
    };
    Effect::new(move |_| {
        if let Some(Ok(name)) = create.value().get().or_else(|| update.value().get()) {
            announce(&name);
            editing.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(name)) = remove.value().get() {
            announce(&name);
        }
    });
    let open = Callback::new(move |(what, values): (Editing, ShareForm)| {
        create.clear();
        update.clear();
        form.load(values);
        editing.set(Some(what));
    });
    let remove_error = action_error(remove);
    view! {
        <PageHeader title="Shares">
            "Directories of this server that SMB clients can map, with who may use them. "
            "Permissions name SMB users (page Users) or Everyone; No access wins over everything else."
        </PageHeader>
        <NoticePanel notice/>
        <FormError error=remove_error/>
        <div class="toolbar">
            <div class="field search">
                <label for="share-search">"Search"</label>
                <input
                    id="share-search"
                    type="search"
                    placeholder="Name, path, description or user"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        page.set(0);
                    }
                />
            </div>
            {can_change
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="primary"
                            on:click=move |_| {
                                on_success.set_value(None);
                                open.run((Editing::New, new_share()));
                            }
                        >
                            "New share"
                        </button>
                    }
                })}
        </div>
        <Show when=move || editing.get().is_some()>
            <ShareEditor editing form create update on_success/>
        </Show>
        <ResourceView resource=shares let:list>
            <SharesTable list query sort page can_change remove on_success edit=open/>
        </ResourceView>
    }
    .into_any()
}

#[component]
fn SharesTable(
    list: Vec<ShareSummary>,
    query: RwSignal<String>,
    sort: RwSignal<Sort<Column>>,
    page: RwSignal<usize>,
    can_change: bool,
    remove: ServerAction<RemoveShare>,
    on_success: StoredValue<Option<Notice>>,
    edit: Callback<(Editing, ShareForm)>,
) -> impl IntoView {
    let total = list.len();
    let rows = Memo::new(move |_| arrange(&list, &query.get(), sort.get()));
    let shown = move || rows.with(|r| page_of(r, page.get()));
    let count = move || {
        let matching = rows.with(Vec::len);
        let noun = if total == 1 { "share" } else { "shares" };
        if matching == total { format!("{total} {noun}") } else { format!("{matching} of {total} {noun} match") }
    };
    view! {
        <p class="count" data-testid="share-count" aria-live="polite">{count}</p>
        <div class="table-wrap">
            <table class="shares">
                <thead>
                    <tr>
                        <SortHeader column=Column::Name label="Name" sort page/>
                        <SortHeader column=Column::Path label="Path" sort page/>
                        <SortHeader column=Column::Description label="Description" sort page/>
                        <th scope="col">"Permissions"</th>
                        <th scope="col">"Options"</th>
                        <SortHeader column=Column::Created label="Created" sort page/>
                        {can_change.then(|| view! { <th scope="col">"Actions"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        shown()
                            .into_iter()
                            .map(|share| view! { <ShareRow share can_change remove on_success edit/> })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </div>
        <Show when=move || rows.with(Vec::is_empty)>
            <p class="empty">{move || if total == 0 { "There are no shares yet." } else { "No share matches the search." }}</p>
        </Show>
        <Pager page rows=Signal::derive(move || rows.with(Vec::len)) label="Pages of shares"/>
    }
    .into_any()
}

#[component]
fn ShareRow(
    share: ShareSummary,
    can_change: bool,
    remove: ServerAction<RemoveShare>,
    on_success: StoredValue<Option<Notice>>,
    edit: Callback<(Editing, ShareForm)>,
) -> impl IntoView {
    let permissions = share
        .permissions
        .iter()
        .map(|p| view! { <li>{format!("{}: {}", p.principal, p.access.label())}</li> })
        .collect_view();
    let mut options = Vec::new();
    if share.encrypt_data {
        options.push("Encrypted".to_owned());
    }
    if share.access_based_enumeration {
        options.push("Access-based enumeration".to_owned());
    }
    if let Some(max) = share.max_users {
        options.push(format!("At most {max} users"));
    }
    if share.continuous_availability {
        options.push("Continuously available".to_owned());
    }
    let options = if options.is_empty() {
        view! { <span class="hint">"—"</span> }.into_any()
    } else {
        options.into_iter().map(|o| view! { <span class="badge muted">{o}</span>" " }).collect_view().into_any()
    };
    let actions = can_change.then(|| {
        let values = ShareForm::from_summary(&share);
        let name = share.name.clone();
        let question = format!(
            "Delete the share '{}'? Clients connected to it lose it at once; the files in {} stay.",
            share.name, share.path
        );
        let command = remove_command(&share.name);
        let remembered = command.clone();
        view! {
            <td>
                <div class="row-actions">
                    <button
                        type="button"
                        class="small"
                        aria-label=format!("Edit {}", share.name)
                        on:click={
                            let name = name.clone();
                            move |_| {
                                on_success.set_value(None);
                                edit.run((Editing::Existing(name.clone(), values.clone()), values.clone()));
                            }
                        }
                    >
                        "Edit"
                    </button>
                    <ConfirmDelete
                        action=remove
                        opener="Delete…"
                        question
                        button="Delete share"
                        field="name"
                        value=name
                        command
                        on_submit=Callback::new(move |()| {
                            on_success
                                .set_value(
                                    Some(Notice { text: "Share '{name}' deleted; its files are untouched.".into(), commands: vec![remembered.clone()] }),
                                )
                        })
                    />
                </div>
            </td>
        }
    });
    view! {
        <tr data-share=share.name.clone()>
            <th scope="row">{share.name.clone()}</th>
            <td class="mono">{share.path.clone()}</td>
            <td>{share.description.clone()}</td>
            <td>
                <ul class="permissions">{permissions}</ul>
            </td>
            <td>{options}</td>
            <td class="nowrap">{timestamp(&share.created_at)}</td>
            {actions}
        </tr>
    }
    .into_any()
}

#[component]
fn ShareEditor(
    editing: RwSignal<Option<Editing>>,
    form: FormState,
    create: ServerAction<CreateShare>,
    update: ServerAction<UpdateShare>,
    on_success: StoredValue<Option<Notice>>,
) -> impl IntoView {
    let existing = move || match editing.get() {
        Some(Editing::Existing(name, _)) => Some(name),
        _ => None,
    };
    let (create_error, update_error) = (action_error(create), action_error(update));
    let error = Signal::derive(move || if existing().is_some() { update_error.get() } else { create_error.get() });
    let pending = Signal::derive(move || create.pending().get() || update.pending().get());
    let name_ref = NodeRef::<leptos::html::Input>::new();
    // Opening the form, or another share in it, puts the keyboard in its first field.
    Effect::new(move |_| {
        editing.track();
        if let Some(input) = name_ref.get() {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let share = form.get();
        match editing.get_untracked() {
            Some(Editing::Existing(original, before)) => {
                on_success.set_value(Some(Notice {
                    text: "Share '{name}' saved.".into(),
                    commands: vec![set_command(&original, &ShareEdit::between(&before, &share))],
                }));
                update.dispatch(UpdateShare { original, share });
            }
            _ => {
                on_success.set_value(Some(Notice {
                    text: "Share '{name}' created.".into(),
                    commands: vec![add_command(&share)],
                }));
                create.dispatch(CreateShare { share });
            }
        }
    };
    let heading = move || match existing() {
        Some(name) => format!("Edit the share '{name}'"),
        None => "New share".to_owned(),
    };
    let preview = move || {
        let share = form.get();
        match editing.get() {
            Some(Editing::Existing(original, before)) => {
                let edit = ShareEdit::between(&before, &share);
                if edit.is_empty() { "(nothing changed yet)".to_owned() } else { set_command(&original, &edit) }
            }
            _ => add_command(&share),
        }
    };
    view! {
        <section class="card wide share-editor" aria-labelledby="share-editor-title">
            <h2 id="share-editor-title">{heading}</h2>
            <form on:submit=submit novalidate=true>
                <FormError error/>
                <div class="share-fields">
                    <Field form="share" name="name" label="Share name" bound=form.name error autocomplete="off" required=true node_ref=name_ref
                        hint="What clients type after the server name: \\\\server\\name. At most 80 characters."/>
                    <Field form="share" name="path" label="Directory" bound=form.path error autocomplete="off" required=true
                        hint="Absolute path of an existing directory on this server, such as /srv/shares/sales."/>
                    <Field form="share" name="description" label="Description" bound=form.description error autocomplete="off"
                        hint=format!("Shown to clients that list the server's shares. At most {MAX_DESCRIPTION_CHARS} characters.")/>
                    <Field form="share" name="max_users" label="Concurrent user limit" bound=form.max_users error autocomplete="off" inputmode="numeric"
                        hint="Most users connected at once. Empty: no limit."/>
                </div>
                <PermissionsEditor permissions=form.permissions error/>
                <label class="checkbox">
                    <input type="checkbox" name="encrypt_data" prop:checked=move || form.encrypt_data.get()
                        on:change=move |ev| form.encrypt_data.set(event_target_checked(&ev))/>
                    "Encrypt data (clients must use SMB 3 encryption on this share)"
                </label>
                <label class="checkbox">
                    <input type="checkbox" name="access_based_enumeration" prop:checked=move || form.access_based_enumeration.get()
                        on:change=move |ev| form.access_based_enumeration.set(event_target_checked(&ev))/>
                    "Access-based enumeration (list only what each user may open)"
                </label>
                <label class="checkbox">
                    <input type="checkbox" name="continuous_availability" prop:checked=move || form.continuous_availability.get()
                        on:change=move |ev| form.continuous_availability.set(event_target_checked(&ev))/>
                    "Continuous availability (persistent handles: clients keep their open files and locks across a restart of the server; every write goes to the disk before it is acknowledged)"
                </label>
                <div class="command-preview">
                    <p class="hint">"The same from the command line:"</p>
                    <pre class="command"><code data-testid="share-command">{preview}</code></pre>
                </div>
                <div class="form-actions">
                    {move || if existing().is_some() {
                        view! { <Submit pending label="Save changes" busy_label="Saving…"/> }.into_any()
                    } else {
                        view! { <Submit pending label="Create share" busy_label="Creating…"/> }.into_any()
                    }}
                    <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            </form>
        </section>
    }
    .into_any()
}

/// The permission list: one access choice per user, and a row to add a user.
#[component]
fn PermissionsEditor(permissions: RwSignal<Vec<Permission>>, error: Signal<Option<AppError>>) -> impl IntoView {
    let users = Resource::new(|| (), |_| list_smb_users());
    // What the add row has chosen; empty: the first user offered.
    let candidate = RwSignal::new(String::new());
    let candidate_access = RwSignal::new(AccessLevel::Read);
    let message = move || error.get().and_then(|e| e.for_field("permissions").map(str::to_owned));
    // Everyone and every SMB user not listed yet.
    let available = move || {
        let listed = permissions.get();
        let mut names = vec![EVERYONE.to_owned()];
        names.extend(users.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|u| u.name));
        names.retain(|n| !listed.iter().any(|p| p.principal.eq_ignore_ascii_case(n)));
        names
    };
    let add = move |_| {
        let names = available();
        let wanted = candidate.get_untracked();
        let Some(principal) = names.iter().find(|n| **n == wanted).or(names.first()).cloned() else { return };
        permissions.update(|list| list.push(Permission { principal, access: candidate_access.get_untracked() }));
        candidate.set(String::new());
    };
    view! {
        <fieldset class="permissions" class:invalid=move || message().is_some()
            aria-describedby=move || message().map(|_| "share-permissions-error")>
            <legend>"Permissions"</legend>
            <Show
                when=move || !permissions.with(Vec::is_empty)
                fallback=|| view! { <p class="hint">"No one may use this share yet: add a user or Everyone."</p> }
            >
                <table class="permission-list">
                    <thead>
                        <tr>
                            <th scope="col">"User"</th>
                            <th scope="col">"Access"</th>
                            <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || permissions.get() key=|p| p.principal.clone() let:entry>
                            <PermissionRow entry permissions/>
                        </For>
                    </tbody>
                </table>
            </Show>
            <div class="permission-add">
                <div class="field">
                    <label for="share-add-principal">"User"</label>
                    <select id="share-add-principal" on:change=move |ev| candidate.set(event_target_value(&ev))>
                        {move || available().into_iter().map(|name| {
                            let (label, mine) = (name.clone(), name.clone());
                            view! { <option value=name selected=move || candidate.get() == mine>{label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="share-add-access">"Access"</label>
                    <AccessSelect id="share-add-access".into() value=candidate_access.into()
                        on_change=Callback::new(move |level| candidate_access.set(level))/>
                </div>
                <button type="button" on:click=add disabled=move || available().is_empty()>"Add permission"</button>
            </div>
            <p class="field-error" id="share-permissions-error" role="alert">{message}</p>
        </fieldset>
    }
    .into_any()
}

#[component]
fn PermissionRow(entry: Permission, permissions: RwSignal<Vec<Permission>>) -> impl IntoView {
    let principal = entry.principal.clone();
    // Rows are keyed by user: the select follows the list, which may be another share's now.
    let value = Signal::derive({
        let principal = principal.clone();
        move || {
            permissions.with(|list| list.iter().find(|p| p.principal == principal).map_or(entry.access, |p| p.access))
        }
    });
    let id = format!("share-access-{}", principal.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    let change = Callback::new({
        let principal = principal.clone();
        move |level| {
            permissions.update(|list| {
                if let Some(p) = list.iter_mut().find(|p| p.principal == principal) {
                    p.access = level;
                }
            })
        }
    });
    let remove = {
        let principal = principal.clone();
        move |_| permissions.update(|list| list.retain(|p| p.principal != principal))
    };
    view! {
        <tr data-principal=principal.clone()>
            <th scope="row">{principal.clone()}</th>
            <td><AccessSelect id label=format!("Access for {principal}") value on_change=change/></td>
            <td>
                <button type="button" class="small" aria-label=format!("Remove {principal}") on:click=remove>"Remove"</button>
            </td>
        </tr>
    }
}

#[component]
fn AccessSelect(
    id: String,
    value: Signal<AccessLevel>,
    on_change: Callback<AccessLevel>,
    /// When no `<label>` names the select.
    #[prop(optional)]
    label: Option<String>,
) -> impl IntoView {
    view! {
        <select id=id aria-label=label prop:value=move || value.get().as_str() on:change=move |ev| {
            if let Some(level) = AccessLevel::parse(&event_target_value(&ev)) {
                on_change.run(level);
            }
        }>
            {AccessLevel::ALL
                .map(|level| {
                    view! { <option value=level.as_str() selected=move || value.get() == level>{level.label()}</option> }
                })
                .collect_view()}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(name: &str, path: &str, created_at: &str) -> ShareSummary {
        ShareSummary {
            name: name.into(),
            path: path.into(),
            description: String::new(),
            permissions: vec![Permission { principal: "alice".into(), access: AccessLevel::Read }],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
            created_at: created_at.into(),
        }
    }

    #[test]
    fn the_search_matches_names_paths_and_users_without_regard_to_case() {
        let list =
            [share("Sales", "/srv/a", "1"), share("finance", "/srv/SALES-archive", "2"), share("hr", "/srv/c", "3")];
        let sort = Sort { column: Column::Name, ascending: true };
        let names = |query| arrange(&list, query, sort).into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names("sales"), ["finance", "Sales"]);
        assert_eq!(names("ALICE").len(), 3);
        assert!(names("nobody").is_empty());
    }

    #[test]
    fn sorting_orders_by_the_chosen_column_either_way() {
        let list = [
            share("b", "/srv/1", "2026-01-02"),
            share("A", "/srv/3", "2026-01-03"),
            share("c", "/srv/2", "2026-01-01"),
        ];
        let order = |column, ascending| {
            arrange(&list, "", Sort { column, ascending }).into_iter().map(|s| s.name).collect::<Vec<_>>()
        };
        assert_eq!(order(Column::Name, true), ["A", "b", "c"]);
        assert_eq!(order(Column::Name, false), ["c", "b", "A"]);
        assert_eq!(order(Column::Path, true), ["b", "c", "A"]);
        assert_eq!(order(Column::Created, false), ["A", "b", "c"]);
    }
}
