//! Networks of service: who served under whom (the same unit, overlapping tenure), as plain data
//! and as GEXF for Gephi. Pure: the GEXF is returned as a string for the caller to write.

use crate::turnover::Tenure;
use model::{Day, PersonId};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How two persons are tied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tie {
    /// `source` served in the unit while `target` headed it.
    ServedUnder,
    /// Both served in the unit at the same time, neither (or both) as its head.
    ServedWith,
}

impl Tie {
    /// The tie as a report's table reads it: "who served under whom".
    pub fn words(self) -> &'static str {
        match self {
            Tie::ServedUnder => "served under",
            Tie::ServedWith => "served with",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub source: PersonId,
    pub target: PersonId,
    pub tie: Tie,
    /// The unit as `organisation / unit`.
    pub unit: String,
    /// Whether the tenures certainly overlap; otherwise the dates only allow it.
    pub certain: bool,
    /// Days of overlap between the tenures' midpoint spans (0 when that is not known).
    pub overlap_days: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Network {
    /// Persons with their labels, sorted by id.
    pub nodes: Vec<(PersonId, String)>,
    pub edges: Vec<Edge>,
}

/// Ties between every two persons who held posts in the same unit (organisation and unit) with
/// tenures that can overlap. A tenure's role marks its holder as the unit's head when it
/// contains one of `head_markers` (compared case-insensitively, e.g. "начальник", "нарком").
/// A tenure with an unknown start or end can overlap anything on that side, never certainly.
pub fn service_network(tenures: &[Tenure], labels: &BTreeMap<PersonId, String>, head_markers: &[String]) -> Network {
    let markers: Vec<String> = head_markers.iter().map(|m| m.to_lowercase()).collect();
    let is_head = |t: &Tenure| {
        let role = t.post.role.to_lowercase();
        markers.iter().any(|m| role.contains(m.as_str()))
    };
    let mut by_unit: BTreeMap<String, Vec<&Tenure>> = BTreeMap::new();
    for t in tenures {
        by_unit.entry(format!("{} / {}", t.post.organisation, t.post.unit)).or_default().push(t);
    }
    let mut edges = Vec::new();
    for (unit, members) in &by_unit {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                if a.person == b.person {
                    continue;
                }
                let Some(certain) = overlap(a, b) else { continue };
                let (tie, source, target) = match (is_head(a), is_head(b)) {
                    (true, false) => (Tie::ServedUnder, &b.person, &a.person),
                    (false, true) => (Tie::ServedUnder, &a.person, &b.person),
                    _ => (Tie::ServedWith, std::cmp::min(&a.person, &b.person), std::cmp::max(&a.person, &b.person)),
                };
                edges.push(Edge {
                    source: source.clone(),
                    target: target.clone(),
                    tie,
                    unit: unit.clone(),
                    certain,
                    overlap_days: midpoint_overlap(a, b),
                });
            }
        }
    }
    edges.sort_by(|x, y| (&x.source, &x.target, &x.unit, x.tie).cmp(&(&y.source, &y.target, &y.unit, y.tie)));
    edges.dedup_by(|x, y| (&x.source, &x.target, &x.unit, x.tie) == (&y.source, &y.target, &y.unit, y.tie));
    let mut nodes: Vec<(PersonId, String)> = tenures
        .iter()
        .map(|t| (t.person.clone(), labels.get(&t.person).cloned().unwrap_or_else(|| t.person.to_string())))
        .collect();
    nodes.sort();
    nodes.dedup();
    Network { nodes, edges }
}

/// `Some(true)` when the tenures certainly overlap, `Some(false)` when they may, `None` when not.
fn overlap(a: &Tenure, b: &Tenure) -> Option<bool> {
    let start = |t: &Tenure| t.from.map(|d| (d.earliest(), d.latest()));
    let end = |t: &Tenure| t.to.map(|d| (d.earliest(), d.latest()));
    let (a_start, a_end, b_start, b_end) = (start(a), end(a), start(b), end(b));
    let possible = a_start.is_none_or(|s| b_end.is_none_or(|e| s.0 <= e.1)) && b_start.is_none_or(|s| a_end.is_none_or(|e| s.0 <= e.1));
    if !possible {
        return None;
    }
    let certain = match (a_start, a_end, b_start, b_end) {
        (Some(sa), Some(ea), Some(sb), Some(eb)) => sa.1 <= eb.0 && sb.1 <= ea.0,
        _ => false,
    };
    Some(certain)
}

fn midpoint_overlap(a: &Tenure, b: &Tenure) -> i64 {
    let span = |t: &Tenure| -> Option<(Day, Day)> { Some((t.from?.midpoint(), t.to?.midpoint())) };
    match (span(a), span(b)) {
        (Some((sa, ea)), Some((sb, eb))) => (i64::from(ea.min(eb).days()) - i64::from(sa.max(sb).days()) + 1).max(0),
        _ => 0,
    }
}

