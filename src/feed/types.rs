//! The live index's settings and what it reports: where an article went,
//! what changed, the state of a live article, counts.

use serde::{Deserialize, Serialize};

use crate::document::Timestamp;
use crate::error::{Error, Result};
use crate::story::PairSignals;
use crate::verify::EdgeKind;

/// Settings of the live index, on top of the batch [`Config`](crate::Config).
///
/// ```
/// use wirecluster::FeedConfig;
/// let mut c = FeedConfig::default();
/// c.window_days = 3.0;
/// assert!(c.validate().is_ok());
/// c.window_days = -1.0;
/// assert!(c.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FeedConfig {
    /// Days after which a story with no newer dated article is evicted,
    /// measured from the latest `published` seen. Default: 7.
    pub window_days: f64,
    /// Arrivals after which a story with no dated article and no newer
    /// arrival is evicted. Default: 100,000, which bounds the memory of an
    /// undated feed (measured at about 12 KB per live article, 17 KB while
    /// saving: about 1.2-1.7 GB at the default).
    pub window_arrivals: u64,
    /// An article that starts a duplicate group joins the best story whose
    /// mean pair score is at least this. Default: 0.14 (the best of 0.11 to
    /// 0.17 on the ECB+ train and dev splits, with `wirecluster eval --feed`).
    pub story_threshold: f64,
    /// Re-link the stories of the live groups with the batch story stage
    /// ([`FeedIndex::consolidate`](crate::FeedIndex::consolidate)) once this many articles have arrived
    /// since the last time, and at least as many as there are live groups
    /// (so the cost per article stays constant). 0 never does. Default: 1000.
    pub consolidate_every: u64,
    /// With the thread level on ([`Config::thread`](crate::Config::thread)):
    /// make the threads again with the batch thread stage, between
    /// re-linkings, once the stories started since they were last made
    /// reach this fraction of the live stories (a growing feed pays about
    /// five thread stages over its final size at the default; a full
    /// window one per fifth of a turnover of its stories). 0 only at
    /// re-linkings. Default: 0.2, the best of 0.1 to 0.5 on the dev half of
    /// the aggregator sample in file order (threads as placed: BCubed F1
    /// 0.83 on dev, 0.85 held out; 0.72 with 0 under the earlier 30 links;
    /// BENCHMARKS.md).
    pub thread_relink: f64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            window_days: 7.0,
            window_arrivals: 100_000,
            story_threshold: 0.14,
            consolidate_every: 1000,
            thread_relink: 0.2,
        }
    }
}

impl FeedConfig {
    /// Checks every value; the error names the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.window_days.is_finite() && self.window_days > 0.0) {
            return Err(Error::Config {
                field: "feed.window_days",
                value: self.window_days.to_string(),
                reason: "must be a positive number of days",
            });
        }
        if self.window_arrivals == 0 {
            return Err(Error::Config {
                field: "feed.window_arrivals",
                value: "0".to_string(),
                reason: "must be at least 1",
            });
        }
        if !(0.0..=1.0).contains(&self.story_threshold) {
            return Err(Error::Config {
                field: "feed.story_threshold",
                value: self.story_threshold.to_string(),
                reason: "must be between 0 and 1",
            });
        }
        if !(0.0..=1.0).contains(&self.thread_relink) {
            return Err(Error::Config {
                field: "feed.thread_relink",
                value: self.thread_relink.to_string(),
                reason: "must be between 0 and 1",
            });
        }
        Ok(())
    }

    pub(super) fn window_secs(&self) -> i64 {
        (self.window_days * 86_400.0).round() as i64
    }
}

/// The group member an article was matched to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateMatch {
    /// The matched member's id.
    pub id: String,
    /// Exact Jaccard of the two shingle sets.
    pub jaccard: f64,
    /// Containment of the smaller set in the larger.
    pub containment: f64,
    /// The relation.
    pub kind: EdgeKind,
}

/// The story an article that started a duplicate group was matched to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryMatch {
    /// Mean pair score with the story's duplicate groups (the linkage that
    /// was compared with [`FeedConfig::story_threshold`]).
    pub score: f64,
    /// Canonical id of the story's best-scoring group.
    pub best_group: String,
    /// The signals of that best pair.
    pub signals: PairSignals,
}

/// A story evicted by the time window, with every article it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvictedStory {
    /// The story's canonical id.
    pub story: String,
    /// Ids of its articles, in arrival order.
    pub members: Vec<String>,
    /// Its duplicate groups: `(canonical id, member ids in arrival order)`.
    pub groups: Vec<(String, Vec<String>)>,
    /// Its newest publication time, when any member was dated.
    pub newest: Option<Timestamp>,
}

