//! The setup wizard: certificate -> server addresses -> SMB over QUIC -> Kerberos through the KDC
//! proxy (optional) -> first share and user -> what clients must do. Nothing but the certificate is saved before the last step, which checks
//! everything before it changes anything.

use leptos::prelude::*;

use crate::api::certs::{
    GenerateCertificate, ImportCertificatePem, ImportCertificatePfx, export_certificate, list_certificates,
};
use crate::api::setup::ApplySetup;
use crate::components::form::{ChosenFile, FormError, action_error};
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::error::AppError;
use crate::model::certs::CertificateRow;
use crate::model::health::Level;
use crate::model::setup::{KerberosSetup, KerberosSummary, SetupRequest, SetupSummary, client_commands};
use crate::pages::certificates::{GenerateForm, ImportPemForm, ImportPfxForm, days_badge, health_badge};
use crate::pages::identity::KdcProxySnippets;

const STEPS: [&str; 6] = ["Certificate", "Server addresses", "SMB over QUIC", "Kerberos", "Share and user", "Clients"];

/// The wizard's state across its steps.
#[derive(Clone, Copy)]
struct Wizard {
    step: RwSignal<usize>,
    thumbprint: RwSignal<Option<String>>,
    names: RwSignal<Vec<String>>,
    address: RwSignal<String>,
    port: RwSignal<String>,
    share: RwSignal<String>,
    path: RwSignal<String>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    confirm: RwSignal<String>,
    kerberos: RwSignal<bool>,
    realm: RwSignal<String>,
    kdcs: RwSignal<String>,
    /// The keytab as read from the chosen file: base64 and file name.
    keytab: RwSignal<Option<(String, String)>>,
    proxy_port: RwSignal<String>,
}

#[component]
pub fn WelcomePage() -> impl IntoView {
    let can_change = crate::components::layout::use_viewer().can_change();
    let wizard = Wizard {
        step: RwSignal::new(0),
        thumbprint: RwSignal::new(None),
        names: RwSignal::new(Vec::new()),
        address: RwSignal::new("::".into()),
        port: RwSignal::new("443".into()),
        share: RwSignal::new(String::new()),
        path: RwSignal::new(String::new()),
        user: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        confirm: RwSignal::new(String::new()),
        kerberos: RwSignal::new(false),
        realm: RwSignal::new(String::new()),
        kdcs: RwSignal::new(String::new()),
        keytab: RwSignal::new(None),
        proxy_port: RwSignal::new("443".into()),
    };
    let apply = ServerAction::<ApplySetup>::new();
    // A refusal takes the wizard back to the step of the field it names.
    Effect::new(move |_| {
        if let Some(Err(AppError::Invalid { field, .. })) = apply.value().get() {
            wizard.step.set(match field.as_str() {
                "certificate" => 0,
                "names" => 1,
                "address" | "port" => 2,
                "realm" | "kdcs" | "keytab" | "kdc_proxy_port" => 3,
                _ => 4,
            });
        }
        if let Some(Ok(_)) = apply.value().get() {
            wizard.step.set(5);
        }
    });
    view! {
        <PageHeader title="Set up SMB over QUIC">
            "Six steps from a certificate to remote clients mapping a share with "
            <code>"NET USE * \\\\server\\share /TRANSPORT:QUIC"</code> ", no VPN. Works on servers in a domain "
            "or a workgroup (local users)."
        </PageHeader>
        <ol class="steps" aria-label="Steps">
            {STEPS
                .iter()
                .enumerate()
                .map(|(index, label)| {
                    view! {
                        <li
                            class:current=move || wizard.step.get() == index
                            class:done={move || wizard.step.get() > index}
                            aria-current=move || (wizard.step.get() == index).then_some("step")
                        >
                            {format!("{}. {label}", index + 1)}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
        {move || match wizard.step.get() {
            _ if !can_change => {
                view! {
                    <p class="warn-text" role="status">
                        "Only administrators can run the setup wizard. The SMB over QUIC, Certificates and Health pages show how this server is set up."
                    </p>
                }
                    .into_any()
            }
            0 => view! { <CertificateStep wizard/> }.into_any(),
            1 => view! { <AddressesStep wizard/> }.into_any(),
            2 => view! { <QuicStep wizard apply/> }.into_any(),
            3 => view! { <KerberosStep wizard apply/> }.into_any(),
            4 => view! { <ShareStep wizard apply/> }.into_any(),
            _ => view! { <SummaryStep apply/> }.into_any(),
        }}
    }
}

fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field).map(str::to_owned)))
}

