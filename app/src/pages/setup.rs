use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api::auth::CreateFirstAdmin;
use crate::app::use_auth;
use crate::components::form::{Field, FormError, NewPasswordFields, Submit, action_error};
use crate::model::accounts::MIN_PASSWORD_CHARS;

/// First start: create the first administrator. Offered only while no console account exists.
#[component]
pub fn SetupPage() -> impl IntoView {
    let auth = use_auth();
    let create = ServerAction::<CreateFirstAdmin>::new();
    let error = action_error(create);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(state)) = create.value().get() {
            auth.set(state);
            navigate("/welcome", Default::default());
        }
    });
    view! {
        <Title text="Create the first administrator"/>
        <main class="centered">
            {move || {
                    auth.get()
                        .map(|state| {
                            let token_required = matches!(&state, Ok(state) if state.setup_token_required);
                            match state {
                                Ok(state) if !state.setup_needed && create.value().get_untracked().is_none() => {
                                    EitherOf3::A(view! { <Redirect path="/login"/> })
                                }
                                _ => {
                                    EitherOf3::B(
                                        view! {
                                            <section class="card narrow">
                                                <h1>"Welcome to EdgeShare"</h1>
                                                <p>
                                                    "Create the first administrator of this console. "
                                                    "Administrators can add more accounts later, including read-only ones."
                                                </p>
                                                <ActionForm action=create>
                                                    <FormError error/>
                                                    {token_required.then(|| view! {
                                                        <Field form="setup" name="token" label="Setup token" error autocomplete="off" required=true
                                                            hint="This console can be reached from other machines: enter the setup token that the server printed in its log when it started (the line \"Setup token: ...\")."/>
                                                    })}
                                                    <Field form="setup" name="name" label="Account name" error autocomplete="username" required=true/>
                                                    <NewPasswordFields form="setup" error min_chars=MIN_PASSWORD_CHARS/>
                                                    <Submit pending=create.pending() label="Create administrator" busy_label="Creating…"/>
                                                </ActionForm>
                                            </section>
                                        },
                                    )
                                }
                            }
                        })
                        .unwrap_or_else(|| EitherOf3::C(view! { <p class="loading">"Loading…"</p> }))
            }}
        </main>
    }
}
