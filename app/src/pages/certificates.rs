use leptos::prelude::*;

use crate::api::certs::{
    ExportCertificate, GenerateCertificate, ImportCertificatePem, ImportCertificatePfx, RemoveCertificate,
    list_certificates,
};
use crate::components::form::{ChosenFile, ConfirmDelete, FormCard, FormError, Submit, action_error};
use crate::components::format::timestamp;
use crate::components::layout::use_viewer;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::error::AppError;
use crate::model::certs::{AddedCertificate, CertCheck, CertificateRow, generate_command, split_names};
use crate::model::health::Level;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    let can_change = use_viewer().can_change();
    let generate = ServerAction::<GenerateCertificate>::new();
    let import_pem = ServerAction::<ImportCertificatePem>::new();
    let import_pfx = ServerAction::<ImportCertificatePfx>::new();
    let remove = ServerAction::<RemoveCertificate>::new();
    let export = ServerAction::<ExportCertificate>::new();
    let list = Resource::new(
        move || {
            (generate.version().get(), import_pem.version().get(), import_pfx.version().get(), remove.version().get())
        },
        |_| list_certificates(),
    );
    let selected = RwSignal::new(None::<String>);
    let row_error =
        Signal::derive(move || [action_error(remove).get(), action_error(export).get()].into_iter().flatten().next());
    view! {
        <PageHeader title="Certificates">
            "The certificates SMB over QUIC presents to clients, checked against what Windows requires. "
            "Private keys stay on this server. When you import or generate a certificate that renews a mapped one "
            "(same names, later expiry), the server names move to it by themselves."
        </PageHeader>
        <FormError error=row_error/>
        <ResourceView resource=list let:rows>
            <Store rows can_change selected remove export/>
        </ResourceView>
        <ExportResult export/>
        <Show when=move || can_change>
            <div class="cards">
                <GenerateForm generate/>
                <ImportPemForm import_pem/>
                <ImportPfxForm import_pfx/>
            </div>
        </Show>
    }
}

pub fn health_badge(level: Level) -> impl IntoView {
    let text = match level {
        Level::Good => "Ready",
        Level::Warning => "Warning",
        Level::Critical => "Not usable",
    };
    view! { <span class=crate::pages::health::badge_class(level) data-level=level.as_str()>{text}</span> }
}

