//! The two charts, written as plain SVG (no plotting dependency): the message-latency
//! histogram on logarithmic buckets, and the cumulative errors over time.

use std::fmt::Write;

use hdrhistogram::Histogram;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 50.0;
const TOP: f64 = 30.0;
const RIGHT: f64 = 20.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#2ca02c",
];

fn header(title: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="black"/>"#,
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM
    );
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Logarithmic latency buckets: (upper bound in µs, count), bounds 1 µs × 2^k, empty
/// buckets above the largest value left out.
pub fn latency_buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    h.iter_log(1, 2.0)
        .map(|v| (v.value_iterated_to(), v.count_since_last_iteration()))
        .collect()
}

/// The latency histogram: one bar per power-of-two bucket, counts on a linear axis.
pub fn latency_histogram(h: &Histogram<u64>) -> String {
    let mut s = header(&format!(
        "Message latency histogram ({} messages, log2 buckets)",
        h.len()
    ));
    let buckets = latency_buckets(h);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let n = buckets.len().max(1) as f64;
    let bar_w = plot_w / n;
    for (i, (upper, count)) in buckets.iter().enumerate() {
        let x = LEFT + i as f64 * bar_w;
        let bar_h = *count as f64 / max as f64 * plot_h;
        let _ = writeln!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bar_h:.1}" fill="#1f77b4"><title>&lt;= {} : {count}</title></rect>"##,
            HEIGHT - BOTTOM - bar_h,
            (bar_w - 1.0).max(1.0),
            label_us(*upper),
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" transform="rotate(-45 {:.1} {:.1})" font-size="10">{}</text>"#,
            x + bar_w / 2.0,
            HEIGHT - BOTTOM + 12.0,
            x + bar_w / 2.0,
            HEIGHT - BOTTOM + 12.0,
            escape(&format!("≤{}", label_us(*upper)))
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{max}</text>"#,
        LEFT - 4.0,
        TOP + 4.0
    );
    let _ = writeln!(
        s,
        r#"<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">messages</text>"#,
        HEIGHT / 2.0,
        HEIGHT / 2.0
    );
    s.push_str("</svg>\n");
    s
}

fn label_us(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{}s", us as f64 / 1e6)
    } else if us >= 1000 {
        format!("{}ms", us as f64 / 1e3)
    } else {
        format!("{us}µs")
    }
}

/// Cumulative errors per second, one line per kind (`rows[i][k]` is the total of kind `k` by
/// the end of second `i`).
pub fn cumulative_errors(rows: &[[u64; 6]], kinds: &[&str]) -> String {
    let mut s = header("Cumulative errors over time");
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = rows
        .iter()
        .flat_map(|r| r.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let span = rows.len().saturating_sub(1).max(1) as f64;
    for (k, kind) in kinds.iter().enumerate() {
        let color = COLORS.get(k).copied().unwrap_or("black");
        let points: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v = r.get(k).copied().unwrap_or(0);
                format!(
                    "{:.1},{:.1}",
                    LEFT + i as f64 / span * plot_w,
                    HEIGHT - BOTTOM - v as f64 / max as f64 * plot_h
                )
            })
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        let total = rows.last().and_then(|r| r.get(k)).copied().unwrap_or(0);
        let y = TOP + 14.0 * (k as f64 + 1.0);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{y:.1}" fill="{color}">{} ({total})</text>"#,
            LEFT + 10.0,
            escape(kind)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{max}</text>"#,
        LEFT - 4.0,
        TOP + 4.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">seconds since start ({})</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0,
        rows.len()
    );
    s.push_str("</svg>\n");
    s
}
