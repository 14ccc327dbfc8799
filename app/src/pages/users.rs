//! The Users page: local SMB users, their lockouts, and the lockout policy, with the `edgeshare`
//! command that does the same as each change.

use leptos::prelude::*;

use crate::api::users::{
    CreateSmbUser, RemoveSmbUser, SetLockoutPolicy, SetSmbUserEnabled, SetSmbUserPassword, UnlockSmbUser,
    get_lockout_policy, list_smb_users,
};
use crate::components::form::{
    Choice, ConfirmDelete, Field, FormCard, FormError, NewPasswordFields, Submit, action_error,
};
use crate::components::format::{duration, timestamp};
use crate::components::layout::use_viewer;
use crate::components::notice::{Notice, NoticePanel};
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::error::AppError;
use crate::model::users::{
    LockoutPolicyView, MIN_PASSWORD_CHARS, UserSummary, password_command, setting_command, user_command,
};

/// Shows `notice(output)` when `action` succeeds.
fn announce<I, O>(action: ServerAction<I>, notice: RwSignal<Option<Notice>>, describe: impl Fn(&O) -> Notice + 'static)
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(output)) = action.value().get() {
            notice.set(Some(describe(&output)));
        }
    });
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let can_change = use_viewer().can_change();
    let create = ServerAction::<CreateSmbUser>::new();
    let password = ServerAction::<SetSmbUserPassword>::new();
    let enable = ServerAction::<SetSmbUserEnabled>::new();
    let remove = ServerAction::<RemoveSmbUser>::new();
    let unlock = ServerAction::<UnlockSmbUser>::new();
    let policy = ServerAction::<SetLockoutPolicy>::new();
    let refresh = RwSignal::new(0_u32);
    let users = Resource::new(
        move || {
            (
                refresh.get(),
                create.version().get(),
                enable.version().get(),
                remove.version().get(),
                unlock.version().get(),
            )
        },
        |_| list_smb_users(),
    );
    let lockout = Resource::new(move || policy.version().get(), |_| get_lockout_policy());
    let notice = RwSignal::new(None::<Notice>);
    announce(create, notice, |name: &String| Notice {
        text: format!("SMB user '{name}' created."),
        commands: vec![password_command("add", name)],
    });
    announce(password, notice, |name: &String| Notice {
        text: format!("Password of '{name}' changed."),
        commands: vec![password_command("set-password", name)],
    });
    announce(enable, notice, |(name, enabled): &(String, bool)| Notice {
        text: format!("'{name}' {}.", if *enabled { "enabled" } else { "disabled: its sign-ins are refused" }),
        commands: vec![user_command(if *enabled { "enable" } else { "disable" }, name)],
    });
    announce(remove, notice, |name: &String| Notice {
        text: format!("SMB user '{name}' removed, with its share permissions."),
        commands: vec![user_command("remove", name)],
    });
    announce(unlock, notice, |name: &String| Notice {
        text: format!("'{name}' unlocked: it may sign in again."),
        commands: vec![user_command("unlock", name)],
    });
    announce(policy, notice, |changed: &Vec<(String, String)>| Notice {
        text: if changed.is_empty() {
            "The lockout policy is unchanged.".into()
        } else {
            "Lockout policy saved.".into()
        },
        commands: changed.iter().map(|(key, value)| setting_command(key, value)).collect(),
    });
    let row_error = Signal::derive(move || {
        [action_error(enable).get(), action_error(remove).get(), action_error(unlock).get()]
            .into_iter()
            .flatten()
            .next()
    });
    view! {
        <PageHeader title="Users">
            "Local SMB users: the names and passwords clients sign in with to use shares. "
            "Which shares each may use is set on the Shares page. People who manage this console are on the page "
            <a href="/accounts">"Console accounts"</a> "."
        </PageHeader>
        <NoticePanel notice/>
        <FormError error=row_error/>
        <div class="toolbar">
            <button type="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
        </div>
        <ResourceView resource=users let:list>
            <UsersTable list can_change enable remove unlock/>
        </ResourceView>
        <div class="cards">
            <Show when=move || can_change>
                <CreateForm create/>
                // With the list: the names must be the same when the page is drawn on the server
                // and when it hydrates.
                <ResourceView resource=users quiet=true let:list>
                    <PasswordForm password names=list.into_iter().map(|u| u.name).collect()/>
                </ResourceView>
            </Show>
            <ResourceView resource=lockout let:current>
                <PolicyCard current can_change policy/>
            </ResourceView>
        </div>
    }
}

#[component]
fn UsersTable(
    list: Vec<UserSummary>,
    can_change: bool,
    enable: ServerAction<SetSmbUserEnabled>,
    remove: ServerAction<RemoveSmbUser>,
    unlock: ServerAction<UnlockSmbUser>,
) -> impl IntoView {
    let count =
        (!list.is_empty()).then(|| format!("{} SMB user{}", list.len(), if list.len() == 1 { "" } else { "s" }));
    view! {
        {count.map(|count| view! { <p class="count">{count}</p> })}
        <DataTable class="users" columns=&["Name", "State", "Created", "Password changed"] actions=can_change
            rows=list empty="There are no SMB users yet." row=move |user| view! { <UserRow user can_change enable remove unlock/> }/>
    }
}