pub fn days_badge(days: i64) -> impl IntoView {
    let (class, text) = match days {
        d if d < 0 => ("badge bad", "Expired".to_owned()),
        d if d < 30 => ("badge warn", format!("{d} days left")),
        d => ("badge good", format!("{d} days left")),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
fn Store(
    rows: Vec<CertificateRow>,
    can_change: bool,
    selected: RwSignal<Option<String>>,
    remove: ServerAction<RemoveCertificate>,
    export: ServerAction<ExportCertificate>,
) -> impl IntoView {
    let details = rows.clone();
    let columns = &["Certificate", "Health", "Names", "Issuer", "Expires", "Mapped names", "Actions"];
    view! {
        <DataTable class="certificates" columns rows empty="The store is empty. Generate a certificate or import one below."
            row=move |row| certificate_row(row, can_change, selected, remove, export)/>
        {move || {
            selected
                .get()
                .and_then(|thumbprint| details.iter().find(|r| r.thumbprint == thumbprint).cloned())
                .map(|row| view! { <Details row selected/> })
        }}
    }
}

fn certificate_row(
    row: CertificateRow,
    can_change: bool,
    selected: RwSignal<Option<String>>,
    remove: ServerAction<RemoveCertificate>,
    export: ServerAction<ExportCertificate>,
) -> impl IntoView {
    let thumbprint = row.thumbprint.clone();
    let export_as = move |ca: bool| {
        let thumbprint = thumbprint.clone();
        move |_| {
            export.dispatch(ExportCertificate { thumbprint: thumbprint.clone(), ca });
        }
    };
    let show = row.thumbprint.clone();
    let mapped = !row.mapped_names.is_empty();
    let health = if row.is_ca && row.dns_names.is_empty() {
        view! { <span class="badge muted" title="Validates client certificates or issues server certificates; not served to clients">"CA certificate"</span> }.into_any()
    } else {
        health_badge(row.health).into_any()
    };
    let delete = can_change.then(|| {
        view! {
            <ConfirmDelete
                action=remove
                opener="Delete…"
                question=if mapped {
                    "It is mapped: unmap its names first (SMB over QUIC page)."
                } else {
                    "Delete this certificate and its private key from the store?"
                }
                button="Delete certificate"
                field="thumbprint"
                value=row.thumbprint.clone()
            />
        }
    });
    view! {
        <tr data-thumbprint=row.thumbprint>
            <td class="certificate">
                {row.subject} {row.is_ca.then(|| view! { " " <span class="badge muted">"CA"</span> })}
                <span class="facts">
                    {row.key} " · " <span class="mono" title="Thumbprint (SHA-1)">{row.thumbprint.clone()}</span>
                </span>
            </td>
            <td class="nowrap">{health}</td>
            <td>{row.dns_names.join(", ")}</td>
            <td>{if row.self_signed { "Itself (self-signed)".to_owned() } else { row.issuer }}</td>
            <td class="nowrap">{days_badge(row.days_left)} <br/> <span class="hint">{timestamp(&row.not_after)}</span></td>
            <td>{if mapped { row.mapped_names.join(", ") } else { "—".to_owned() }}</td>
            <td>
                <div class="row-actions">
                    <button type="button" class="small" on:click=move |_| selected.set(Some(show.clone()))>"Details"</button>
                    <button type="button" class="small" on:click=export_as(false)>"Export"</button>
                    {(!row.self_signed).then(|| view! { <button type="button" class="small" on:click=export_as(true)>"Export CA"</button> })}
                    {delete}
                </div>
            </td>
        </tr>
    }
}

#[component]
fn Details(row: CertificateRow, selected: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <section class="card wide" aria-labelledby="cert-details-title" data-testid="certificate-details">
            <h2 id="cert-details-title">{row.subject.clone()} " " {health_badge(row.health)}</h2>
            <dl class="details">
                <dt>"Thumbprint (SHA-1)"</dt>
                <dd class="mono">{row.thumbprint.clone()}</dd>
                <dt>"SHA-256"</dt>
                <dd class="mono">{row.sha256.clone()}</dd>
                <dt>"Serial number"</dt>
                <dd class="mono">{row.serial.clone()}</dd>
                <dt>"Issuer"</dt>
                <dd>{row.issuer.clone()}</dd>
                <dt>"Valid"</dt>
                <dd>{timestamp(&row.not_before)} " to " {timestamp(&row.not_after)} " " {days_badge(row.days_left)}</dd>
                <dt>"DNS names"</dt>
                <dd>{row.dns_names.join(", ")}</dd>
                {(!row.ip_addresses.is_empty()).then(|| view! { <dt>"IP addresses"</dt> <dd>{row.ip_addresses.join(", ")}</dd> })}
                <dt>"Key and signature"</dt>
                <dd>{row.key.clone()} ", " {row.signature.clone()}</dd>
                <dt>"Private key"</dt>
                <dd>{if row.has_key { "In the store (never leaves this server)" } else { "None: a CA certificate for validating clients" }}</dd>
                <dt>"Origin"</dt>
                <dd>{row.origin.clone()} {row.local_ca.clone().map(|ca| format!(" by the local CA {ca}"))}</dd>
            </dl>
            <h3>"Requirements"</h3>
            <DataTable class="checks" columns=&["Check", "Verdict", "Finding", "How to fix"] rows=row.checks row=|check: CertCheck| {
                view! {
                    <tr data-check=check.name data-level=check.level.as_str()>
                        <td>{check.name.clone()}</td>
                        <td><span class=crate::pages::health::badge_class(check.level)>{check.level.verdict()}</span></td>
                        <td>{check.detail}</td>
                        <td>{check.fix.unwrap_or_default()}</td>
                    </tr>
                }
            }/>
            <button type="button" class="small" on:click=move |_| selected.set(None)>"Close details"</button>
        </section>
    }
}

/// The exported PEM: a link that saves it, and the text to copy.
#[component]
fn ExportResult(export: ServerAction<ExportCertificate>) -> impl IntoView {
    move || {
        export.value().get().and_then(Result::ok).map(|exported| {
            use base64::Engine;
            let href = format!(
                "data:application/x-pem-file;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(exported.pem.as_bytes())
            );
            view! {
                <section class="card wide" aria-labelledby="export-title">
                    <h2 id="export-title">"Exported " <span class="mono">{exported.file_name.clone()}</span></h2>
                    <p>
                        <a class="button" href=href download=exported.file_name.clone()>"Save " {exported.file_name.clone()}</a>
                        " Install it in the clients' trusted root store when the certificate is not publicly trusted."
                    </p>
                    <label for="export-pem">"PEM"</label>
                    <textarea id="export-pem" class="mono" readonly rows="8">{exported.pem}</textarea>
                </section>
            }
        })
    }
}

/// What the server said after adding a certificate.
fn added_message(value: Option<Result<AddedCertificate, AppError>>) -> Option<String> {
    let added = value?.ok()?;
    let mut text = format!("Added {} ({}).", added.subject, added.thumbprint);
    if !added.remapped.is_empty() {
        text.push_str(&format!(" Renewal: {} now use it.", added.remapped.join(", ")));
    }
    Some(text)
}

fn textarea_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field).map(str::to_owned)))
}

