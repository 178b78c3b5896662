//! A spinner on standard error while a step runs.

use crate::args::Cli;

/// A spinner on stderr while a step runs, shown only when stderr is a
/// terminal, `--quiet` is off, and the step takes over a second.
pub(crate) struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// No spinner.
    pub(crate) fn none() -> Self {
        Progress(None)
    }
}

impl Progress {
    pub(crate) fn new(cli: &Cli) -> Self {
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

    pub(crate) fn step(&self, msg: &'static str) {
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
