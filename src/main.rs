//! The `wirecluster` command line.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wirecluster::{Clusterer, Clustering, Config, Document, ReadOptions, read_input, score};

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
struct Cli {
    /// No progress display and no closing summary on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Skip bad input lines (each is reported on stderr and counted) instead
    /// of failing on the first.
    #[arg(long, global = true)]
    skip_invalid: bool,
    /// A TOML (`.toml`) or JSON file with a `Config`; fields not given keep
    /// their defaults, and the flags below override the file.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    config: Option<PathBuf>,
    /// Duplicate edges: Jaccard threshold (default 0.5).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    jaccard_threshold: Option<f64>,
    /// Duplicate edges: containment threshold (default 0.4).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    containment_threshold: Option<f64>,
    /// Stories: average-linkage threshold (default 0.12).
    #[arg(long, global = true, help_heading = "Clustering settings")]
    story_threshold: Option<f64>,
    /// Live index (`stream`, `eval --feed`): a new group joins the best
    /// story whose mean pair score is at least this (default 0.14).
    #[arg(
        long,
        global = true,
        help_heading = "Live index settings (stream, eval --feed)"
    )]
    feed_story_threshold: Option<f64>,
    /// Live index: re-link stories with the batch story stage every this
    /// many articles (and at least as many as there are live groups); 0
    /// never (default 1000).
    #[arg(
        long,
        global = true,
        help_heading = "Live index settings (stream, eval --feed)"
    )]
    consolidate_every: Option<u64>,
    /// Duplicate groups only: each group is its own story.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    no_stories: bool,
    /// Canonical policy for duplicate groups.
    #[arg(long, global = true, value_enum, help_heading = "Clustering settings")]
    canonical: Option<Policy>,
    /// Document frequencies saved by `--save-idf`, added to the input's own.
    #[arg(long, global = true, help_heading = "Clustering settings")]
    idf: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Canonical policies selectable on the command line.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Policy {
    MostComplete,
    Earliest,
    Longest,
}

/// Output formats of `cluster`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Assignments,
    Clusters,
    Csv,
}

