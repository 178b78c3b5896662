//! A self-contained HTML report of a clustering: no scripts, no network.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::document::Document;
use crate::eval::{Scores, score};
use crate::output::{Clustering, DuplicateGroup};

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222;line-height:1.4}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\
.story{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0;background:#fafafa}\
.story h3{margin:.2em 0;font-size:1.05em}.meta{color:#666;font-size:.9em}\
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;font-size:.9em}\
th{background:#f0f0f0}.num{text-align:right;font-variant-numeric:tabular-nums}\
details{margin:.3em 0 .3em 1em}summary{cursor:pointer}.bar{display:inline-block;height:.6em;background:#4a7;vertical-align:middle}";

/// Renders the report. Threads (when the thread level merged stories) come
/// first, each with a timeline of its stories; then stories sorted by size,
/// largest first, at most `max_stories` in full (the rest are counted), each
/// article with its outlet, date and link, canonicals marked ★. When every
/// document has a gold label, an evaluation section with the levels' scores
/// and the confusion between predicted stories and gold clusters comes
/// last.
///
/// ```
/// use wirecluster::{Clusterer, Config, Document, html_report};
/// let docs = vec![Document::new("a", "Storm <hits> the coast.").with_title("Storm & rain")];
/// let c = Clusterer::new(Config::default())?.cluster(&docs)?;
/// let html = html_report(&docs, &c, 100);
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("Storm &amp; rain"));
/// # Ok::<(), wirecluster::Error>(())
/// ```
pub fn html_report(docs: &[Document], c: &Clustering, max_stories: usize) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wirecluster report</title><style>{STYLE}</style></head><body>"
    );
    let s = &c.stats;
    let _ = writeln!(
        h,
        "<h1>wirecluster report</h1><p class=\"meta\">{} documents → {} duplicate groups → {} stories; clustered in {:.2} s on {} threads.</p>",
        s.documents, s.groups, s.stories, s.total_secs, s.threads
    );
    if s.thread_links > 0 {
        threads(&mut h, docs, c, max_stories);
    }
    let groups: HashMap<&str, &DuplicateGroup> =
        c.groups.iter().map(|g| (g.id.as_str(), g)).collect();
    let mut stories: Vec<_> = c.stories.iter().collect();
    stories.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.id.cmp(&b.id)));
    let _ = writeln!(h, "<h2>Stories, largest first</h2>");
    for st in stories.iter().take(max_stories) {
        let canon = &docs[st.members[0].index];
        let title = canon.title.as_deref().unwrap_or("(no headline)");
        let dates: Vec<_> = st
            .members
            .iter()
            .filter_map(|m| docs[m.index].published)
            .collect();
        let span = match (dates.iter().min(), dates.iter().max()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a} – {b}"),
            _ => "no dates".to_string(),
        };
        let mut outlets: Vec<&str> = st
            .members
            .iter()
            .filter_map(|m| docs[m.index].source.as_deref())
            .collect();
        outlets.sort_unstable();
        outlets.dedup();
        let outlets = if outlets.is_empty() {
            "unknown".to_string()
        } else {
            outlets.join(", ")
        };
        let _ = writeln!(
            h,
            "<div class=\"story\"><h3>{}</h3><div class=\"meta\">story <code>{}</code> · {} articles in {} duplicate groups · {} · outlets: {}</div><div class=\"meta\">{}</div>",
            esc(title),
            esc(&st.id),
            st.members.len(),
            st.groups.len(),
            esc(&span),
            esc(&outlets),
            esc(&st.canonical_reason)
        );
        let sim: HashMap<&str, f64> = st
            .members
            .iter()
            .map(|m| (m.id.as_str(), m.similarity_to_canonical))
            .collect();
        for gid in &st.groups {
            let Some(g) = groups.get(gid.as_str()) else {
                continue;
            };
            let gtitle = docs[g.members[0].index]
                .title
                .as_deref()
                .unwrap_or("(no headline)");
            let _ = writeln!(
                h,
                "<details><summary>group <code>{}</code>: {} articles — {}</summary><table><tr><th>article</th><th>headline</th><th>outlet</th><th>date</th><th class=\"num\">story similarity</th><th class=\"num\">Jaccard to group canonical</th><th class=\"num\">contained in it</th></tr>",
                esc(&g.id),
                g.members.len(),
                esc(gtitle)
            );
            for (k, m) in g.members.iter().enumerate() {
                let sv = sim.get(m.id.as_str()).copied().unwrap_or(0.0);
                let d = &docs[m.index];
                // ★ the story's canonical, ☆ the group's.
                let mark = if m.index == st.members[0].index {
                    "★ "
                } else if k == 0 {
                    "☆ "
                } else {
                    ""
                };
                let _ = writeln!(
                    h,
                    "<tr><td>{mark}<code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\"><span class=\"bar\" style=\"width:{:.0}px\"></span> {:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.0}%</td></tr>",
                    esc(&m.id),
                    headline_link(d),
                    esc(d.source.as_deref().unwrap_or("")),
                    d.published.map(|t| t.to_string()).unwrap_or_default(),
                    sv * 60.0,
                    sv,
                    m.jaccard_to_canonical,
                    m.containment_in_canonical * 100.0
                );
            }
            h.push_str("</table></details>\n");
        }
        h.push_str("</div>\n");
    }
    if stories.len() > max_stories {
        let _ = writeln!(
            h,
            "<p class=\"meta\">… and {} smaller stories not shown.</p>",
            stories.len() - max_stories
        );
    }
    let labels: Option<Vec<&str>> = docs.iter().map(|d| d.label.as_deref()).collect();
    if let (Some(gold), false) = (labels, docs.is_empty()) {
        evaluation(&mut h, c, &gold);
    }
    h.push_str("</body></html>\n");
    h
}

