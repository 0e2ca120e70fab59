//! The analysis pages of the report (`out/analyses/NAME.html`) and the person pages
//! (`out/persons/N.html`): tables where every number links to the persons behind it, charts,
//! and each person's every assertion with its source. Renders results; computes nothing.

use super::{STYLE, escape};
use crate::svg;
use analysis::analyses::{AnalysisResult, Figures};
use analysis::breakdown::Cell;
use analysis::person::{Profile, SourceInfo};
use analysis::proportion::Proportion;
use model::{PersonId, SourceId};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many members of one cell a page lists; the JSON result always has them all.
const MEMBERS_LISTED: usize = 500;

/// Where a person's page is: the href (relative to `out/`) and the name to show.
pub type PersonLink<'a> = &'a dyn Fn(&PersonId) -> (String, String);

/// One analysis on its own page, written to `out/analyses/NAME.html`. `rule` is the consensus
/// rule in words: the page says which value of a person it counted and for whom that was a choice.
pub fn analysis_page(result: &AnalysisResult, report_title: &str, rule: &str, person: PersonLink) -> String {
    let mut page = Page { html: String::new(), lists: String::new(), next: 0, person };
    let title = format!("{} · {}", result.name, report_title);
    let _ = write!(
        page.html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<p><a href=\"../index.html\">← {}</a></p>\n<h1>{}</h1>\n",
        escape(&title),
        escape(report_title),
        escape(&result.name)
    );
    let cohort = &result.cohort;
    let possible = page.members("possibly in the cohort", &cohort.possible);
    let _ = writeln!(
        page.html,
        "<p>Cohort <b>{}</b>: {} persons certainly in it, {possible} possibly (an uncertain date or a tie between values allows it), {} analysed. Confidence level {}. The figures as JSON: <a href=\"{}.json\">{}.json</a>.</p>",
        escape(&cohort.cohort),
        cohort.members.len(),
        cohort.analysed().len(),
        result.analysis.confidence.level(),
        escape(&result.name),
        escape(&result.name)
    );
    page.values_used(result, rule);
    match &result.figures {
        Figures::OneWay(table) => {
            let bars: Vec<(String, f64, String)> = table.cells.iter().map(|c| (c.category.label().to_owned(), c.count as f64, c.count.to_string())).collect();
            page.html.push_str(&svg::bars(&bars));
            let _ = write!(
                page.html,
                "\n<table>\n<tr><th>value</th><th>persons</th><th>share of all {t}</th><th>Wilson</th><th>exact</th><th>share of the {k} with a value</th><th>Wilson</th></tr>\n",
                t = table.total,
                k = table.known_total
            );
            for c in &table.cells {
                page.cell_row(c.category.label(), c);
            }
            let _ = writeln!(page.html, "<tr><th>total</th><td class=\"n\">{}</td><td colspan=\"5\"></td></tr>\n</table>", table.total);
            page.html.push_str(&few_cases_note(table.cells.iter().flat_map(|c| [Some(&c.proportion), c.known.as_ref()]).flatten()));
        }
        Figures::TwoWay(table) => {
            page.html.push_str("<p>Each cell: persons, then their share of the row's persons with a value for the column (the row's persons without one, in the (missing) column, are outside that denominator; their own cell gives their share of the whole row). Both row denominators are at the right.</p>\n<table>\n<tr><th></th>");
            for c in &table.columns {
                let _ = write!(page.html, "<th>{}</th>", escape(c.label()));
            }
            page.html.push_str("<th>total</th><th>with a value</th></tr>\n");
            for row in &table.rows {
                let _ = write!(page.html, "<tr><th>{}</th>", escape(row.category.label()));
                for c in &row.cells {
                    let label = format!("{} × {}", row.category.label(), c.category.label());
                    let link = page.members(&label, &c.members);
                    let _ = write!(page.html, "<td class=\"n\">{link} <small>{}</small></td>", share(c.known.as_ref().unwrap_or(&c.proportion)));
                }
                let _ = writeln!(page.html, "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>", row.total, row.known_total);
            }
            page.html.push_str("</table>\n");
            page.html.push_str(&few_cases_note(table.rows.iter().flat_map(|r| &r.cells).map(|c| c.known.as_ref().unwrap_or(&c.proportion))));
        }
        Figures::TimeSeries(series) => {
            let bins: Vec<(String, u64, u64)> = series.bins.iter().map(|b| (b.label.clone(), b.count, b.possible)).collect();
            page.html.push_str(&svg::columns(&bins));
            let _ = writeln!(page.html, "<p><small>Counting rule: {}. Bars are the persons dated within the {}; the grey line reaches the number the dates allow.</small></p>", escape(series.rule), series.granularity.noun());
            page.html.push_str("<table>\n<tr><th>period</th><th>persons dated within it</th><th>of them marked approximate (1937?)</th><th>possibly (the dates allow it)</th></tr>\n");
            for s in series.eras.iter().chain(&series.bins) {
                let link = page.members(&s.label, &s.members);
                let _ = writeln!(page.html, "<tr><td>{}</td><td class=\"n\">{link}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>", escape(&s.label), s.approximate, s.possible);
            }
            let vague = format!("dated too vaguely to place in one {}", series.granularity.noun());
            let rest = [(vague.as_str(), &series.imprecise), ("outside the range", &series.outside_range), ("open-ended date", &series.open_ended), ("no date", &series.undated)];
            for (label, members) in rest {
                let link = page.members(label, members);
                let _ = writeln!(page.html, "<tr><td><i>{label}</i></td><td class=\"n\">{link}</td><td colspan=\"2\"></td></tr>");
            }
            page.html.push_str("</table>\n");
        }
        Figures::Duration(d) => {
            page.html.push_str("<p>Days; bounds from the uncertainty of the dates (shortest and longest possible), the point value between midpoints.</p>\n<table>\n<tr><th></th><th>shortest</th><th>point</th><th>longest</th></tr>\n");
            for (name, q) in [("first quartile", d.q1), ("median", d.median), ("third quartile", d.q3)] {
                match q {
                    Some(q) => {
                        let _ = writeln!(page.html, "<tr><th>{name}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>", q.lower, q.point, q.upper);
                    }
                    None => {
                        let _ = writeln!(page.html, "<tr><th>{name}</th><td colspan=\"3\">no one has both dates</td></tr>");
                    }
                }
            }
            let measured: Vec<PersonId> = d.durations.iter().map(|p| p.person.clone()).collect();
            let (m, missing, inconsistent) = (page.members("measured", &measured), page.members("missing a date", &d.missing), page.members("end before start", &d.inconsistent));
            let _ = writeln!(page.html, "</table>\n<p>Measured: {m}; missing a date: {missing}; end certainly before start: {inconsistent}.</p>");
        }
        Figures::Survival(band) => {
            let curve = |label, colour, c: &analysis::survival::Curve| svg::Curve { label, colour, steps: c.steps.iter().map(|s| (s.time, s.survival)).collect() };
            page.html.push_str(&svg::survival(&[
                curve("events at earliest", "#b5524a", &band.earliest),
                curve("midpoints", "#4a7ab5", &band.point),
                curve("events at latest", "#4ab57a", &band.latest),
            ]));
            let no = page.members("no follow-up", &band.no_follow_up);
            let no_origin = page.members("no origin date", &band.no_origin);
            let _ = writeln!(
                page.html,
                "<p>{} persons followed, {} events; left out: no follow-up (neither the event nor a later sighting) {no}, no origin date {no_origin}. Median survival (midpoints): {} days.</p>",
                band.subjects,
                band.events,
                band.point.median().map_or("not reached".into(), |m| m.to_string())
            );
            if band.subjects > 0 && band.subjects == band.events && !band.no_follow_up.is_empty() {
                page.html.push_str(
                    "<p class=\"bad\">No one is followed without the event (no <code>last_seen</code>, or no sighting), so the curve is only the time to the event among those who had it, not the survival of the cohort: those left out without follow-up may never have had it.</p>\n",
                );
            }
            page.html.push_str("<table>\n<tr><th>day</th><th>at risk</th><th>events</th><th>censored</th><th>survival</th><th>SE</th></tr>\n");
            for s in &band.point.steps {
                let _ = writeln!(page.html, "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td></tr>", s.time, s.at_risk, s.events, s.censored, s.survival, s.standard_error);
            }
            page.html.push_str("</table>\n");
        }
        Figures::StatusAt(status) => {
            let _ = writeln!(page.html, "<p>On {}:</p>\n<table>", status.on);
            for (label, members) in [("still", &status.still), ("ended", &status.ended), ("uncertain", &status.uncertain), ("unknown", &status.unknown)] {
                let link = page.members(label, members);
                let _ = writeln!(page.html, "<tr><th>{label}</th><td class=\"n\">{link}</td></tr>");
            }
            let bounds = match (status.share_still_lower, status.share_still_upper) {
                (Some(l), Some(u)) => format!("{:.1}% to {:.1}% counting the uncertain either way", l * 100.0, u * 100.0),
                _ => String::new(),
            };
            let _ = writeln!(page.html, "</table>\n<p>Share still, of those whose status is known: {}; {bounds}.</p>", share(&status.share_still));
        }
        Figures::Succession { posts } => {
            for post in posts {
                let _ = writeln!(page.html, "<h3>{}</h3>\n<ol>", escape(&post.post.label()));
                for t in &post.holders {
                    let (href, name) = (page.person)(&t.person);
                    let date = |d: &Option<model::UncertainDate>| d.map_or("?".to_owned(), |d| d.to_string());
                    let _ = writeln!(page.html, "<li><a href=\"../{}\">{}</a> {} – {}</li>", escape(&href), escape(&name), date(&t.from), date(&t.to));
                }
                page.html.push_str("</ol>\n");
            }
        }
        Figures::Purge(series) => {
            let bars: Vec<(String, f64, String)> = series.years.iter().map(|y| (y.year.to_string(), y.share.share.unwrap_or(0.0), share_marked(&y.share, ""))).collect();
            page.html.push_str(&svg::bars(&bars));
            page.html.push_str("\n<table>\n<tr><th>year</th><th>in the body at its start</th><th>purged within it</th><th>possibly also (a date spanning years)</th><th>share (at least)</th></tr>\n");
            for y in &series.years {
                let link = page.members(&y.year.to_string(), &y.purged);
                let possibly = page.members(&format!("possibly purged in {}", y.year), &y.possibly);
                let _ = writeln!(page.html, "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{link}</td><td class=\"n\">{possibly}</td><td>{}</td></tr>", y.year, y.at_start, share(&y.share));
            }
            let _ = writeln!(page.html, "</table>\n<p>Purged in the whole range, of {} members: {}.</p>", series.members, share(&series.purged_in_range));
            if !series.undated.is_empty() {
                let undated = page.members("purged at an unknown date", &series.undated);
                let _ = writeln!(
                    page.html,
                    "<p>Purged at a date no source gives: {undated}. They are counted as still in the body every year, so each year's share is a lower bound; over the whole range the share is at most {}.</p>",
                    share(&series.purged_in_range_at_most)
                );
            }
            if !series.imprecise.is_empty() {
                let imprecise = page.members("dated too vaguely to place in one year", &series.imprecise);
                let _ = writeln!(page.html, "<p>Purged at a date too vague to place in one year (1937/1938): {imprecise}. Each year they may fall in counts them as possibly purged, none as certainly.</p>");
            }
        }
        Figures::Network(network) => {
            let index: BTreeMap<&PersonId, usize> = network.nodes.iter().enumerate().map(|(i, (id, _))| (id, i)).collect();
            let labels: Vec<String> = network.nodes.iter().map(|(_, l)| l.clone()).collect();
            let edges: Vec<(usize, usize, bool)> = network.edges.iter().map(|e| (index[&e.source], index[&e.target], e.certain)).collect();
            page.html.push_str(&svg::network(&labels, &edges));
            let _ = writeln!(page.html, "<p>{} persons, {} ties. For Gephi: <a href=\"{}.gexf\">{}.gexf</a>.</p>\n<table>\n<tr><th>who</th><th>tie</th><th>with</th><th>unit</th><th>certain</th><th>days together</th></tr>", network.nodes.len(), network.edges.len(), escape(&result.name), escape(&result.name));
            for e in &network.edges {
                let (a, b) = ((page.person)(&e.source), (page.person)(&e.target));
                let _ = writeln!(
                    page.html,
                    "<tr><td><a href=\"../{}\">{}</a></td><td>{}</td><td><a href=\"../{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    escape(&a.0), escape(&a.1), e.tie.words(), escape(&b.0), escape(&b.1), escape(&e.unit), if e.certain { "yes" } else { "possibly" }, e.overlap_days
                );
            }
            page.html.push_str("</table>\n");
        }
    }
    page.html.push_str("<h2>Who is behind each number</h2>\n");
    page.html.push_str(&page.lists);
    page.html.push_str("</body>\n</html>\n");
    page.html
}