/// A labelled input bound to `value`, with the server's message for `field` under it.
#[component]
fn Input(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <input
                id=id
                type=kind
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=format!("{hint_id} {error_id}")
            />
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}

#[component]
fn Nav(
    wizard: Wizard,
    #[prop(into)] can_go_on: Signal<bool>,
    #[prop(optional)] next_label: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="wizard-nav">
            <Show when=move || { wizard.step.get() > 0 }>
                <button type="button" on:click=move |_| wizard.step.update(|s| *s -= 1)>"Back"</button>
            </Show>
            <button
                type="button"
                class="primary"
                disabled=move || !can_go_on.get()
                on:click=move |_| wizard.step.update(|s| *s += 1)
            >
                {next_label.unwrap_or("Next")}
            </button>
        </div>
    }
}

#[component]
fn CertificateStep(wizard: Wizard) -> impl IntoView {
    let generate = ServerAction::<GenerateCertificate>::new();
    let import_pem = ServerAction::<ImportCertificatePem>::new();
    let import_pfx = ServerAction::<ImportCertificatePfx>::new();
    let list = Resource::new(
        move || (generate.version().get(), import_pem.version().get(), import_pfx.version().get()),
        |_| list_certificates(),
    );
    // What was just created or imported is what the administrator wants.
    Effect::new(move |_| {
        let added = [
            generate.value().get().and_then(Result::ok),
            import_pem.value().get().and_then(Result::ok),
            import_pfx.value().get().and_then(Result::ok),
        ];
        if let Some(added) = added.into_iter().flatten().next_back() {
            wizard.thumbprint.set(Some(added.thumbprint));
        }
    });
    view! {
        <section class="card wide" aria-labelledby="step-certificate">
            <h2 id="step-certificate">"1. Choose or create the certificate clients will see"</h2>
            <p class="hint">
                "It must carry the DNS names clients use. A certificate from a public CA works with no client "
                "change; one from a local CA (or self-signed) needs that CA installed on clients, which the last "
                "step offers for download."
            </p>
            <ResourceView resource=list let:rows>
                <CertificateChoices rows wizard/>
            </ResourceView>
            <h3>"Or create one"</h3>
            <div class="cards">
                <GenerateForm generate/>
                <ImportPemForm import_pem/>
                <ImportPfxForm import_pfx/>
            </div>
            <Nav wizard can_go_on=Signal::derive(move || wizard.thumbprint.get().is_some())/>
        </section>
    }
}

#[component]
fn CertificateChoices(rows: Vec<CertificateRow>, wizard: Wizard) -> impl IntoView {
    let usable: Vec<CertificateRow> =
        rows.into_iter().filter(|r| r.has_key && !r.dns_names.is_empty() && r.health != Level::Critical).collect();
    if usable.is_empty() {
        return view! { <p class="empty">"No usable server certificate in the store yet: create one below."</p> }
            .into_any();
    }
    view! {
        <fieldset class="choices">
            <legend>"Certificates in the store"</legend>
            {usable
                .into_iter()
                .map(|row| {
                    let thumbprint = row.thumbprint.clone();
                    let checked = {
                        let thumbprint = thumbprint.clone();
                        move || wizard.thumbprint.get().as_deref() == Some(thumbprint.as_str())
                    };
                    let id = format!("cert-{}", row.thumbprint);
                    view! {
                        <div class="field checkbox">
                            <input
                                type="radio"
                                name="certificate"
                                id=id.clone()
                                prop:checked=checked
                                on:change=move |_| wizard.thumbprint.set(Some(thumbprint.clone()))
                            />
                            <label for=id>
                                <strong>{row.dns_names.join(", ")}</strong>
                                " — " {row.subject.clone()} ", " {row.key.clone()} " "
                                {days_badge(row.days_left)} " " {health_badge(row.health)}
                            </label>
                        </div>
                    }
                })
                .collect_view()}
        </fieldset>
    }
    .into_any()
}

#[component]
fn AddressesStep(wizard: Wizard) -> impl IntoView {
    let list = Resource::new(|| (), |_| list_certificates());
    view! {
        <section class="card wide" aria-labelledby="step-addresses">
            <h2 id="step-addresses">"2. Choose the server addresses clients will use"</h2>
            <p class="hint">
                "Each name must resolve, for clients, to this server's public address: add it to your DNS (or, "
                "to try it out, to a client's hosts file)."
            </p>
            <ResourceView resource=list let:rows>
                {
                    let selected = wizard.thumbprint.get_untracked();
                    rows.into_iter()
                        .find(|r| Some(&r.thumbprint) == selected.as_ref())
                        .map(|row| view! { <NameChoices row wizard/> })
                }
            </ResourceView>
            <Nav wizard can_go_on=Signal::derive(move || !wizard.names.get().is_empty())/>
        </section>
    }
}

