//! Form fields that show the server's verdict next to the input it concerns.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of an action's last run, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|result| result.err()))
}

/// A labelled input. `form` keeps ids unique when a page holds several forms. Its starting text
/// is `value`, or the signal `bound`, which then follows what is typed.
#[component]
pub fn Field(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(into, default = Signal::stored("text"))] kind: Signal<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] bound: Option<RwSignal<String>>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] node_ref: Option<NodeRef<leptos::html::Input>>,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.for_field(name).map(str::to_owned));
    let has_hint = hint.is_some();
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let input = view! {
        <input
            id=id.clone()
            name=name
            type=move || kind.get()
            autocomplete=autocomplete
            required=required
            value=value
            inputmode=inputmode
            node_ref=node_ref.unwrap_or_default()
            aria-invalid=move || message().is_some().then_some("true")
            aria-describedby=described_by
        />
    };
    // Only a bound input sets its value property: on an unbound one, a redraw after a failed
    // submission would put back the old value over what was typed.
    let input = match bound {
        Some(bound) => input
            .add_any_attr(leptos::tachys::html::property::prop("value", move || bound.get()))
            .add_any_attr(leptos::tachys::html::event::on(leptos::ev::input, move |ev| {
                bound.set(event_target_value(&ev));
            }))
            .into_any(),
        None => input.into_any(),
    };
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id>{label}</label>
            {input}
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{message}</p>
        </div>
    }
}

/// The message for the top of a form: errors that concern no single field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.form_message());
    view! {
        <Show when=move || message().is_some()>
            <div class="form-error" role="alert">{message}</div>
        </Show>
    }
}

/// A submit button that cannot be pressed twice while its action runs.
#[component]
pub fn Submit(
    #[prop(into)] pending: Signal<bool>,
    label: &'static str,
    busy_label: &'static str,
    #[prop(optional)] class: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button type="submit" class=class.unwrap_or("primary") disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}

/// A change that cannot be undone, behind a question: `opener` ("Delete…") discloses the
/// question and the button that does it. The form sends `field` = `value` to `action`;
/// `command` shows the same from the command line; `on_submit` runs as the button is pressed.
#[component]
pub fn ConfirmDelete<ServFn, OutputProtocol>(
    action: ServerAction<ServFn>,
    opener: &'static str,
    #[prop(into)] question: String,
    button: &'static str,
    field: &'static str,
    #[prop(into)] value: String,
    #[prop(optional, into)] command: Option<String>,
    #[prop(optional, into)] on_submit: Option<Callback<()>>,
) -> impl IntoView
where
    ServFn: serde::de::DeserializeOwned
        + leptos::server_fn::ServerFn<Protocol = leptos::server_fn::Http<leptos::server_fn::codec::PostUrl, OutputProtocol>>
        + Clone
        + Send
        + Sync
        + 'static,
    <<ServFn::Client as leptos::server_fn::client::Client<ServFn::Error>>::Request as leptos::server_fn::request::ClientReq<
        ServFn::Error,
    >>::FormData: From<leptos::web_sys::FormData>,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
    <ServFn as leptos::server_fn::ServerFn>::Client: leptos::server_fn::client::Client<<ServFn as leptos::server_fn::ServerFn>::Error>,
{
    view! {
        <details class="confirm">
            <summary class="small danger">{opener}</summary>
            <ActionForm action>
                <input type="hidden" name=field value=value/>
                <p>{question}</p>
                {command.map(|command| view! { <p class="hint">"Command line: " <code>{command}</code></p> })}
                <button
                    type="submit"
                    class="small danger"
                    on:click=move |_| {
                        if let Some(on_submit) = on_submit {
                            on_submit.run(());
                        }
                    }
                >
                    {button}
                </button>
            </ActionForm>
        </details>
    }
}

/// A form that empties itself once `action` succeeds: pass the returned reference to its
/// `ActionForm`'s `node_ref`.
pub fn cleared_on_success<I, O>(action: ServerAction<I>) -> NodeRef<leptos::html::Form>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (action.value().get(), form.get()) {
            form.reset();
        }
    });
    form
}

