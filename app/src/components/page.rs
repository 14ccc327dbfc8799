//! The top of every console page: its title (in the browser's tab too) and what it is for.

use leptos::prelude::*;
use leptos_meta::Title;

/// The page's title as its heading and the document title, and its lead paragraph.
#[component]
pub fn PageHeader(title: &'static str, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <Title text=title/>
        <h1>{title}</h1>
        {children.map(|lead| view! { <p class="lead">{lead()}</p> })}
    }
}