/// Where an inserted article went, and what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedAssignment {
    /// The article's id.
    pub id: String,
    /// Its arrival number (0 for the first article an index ever took).
    pub seq: u64,
    /// Its duplicate group: the canonical member's id after this insert.
    pub duplicate_group: String,
    /// Whether the article started a new group.
    pub new_group: bool,
    /// Whether the article is now its group's canonical member.
    pub canonical: bool,
    /// Members of the group after this insert.
    pub group_size: usize,
    /// The member whose verified edge placed it, when it joined a group.
    pub duplicate_of: Option<DuplicateMatch>,
    /// The group's previous canonical id, when this insert changed it.
    pub group_canonical_changed: Option<String>,
    /// Its story: the story canonical's id after this insert.
    pub story: String,
    /// Whether the article started a new story.
    pub new_story: bool,
    /// Whether the article is now its story's canonical member.
    pub story_canonical: bool,
    /// Articles in the story after this insert.
    pub story_size: usize,
    /// The match that put a new group into an existing story.
    pub story_match: Option<StoryMatch>,
    /// The story's previous canonical id, when this insert changed it.
    pub story_canonical_changed: Option<String>,
    /// Its thread: the thread canonical's id after this insert (its story
    /// with the thread level off). A story started since the last
    /// re-linking is a thread of its own until the next.
    #[serde(default)]
    pub thread: String,
    /// Whether the article is now its thread's canonical member.
    #[serde(default)]
    pub thread_canonical: bool,
    /// Articles moved into this article's group: one had been placed by a
    /// weak containment edge and is far better contained in this article
    /// (the feed's form of the batch rule that sets such edges aside); the
    /// others had joined through it.
    pub moved: Vec<String>,
    /// Articles split off into a group of their own: they had joined
    /// through a member only weakly contained in them, which this article
    /// contains far better.
    pub split_off: Vec<String>,
    /// Stories evicted by the time window before this article was placed.
    pub evicted: Vec<EvictedStory>,
    /// Whether the stories were re-linked after this article was placed
    /// (see [`FeedIndex::consolidate`](crate::FeedIndex::consolidate)): stories of earlier articles may have
    /// changed; [`FeedIndex::get`](crate::FeedIndex::get) gives the current ones.
    pub consolidated: bool,
    /// Whether the threads alone were made again after this article was
    /// placed ([`FeedConfig::thread_relink`]): threads of earlier articles
    /// may have changed.
    #[serde(default)]
    pub threads_relinked: bool,
}

/// Where an article would go, without inserting it ([`FeedIndex::query`](crate::FeedIndex::query)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedQuery {
    /// The group it would join (current canonical id), or `None` for a new
    /// group.
    pub duplicate_group: Option<String>,
    /// The member whose edge would place it.
    pub duplicate_of: Option<DuplicateMatch>,
    /// The story it would join (current canonical id), or `None` for a new
    /// story.
    pub story: Option<String>,
    /// The match that would put its new group into that story.
    pub story_match: Option<StoryMatch>,
}

/// The current state of one live article ([`FeedIndex::get`](crate::FeedIndex::get)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocStatus {
    /// The article's id.
    pub id: String,
    /// Its arrival number.
    pub seq: u64,
    /// Its group's current canonical id.
    pub duplicate_group: String,
    /// Whether it is its group's canonical member.
    pub canonical: bool,
    /// Members of its group.
    pub group_size: usize,
    /// Its story's current canonical id.
    pub story: String,
    /// Whether it is its story's canonical member.
    pub story_canonical: bool,
    /// Articles in its story.
    pub story_size: usize,
    /// Its thread's current canonical id (its story with the thread level
    /// off).
    pub thread: String,
    /// Whether it is its thread's canonical member.
    pub thread_canonical: bool,
}

/// Counts kept by the index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStats {
    /// Articles inserted over the index's life.
    pub inserted: u64,
    /// Articles removed by [`FeedIndex::remove`](crate::FeedIndex::remove).
    pub removed: u64,
    /// Times the stories were re-linked ([`FeedIndex::consolidate`](crate::FeedIndex::consolidate)).
    pub consolidations: u64,
    /// Articles placed since the last re-linking.
    pub since_consolidation: u64,
    /// Stories evicted by the time window.
    pub evicted_stories: u64,
    /// Articles evicted with them.
    pub evicted_documents: u64,
    /// Live articles.
    pub documents: usize,
    /// Live duplicate groups.
    pub groups: usize,
    /// Live stories.
    pub stories: usize,
}
