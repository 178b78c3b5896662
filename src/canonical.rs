//! Choosing a canonical representative for each group.
//!
//! The policy is declared in [`Config::canonical`](crate::Config::canonical)
//! and every choice comes with a sentence saying why.
//!
//! Ties under every policy are broken by earliest `published` (undated
//! documents after dated ones), then by smallest id.

use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

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
    /// The cleanest complete copy of the text the members share: the
    /// largest `completeness × cleanness^¾`, where
    ///
    /// * completeness is the mean containment `|S_o ∩ S_m| / |S_o|` of the
    ///   other members `o` in `m`, and
    /// * cleanness is the share of `m`'s own text that another member also
    ///   carries, `max_o |S_o ∩ S_m| / |S_m|`,
    ///
    /// so that text only `m` carries (a dateline, a site header or footer)
    /// counts against it, though less than missing text does: the original
    /// dispatch is chosen over reprints that wrap it in their furniture,
    /// and a full copy over its excerpt. Equal scores (copies whose
    /// furniture was all removed as boilerplate) go to the shorter text,
    /// then to the usual ties. For groups of more than 64
    /// members, the 64 others of smallest id are compared (in the live index,
    /// the first 64 to arrive).
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

impl std::str::FromStr for CanonicalPolicy {
    type Err = crate::Error;

    /// A policy by name, as on the command line: `most-complete`,
    /// `earliest`, `longest`, or `source-priority:NAME,NAME,…`.
    ///
    /// ```
    /// use wirecluster::CanonicalPolicy;
    /// assert_eq!("earliest".parse::<CanonicalPolicy>()?, CanonicalPolicy::Earliest);
    /// assert_eq!(
    ///     "source-priority:Reuters,AFP".parse::<CanonicalPolicy>()?,
    ///     CanonicalPolicy::SourcePriority(vec!["Reuters".into(), "AFP".into()])
    /// );
    /// assert!("newest".parse::<CanonicalPolicy>().is_err());
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    fn from_str(s: &str) -> crate::Result<Self> {
        let bad = |reason| crate::Error::Config {
            field: "canonical",
            value: s.to_string(),
            reason,
        };
        match s {
            "most-complete" => Ok(CanonicalPolicy::MostComplete),
            "earliest" => Ok(CanonicalPolicy::Earliest),
            "longest" => Ok(CanonicalPolicy::Longest),
            _ => match s.strip_prefix("source-priority:") {
                Some(list) => {
                    let names: Vec<String> = list
                        .split(',')
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(String::from)
                        .collect();
                    if names.is_empty() {
                        Err(bad("source-priority: needs at least one source name"))
                    } else {
                        Ok(CanonicalPolicy::SourcePriority(names))
                    }
                }
                None => Err(bad(
                    "one of most-complete, earliest, longest, source-priority:NAME,NAME,…",
                )),
            },
        }
    }
}

/// The chosen member (an index into `members`) and the reason.
pub(crate) struct Choice {
    pub member: usize,
    pub reason: Arc<str>,
}

/// The reason of every single-member group, shared (most groups of a large
/// corpus have one member).
pub(crate) static ONLY_MEMBER: LazyLock<Arc<str>> = LazyLock::new(|| "only member".into());

