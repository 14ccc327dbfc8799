//! The Identity page: Kerberos for domain and realm users. The realm and its KDCs (with a
//! reachability test), the service keytab and whether it covers every name clients use, the
//! NTLM policy, the KDC proxy that lets clients on the internet get tickets over HTTPS, the
//! client settings to copy, and the domain names and principal mappings share permissions use.

use leptos::prelude::*;

use crate::api::identity::{
    CheckKdcs, ImportKeytab, MapPrincipal, RemoveDomainName, RemoveKeys, RemoveRealm, SetDomainName, SetKdcProxy,
    SetNtlmPolicy, SetRealm, UnmapPrincipal, get_identity_status,
};
use crate::components::form::{Choice, ChosenFile, ConfirmDelete, Field, FormError, Submit, action_error};
use crate::components::layout::use_viewer;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::model::identity::{
    IdentityStatus, KdcProxyView, KeyView, linux_krb5_conf, realm_command, windows_kdc_proxy_policy,
};

#[derive(Clone, Copy)]
struct Actions {
    set_realm: ServerAction<SetRealm>,
    remove_realm: ServerAction<RemoveRealm>,
    check: ServerAction<CheckKdcs>,
    import: ServerAction<ImportKeytab>,
    remove_keys: ServerAction<RemoveKeys>,
    ntlm: ServerAction<SetNtlmPolicy>,
    proxy: ServerAction<SetKdcProxy>,
    name: ServerAction<SetDomainName>,
    remove_name: ServerAction<RemoveDomainName>,
    map: ServerAction<MapPrincipal>,
    unmap: ServerAction<UnmapPrincipal>,
}

#[component]
pub fn IdentityPage() -> impl IntoView {
    let can_change = use_viewer().can_change();
    let actions = Actions {
        set_realm: ServerAction::new(),
        remove_realm: ServerAction::new(),
        check: ServerAction::new(),
        import: ServerAction::new(),
        remove_keys: ServerAction::new(),
        ntlm: ServerAction::new(),
        proxy: ServerAction::new(),
        name: ServerAction::new(),
        remove_name: ServerAction::new(),
        map: ServerAction::new(),
        unmap: ServerAction::new(),
    };
    let status = Resource::new(
        move || {
            (
                actions.set_realm.version().get(),
                actions.remove_realm.version().get(),
                actions.import.version().get(),
                actions.remove_keys.version().get(),
                actions.ntlm.version().get(),
                actions.proxy.version().get(),
                actions.name.version().get(),
                actions.remove_name.version().get(),
                actions.map.version().get(),
                actions.unmap.version().get(),
            )
        },
        |_| get_identity_status(),
    );
    let row_error = Signal::derive(move || {
        [
            action_error(actions.remove_realm).get(),
            action_error(actions.remove_keys).get(),
            action_error(actions.remove_name).get(),
            action_error(actions.unmap).get(),
        ]
        .into_iter()
        .flatten()
        .next()
    });
    view! {
        <PageHeader title="Identity">
            "Domain and realm users sign in with Kerberos: the server checks their tickets with its own keys "
            "(a keytab), and clients on the internet get their tickets through the KDC proxy, over HTTPS on the "
            "same public name as SMB over QUIC. Local users on the Users page keep signing in with a password "
            "unless NTLM is refused."
        </PageHeader>
        <FormError error=row_error/>
        <ResourceView resource=status let:status>
            <Sections status can_change actions/>
        </ResourceView>
    }
}

