//! `wirecluster stream`: a live index fed line by line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use wirecluster::{Document, RecordReader};

use crate::BoxError;
use crate::args::Cli;
use crate::output::{check_not_input, format_counts};
use crate::progress::Progress;
use crate::settings::{feed_config, new_feed_index};

/// Takes the exclusive lock of a live index (`INDEX.lock` beside it), or
/// says which process holds it.
pub(crate) fn lock_index(index: &std::path::Path) -> Result<std::fs::File, BoxError> {
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

/// `wirecluster stream`: read JSONL line by line, place, write assignments.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream(
    cli: &Cli,
    input: Option<&PathBuf>,
    output: Option<&PathBuf>,
    index_path: Option<&PathBuf>,
    checkpoint: Option<u64>,
    window_days: Option<f64>,
    window_arrivals: Option<u64>,
    batch: Option<usize>,
) -> Result<ExitCode, BoxError> {
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
    // The first bytes tell a gzip-compressed input; reading them waits for
    // the first line of standard input, so it is done on the reader thread.
    let file = if from_stdin {
        None
    } else {
        Some(std::fs::File::open(&name).map_err(|e| format!("{}: {e}", name.display()))?)
    };
    // Records are read and parsed on a thread of their own, so that a
    // signal is acted on even while standard input waits for the next line.
    type Item = wirecluster::Result<(usize, Result<Document, wirecluster::RecordError>)>;
    let (records_tx, records) = std::sync::mpsc::sync_channel::<Item>(1024);
    let reader_name = name.clone();
    std::thread::spawn(move || {
        let reader = match file {
            None => RecordReader::new(std::io::stdin(), reader_name),
            Some(f) => RecordReader::new(f, reader_name),
        };
        match reader {
            Ok(reader) => {
                for item in reader {
                    if records_tx.send(item).is_err() {
                        break;
                    }
                }
            }
            Err(e) => {
                let _ = records_tx.send(Err(e));
            }
        }
    });
    // A spinner when reading a file (standard input may be a live feed).
    let progress = if from_stdin {
        Progress::none()
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
        // The next record; none at the end of the input or on a signal.
        let next = loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                interrupted = true;
                break None;
            }
            match records.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(item) => break Some(item?),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
            }
        };
        let at_end = next.is_none();
        if let Some((line, parsed)) = next {
            line_no = line;
            let parsed = parsed.and_then(|d| {
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
                index.checkpoint(p)?;
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
    // Everything is written and saved, and the process ends here and gives
    // its memory back at once: freeing the index one allocation at a time
    // took 85-110 ms of a 2 s run on 20k articles, on one core.
    std::mem::forget(index);
    Ok(ExitCode::SUCCESS)
}