#[component]
pub fn GenerateForm(generate: ServerAction<GenerateCertificate>) -> impl IntoView {
    let error = action_error(generate);
    let names = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let key = RwSignal::new("ecdsa-p256".to_owned());
    let names_error = textarea_error(error, "dns");
    let command = move || {
        let list = split_names(&names.get());
        // Until a name is typed, the command shows where it goes.
        let list = if list.is_empty() { vec!["NAME".to_owned()] } else { list };
        generate_command(&list, Some(&ca.get()), &key.get())
    };
    view! {
        <FormCard id="generate" title="Generate a certificate" action=generate>
            <div class="field" class:invalid=move || names_error.get().is_some()>
                <label for="generate-dns">"DNS names clients use"</label>
                <textarea
                    id="generate-dns"
                    name="dns"
                    rows="2"
                    required
                    aria-describedby="generate-dns-hint generate-dns-error"
                    on:input=move |ev| names.set(event_target_value(&ev))
                ></textarea>
                <p class="hint" id="generate-dns-hint">"e.g. fs.example.com — separate several with commas. The first is also the subject."</p>
                <p class="field-error" id="generate-dns-error" role="alert">{names_error}</p>
            </div>
            <div class="field">
                <label for="generate-key">"Key"</label>
                <select id="generate-key" name="key" on:change=move |ev| key.set(event_target_value(&ev))>
                    <option value="ecdsa-p256">"ECDSA P-256 (recommended)"</option>
                    <option value="ecdsa-p384">"ECDSA P-384"</option>
                    <option value="rsa-2048">"RSA 2048"</option>
                    <option value="rsa-3072">"RSA 3072"</option>
                    <option value="rsa-4096">"RSA 4096"</option>
                </select>
            </div>
            <div class="field">
                <label for="generate-ca">"Issue from local CA (optional)"</label>
                <input id="generate-ca" name="ca" autocomplete="off" aria-describedby="generate-ca-hint"
                    on:input=move |ev| ca.set(event_target_value(&ev))/>
                <p class="hint" id="generate-ca-hint">
                    "Leave empty for a self-signed certificate. With a name, a local CA of that name (created when "
                    "missing) issues it: clients then trust that CA once for all its certificates."
                </p>
            </div>
            <Submit pending=generate.pending() label="Generate" busy_label="Generating… (RSA keys take a few seconds)"/>
            <p class="hint">"Command line: " <code>{command}</code></p>
            <p class="ok-text" role="status">{move || added_message(generate.value().get())}</p>
        </FormCard>
    }
}