struct Page<'a> {
    html: String,
    lists: String,
    next: usize,
    person: PersonLink<'a>,
}

impl Page<'_> {
    /// A count linking to the list of its members, which goes at the foot of the page.
    fn members(&mut self, label: &str, members: &[PersonId]) -> String {
        if members.is_empty() {
            return "0".to_owned();
        }
        self.next += 1;
        let id = format!("m{}", self.next);
        let _ = write!(self.lists, "<details id=\"{id}\"><summary>{}: {} persons</summary><p>", escape(label), members.len());
        for p in members.iter().take(MEMBERS_LISTED) {
            let (href, name) = (self.person)(p);
            let _ = write!(self.lists, "<a href=\"../{}\">{}</a>; ", escape(&href), escape(&name));
        }
        if members.len() > MEMBERS_LISTED {
            let _ = write!(self.lists, "… and {} more (all are in the JSON).", members.len() - MEMBERS_LISTED);
        }
        self.lists.push_str("</p></details>\n");
        format!("<a href=\"#{id}\">{}</a>", members.len())
    }

    /// Which value of each person the figures use, and the persons whose records disagree on a
    /// field read, linked to the list of them.
    fn values_used(&mut self, result: &AnalysisResult, rule: &str) {
        if result.disagreements.is_empty() {
            return;
        }
        let _ = write!(self.html, "<p>Each person counts once, with the consensus of their records' values (rule: {}). ", escape(rule));
        let mut agreed = Vec::new();
        let mut disputed = Vec::new();
        for d in &result.disagreements {
            let field = d.field.name();
            if d.several_values.is_empty() {
                agreed.push(field);
                continue;
            }
            let several = self.members(&format!("{field}: records give several values"), &d.several_values);
            let conflicting = self.members(&format!("{field}: values contradict each other"), &d.conflicting);
            disputed.push(format!("<b>{}</b>: the records of {several} persons give more than one value ({conflicting} contradicting each other)", escape(&field)));
        }
        if !disputed.is_empty() {
            let _ = write!(self.html, "{}. ", disputed.join("; "));
        }
        if !agreed.is_empty() {
            let _ = write!(self.html, "{}: the records of every person analysed agree. ", escape(&agreed.join(", ")));
        }
        self.html.push_str("Every value, with its record and source, is on the person pages.</p>\n");
    }

    fn cell_row(&mut self, label: &str, c: &Cell) {
        let link = self.members(label, &c.members);
        let interval = |i: Option<analysis::proportion::Interval>| i.map_or("–".to_owned(), |i| format!("{:.1}–{:.1}%", i.lower * 100.0, i.upper * 100.0));
        let known = c.known.as_ref();
        let _ = writeln!(
            self.html,
            "<tr><td>{}</td><td class=\"n\">{link}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(label),
            percent(&c.proportion),
            interval(c.proportion.wilson),
            interval(c.proportion.exact),
            known.map_or("–".to_owned(), percent),
            interval(known.and_then(|k| k.wilson))
        );
    }
}

