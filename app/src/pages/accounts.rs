use leptos::prelude::*;

use crate::api::accounts::{CreateAccount, RemoveAccount, ResetAccountPassword, SetAccountRole, list_accounts};
use crate::components::form::{
    Choice, ConfirmDelete, Field, FormCard, FormError, NewPasswordFields, Submit, action_error,
};
use crate::components::format::timestamp;
use crate::components::layout::use_viewer;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::model::accounts::{AccountSummary, MIN_PASSWORD_CHARS};
use crate::model::auth::Role;

#[component]
pub fn AccountsPage() -> impl IntoView {
    let viewer = use_viewer();
    let create = ServerAction::<CreateAccount>::new();
    let remove = ServerAction::<RemoveAccount>::new();
    let set_role = ServerAction::<SetAccountRole>::new();
    let reset = ServerAction::<ResetAccountPassword>::new();
    let accounts = Resource::new(
        move || (create.version().get(), remove.version().get(), set_role.version().get()),
        |_| list_accounts(),
    );
    let row_error =
        Signal::derive(move || [action_error(remove).get(), action_error(set_role).get()].into_iter().flatten().next());
    let can_change = viewer.can_change();
    view! {
        <PageHeader title="Console accounts">
            "People who may use this console. Administrators change settings; readers see everything and change nothing. "
            "These accounts do not give access to shares."
        </PageHeader>
        <FormError error=row_error/>
        <ResourceView resource=accounts let:list>
            {
                // The reset form offers the listed names: it renders with the list (the server
                // waits for the list, and the browser hydrates the same options).
                let names: Vec<String> = list.iter().map(|a| a.name.clone()).collect();
                view! {
                    <AccountsTable list can_change remove set_role/>
                    {can_change.then(|| view! { <div class="cards"><ResetForm reset names/></div> })}
                }
            }
        </ResourceView>
        <Show when=move || can_change>
            <div class="cards">
                <CreateForm create/>
            </div>
        </Show>
    }
}

#[component]
fn AccountsTable(
    list: Vec<AccountSummary>,
    can_change: bool,
    remove: ServerAction<RemoveAccount>,
    set_role: ServerAction<SetAccountRole>,
) -> impl IntoView {
    let row = move |account: AccountSummary| {
        let name = account.name.clone();
        view! {
            <tr data-account=name>
                <td>{account.name.clone()}</td>
                <td><span class=format!("badge role-{}", account.role.as_str())>{account.role.label()}</span></td>
                <td class="nowrap">{timestamp(&account.created_at)}</td>
                <td class="nowrap">{account.last_sign_in_at.as_deref().map_or("Never".to_owned(), timestamp)}</td>
                {can_change.then(|| view! { <RowActions account remove set_role/> })}
            </tr>
        }
    };
    view! { <DataTable class="accounts" columns=&["Name", "Role", "Created", "Last sign-in"] actions=can_change rows=list row/> }
}

#[component]
fn RowActions(
    account: AccountSummary,
    remove: ServerAction<RemoveAccount>,
    set_role: ServerAction<SetAccountRole>,
) -> impl IntoView {
    let other = if account.role == Role::Admin { Role::Reader } else { Role::Admin };
    let (name, role_name) = (account.name.clone(), account.name.clone());
    let question = format!("Remove the console account '{name}'? Its sessions end at once.");
    view! {
        <td>
            <div class="row-actions">
                <ActionForm action=set_role>
                    <input type="hidden" name="name" value=role_name/>
                    <input type="hidden" name="role" value=other.as_str()/>
                    <button type="submit" class="small">{format!("Make {}", other.label().to_lowercase())}</button>
                </ActionForm>
                <ConfirmDelete action=remove opener="Remove…" question button="Remove account" field="name" value=name/>
            </div>
        </td>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateAccount>) -> impl IntoView {
    let error = action_error(create);
    view! {
        <FormCard id="create-account" title="Add an account" action=create clear=true>
            <Field form="create" name="name" label="Account name" error autocomplete="off" required=true/>
            <div class="field">
                <label for="create-role">"Role"</label>
                <select id="create-role" name="role">
                    {Role::ALL.map(|role| view! { <option value=role.as_str()>{role.label()}</option> }).collect_view()}
                </select>
            </div>
            <NewPasswordFields form="create" error min_chars=MIN_PASSWORD_CHARS/>
            <Submit pending=create.pending() label="Add account" busy_label="Adding…"/>
            <Show when=move || matches!(create.value().get(), Some(Ok(())))>
                <p class="ok-text" role="status">"Account added."</p>
            </Show>
        </FormCard>
    }
}

#[component]
fn ResetForm(reset: ServerAction<ResetAccountPassword>, names: Vec<String>) -> impl IntoView {
    let error = action_error(reset);
    view! {
        <FormCard id="reset" title="Reset a password" action=reset>
            <Choice id="reset-name" name="name" label="Account" options=names/>
            <NewPasswordFields form="reset" error min_chars=MIN_PASSWORD_CHARS label="New password"/>
            <Submit pending=reset.pending() label="Reset password" busy_label="Saving…"/>
            <Show when=move || matches!(reset.value().get(), Some(Ok(())))>
                <p class="ok-text" role="status">"Password changed. The account's open sessions have ended."</p>
            </Show>
        </FormCard>
    }
}
