//! What the commands write and print: assignments as JSONL or CSV, edges,
//! summaries, scores; text made safe for terminals and spreadsheets.

use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;

use wirecluster::{AtomicFile, Clustering, Document};

use crate::BoxError;
use crate::args::Format;
use crate::batch::Loaded;

/// Whether an error, or any error it wraps, is a write to a closed pipe
/// (`| head`): not a failure.
pub(crate) fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
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

/// Refuses an output that is also the input: writing it would destroy the
/// input before it is read.
pub(crate) fn check_not_input(
    input: &std::path::Path,
    output: &std::path::Path,
) -> Result<(), BoxError> {
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
pub(crate) fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// Text for a terminal: control characters (escape sequences, carriage
/// returns, …) from the input are shown escaped, never sent raw.
pub(crate) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
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
pub(crate) fn stdout_line(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

/// `kind=count` pairs joined by ", " (skip counts by reason).
pub(crate) fn format_counts(counts: &std::collections::BTreeMap<&'static str, usize>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn print_scores(level: &str, s: &wirecluster::Scores) -> std::io::Result<()> {
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

pub(crate) fn write_output(
    c: &Clustering,
    format: Format,
    output: Option<&PathBuf>,
) -> Result<(), BoxError> {
    match output {
        Some(p) => {
            let mut file = AtomicFile::create(p)?;
            write_clustering(c, format, &mut file)?;
            Ok(file.commit()?)
        }
        None => write_clustering(
            c,
            format,
            &mut std::io::BufWriter::new(std::io::stdout().lock()),
        ),
    }
}

pub(crate) fn write_clustering(
    c: &Clustering,
    format: Format,
    mut w: &mut dyn Write,
) -> Result<(), BoxError> {
    match format {
        Format::Assignments => {
            // Lines are formatted on all cores, a batch at a time (the
            // output is never held whole), and written in order.
            for batch in c.assignments.chunks(1 << 16) {
                let lines: Vec<Vec<u8>> = batch
                    .par_chunks(1 << 10)
                    .map(|chunk| {
                        let mut buf = Vec::with_capacity(256 * chunk.len());
                        for a in chunk {
                            serde_json::to_writer(&mut buf, a)?;
                            buf.push(b'\n');
                        }
                        Ok(buf)
                    })
                    .collect::<Result<_, serde_json::Error>>()?;
                for l in lines {
                    w.write_all(&l)?;
                }
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
                "thread",
                "thread_canonical",
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
                    &csv_cell(&a.thread),
                    &a.thread_canonical.to_string(),
                ])?;
            }
            csv.flush()?;
        }
    }
    w.flush()?;
    Ok(())
}

pub(crate) fn write_edges(
    docs: &[Document],
    c: &Clustering,
    path: &std::path::Path,
) -> Result<(), BoxError> {
    let mut w = AtomicFile::create(path)?;
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
    Ok(w.commit()?)
}

pub(crate) fn print_summary(docs: &[Document], c: &Clustering) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let multi = c.groups.iter().filter(|g| g.members.len() > 1).count();
    let multi_stories = c.stories.iter().filter(|s| s.members.len() > 1).count();
    let _ = write!(
        out,
        "{} documents -> {} duplicate groups ({multi} with reprints) -> {} stories ({multi_stories} with several articles)",
        docs.len(),
        c.groups.len(),
        c.stories.len(),
    );
    // The thread level, when on (off, each story is its own thread).
    let threads_on = c.stats.thread_links > 0;
    let mut threads: Vec<_> = c.threads.iter().filter(|t| t.stories.len() > 1).collect();
    if threads_on {
        let _ = write!(
            out,
            " -> {} threads ({} with several stories)",
            c.threads.len(),
            threads.len()
        );
    }
    out.push('\n');
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
    threads.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.id.cmp(&b.id)));
    for t in threads.iter().take(8) {
        let _ = writeln!(
            out,
            "\nthread {} ({} articles in {} stories): {}",
            t.id,
            t.members.len(),
            t.stories.len(),
            title(t.members[0].index)
        );
        let _ = writeln!(out, "  why canonical: {}", t.canonical_reason);
        for sid in t.stories.iter().take(6) {
            let s = c
                .stories
                .iter()
                .find(|s| &s.id == sid)
                .expect("a thread names its stories");
            let n = s.members.len();
            let _ = writeln!(
                out,
                "  story {:<14} {n:>3} article{}  {}",
                s.id,
                if n == 1 { " " } else { "s" },
                title(s.members[0].index)
            );
        }
        if t.stories.len() > 6 {
            let _ = writeln!(out, "  … and {} more stories", t.stories.len() - 6);
        }
    }
    if threads.len() > 8 {
        let _ = writeln!(
            out,
            "\n… and {} more threads with several stories",
            threads.len() - 8
        );
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()
}

pub(crate) fn print_closing(loaded: &Loaded, c: &Clustering) {
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
    // Threads are printed when the level merged anything (off, each story
    // is its own thread).
    let threads = if s.thread_links > 0 {
        format!(", {} threads", s.news_threads)
    } else {
        String::new()
    };
    eprintln!(
        "{} duplicate groups, {} stories{threads}{largest}",
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
            "  lsh {}x{} (expected FP {:.3}, FN {:.3}); candidates: lsh {}, figures {}, containment {}, verified {}; edges {}; aggregator pages {}; story candidates {}; boilerplate sentences learned {}, lines/sentences removed {}",
            p.bands,
            p.rows,
            p.false_positive,
            p.false_negative,
            s.lsh_candidates,
            s.figure_candidates,
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