#[component]
fn UserRow(
    user: UserSummary,
    can_change: bool,
    enable: ServerAction<SetSmbUserEnabled>,
    remove: ServerAction<RemoveSmbUser>,
    unlock: ServerAction<UnlockSmbUser>,
) -> impl IntoView {
    let enabled_badge = if user.enabled {
        view! { <span class="badge good">"Enabled"</span> }.into_any()
    } else {
        view! { <span class="badge muted">"Disabled"</span> }.into_any()
    };
    let locked = user.locked_out.then(|| {
        let until = user.locked_until.as_deref().map(|t| format!(" until {}", timestamp(t))).unwrap_or_default();
        view! {
            " "
            <span class="badge bad">"Locked out"</span>
            <span class="hint">{until}</span>
        }
    });
    let actions = can_change.then(|| {
        let name = user.name.clone();
        let question = format!("Remove the SMB user '{name}'? Its share permissions go with it; its files stay.");
        let command = user_command("remove", &name);
        let (toggle_label, toggle_value) = if user.enabled { ("Disable", "false") } else { ("Enable", "true") };
        let unlock_button = user.locked_out.then(|| {
            let name = name.clone();
            view! {
                <ActionForm action=unlock>
                    <input type="hidden" name="name" value=name/>
                    <button type="submit" class="small primary">"Unlock"</button>
                </ActionForm>
            }
        });
        let toggle_name = name.clone();
        view! {
            <td>
                <div class="row-actions">
                    {unlock_button}
                    <ActionForm action=enable>
                        <input type="hidden" name="name" value=toggle_name/>
                        <input type="hidden" name="enabled" value=toggle_value/>
                        <button type="submit" class="small">{toggle_label}</button>
                    </ActionForm>
                    <ConfirmDelete action=remove opener="Remove…" question button="Remove user" field="name" value=name command/>
                </div>
            </td>
        }
    });
    view! {
        <tr data-user=user.name.clone()>
            <th scope="row">{user.name.clone()}</th>
            <td>{enabled_badge}{locked}</td>
            <td class="nowrap">{timestamp(&user.created_at)}</td>
            <td class="nowrap">{timestamp(&user.password_changed_at)}</td>
            {actions}
        </tr>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateSmbUser>) -> impl IntoView {
    let error = action_error(create);
    view! {
        <FormCard id="create-user" title="Add a user" action=create clear=true>
            <Field form="user" name="name" label="User name" error autocomplete="off" required=true
                hint="At most 20 characters; no \" / \\ [ ] : ; | = , + * ? < > @ %."/>
            <NewPasswordFields form="user" error min_chars=MIN_PASSWORD_CHARS/>
            <p class="hint">"Command line: " <code>"edgeshare user add NAME --password-stdin"</code></p>
            <Submit pending=create.pending() label="Add user" busy_label="Adding…"/>
        </FormCard>
    }
}

#[component]
fn PasswordForm(password: ServerAction<SetSmbUserPassword>, names: Vec<String>) -> impl IntoView {
    let error = action_error(password);
    view! {
        <FormCard id="password" title="Change a password" action=password clear=true>
            <Choice id="password-name" name="name" label="User" options=names/>
            <NewPasswordFields form="password" error min_chars=MIN_PASSWORD_CHARS label="New password" confirm="Confirm new password"/>
            <p class="hint">"Sessions already signed in stay; new sign-ins need the new password. Command line: "
                <code>"edgeshare user set-password NAME --password-stdin"</code></p>
            <Submit pending=password.pending() label="Change password" busy_label="Saving…"/>
        </FormCard>
    }
}

#[component]
fn PolicyCard(current: LockoutPolicyView, can_change: bool, policy: ServerAction<SetLockoutPolicy>) -> impl IntoView {
    let seconds = |text: &str| text.parse::<u64>().map(duration).unwrap_or_else(|_| text.to_owned());
    let summary = if current.threshold == "0" {
        "Accounts are never locked out.".to_owned()
    } else {
        format!(
            "{} failed sign-ins within {} lock an account for {}.",
            current.threshold,
            seconds(&current.window_seconds),
            seconds(&current.duration_seconds)
        )
    };
    let error = action_error(policy);
    let LockoutPolicyView { threshold, window_seconds, duration_seconds } = current;
    view! {
        <section class="card" aria-labelledby="policy-title">
            <h2 id="policy-title">"Lockout policy"</h2>
            <p data-testid="lockout-summary">{summary}</p>
            {if can_change {
                view! {
                    <ActionForm action=policy>
                        <FormError error/>
                        <Field form="policy" name="threshold" label="Failed sign-ins before lockout" error
                            value=threshold hint="0 turns lockout off; at most 999." required=true/>
                        <Field form="policy" name="window_seconds" label="Counting window (seconds)" error
                            value=window_seconds hint="Failures older than this are forgotten; 1 to 86400." required=true/>
                        <Field form="policy" name="duration_seconds" label="Lockout duration (seconds)" error
                            value=duration_seconds hint="How long a locked account stays locked; 1 to 864000." required=true/>
                        <p class="hint">"Command line: "
                            <code>"edgeshare settings set lockout_threshold N"</code>
                            " (also lockout_window_seconds, lockout_duration_seconds)"</p>
                        <Submit pending=policy.pending() label="Save policy" busy_label="Saving…"/>
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! {
                    <dl>
                        <dt>"Failed sign-ins before lockout"</dt>
                        <dd>{threshold}</dd>
                        <dt>"Counting window"</dt>
                        <dd>{format!("{window_seconds} s")}</dd>
                        <dt>"Lockout duration"</dt>
                        <dd>{format!("{duration_seconds} s")}</dd>
                    </dl>
                }
                    .into_any()
            }}
        </section>
    }
}
