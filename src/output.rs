//! What a batch run returns: duplicate groups, stories, one assignment per
//! document, the accepted edges and the run's counts.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::lsh::LshParams;
use crate::verify::EdgeKind;

/// A document's id as the output names it. Shared: a run allocates each
/// document's id once, however many groups, stories and threads name it.
/// It derefs to `&str`, compares with strings and serializes as one.
///
/// ```
/// let id = wirecluster::Id::from("reuters-1");
/// assert_eq!(id, "reuters-1");
/// assert!(id.starts_with("reuters"));
/// assert_eq!(id.as_str(), "reuters-1");
/// assert_eq!(serde_json::to_string(&id).unwrap(), r#""reuters-1""#);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(Arc<str>);

impl Id {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Id {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Id(s.into())
    }
}

impl From<String> for Id {
    fn from(s: String) -> Self {
        Id(s.into())
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.0.to_string()
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Id {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Id> for str {
    fn eq(&self, other: &Id) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Id> for &str {
    fn eq(&self, other: &Id) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Id> for String {
    fn eq(&self, other: &Id) -> bool {
        **self == *other.0
    }
}

/// A verified duplicate edge with its exact scores: of the shingle sets, or,
/// for [`EdgeKind::UpdatedFigures`], of the shingles with figures masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Index of the first document (input order), `a < b`.
    pub a: usize,
    /// Index of the second document.
    pub b: usize,
    /// Shared shingles.
    pub shared: usize,
    /// Exact Jaccard of the shingle sets.
    pub jaccard: f64,
    /// How much of `a` is in `b`.
    pub containment_a_in_b: f64,
    /// How much of `b` is in `a`.
    pub containment_b_in_a: f64,
    /// Publication time difference in seconds, when both are dated.
    pub time_gap_secs: Option<i64>,
    /// The relation.
    pub kind: EdgeKind,
}

/// One member of a duplicate group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Document id.
    pub id: Id,
    /// Index in the input.
    pub index: usize,
    /// Exact Jaccard with the canonical member (1 for the canonical).
    pub jaccard_to_canonical: f64,
    /// How much of this member is contained in the canonical member.
    pub containment_in_canonical: f64,
}

/// A group of reprints and rewrites of one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    /// The group's id: its canonical member's id.
    pub id: Id,
    /// Why the canonical member was chosen.
    pub canonical_reason: Arc<str>,
    /// Members, the canonical first, then in input order.
    pub members: Vec<Member>,
}

/// Where one input document ended up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Document id.
    pub id: Id,
    /// Id of the duplicate group (its canonical member's id).
    pub duplicate_group: Id,
    /// Whether this document is its group's canonical representative.
    pub canonical: bool,
    /// Number of members in the group.
    pub group_size: usize,
    /// Exact Jaccard with the canonical member.
    pub jaccard_to_canonical: f64,
    /// How much of this document is contained in the canonical member.
    pub containment_in_canonical: f64,
    /// Id of the story (its canonical member's id); the duplicate group's id
    /// when the story level is off.
    pub story: Id,
    /// Whether this document is its story's canonical representative.
    pub story_canonical: bool,
    /// Cosine of this document's story vector with the story canonical's.
    pub story_similarity: f64,
    /// Id of the thread (its canonical member's id); the story's id when
    /// the thread level is off.
    #[serde(default)]
    pub thread: Id,
    /// Whether this document is its thread's canonical representative.
    #[serde(default)]
    pub thread_canonical: bool,
}

/// One member of a story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryMember {
    /// Document id.
    pub id: Id,
    /// Index in the input.
    pub index: usize,
    /// The member's duplicate group.
    pub duplicate_group: Id,
    /// Cosine of its story vector with the canonical's (1 for the canonical).
    pub similarity_to_canonical: f64,
    /// Headline similarity with the canonical, when both have one.
    pub title_similarity: Option<f64>,
    /// Publication gap to the canonical in seconds, when both are dated.
    pub time_gap_secs: Option<i64>,
    /// Names and numbers it shares with the canonical.
    pub shared_entities: usize,
}