#[component]
fn Sections(status: IdentityStatus, can_change: bool, actions: Actions) -> impl IntoView {
    let kerberos = if status.kerberos_on() {
        view! { <span class="badge good">"Offered"</span> }.into_any()
    } else {
        view! { <span class="badge muted">"Off: no service keys"</span> }.into_any()
    };
    let ntlm = if status.ntlm_policy == "refuse" {
        view! { <span class="badge warn">"Refused: only Kerberos signs in"</span> }.into_any()
    } else {
        view! { <span class="badge muted">"Allowed"</span> }.into_any()
    };
    let uncovered: Vec<String> = status.uncovered().map(str::to_owned).collect();
    let coverage = status.coverage.clone();
    let realms = status.realms.clone();
    let realm_names: Vec<String> = realms.iter().map(|realm| realm.name.clone()).collect();
    // The name clients reach the proxy by: one it has a certificate for, else the server's own.
    let public_name = status
        .kdc_proxy
        .names
        .first()
        .or(coverage.first().map(|name| &name.name))
        .cloned()
        .unwrap_or_else(|| "fs.example.com".into());
    view! {
        <div class="cards">
            <section class="card" aria-labelledby="identity-state-title" data-testid="identity-state">
                <h2 id="identity-state-title">"Status"</h2>
                <dl>
                    <dt>"Kerberos"</dt>
                    <dd>{kerberos}</dd>
                    <dt>"NTLM"</dt>
                    <dd>{ntlm}</dd>
                    <dt>"Clock skew allowed"</dt>
                    <dd>{format!("{} s", status.max_skew_seconds)}</dd>
                </dl>
                <h3>"Names clients use"</h3>
                <DataTable class="coverage" columns=&["Name", "Service key"] rows=coverage
                    empty="No server name yet: map one on the SMB over QUIC page."
                    row=|name| {
                        let key = if name.principals.is_empty() {
                            view! { <span class="badge bad">"No cifs/ key: Kerberos cannot sign in through it"</span> }.into_any()
                        } else {
                            view! { <span class="badge good">{name.principals.join(", ")}</span> }.into_any()
                        };
                        view! { <tr><td class="mono">{name.name}</td><td>{key}</td></tr> }
                    }/>
                {(!uncovered.is_empty() && status.kerberos_on()).then(|| view! {
                    <p class="hint">"Export a key for " {uncovered.iter().map(|n| format!("cifs/{n}")).collect::<Vec<_>>().join(", ")}
                        " (ktpass, samba-tool domain exportkeytab or kadmin ktadd) and import it below."</p>
                })}
            </section>
            <NtlmCard policy=status.ntlm_policy.clone() can_change action=actions.ntlm/>
        </div>
        <section class="card wide" aria-labelledby="realms-title">
            <h2 id="realms-title">"Realms"</h2>
            <DataTable class="realms" columns=&["Realm", "KDCs"] actions=can_change rows=realms
                empty="No realm yet: add the realm (Active Directory domain or MIT realm) and its KDCs."
                row=move |realm| view! { <RealmRow name=realm.name kdcs=realm.kdcs can_change actions/> }/>
            <KdcChecks check=actions.check/>
            {can_change.then(|| view! { <RealmForm action=actions.set_realm/> })}
        </section>
        <section class="card wide" aria-labelledby="keys-title">
            <h2 id="keys-title">"Service keys"</h2>
            <p class="hint">"Kept in the server's database only: never shown, exported or logged."</p>
            <KeysTable keys=status.keys.clone() can_change remove=actions.remove_keys/>
            {can_change.then(|| view! { <KeytabForm import=actions.import/> })}
        </section>
        <div class="cards">
            <ProxyCard proxy=status.kdc_proxy.clone() can_change action=actions.proxy/>
            <ClientSetup realms=realm_names proxy=status.kdc_proxy.clone() name=public_name/>
        </div>
        <div class="cards">
            <section class="card" aria-labelledby="names-title">
                <h2 id="names-title">"Domain users and groups"</h2>
                <p class="hint">"A ticket names groups by SID: record a group's SID here to give it share permissions as DOMAIN\\name."</p>
                <DataTable class="domain-names" columns=&["Name", "SID"] actions=can_change rows=status.domain_names.clone()
                    empty="None recorded."
                    row=move |entry| view! {
                        <tr>
                            <td>{entry.name.clone()}</td>
                            <td class="mono">{entry.sid.clone()}</td>
                            {can_change.then(|| view! {
                                <td><ConfirmDelete action=actions.remove_name opener="Remove…"
                                    question=format!("Forget {}?", entry.name) button="Remove" field="name"
                                    value=entry.name.clone()/></td>
                            })}
                        </tr>
                    }/>
                {can_change.then(|| view! {
                    <ActionForm action=actions.name>
                        <FormError error=action_error(actions.name)/>
                        <Field form="domain-name" name="name" label="Name" error=action_error(actions.name) hint="DOMAIN\\group, e.g. CORP\\Sales."/>
                        <Field form="domain-name" name="sid" label="SID" error=action_error(actions.name) hint="samba-tool group show Sales, or Get-ADGroup Sales."/>
                        <Submit pending=actions.name.pending() label="Record" busy_label="Recording…"/>
                    </ActionForm>
                })}
            </section>
            <section class="card" aria-labelledby="mappings-title">
                <h2 id="mappings-title">"Principals signing in as local users"</h2>
                <DataTable class="principal-map" columns=&["Principal", "SMB user"] actions=can_change rows=status.mappings.clone()
                    empty="None: principals sign in as themselves (user@REALM, or DOMAIN\\user with a PAC)."
                    row=move |mapping| view! {
                        <tr>
                            <td class="mono">{mapping.principal.clone()}</td>
                            <td>{mapping.user.clone()}</td>
                            {can_change.then(|| view! {
                                <td><ConfirmDelete action=actions.unmap opener="Remove…"
                                    question=format!("Let {} sign in as itself?", mapping.principal) button="Remove"
                                    field="principal" value=mapping.principal.clone()/></td>
                            })}
                        </tr>
                    }/>
                {can_change.then(|| view! {
                    <ActionForm action=actions.map>
                        <FormError error=action_error(actions.map)/>
                        <Field form="map" name="principal" label="Principal" error=action_error(actions.map) hint="user@REALM"/>
                        <Field form="map" name="user" label="SMB user" error=action_error(actions.map)/>
                        <Submit pending=actions.map.pending() label="Map" busy_label="Mapping…"/>
                    </ActionForm>
                })}
            </section>
        </div>
    }
}

