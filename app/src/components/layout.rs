//! The frame of every signed-in page: header, navigation, and the sign-in guard.

use leptos::either::EitherOf5;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::api::auth::SignOut;
use crate::app::use_auth;
use crate::model::auth::{ConsoleState, Viewer};

/// The pages of the console, in navigation order.
const PAGES: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/quic", "SMB over QUIC"),
    ("/certificates", "Certificates"),
    ("/shares", "Shares"),
    ("/users", "Users"),
    ("/identity", "Identity"),
    ("/sessions", "Sessions and open files"),
    ("/health", "Health"),
    ("/accounts", "Console accounts"),
    ("/audit", "Audit log"),
];

/// Guards the signed-in pages: setup first, then sign-in, then the page.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    // Set when the viewer signs out: the sign-in page then opens without a page to return to.
    let signed_out = StoredValue::new(false);
    let login_path = move || {
        let here = location.pathname.get_untracked();
        if here == "/" || signed_out.get_value() { "/login".to_owned() } else { format!("/login?next={here}") }
    };
    move || match auth.get() {
        None => EitherOf5::A(view! { <p class="loading">"Loading…"</p> }),
        Some(Ok(ConsoleState { setup_needed: true, .. })) => EitherOf5::B(view! { <Redirect path="/setup"/> }),
        Some(Ok(ConsoleState { viewer: Some(viewer), server_name, .. })) => {
            EitherOf5::C(view! { <Frame viewer server_name signed_out/> })
        }
        Some(Ok(ConsoleState { viewer: None, .. })) => EitherOf5::D(view! { <Redirect path=login_path()/> }),
        Some(Err(error)) => EitherOf5::E(view! {
            <main class="centered">
                <div class="form-error" role="alert">{error.to_string()}</div>
            </main>
        }),
    }
}

#[component]
fn Frame(viewer: Viewer, server_name: String, signed_out: StoredValue<bool>) -> impl IntoView {
    provide_context(viewer.clone());
    let auth = use_auth();
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(state)) = sign_out.value().get() {
            signed_out.set_value(true);
            auth.set(state);
        }
    });
    let menu_open = RwSignal::new(false);
    view! {
        <div class="frame">
            <header class="topbar">
                <button
                    class="menu-toggle"
                    aria-label="Navigation"
                    aria-expanded=move || menu_open.get().to_string()
                    aria-controls="console-nav"
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    "☰"
                </button>
                <a class="brand" href="/">"EdgeShare"</a>
                <span class="server-name" title="Server name">{server_name}</span>
                <div class="viewer">
                    <span class="viewer-name" data-testid="viewer-name">{viewer.name.clone()}</span>
                    <span class=format!("badge role-{}", viewer.role.as_str())>{viewer.role.label()}</span>
                    <ActionForm action=sign_out>
                        <button type="submit" class="link-button">"Sign out"</button>
                    </ActionForm>
                </div>
            </header>
            <nav id="console-nav" class="sidebar" class:open=move || menu_open.get() aria-label="Console">
                <ul>
                    {PAGES
                        .iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <A href=*href exact=true on:click=move |_| menu_open.set(false)>{*label}</A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <main class="content" id="main">
                <Outlet/>
            </main>
        </div>
    }
}

/// The signed-in viewer, for pages that hide what a reader may not do.
pub fn use_viewer() -> Viewer {
    expect_context::<Viewer>()
}
