//! `binscape run`: the headless pipeline, with indicatif progress, writing bins and tables.
use anyhow::Result;
use binscape::cluster::Clustering;
use binscape::features::Matrix;
use binscape::metrics::score;
use binscape::model::TrainEvent;
use binscape::pipeline::{self, LossRow, MapInput, Report, RunResult, Settings};
use binscape::reads;
use binscape::{Error, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Runs `stage` while a bar follows `progress` from a second thread.
pub fn with_bar<T>(progress: &Progress, stage: impl FnOnce() -> T) -> T {
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:32} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let done = std::sync::atomic::AtomicBool::new(false);
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
        let out = stage();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    });
    bar.finish_and_clear();
    out
}

/// Fails early, before hours of work, when `out` cannot be created or written.
fn check_writable(out: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(out).map_err(|e| Error::write(out, e))?;
    let probe = out.join(format!(".binscape-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| Error::write(out, e))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

pub struct RunArgs<'a> {
    pub reads: &'a Path,
    pub labels: Option<&'a Path>,
    pub out: &'a Path,
    pub settings: Settings,
    pub quiet: bool,
    pub save_latent: bool,
}

pub fn run(a: RunArgs) -> Result<()> {
    let s = a.settings;
    s.validate()?;
    check_writable(a.out)?;
    let progress = Progress::default();
    let mut seconds = Vec::new();
    let mut timed = |name: &str, secs: f64| seconds.push((name.to_string(), secs));

    let t = Instant::now();
    let loaded = with_bar(&progress, || {
        reads::load_reads(a.reads, s.feature_options(), &progress)
    })?;
    timed("read_and_vectors", t.elapsed().as_secs_f64());
    let index = loaded.index;
    let n = index.len();
    let mut warnings = Vec::new();
    if !index.skipped.is_empty() {
        let ex: Vec<String> = index
            .skipped
            .iter()
            .take(3)
            .map(|(r, id)| format!("{id} (record {})", r + 1))
            .collect();
        warnings.push(format!(
            "{}: left out {} reads with no valid k-mer, e.g. {}",
            a.reads.display(),
            index.skipped.len(),
            ex.join(", ")
        ));
    }
    let labels = match a.labels {
        Some(p) => {
            let l = reads::load_labels(p, &index)?;
            warnings.extend(l.warnings(p));
            Some(l)
        }
        None => None,
    };
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if !a.quiet {
        eprintln!(
            "{n} reads, {} bases, N50 {} bp, {} feature dims",
            index.total_bases(),
            index.n50(None),
            loaded.features.cols
        );
    }

    let features = Arc::new(loaded.features);
    let mut losses = Vec::new();
    let mut epochs_run = 0;
    let latent: Option<Matrix> = match s.map_input {
        MapInput::Kmers => None,
        MapInput::Latent => {
            let t = Instant::now();
            let bar = ProgressBar::new((n.div_ceil(s.batch_size) * s.epochs) as u64);
            bar.set_style(
                ProgressStyle::with_template("{spinner} training VAE  epoch {msg} [{bar:40}] {percent:>3}% {elapsed} ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let mut on_event = |ev: &TrainEvent| match ev {
                TrainEvent::Batch {
                    epoch,
                    step,
                    rl,
                    kld,
                    total,
                    ..
                } => {
                    losses.push(LossRow {
                        step: *step,
                        epoch: *epoch,
                        rl: *rl,
                        kld: *kld,
                        total: *total,
                    });
                    bar.set_position(*step);
                }
                TrainEvent::Epoch { epoch, total, .. } => {
                    bar.set_message(format!("{epoch}/{} loss {total:.4}", s.epochs));
                    epochs_run = *epoch;
                }
                _ => {}
            };
            let l = pipeline::train_blocking(features.clone(), &s, &progress, &mut on_event)?;
            bar.finish_and_clear();
            timed("train", t.elapsed().as_secs_f64());
            Some(l)
        }
    };
    // The baseline maps the same [0, 1]-scaled vectors the VAE is trained on, weighted alike.
    let scaled;
    let map_source: &Matrix = match &latent {
        Some(l) => l,
        None => {
            scaled = pipeline::baseline_input(&features, &s);
            &scaled
        }
    };

    let m = with_bar(&progress, || {
        pipeline::map_and_cluster(map_source, &s, &progress)
    })?;
    timed("map", m.map_seconds);
    let t = Instant::now();
    let mcs = s.min_cluster_size_for(n);
    let clustering: Clustering = m.hierarchy.cut(mcs);
    timed("cluster", m.cluster_seconds + t.elapsed().as_secs_f64());
    let (clustering, refined) = if s.refine {
        let t = Instant::now();
        let r = with_bar(&progress, || {
            binscape::refine::refine(&index, &clustering, &s, &progress)
        })?;
        timed("refine", t.elapsed().as_secs_f64());
        r
    } else {
        (clustering, Vec::new())
    };
    let (map, hierarchy) = (m.map, m.hierarchy);

    let scores = labels.as_ref().map(|l| score(&clustering.labels, &l.codes));
    let binned = clustering.labels.iter().filter(|&&l| l >= 0).count();

    let t = Instant::now();
    with_bar(&progress, || {
        pipeline::write_bins(a.out, &index, &clustering, &progress)
    })?;
    timed("export", t.elapsed().as_secs_f64());

    let result = RunResult {
        latent,
        map,
        hierarchy,
        clustering,
        losses,
        seconds,
    };
    let report = Report {
        reads: n,
        bases: index.total_bases(),
        read_n50: index.n50(None),
        skipped_reads: index.skipped.len(),
        bins: result.clustering.n_clusters,
        binned_reads: binned,
        binned_fraction: binned as f64 / n as f64,
        min_cluster_size: mcs,
        min_samples: s.min_samples_for(n),
        epochs_run,
        seconds: result
            .seconds
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!((v * 1000.0).round() / 1000.0)))
            .collect(),
        scores,
        refined,
        warnings,
    };
    pipeline::write_tables(a.out, &index, &result, &s, &report)?;
    if let (true, Some(l)) = (a.save_latent, &result.latent) {
        pipeline::write_matrix(&a.out.join("latent.tsv"), &index, l)?;
    }
    if !a.quiet {
        eprintln!(
            "{} bins, {:.1}% of reads binned -> {}",
            report.bins,
            report.binned_fraction * 100.0,
            a.out.display()
        );
        if let Some(sc) = &report.scores {
            eprintln!(
                "ARI {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}",
                sc.ari, sc.precision, sc.recall, sc.f1
            );
        }
    }
    Ok(())
}
