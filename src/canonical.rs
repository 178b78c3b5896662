//! Choosing a canonical representative for each group.
//!
//! The policy is declared in [`Config::canonical`](crate::Config::canonical)
//! and every choice comes with a sentence saying why.
//!
//! Ties under every policy are broken by earliest `published` (undated
//! documents after dated ones), then by smallest id.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::document::Document;

/// How a group's canonical member is chosen.
///
/// ```
/// use wirecluster::CanonicalPolicy;
/// assert_eq!(CanonicalPolicy::default(), CanonicalPolicy::MostComplete);
/// let p = CanonicalPolicy::SourcePriority(vec!["Reuters".into(), "AFP".into()]);
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"source_priority":["Reuters","AFP"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CanonicalPolicy {
    /// The member that contains the most of the others: the largest mean
    /// containment `|S_o ∩ S_m| / |S_o|` of the other members `o` in it.
    /// For groups of more than 64 members, the first 64 others (in input
    /// order) are compared.
    #[default]
    MostComplete,
    /// The earliest published member.
    Earliest,
    /// The member with the most shingles after normalization.
    Longest,
    /// The member whose `source` comes first in this list (case-insensitive
    /// substring match); members matching none come last.
    SourcePriority(Vec<String>),
}

/// The chosen member (an index into `members`) and the reason.
pub(crate) struct Choice {
    pub member: usize,
    pub reason: String,
}

const MAX_COMPARED: usize = 64;

pub(crate) fn date_then_id(a: &Document, b: &Document) -> Ordering {
    dated_then_id(
        (a.published.map(|t| t.seconds()), &a.id),
        (b.published.map(|t| t.seconds()), &b.id),
    )
}

/// The tie order of every policy on `(published seconds, id)`: earliest
/// first, undated after dated, then smallest id.
pub(crate) fn dated_then_id(a: (Option<i64>, &str), b: (Option<i64>, &str)) -> Ordering {
    match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.1.cmp(b.1))
}

/// Picks the canonical member of a group. `members` are document indices,
/// `sets` the shingle sets of all documents, `shared(a, b)` the intersection
/// size of two documents' sets.
pub(crate) fn choose(
    policy: &CanonicalPolicy,
    members: &[usize],
    docs: &[Document],
    sets: &[Vec<u64>],
    shared: &dyn Fn(usize, usize) -> usize,
) -> Choice {
    if members.len() == 1 {
        return Choice {
            member: 0,
            reason: "only member".to_string(),
        };
    }
    // A score per member, higher is better; ties by date, then id.
    let scores: Vec<f64> = match policy {
        CanonicalPolicy::MostComplete => members
            .iter()
            .map(|&m| completeness(m, members, sets, shared))
            .collect(),
        CanonicalPolicy::Earliest => vec![0.0; members.len()],
        CanonicalPolicy::Longest => members.iter().map(|&m| sets[m].len() as f64).collect(),
        CanonicalPolicy::SourcePriority(list) => members
            .iter()
            .map(|&m| -(source_rank(docs[m].source.as_deref(), list) as f64))
            .collect(),
    };
    let best = (0..members.len())
        .min_by(|&a, &b| {
            // Round so that float noise never decides a tie.
            let (sa, sb) = ((scores[a] * 1e9).round(), (scores[b] * 1e9).round());
            sb.partial_cmp(&sa)
                .unwrap_or(Ordering::Equal)
                .then_with(|| date_then_id(&docs[members[a]], &docs[members[b]]))
        })
        .unwrap_or(0);
    let doc = &docs[members[best]];
    let reason = match policy {
        CanonicalPolicy::MostComplete => format!(
            "most complete: contains on average {:.0}% of the text of the other {} members",
            scores[best] * 100.0,
            members.len() - 1
        ),
        CanonicalPolicy::Earliest => match doc.published {
            Some(t) => format!("earliest published ({t})"),
            None => "no member has a date: smallest id".to_string(),
        },
        CanonicalPolicy::Longest => format!("longest: {} shingles", sets[members[best]].len()),
        CanonicalPolicy::SourcePriority(list) => {
            match list.get(source_rank(doc.source.as_deref(), list)) {
                Some(s) => format!("source matches priority entry {s:?}"),
                None => "no member's source is in the priority list: earliest, then smallest id"
                    .to_string(),
            }
        }
    };
    Choice {
        member: best,
        reason,
    }
}

fn completeness(
    m: usize,
    members: &[usize],
    sets: &[Vec<u64>],
    shared: &dyn Fn(usize, usize) -> usize,
) -> f64 {
    let others: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&o| o != m)
        .take(MAX_COMPARED)
        .collect();
    let total: f64 = others
        .iter()
        .map(|&o| {
            let so = &sets[o];
            if so.is_empty() {
                0.0
            } else {
                shared(o, m) as f64 / so.len() as f64
            }
        })
        .sum();
    total / others.len().max(1) as f64
}

pub(crate) fn source_rank(source: Option<&str>, list: &[String]) -> usize {
    let Some(s) = source else { return list.len() };
    let s = s.to_lowercase();
    list.iter()
        .position(|p| s.contains(&p.to_lowercase()))
        .unwrap_or(list.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sets: &[Vec<u64>]) -> impl Fn(usize, usize) -> usize + '_ {
        |a, b| crate::similarity::intersection_size(&sets[a], &sets[b])
    }

    fn docs() -> (Vec<Document>, Vec<Vec<u64>>) {
        let d = vec![
            Document::new("b", "x").with_source("Local Times"),
            Document::new("a", "x")
                .with_source("Reuters")
                .with_published("2016-09-06".parse().unwrap()),
            Document::new("c", "x").with_published("2016-09-05".parse().unwrap()),
        ];
        let sets = vec![(0..100).collect(), (0..40).collect(), (30..60).collect()];
        (d, sets)
    }

    #[test]
    fn most_complete_prefers_the_superset() {
        let (d, s) = docs();
        let c = choose(
            &CanonicalPolicy::MostComplete,
            &[0, 1, 2],
            &d,
            &s,
            &exact(&s),
        );
        assert_eq!(c.member, 0);
        assert!(c.reason.contains("100%"), "{}", c.reason);
    }

    #[test]
    fn other_policies() {
        let (d, s) = docs();
        assert_eq!(
            choose(&CanonicalPolicy::Earliest, &[0, 1, 2], &d, &s, &exact(&s)).member,
            2
        );
        assert_eq!(
            choose(&CanonicalPolicy::Longest, &[1, 2], &d, &s, &exact(&s)).member,
            0
        );
        let p = CanonicalPolicy::SourcePriority(vec!["reuters".into()]);
        assert_eq!(choose(&p, &[0, 1, 2], &d, &s, &exact(&s)).member, 1);
        // Nobody matches: earliest wins.
        let p = CanonicalPolicy::SourcePriority(vec!["AP".into()]);
        assert_eq!(choose(&p, &[0, 1, 2], &d, &s, &exact(&s)).member, 2);
    }

    #[test]
    fn ties_go_to_earliest_then_smallest_id() {
        let d = vec![Document::new("z", "x"), Document::new("y", "x")];
        let s = vec![(0..10).collect(), (0..10).collect()];
        assert_eq!(
            choose(&CanonicalPolicy::MostComplete, &[0, 1], &d, &s, &exact(&s)).member,
            1
        );
    }
}
