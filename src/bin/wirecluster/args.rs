//! The command line's arguments (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Find reprints and rewrites of the same news copy, group them into
/// duplicate groups and stories, and pick a canonical article for each.
///
/// Inputs: JSONL (`.jsonl`, or gzip-compressed `.gz`), CSV with named columns
/// (`.csv`), or a directory of `.txt` files (first line = title).
///
/// Exit codes: 0 success; 1 bad input, failed I/O or a missed quality floor;
/// 2 wrong usage.
#[derive(Parser)]
#[command(version, about, long_about)]
pub(crate) struct Cli {
    /// No progress display and no closing summary on stderr.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    pub(crate) threads: Option<usize>,
    /// Skip bad input lines (each is reported on stderr and counted) instead
    /// of failing on the first.
    #[arg(long, global = true)]
    pub(crate) skip_invalid: bool,
    /// A TOML (`.toml`) or JSON file with a `Config`; fields not given keep
    /// their defaults, and the flags below override the file.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) config: Option<PathBuf>,
    /// Duplicate edges: Jaccard threshold (default 0.5).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) jaccard_threshold: Option<f64>,
    /// Duplicate edges: containment threshold (default 0.4).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) containment_threshold: Option<f64>,
    /// Stories: average-linkage threshold (default 0.12).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) story_threshold: Option<f64>,
    /// Live index (`stream`, `eval --feed`): a new group joins the best
    /// story whose mean pair score is at least this (default 0.14).
    #[arg(
        long,
        global = true,
        help_heading = "Live index settings (stream, eval --feed)"
    )]
    pub(crate) feed_story_threshold: Option<f64>,
    /// Live index: re-link stories with the batch story stage every this
    /// many articles (and at least as many as there are live groups); 0
    /// never (default 1000).
    #[arg(
        long,
        global = true,
        help_heading = "Live index settings (stream, eval --feed)"
    )]
    pub(crate) consolidate_every: Option<u64>,
    /// Duplicate groups only: each group is its own story.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) no_stories: bool,
    /// Build news threads above stories (the `thread` field: every angle of
    /// a running story, as an aggregator groups them); off by default, when
    /// each story is its own thread.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) thread_level: bool,
    /// Canonical policy for duplicate groups: most-complete (the default),
    /// earliest, longest, or source-priority:NAME,NAME,… (the member whose
    /// `source` contains the first name listed).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) canonical: Option<wirecluster::CanonicalPolicy>,
    /// Document frequencies saved by `--save-idf`, added to the input's own.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    pub(crate) idf: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Output formats of `cluster`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Assignments,
    Clusters,
    Csv,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Cluster articles and write where each one went.
    ///
    /// Examples:
    ///   wirecluster cluster articles.jsonl -o assignments.jsonl
    ///   wirecluster cluster articles.csv --format clusters -o stories.jsonl
    ///   wirecluster cluster data/news-sample.jsonl --summary
    #[command(verbatim_doc_comment)]
    Cluster {
        /// Input: JSONL (`.jsonl`; `.gz` gzip-compressed), CSV with named
        /// columns (`.csv`), a directory of `.txt` files, or `-` for JSONL on
        /// standard input.
        input: PathBuf,
        /// Output file, or `-` for standard output (the default).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// What to write: `assignments` (JSONL, one line per article),
        /// `clusters` (JSONL, one line per story with its duplicate groups and
        /// members) or `csv` (one row per article).
        #[arg(long, value_enum, default_value_t = Format::Assignments)]
        format: Format,
        /// Print a readable summary of the groups instead of JSONL.
        #[arg(long)]
        summary: bool,
        /// Also write the verified duplicate edges with their scores (JSONL,
        /// ids instead of indices).
        #[arg(long)]
        edges: Option<PathBuf>,
        /// Also save the document frequencies counted (for `--idf` later).
        #[arg(long)]
        save_idf: Option<PathBuf>,
    },
    /// Explain why two documents are, or are not, in one duplicate group and
    /// one story.
    ///
    /// Example: wirecluster explain data/syria-2016.jsonl syr-000 syr-003
    #[command(verbatim_doc_comment)]
    Explain {
        /// Input: JSONL (`.jsonl`; `.gz` gzip-compressed), CSV with named
        /// columns (`.csv`), a directory of `.txt` files, or `-` for JSONL on
        /// standard input.
        input: PathBuf,
        /// First document id.
        a: String,
        /// Second document id.
        b: String,
        /// Print the explanation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a self-contained HTML report: stories by size with their
    /// duplicate groups folded, and, when every record has a `cluster` label,
    /// the scores and the confusion between predicted and true clusters.
    ///
    /// Example: wirecluster report data/news-sample.jsonl -o report.html
    #[command(verbatim_doc_comment)]
    Report {
        /// Input: JSONL (`.jsonl`; `.gz` gzip-compressed), CSV with named
        /// columns (`.csv`), a directory of `.txt` files, or `-` for JSONL on
        /// standard input.
        input: PathBuf,
        /// The HTML file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Stories shown in full (the rest are counted).
        #[arg(long, default_value_t = 300)]
        max_stories: usize,
    },
    /// Place articles one by one in a live index and write one assignment
    /// line per article as it goes (JSONL in, JSONL out).
    ///
    /// Articles are placed in input order. With `--index FILE`, an index
    /// saved there is loaded first (its stored config is used, and the
    /// checkpoints logged in FILE.log are replayed), and the index is saved
    /// there at the end. Every `--checkpoint` articles, the articles placed
    /// since are appended to FILE.log. Saves write a temporary file and
    /// rename it, so an interrupted save keeps the previous one. One process at a time writes an index (a
    /// second is refused). SIGTERM and SIGINT end the run as the end of the
    /// input does: what was read is placed, written and saved; exit 0.
    ///
    /// Examples:
    ///   tail -f feed.jsonl | wirecluster stream --index live.wcf
    ///   wirecluster stream data/news-sample.jsonl --window-days 3 -o assignments.jsonl
    #[command(verbatim_doc_comment)]
    Stream {
        /// JSONL input (`.gz`: gzip-compressed); standard input when absent
        /// or `-`.
        input: Option<PathBuf>,
        /// Output file, or `-` for standard output (the default).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Index file to resume from (if it exists) and to save to.
        #[arg(long)]
        index: Option<PathBuf>,
        /// Also checkpoint the index every this many articles: the articles
        /// placed since are appended to INDEX.log (needs `--index`).
        #[arg(long, requires = "index")]
        checkpoint: Option<u64>,
        /// Stories with no article newer than this many days (by
        /// `published`, against the newest date seen) are evicted (default 7).
        #[arg(long)]
        window_days: Option<f64>,
        /// Undated stories with no arrival among this many later articles are
        /// evicted (default 100,000).
        #[arg(long)]
        window_arrivals: Option<u64>,
        /// Articles read before they are placed (features are computed in
        /// parallel; the result is the same). Default: 1 on standard input,
        /// 512 from a file.
        #[arg(long)]
        batch: Option<usize>,
    },
    /// Cluster a labelled input and score both levels against its labels
    /// (pairwise P/R/F1, BCubed P/R/F1, ARI), each level against its own
    /// label field.
    ///
    /// Example: wirecluster eval corpus.jsonl --min-pairwise-f1 0.95
    #[command(verbatim_doc_comment)]
    Eval {
        /// Input with a label on every record (the `cluster` field, or those
        /// named by `--group-field`, `--story-field` and `--thread-field`).
        input: PathBuf,
        /// The field holding the true duplicate group of each record.
        #[arg(long, default_value = "cluster")]
        group_field: String,
        /// The field holding the true story of each record (default: the
        /// group field; `--story-field event` for the bundled sample).
        #[arg(long)]
        story_field: Option<String>,
        /// The field holding the true thread of each record (default: the
        /// story field).
        #[arg(long)]
        thread_field: Option<String>,
        /// Exit with status 1 if pairwise F1 is below this.
        #[arg(long)]
        min_pairwise_f1: Option<f64>,
        /// Exit with status 1 if the adjusted Rand index is below this.
        #[arg(long)]
        min_ari: Option<f64>,
        /// Exit with status 1 if the story level's BCubed F1 is below this.
        #[arg(long)]
        min_story_bcubed_f1: Option<f64>,
        /// Exit with status 1 if the thread level's BCubed F1 is below this.
        #[arg(long)]
        min_thread_bcubed_f1: Option<f64>,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Also place the articles one by one in a live index (in order of
        /// `published`, undated in input order; no eviction) and score that
        /// against the same labels, next to the batch result.
        #[arg(long)]
        feed: bool,
    },
}
