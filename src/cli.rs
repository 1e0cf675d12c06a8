//! `binscape run`: [`pipeline::run`] with an indicatif bar, then the run's folder written whole.
use binscape::model::TrainEvent;
use binscape::output::RunFolder;
use binscape::pipeline::{self, RunEvent};
use binscape::{Error, Progress, Settings};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// Runs `stage` while a bar follows `progress` (stage name, done of total) from a second thread.
pub fn with_bar<T>(progress: &Progress, quiet: bool, stage: impl FnOnce(&ProgressBar) -> T) -> T {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:40} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    // Set however the stage ends: a stage that panics must not leave the scope waiting for the
    // bar's thread for ever (the process hung, deaf to a signal, until killed).
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let out = std::thread::scope(|sc| {
        sc.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let (s, d, t) = progress.get();
                bar.set_message(s);
                bar.set_length(t.max(1));
                bar.set_position(d);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        let _stop = Stop(&done);
        stage(&bar)
    });
    bar.finish_and_clear();
    out
}

pub struct RunArgs<'a> {
    pub reads: &'a Path,
    pub labels: Option<&'a Path>,
    pub out: &'a Path,
    pub settings: Settings,
    pub quiet: bool,
    pub save_latent: bool,
}

/// `binscape run --session S`: the session's curated bins written as a run (see
/// [`pipeline::from_session`]).
pub fn run_session(
    session: &Path,
    reads: Option<&Path>,
    a: RunArgs,
    progress: &Progress,
) -> Result<(), Error> {
    let session = binscape::session::Session::load(session)?;
    let folder = RunFolder::prepare(a.out)?;
    let s = session.settings.clone();
    let mut result = with_bar(progress, a.quiet, |_| {
        pipeline::from_session(&session, reads, a.labels, progress)
    })?;
    let report = with_bar(progress, a.quiet, |_| {
        result.export(folder, &s, a.save_latent, progress)
    })?;
    summary(&report, a.out, a.quiet);
    Ok(())
}

fn summary(report: &binscape::output::Report, out: &Path, quiet: bool) {
    if quiet {
        return;
    }
    eprintln!(
        "{} bins, {:.1}% of reads binned -> {}",
        report.bins,
        report.binned_fraction * 100.0,
        out.display()
    );
    if let Some(g) = &report.graph {
        let sequence = if g.doubted > 0 {
            format!(
                "; of the {} they left in doubt ({} held in their bin only by weak overlaps), the \
                 bins' sequence models moved {} ({} to where their overlaps pointed) and placed {}",
                g.doubted, g.weakly_held, g.sequence_moved, g.sequence_pointed, g.sequence_rescued
            )
        } else {
            String::new()
        };
        eprintln!(
            "overlaps moved {} reads and placed {} unbinned{sequence}",
            g.moved, g.rescued
        );
        if g.loose > 0 {
            eprintln!(
                "{} small bin(s) whose overlaps mostly leave them (loci of several genomes) \
                 were unbinned and their reads voted on again",
                g.loose
            );
        }
    }
    if let Some(c) = &report.map_compared {
        eprintln!(
            "compared with the k-mer vectors' own bins: {}",
            c.describe()
        );
    }
    if let Some(r) = &report.read_support {
        eprintln!(
            "{} binned reads share their bin with half or fewer of their overlaps, {} overlap no read \
             (per read: assignments.tsv)",
            r.half_or_fewer_in_bin, r.no_overlaps
        );
    }
    if let Some(sc) = &report.scores {
        eprintln!(
            "ARI {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}",
            sc.ari, sc.precision, sc.recall, sc.f1
        );
    }
}

pub fn run(a: RunArgs, progress: &Progress) -> Result<(), Error> {
    let s = a.settings;
    s.validate()?;
    // Fails early, before hours of work, when `out` cannot take a run; nothing is created in
    // `out` until the run is complete.
    let folder = RunFolder::prepare(a.out)?;
    let mut result = with_bar(progress, a.quiet, |bar| {
        // Lines printed while the bar is drawn would garble it: suspend it for each.
        let say = |line: String| bar.suspend(|| eprintln!("{line}"));
        let mut epochs = 0;
        let mut on_event = |ev: RunEvent| match ev {
            RunEvent::Read { index, dims } => {
                epochs = s.epochs_for(index.len());
                if !a.quiet {
                    say(format!(
                        "{} reads, {} bases, N50 {} bp, {dims} feature dims, {epochs} epochs",
                        index.len(),
                        index.total_bases(),
                        index.n50(None)
                    ));
                }
            }
            RunEvent::Warning(w) => say(format!("warning: {w}")),
            RunEvent::Train(TrainEvent::Epoch { epoch, total, .. }) => progress.set_stage(
                &format!("training VAE, epoch {epoch}/{epochs} loss {total:.4}"),
            ),
            _ => {}
        };
        pipeline::run(a.reads, a.labels, &s, progress, &mut on_event)
    })?;
    let report = with_bar(progress, a.quiet, |_| {
        result.export(folder, &s, a.save_latent, progress)
    })?;
    summary(&report, a.out, a.quiet);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_that_panics_stops_the_bar_and_passes_the_panic_on() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let p = Progress::default();
            let r = std::panic::catch_unwind(|| with_bar(&p, true, |_| panic!("stage failed")));
            let _ = tx.send(r.is_err());
        });
        let ended = rx.recv_timeout(std::time::Duration::from_secs(30));
        assert_eq!(ended, Ok(true), "with_bar hung after its stage panicked");
    }
}