#[component]
fn NameChoices(row: CertificateRow, wizard: Wizard) -> impl IntoView {
    let names: Vec<String> = row.dns_names.iter().filter(|n| !n.starts_with("*.")).cloned().collect();
    let wildcards: Vec<String> = row.dns_names.iter().filter(|n| n.starts_with("*.")).cloned().collect();
    // Every name at first, as most administrators want.
    if wizard.names.get_untracked().iter().any(|n| !names.contains(n)) || wizard.names.get_untracked().is_empty() {
        wizard.names.set(names.clone());
    }
    let all = names.clone();
    view! {
        <fieldset class="choices">
            <legend>"Names of the certificate"</legend>
            <button type="button" class="small" on:click=move |_| wizard.names.set(all.clone())>"Select all"</button>
            {names
                .into_iter()
                .map(|name| {
                    let id = format!("name-{name}");
                    let (checked_name, toggled_name) = (name.clone(), name.clone());
                    view! {
                        <div class="field checkbox">
                            <input
                                type="checkbox"
                                id=id.clone()
                                prop:checked=move || wizard.names.get().contains(&checked_name)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    wizard.names.update(|names| {
                                        names.retain(|n| n != &toggled_name);
                                        if on {
                                            names.push(toggled_name.clone());
                                        }
                                    });
                                }
                            />
                            <label for=id class="mono">{name}</label>
                        </div>
                    }
                })
                .collect_view()}
        </fieldset>
        {(!wildcards.is_empty())
            .then(|| {
                view! {
                    <p class="warn-text">
                        {format!("Wildcard names ({}) cover several servers: map the exact names clients use on the SMB over QUIC page.", wildcards.join(", "))}
                    </p>
                }
            })}
        {(!row.ip_addresses.is_empty())
            .then(|| {
                view! {
                    <p class="warn-text">
                        {format!(
                            "The certificate also names IP addresses ({}): clients connecting by IP address fall back to NTLM and break behind NAT. Have them use a DNS name.",
                            row.ip_addresses.join(", ")
                        )}
                    </p>
                }
            })}
    }
}

#[component]
fn QuicStep(wizard: Wizard, apply: ServerAction<ApplySetup>) -> impl IntoView {
    let error = action_error(apply);
    view! {
        <section class="card wide" aria-labelledby="step-quic">
            <h2 id="step-quic">"3. Turn on SMB over QUIC"</h2>
            <Input id="wizard-address" label="Listen on address" value=wizard.address error=field_error(error, "address")
                hint="'::' listens on every address of this server."/>
            <Input id="wizard-port" label="UDP port" value=wizard.port error=field_error(error, "port")
                hint="Clients use 443. The port is checked when you apply: another program must not hold it."/>
            <Nav wizard can_go_on=Signal::derive(move || !wizard.port.get().trim().is_empty())/>
        </section>
    }
}

