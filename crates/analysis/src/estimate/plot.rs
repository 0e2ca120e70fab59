//! An SVG picture of the estimates: one row per method, a dot at the estimate and a bar over
//! the interval, on a shared axis that starts at the observed count. Pure: returns the text.

use super::{Estimate, thousands};

const WIDTH: f64 = 720.0;
const LABEL: f64 = 190.0;
const ROW: f64 = 26.0;
const TOP: f64 = 30.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about five ticks over `span`.
fn tick_step(span: f64) -> f64 {
    let raw = span / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

/// Renders the estimates as an SVG file; methods without an estimate are listed with the word
/// "none".
pub fn svg(title: &str, estimates: &[Estimate]) -> String {
    render(title, estimates, " xmlns=\"http://www.w3.org/2000/svg\"")
}

/// The same picture to place inside an HTML page, which needs no namespace on its `<svg>`.
pub fn inline_svg(title: &str, estimates: &[Estimate]) -> String {
    render(title, estimates, "")
}

fn render(title: &str, estimates: &[Estimate], namespace: &str) -> String {
    let observed = estimates.iter().map(|e| e.observed).max().unwrap_or(0) as f64;
    let high = estimates
        .iter()
        .flat_map(|e| [e.estimate, e.upper])
        .flatten()
        .fold(observed, f64::max);
    let (low, high) = (
        0f64.max(observed - 0.05 * (high - observed)),
        high + 0.05 * (high - observed).max(1.0),
    );
    let x = |v: f64| LABEL + (v - low) / (high - low) * (WIDTH - LABEL - 20.0);
    let height = TOP + ROW * estimates.len() as f64 + 40.0;
    let mut out = format!(
        "<svg{namespace} width=\"{WIDTH}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"10\" y=\"18\" font-weight=\"bold\">{}</text>\n",
        escape(title)
    );
    let axis_y = TOP + ROW * estimates.len() as f64 + 5.0;
    out.push_str(&format!(
        "<line x1=\"{LABEL}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#444\"/>\n",
        WIDTH - 20.0
    ));
    let step = tick_step(high - low);
    let mut tick = (low / step).ceil() * step;
    while tick <= high {
        out.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{axis_y}\" x2=\"{0:.1}\" y2=\"{1}\" stroke=\"#444\"/><text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\">{3}</text>\n",
            x(tick),
            axis_y + 5.0,
            axis_y + 18.0,
            thousands(tick)
        ));
        tick += step;
    }
    out.push_str(&format!(
        "<line x1=\"{0:.1}\" y1=\"{TOP}\" x2=\"{0:.1}\" y2=\"{axis_y}\" stroke=\"#999\" stroke-dasharray=\"3,3\"/><text x=\"{0:.1}\" y=\"{1}\" text-anchor=\"middle\" fill=\"#666\">observed {2}</text>\n",
        x(observed),
        axis_y + 32.0,
        thousands(observed)
    ));
    for (i, e) in estimates.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        out.push_str(&format!(
            "<text x=\"10\" y=\"{:.1}\">{}</text>\n",
            y + 4.0,
            escape(&e.method)
        ));
        match e.estimate {
            Some(v) => {
                if let (Some(lo), Some(hi)) = (e.lower, e.upper) {
                    out.push_str(&format!("<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#36c\" stroke-width=\"3\"/>\n", x(lo), x(hi)));
                }
                out.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#c33\"><title>{}</title></circle>\n", x(v), thousands(v)));
            }
            None => out.push_str(&format!(
                "<text x=\"{LABEL}\" y=\"{:.1}\" fill=\"#999\">none: {}</text>\n",
                y + 4.0,
                escape(e.warnings.first().map_or("", String::as_str))
            )),
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_row_per_method() {
        let rows = vec![
            Estimate {
                method: "bhs".into(),
                estimate: Some(11313.0),
                lower: Some(9889.0),
                upper: Some(13063.0),
                observed: 2744,
                model: String::new(),
                warnings: vec![],
            },
            Estimate::refused("dga", 2744, "", "needs 3 to 5 lists & <more>".into()),
        ];
        let svg = svg("UK 2013", &rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("observed 2,744"));
        assert!(svg.contains("none: needs 3 to 5 lists &amp; &lt;more&gt;"));
        assert_eq!(tick_step(10_000.0), 2000.0);
        // The file names its namespace; the copy for an HTML page is the same picture without.
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" "));
        let inline = inline_svg("UK 2013", &rows);
        assert_eq!(inline, svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1));
    }
}
