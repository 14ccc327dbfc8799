//! Small line charts drawn as inline SVG: no script, readable without colour (each series is
//! also named in the legend with its latest and peak values).

use leptos::prelude::*;

/// One line of a chart: (Unix seconds, value) points.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: &'static str,
    /// CSS class giving the line its colour and dash.
    pub class: &'static str,
    pub points: Vec<(i64, u64)>,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;

/// The SVG `points` of `series` scaled into the chart: time from `start` to `end`, values from
/// 0 to `max`.
pub fn polyline(points: &[(i64, u64)], start: i64, end: i64, max: u64) -> String {
    let span = (end - start).max(1) as f64;
    let top = max.max(1) as f64;
    points
        .iter()
        .map(|(at, value)| {
            let x = (at - start) as f64 / span * WIDTH;
            let y = HEIGHT - (*value as f64 / top * HEIGHT);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn LineChart(title: &'static str, series: Vec<Series>, format: fn(u64) -> String, now: i64) -> impl IntoView {
    let start = now - 3600;
    let max = series.iter().flat_map(|s| s.points.iter().map(|(_, v)| *v)).max().unwrap_or(0);
    let summary: Vec<String> = series
        .iter()
        .map(|s| {
            let latest = s.points.last().map_or(0, |(_, v)| *v);
            let peak = s.points.iter().map(|(_, v)| *v).max().unwrap_or(0);
            format!("{}: now {}, peak {}", s.name, format(latest), format(peak))
        })
        .collect();
    let label = format!("{title}, last hour. {}", summary.join("; "));
    view! {
        <figure class="chart">
            <figcaption>{title} <span class="hint">" — last hour, top of scale " {format(max)}</span></figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=label>
                <line class="axis" x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string()/>
                {series
                    .iter()
                    .map(|s| {
                        view! {
                            <polyline class=format!("series {}", s.class) points=polyline(&s.points, start, now, max)/>
                        }
                    })
                    .collect_view()}
            </svg>
            <ul class="legend">
                {series
                    .into_iter()
                    .zip(summary)
                    .map(|(s, text)| view! { <li><span class=format!("swatch {}", s.class)></span>{text}</li> })
                    .collect_view()}
            </ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_scale_time_to_width_and_values_to_height() {
        assert_eq!(polyline(&[(0, 0), (3600, 10)], 0, 3600, 10), "0.0,140.0 600.0,0.0");
        assert_eq!(polyline(&[(1800, 5)], 0, 3600, 10), "300.0,70.0");
        // An all-zero series stays on the axis rather than dividing by zero.
        assert_eq!(polyline(&[(0, 0)], 0, 3600, 0), "0.0,140.0");
    }
}