/// "Use Kerberos through the KDC proxy": optional. Domain users then sign in with Kerberos, their
/// laptops getting tickets from the realm through this server's KDC proxy over HTTPS (the names'
/// certificate), with no KDC exposed to the internet. The keytab is read when leaving the step.
#[component]
fn KerberosStep(wizard: Wizard, apply: ServerAction<ApplySetup>) -> impl IntoView {
    let error = action_error(apply);
    let file = ChosenFile::new();
    let keytab_error = Signal::derive(move || {
        file.error.get().or_else(|| error.get().and_then(|e| e.for_field("keytab").map(str::to_owned)))
    });
    let chosen =
        move || wizard.keytab.get().map(|(_, name)| format!("Read: {name}. Choose another file to replace it."));
    let next = move |_| {
        let has_file = file.input.get_untracked().is_some_and(|input| !input.value().is_empty());
        if !wizard.kerberos.get_untracked() || !has_file {
            wizard.step.update(|s| *s += 1);
            return;
        }
        file.read("Choose the keytab of the names clients use.", move |base64, name| {
            wizard.keytab.set(Some((base64, name)));
            wizard.step.update(|s| *s += 1);
        });
    };
    let can_go_on = move || {
        !wizard.kerberos.get()
            || (!wizard.realm.get().trim().is_empty() && !wizard.kdcs.get().trim().is_empty() && !file.reading.get())
    };
    view! {
        <section class="card wide" aria-labelledby="step-kerberos">
            <h2 id="step-kerberos">"4. Domain users: Kerberos through the KDC proxy (optional)"</h2>
            <p>
                "Remote laptops of a domain (Active Directory or MIT) get their Kerberos tickets through this server over "
                "HTTPS, on the names of its certificate, so that no domain controller faces the internet. Skip this step "
                "for local users only; the Identity page sets it up later too."
            </p>
            <div class="field checkbox">
                <input id="wizard-kerberos" type="checkbox" prop:checked=move || wizard.kerberos.get()
                    on:change=move |ev| wizard.kerberos.set(event_target_checked(&ev))/>
                <label for="wizard-kerberos">"Use Kerberos through the KDC proxy"</label>
            </div>
            <Show when=move || wizard.kerberos.get()>
                <div class="cards">
                    <div>
                        <Input id="wizard-realm" label="Realm" value=wizard.realm error=field_error(error, "realm")
                            hint="The domain's Kerberos realm, e.g. CORP.EXAMPLE.COM."/>
                        <Input id="wizard-kdcs" label="KDCs" value=wizard.kdcs error=field_error(error, "kdcs")
                            hint="Domain controllers this server reaches, host or host:port, separated by commas."/>
                        <Input id="wizard-proxy-port" label="KDC proxy TCP port" value=wizard.proxy_port
                            error=field_error(error, "kdc_proxy_port")
                            hint="Clients use 443 (HTTPS); SMB over QUIC takes UDP 443 beside it."/>
                    </div>
                    <div>
                        <div class="field" class:invalid=move || keytab_error.get().is_some()>
                            <label for="wizard-keytab">"Keytab of the names clients use"</label>
                            <input id="wizard-keytab" type="file" accept=".keytab,.kt,application/octet-stream"
                                node_ref=file.input aria-describedby="wizard-keytab-hint wizard-keytab-error"/>
                            <p class="hint" id="wizard-keytab-hint">
                                "The cifs/NAME keys from ktpass, samba-tool domain exportkeytab or kadmin ktadd. "
                                {chosen}
                            </p>
                            <p class="field-error" id="wizard-keytab-error" role="alert">{keytab_error}</p>
                        </div>
                    </div>
                </div>
            </Show>
            <div class="wizard-nav">
                <button type="button" on:click=move |_| wizard.step.update(|s| *s -= 1)>"Back"</button>
                <button type="button" class="primary" disabled=move || !can_go_on() on:click=next>
                    {move || if file.reading.get() { "Reading…" } else { "Next" }}
                </button>
            </div>
        </section>
    }
}

#[component]
fn ShareStep(wizard: Wizard, apply: ServerAction<ApplySetup>) -> impl IntoView {
    let error = action_error(apply);
    let on_apply = move |_| {
        apply.dispatch(ApplySetup {
            request: SetupRequest {
                thumbprint: wizard.thumbprint.get_untracked().unwrap_or_default(),
                names: wizard.names.get_untracked().join(","),
                address: wizard.address.get_untracked(),
                port: wizard.port.get_untracked(),
                share: wizard.share.get_untracked(),
                path: wizard.path.get_untracked(),
                user: wizard.user.get_untracked(),
                password: wizard.password.get_untracked(),
                confirm: wizard.confirm.get_untracked(),
                kerberos: wizard.kerberos.get_untracked().then(|| {
                    let (keytab_base64, keytab_name) = wizard.keytab.get_untracked().unwrap_or_default();
                    KerberosSetup {
                        realm: wizard.realm.get_untracked(),
                        kdcs: wizard.kdcs.get_untracked(),
                        keytab_base64,
                        keytab_name,
                        proxy_port: wizard.proxy_port.get_untracked(),
                    }
                }),
            },
        });
    };
    view! {
        <section class="card wide" aria-labelledby="step-share">
            <h2 id="step-share">"5. Create a first share and a first user"</h2>
            <FormError error/>
            <div class="cards">
                <div>
                    <Input id="wizard-share" label="Share name" value=wizard.share error=field_error(error, "share")
                        hint="What clients type after the server name, e.g. sales."/>
                    <Input id="wizard-path" label="Folder on this server" value=wizard.path error=field_error(error, "path")
                        hint="An absolute path to an existing directory, e.g. /srv/shares/sales."/>
                </div>
                <div>
                    <Input id="wizard-user" label="User name" value=wizard.user error=field_error(error, "user")
                        autocomplete="off" hint="A local SMB user; it gets Full access to the share."/>
                    <Input id="wizard-password" label="Password" kind="password" value=wizard.password
                        error=field_error(error, "password") autocomplete="new-password"/>
                    <Input id="wizard-confirm" label="Confirm password" kind="password" value=wizard.confirm
                        error=field_error(error, "confirm") autocomplete="new-password"/>
                </div>
            </div>
            <div class="wizard-nav">
                <button type="button" on:click=move |_| wizard.step.update(|s| *s -= 1)>"Back"</button>
                <button
                    type="button"
                    class="primary"
                    disabled=move || apply.pending().get()
                    aria-busy=move || apply.pending().get().to_string()
                    on:click=on_apply
                >
                    {move || if apply.pending().get() { "Applying…" } else { "Apply" }}
                </button>
            </div>
        </section>
    }
}