#[derive(Subcommand)]
enum Command {
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
        /// Output file (default: standard output).
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
    /// saved there is loaded first (its stored config is used), and the
    /// index is saved there at the end, and every `--checkpoint` articles.
    /// Saves write a temporary file and rename it, so an interrupted save
    /// keeps the previous one. One process at a time writes an index (a
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
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Index file to resume from (if it exists) and to save to.
        #[arg(long)]
        index: Option<PathBuf>,
        /// Also save the index every this many articles (needs `--index`).
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
    /// Cluster a labelled input and score both levels against its `cluster`
    /// labels (pairwise P/R/F1, BCubed P/R/F1, ARI).
    ///
    /// Example: wirecluster eval corpus.jsonl --min-pairwise-f1 0.95
    #[command(verbatim_doc_comment)]
    Eval {
        /// Input with a `cluster` label on every record.
        input: PathBuf,
        /// Exit with status 1 if pairwise F1 is below this.
        #[arg(long)]
        min_pairwise_f1: Option<f64>,
        /// Exit with status 1 if the adjusted Rand index is below this.
        #[arg(long)]
        min_ari: Option<f64>,
        /// Exit with status 1 if the story level's BCubed F1 is below this.
        #[arg(long)]
        min_story_bcubed_f1: Option<f64>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A reader that stops early (`| head`) is not an error.
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirecluster: {e}");
            ExitCode::from(1)
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

/// The most worker threads `--threads` accepts.
const MAX_THREADS: usize = 1024;

/// Whether an error, or any error it wraps, is a write to a closed pipe
/// (`| head`): not a failure.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        if let Some(j) = err.downcast_ref::<serde_json::Error>()
            && j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        if let Some(c) = err.downcast_ref::<csv::Error>()
            && let csv::ErrorKind::Io(io) = c.kind()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// An output file written whole or not at all: the text goes to a
/// temporary file beside it (its folder created if missing), which
/// replaces the output only when everything was written and synced. A
/// failed run leaves the previous output as it was; every error names the
/// output's path. A symbolic link is followed. An output that exists and is
/// not a regular file (`/dev/null`, a pipe, a terminal) is written directly:
/// renaming over it would replace the device with a file.
struct AtomicOutput {
    path: PathBuf,
    /// The temporary file, when the output is replaced by renaming.
    tmp: Option<PathBuf>,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicOutput {
    fn create(path: &std::path::Path) -> Result<Self, BoxError> {
        let named = |e: std::io::Error| format!("{}: {e}", path.display());
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
        {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(named)?;
            return Ok(AtomicOutput {
                path: path.to_path_buf(),
                tmp: None,
                file: Some(std::io::BufWriter::new(file)),
            });
        }
        // Replace the file a link names, not the link.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(named)?;
        }
        let name = target
            .file_name()
            .ok_or_else(|| format!("{}: not a file name", path.display()))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        let file = std::fs::File::create(&tmp).map_err(named)?;
        Ok(AtomicOutput {
            path: target,
            tmp: Some(tmp),
            file: Some(std::io::BufWriter::new(file)),
        })
    }

    /// Flushes, syncs and renames the temporary file over the output.
    fn commit(mut self) -> Result<(), BoxError> {
        let named = |e: std::io::Error| format!("{}: {e}", self.path.display());
        let file = self.file.take().expect("committed once");
        let file = file.into_inner().map_err(|e| named(e.into_error()))?;
        if let Some(tmp) = &self.tmp {
            file.sync_all().map_err(named)?;
            std::fs::rename(tmp, &self.path).map_err(named)?;
        }
        Ok(())
    }
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let path = &self.path;
        self.file
            .as_mut()
            .expect("not committed")
            .write(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let path = &self.path;
        self.file
            .as_mut()
            .expect("not committed")
            .flush()
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if self.file.take().is_some()
            && let Some(tmp) = &self.tmp
        {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Takes the exclusive lock of a live index (`INDEX.lock` beside it), or
/// says which process holds it.
fn lock_index(index: &std::path::Path) -> Result<std::fs::File, BoxError> {
    let mut name = index.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{}: the index is in use by another process (it holds {}); one writer per index",
            index.display(),
            path.display()
        )
        .into()),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("{}: {e}", path.display()).into()),
    }
}

/// Refuses an output that is also the input: writing it would destroy the
/// input before it is read.
fn check_not_input(input: &std::path::Path, output: &std::path::Path) -> Result<(), BoxError> {
    if input.as_os_str() == "-" {
        return Ok(());
    }
    let same = match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(format!(
            "{}: the output is the input file; write it elsewhere",
            output.display()
        )
        .into());
    }
    Ok(())
}