#[component]
pub fn ImportPemForm(import_pem: ServerAction<ImportCertificatePem>) -> impl IntoView {
    let error = action_error(import_pem);
    let chain_error = textarea_error(error, "certificate");
    let key_error = textarea_error(error, "key");
    view! {
        <FormCard id="import-pem" title="Import PEM" action=import_pem>
            <div class="field" class:invalid=move || chain_error.get().is_some()>
                <label for="pem-certificate">"Certificate chain (PEM, leaf first)"</label>
                <textarea id="pem-certificate" name="certificate" rows="4" class="mono" required
                    aria-describedby="pem-certificate-error"></textarea>
                <p class="field-error" id="pem-certificate-error" role="alert">{chain_error}</p>
            </div>
            <div class="field" class:invalid=move || key_error.get().is_some()>
                <label for="pem-key">"Private key (PEM)"</label>
                <textarea id="pem-key" name="key" rows="3" class="mono"
                    aria-describedby="pem-key-hint pem-key-error"></textarea>
                <p class="hint" id="pem-key-hint">"Leave empty to import a CA certificate that client certificates are validated against."</p>
                <p class="field-error" id="pem-key-error" role="alert">{key_error}</p>
            </div>
            <Submit pending=import_pem.pending() label="Import" busy_label="Importing…"/>
            <p class="hint">"Command line: " <code>"edgeshare cert import --pem chain.pem --key key.pem"</code></p>
            <p class="ok-text" role="status">{move || added_message(import_pem.value().get())}</p>
        </FormCard>
    }
}

#[component]
pub fn ImportPfxForm(import_pfx: ServerAction<ImportCertificatePfx>) -> impl IntoView {
    let error = action_error(import_pfx);
    let file = ChosenFile::new();
    let password = RwSignal::new(String::new());
    let pfx_error = Signal::derive(move || {
        file.error.get().or_else(|| error.get().and_then(|e| e.for_field("pfx").map(str::to_owned)))
    });
    let password_error = Signal::derive(move || error.get().and_then(|e| e.for_field("password").map(str::to_owned)));
    let pending = Signal::derive(move || file.reading.get() || import_pfx.pending().get());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let password = password.get_untracked();
        file.read("Choose a PFX (.pfx or .p12) file.", move |pfx_base64, _| {
            import_pfx.dispatch(ImportCertificatePfx { pfx_base64, password });
        });
    };
    view! {
        <section class="card" aria-labelledby="import-pfx-title">
            <h2 id="import-pfx-title">"Import PFX"</h2>
            <form on:submit=on_submit>
                <FormError error/>
                <div class="field" class:invalid=move || pfx_error.get().is_some()>
                    <label for="pfx-file">"PFX / PKCS#12 file"</label>
                    <input id="pfx-file" type="file" accept=".pfx,.p12,application/x-pkcs12" node_ref=file.input
                        aria-describedby="pfx-file-error"/>
                    <p class="field-error" id="pfx-file-error" role="alert">{pfx_error}</p>
                </div>
                <div class="field" class:invalid=move || password_error.get().is_some()>
                    <label for="pfx-password">"Password"</label>
                    <input id="pfx-password" type="password" autocomplete="off"
                        aria-describedby="pfx-password-hint pfx-password-error"
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                    <p class="hint" id="pfx-password-hint">"Current (AES) and legacy (3DES/RC2) files are accepted."</p>
                    <p class="field-error" id="pfx-password-error" role="alert">{password_error}</p>
                </div>
                <Submit pending label="Import" busy_label="Importing…"/>
                <p class="hint">"Command line: " <code>"edgeshare cert import --pfx server.pfx --password-stdin"</code></p>
                <p class="ok-text" role="status">{move || added_message(import_pfx.value().get())}</p>
            </form>
        </section>
    }
}