/// Members compared per member in larger groups.
pub(crate) const MAX_COMPARED: usize = 64;

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
            reason: ONLY_MEMBER.clone(),
        };
    }
    // A score per member, higher is better; ties by date, then id.
    let parts: Vec<MostCompleteParts> = match policy {
        CanonicalPolicy::MostComplete => {
            // In large groups each member is compared with the members of
            // smallest id, so that the choice does not depend on the input
            // order.
            let by_id: std::borrow::Cow<[usize]> = if members.len() > MAX_COMPARED + 1 {
                let mut v = members.to_vec();
                v.sort_by(|&a, &b| docs[a].id.cmp(&docs[b].id));
                v.into()
            } else {
                members.into()
            };
            members
                .iter()
                .map(|&m| completeness(m, &by_id, sets, shared))
                .collect()
        }
        _ => Vec::new(),
    };
    let best = best_candidate(
        policy,
        members.iter().enumerate().map(|(i, &m)| Candidate {
            score: policy_score(
                policy,
                parts.get(i).copied().unwrap_or_default(),
                sets[m].len(),
                docs[m].source.as_deref(),
            ),
            text_len: docs[m].text.len(),
            published: docs[m].published.map(|t| t.seconds()),
            id: &docs[m].id,
        }),
    )
    .unwrap_or(0);
    let doc = &docs[members[best]];
    let reason = match policy {
        CanonicalPolicy::MostComplete => {
            let (complete, clean) = parts[best].parts(sets[members[best]].len());
            format!(
                "most complete: contains on average {:.0}% of the text of the other {} members, \
                 and {:.0}% of its own text is shared with them (text only it carries counts against it)",
                complete * 100.0,
                members.len() - 1,
                clean * 100.0,
            )
        }
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
        reason: reason.into(),
    }
}

/// What the policies compare about one member of a group.
pub(crate) struct Candidate<'a> {
    /// Its score by the policy ([`policy_score`]), higher is better.
    pub score: f64,
    /// Bytes of its text: equal "most complete" scores go to the shorter
    /// text, which carries less furniture.
    pub text_len: usize,
    /// Publication time in seconds.
    pub published: Option<i64>,
    pub id: &'a str,
}

/// A member's score by a policy, higher is better: `parts` are its "most
/// complete" parts (read only by that policy), `set_len` its shingles.
pub(crate) fn policy_score(
    policy: &CanonicalPolicy,
    parts: MostCompleteParts,
    set_len: usize,
    source: Option<&str>,
) -> f64 {
    match policy {
        CanonicalPolicy::MostComplete => parts.score(set_len),
        CanonicalPolicy::Earliest => 0.0,
        CanonicalPolicy::Longest => set_len as f64,
        CanonicalPolicy::SourcePriority(list) => -(source_rank(source, list) as f64),
    }
}

/// The position of the canonical among `members`: the best score (rounded,
/// so that float noise never decides a tie), then for "most complete" the
/// shorter text, then the earliest date (undated last), then the smallest
/// id. Used by the batch run and the live index alike.
pub(crate) fn best_candidate<'a>(
    policy: &CanonicalPolicy,
    members: impl Iterator<Item = Candidate<'a>>,
) -> Option<usize> {
    let furniture = |c: &Candidate| match policy {
        CanonicalPolicy::MostComplete => c.text_len,
        _ => 0,
    };
    members
        .map(|c| ((c.score * 1e9).round(), furniture(&c), c))
        .enumerate()
        .min_by(|(_, (sa, fa, a)), (_, (sb, fb, b))| {
            sb.total_cmp(sa)
                .then(fa.cmp(fb))
                .then_with(|| dated_then_id((a.published, a.id), (b.published, b.id)))
        })
        .map(|(i, _)| i)
}

/// The lead group of a story, whose canonical is the story's: the largest
/// group, ties by its canonical's date (earliest first, undated last), then
/// id. `groups` yield `(members, canonical's published seconds, canonical's
/// id)`; returns the lead's position.
pub(crate) fn story_lead<'a>(
    groups: impl Iterator<Item = (usize, Option<i64>, &'a str)>,
) -> Option<usize> {
    groups
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            b.0.cmp(&a.0)
                .then_with(|| dated_then_id((a.1, a.2), (b.1, b.2)))
        })
        .map(|(i, _)| i)
}