/// A document's headline, linked to its `url` when it has one (http or
/// https only).
fn headline_link(d: &Document) -> String {
    let title = esc(d.title.as_deref().unwrap_or(""));
    match d.url.as_deref() {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            format!("<a href=\"{}\">{title}</a>", esc(u))
        }
        _ => title,
    }
}

/// The threads that hold several stories, largest first, each with a
/// timeline: its stories placed by their first dated article and sized by
/// their articles, and who published first.
fn threads(h: &mut String, docs: &[Document], c: &Clustering, max_threads: usize) {
    let by_id: HashMap<&str, &crate::output::Story> =
        c.stories.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut shown: Vec<_> = c.threads.iter().filter(|t| t.stories.len() > 1).collect();
    shown.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.id.cmp(&b.id)));
    let _ = writeln!(
        h,
        "<h2>Threads, largest first</h2><p class=\"meta\">{} threads hold several stories.</p>",
        shown.len()
    );
    for t in shown.iter().take(max_threads) {
        let canon = &docs[t.members[0].index];
        let first = t
            .members
            .iter()
            .filter_map(|m| {
                docs[m.index]
                    .published
                    .map(|p| (p, &docs[m.index].id, m.index))
            })
            .min();
        let _ = writeln!(
            h,
            "<div class=\"story\"><h3>{}</h3><div class=\"meta\">thread <code>{}</code> · {} articles in {} stories · {}</div>",
            headline_link(canon),
            esc(&t.id),
            t.members.len(),
            t.stories.len(),
            esc(&t.canonical_reason)
        );
        let stories: Vec<&crate::output::Story> = t
            .stories
            .iter()
            .filter_map(|s| by_id.get(s.as_str()).copied())
            .collect();
        let starts: Vec<Option<crate::document::Timestamp>> = stories
            .iter()
            .map(|s| {
                s.members
                    .iter()
                    .filter_map(|m| docs[m.index].published)
                    .min()
            })
            .collect();
        match (
            starts.iter().flatten().min(),
            starts.iter().flatten().max(),
            first,
        ) {
            (Some(&t0), Some(&t1), Some((when, _, i))) => {
                let span = (t1.seconds() - t0.seconds()).max(1) as f64;
                let _ = write!(
                    h,
                    "<svg width=\"820\" height=\"70\" role=\"img\"><line x1=\"20\" y1=\"35\" x2=\"800\" y2=\"35\" stroke=\"#999\"/>"
                );
                for (s, start) in stories.iter().zip(&starts) {
                    let Some(start) = start else { continue };
                    let x = 20.0 + 780.0 * (start.seconds() - t0.seconds()) as f64 / span;
                    let r = 3.0 + 2.0 * (s.members.len() as f64).sqrt();
                    let _ = write!(
                        h,
                        "<circle cx=\"{x:.1}\" cy=\"35\" r=\"{r:.1}\" fill=\"#4a7\" fill-opacity=\"0.6\"><title>{} ({} articles)</title></circle>",
                        esc(docs[s.members[0].index].title.as_deref().unwrap_or(&s.id)),
                        s.members.len()
                    );
                }
                let _ = writeln!(
                    h,
                    "<text x=\"20\" y=\"66\" font-size=\"11\">{t0}</text><text x=\"800\" y=\"66\" font-size=\"11\" text-anchor=\"end\">{t1}</text></svg>"
                );
                let _ = writeln!(
                    h,
                    "<div class=\"meta\">first published: {} ({}), {when}</div>",
                    esc(docs[i].source.as_deref().unwrap_or("unknown outlet")),
                    esc(&docs[i].id)
                );
            }
            _ => {
                let _ = writeln!(h, "<div class=\"meta\">no dates: stories by size</div>");
            }
        }
        let _ = writeln!(
            h,
            "<table><tr><th>story</th><th class=\"num\">articles</th><th>headline</th><th>first dated</th></tr>"
        );
        // The table in time order (undated stories last, by size).
        let mut order: Vec<usize> = (0..stories.len()).collect();
        order.sort_by_key(|&k| {
            (
                starts[k].is_none(),
                starts[k],
                std::cmp::Reverse(stories[k].members.len()),
                &stories[k].id,
            )
        });
        for (s, start) in order.iter().map(|&k| (stories[k], &starts[k])).take(12) {
            let mark = if s.members[0].index == t.members[0].index {
                "★ "
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr><td>{mark}<code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.id),
                s.members.len(),
                headline_link(&docs[s.members[0].index]),
                start.map(|t| t.to_string()).unwrap_or_default()
            );
        }
        if stories.len() > 12 {
            let _ = writeln!(
                h,
                "<tr><td colspan=\"4\" class=\"meta\">… and {} more stories</td></tr>",
                stories.len() - 12
            );
        }
        h.push_str("</table></div>\n");
    }
}