#[component]
fn RealmRow(name: String, kdcs: Vec<String>, can_change: bool, actions: Actions) -> impl IntoView {
    let (check_value, remove_value) = (name.clone(), name.clone());
    let question = format!("Remove the realm {name}?");
    let command = format!("edgeshare kerberos realm remove {name}");
    view! {
        <tr>
            <td class="mono">{name}</td>
            <td class="mono">{kdcs.join(", ")}</td>
            {can_change.then(move || view! {
                <td><div class="row-actions">
                    <ActionForm action=actions.check>
                        <input type="hidden" name="realm" value=check_value/>
                        <button type="submit">"Test KDCs"</button>
                    </ActionForm>
                    <ConfirmDelete action=actions.remove_realm opener="Remove…" question button="Remove realm"
                        field="realm" value=remove_value command/>
                </div></td>
            })}
        </tr>
    }
}

#[component]
fn NtlmCard(policy: String, can_change: bool, action: ServerAction<SetNtlmPolicy>) -> impl IntoView {
    let options =
        if policy == "refuse" { vec!["refuse".into(), "allow".into()] } else { vec!["allow".into(), "refuse".into()] };
    view! {
        <section class="card" aria-labelledby="ntlm-title">
            <h2 id="ntlm-title">"NTLM"</h2>
            <p class="hint">
                "Like Windows' \"Restrict NTLM\" for the server: refuse NTLM once every client signs in with "
                "Kerberos. Local users then cannot sign in."
            </p>
            {if can_change {
                view! {
                    <ActionForm action>
                        <FormError error=action_error(action)/>
                        <Choice id="ntlm-policy" name="policy" label="NTLM sign-in" options/>
                        <Submit pending=action.pending() label="Save" busy_label="Saving…"/>
                        <p class="hint">"Command line: " <code>"edgeshare kerberos ntlm allow|refuse"</code></p>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! { <p>{format!("NTLM: {policy}")}</p> }.into_any()
            }}
        </section>
    }
}

#[component]
fn KdcChecks(check: ServerAction<CheckKdcs>) -> impl IntoView {
    move || match check.value().get() {
        Some(Ok(checks)) => view! {
            <ul class="kdc-checks" data-testid="kdc-checks">
                {checks.into_iter().map(|c| {
                    let class = if c.reachable { "badge good" } else { "badge bad" };
                    view! { <li><span class="mono">{c.kdc}</span> " " <span class=class>{c.detail}</span></li> }
                }).collect_view()}
            </ul>
        }
        .into_any(),
        Some(Err(error)) => view! { <p class="error-text" role="alert">{error.to_string()}</p> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
fn RealmForm(action: ServerAction<SetRealm>) -> impl IntoView {
    let error = action_error(action);
    let realm = RwSignal::new(String::new());
    let kdcs = RwSignal::new(String::new());
    let command = move || {
        let kdcs: Vec<String> =
            kdcs.get().split([',', ' ', '\n']).filter(|k| !k.is_empty()).map(str::to_owned).collect();
        realm_command(&realm.get(), &kdcs)
    };
    view! {
        <ActionForm action>
            <FormError error/>
            <Field form="realm" name="realm" label="Realm" error bound=realm hint="CORP.EXAMPLE.COM: the Active Directory domain's DNS name, in capitals."/>
            <Field form="realm" name="kdcs" label="KDCs" error bound=kdcs hint="Domain controllers or KDCs, host or host:port, separated by commas."/>
            <Submit pending=action.pending() label="Save realm" busy_label="Saving…"/>
            <p class="hint">"Command line: " <code>{command}</code></p>
        </ActionForm>
    }
}

#[component]
fn KeysTable(keys: Vec<KeyView>, can_change: bool, remove: ServerAction<RemoveKeys>) -> impl IntoView {
    view! {
        <DataTable class="keys" columns=&["Principal", "Key version", "Encryption", "Imported", "From"] actions=can_change
            rows=keys empty="No keys: import the keytab of the server's cifs/ principals."
            row=move |key| {
                let kvno = key.kvno.to_string();
                view! {
                    <tr>
                        <td class="mono">{key.principal.clone()}</td>
                        <td>{kvno.clone()}</td>
                        <td>{key.enctype.clone()}</td>
                        <td>{key.imported_at.clone()}</td>
                        <td>{key.source.clone()}</td>
                        {can_change.then(move || view! {
                            <td><ActionForm action=remove>
                                <input type="hidden" name="principal" value=key.principal.clone()/>
                                <input type="hidden" name="kvno" value=kvno.clone()/>
                                <button type="submit">"Remove version " {kvno.clone()}</button>
                            </ActionForm></td>
                        })}
                    </tr>
                }
            }/>
    }
}

#[component]
fn KeytabForm(import: ServerAction<ImportKeytab>) -> impl IntoView {
    let error = action_error(import);
    let file = ChosenFile::new();
    let keytab_error = Signal::derive(move || {
        file.error.get().or_else(|| error.get().and_then(|e| e.for_field("keytab").map(str::to_owned)))
    });
    let pending = Signal::derive(move || file.reading.get() || import.pending().get());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        file.read("Choose a keytab file.", move |keytab_base64, file_name| {
            import.dispatch(ImportKeytab { keytab_base64, file_name });
        });
    };
    let imported = move || {
        import.value().get().and_then(|result| result.ok()).map(|done| {
            let mut text = format!(
                "Imported {} key(s) ({} new, {} replaced) for {}.",
                done.added + done.replaced,
                done.added,
                done.replaced,
                done.principals.join(", ")
            );
            if !done.skipped.is_empty() {
                text.push_str(&format!(" Skipped (encryption types not supported): {}.", done.skipped.join("; ")));
            }
            text
        })
    };
    view! {
        <form on:submit=on_submit>
            <FormError error/>
            <div class="field" class:invalid=move || keytab_error.get().is_some()>
                <label for="keytab-file">"Keytab file"</label>
                <input id="keytab-file" type="file" accept=".keytab,.kt,application/octet-stream" node_ref=file.input
                    aria-describedby="keytab-file-hint keytab-file-error"/>
                <p class="hint" id="keytab-file-hint">
                    "From ktpass, samba-tool domain exportkeytab or kadmin ktadd. The realm must be added first."
                </p>
                <p class="field-error" id="keytab-file-error" role="alert">{keytab_error}</p>
            </div>
            <Submit pending label="Import keytab" busy_label="Importing…"/>
            <p class="hint">"Command line: " <code>"edgeshare kerberos keytab import FILE"</code></p>
            <p class="ok-text" role="status">{imported}</p>
        </form>
    }
}

#[component]
fn ProxyCard(proxy: KdcProxyView, can_change: bool, action: ServerAction<SetKdcProxy>) -> impl IntoView {
    let state = match (&proxy.listening, &proxy.error, proxy.enabled) {
        (Some(address), _, _) => {
            view! { <span class="badge good">{format!("Listening on TCP {address}")}</span> }.into_any()
        }
        (None, Some(error), true) => {
            view! { <span class="badge bad">{format!("Not listening: {error}")}</span> }.into_any()
        }
        (None, _, true) => view! { <span class="badge warn">"Starting…"</span> }.into_any(),
        (None, _, false) => view! { <span class="badge muted">"Off"</span> }.into_any(),
    };
    let error = action_error(action);
    let command = if proxy.enabled {
        "edgeshare kdc-proxy disable".to_owned()
    } else {
        crate::model::identity::kdc_proxy_command(&proxy.port.to_string(), &proxy.address)
    };
    view! {
        <section class="card" aria-labelledby="proxy-title" data-testid="kdc-proxy">
            <h2 id="proxy-title">"KDC proxy"</h2>
            <p class="hint">
                "Kerberos over HTTPS (MS-KKDCP) for clients outside: POST /KdcProxy, forwarded only to the realms "
                "above. It uses the certificate of the SMB over QUIC name the client asks for."
            </p>
            <dl>
                <dt>"State"</dt>
                <dd>{state}</dd>
                <dt>"Certificate"</dt>
                <dd>{if proxy.names.is_empty() {
                    view! { <span class="badge bad">"None: map a name on the SMB over QUIC page; the proxy uses its certificate"</span> }.into_any()
                } else {
                    view! { <span class="mono">{format!("TLS for {}", proxy.names.join(", "))}</span> }.into_any()
                }}</dd>
                <dt>"Requests answered by a KDC"</dt>
                <dd>{proxy.forwarded}</dd>
                <dt>"Requests refused or unanswered"</dt>
                <dd>{proxy.failed}</dd>
            </dl>
            {can_change.then(|| view! {
                <ActionForm action>
                    <FormError error/>
                    <input type="hidden" name="enabled" value=(!proxy.enabled).to_string()/>
                    <Field form="proxy" name="address" label="Listen on address" error value=proxy.address.clone()
                        hint="'::' listens on every address."/>
                    <Field form="proxy" name="port" label="TCP port" error value=proxy.port.to_string()
                        hint="Clients expect 443; the console keeps its own address."/>
                    <Submit pending=action.pending() label=if proxy.enabled { "Turn off" } else { "Turn on" } busy_label="Applying…"/>
                    <p class="hint">"Command line: " <code>{command}</code></p>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn ClientSetup(realms: Vec<String>, proxy: KdcProxyView, name: String) -> impl IntoView {
    let port = proxy.port;
    view! {
        <section class="card" aria-labelledby="clients-title" data-testid="client-setup">
            <h2 id="clients-title">"Client settings"</h2>
            {if realms.is_empty() {
                view! { <p class="empty">"Add a realm to see the client settings."</p> }.into_any()
            } else {
                realms.into_iter().map(|realm| {
                    view! {
                        <h3>{realm.clone()}</h3>
                        <KdcProxySnippets realm name=name.clone() port/>
                    }
                }).collect_view().into_any()
            }}
        </section>
    }
}

/// The client settings that send a realm's Kerberos traffic to the KDC proxy at `name:port`:
/// the Windows policy value and its registry equivalent, and a krb5.conf for MIT clients.
#[component]
pub fn KdcProxySnippets(realm: String, name: String, port: u16) -> impl IntoView {
    let (policy, registry) = windows_kdc_proxy_policy(&realm, &name, port);
    let conf = linux_krb5_conf(&realm, &name, port);
    view! {
        <p class="hint">"Windows, Group Policy \"Specify KDC proxy servers for Kerberos clients\":"</p>
        <pre class="snippet">{policy}</pre>
        <p class="hint">"or the registry:"</p>
        <pre class="snippet">{registry}</pre>
        <p class="hint">"Linux and macOS (MIT krb5 with its TLS module), krb5.conf:"</p>
        <pre class="snippet">{conf}</pre>
    }
}
