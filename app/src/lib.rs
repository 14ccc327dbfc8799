//! The EdgeShare console: a Leptos application rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`). Server functions in [`api`] are the console's only way into the server.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "ssr")]
pub mod service;

pub use app::{App, shell};

/// Entry point of the browser bundle: attaches the client to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
