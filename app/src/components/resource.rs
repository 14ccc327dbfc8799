//! What a page shows of data it loads from the server: "Loading…" until it has arrived, the
//! error if loading failed, and otherwise the page's own view of it.

use leptos::either::Either;
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Where a [`ResourceView`] is, in its `data-state` attribute: `loading` until its content runs in
/// the browser, then `ready` or `failed`. What a `Transition` holds hydrates after the rest of
/// the page, and its buttons do nothing until then: tests wait until nothing is `loading`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Loading,
    Ready,
    Failed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Loading => "loading",
            State::Ready => "ready",
            State::Failed => "failed",
        }
    }
}

/// Shows `resource` through `children` once it has loaded, and its error in an alert if it failed.
/// While it reloads, what it showed stays. A `quiet` view shows nothing while loading and nothing
/// when loading failed, for a part of a page that is a bonus to the rest.
#[component]
pub fn ResourceView<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    children: F,
    /// What to say while loading.
    #[prop(default = "Loading…")]
    loading: &'static str,
    #[prop(optional)] quiet: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let state = RwSignal::new(State::Loading);
    // Effects run only in the browser, after the part of the page they belong to has hydrated.
    let reached = move |reached: State| Effect::new(move |_| state.set(reached));
    view! {
        <div class="resource" data-state=move || state.get().as_str()>
            <Transition fallback=move || (!quiet).then(|| view! { <p class="loading">{loading}</p> })>
                {move || {
                    resource
                        .get()
                        .map(|result| match result {
                            Ok(value) => {
                                reached(State::Ready);
                                Either::Left(children(value))
                            }
                            Err(error) => {
                                reached(State::Failed);
                                Either::Right(
                                    (!quiet)
                                        .then(|| view! { <div class="form-error" role="alert">{error.to_string()}</div> }),
                                )
                            }
                        })
                }}
            </Transition>
        </div>
    }
}
