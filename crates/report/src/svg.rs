//! Hand-written inline SVG charts (bars, time series, survival curves, networks): no scripts, no
//! external requests, so the report opens offline. Geometry only; every number is given.

use super::escape;
use std::fmt::Write;

const BLUE: &str = "#4a7ab5";
const GREY: &str = "#999";

/// Horizontal bars, one per labelled value, with the value written at the end.
pub fn bars(items: &[(String, f64, String)]) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let (label_w, bar_w, row_h) = (220.0, 360.0, 18.0);
    let height = row_h * items.len() as f64 + 4.0;
    let mut svg = open(label_w + bar_w + 90.0, height);
    for (i, (label, value, shown)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 2.0;
        let w = bar_w * value / max;
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{BLUE}\"/><text x=\"{vx:.1}\" y=\"{ty:.1}\">{}</text>",
            escape(&truncate(label, 34)),
            escape(shown),
            lx = label_w - 6.0,
            ty = y + row_h * 0.7,
            h = row_h - 4.0,
            vx = label_w + w + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars over consecutive bins (the count placed in each), with a grey whisker up to the
/// possible count where vaguer dates may fall in the bin too.
pub fn columns(bins: &[(String, u64, u64)]) -> String {
    let max = bins.iter().map(|b| b.1.max(b.2)).max().unwrap_or(0).max(1) as f64;
    let (left, plot_h, bottom) = (40.0, 200.0, 60.0);
    let step = (720.0 / bins.len().max(1) as f64).clamp(2.0, 40.0);
    let width = left + step * bins.len() as f64 + 10.0;
    let mut svg = open(width, plot_h + bottom);
    let y = |v: f64| plot_h - plot_h * v / max + 4.0;
    let _ = write!(svg, "<text x=\"2\" y=\"12\">{max}</text><text x=\"2\" y=\"{:.1}\">0</text>", plot_h + 4.0);
    let label_every = (bins.len() / 24).max(1);
    for (i, (label, count, possible)) in bins.iter().enumerate() {
        let x = left + i as f64 * step;
        let top = y(*count as f64);
        let _ = write!(svg, "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{BLUE}\"><title>{}: {count} (possibly {possible})</title></rect>", (step - 1.0).max(1.0), plot_h + 4.0 - top, escape(label));
        if possible > count {
            let cx = x + step / 2.0;
            let _ = write!(svg, "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{GREY}\"/>", y(*count as f64), y(*possible as f64));
        }
        if i % label_every == 0 {
            let _ = write!(svg, "<text transform=\"translate({:.1},{:.1}) rotate(60)\">{}</text>", x + 2.0, plot_h + 10.0, escape(label));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One survival curve to draw: its label, its colour and its (time in days, survival) steps.
pub struct Curve<'a> {
    pub label: &'a str,
    pub colour: &'a str,
    pub steps: Vec<(i64, f64)>,
}

/// Step curves of survival on one time axis, in days.
pub fn survival(curves: &[Curve]) -> String {
    let t_max = curves.iter().flat_map(|c| c.steps.iter().map(|s| s.0)).max().unwrap_or(1).max(1) as f64;
    let (left, w, h) = (40.0, 640.0, 220.0);
    let mut svg = open(left + w + 140.0, h + 30.0);
    let x = |t: f64| left + w * t / t_max;
    let y = |s: f64| 5.0 + h * (1.0 - s);
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"5\" y2=\"{b}\" stroke=\"#333\"/><line x1=\"{left}\" x2=\"{r}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#333\"/><text x=\"2\" y=\"12\">1</text><text x=\"2\" y=\"{b}\">0</text><text x=\"{r}\" y=\"{t}\" text-anchor=\"end\">{t_max} days</text>",
        b = h + 5.0,
        r = left + w,
        t = h + 22.0
    );
    for (i, Curve { label, colour, steps }) in curves.iter().enumerate() {
        let mut path = format!("M{:.1},{:.1}", x(0.0), y(1.0));
        let mut last = 1.0;
        for &(t, s) in steps {
            let _ = write!(path, " H{:.1} V{:.1}", x(t as f64), y(s));
            last = s;
        }
        let _ = write!(path, " H{:.1}", x(t_max));
        let _ = write!(
            svg,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/><text x=\"{lx:.1}\" y=\"{ly:.1}\" fill=\"{colour}\">{} ({last:.2})</text>",
            escape(label),
            lx = left + w + 6.0,
            ly = 16.0 + 16.0 * i as f64
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Nodes on a circle, edges as lines (dashed where only possible, arrows omitted: direction is
/// in the table and the GEXF).
pub fn network(nodes: &[String], edges: &[(usize, usize, bool)]) -> String {
    let n = nodes.len().max(1) as f64;
    let (cx, cy, r) = (360.0, 300.0, 240.0);
    let mut svg = open(720.0, 600.0);
    let at = |i: usize| {
        let a = std::f64::consts::TAU * i as f64 / n;
        (cx + r * a.cos(), cy + r * a.sin())
    };
    for &(a, b, certain) in edges {
        let ((x1, y1), (x2, y2)) = (at(a), at(b));
        let dash = if certain { "" } else { " stroke-dasharray=\"4 3\"" };
        let _ = write!(svg, "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{GREY}\"{dash}/>");
    }
    for (i, label) in nodes.iter().enumerate() {
        let (x, y) = at(i);
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{BLUE}\"><title>{}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
            escape(label),
            x + 7.0,
            y + 3.0,
            escape(&truncate(label, 24))
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(width: f64, height: f64) -> String {
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">")
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars { text.to_owned() } else { text.chars().take(chars - 1).chain(['…']).collect() }
}