/// The mark after a share resting on few persons, explained by [`few_cases_note`].
const FEW: &str = "<sup class=\"bad\" title=\"fewer than 30 persons\">†</sup>";

/// `42.9%`, marked when it rests on few persons.
fn percent(p: &Proportion) -> String {
    p.share.map_or("–".to_owned(), |s| format!("{:.1}%{}", s * 100.0, if p.small { FEW } else { "" }))
}

/// The footnote for the shares marked as resting on few persons, when any is.
fn few_cases_note<'p>(shares: impl IntoIterator<Item = &'p Proportion>) -> String {
    let marked = shares.into_iter().filter(|p| p.small && p.share.is_some()).count();
    if marked == 0 {
        return String::new();
    }
    format!(
        "<p><small>{FEW} {marked} share(s) rest on fewer than {} persons: read them with their interval, not as a rate.</small></p>\n",
        analysis::proportion::SMALL_BASE
    )
}

/// `12.5% (9.1–16.9%)`: the share with its Wilson interval, marked when it rests on few persons.
fn share(p: &Proportion) -> String {
    share_marked(p, FEW)
}

/// The share with its interval and `mark` after it when it rests on few persons (a chart's
/// text takes no markup).
fn share_marked(p: &Proportion, mark: &str) -> String {
    match (p.share, p.wilson) {
        (Some(s), Some(i)) => format!("{:.1}%{} ({:.1}–{:.1}%)", s * 100.0, if p.small { mark } else { "" }, i.lower * 100.0, i.upper * 100.0),
        _ => "–".to_owned(),
    }
}