/// A cell for CSV output: text that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading `'`, as OWASP advises against CSV injection.
fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// Text for a terminal: control characters (escape sequences, carriage
/// returns, …) from the input are shown escaped, never sent raw.
fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// Writes one line to standard output, returning (not panicking on) errors
/// such as a closed pipe.
fn stdout_line(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

/// A spinner on stderr while a step runs, shown only when stderr is a
/// terminal, `--quiet` is off, and the step takes over a second.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(cli: &Cli) -> Self {
        use std::io::IsTerminal;
        if cli.quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let shown = bar.clone();
        // Show it only after a second, so quick runs stay quiet.
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(std::time::Duration::from_millis(120));
            }
        });
        Progress(Some(bar))
    }

    fn step(&self, msg: &'static str) {
        if let Some(b) = &self.0 {
            b.set_message(msg);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// What was read, for the closing summary.
struct Loaded {
    docs: Vec<Document>,
    skipped: usize,
    skip_counts: String,
    secs: f64,
}

fn load(cli: &Cli, input: &PathBuf, progress: &Progress) -> Result<Loaded, BoxError> {
    progress.step("reading");
    let start = std::time::Instant::now();
    let opts = ReadOptions {
        skip_invalid: cli.skip_invalid,
    };
    let out = if input.as_os_str() == "-" {
        // Standard input: JSONL, gzip-compressed or not.
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: {e}"))?;
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .map_err(|e| format!("<stdin>: gzip: {e}"))?;
            bytes = plain;
        }
        wirecluster::parse_jsonl(&bytes, Some(std::path::Path::new("<stdin>")), &opts)?
    } else {
        read_input(input, &opts)?
    };
    // Every skipped record is reported, even with --quiet.
    for s in &out.skipped {
        let file = s.file.as_ref().unwrap_or(input);
        eprintln!("{}: line {}: skipped: {}", file.display(), s.line, s.reason);
    }
    let skip_counts = format_counts(&out.skip_counts());
    if !out.skipped.is_empty() {
        eprintln!(
            "{}: {} lines skipped ({skip_counts})",
            input.display(),
            out.skipped.len(),
        );
    }
    Ok(Loaded {
        skipped: out.skipped.len(),
        skip_counts,
        docs: out.documents,
        secs: start.elapsed().as_secs_f64(),
    })
}

fn clusterer(cli: &Cli) -> Result<Clusterer, BoxError> {
    let mut cfg = match &cli.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let is_toml = p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
            if is_toml {
                toml::from_str::<Config>(&text).map_err(|e| format!("{}: {e}", p.display()))?
            } else {
                serde_json::from_str::<Config>(&text)
                    .map_err(|e| format!("{}: {e}", p.display()))?
            }
        }
        None => Config::default(),
    };
    if let Some(v) = cli.jaccard_threshold {
        cfg.jaccard_threshold = v;
    }
    if let Some(v) = cli.containment_threshold {
        cfg.containment_threshold = v;
    }
    if let Some(v) = cli.story_threshold {
        cfg.story.threshold = v;
    }
    if cli.no_stories {
        cfg.story.enabled = false;
    }
    if let Some(p) = cli.canonical {
        cfg.canonical = match p {
            Policy::MostComplete => wirecluster::CanonicalPolicy::MostComplete,
            Policy::Earliest => wirecluster::CanonicalPolicy::Earliest,
            Policy::Longest => wirecluster::CanonicalPolicy::Longest,
        };
    }
    // `Clusterer::new` validates the result.
    let c = Clusterer::new(cfg)?;
    Ok(match &cli.idf {
        Some(p) => c.with_idf(wirecluster::IdfModel::load(p)?),
        None => c,
    })
}

