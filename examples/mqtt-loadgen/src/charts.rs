//! The two charts, drawn as SVG with plotters: the latency histogram on logarithmic buckets,
//! and the cumulative errors over time. Both have ticks and units on their axes.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::measure::{ERROR_KINDS, ErrorKind};
use crate::options::Scenario;
use crate::report::{counted_kinds, counted_total};

const SIZE: (u32, u32) = (900, 480);
const FONT: &str = "sans-serif";
const COLORS: [RGBColor; ERROR_KINDS] = [
    RGBColor(0xd6, 0x27, 0x28), // lost
    RGBColor(0xff, 0x7f, 0x0e), // timeouts
    RGBColor(0x94, 0x67, 0xbd), // out of order
    RGBColor(0x8c, 0x56, 0x4b), // connect failures
    RGBColor(0x1f, 0x77, 0xb4), // disconnects
];

/// Why a chart could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot draw the chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> ChartError {
        ChartError(e.to_string())
    }
}

/// Logarithmic latency buckets: (upper bound in µs, count), bounds 1 µs × 2^k, empty
/// buckets above the largest value left out. Bucket k holds the values in (2^(k-1), 2^k].
pub fn latency_buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    h.iter_log(1, 2.0)
        .map(|v| (v.value_iterated_to(), v.count_since_last_iteration()))
        .collect()
}

/// A tick label: the shortest decimal of `v` rounded to 3 decimals (0.001, 0.5, 20, 1000).
fn tick(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    format!("{r}")
}

fn draw<F>(f: F) -> Result<String, ChartError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        f(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// The latency histogram (`what` names the latency): one bar per power-of-two bucket, on a
/// logarithmic axis in milliseconds; the height is the number of values in the bucket.
pub fn latency_histogram(h: &Histogram<u64>, what: &str) -> Result<String, ChartError> {
    let buckets = latency_buckets(h);
    let ms = |us: u64| us as f64 / 1000.0;
    // Bucket k spans (upper / 2, upper]; the axis spans the buckets that hold values.
    let first = buckets.iter().position(|b| b.1 > 0).unwrap_or(0);
    let lo = buckets.get(first).map_or(0.001, |b| ms(b.0) / 2.0);
    let hi = buckets.last().map_or(1.0, |b| ms(b.0)).max(lo * 2.0);
    let top = buckets.iter().map(|b| b.1).max().unwrap_or(0);
    let top = top.saturating_add(top / 20).max(1);
    let caption = format!(
        "{what}: {} values, p50 {} ms, p99 {} ms, max {} ms",
        h.len(),
        tick(ms(h.value_at_quantile(0.5))),
        tick(ms(h.value_at_quantile(0.99))),
        tick(ms(h.max())),
    );
    draw(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 18))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((lo..hi).log_scale(), 0u64..top)?;
        chart
            .configure_mesh()
            .x_desc("latency (ms, logarithmic; one bar per power-of-two µs bucket)")
            .y_desc("values in the bucket (count)")
            .x_label_formatter(&|v| tick(*v))
            .axis_desc_style((FONT, 14))
            .draw()?;
        chart.draw_series(buckets.iter().skip(first).map(|&(upper, count)| {
            Rectangle::new(
                [(ms(upper) / 2.0, 0), (ms(upper), count)],
                RGBColor(0x1f, 0x77, 0xb4).filled(),
            )
        }))?;
        Ok(())
    })
}

/// Cumulative errors per second, one line per kind (`rows[i][k]` is the total of kind `k` by
/// the end of second `i`). The kinds that `scenario`'s error % counts are solid lines; the
/// others are dashed and marked "not in error %". The caption gives their sum, the error %
/// numerator.
pub fn cumulative_errors(
    scenario: Scenario,
    rows: &[[u64; ERROR_KINDS]],
) -> Result<String, ChartError> {
    let counted = counted_kinds(scenario);
    let last_second = u64::try_from(rows.len().saturating_sub(1))
        .unwrap_or(u64::MAX)
        .max(1);
    let top = rows
        .iter()
        .flat_map(|r| r.iter().copied())
        .max()
        .unwrap_or(0);
    let top = top.saturating_add(top / 10).max(1);
    let names: Vec<&str> = counted.iter().map(|k| k.name()).collect();
    let caption = format!(
        "Cumulative errors: {} counted in error % ({})",
        counted_total(scenario, rows),
        names.join(" + ")
    );
    draw(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, (FONT, 18))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0u64..last_second, 0u64..top)?;
        chart
            .configure_mesh()
            .x_desc("time since the start of the run (s)")
            .y_desc("errors so far (count)")
            .axis_desc_style((FONT, 14))
            .draw()?;
        for (kind, color) in ErrorKind::ALL.into_iter().zip(COLORS) {
            let points = rows.iter().enumerate().map(move |(i, r)| {
                (
                    u64::try_from(i).unwrap_or(u64::MAX),
                    r.get(kind.slot()).copied().unwrap_or(0),
                )
            });
            let total = rows.last().and_then(|r| r.get(kind.slot())).copied();
            let total = total.unwrap_or(0);
            let in_percent = counted.contains(&kind);
            let label = if in_percent {
                format!("{}: {total}", kind.name())
            } else {
                format!("{}: {total} (not in error %)", kind.name())
            };
            let series = if in_percent {
                chart.draw_series(LineSeries::new(points, color.stroke_width(3)))?
            } else {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, color.stroke_width(1)))?
            };
            series.label(label).legend(move |(x, y)| {
                PathElement::new(
                    vec![(x, y), (x.saturating_add(20), y)],
                    color.stroke_width(2),
                )
            });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font((FONT, 13))
            .draw()?;
        Ok(())
    })
}
