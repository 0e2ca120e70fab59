//! Renders the static HTML report (`out/index.html`) from numbers computed elsewhere.
//!
//! The page is self-contained (inline CSS, no scripts, no external requests) so it opens from a
//! USB stick or an archive years later. This crate computes nothing: completeness and
//! distributions come from `analysis::profile`, everything else from the caller.

pub mod analyses;
mod svg;

use analysis::analyses::AnalysisResult;
use analysis::breakdown::OneWay;
use analysis::estimate::linkage::Spread;
use analysis::estimate::{Estimate, plot, thousands};
use analysis::profile::{Distribution, SourceProfile};
use std::fmt::Write;

/// Everything the report shows.
pub struct Report<'a> {
    pub title: &'a str,
    pub sources: Vec<SourceSection<'a>>,
    /// Per field, over all sources.
    pub distributions: &'a [Distribution],
    /// The linked persons and the analyses over them, when the build profiled them.
    pub persons: Option<PersonsSection<'a>>,
    /// How many persons no source recorded, when the manifest asks for it (`[estimate]`).
    pub estimate: Option<EstimateSection<'a>>,
}

/// Multiple systems estimation from the build's `[estimate]` step, which also wrote
/// `estimate.txt`, `estimate.json` and `estimate.svg` beside the page.
pub struct EstimateSection<'a> {
    /// The lists, in order: the manifest's sources.
    pub lists: &'a [String],
    /// The linkages the estimate was repeated over and their persons; the first is the linkage
    /// the build made.
    pub linkages: &'a [(String, u64)],
    /// Every method's estimate from the linkage the build made.
    pub rows: &'a [Estimate],
    /// Every method's estimates over all the linkages.
    pub spreads: &'a [Spread],
}

/// The persons the records were linked into, and the analyses that count them.
pub struct PersonsSection<'a> {
    pub persons: usize,
    pub records: usize,
    /// Persons with at least one field whose sources contradict each other.
    pub conflicted: usize,
    /// Contradicting fields over all persons.
    pub conflicts: usize,
    /// Persons by how many records they were linked from.
    pub by_records: &'a OneWay,
    pub analyses: &'a [AnalysisResult],
}

/// One source's part of the report.
pub struct SourceSection<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub kind: &'a str,
    pub notes: Option<&'a str>,
    pub files: Vec<FileLine<'a>>,
    pub profile: &'a SourceProfile,
    /// The diagnostics to list, already worded (`file:row: column "x": expected ...`).
    pub diagnostics: Vec<String>,
    /// How many diagnostics the source has in all (more than listed when the list was cut).
    pub diagnostics_total: u64,
}

/// One current file version of a source.
pub struct FileLine<'a> {
    pub path: &'a str,
    /// The installment the file prints, as the manifest titles it.
    pub installment: Option<&'a str>,
    pub version: u32,
    pub bytes: u64,
    pub sha256: &'a str,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}\
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ccc;margin-top:2.5rem}small{color:#666;font-weight:normal}\
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{padding:.15rem .6rem;text-align:left;vertical-align:top}\
th{border-bottom:1px solid #999}tr:nth-child(even){background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.bar{background:#4a7ab5;height:.8rem;display:inline-block}.bad{color:#a00}code{font-size:.9em}";

/// The whole page.
pub fn render(report: &Report) -> String {
    let mut html = String::new();
    let records: u64 = report.sources.iter().map(|s| s.profile.records).sum();
    let rejects: u64 = report.sources.iter().map(|s| s.profile.rejects).sum();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p>{sources} sources, {records} records, {rejects} rejected rows.</p>\n<nav><ul>\n",
        title = escape(report.title),
        sources = report.sources.len(),
    );
    for source in &report.sources {
        let _ = writeln!(html, "<li><a href=\"#source-{}\">{}</a></li>", escape(source.id), escape(source.title));
    }
    if report.persons.is_some() {
        html.push_str("<li><a href=\"#persons\">Persons and analyses</a></li>\n");
    }
    if report.estimate.is_some() {
        html.push_str("<li><a href=\"#estimate\">Persons no source recorded</a></li>\n");
    }
    html.push_str("<li><a href=\"#fields\">Value distributions</a></li>\n</ul></nav>\n");
    if let Some(persons) = &report.persons {
        render_persons(&mut html, persons);
    }
    if let Some(estimate) = &report.estimate {
        render_estimate(&mut html, estimate);
    }
    for source in &report.sources {
        render_source(&mut html, source);
    }
    render_distributions(&mut html, report.distributions);
    html.push_str("</body>\n</html>\n");
    html
}

