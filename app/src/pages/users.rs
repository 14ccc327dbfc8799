//! Work in progress this session: replaced by the full page before it is committed.

use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    view! { <h1>"Users"</h1> }
}
