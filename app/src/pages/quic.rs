use leptos::prelude::*;

use crate::api::quic::{
    ChangeClientAccess, MapName, PreviewClientAccess, SetQuic, SetQuicOptions, UnmapName, get_quic_status,
};
use crate::components::form::{Checkbox, Choice, ConfirmDelete, Field, FormError, Submit, action_error};
use crate::components::layout::use_viewer;
use crate::components::page::PageHeader;
use crate::components::resource::ResourceView;
use crate::components::table::DataTable;
use crate::model::quic::{AccessRow, MappingRow, QuicStatus};

#[component]
pub fn QuicPage() -> impl IntoView {
    let can_change = use_viewer().can_change();
    let set_quic = ServerAction::<SetQuic>::new();
    let options = ServerAction::<SetQuicOptions>::new();
    let map = ServerAction::<MapName>::new();
    let unmap = ServerAction::<UnmapName>::new();
    let access = ServerAction::<ChangeClientAccess>::new();
    let preview = ServerAction::<PreviewClientAccess>::new();
    let status = Resource::new(
        move || {
            (
                set_quic.version().get(),
                options.version().get(),
                map.version().get(),
                unmap.version().get(),
                access.version().get(),
            )
        },
        |_| get_quic_status(),
    );
    let actions = Actions { set_quic, options, map, unmap, access, preview };
    view! {
        <PageHeader title="SMB over QUIC">
            "Remote clients reach shares over UDP with TLS 1.3, without a VPN: "
            <code>"NET USE * \\\\fs.example.com\\share /TRANSPORT:QUIC"</code>
            ". Each server name clients use is mapped to a certificate that carries it. Changes apply at once; "
            "connected clients stay connected."
        </PageHeader>
        <ResourceView resource=status let:status>
            <Sections status can_change actions/>
        </ResourceView>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    set_quic: ServerAction<SetQuic>,
    options: ServerAction<SetQuicOptions>,
    map: ServerAction<MapName>,
    unmap: ServerAction<UnmapName>,
    access: ServerAction<ChangeClientAccess>,
    preview: ServerAction<PreviewClientAccess>,
}

#[component]
fn Sections(status: QuicStatus, can_change: bool, actions: Actions) -> impl IntoView {
    let listening = match (&status.listening, &status.error, status.enabled) {
        (Some(address), _, _) => {
            view! { <span class="badge good">{format!("Listening on UDP {address}")}</span> }.into_any()
        }
        (None, Some(error), true) => {
            view! { <span class="badge bad">{format!("Not listening: {error}")}</span> }.into_any()
        }
        (None, _, true) => view! { <span class="badge warn">"Starting…"</span> }.into_any(),
        (None, _, false) => view! { <span class="badge muted">"Off"</span> }.into_any(),
    };
    let QuicStatus {
        enabled,
        address,
        port,
        connections_now,
        sessions_now,
        encrypt_smb,
        auto_remap,
        mappings,
        access,
        certificates,
        ..
    } = status;
    let names: Vec<String> = mappings.iter().map(|m| m.name.clone()).collect();
    view! {
        <div class="cards">
            <section class="card" aria-labelledby="quic-state-title" data-testid="quic-state">
                <h2 id="quic-state-title">"Status"</h2>
                <dl>
                    <dt>"SMB over QUIC"</dt>
                    <dd>{listening}</dd>
                    <dt>"Connections now"</dt>
                    <dd>{connections_now}</dd>
                    <dt>"Signed-in sessions now"</dt>
                    <dd>{sessions_now}</dd>
                </dl>
                {can_change.then(|| view! { <ListenerForm set_quic=actions.set_quic enabled address port/> })}
            </section>
            <section class="card" aria-labelledby="quic-options-title">
                <h2 id="quic-options-title">"Options"</h2>
                {if can_change {
                    view! { <OptionsForm options=actions.options encrypt_smb auto_remap/> }.into_any()
                } else {
                    view! {
                        <dl>
                            <dt>"Encrypt SMB over QUIC too"</dt>
                            <dd>{if encrypt_smb { "Yes" } else { "No (QUIC already encrypts)" }}</dd>
                            <dt>"Move mappings to renewed certificates"</dt>
                            <dd>{if auto_remap { "Yes" } else { "No" }}</dd>
                        </dl>
                    }
                    .into_any()
                }}
            </section>
        </div>
        <section class="card wide" aria-labelledby="mappings-title">
            <h2 id="mappings-title">"Server names"</h2>
            <Mappings mappings can_change unmap=actions.unmap/>
            {can_change.then(|| view! { <MapForm map=actions.map certificates/> })}
        </section>
        <section class="card wide" aria-labelledby="access-title">
            <h2 id="access-title">"Client access control"</h2>
            <p class="hint">
                "For names that require client authentication: a client's certificate chain must lead to a CA "
                "certificate in the store, and pass these lists. A block entry anywhere in the chain wins; "
                "otherwise at least one allow entry must match."
            </p>
            <AccessTable entries=access can_change change=actions.access/>
            {can_change.then(|| view! { <AccessForm change=actions.access names=names.clone()/> })}
            <PreviewForm preview=actions.preview names/>
        </section>
    }
}

#[component]
fn ListenerForm(set_quic: ServerAction<SetQuic>, enabled: bool, address: String, port: u16) -> impl IntoView {
    let error = action_error(set_quic);
    view! {
        <ActionForm action=set_quic>
            <FormError error/>
            <input type="hidden" name="enabled" value=(!enabled).to_string()/>
            <Field form="listener" name="address" label="Listen on address" error value=address
                hint="'::' listens on every address."/>
            <Field form="listener" name="port" label="UDP port" error value=port.to_string()
                hint="Clients use 443; another port needs client configuration."/>
            <Submit pending=set_quic.pending() label=if enabled { "Turn off" } else { "Turn on" } busy_label="Applying…"/>
            <p class="hint">
                "Command line: "
                <code>{if enabled { "edgeshare quic disable".to_owned() } else { format!("edgeshare quic enable --port {port}") }}</code>
            </p>
        </ActionForm>
    }
}

#[component]
fn OptionsForm(options: ServerAction<SetQuicOptions>, encrypt_smb: bool, auto_remap: bool) -> impl IntoView {
    let error = action_error(options);
    view! {
        <ActionForm action=options>
            <FormError error/>
            <Checkbox id="opt-encrypt" name="encrypt_smb" label="Encrypt SMB over QUIC too" checked=encrypt_smb
                hint="QUIC encrypts everything already; SMB encryption on top costs CPU and adds nothing on the wire."/>
            <Checkbox id="opt-remap" name="auto_remap" label="Move mappings to renewed certificates" checked=auto_remap
                hint="When a newer valid certificate with the same names arrives, names move to it: no outage at renewal."/>
            <Submit pending=options.pending() label="Save options" busy_label="Saving…"/>
        </ActionForm>
    }
}

#[component]
fn Mappings(mappings: Vec<MappingRow>, can_change: bool, unmap: ServerAction<UnmapName>) -> impl IntoView {
    let error = action_error(unmap);
    let columns = &["Server name", "Certificate", "Expires", "Client authentication", "Named pipes", "Default"];
    let row = move |m: MappingRow| {
        let unmap = can_change.then(|| {
            view! {
                <td>
                    <ConfirmDelete action=unmap opener="Unmap…" question="Clients using this name are refused from now on."
                        button="Unmap" field="name" value=m.name.clone()/>
                </td>
            }
        });
        let expires = m
            .days_left
            .map_or("missing".to_owned(), |d| if d < 0 { "expired".to_owned() } else { format!("{d} days") });
        let client_auth = match (m.require_client_auth, m.skip_client_access_check) {
            (false, _) => "Not required",
            (true, false) => "Required, lists checked",
            (true, true) => "Required, lists skipped",
        };
        view! {
            <tr data-name=m.name>
                <td class="mono">{m.name.clone()}</td>
                <td>{m.subject} <br/> <span class="mono hint">{m.thumbprint}</span></td>
                <td>{expires}</td>
                <td>{client_auth}</td>
                <td>{if m.allow_named_pipes { "Allowed" } else { "Refused" }}</td>
                <td>{if m.is_default { "Yes" } else { "" }}</td>
                {unmap}
            </tr>
        }
    };
    view! {
        <FormError error/>
        <DataTable class="mappings" columns actions=can_change rows=mappings row
            empty="No server name is mapped: clients are refused until you map one."/>
    }
}

#[component]
fn MapForm(map: ServerAction<MapName>, certificates: Vec<crate::model::quic::CertificateChoice>) -> impl IntoView {
    let error = action_error(map);
    let thumbprint_error = move || error.get().and_then(|e| e.for_field("thumbprint").map(str::to_owned));
    view! {
        <h3>"Map a server name"</h3>
        <ActionForm action=map>
            <FormError error/>
            <Field form="map" name="name" label="Server name" error autocomplete="off" required=true
                hint="A name clients use, such as fs.example.com: it must be among the certificate's names."/>
            <div class="field" class:invalid=move || thumbprint_error().is_some()>
                <label for="map-thumbprint">"Certificate"</label>
                <select id="map-thumbprint" name="thumbprint" aria-describedby="map-thumbprint-error">
                    {certificates
                        .into_iter()
                        .map(|c| {
                            let label = format!(
                                "{} ({}){}",
                                c.subject,
                                c.dns_names.join(", "),
                                if c.usable { "" } else { " — not usable" }
                            );
                            view! { <option value=c.thumbprint>{label}</option> }
                        })
                        .collect_view()}
                </select>
                <p class="field-error" id="map-thumbprint-error" role="alert">{thumbprint_error}</p>
            </div>
            <fieldset>
                <legend>"Options"</legend>
                <Checkbox id="map-auth" name="require_client_auth" label="Require client authentication (client certificates)"/>
                <Checkbox id="map-skip" name="skip_client_access_check"
                    label="Skip the allow and block lists (any certificate from a trusted CA)"/>
                <Checkbox id="map-pipes" name="allow_named_pipes" label="Allow named pipes (IPC$) over QUIC"/>
                <Checkbox id="map-default" name="is_default"
                    label="Answer clients that send no server name (e.g. connecting by IP address)"/>
            </fieldset>
            <Submit pending=map.pending() label="Map name" busy_label="Mapping…"/>
            <p class="hint">"Command line: " <code>"edgeshare quic map --name NAME --thumbprint THUMBPRINT"</code></p>
        </ActionForm>
    }
}

#[component]
fn AccessTable(entries: Vec<AccessRow>, can_change: bool, change: ServerAction<ChangeClientAccess>) -> impl IntoView {
    let row = move |entry: AccessRow| {
        let remove = can_change.then(|| {
            let is_sha256 = entry.kind == "sha256";
            let (name, allow, value) = (entry.name.clone(), entry.allow, entry.value.clone());
            let on_click = move |_| {
                let (sha256, issuer) =
                    if is_sha256 { (value.clone(), String::new()) } else { (String::new(), value.clone()) };
                change.dispatch(ChangeClientAccess { name: name.clone(), allow, add: false, sha256, issuer });
            };
            view! { <td><button type="button" class="small danger" on:click=on_click>"Remove"</button></td> }
        });
        view! {
            <tr>
                <td class="mono">{entry.name}</td>
                <td>
                    <span class=if entry.allow { "badge good" } else { "badge bad" }>
                        {if entry.allow { "Allow" } else { "Block" }}
                    </span>
                </td>
                <td class="mono">{if entry.kind == "sha256" { "SHA-256 " } else { "Issuer " }} {entry.value}</td>
                {remove}
            </tr>
        }
    };
    view! {
        <DataTable class="access" columns=&["Server name", "Entry", "Matches"] actions=can_change rows=entries row
            empty="No allow or block entries."/>
    }
}

#[component]
fn AccessForm(change: ServerAction<ChangeClientAccess>, names: Vec<String>) -> impl IntoView {
    let error = action_error(change);
    view! {
        <h3>"Add an entry"</h3>
        <ActionForm action=change>
            <FormError error/>
            <input type="hidden" name="add" value="true"/>
            <Choice id="access-name" name="name" label="Server name" options=names/>
            <div class="field">
                <label for="access-allow">"Entry"</label>
                <select id="access-allow" name="allow">
                    <option value="true">"Allow"</option>
                    <option value="false">"Block"</option>
                </select>
            </div>
            <Field form="access" name="sha256" label="Certificate SHA-256" error autocomplete="off"
                hint="64 hexadecimal digits of a client or CA certificate; or leave empty and give an issuer."/>
            <Field form="access" name="issuer" label="Issuer" error autocomplete="off"
                hint="The issuer's distinguished name as `edgeshare cert show` prints it, e.g. CN=Clients CA."/>
            <Submit pending=change.pending() label="Add entry" busy_label="Adding…"/>
            <p class="hint">"Command line: " <code>"edgeshare quic access grant|block --name NAME --sha256 HEX | --issuer DN"</code></p>
        </ActionForm>
    }
}

#[component]
fn PreviewForm(preview: ServerAction<PreviewClientAccess>, names: Vec<String>) -> impl IntoView {
    let error = action_error(preview);
    let certificate_error = move || error.get().and_then(|e| e.for_field("certificate").map(str::to_owned));
    view! {
        <h3>"Would this client get in?"</h3>
        <ActionForm action=preview>
            <FormError error/>
            <Choice id="preview-name" name="name" label="Server name" options=names/>
            <div class="field" class:invalid=move || certificate_error().is_some()>
                <label for="preview-certificate">"Client certificate (PEM, with its CA chain if you have it)"</label>
                <textarea id="preview-certificate" name="certificate" rows="4" class="mono" required
                    aria-describedby="preview-certificate-error"></textarea>
                <p class="field-error" id="preview-certificate-error" role="alert">{certificate_error}</p>
            </div>
            <Submit pending=preview.pending() label="Check" busy_label="Checking…"/>
            <p role="status" data-testid="access-preview">
                {move || {
                    preview
                        .value()
                        .get()
                        .and_then(Result::ok)
                        .map(|p| {
                            view! {
                                <span class=if p.allowed { "badge good" } else { "badge bad" }>
                                    {if p.allowed { "Allowed" } else { "Refused" }}
                                </span>
                                " "
                                {p.reason}
                            }
                        })
                }}
            </p>
        </ActionForm>
    }
}