/// `out/analyses/index.html`: every analysis with its kind and cohort, linking to its page.
pub fn analyses_index(results: &[AnalysisResult], report_title: &str) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Analyses · {t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<p><a href=\"../index.html\">← {t}</a></p>\n<h1>Analyses</h1>\n",
        t = escape(report_title)
    );
    html.push_str(&analysis_list(results, ""));
    html.push_str("</body>\n</html>\n");
    html
}

/// The analyses as a list of links; `prefix` is the path from the linking page to `out/analyses/`.
pub(crate) fn analysis_list(results: &[AnalysisResult], prefix: &str) -> String {
    let mut html = String::from("<ul>\n");
    for r in results {
        let kind = serde_json::to_value(&r.analysis.kind).ok().and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned)).unwrap_or_default();
        let _ = writeln!(
            html,
            "<li><a href=\"{prefix}{n}.html\">{n}</a> <small>{} over cohort {} ({} persons)</small></li>",
            escape(&kind),
            escape(&r.cohort.cohort),
            r.cohort.analysed().len(),
            n = escape(&r.name)
        );
    }
    html.push_str("</ul>\n");
    html
}

/// A page of person profiles (`out/persons/N.html`), each under the anchor its link names.
/// `anchor` gives each profile's anchor; `rule` is the consensus rule in words.
pub fn persons_page(profiles: &[&Profile], anchor: &dyn Fn(&PersonId) -> String, sources: &BTreeMap<SourceId, SourceInfo>, rule: &str, report_title: &str) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Persons · {t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<p><a href=\"../index.html\">← {t}</a></p>\n<p><small>Consensus rule: {}.</small></p>\n",
        escape(rule),
        t = escape(report_title)
    );
    for p in profiles {
        let _ = writeln!(
            html,
            "<section id=\"{}\">\n<h2>{} <small>{} · {} records, {} sources{}</small></h2>",
            escape(&anchor(&p.person)),
            escape(&p.label),
            escape(p.person.as_str()),
            p.records.len(),
            p.sources.len(),
            if p.conflicts() > 0 { format!(", <span class=\"bad\">{} conflicts</span>", p.conflicts()) } else { String::new() }
        );
        html.push_str("<p>Records: ");
        for (i, (r, source)) in p.records.iter().zip(&p.record_sources).enumerate() {
            let kind = sources.get(source).map_or("", |i| i.kind.as_str());
            let _ = write!(html, "[{}] <code>{}</code> <small>({}, {kind})</small> ", i + 1, escape(r.as_str()), escape(source.as_str()));
        }
        html.push_str("</p>\n");
        let number = |r: &model::RecordId| p.records.iter().position(|x| x == r).map_or(0, |i| i + 1);
        // Every field given once, by one record (most persons of a large source): nothing to
        // decide, so the table shows each value and the cell where it reads otherwise.
        if p.attributes.iter().all(|a| a.values.len() == 1 && a.values[0].support.len() == 1) {
            html.push_str("<table>\n<tr><th>attribute</th><th>value <small>and the cell where it reads otherwise</small></th></tr>\n");
            for a in &p.attributes {
                let v = a.consensus_value();
                let raw = &v.support[0].raw;
                let _ = write!(html, "<tr><td>{}</td><td>{}", escape(&a.field.name()), escape(&v.display));
                if raw.trim() != v.display {
                    let _ = write!(html, " <small>{}</small>", escape(raw));
                }
                for s in &a.unparsed {
                    let _ = write!(html, " <span class=\"bad\">{}</span> <small>not understood</small>", escape(&s.raw));
                }
                html.push_str("</td></tr>\n");
            }
            html.push_str("</table>\n");
            persons_posts(&mut html, p);
            continue;
        }
        html.push_str("<table>\n<tr><th>attribute</th><th>consensus</th><th>decided by</th><th>sources agreeing</th><th>every value: [records] and the cell where it reads otherwise</th></tr>\n");
        for a in &p.attributes {
            let mut asserted = String::new();
            for v in &a.values {
                // The consensus column shows a lone value already: only its records follow.
                if a.values.len() > 1 {
                    let _ = write!(asserted, "{} ", escape(&v.display));
                }
                asserted.push_str("<small>");
                for s in &v.support {
                    let _ = write!(asserted, "[{}]", number(&s.record));
                    if s.raw.trim() != v.display {
                        let _ = write!(asserted, " {}", escape(&s.raw));
                    }
                    asserted.push(' ');
                }
                asserted.push_str("</small><br>");
            }
            for s in &a.unparsed {
                let _ = write!(asserted, "<span class=\"bad\">{}</span> <small>[{}] not understood</small><br>", escape(&s.raw), number(&s.record));
            }
            let decided = match a.decision {
                analysis::person::Decision::Unanimous => "unanimous".to_owned(),
                analysis::person::Decision::FullForm => "full form".to_owned(),
                analysis::person::Decision::By(step) => format!("{step:?}").to_lowercase(),
                analysis::person::Decision::Alphabetical => "tie".to_owned(),
            };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td{}>{}</td><td>{decided}</td><td class=\"n\">{}</td><td>{asserted}</td></tr>",
                escape(&a.field.name()),
                if a.conflict { " class=\"bad\"" } else { "" },
                escape(&a.consensus_value().display),
                a.corroboration
            );
        }
        html.push_str("</table>\n");
        persons_posts(&mut html, p);
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The posts a person held, then the end of their section.
fn persons_posts(html: &mut String, p: &Profile) {
    if !p.posts.is_empty() {
        html.push_str("<h3>Posts</h3>\n<ul>\n");
        for post in &p.posts {
            let parts: Vec<&str> = [&post.role, &post.unit, &post.organisation].into_iter().flatten().map(String::as_str).collect();
            let date = |d: Option<model::UncertainDate>| d.map_or("?".to_owned(), |d| d.to_string());
            let _ = writeln!(html, "<li>{} {} – {}</li>", escape(&parts.join(", ")), date(post.from), date(post.to));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::analyses::{Analysis, AnalysisSpec};
    use analysis::cohort::{Cohort, Selection};
    use analysis::person::LinkedRecord;
    use analysis::testing::{profile as person, profile_of, record};

    /// Person `id` of one record in `source` that gives their nationality.
    fn profile(id: &str, source: &str, nationality: &str) -> Profile {
        profile_of(id, &[record(&format!("{source}:{id}"), source, &[("nationality", nationality)])])
    }

    #[test]
    fn pages_say_who_is_left_out_and_name_ties_in_words() {
        let profiles: BTreeMap<PersonId, Profile> = [
            person("chief", &[("post.role", "начальник"), ("post.unit", "УНКВД"), ("post.from", "1936-01-01"), ("post.to", "1938-06-01"), ("arrest", "1938-06-20"), ("sentence.detail", "ВМН")]),
            person("aide", &[("post.role", "оперуполномоченный"), ("post.unit", "УНКВД"), ("post.from", "1937-01-01"), ("post.to", "1938-01-01"), ("arrest", "1938-02-01"), ("sentence.detail", "ВМН"), ("sentence.date", "1938-03-01")]),
            person("clerk", &[("post.unit", "УНКВД")]),
        ]
        .into_iter()
        .map(|p| (p.person.clone(), p))
        .collect();
        let link = |p: &PersonId| (format!("persons/1.html#{p}"), p.to_string());
        let page = |spec: AnalysisSpec| analysis_page(&Analysis::from_spec(&spec, "analyses[0]").unwrap().run(&Cohort::everyone(), &profiles), "Test", "rule", &link);
        let text = |t: &str| Some(t.to_owned());
        let network = page(AnalysisSpec { name: "n".into(), kind: "network".into(), head_roles: Some(vec!["начальник".into()]), ..Default::default() });
        assert!(network.contains("<td>served under</td>") && !network.contains("ServedUnder"), "{network}");
        let survival = page(AnalysisSpec { name: "s".into(), kind: "survival".into(), origin: text("arrest.date"), event: text("sentence.date"), ..Default::default() });
        assert!(survival.contains("no follow-up (neither the event nor a later sighting) <a href=\"#m1\">1</a>, no origin date <a href=\"#m2\">1</a>"), "{survival}");
        assert!(survival.contains("<summary>no origin date: 1 persons</summary><p><a href=\"../persons/1.html#clerk\">clerk</a>"), "{survival}");
        assert!(survival.contains("the curve is only the time to the event among those who had it"), "everyone followed had the event: {survival}");
        let seen = page(AnalysisSpec { name: "s".into(), kind: "survival".into(), origin: text("arrest.date"), event: text("sentence.date"), last_seen: text("1940-01-01"), ..Default::default() });
        assert!(!seen.contains("the curve is only the time to the event"), "the chief is followed to 1940 without it: {seen}");
        let purge = page(AnalysisSpec { name: "p".into(), kind: "purge".into(), event: text("sentence.date"), years: Some([1937, 1938]), ..Default::default() });
        assert!(purge.contains("Purged at a date no source gives: <a href=\"#m2\">1</a>."), "{purge}");
        assert!(purge.contains("over the whole range the share is at most 66.7%"), "{purge}");
    }

    /// A purge dated "1937/1938" is possibly in each year, certainly in neither: the page links
    /// who that is, per year and as dated too vaguely to place.
    #[test]
    fn a_purge_page_lists_who_a_vague_date_leaves_unplaced() {
        let profiles: BTreeMap<PersonId, Profile> =
            [person("vague", &[("arrest.date", "1937/1938")]), person("sure", &[("arrest.date", "1937-05-01")])].into_iter().map(|p| (p.person.clone(), p)).collect();
        let spec = AnalysisSpec { name: "p".into(), kind: "purge".into(), event: Some("arrest.date".into()), years: Some([1937, 1938]), ..Default::default() };
        let html = analysis_page(&Analysis::from_spec(&spec, "analyses[0]").unwrap().run(&Cohort::everyone(), &profiles), "Test", "rule", &|p: &PersonId| (format!("persons/1.html#{p}"), p.to_string()));
        assert!(html.contains("<summary>possibly purged in 1937: 1 persons</summary><p><a href=\"../persons/1.html#vague\">vague</a>"), "{html}");
        assert!(html.contains("<summary>possibly purged in 1938: 1 persons</summary>"), "{html}");
        assert!(html.contains("<summary>dated too vaguely to place in one year: 1 persons</summary><p><a href=\"../persons/1.html#vague\">vague</a>"), "{html}");
    }

    #[test]
    fn every_count_links_to_its_members_and_persons_show_their_assertions() {
        let profiles: BTreeMap<PersonId, Profile> =
            [profile("a", "s1", "русский"), profile("b", "s2", "русский"), profile("c", "s1", "<латыш>"), profile("e", "s2", "")].into_iter().map(|p| (p.person.clone(), p)).collect();
        let spec = AnalysisSpec { name: "by-nationality".into(), kind: "breakdown".into(), fields: Some(analysis::cohort::OneOrMany::One("nationality".into())), ..Default::default() };
        let result = Analysis::from_spec(&spec, "analyses[0]").unwrap().run(&Cohort::everyone(), &profiles);
        let link = |p: &PersonId| (format!("persons/1.html#{p}"), format!("name of {p}"));
        let html = analysis_page(&result, "Test", "the rule", &link);
        assert!(html.contains("<p>Each person counts once, with the consensus of their records' values (rule: the rule). nationality: the records of every person analysed agree."), "{html}");
        // Two of all four, two of the three with a value; both shares rest on few persons.
        let few = "<sup class=\"bad\" title=\"fewer than 30 persons\">†</sup>";
        assert!(html.contains("<th>share of all 4</th><th>Wilson</th><th>exact</th><th>share of the 3 with a value</th>"), "{html}");
        assert!(html.contains(&format!("<td class=\"n\"><a href=\"#m1\">2</a></td><td class=\"n\">50.0%{few}</td><td class=\"n\">15.0–85.0%</td><td class=\"n\">6.8–93.2%</td><td class=\"n\">66.7%{few}</td>")), "{html}");
        assert!(html.contains("<tr><td>(missing)</td><td class=\"n\"><a href=\"#m3\">1</a></td><td class=\"n\">25.0%"), "{html}");
        assert!(html.contains("5 share(s) rest on fewer than 30 persons"), "{html}");
        assert!(html.contains("<details id=\"m1\"><summary>русский: 2 persons</summary><p><a href=\"../persons/1.html#a\">name of a</a>; <a href=\"../persons/1.html#b\">name of b</a>; </p></details>"), "{html}");
        assert!(html.contains("&lt;латыш&gt;") && !html.contains("<латыш>"));
        assert_eq!(html.matches("http").count(), html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(), "no external references");
        let index = analyses_index(std::slice::from_ref(&result), "Test");
        assert!(index.contains("<li><a href=\"by-nationality.html\">by-nationality</a> <small>breakdown over cohort all (4 persons)</small></li>"), "{index}");
        assert!(analysis_list(std::slice::from_ref(&result), "analyses/").contains("<a href=\"analyses/by-nationality.html\">"));
        let records: Vec<LinkedRecord> =
            [("s1", "русский"), ("s2", "Русский"), ("s3", "украинец")].iter().map(|(source, raw)| record(&format!("{source}:d"), source, &[("nationality", raw)])).collect();
        let linked = profile_of("d", &records);
        let disputed = Analysis::from_spec(&spec, "analyses[0]").unwrap().run(&Cohort::everyone(), &BTreeMap::from([(linked.person.clone(), linked.clone())]));
        let html = analysis_page(&disputed, "Test", "the rule", &link);
        let maybe = Selection { possible: vec![PersonId::new("d")], ..disputed.cohort.clone() };
        let possibly = analysis_page(&AnalysisResult { cohort: maybe, ..disputed.clone() }, "Test", "the rule", &link);
        assert!(possibly.contains("1 persons certainly in it, <a href=\"#m1\">1</a> possibly") && possibly.contains("<summary>possibly in the cohort: 1 persons</summary>"), "{possibly}");
        assert!(html.contains("<b>nationality</b>: the records of <a href=\"#m1\">1</a> persons give more than one value (<a href=\"#m2\">1</a> contradicting each other). Every value"), "{html}");
        let page = persons_page(&[&linked], &|p| p.to_string(), &BTreeMap::new(), "rule", "Test");
        assert!(page.contains("<td class=\"bad\">русский</td><td>majority</td><td class=\"n\">2</td><td>русский <small>[1] [2] Русский </small><br>украинец <small>[3] </small><br></td>"), "{page}");
        let page = persons_page(&profiles.values().collect::<Vec<_>>(), &|p| p.to_string(), &BTreeMap::new(), "rule", "Test");
        assert!(page.contains("<section id=\"c\">") && page.contains("<tr><td>nationality</td><td>&lt;латыш&gt;</td></tr>") && page.contains("[1] <code>s1:c</code> <small>(s1, )</small>"), "{page}");
    }
}
