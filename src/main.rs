//! The `wirecluster` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wirecluster::{Clusterer, Clustering, Config, Document, ReadOptions, read_input, score};

/// Find reprints and rewrites of the same news copy and group them.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Skip bad input lines (each is reported on stderr and counted) instead
    /// of failing on the first.
    #[arg(long, global = true)]
    skip_invalid: bool,
    /// A JSON file with a `Config` (fields not given keep their defaults).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Document frequencies saved by `--save-idf`, added to the input's own.
    #[arg(long, global = true)]
    idf: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Cluster a JSONL file and write one assignment line per document.
    ///
    /// Example: wirecluster cluster articles.jsonl -o assignments.jsonl
    Cluster {
        /// Input JSONL: one object per line with `id` and `text`.
        input: PathBuf,
        /// Output JSONL (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
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
    /// Example: wirecluster explain articles.jsonl syr-000 syr-003
    Explain {
        /// Input JSONL.
        input: PathBuf,
        /// First document id.
        a: String,
        /// Second document id.
        b: String,
        /// Print the explanation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cluster a labelled JSONL file and score the groups against its
    /// `cluster` labels (pairwise P/R/F1, BCubed P/R/F1, ARI).
    ///
    /// Example: wirecluster eval corpus.jsonl --min-pairwise-f1 0.95
    Eval {
        /// Input JSONL with a `cluster` label on every line.
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wirecluster: {e}");
            ExitCode::from(1)
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

fn load(cli: &Cli, input: &PathBuf) -> Result<Vec<Document>, BoxError> {
    let opts = ReadOptions {
        skip_invalid: cli.skip_invalid,
    };
    let out = read_input(input, &opts)?;
    for s in &out.skipped {
        let file = s.file.as_ref().unwrap_or(input);
        eprintln!("{}: line {}: skipped: {}", file.display(), s.line, s.reason);
    }
    if !out.skipped.is_empty() {
        let counts: Vec<String> = out
            .skip_counts()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        eprintln!(
            "{}: {} lines skipped ({})",
            input.display(),
            out.skipped.len(),
            counts.join(", ")
        );
    }
    Ok(out.documents)
}

fn clusterer(cli: &Cli) -> Result<Clusterer, BoxError> {
    let cfg = match &cli.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            serde_json::from_str::<Config>(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Config::default(),
    };
    let c = Clusterer::new(cfg)?;
    Ok(match &cli.idf {
        Some(p) => c.with_idf(wirecluster::IdfModel::load(p)?),
        None => c,
    })
}

fn run(cli: Cli) -> Result<ExitCode, BoxError> {
    if let Some(t) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .map_err(|e| format!("--threads: {e}"))?;
    }
    match &cli.command {
        Command::Cluster {
            input,
            output,
            summary,
            edges,
            save_idf,
        } => {
            let start = std::time::Instant::now();
            let docs = load(&cli, input)?;
            let clusterer = clusterer(&cli)?;
            let c = match save_idf {
                Some(p) => {
                    let (c, idf) = clusterer.cluster_with_idf(&docs)?;
                    idf.save(p)?;
                    c
                }
                None => clusterer.cluster(&docs)?,
            };
            let secs = start.elapsed().as_secs_f64();
            if *summary {
                print_summary(&docs, &c);
            } else {
                write_assignments(&c, output.as_ref())?;
            }
            if let Some(p) = edges {
                write_edges(&docs, &c, p)?;
            }
            print_timing(&c, secs);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { input, a, b, json } => {
            let docs = load(&cli, input)?;
            let e = clusterer(&cli)?.explain(&docs, a, b)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!("{}", e.summary);
                println!("top shared words: {}", e.story.shared_terms.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            input,
            min_pairwise_f1,
            min_ari,
            min_story_bcubed_f1,
            json,
        } => {
            let start = std::time::Instant::now();
            let docs = load(&cli, input)?;
            let gold: Vec<&str> = docs
                .iter()
                .map(|d| {
                    d.label
                        .as_deref()
                        .ok_or_else(|| wirecluster::Error::MissingLabel { id: d.id.clone() })
                })
                .collect::<Result<_, _>>()?;
            let c = clusterer(&cli)?.cluster(&docs)?;
            let secs = start.elapsed().as_secs_f64();
            let pred: Vec<&str> = c
                .assignments
                .iter()
                .map(|a| a.duplicate_group.as_str())
                .collect();
            let s = score(&pred, &gold);
            let story_pred: Vec<&str> = c.assignments.iter().map(|a| a.story.as_str()).collect();
            let st = score(&story_pred, &gold);
            if *json {
                let both = serde_json::json!({"duplicate_groups": s, "stories": st});
                println!("{}", serde_json::to_string_pretty(&both)?);
            } else {
                print_scores("duplicate groups", &s);
                print_scores("stories", &st);
            }
            print_timing(&c, secs);
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

fn print_scores(level: &str, s: &wirecluster::Scores) {
    println!(
        "{level}: {} documents, {} predicted, {} gold clusters",
        s.documents, s.predicted_clusters, s.gold_clusters
    );
    println!(
        "  pairwise  P {:.4}  R {:.4}  F1 {:.4}",
        s.pairwise.precision, s.pairwise.recall, s.pairwise.f1
    );
    println!(
        "  BCubed    P {:.4}  R {:.4}  F1 {:.4}",
        s.bcubed.precision, s.bcubed.recall, s.bcubed.f1
    );
    println!("  ARI       {:.4}", s.ari);
}

fn write_assignments(c: &Clustering, output: Option<&PathBuf>) -> Result<(), BoxError> {
    let mut w: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    for a in &c.assignments {
        serde_json::to_writer(&mut w, a)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}

fn write_edges(docs: &[Document], c: &Clustering, path: &PathBuf) -> Result<(), BoxError> {
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
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
    w.flush()?;
    Ok(())
}

fn print_summary(docs: &[Document], c: &Clustering) {
    let multi = c.groups.iter().filter(|g| g.members.len() > 1).count();
    let multi_stories = c.stories.iter().filter(|s| s.members.len() > 1).count();
    println!(
        "{} documents -> {} duplicate groups ({multi} with reprints) -> {} stories ({multi_stories} with several articles)",
        docs.len(),
        c.groups.len(),
        c.stories.len(),
    );
    let mut shown: Vec<_> = c.stories.iter().filter(|s| s.members.len() > 1).collect();
    shown.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.id.cmp(&b.id)));
    let title = |i: usize| docs[i].title.as_deref().unwrap_or("(no title)");
    for s in shown.iter().take(8) {
        println!(
            "\nstory {} ({} articles in {} duplicate groups): {}",
            s.id,
            s.members.len(),
            s.groups.len(),
            title(s.members[0].index)
        );
        println!("  why canonical: {}", s.canonical_reason);
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
            println!(
                "  group {:<14} {:>2} members  story similarity {:.2}  {}",
                g.id,
                g.members.len(),
                sim,
                title(g.members[0].index)
            );
            for m in g.members.iter().skip(1).take(3) {
                println!(
                    "      reprint {:<14} jaccard {:.2}  contained {:>3.0}%  {}",
                    m.id,
                    m.jaccard_to_canonical,
                    m.containment_in_canonical * 100.0,
                    title(m.index)
                );
            }
            if g.members.len() > 4 {
                println!("      … and {} more reprints", g.members.len() - 4);
            }
        }
    }
    if shown.len() > 8 {
        println!(
            "\n… and {} more stories with several articles",
            shown.len() - 8
        );
    }
}

fn print_timing(c: &Clustering, wall: f64) {
    let s = &c.stats;
    let mb = s.text_bytes as f64 / 1e6;
    eprintln!(
        "{} docs, {:.1} MB text, {} threads: clustering {:.3} s ({:.0} docs/s, {:.1} MB/s); with reading {:.3} s ({:.0} docs/s)",
        s.documents,
        mb,
        s.threads,
        s.total_secs,
        s.documents as f64 / s.total_secs.max(1e-9),
        mb / s.total_secs.max(1e-9),
        wall,
        s.documents as f64 / wall.max(1e-9),
    );
    let stages: Vec<String> = s
        .stage_secs
        .iter()
        .map(|(n, t)| format!("{n} {:.3}", t))
        .collect();
    eprintln!("  stages (s): {}", stages.join(", "));
    eprintln!(
        "  groups {}, stories {} (story candidates {})",
        s.groups, s.stories, s.story_candidates
    );
    if let Some(p) = &s.lsh {
        eprintln!(
            "  lsh {}x{} (expected FP {:.3}, FN {:.3}); candidates: lsh {}, containment {}, verified {}; edges {}; aggregator pages {}; boilerplate sentences learned {}, lines/sentences removed {}",
            p.bands,
            p.rows,
            p.false_positive,
            p.false_negative,
            s.lsh_candidates,
            s.containment_candidates,
            s.verified_pairs,
            s.duplicate_edges,
            s.aggregator_pages,
            s.learned_boilerplate_sentences,
            s.removed_lines
        );
    }
}
