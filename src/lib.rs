//! wirecluster finds reprints and rewrites of the same news copy, groups
//! them into duplicate groups, and groups those into story clusters (every
//! article about one news event), each with a canonical representative.
//!
//! One wire dispatch is republished verbatim, truncated, re-headlined,
//! wrapped in outlet boilerplate or lightly rewritten. wirecluster normalizes
//! the text, strips boilerplate, shingles it with a stable hash, finds
//! candidate pairs with MinHash LSH and a containment index (never all
//! pairs), verifies every candidate exactly, groups the verified edges
//! without letting multi-story pages chain stories together, and picks a
//! canonical member per group by a declared policy. Duplicate groups then
//! move as units into stories: IDF-weighted term vectors with names and
//! numbers boosted, candidates from an inverted index of top terms, a
//! shared-nearest-neighbour score and average linkage.
//!
//! # Example
//!
//! ```
//! use wirecluster::{Clusterer, Config, Document};
//!
//! let dispatch = "Russia and the United States will work in the next few days on a deal \
//!     to curb fighting in Syria, the two presidents said after talks on Monday.\n\
//!     A string of bombings killed dozens of people across the country.";
//! let docs = vec![
//!     Document::new("dispatch", dispatch),
//!     Document::new("reprint", format!("By Staff Reporter\n{dispatch}\nRead more: other news")),
//!     Document::new("excerpt", "Russia and the US will work in the next few days on a deal to curb fighting in Syria [...]"),
//!     Document::new("other", "Heavy rain flooded streets in the capital on Tuesday and closed the airport for hours."),
//! ];
//! let clustering = Clusterer::new(Config::default())?.cluster(&docs)?;
//! let group_of = |i: usize| clustering.assignments[i].duplicate_group.as_str();
//! assert_eq!([group_of(0), group_of(1), group_of(2)], ["dispatch"; 3]);
//! assert_eq!(group_of(3), "other");
//! # Ok::<(), wirecluster::Error>(())
//! ```
//!
//! # Overview
//!
//! | stage | items |
//! |---|---|
//! | documents and input | [`Document`], [`Timestamp`], [`read_input`], [`read_jsonl_from`], [`RecordReader`], [`InputFormat`], [`read_jsonl`], [`parse_jsonl`], [`parse_record`], [`ReadOptions`] |
//! | repair and normalization | [`repair_text`], [`RepairConfig`], [`Normalizer`], [`NormalizeConfig`], [`BoilerplateConfig`], [`BoilerplateRule`], [`normalize_text`] |
//! | shingling (stable hash) | [`ShingleUnit`], [`token_hash`], [`word_shingles`], [`char_shingles`] |
//! | signatures | [`MinHasher`], [`SignatureAlgorithm`] |
//! | candidates | [`LshParams`], [`winnow`] |
//! | verification | [`Overlap`], [`intersection_size`], [`title_similarity`] |
//! | grouping and canonical | [`Clusterer`], [`Clustering`], [`DuplicateGroup`], [`Edge`], [`Id`], [`CanonicalPolicy`] |
//! | stories | [`Story`], [`StoryMember`], [`StoryConfig`], [`IdfModel`], [`PairSignals`] |
//! | explanations | [`Clusterer::explain`], [`PairExplanation`] |
//! | live feeds | [`FeedIndex`], [`FeedConfig`], [`FeedAssignment`], [`FeedQuery`], [`DocStatus`] |
//! | evaluation and reports | [`score`], [`Scores`], [`html_report`] |
//! | configuration and errors | [`Config`], [`ConfigBuilder`], [`Error`] |
//! | files written whole or not at all | [`AtomicFile`] |
//!
//! # Crate features
//!
//! * `cli` (default): the `wirecluster` command line program and what only
//!   it needs (clap, indicatif, signal-hook, and `toml`). A library user can
//!   leave it out with `default-features = false`.
//! * `toml` (on with `cli`): TOML config files in [`Config::from_path`]
//!   (JSON needs no feature).

#![deny(missing_docs)]

mod atomic;
mod canonical;
mod cluster;
mod config;
pub mod distributed;
mod document;
mod error;
mod eval;
mod explain;
mod features;
mod feed;
mod headline;
mod index;
mod input;
mod lsh;
mod minhash;
mod normalize;
mod output;
mod pipeline;
mod repair;
mod report;
mod shingle;
mod signals;
mod similarity;
mod sparse;
#[doc(hidden)]
pub mod stages;
mod story;
mod thread;
mod verify;
mod winnow;

pub use atomic::AtomicFile;
pub use canonical::CanonicalPolicy;
pub use config::{Config, ConfigBuilder};
pub use document::{
    Document, ReadOptions, ReadOutcome, SkippedLine, Timestamp, parse_jsonl, parse_jsonl_line,
    parse_record, read_jsonl,
};
pub use error::{Error, RecordError, Result};
pub use eval::{Prf, Scores, score};
pub use explain::{DuplicateEvidence, PairExplanation, StoryEvidence, ThreadEvidence};
pub use feed::{
    DocStatus, DuplicateMatch, EvictedStory, FEED_INDEX_VERSION, FeedAssignment, FeedConfig,
    FeedIndex, FeedQuery, FeedStats, StoryMatch,
};
pub use headline::title_similarity;
pub use input::{InputFormat, RecordReader, read_input, read_jsonl_from};
pub use lsh::{LshParams, collision_probability, expected_errors};
pub use minhash::{MinHasher, SignatureAlgorithm};
pub use normalize::{
    BoilerplateConfig, BoilerplateRule, NormalizeConfig, Normalizer, RemovedLine, for_each_token,
    normalize_text,
};
pub use output::{
    Assignment, Clustering, DuplicateGroup, Edge, Id, Member, Stats, Story, StoryMember, Thread,
    ThreadMember,
};
pub use pipeline::Clusterer;
pub use repair::{RepairConfig, repair_text};
pub use report::html_report;
pub use shingle::{ShingleUnit, char_shingles, fmix64, token_hash, word_shingles};
pub use signals::{IDF_MODEL_VERSION, IdfModel};
pub use similarity::{Overlap, intersection_size};
pub use story::{PairSignals, StoryConfig};
pub use thread::{ThreadConfig, url_words};
pub use verify::EdgeKind;
pub use winnow::winnow;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