fn render_persons(html: &mut String, section: &PersonsSection) {
    let _ = writeln!(
        html,
        "<section id=\"persons\">\n<h2>Persons and analyses</h2>\n<p><b id=\"persons-count\">{}</b> persons linked from {} records. \
         {} persons have fields their records contradict ({} fields in all); every value is kept with its records on the \
         <a href=\"persons/1.html\">person pages</a>.</p>",
        section.persons, section.records, section.conflicted, section.conflicts
    );
    let bars: Vec<(String, f64, String)> = section.by_records.cells.iter().map(|c| (c.category.label().to_owned(), c.count as f64, c.count.to_string())).collect();
    let _ = writeln!(html, "<h3>Persons by number of records</h3>\n{}", svg::bars(&bars));
    let _ = writeln!(html, "<h3><a href=\"analyses/index.html\">Analyses</a></h3>");
    if section.analyses.is_empty() {
        html.push_str("<p>None declared (<code>[[analyses]]</code> in <code>kartoteka.toml</code>).</p>\n");
    } else {
        html.push_str(&analyses::analysis_list(section.analyses, "analyses/"));
    }
    html.push_str("</section>\n");
}

fn render_estimate(html: &mut String, section: &EstimateSection) {
    let lists: Vec<String> = section.lists.iter().enumerate().map(|(i, l)| format!("{} = {}", i + 1, escape(l))).collect();
    let persons = section.linkages.first().map_or(0, |l| l.1);
    let _ = writeln!(
        html,
        "<section id=\"estimate\">\n<h2>Persons no source recorded</h2>\n<p>Multiple systems estimation from how the {} lists \
         overlap ({}), over the {} persons as linked: each method's estimate of the total, recorded or not, with its 95% interval. \
         In full: <a href=\"estimate.txt\">estimate.txt</a>, <a href=\"estimate.json\">estimate.json</a>, \
         <a href=\"estimate.svg\">estimate.svg</a>.</p>",
        section.lists.len(),
        lists.join(", "),
        thousands(persons as f64)
    );
    html.push_str("<table>\n<tr><th>method</th><th>estimate</th><th>95% interval</th><th>model chosen and why</th></tr>\n");
    let number = |v: Option<f64>| v.map_or("none".to_owned(), |v| thousands(v.round()));
    for row in section.rows {
        let interval = match (row.lower, row.upper) {
            (Some(lo), Some(hi)) => format!("{} - {}", number(Some(lo)), number(Some(hi))),
            (Some(lo), None) => format!("{} - no upper limit", number(Some(lo))),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{interval}</td><td>{}</td></tr>",
            escape(&row.method),
            row.estimate.map_or("none".to_owned(), thousands),
            escape(&row.model)
        );
    }
    html.push_str("</table>\n");
    let warnings: Vec<String> = section
        .rows
        .iter()
        .flat_map(|r| r.warnings.iter().map(move |w| format!("<li>{}: {}</li>", escape(&r.method), escape(w))))
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(html, "<h3>Warnings</h3>\n<ul class=\"bad\">\n{}\n</ul>", warnings.join("\n"));
    }
    html.push_str(&plot::inline_svg("Estimated total, as linked, with 95% intervals", section.rows));
    let linkages: Vec<String> =
        section.linkages.iter().map(|(name, persons)| format!("{} ({} persons)", escape(name), thousands(*persons as f64))).collect();
    let _ = writeln!(
        html,
        "<h3>Linkage uncertainty</h3>\n<p>The same methods over other linkages of the same records: {}. The interval over all \
         linkages joins each linkage's own interval, so it carries both uncertainties.</p>",
        linkages.join(", ")
    );
    html.push_str("<table>\n<tr><th>method</th><th>lowest</th><th>median</th><th>highest</th><th>interval over all linkages</th></tr>\n");
    for spread in section.spreads {
        let interval = match (spread.lower, spread.upper) {
            (Some(lo), Some(hi)) => format!("{} - {}", number(Some(lo)), number(Some(hi))),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{interval}</td></tr>",
            escape(&spread.method),
            number(spread.min),
            number(spread.median),
            number(spread.max)
        );
    }
    html.push_str("</table>\n</section>\n");
}

