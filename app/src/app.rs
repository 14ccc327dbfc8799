//! The document shell, the router and the console-wide sign-in state.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::api::auth::get_console_state;
use crate::components::layout::ConsoleLayout;
use crate::error::AppError;
use crate::model::auth::ConsoleState;
use crate::pages::{
    accounts::AccountsPage, audit::AuditPage, certificates::CertificatesPage, dashboard::DashboardPage,
    health::HealthPage, identity::IdentityPage, login::LoginPage, not_found::NotFoundPage, quic::QuicPage,
    sessions::SessionsPage, setup::SetupPage, shares::SharesPage, users::UsersPage, welcome::WelcomePage,
};

/// The name of the browser bundle and stylesheet under `/pkg`.
pub const OUTPUT_NAME: &str = "edgeshare";

/// The Content-Security-Policy of every response: only this console's own scripts, and inline
/// only those that carry the response's `nonce` (the hydration loader and the data of resolved
/// resources that Leptos writes into pages); `'wasm-unsafe-eval'` lets the browser compile the
/// console's WebAssembly.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="stylesheet" href=format!("/pkg/{OUTPUT_NAME}.css")/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The console state of the request a page is rendered for, worked out before rendering (the
/// server puts it in the request's context). The first render knows who is signed in without
/// waiting: the console frame is not behind a `Transition`, whose repeated walks over its
/// children would create each page, and the page's resources, twice.
#[derive(Clone, Debug)]
pub struct RequestConsoleState(pub Result<ConsoleState, AppError>);

/// Who is signed in, shared by every page. Rendered on the server from the request, carried to
/// the browser with the page, and replaced by what signing in, out or up returns.
#[derive(Clone, Copy)]
pub struct Auth {
    state: RwSignal<Option<Result<ConsoleState, AppError>>>,
}

impl Auth {
    /// The state, once known (tracked).
    pub fn get(&self) -> Option<Result<ConsoleState, AppError>> {
        self.state.get()
    }

    /// Takes the state a server function returned.
    pub fn set(&self, state: ConsoleState) {
        self.replace(Ok(state));
    }

    /// Replaces the state only when it differs, so that the frame is not rebuilt for nothing.
    fn replace(&self, state: Result<ConsoleState, AppError>) {
        self.state.maybe_update(|current| {
            let changed = current.as_ref() != Some(&state);
            if changed {
                *current = Some(state);
            }
            changed
        });
    }

    /// Asks the server afresh (in the browser; a page rendered on the server has it already).
    pub fn refresh(&self) {
        let auth = *self;
        leptos::task::spawn_local(async move { auth.replace(get_console_state().await) });
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let initial = SharedValue::new(|| use_context::<RequestConsoleState>().map(|state| state.0)).into_inner();
    let unknown = initial.is_none();
    let auth = Auth { state: RwSignal::new(initial) };
    provide_context(auth);
    // Effects run only in the browser, once the page is hydrated: tests and styles can tell.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
        if unknown {
            auth.refresh();
        }
    });

    view! {
        <Title formatter=|page: String| format!("{page} · EdgeShare")/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/shares") view=SharesPage ssr=SsrMode::Async/>
                    <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/identity") view=IdentityPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/certificates") view=CertificatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/quic") view=QuicPage ssr=SsrMode::Async/>
                    <Route path=path!("/welcome") view=WelcomePage ssr=SsrMode::Async/>
                    <Route path=path!("/health") view=HealthPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/accounts") view=AccountsPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