fn scores_row(h: &mut String, level: &str, s: &Scores) {
    let _ = writeln!(
        h,
        "<tr><td>{level}</td><td class=\"num\">{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td></tr>",
        s.predicted_clusters,
        s.pairwise.precision,
        s.pairwise.recall,
        s.pairwise.f1,
        s.bcubed.f1,
        s.ari
    );
}

fn evaluation(h: &mut String, c: &Clustering, gold: &[&str]) {
    let groups: Vec<&str> = c
        .assignments
        .iter()
        .map(|a| a.duplicate_group.as_str())
        .collect();
    let stories: Vec<&str> = c.assignments.iter().map(|a| a.story.as_str()).collect();
    let threads: Vec<&str> = c.assignments.iter().map(|a| a.thread.as_str()).collect();
    let (sg, ss) = (score(&groups, gold), score(&stories, gold));
    let _ = writeln!(
        h,
        "<h2>Evaluation against the <code>cluster</code> labels</h2><p class=\"meta\">{} gold clusters.</p><table><tr><th>level</th><th class=\"num\">predicted</th><th class=\"num\">pairwise P</th><th class=\"num\">pairwise R</th><th class=\"num\">pairwise F1</th><th class=\"num\">BCubed F1</th><th class=\"num\">ARI</th></tr>",
        sg.gold_clusters
    );
    scores_row(h, "duplicate groups", &sg);
    scores_row(h, "stories", &ss);
    if c.stats.thread_links > 0 {
        scores_row(h, "threads", &score(&threads, gold));
    }
    h.push_str("</table>\n");
    // Confusion: predicted stories holding several gold clusters, and gold
    // clusters spread over several stories.
    let mut by_story: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut by_gold: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (p, g) in stories.iter().zip(gold) {
        *by_story.entry(p).or_default().entry(g).or_default() += 1;
        *by_gold.entry(g).or_default().entry(p).or_default() += 1;
    }
    confusion(
        h,
        "Predicted stories that mix gold clusters",
        "story",
        "gold clusters in it",
        &by_story,
    );
    confusion(
        h,
        "Gold clusters split over several stories",
        "gold cluster",
        "stories it went to",
        &by_gold,
    );
}

fn confusion(
    h: &mut String,
    heading: &str,
    what: &str,
    parts: &str,
    m: &BTreeMap<&str, BTreeMap<&str, usize>>,
) {
    let mut mixed: Vec<(&str, &BTreeMap<&str, usize>)> = m
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| (*k, v))
        .collect();
    mixed.sort_by(|a, b| {
        b.1.values()
            .sum::<usize>()
            .cmp(&a.1.values().sum::<usize>())
            .then(a.0.cmp(b.0))
    });
    let _ = write!(h, "<h3>{heading}: {}</h3>", mixed.len());
    if mixed.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<table><tr><th>{what}</th><th>{parts} (articles)</th></tr>"
    );
    for (k, v) in mixed.iter().take(30) {
        let mut parts: Vec<(&str, usize)> = v.iter().map(|(a, n)| (*a, *n)).collect();
        parts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let text: Vec<String> = parts
            .iter()
            .take(8)
            .map(|(a, n)| format!("{} ({n})", esc(a)))
            .collect();
        let more = if parts.len() > 8 {
            format!(", … {} more", parts.len() - 8)
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}{more}</td></tr>",
            esc(k),
            text.join(", ")
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