/// The network as GEXF 1.3 (Gephi's format): directed edges for "served under", undirected for
/// "served with"; the unit, certainty and overlap are edge attributes, the overlap the weight.
pub fn to_gexf(network: &Network) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n");
    out.push_str("  <graph defaultedgetype=\"undirected\" mode=\"static\">\n");
    out.push_str("    <attributes class=\"edge\">\n");
    out.push_str("      <attribute id=\"unit\" title=\"unit\" type=\"string\"/>\n");
    out.push_str("      <attribute id=\"tie\" title=\"tie\" type=\"string\"/>\n");
    out.push_str("      <attribute id=\"certain\" title=\"certain\" type=\"boolean\"/>\n");
    out.push_str("    </attributes>\n    <nodes>\n");
    for (id, label) in &network.nodes {
        let _ = writeln!(out, "      <node id=\"{}\" label=\"{}\"/>", xml_escape(id.as_str()), xml_escape(label));
    }
    out.push_str("    </nodes>\n    <edges>\n");
    for (i, e) in network.edges.iter().enumerate() {
        let (kind, tie) = match e.tie {
            Tie::ServedUnder => ("directed", "served_under"),
            Tie::ServedWith => ("undirected", "served_with"),
        };
        let _ = writeln!(
            out,
            "      <edge id=\"{i}\" source=\"{}\" target=\"{}\" type=\"{kind}\" weight=\"{}\">\n        <attvalues>\n          <attvalue for=\"unit\" value=\"{}\"/>\n          <attvalue for=\"tie\" value=\"{tie}\"/>\n          <attvalue for=\"certain\" value=\"{}\"/>\n        </attvalues>\n      </edge>",
            xml_escape(e.source.as_str()),
            xml_escape(e.target.as_str()),
            e.overlap_days.max(1),
            xml_escape(&e.unit),
            e.certain,
        );
    }
    out.push_str("    </edges>\n  </graph>\n</gexf>\n");
    out
}

/// Escapes text for an XML attribute value.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::UncertainDate;
    use expect_test::expect;

    fn d(text: &str) -> Option<UncertainDate> {
        (!text.is_empty()).then(|| UncertainDate::parse_standard(text).unwrap())
    }

    fn tenure(person: &str, organisation: &str, unit: &str, role: &str, from: Option<UncertainDate>, to: Option<UncertainDate>) -> Tenure {
        Tenure {
            person: PersonId::new(person),
            post: crate::turnover::PostKey { organisation: organisation.into(), unit: unit.into(), role: role.into() },
            from,
            to,
        }
    }

    #[test]
    fn ties_in_a_regional_directorate() {
        let tenures = [
            tenure("chief", "УНКВД", "Горьковская обл.", "начальник УНКВД", d("1937-01"), d("1938-06")),
            tenure("deputy", "УНКВД", "Горьковская обл.", "заместитель", d("1937-03-01"), d("1938-12-31")),
            tenure("clerk", "УНКВД", "Горьковская обл.", "оперуполномоченный", d("1938"), None),
            tenure("later", "УНКВД", "Горьковская обл.", "начальник отдела", d("1939-02"), d("1940")),
            tenure("elsewhere", "УНКВД", "Алтайский край", "начальник", d("1937"), d("1938")),
        ];
        let labels = BTreeMap::from([(PersonId::new("chief"), "Лаврушин И. Я. <&>".to_owned())]);
        let network = service_network(&tenures, &labels, &["НАЧАЛЬНИК УНКВД".to_owned()]);
        let shown: Vec<String> = network
            .edges
            .iter()
            .map(|e| format!("{} {:?} {} certain={} overlap={}", e.source, e.tie, e.target, e.certain, e.overlap_days))
            .collect();
        expect![[r#"
            clerk ServedUnder chief certain=false overlap=0
            clerk ServedWith deputy certain=false overlap=0
            clerk ServedWith later certain=false overlap=0
            deputy ServedUnder chief certain=true overlap=472"#]]
        .assert_eq(&shown.join("\n"));
        let gexf = to_gexf(&network);
        assert!(gexf.contains("<node id=\"chief\" label=\"Лаврушин И. Я. &lt;&amp;&gt;\"/>"), "{gexf}");
        assert!(gexf.contains("source=\"deputy\" target=\"chief\" type=\"directed\" weight=\"472\""), "{gexf}");
        assert_eq!(gexf.matches("<edge ").count(), 4);
        assert_eq!(gexf.matches("<node ").count(), 5);
    }
}