#[component]
fn SummaryStep(apply: ServerAction<ApplySetup>) -> impl IntoView {
    move || apply.value().get().and_then(Result::ok).map(|summary| view! { <Summary summary/> })
}

#[component]
fn Summary(summary: SetupSummary) -> impl IntoView {
    let commands = client_commands(&summary);
    let export = summary.trust_export_ca.map(|ca| (summary.thumbprint.clone(), ca));
    let download = Resource::new(
        move || export.clone(),
        |export| async move {
            match export {
                Some((thumbprint, ca)) => export_certificate(thumbprint, ca).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let first = summary.names.first().cloned().unwrap_or_default();
    view! {
        <section class="card wide" aria-labelledby="step-clients" data-testid="wizard-summary">
            <h2 id="step-clients">"6. SMB over QUIC is on: what clients do"</h2>
            <p class="ok-text" role="status">
                {format!("Listening on UDP {}; share {} for {}.", summary.listening, summary.share, summary.user)}
            </p>
            <h3>"Paths"</h3>
            <ul>
                {summary
                    .names
                    .iter()
                    .map(|name| view! { <li class="mono">{format!("\\\\{name}\\{}", summary.share)}</li> })
                    .collect_view()}
            </ul>
            <h3>"On a Windows client"</h3>
            <ul class="commands">{commands.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
            <h3>"Name resolution"</h3>
            <p>
                {format!(
                    "Clients must resolve {first} to this server's public address: add a DNS record, or for a first try, a line in the client's hosts file (C:\\Windows\\System32\\drivers\\etc\\hosts), e.g. 203.0.113.10 {first}. Allow UDP port {} through firewalls.",
                    summary.port
                )}
            </p>
            {summary.kerberos.clone().map(|kerberos| view! { <KerberosClients kerberos name=first.clone()/> })}
            <h3>"Trust"</h3>
            <ResourceView resource=download loading="Preparing the certificate…" let:exported>
                {match exported {
                    Some(exported) => {
                        use base64::Engine;
                        let href = format!(
                            "data:application/x-pem-file;base64,{}",
                            base64::engine::general_purpose::STANDARD.encode(exported.pem.as_bytes())
                        );
                        view! {
                            <p>
                                "The certificate is not issued by a CA clients already trust. Install this "
                                "certificate in each client's Trusted Root Certification Authorities store: "
                                <a class="button" href=href download=exported.file_name.clone()>
                                    {format!("Download {}", exported.file_name)}
                                </a>
                            </p>
                        }
                        .into_any()
                    }
                    None => view! { <p>"A CA clients already trust issued the certificate: nothing to install."</p> }.into_any(),
                }}
            </ResourceView>
            <p><a href="/health">"Check the health report"</a> " · " <a href="/">"Go to the dashboard"</a></p>
        </section>
    }
}

/// What the Kerberos step set up, and the client settings that point laptops at the KDC proxy.
#[component]
fn KerberosClients(kerberos: KerberosSummary, name: String) -> impl IntoView {
    let state = match (&kerberos.proxy_listening, &kerberos.proxy_error) {
        (Some(address), _) => {
            view! { <p class="ok-text">{format!("The KDC proxy listens on TCP {address}.")}</p> }.into_any()
        }
        (None, Some(error)) => {
            view! { <p class="warn-text">{format!("The KDC proxy is not listening: {error}")}</p> }.into_any()
        }
        (None, None) => {
            view! { <p class="warn-text">"The KDC proxy is starting; the health report shows when it listens."</p> }
                .into_any()
        }
    };
    view! {
        <h3>"Kerberos"</h3>
        <div data-testid="wizard-kerberos">
            <p>{format!("Realm {}; keys of {}.", kerberos.realm, kerberos.principals.join(", "))}</p>
            {state}
            <KdcProxySnippets realm=kerberos.realm.clone() name port=kerberos.proxy_port/>
            <p class="hint">{format!("Allow TCP port {} through firewalls too.", kerberos.proxy_port)}</p>
        </div>
    }
}