/// A new password and its confirmation (`password` and `confirm`), with the length rule as hint.
#[component]
pub fn NewPasswordFields(
    form: &'static str,
    /// The fewest characters the server takes.
    min_chars: usize,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(default = "Password")] label: &'static str,
    #[prop(default = "Confirm password")] confirm: &'static str,
) -> impl IntoView {
    let hint = format!("At least {min_chars} characters.");
    view! {
        <Field form name="password" label kind="password" error autocomplete="new-password" hint required=true/>
        <Field form name="confirm" label=confirm kind="password" error autocomplete="new-password" required=true/>
    }
}

/// A labelled list to pick one of `options` from, sent as `name`.
#[component]
pub fn Choice(id: &'static str, name: &'static str, label: &'static str, options: Vec<String>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=name>
                {options.into_iter().map(|option| view! { <option value=option.clone()>{option.clone()}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// A check box sent as `name` = `on` when ticked, its label beside it and an optional hint.
#[component]
pub fn Checkbox(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(optional)] checked: bool,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="field checkbox">
            <input type="checkbox" id=id name=name value="on" checked=checked/>
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
        </div>
    }
}

/// A card holding one form of `action`: its title, the form's own error on top, then `children`
/// (the fields and the button). With `clear`, the form empties itself once the action succeeds.
/// The title's id is `{id}-title`.
#[component]
pub fn FormCard<ServFn, OutputProtocol>(
    id: &'static str,
    title: &'static str,
    action: ServerAction<ServFn>,
    #[prop(optional)] clear: bool,
    children: Children,
) -> impl IntoView
where
    ServFn: serde::de::DeserializeOwned
        + leptos::server_fn::ServerFn<
            Protocol = leptos::server_fn::Http<leptos::server_fn::codec::PostUrl, OutputProtocol>,
            Error = AppError,
        > + Clone
        + Send
        + Sync
        + 'static,
    <<ServFn::Client as leptos::server_fn::client::Client<AppError>>::Request as leptos::server_fn::request::ClientReq<
        AppError,
    >>::FormData: From<leptos::web_sys::FormData>,
    ServFn::Output: Clone + Send + Sync + 'static,
    ServFn::Client: leptos::server_fn::client::Client<AppError>,
{
    let error = action_error(action);
    let form = if clear { cleared_on_success(action) } else { NodeRef::new() };
    let title_id = format!("{id}-title");
    view! {
        <section class="card" aria-labelledby=title_id>
            <h2 id=title_id.clone()>{title}</h2>
            <ActionForm action node_ref=form>
                <FormError error/>
                {children()}
            </ActionForm>
        </section>
    }
}

/// A file input whose file the browser reads and hands over base64-encoded with its name (what
/// the import forms send to their server functions). `reading` is true while the browser reads;
/// `error` says why nothing was handed over.
#[derive(Clone, Copy)]
pub struct ChosenFile {
    pub input: NodeRef<leptos::html::Input>,
    pub reading: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
}

impl ChosenFile {
    pub fn new() -> ChosenFile {
        ChosenFile { input: NodeRef::new(), reading: RwSignal::new(false), error: RwSignal::new(None) }
    }

    /// Reads the chosen file, or says `missing` when none is, then calls `then(base64, name)`.
    pub fn read(self, missing: &'static str, then: impl FnOnce(String, String) + 'static) {
        self.error.set(None);
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = self.input.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0))
            else {
                self.error.set(Some(missing.into()));
                return;
            };
            self.reading.set(true);
            leptos::task::spawn_local(async move {
                use base64::Engine;
                let read = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
                self.reading.set(false);
                match read {
                    Ok(buffer) => {
                        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                        then(base64::engine::general_purpose::STANDARD.encode(bytes), file.name());
                    }
                    Err(_) => self.error.set(Some("The browser could not read that file.".into())),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (missing, then);
    }
}

impl Default for ChosenFile {
    fn default() -> ChosenFile {
        ChosenFile::new()
    }
}