fn run(cli: Cli) -> Result<ExitCode, BoxError> {
    if let Some(t) = cli.threads {
        if !(1..=MAX_THREADS).contains(&t) {
            return Err(format!("--threads {t}: must be from 1 to {MAX_THREADS}").into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| format!("--threads: {e}"))?;
    }
    match &cli.command {
        Command::Cluster {
            input,
            output,
            format,
            summary,
            edges,
            save_idf,
        } => {
            for out in [output, edges, save_idf].into_iter().flatten() {
                check_not_input(input, out)?;
            }
            let progress = Progress::new(&cli);
            let loaded = load(&cli, input, &progress)?;
            let docs = &loaded.docs;
            let clusterer = clusterer(&cli)?;
            progress.step("clustering");
            let c = match save_idf {
                Some(p) => {
                    let (c, idf) = clusterer.cluster_with_idf(docs)?;
                    idf.save(p)?;
                    c
                }
                None => clusterer.cluster(docs)?,
            };
            progress.step("writing");
            if *summary {
                print_summary(docs, &c)?;
            } else {
                write_output(&c, *format, output.as_ref())?;
            }
            if let Some(p) = edges {
                write_edges(docs, &c, p)?;
            }
            drop(progress);
            if !cli.quiet {
                print_closing(&loaded, &c);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            input,
            output,
            max_stories,
        } => {
            check_not_input(input, output)?;
            let progress = Progress::new(&cli);
            let loaded = load(&cli, input, &progress)?;
            progress.step("clustering");
            let c = clusterer(&cli)?.cluster(&loaded.docs)?;
            let html = wirecluster::html_report(&loaded.docs, &c, *max_stories);
            let mut file = AtomicOutput::create(output)?;
            file.write_all(html.as_bytes())?;
            file.commit()?;
            drop(progress);
            if !cli.quiet {
                print_closing(&loaded, &c);
                eprintln!("report written to {}", output.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { input, a, b, json } => {
            let progress = Progress::new(&cli);
            let docs = load(&cli, input, &progress)?.docs;
            progress.step("clustering");
            let e = clusterer(&cli)?.explain(&docs, a, b)?;
            drop(progress);
            if *json {
                stdout_line(&serde_json::to_string_pretty(&e)?)?;
            } else {
                stdout_line(&printable(&e.summary))?;
                stdout_line(&format!(
                    "top shared words: {}",
                    e.story.shared_terms.join(", ")
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stream {
            input,
            output,
            index,
            checkpoint,
            window_days,
            window_arrivals,
            batch,
        } => stream(
            &cli,
            input.as_ref(),
            output.as_ref(),
            index.as_ref(),
            *checkpoint,
            *window_days,
            *window_arrivals,
            *batch,
        ),
        Command::Eval {
            input,
            min_pairwise_f1,
            min_ari,
            min_story_bcubed_f1,
            json,
            feed,
        } => {
            let progress = Progress::new(&cli);
            let loaded = load(&cli, input, &progress)?;
            let docs = &loaded.docs;
            let gold: Vec<&str> = docs
                .iter()
                .map(|d| {
                    d.label
                        .as_deref()
                        .ok_or_else(|| wirecluster::Error::MissingLabel { id: d.id.clone() })
                })
                .collect::<Result<_, _>>()?;
            progress.step("clustering");
            let c = clusterer(&cli)?.cluster(docs)?;
            drop(progress);
            let pred: Vec<&str> = c
                .assignments
                .iter()
                .map(|a| a.duplicate_group.as_str())
                .collect();
            let s = score(&pred, &gold);
            let story_pred: Vec<&str> = c.assignments.iter().map(|a| a.story.as_str()).collect();
            let st = score(&story_pred, &gold);
            let fed = if *feed {
                Some(feed_scores(&cli, docs, &gold)?)
            } else {
                None
            };
            if *json {
                let mut all = serde_json::json!({"duplicate_groups": s, "stories": st});
                if let Some(f) = &fed {
                    all["feed"] = serde_json::json!({
                        "duplicate_groups": f.groups, "stories": f.stories,
                        "stories_after_consolidate": f.consolidated, "insert_secs": f.secs,
                    });
                }
                stdout_line(&serde_json::to_string_pretty(&all)?)?;
            } else {
                print_scores("duplicate groups", &s)?;
                print_scores("stories", &st)?;
                if let Some(f) = &fed {
                    print_scores("feed, duplicate groups", &f.groups)?;
                    print_scores("feed, stories", &f.stories)?;
                    print_scores("feed, stories after a final consolidate", &f.consolidated)?;
                    stdout_line(&format!(
                        "feed minus batch: groups pairwise F1 {:+.4}, ARI {:+.4}; stories BCubed F1 {:+.4} ({:+.4} after a final consolidate)\nfeed placed {} articles in {:.3} s: {:.0} articles/s",
                        f.groups.pairwise.f1 - s.pairwise.f1,
                        f.groups.ari - s.ari,
                        f.stories.bcubed.f1 - st.bcubed.f1,
                        f.consolidated.bcubed.f1 - st.bcubed.f1,
                        docs.len(),
                        f.secs,
                        docs.len() as f64 / f.secs.max(1e-9),
                    ))?;
                }
            }
            if !cli.quiet {
                print_closing(&loaded, &c);
            }
            let mut ok = true;
            if let Some(m) = min_pairwise_f1
                && s.pairwise.f1 < *m
            {
                eprintln!("FAIL: pairwise F1 {:.4} < {m}", s.pairwise.f1);
                ok = false;
            }
            if let Some(m) = min_ari
                && s.ari < *m
            {
                eprintln!("FAIL: ARI {:.4} < {m}", s.ari);
                ok = false;
            }
            if let Some(m) = min_story_bcubed_f1
                && st.bcubed.f1 < *m
            {
                eprintln!("FAIL: story BCubed F1 {:.4} < {m}", st.bcubed.f1);
                ok = false;
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Scores of a live index run: groups and stories after the last insert,
/// stories after a final re-linking, and the seconds the inserts took.
struct FeedScores {
    groups: wirecluster::Scores,
    stories: wirecluster::Scores,
    consolidated: wirecluster::Scores,
    secs: f64,
}

/// Places `docs` in a live index in publication order (undated last; no
/// eviction) and scores its groups and stories against `gold`.
fn feed_scores(cli: &Cli, docs: &[Document], gold: &[&str]) -> Result<FeedScores, BoxError> {
    let mut feed = feed_config(cli);
    feed.window_days = 1e9;
    feed.window_arrivals = u64::MAX;
    let mut index = new_feed_index(cli, feed)?;
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&i| (docs[i].published.is_none(), docs[i].published, i));
    let ordered: Vec<Document> = order.iter().map(|&i| docs[i].clone()).collect();
    let start = std::time::Instant::now();
    index.insert_batch(&ordered)?;
    let secs = start.elapsed().as_secs_f64();
    let labels = |index: &wirecluster::FeedIndex| -> (Vec<String>, Vec<String>) {
        docs.iter()
            .map(|d| {
                let st = index.get(&d.id).expect("nothing is evicted");
                (st.duplicate_group, st.story)
            })
            .unzip()
    };
    let (group, story) = labels(&index);
    index.consolidate();
    let (_, story_after) = labels(&index);
    let sc = |v: &[String]| {
        let r: Vec<&str> = v.iter().map(String::as_str).collect();
        score(&r, gold)
    };
    Ok(FeedScores {
        groups: sc(&group),
        stories: sc(&story),
        consolidated: sc(&story_after),
        secs,
    })
}

/// A new live index with the clusterer config of the flags, the given feed
/// config, and `--idf` frequencies if given.
fn new_feed_index(
    cli: &Cli,
    feed: wirecluster::FeedConfig,
) -> Result<wirecluster::FeedIndex, BoxError> {
    let index = wirecluster::FeedIndex::new(clusterer(cli)?.config().clone(), feed)?;
    Ok(match &cli.idf {
        Some(p) => index.with_idf(&wirecluster::IdfModel::load(p)?),
        None => index,
    })
}

/// `kind=count` pairs joined by ", " (skip counts by reason).
fn format_counts(counts: &std::collections::BTreeMap<&'static str, usize>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn feed_config(cli: &Cli) -> wirecluster::FeedConfig {
    let mut feed = wirecluster::FeedConfig::default();
    if let Some(t) = cli.feed_story_threshold {
        feed.story_threshold = t;
    }
    if let Some(n) = cli.consolidate_every {
        feed.consolidate_every = n;
    }
    feed
}

/// `wirecluster stream`: read JSONL line by line, place, write assignments.
#[allow(clippy::too_many_arguments)]
fn stream(
    cli: &Cli,
    input: Option<&PathBuf>,
    output: Option<&PathBuf>,
    index_path: Option<&PathBuf>,
    checkpoint: Option<u64>,
    window_days: Option<f64>,
    window_arrivals: Option<u64>,
    batch: Option<usize>,
) -> Result<ExitCode, BoxError> {
    use std::io::BufRead;
    let from_stdin = input.is_none_or(|p| p.as_os_str() == "-");
    if let Some(input) = input {
        for out in [output, index_path].into_iter().flatten() {
            check_not_input(input, out)?;
        }
    }
    let name = if from_stdin {
        PathBuf::from("<stdin>")
    } else {
        input.cloned().unwrap_or_default()
    };
    // One writer per index: a second process on the same index would
    // overwrite the first one's articles. The lock is held until exit.
    let _lock = match index_path {
        Some(p) => Some(lock_index(p)?),
        None => None,
    };
    // SIGTERM (systemd, Docker, Kubernetes) and SIGINT (Ctrl-C) end the run
    // as the end of the input does: the batch in hand is placed and
    // written, the index saved, exit 0.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, std::sync::Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let file = if from_stdin {
        None
    } else {
        Some(std::fs::File::open(&name).map_err(|e| format!("{}: {e}", name.display()))?)
    };
    let gz = name
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    // Lines are read on a thread of their own, so that a signal is acted
    // on even while standard input waits for the next line.
    let (lines_tx, lines) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(1024);
    std::thread::spawn(move || {
        let mut reader: Box<dyn BufRead> = match file {
            None => Box::new(std::io::stdin().lock()),
            Some(f) if gz => Box::new(std::io::BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(f),
            )),
            Some(f) => Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
        };
        loop {
            let mut buf = Vec::new();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {
                    if lines_tx.send(Ok(buf)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = lines_tx.send(Err(e));
                    break;
                }
            }
        }
    });
    // A spinner when reading a file (standard input may be a live feed).
    let progress = if from_stdin {
        Progress(None)
    } else {
        Progress::new(cli)
    };
    progress.step("placing articles");
    let mut skip_counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut index = match index_path {
        Some(p) if p.exists() => {
            let ix = wirecluster::FeedIndex::load(p)?;
            if !cli.quiet {
                eprintln!(
                    "resumed from {} ({} live articles, {} placed before); its stored config is used",
                    p.display(),
                    ix.len(),
                    ix.stats().inserted
                );
            }
            ix
        }
        _ => {
            let mut feed = feed_config(cli);
            if let Some(d) = window_days {
                feed.window_days = d;
            }
            if let Some(a) = window_arrivals {
                feed.window_arrivals = a;
            }
            new_feed_index(cli, feed)?
        }
    };
    let batch = batch.unwrap_or(if from_stdin { 1 } else { 512 }).max(1);
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let start = std::time::Instant::now();
    let (mut line_no, mut placed, mut skipped, mut bytes) = (0usize, 0u64, 0usize, 0usize);
    let mut since_save = 0u64;
    let mut pending: Vec<Document> = Vec::with_capacity(batch);
    let mut pending_ids: std::collections::HashSet<String> = Default::default();
    let mut interrupted = false;
    loop {
        // The next line; an empty one at the end of the input or on a
        // signal.
        let buf = loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                interrupted = true;
                break Vec::new();
            }
            match lines.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(line) => break line.map_err(|e| format!("{}: {e}", name.display()))?,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break Vec::new(),
            }
        };
        let at_end = buf.is_empty();
        if !at_end {
            line_no += 1;
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.iter().all(u8::is_ascii_whitespace) {
                let parsed = wirecluster::parse_record(line).and_then(|d| {
                    if index.get(&d.id).is_some() || pending_ids.contains(&d.id) {
                        Err(wirecluster::RecordError::AlreadyIndexed(d.id))
                    } else {
                        Ok(d)
                    }
                });
                match parsed {
                    Ok(d) => {
                        bytes += d.text.len();
                        pending_ids.insert(d.id.clone());
                        pending.push(d);
                    }
                    Err(reason) if cli.skip_invalid => {
                        eprintln!("{}: line {line_no}: skipped: {reason}", name.display());
                        *skip_counts.entry(reason.kind()).or_insert(0) += 1;
                        skipped += 1;
                    }
                    Err(reason) => {
                        return Err(Box::new(wirecluster::Error::BadRecord {
                            path: Some(name.clone()),
                            line: line_no,
                            reason,
                        }));
                    }
                }
            }
        }
        if pending.len() >= batch || (at_end && !pending.is_empty()) {
            for a in index.insert_batch(&pending)? {
                serde_json::to_writer(&mut out, &a)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            placed += pending.len() as u64;
            since_save += pending.len() as u64;
            pending.clear();
            pending_ids.clear();
            if let (Some(p), Some(every)) = (index_path, checkpoint)
                && since_save >= every
            {
                index.save(p)?;
                since_save = 0;
            }
        }
        if at_end {
            break;
        }
    }
    if let Some(p) = index_path {
        index.save(p)?;
    }
    drop(progress);
    if interrupted && !cli.quiet {
        eprintln!(
            "stopped by a signal after line {line_no}: everything read so far is placed and saved"
        );
    }
    if !cli.quiet {
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        let st = index.stats();
        let skipped = if skipped == 0 {
            "0 lines skipped".to_string()
        } else {
            format!("{skipped} lines skipped: {}", format_counts(&skip_counts))
        };
        eprintln!(
            "placed {placed} articles ({skipped}) in {secs:.3} s: {:.0} articles/s, {:.1} MB/s",
            placed as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
        if let Some(big) = index
            .statuses()
            .into_iter()
            .filter(|s| s.story_canonical)
            .max_by(|a, b| a.story_size.cmp(&b.story_size).then(b.id.cmp(&a.id)))
        {
            eprintln!(
                "largest live story {} with {} articles",
                big.story, big.story_size
            );
        }
        eprintln!(
            "live: {} articles, {} duplicate groups, {} stories; evicted so far: {} stories, {} articles",
            st.documents, st.groups, st.stories, st.evicted_stories, st.evicted_documents
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_scores(level: &str, s: &wirecluster::Scores) -> std::io::Result<()> {
    stdout_line(&format!(
        "{level}: {} documents, {} predicted, {} gold clusters\n  pairwise  P {:.4}  R {:.4}  F1 {:.4}\n  BCubed    P {:.4}  R {:.4}  F1 {:.4}\n  ARI       {:.4}",
        s.documents,
        s.predicted_clusters,
        s.gold_clusters,
        s.pairwise.precision,
        s.pairwise.recall,
        s.pairwise.f1,
        s.bcubed.precision,
        s.bcubed.recall,
        s.bcubed.f1,
        s.ari
    ))
}

fn write_output(c: &Clustering, format: Format, output: Option<&PathBuf>) -> Result<(), BoxError> {
    match output {
        Some(p) => {
            let mut file = AtomicOutput::create(p)?;
            write_clustering(c, format, &mut file)?;
            file.commit()
        }
        None => write_clustering(
            c,
            format,
            &mut std::io::BufWriter::new(std::io::stdout().lock()),
        ),
    }
}

fn write_clustering(c: &Clustering, format: Format, mut w: &mut dyn Write) -> Result<(), BoxError> {
    match format {
        Format::Assignments => {
            for a in &c.assignments {
                serde_json::to_writer(&mut w, a)?;
                w.write_all(b"\n")?;
            }
        }
        Format::Clusters => {
            let group_index: std::collections::HashMap<&str, &wirecluster::DuplicateGroup> =
                c.groups.iter().map(|g| (g.id.as_str(), g)).collect();
            for s in &c.stories {
                let groups: Vec<&wirecluster::DuplicateGroup> =
                    s.groups.iter().map(|g| group_index[g.as_str()]).collect();
                let line = serde_json::json!({
                    "story": s.id,
                    "size": s.members.len(),
                    "canonical_reason": s.canonical_reason,
                    "members": s.members,
                    "groups": groups,
                });
                serde_json::to_writer(&mut w, &line)?;
                w.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut w);
            csv.write_record([
                "id",
                "duplicate_group",
                "canonical",
                "group_size",
                "jaccard_to_canonical",
                "containment_in_canonical",
                "story",
                "story_canonical",
                "story_similarity",
            ])?;
            for a in &c.assignments {
                csv.write_record([
                    csv_cell(&a.id).as_ref(),
                    &csv_cell(&a.duplicate_group),
                    &a.canonical.to_string(),
                    &a.group_size.to_string(),
                    &a.jaccard_to_canonical.to_string(),
                    &a.containment_in_canonical.to_string(),
                    &csv_cell(&a.story),
                    &a.story_canonical.to_string(),
                    &a.story_similarity.to_string(),
                ])?;
            }
            csv.flush()?;
        }
    }
    w.flush()?;
    Ok(())
}

fn write_edges(docs: &[Document], c: &Clustering, path: &std::path::Path) -> Result<(), BoxError> {
    let mut w = AtomicOutput::create(path)?;
    for e in &c.edges {
        let line = serde_json::json!({
            "a": docs[e.a].id,
            "b": docs[e.b].id,
            "kind": e.kind,
            "shared": e.shared,
            "jaccard": e.jaccard,
            "containment_a_in_b": e.containment_a_in_b,
            "containment_b_in_a": e.containment_b_in_a,
            "time_gap_secs": e.time_gap_secs,
        });
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")?;
    }
    w.commit()
}

fn print_summary(docs: &[Document], c: &Clustering) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let multi = c.groups.iter().filter(|g| g.members.len() > 1).count();
    let multi_stories = c.stories.iter().filter(|s| s.members.len() > 1).count();
    let _ = writeln!(
        out,
        "{} documents -> {} duplicate groups ({multi} with reprints) -> {} stories ({multi_stories} with several articles)",
        docs.len(),
        c.groups.len(),
        c.stories.len(),
    );
    let mut shown: Vec<_> = c.stories.iter().filter(|s| s.members.len() > 1).collect();
    shown.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.id.cmp(&b.id)));
    let title = |i: usize| printable(docs[i].title.as_deref().unwrap_or("(no title)"));
    for s in shown.iter().take(8) {
        let _ = writeln!(
            out,
            "\nstory {} ({} articles in {} duplicate groups): {}",
            s.id,
            s.members.len(),
            s.groups.len(),
            title(s.members[0].index)
        );
        let _ = writeln!(out, "  why canonical: {}", s.canonical_reason);
        for gid in &s.groups {
            let g = c
                .groups
                .iter()
                .find(|g| &g.id == gid)
                .expect("story names its groups");
            let sim = s
                .members
                .iter()
                .find(|m| &m.id == gid)
                .map_or(0.0, |m| m.similarity_to_canonical);
            let _ = writeln!(
                out,
                "  group {:<14} {:>2} members  story similarity {:.2}  {}",
                g.id,
                g.members.len(),
                sim,
                title(g.members[0].index)
            );
            for m in g.members.iter().skip(1).take(3) {
                let _ = writeln!(
                    out,
                    "      reprint {:<14} jaccard {:.2}  contained {:>3.0}%  {}",
                    m.id,
                    m.jaccard_to_canonical,
                    m.containment_in_canonical * 100.0,
                    title(m.index)
                );
            }
            if g.members.len() > 4 {
                let _ = writeln!(out, "      … and {} more reprints", g.members.len() - 4);
            }
        }
    }
    if shown.len() > 8 {
        let _ = writeln!(
            out,
            "\n… and {} more stories with several articles",
            shown.len() - 8
        );
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()
}

fn print_closing(loaded: &Loaded, c: &Clustering) {
    let s = &c.stats;
    let mb = s.text_bytes as f64 / 1e6;
    let skipped = if loaded.skipped == 0 {
        "none skipped".to_string()
    } else {
        format!("{} skipped: {}", loaded.skipped, loaded.skip_counts)
    };
    eprintln!(
        "read {} documents ({skipped}) in {:.3} s",
        s.documents, loaded.secs
    );
    let largest = c.stories.iter().max_by(|a, b| {
        a.members
            .len()
            .cmp(&b.members.len())
            .then_with(|| b.id.cmp(&a.id))
    });
    let largest = match largest {
        Some(st) => format!(
            "; largest story {} with {} articles",
            st.id,
            st.members.len()
        ),
        None => String::new(),
    };
    eprintln!(
        "{} duplicate groups, {} stories{largest}",
        s.groups, s.stories
    );
    eprintln!(
        "clustered in {:.3} s on {} threads: {:.0} docs/s, {:.1} MB/s",
        s.total_secs,
        s.threads,
        s.documents as f64 / s.total_secs.max(1e-9),
        mb / s.total_secs.max(1e-9),
    );
    let stages: Vec<String> = s
        .stage_secs
        .iter()
        .map(|(n, t)| format!("{n} {t:.3}"))
        .collect();
    eprintln!("  stages (s): {}", stages.join(", "));
    if let Some(p) = &s.lsh {
        eprintln!(
            "  lsh {}x{} (expected FP {:.3}, FN {:.3}); candidates: lsh {}, containment {}, verified {}; edges {}; aggregator pages {}; story candidates {}; boilerplate sentences learned {}, lines/sentences removed {}",
            p.bands,
            p.rows,
            p.false_positive,
            p.false_negative,
            s.lsh_candidates,
            s.containment_candidates,
            s.verified_pairs,
            s.duplicate_edges,
            s.aggregator_pages,
            s.story_candidates,
            s.learned_boilerplate_sentences,
            s.removed_lines
        );
    }
    if !s.repaired_documents.is_empty() {
        let steps: Vec<String> = s
            .repaired_documents
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect();
        eprintln!("  text repaired (documents per step): {}", steps.join(", "));
    }
}
