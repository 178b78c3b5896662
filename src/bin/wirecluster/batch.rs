//! The batch commands: `cluster`, `report`, `explain`, `eval`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use wirecluster::{AtomicFile, Document, ReadOptions, read_input, score};

use crate::BoxError;
use crate::args::{Cli, Format};
use crate::output::*;
use crate::progress::Progress;
use crate::settings::{clusterer, feed_config, new_feed_index};

/// What was read, for the closing summary.
pub(crate) struct Loaded {
    pub(crate) docs: Vec<Document>,
    pub(crate) skipped: usize,
    pub(crate) skip_counts: String,
    pub(crate) secs: f64,
}

pub(crate) fn load(cli: &Cli, input: &PathBuf, progress: &Progress) -> Result<Loaded, BoxError> {
    load_with_labels(cli, input, progress, Vec::new())
}

/// [`load`], keeping the values of `label_fields` (`Document::labels`).
pub(crate) fn load_with_labels(
    cli: &Cli,
    input: &PathBuf,
    progress: &Progress,
    label_fields: Vec<String>,
) -> Result<Loaded, BoxError> {
    progress.step("reading");
    let start = std::time::Instant::now();
    let opts = ReadOptions {
        skip_invalid: cli.skip_invalid,
        label_fields,
    };
    let out = if input.as_os_str() == "-" {
        wirecluster::read_jsonl_from(std::io::stdin(), "<stdin>".as_ref(), &opts)?
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

/// Scores of a live index run: groups and stories after the last insert,
/// stories after a final re-linking, and the seconds the inserts took.
pub(crate) struct FeedScores {
    groups: wirecluster::Scores,
    stories: wirecluster::Scores,
    consolidated: wirecluster::Scores,
    threads: wirecluster::Scores,
    threads_consolidated: wirecluster::Scores,
    secs: f64,
}

/// Places `docs` in a live index in publication order (undated last; no
/// eviction) and scores its groups, stories and threads against their
/// labels, as placed and after a final re-linking.
pub(crate) fn feed_scores(
    cli: &Cli,
    docs: &[Document],
    gold: &[&str],
    story_gold: &[&str],
    thread_gold: &[&str],
) -> Result<FeedScores, BoxError> {
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
    let labels = |index: &wirecluster::FeedIndex| -> [Vec<String>; 3] {
        let mut out: [Vec<String>; 3] = Default::default();
        for d in docs {
            let st = index.get(&d.id).expect("nothing is evicted");
            out[0].push(st.duplicate_group);
            out[1].push(st.story);
            out[2].push(st.thread);
        }
        out
    };
    let [group, story, thread] = labels(&index);
    index.consolidate();
    let [_, story_after, thread_after] = labels(&index);
    let sc = |v: &[String], gold: &[&str]| {
        let r: Vec<&str> = v.iter().map(String::as_str).collect();
        score(&r, gold)
    };
    Ok(FeedScores {
        groups: sc(&group, gold),
        stories: sc(&story, story_gold),
        consolidated: sc(&story_after, story_gold),
        threads: sc(&thread, thread_gold),
        threads_consolidated: sc(&thread_after, thread_gold),
        secs,
    })
}

/// `wirecluster cluster`.
pub(crate) fn cluster(
    cli: &Cli,
    input: &PathBuf,
    output: Option<&PathBuf>,
    format: Format,
    summary: bool,
    edges: Option<&PathBuf>,
    save_idf: Option<&PathBuf>,
) -> Result<ExitCode, BoxError> {
    for out in [output, edges, save_idf].into_iter().flatten() {
        check_not_input(input, out)?;
    }
    let progress = Progress::new(cli);
    let loaded = load(cli, input, &progress)?;
    let docs = &loaded.docs;
    let clusterer = clusterer(cli)?;
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
    if summary {
        print_summary(docs, &c)?;
    } else {
        write_output(&c, format, output)?;
    }
    if let Some(p) = edges {
        write_edges(docs, &c, p)?;
    }
    drop(progress);
    if !cli.quiet {
        print_closing(&loaded, &c);
    }
    // The process ends here and gives all its memory back at once: freeing
    // the documents and the clustering one allocation at a time would take
    // 16 ms of every 20k documents, on one core.
    std::mem::forget(c);
    std::mem::forget(loaded);
    Ok(ExitCode::SUCCESS)
}

/// `wirecluster report`.
pub(crate) fn report(
    cli: &Cli,
    input: &PathBuf,
    output: &PathBuf,
    max_stories: usize,
) -> Result<ExitCode, BoxError> {
    check_not_input(input, output)?;
    let progress = Progress::new(cli);
    let loaded = load(cli, input, &progress)?;
    progress.step("clustering");
    let c = clusterer(cli)?.cluster(&loaded.docs)?;
    let html = wirecluster::html_report(&loaded.docs, &c, max_stories);
    let mut file = AtomicFile::create(output)?;
    file.write_all(html.as_bytes())?;
    file.commit()?;
    drop(progress);
    if !cli.quiet {
        print_closing(&loaded, &c);
        eprintln!("report written to {}", output.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `wirecluster explain`.
pub(crate) fn explain(
    cli: &Cli,
    input: &PathBuf,
    a: &str,
    b: &str,
    json: bool,
) -> Result<ExitCode, BoxError> {
    let progress = Progress::new(cli);
    let docs = load(cli, input, &progress)?.docs;
    progress.step("clustering");
    let e = clusterer(cli)?.explain(&docs, a, b)?;
    drop(progress);
    if json {
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

/// The label fields `eval` scores each level against.
pub(crate) struct LabelFields<'a> {
    pub group: &'a str,
    pub story: &'a str,
    pub thread: &'a str,
}

/// `wirecluster eval`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn eval(
    cli: &Cli,
    input: &PathBuf,
    fields: LabelFields<'_>,
    min_pairwise_f1: Option<f64>,
    min_ari: Option<f64>,
    min_story_bcubed_f1: Option<f64>,
    min_thread_bcubed_f1: Option<f64>,
    json: bool,
    feed: bool,
) -> Result<ExitCode, BoxError> {
    let progress = Progress::new(cli);
    let LabelFields {
        group: group_field,
        story: story_field,
        thread: thread_field,
    } = fields;
    let mut fields: Vec<String> = [group_field, story_field, thread_field]
        .into_iter()
        .filter(|f| *f != "cluster")
        .map(String::from)
        .collect();
    fields.sort();
    fields.dedup();
    let loaded = load_with_labels(cli, input, &progress, fields)?;
    let docs = &loaded.docs;
    let gold = gold_labels(docs, group_field)?;
    let story_gold = gold_labels(docs, story_field)?;
    let thread_gold = gold_labels(docs, thread_field)?;
    progress.step("clustering");
    let c = clusterer(cli)?.cluster(docs)?;
    drop(progress);
    let pred: Vec<&str> = c
        .assignments
        .iter()
        .map(|a| a.duplicate_group.as_str())
        .collect();
    let s = score(&pred, &gold);
    let story_pred: Vec<&str> = c.assignments.iter().map(|a| a.story.as_str()).collect();
    let st = score(&story_pred, &story_gold);
    let thread_pred: Vec<&str> = c.assignments.iter().map(|a| a.thread.as_str()).collect();
    let th = score(&thread_pred, &thread_gold);
    let fed = if feed {
        Some(feed_scores(cli, docs, &gold, &story_gold, &thread_gold)?)
    } else {
        None
    };
    if json {
        let mut all = serde_json::json!({"duplicate_groups": s, "stories": st, "threads": th});
        if let Some(f) = &fed {
            all["feed"] = serde_json::json!({
                "duplicate_groups": f.groups, "stories": f.stories,
                "stories_after_consolidate": f.consolidated, "threads": f.threads,
                "threads_after_consolidate": f.threads_consolidated, "insert_secs": f.secs,
            });
        }
        stdout_line(&serde_json::to_string_pretty(&all)?)?;
    } else {
        print_scores(&format!("duplicate groups (against `{group_field}`)"), &s)?;
        print_scores(&format!("stories (against `{story_field}`)"), &st)?;
        print_scores(&format!("threads (against `{thread_field}`)"), &th)?;
        if let Some(f) = &fed {
            print_scores("feed, duplicate groups", &f.groups)?;
            print_scores("feed, stories", &f.stories)?;
            print_scores("feed, stories after a final consolidate", &f.consolidated)?;
            print_scores("feed, threads", &f.threads)?;
            print_scores(
                "feed, threads after a final consolidate",
                &f.threads_consolidated,
            )?;
            stdout_line(&format!(
                "feed minus batch: groups pairwise F1 {:+.4}, ARI {:+.4}; stories BCubed F1 {:+.4} ({:+.4} after a final consolidate); threads BCubed F1 {:+.4} ({:+.4})\nfeed placed {} articles in {:.3} s: {:.0} articles/s",
                f.groups.pairwise.f1 - s.pairwise.f1,
                f.groups.ari - s.ari,
                f.stories.bcubed.f1 - st.bcubed.f1,
                f.consolidated.bcubed.f1 - st.bcubed.f1,
                f.threads.bcubed.f1 - th.bcubed.f1,
                f.threads_consolidated.bcubed.f1 - th.bcubed.f1,
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
        && s.pairwise.f1 < m
    {
        eprintln!("FAIL: pairwise F1 {:.4} < {m}", s.pairwise.f1);
        ok = false;
    }
    if let Some(m) = min_ari
        && s.ari < m
    {
        eprintln!("FAIL: ARI {:.4} < {m}", s.ari);
        ok = false;
    }
    if let Some(m) = min_story_bcubed_f1
        && st.bcubed.f1 < m
    {
        eprintln!("FAIL: story BCubed F1 {:.4} < {m}", st.bcubed.f1);
        ok = false;
    }
    if let Some(m) = min_thread_bcubed_f1
        && th.bcubed.f1 < m
    {
        eprintln!("FAIL: thread BCubed F1 {:.4} < {m}", th.bcubed.f1);
        ok = false;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Each document's label in `field` (`cluster` is [`Document::label`]); an
/// unlabelled document is an error naming it.
fn gold_labels<'a>(docs: &'a [Document], field: &str) -> Result<Vec<&'a str>, BoxError> {
    docs.iter()
        .map(|d| {
            let label = if field == "cluster" {
                d.label.as_deref()
            } else {
                d.labels.get(field).map(String::as_str)
            };
            label.ok_or_else(|| {
                Box::new(wirecluster::Error::MissingLabel {
                    id: d.id.clone(),
                    field: field.to_string(),
                }) as BoxError
            })
        })
        .collect()
}