/// All articles about one news event: one or more duplicate groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// The story's id: its canonical member's id.
    pub id: Id,
    /// Why the canonical member was chosen.
    pub canonical_reason: Arc<str>,
    /// Ids of its duplicate groups, the canonical's first.
    pub groups: Vec<Id>,
    /// Members, the canonical first, then in input order.
    pub members: Vec<StoryMember>,
}

/// One member of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadMember {
    /// Document id.
    pub id: Id,
    /// Index in the input.
    pub index: usize,
    /// The member's story.
    pub story: Id,
    /// Cosine of its expanded thread vector with the canonical's (1 for the
    /// canonical).
    pub similarity_to_canonical: f64,
}

/// All stories of one running news thread, as an aggregator groups them:
/// one or more stories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The thread's id: its canonical member's id.
    pub id: Id,
    /// Why the canonical member was chosen.
    pub canonical_reason: Arc<str>,
    /// Ids of its stories, the canonical's first.
    pub stories: Vec<Id>,
    /// Members, the canonical first, then in input order.
    pub members: Vec<ThreadMember>,
}

/// Counts and timings of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Documents clustered.
    pub documents: usize,
    /// Bytes of text (`text` fields).
    pub text_bytes: usize,
    /// Threads in the rayon pool.
    pub threads: usize,
    /// Sentences learned as boilerplate from this corpus.
    pub learned_boilerplate_sentences: usize,
    /// Lines and sentences removed as boilerplate (rules and learned).
    pub removed_lines: usize,
    /// Documents that each text repair step changed, by step name
    /// (`mojibake`, `markup`, `hyphenation`, `invisible`, `spaces`; see
    /// [`RepairConfig`](crate::RepairConfig)); steps that changed nothing
    /// are left out.
    #[serde(default)]
    pub repaired_documents: std::collections::BTreeMap<String, usize>,
    /// Documents with no content left after normalization (they stay
    /// singletons).
    pub empty_documents: usize,
    /// LSH banding used.
    pub lsh: Option<LshParams>,
    /// Candidate pairs from LSH bands.
    pub lsh_candidates: usize,
    /// Candidate pairs from the band keys of masked shingles (see
    /// [`Config::figures_jaccard`](crate::Config::figures_jaccard)).
    pub figure_candidates: usize,
    /// Candidate pairs from the containment index.
    pub containment_candidates: usize,
    /// Fingerprints skipped as too common.
    pub common_fingerprints: usize,
    /// Distinct candidate pairs verified exactly.
    pub verified_pairs: usize,
    /// Verified pairs accepted as duplicate edges.
    pub duplicate_edges: usize,
    /// Multi-story pages found by the anti-chaining guard.
    pub aggregator_pages: usize,
    /// Duplicate groups (singletons included).
    pub groups: usize,
    /// Candidate group pairs scored at the story level.
    pub story_candidates: usize,
    /// Stories (single-group stories included).
    pub stories: usize,
    /// Links between documents' nearest neighbours at the thread level.
    #[serde(default)]
    pub thread_links: usize,
    /// News threads (single-story threads included); 0 with the thread
    /// level off.
    #[serde(default)]
    pub news_threads: usize,
    /// Seconds per stage, in pipeline order.
    pub stage_secs: Vec<(String, f64)>,
    /// Total seconds.
    pub total_secs: f64,
}

/// The result of clustering a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Threads, ordered by their first member in input order. Each names
    /// its stories. Empty when the thread level is off (each story is then
    /// its own thread: see [`Assignment::thread`]).
    #[serde(default)]
    pub threads: Vec<Thread>,
    /// Stories, ordered by their first member in input order. Each names its
    /// duplicate groups.
    pub stories: Vec<Story>,
    /// Duplicate groups, ordered by their first member in input order.
    pub groups: Vec<DuplicateGroup>,
    /// One assignment per input document, in input order.
    pub assignments: Vec<Assignment>,
    /// Accepted duplicate edges (and cut aggregator links), sorted by `(a, b)`.
    pub edges: Vec<Edge>,
    /// Counts and timings.
    pub stats: Stats,
}