fn render_source(html: &mut String, source: &SourceSection) {
    let p = source.profile;
    let _ = writeln!(
        html,
        "<section id=\"source-{id}\">\n<h2>{title} <small>{id} · {kind}</small></h2>",
        id = escape(source.id),
        title = escape(source.title),
        kind = escape(source.kind)
    );
    if let Some(notes) = source.notes {
        let _ = writeln!(html, "<p>{}</p>", escape(notes));
    }
    let _ = writeln!(
        html,
        "<p>{} records, {} rejected rows, {} errors and {} warnings while reading.</p>",
        p.records, p.rejects, p.errors, p.warnings
    );
    html.push_str("<table>\n<tr><th>file</th><th>installment</th><th>version</th><th>bytes</th><th>SHA-256</th></tr>\n");
    for file in &source.files {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>",
            escape(file.path),
            escape(file.installment.unwrap_or("")),
            file.version,
            file.bytes,
            escape(&file.sha256[..file.sha256.len().min(16)])
        );
    }
    html.push_str("</table>\n<h3>Field completeness</h3>\n");
    html.push_str("<table>\n<tr><th>field</th><th>records</th><th>share</th><th></th><th>unparsed</th></tr>\n");
    for f in &p.fields {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td><td>{}</td><td class=\"n{}\">{}</td></tr>",
            escape(&f.field),
            f.records_with,
            f.share * 100.0,
            bar(f.share),
            if f.unparsed > 0 { " bad" } else { "" },
            f.unparsed
        );
    }
    html.push_str("</table>\n<h3>Parse diagnostics</h3>\n");
    if source.diagnostics_total == 0 {
        html.push_str("<p>None.</p>\n");
    } else {
        html.push_str("<ul>\n");
        for line in &source.diagnostics {
            let _ = writeln!(html, "<li><code>{}</code></li>", escape(line));
        }
        html.push_str("</ul>\n");
        let listed = source.diagnostics.len() as u64;
        if source.diagnostics_total > listed {
            let _ = writeln!(
                html,
                "<p>… and {} more (all are in the register's <code>diagnostics</code> table).</p>",
                source.diagnostics_total - listed
            );
        }
    }
    html.push_str("</section>\n");
}

