//! Tables sorted and paged in the browser: a column header that sorts, and a pager.

use leptos::prelude::*;

/// Rows shown per page.
pub const PAGE_SIZE: usize = 25;

/// The column a table is sorted by, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort<C> {
    pub column: C,
    pub ascending: bool,
}

/// A column header that sorts by its column (again: the other way) and goes back to page one.
#[component]
pub fn SortHeader<C>(column: C, label: &'static str, sort: RwSignal<Sort<C>>, page: RwSignal<usize>) -> impl IntoView
where
    C: Copy + PartialEq + Send + Sync + 'static,
{
    let state = move || {
        let current = sort.get();
        match (current.column == column, current.ascending) {
            (false, _) => "none",
            (true, true) => "ascending",
            (true, false) => "descending",
        }
    };
    let arrow = move || match state() {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    view! {
        <th scope="col" aria-sort=state>
            <button
                type="button"
                class="sort"
                on:click=move |_| {
                    sort.update(|s| {
                        if s.column == column {
                            s.ascending = !s.ascending;
                        } else {
                            *s = Sort { column, ascending: true };
                        }
                    });
                    page.set(0);
                }
            >
                {label}
                <span aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

/// Previous and next buttons over `rows` rows, [`PAGE_SIZE`] a page; hidden when one page holds
/// them all. `page` is clamped to the last page.
#[component]
pub fn Pager(page: RwSignal<usize>, #[prop(into)] rows: Signal<usize>, label: &'static str) -> impl IntoView {
    let page_count = move || rows.get().div_ceil(PAGE_SIZE).max(1);
    let current = move || page.get().min(page_count() - 1);
    view! {
        <Show when=move || { page_count() > 1 }>
            <nav class="pager" aria-label=label>
                <button type="button" class="small" disabled=move || current() == 0 on:click=move |_| page.set(current().saturating_sub(1))>
                    "← Previous"
                </button>
                <span>{move || format!("Page {} of {}", current() + 1, page_count())}</span>
                <button type="button" class="small" disabled=move || { current() + 1 >= page_count() } on:click=move |_| page.set(current() + 1)>
                    "Next →"
                </button>
            </nav>
        </Show>
    }
}

/// The rows of the current page (clamped to the last page).
pub fn page_of<T: Clone>(rows: &[T], page: usize) -> Vec<T> {
    let last = rows.len().div_ceil(PAGE_SIZE).max(1) - 1;
    rows.iter().skip(page.min(last) * PAGE_SIZE).take(PAGE_SIZE).cloned().collect()
}

/// A table in its scrolling frame: the header row of `columns` ("Actions" last when `actions`),
/// then `row` of each of `rows`. With no rows and an `empty` sentence, the sentence instead.
#[component]
pub fn DataTable<T, R, V>(
    /// The table's class, which the style sheet and the tests know it by.
    class: &'static str,
    columns: &'static [&'static str],
    #[prop(optional)] actions: bool,
    rows: Vec<T>,
    row: R,
    #[prop(optional)] empty: Option<&'static str>,
) -> impl IntoView
where
    T: 'static,
    R: Fn(T) -> V + 'static,
    V: IntoView + 'static,
{
    if let (true, Some(empty)) = (rows.is_empty(), empty) {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class=class>
                <TableHead columns actions/>
                <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A table's header row: a column header for each of `columns`, and "Actions" when `actions`.
#[component]
pub fn TableHead(columns: &'static [&'static str], #[prop(optional)] actions: bool) -> impl IntoView {
    view! {
        <thead>
            <tr>
                {columns.iter().map(|column| view! { <th scope="col">{*column}</th> }).collect_view()}
                {actions.then(|| view! { <th scope="col">"Actions"</th> })}
            </tr>
        </thead>
    }
}
