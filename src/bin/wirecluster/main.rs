//! The `wirecluster` command line: a client of the library. Arguments in
//! `args`, settings from flags and config files in `settings`, the batch
//! commands in `batch`, the live index in `stream`, what is written and
//! printed in `output`.

mod allocator;
mod args;
mod batch;
mod output;
mod progress;
mod settings;
mod stream;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

type BoxError = Box<dyn std::error::Error>;

/// The most worker threads `--threads` accepts.
const MAX_THREADS: usize = 1024;

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A reader that stops early (`| head`) is not an error.
        Err(e) if output::is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirecluster: {e}");
            ExitCode::from(1)
        }
    }
}

/// The output file asked for, if any: `-` is standard output, as it is
/// standard input for inputs.
fn to_file(output: &Option<PathBuf>) -> Option<&PathBuf> {
    output.as_ref().filter(|p| p.as_os_str() != "-")
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
        } => batch::cluster(
            &cli,
            input,
            to_file(output),
            *format,
            *summary,
            edges.as_ref(),
            save_idf.as_ref(),
        ),
        Command::Report {
            input,
            output,
            max_stories,
        } => batch::report(&cli, input, output, *max_stories),
        Command::Explain { input, a, b, json } => batch::explain(&cli, input, a, b, *json),
        Command::Stream {
            input,
            output,
            index,
            checkpoint,
            window_days,
            window_arrivals,
            batch,
        } => stream::stream(
            &cli,
            input.as_ref(),
            to_file(output),
            index.as_ref(),
            *checkpoint,
            *window_days,
            *window_arrivals,
            *batch,
        ),
        Command::Eval {
            input,
            group_field,
            story_field,
            thread_field,
            min_pairwise_f1,
            min_ari,
            min_story_bcubed_f1,
            min_thread_bcubed_f1,
            json,
            feed,
        } => {
            let story_field = story_field.as_deref().unwrap_or(group_field);
            batch::eval(
                &cli,
                input,
                batch::LabelFields {
                    group: group_field,
                    story: story_field,
                    thread: thread_field.as_deref().unwrap_or(story_field),
                },
                *min_pairwise_f1,
                *min_ari,
                *min_story_bcubed_f1,
                *min_thread_bcubed_f1,
                *json,
                *feed,
            )
        }
    }
}