fn render_distributions(html: &mut String, distributions: &[Distribution]) {
    html.push_str("<section id=\"fields\">\n<h2>Value distributions</h2>\n");
    for d in distributions {
        let _ = writeln!(
            html,
            "<h3>{} <small>{} values, {} distinct{}</small></h3>",
            escape(&d.field),
            d.total,
            d.distinct,
            if d.unparsed > 0 { format!(", {} unparsed", d.unparsed) } else { String::new() }
        );
        html.push_str("<table>\n");
        let largest = d.top.first().map_or(1, |(_, n)| *n).max(1);
        for (value, count) in &d.top {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                escape(value),
                count,
                bar(*count as f64 / largest as f64)
            );
        }
        if d.rest > 0 {
            let _ = writeln!(html, "<tr><td><em>other values</em></td><td class=\"n\">{}</td><td></td></tr>", d.rest);
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n");
}

/// A horizontal bar for a share in `[0, 1]`, at most 12rem wide.
fn bar(share: f64) -> String {
    format!("<span class=\"bar\" style=\"width:{:.2}rem\"></span>", share.clamp(0.0, 1.0) * 12.0)
}

/// Escapes text for HTML element content and quoted attributes; the web app uses it too, so
/// the report and the live pages escape register text the same way.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::profile::FieldCompleteness;

    fn profile() -> SourceProfile {
        SourceProfile {
            source: "kgb".into(),
            records: 4,
            rejects: 1,
            warnings: 0,
            errors: 1,
            fields: vec![FieldCompleteness { field: "surname".into(), records_with: 3, share: 0.75, unparsed: 0 }],
        }
    }

    fn report_html(title: &str, diagnostics: Vec<String>, total: u64) -> String {
        let profile = profile();
        let distributions = [Distribution {
            field: "surname".into(),
            total: 3,
            distinct: 2,
            top: vec![("<script>".into(), 2)],
            rest: 1,
            unparsed: 0,
        }];
        render(&Report {
            title,
            sources: vec![SourceSection {
                id: "kgb",
                title: "Список",
                kind: "emigre_press",
                notes: None,
                files: vec![FileLine { path: "a.csv", installment: Some("№ 4"), version: 2, bytes: 10, sha256: "ab" }],
                profile: &profile,
                diagnostics,
                diagnostics_total: total,
            }],
            distributions: &distributions,
            persons: None,
            estimate: None,
        })
    }

    #[test]
    fn text_from_sources_is_escaped() {
        let html = report_html("A & B <SIMULATED>", vec![], 0);
        assert!(html.contains("<title>A &amp; B &lt;SIMULATED&gt;</title>"), "{html}");
        assert!(html.contains("<td>&lt;script&gt;</td>"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = report_html("t", vec!["a.csv:3: column \"x\": expected a date, found \"?\"".into()], 1);
        for external in ["http://", "https://", "<script", "<link", "src="] {
            assert!(!html.contains(external), "{external} in {html}");
        }
    }

    #[test]
    fn cut_diagnostic_lists_say_how_many_more() {
        let html = report_html("t", vec!["first".into()], 5);
        assert!(html.contains("<li><code>first</code></li>"));
        assert!(html.contains("… and 4 more"));
        assert!(report_html("t", vec![], 0).contains("<h3>Parse diagnostics</h3>\n<p>None.</p>"));
    }

    #[test]
    fn the_persons_section_counts_persons_draws_them_and_links_the_analyses() {
        let profile = profile();
        let by_records = analysis::breakdown::one_way(
            &[("P1", "1 record"), ("P2", "2 records"), ("P3", "1 record")]
                .map(|(id, c)| (model::PersonId::new(id), analysis::breakdown::Category::Value(c.into()))),
            analysis::proportion::Confidence::default(),
        );
        let html = render(&Report {
            title: "t",
            sources: vec![SourceSection { id: "kgb", title: "K", kind: "press", notes: None, files: vec![], profile: &profile, diagnostics: vec![], diagnostics_total: 0 }],
            distributions: &[],
            persons: Some(PersonsSection { persons: 3, records: 4, conflicted: 1, conflicts: 2, by_records: &by_records, analyses: &[] }),
            estimate: None,
        });
        assert!(html.contains("<li><a href=\"#persons\">Persons and analyses</a></li>"), "{html}");
        assert!(html.contains("<b id=\"persons-count\">3</b> persons linked from 4 records. 1 persons have fields their records contradict (2 fields in all)"), "{html}");
        assert!(html.contains("<h3><a href=\"analyses/index.html\">Analyses</a></h3>\n<p>None declared"), "{html}");
        assert_eq!(html.matches("<rect ").count(), 2, "one bar per number of records: {html}");
        assert!(html.contains(">1 record</text>") && html.contains(">2 records</text>"));
    }

    #[test]
    fn the_estimate_section_shows_each_method_its_interval_the_plot_and_the_spread_only_when_estimated() {
        let rows = [
            Estimate {
                method: "chapman:1x2".into(),
                estimate: Some(7231.54),
                lower: Some(6694.9),
                upper: Some(7768.1),
                observed: 4400,
                model: "lists 1 and 2 <only>".into(),
                warnings: vec![],
            },
            Estimate::refused("dga", 4400, "", "needs 3 to 5 lists".into()),
        ];
        let spreads = [Spread {
            method: "chapman:1x2".into(),
            estimates: vec![Some(7231.54), Some(7900.0)],
            min: Some(7231.54),
            median: Some(7565.77),
            max: Some(7900.0),
            lower: Some(6694.9),
            upper: Some(8500.2),
            observed: vec![4400, 4500],
        }];
        let lists = ["kgb".to_owned(), "press & émigrés".to_owned()];
        let linkages = [("as linked".to_owned(), 4400), ("p >= 0.99".to_owned(), 4500)];
        let profile = profile();
        let page = |estimate: Option<EstimateSection>| {
            render(&Report {
                title: "t",
                sources: vec![SourceSection { id: "kgb", title: "K", kind: "press", notes: None, files: vec![], profile: &profile, diagnostics: vec![], diagnostics_total: 0 }],
                distributions: &[],
                persons: None,
                estimate,
            })
        };
        let section = || EstimateSection { lists: &lists, linkages: &linkages, rows: &rows, spreads: &spreads };
        let html = page(Some(section()));
        assert_eq!(html, page(Some(section())), "the same estimate gives the same page");
        assert!(html.contains("<li><a href=\"#estimate\">Persons no source recorded</a></li>"), "{html}");
        assert!(html.contains("from how the 2 lists overlap (1 = kgb, 2 = press &amp; émigrés), over the 4,400 persons as linked"), "{html}");
        assert!(html.contains("<a href=\"estimate.txt\">estimate.txt</a>, <a href=\"estimate.json\">estimate.json</a>"), "{html}");
        assert!(
            html.contains("<tr><td>chapman:1x2</td><td class=\"n\">7,231.5</td><td class=\"n\">6,695 - 7,768</td><td>lists 1 and 2 &lt;only&gt;</td></tr>"),
            "{html}"
        );
        assert!(html.contains("<tr><td>dga</td><td class=\"n\">none</td><td class=\"n\">-</td>"), "{html}");
        assert!(html.contains("<li>dga: needs 3 to 5 lists</li>"), "{html}");
        assert!(html.contains("<svg width=") && html.contains("observed 4,400"), "the plot is inline: {html}");
        assert!(html.contains("as linked (4,400 persons), p &gt;= 0.99 (4,500 persons)"), "{html}");
        assert!(
            html.contains("<tr><td>chapman:1x2</td><td class=\"n\">7,232</td><td class=\"n\">7,566</td><td class=\"n\">7,900</td><td class=\"n\">6,695 - 8,500</td></tr>"),
            "{html}"
        );
        for external in ["http://", "https://", "<script", "src="] {
            assert!(!html.contains(external), "{external} in {html}");
        }
        let without = page(None);
        assert!(!without.contains("#estimate") && !without.contains("id=\"estimate\"") && !without.contains("estimate.txt"), "{without}");
    }

    #[test]
    fn completeness_and_totals_are_shown() {
        let html = report_html("t", vec![], 0);
        assert!(html.contains("<p>1 sources, 4 records, 1 rejected rows.</p>"));
        assert!(html.contains("<td>surname</td><td class=\"n\">3</td><td class=\"n\">75.0%</td>"));
        assert!(html.contains("<em>other values</em></td><td class=\"n\">1</td>"));
        assert!(html.contains("<td><code>a.csv</code></td><td>№ 4</td><td class=\"n\">2</td>"));
    }
}
