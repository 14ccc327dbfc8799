//! What the last change did, with the `edgeshare` command lines that do the same.

use leptos::prelude::*;

/// A change's message and its command lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub commands: Vec<String>,
}

/// The last change's message, announced to screen readers, until dismissed.
#[component]
pub fn NoticePanel(notice: RwSignal<Option<Notice>>) -> impl IntoView {
    view! {
        <div role="status" class="notice-area">
            {move || {
                notice
                    .get()
                    .map(|Notice { text, commands }| {
                        let has_commands = !commands.is_empty();
                        view! {
                            <div class="notice">
                                <p class="ok-text">{text}</p>
                                {has_commands
                                    .then(|| {
                                        view! {
                                            <p class="hint">"The same from the command line:"</p>
                                            <pre class="command"><code>{commands.join("\n")}</code></pre>
                                        }
                                    })}
                                <button type="button" class="small" on:click=move |_| notice.set(None)>"Dismiss"</button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
