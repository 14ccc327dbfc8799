use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::auth::SignIn;
use crate::app::use_auth;
use crate::components::form::{Field, FormError, Submit, action_error};

/// Where to go after signing in: a path on this console only, never another site.
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path,
        _ => "/".to_owned(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = move || safe_next(query.with_untracked(|q| q.get("next")));
    let sign_in = ServerAction::<SignIn>::new();
    let error = action_error(sign_in);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(state)) = sign_in.value().get() {
            auth.set(state);
            navigate(&next(), Default::default());
        }
    });
    let show_password = RwSignal::new(false);
    view! {
        <Title text="Sign in"/>
        <main class="centered">
            {move || {
                    match auth.get() {
                            None => EitherOf4::A(view! { <p class="loading">"Loading…"</p> }),
                            Some(Ok(state)) if state.setup_needed => EitherOf4::B(view! { <Redirect path="/setup"/> }),
                            Some(Ok(state)) if state.viewer.is_some() && sign_in.value().get_untracked().is_none() => {
                                EitherOf4::C(view! { <Redirect path=next()/> })
                            }
                            _ => {
                                EitherOf4::D(
                                    view! {
                                        <section class="card narrow">
                                            <h1>"Sign in to EdgeShare"</h1>
                                            <ActionForm action=sign_in>
                                                <FormError error/>
                                                <Field form="login" name="name" label="Account name" error autocomplete="username" required=true/>
                                                <Field form="login" name="password" label="Password" error required=true
                                                    autocomplete="current-password"
                                                    kind=Signal::derive(move || if show_password.get() { "text" } else { "password" })/>
                                                <label class="checkbox">
                                                    <input type="checkbox" id="login-show-password"
                                                        prop:checked=move || show_password.get()
                                                        on:change=move |ev| show_password.set(event_target_checked(&ev))/>
                                                    "Show password"
                                                </label>
                                                <Submit pending=sign_in.pending() label="Sign in" busy_label="Signing in…"/>
                                            </ActionForm>
                                        </section>
                                    },
                                )
                            }
                    }
            }}
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_returns_only_to_local_paths() {
        assert_eq!(safe_next(Some("/audit".into())), "/audit");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\\evil.example".into())), "/");
        assert_eq!(safe_next(None), "/");
    }
}
