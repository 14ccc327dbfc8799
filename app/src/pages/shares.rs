//! Work in progress this session: replaced by the full page before it is committed.

use leptos::prelude::*;

#[component]
pub fn SharesPage() -> impl IntoView {
    view! { <h1>"Shares"</h1> }
}