/// The "most complete" score parts of `m` against the compared members.
fn completeness(
    m: usize,
    members: &[usize],
    sets: &[Vec<u64>],
    shared: &dyn Fn(usize, usize) -> usize,
) -> MostCompleteParts {
    let mut parts = MostCompleteParts::default();
    for o in members
        .iter()
        .copied()
        .filter(|&o| o != m)
        .take(MAX_COMPARED)
    {
        parts.add(shared(o, m), sets[o].len());
    }
    parts
}

/// What the "most complete" score of one member needs, gathered one
/// compared member at a time: the batch run compares them all at once, the
/// live index as members join. Both score with [`MostCompleteParts::score`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct MostCompleteParts {
    /// Sum of the compared members' containment in this one.
    pub contain_sum: f64,
    /// How many members were compared.
    pub compared: u32,
    /// The largest intersection with a compared member.
    pub best_shared: u32,
}

impl MostCompleteParts {
    /// Adds a compared member with `other_len` shingles, `shared` of them
    /// in this one.
    pub fn add(&mut self, shared: usize, other_len: usize) {
        if other_len > 0 {
            self.contain_sum += shared as f64 / other_len as f64;
        }
        self.compared += 1;
        self.best_shared = self.best_shared.max(shared.min(u32::MAX as usize) as u32);
    }

    /// Completeness and cleanness of a member of `len` shingles.
    pub fn parts(&self, len: usize) -> (f64, f64) {
        let complete = self.contain_sum / self.compared.max(1) as f64;
        let clean = if len == 0 {
            0.0
        } else {
            (self.best_shared as f64 / len as f64).min(1.0)
        };
        (complete, clean)
    }

    /// The score: completeness × cleanness^¾.
    pub fn score(&self, len: usize) -> f64 {
        let (complete, clean) = self.parts(len);
        complete * clean.powf(0.75)
    }
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

    fn most_complete(members: &[usize], d: &[Document], s: &[Vec<u64>]) -> Choice {
        choose(&CanonicalPolicy::MostComplete, members, d, s, &exact(s))
    }

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
        let c = most_complete(&[0, 1, 2], &d, &s);
        assert_eq!(c.member, 0);
        assert!(c.reason.contains("100%"), "{}", c.reason);
    }

    #[test]
    fn most_complete_prefers_the_original_over_reprints_with_furniture() {
        // The original 0..100; two reprints add a header and a footer of
        // their own.
        let d = vec![
            Document::new("reprint-a", "x"),
            Document::new("original", "x"),
            Document::new("reprint-b", "x"),
        ];
        let mut s: Vec<Vec<u64>> = vec![
            (1000..1010).chain(0..100).chain(2000..2015).collect(),
            (0..100).collect(),
            (3000..3020).chain(0..100).collect(),
        ];
        s.iter_mut().for_each(|v| v.sort_unstable());
        let c = most_complete(&[0, 1, 2], &d, &s);
        assert_eq!(d[c.member].id, "original", "{}", c.reason);
        assert!(
            c.reason.contains("100% of its own text is shared"),
            "{}",
            c.reason
        );
        // A full copy is chosen over its excerpt, alone or with another.
        let s2: Vec<Vec<u64>> = vec![(0..100).collect(), (0..50).collect()];
        let c = most_complete(&[0, 1], &d, &s2);
        assert_eq!(c.member, 0, "{}", c.reason);
    }

    #[test]
    fn equal_copies_go_to_the_one_with_less_furniture() {
        let d = vec![
            Document::new("a", "Subscribe now\nThe text."),
            Document::new("b", "The text."),
            Document::new("c", "The text, longer."),
        ];
        let s: Vec<Vec<u64>> = vec![(0..10).collect(); 3];
        let p = CanonicalPolicy::MostComplete;
        assert_eq!(choose(&p, &[0, 1], &d, &s, &exact(&s)).member, 1);
        assert_eq!(choose(&p, &[0, 2], &d, &s, &exact(&s)).member, 1);
        assert_eq!(choose(&p, &[1, 2], &d, &s, &exact(&s)).member, 0);
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
