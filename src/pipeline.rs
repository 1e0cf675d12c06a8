//! Settings, progress and cancellation, and the stages in order. Each stage is a plain function
//! of its inputs and the settings; the CLI and the GUI call the same ones.
use crate::cluster::{Clustering, Hierarchy, build_hierarchy};
use crate::embed::{UmapParams, umap};
use crate::error::{Error, Result};
use crate::features::{COVERAGE_BINS, MAX_K, MIN_K, Matrix};
use crate::metrics::Scores;
use crate::model::{LogVar, TrainConfig, TrainEvent, Trainer};
use crate::reads::{ReadIndex, write_atomically};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Fraction clipped at each end of every feature column before scaling to [0, 1].
pub const SCALE_CLIP: f32 = 0.005;

/// What the map (and so the clusters) is built from.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MapInput {
    /// The VAE's latent (encoder mean): the method.
    Latent,
    /// The k-mer vectors straight, no VAE: the baseline to compare against.
    Kmers,
}

/// Where HDBSCAN runs.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClusterOn {
    /// The 2-D map (what the user sees).
    Map,
    /// The latent itself (or the k-mer vectors with `--map-input kmers`).
    Latent,
}

/// Every setting of a run; saved as `settings.json` so a run can be repeated.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub k: usize,
    /// Append each read's 15-mer coverage histogram to its composition (LRBinner-style).
    pub coverage: bool,
    /// Share of the VAE's reconstruction loss (and of the baseline's distances) that the coverage
    /// columns carry, against the composition columns; 0.5 weighs the two blocks equally, 0
    /// leaves every column alike (coverage is then 16 of 152 columns at k = 4).
    pub coverage_share: f64,
    pub skip_invalid: bool,
    pub map_input: MapInput,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub w_rl: f64,
    pub w_kld: f64,
    pub latent: usize,
    pub hidden: Vec<usize>,
    /// Squashing of the encoder's log-variance (the seed uses softplus).
    pub logvar: LogVar,
    pub seed: u64,
    pub n_neighbors: usize,
    pub min_dist: f32,
    pub umap_epochs: usize,
    pub cluster_on: ClusterOn,
    /// 0: automatic (1% of the reads, at least 10).
    pub min_cluster_size: usize,
    /// 0: automatic (see [`Settings::min_samples_for`]).
    pub min_samples: usize,
    /// Re-examine every bin on its own 5-mer map and split those that hold several groups
    /// (see [`crate::refine`]).
    pub refine: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            k: 4,
            coverage: true,
            coverage_share: 0.0,
            skip_invalid: false,
            map_input: MapInput::Latent,
            epochs: 300,
            batch_size: 1024,
            learning_rate: 1e-3,
            w_rl: 1.0,
            w_kld: 0.01,
            latent: 8,
            hidden: vec![128, 64],
            logvar: LogVar::Softplus,
            seed: 42,
            n_neighbors: 15,
            min_dist: 0.1,
            umap_epochs: 0,
            cluster_on: ClusterOn::Map,
            min_cluster_size: 0,
            min_samples: 0,
            refine: true,
        }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<()> {
        let bad = |s: String| Err(Error::Settings(s));
        if !(MIN_K..=MAX_K).contains(&self.k) {
            return bad(format!("k must be from {MIN_K} to {MAX_K}, not {}", self.k));
        }
        if self.batch_size == 0
            || self.latent == 0
            || self.hidden.is_empty()
            || self.hidden.contains(&0)
        {
            return bad("batch size, latent size and hidden layer sizes must be at least 1".into());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(format!(
                "learning rate must be positive, not {}",
                self.learning_rate
            ));
        }
        if !(self.w_rl >= 0.0
            && self.w_kld >= 0.0
            && self.w_rl.is_finite()
            && self.w_kld.is_finite())
        {
            return bad("loss weights must be finite and not negative".into());
        }
        if !(self.coverage_share >= 0.0 && self.coverage_share < 1.0) {
            return bad(format!(
                "coverage share must be at least 0 and below 1, not {}",
                self.coverage_share
            ));
        }
        if self.n_neighbors < 2 {
            return bad("n-neighbors must be at least 2".into());
        }
        if self.min_cluster_size == 1 {
            return bad("min cluster size must be at least 2 (or 0 for automatic)".into());
        }
        Ok(())
    }

    pub fn min_cluster_size_for(&self, n: usize) -> usize {
        if self.min_cluster_size > 0 {
            self.min_cluster_size
        } else {
            (n / 100).max(10)
        }
    }

    pub fn min_samples_for(&self, n: usize) -> usize {
        if self.min_samples > 0 {
            self.min_samples
        } else {
            self.min_cluster_size_for(n).min(15)
        }
    }

    pub fn feature_options(&self) -> crate::reads::FeatureOptions {
        crate::reads::FeatureOptions {
            k: self.k,
            coverage: self.coverage,
            skip_invalid: self.skip_invalid,
        }
    }

    /// Per-column weights of a feature matrix with `cols` columns: composition columns 1, the
    /// coverage columns (the last [`COVERAGE_BINS`]) whatever gives them `coverage_share` of the
    /// total. Unweighted, 16 columns against 136 barely count, and a genome whose halves differ
    /// in composition (phage lambda) splits into two bins despite one abundance. Empty (all
    /// weights 1) when there is no coverage block or the share is 0.
    pub fn column_weights(&self, cols: usize) -> Vec<f32> {
        if !self.coverage || cols <= COVERAGE_BINS || self.coverage_share == 0.0 {
            return Vec::new();
        }
        let comp = cols - COVERAGE_BINS;
        let share = self.coverage_share;
        let w = (share / (1.0 - share) * comp as f64 / COVERAGE_BINS as f64) as f32;
        let mut v = vec![1.0; cols];
        v[comp..].iter_mut().for_each(|x| *x = w);
        v
    }

    /// The training settings for features with `cols` columns.
    pub fn train_config(&self, cols: usize) -> TrainConfig {
        TrainConfig {
            column_weights: self.column_weights(cols),
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            w_rl: self.w_rl,
            w_kld: self.w_kld,
            latent: self.latent,
            hidden: self.hidden.clone(),
            logvar: self.logvar,
            seed: self.seed,
        }
    }

    pub fn umap_params(&self) -> UmapParams {
        UmapParams {
            n_neighbors: self.n_neighbors,
            min_dist: self.min_dist,
            n_epochs: self.umap_epochs,
            seed: self.seed,
            ..UmapParams::default()
        }
    }

    pub fn load(path: &Path) -> Result<Settings> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
            path: path.into(),
            reason: format!("cannot read settings: {e}"),
        })?;
        let s: Settings = serde_json::from_str(&text).map_err(|e| Error::Line {
            path: path.into(),
            line: e.line() as u64,
            reason: e.to_string(),
        })?;
        s.validate()?;
        Ok(s)
    }
}

/// Shared progress of the running stage and its cancellation flag; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

#[derive(Debug, Default)]
struct ProgressInner {
    stage: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl Progress {
    pub fn start(&self, stage: &str, total: u64) {
        if let Ok(mut s) = self.inner.stage.lock() {
            *s = stage.to_string();
        }
        self.inner.done.store(0, Ordering::Relaxed);
        self.inner.total.store(total, Ordering::Relaxed);
    }
    pub fn set(&self, done: u64) {
        self.inner.done.store(done, Ordering::Relaxed);
    }
    /// (stage, done, total).
    pub fn get(&self) -> (String, u64, u64) {
        let s = self
            .inner
            .stage
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        (
            s,
            self.inner.done.load(Ordering::Relaxed),
            self.inner.total.load(Ordering::Relaxed),
        )
    }
    pub fn fraction(&self) -> f32 {
        let (_, d, t) = self.get();
        if t == 0 {
            0.0
        } else {
            (d as f32 / t as f32).min(1.0)
        }
    }
    pub fn cancel(&self) {
        self.inner.cancel.store(true, Ordering::Relaxed);
    }
    pub fn cancelled(&self) -> bool {
        self.inner.cancel.load(Ordering::Relaxed)
    }
}

/// One row of `loss.tsv`.
#[derive(Clone, Debug, PartialEq)]
pub struct LossRow {
    pub step: u64,
    pub epoch: usize,
    pub rl: f32,
    pub kld: f32,
    pub total: f32,
}

/// Trains the VAE on its own thread and waits for the latent, passing every event to `on_event`
/// (the CLI draws its progress bar and collects loss rows there). Cancellation stops training.
pub fn train_blocking(
    features: Arc<Matrix>,
    s: &Settings,
    progress: &Progress,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<Matrix> {
    let trainer = Trainer::spawn(features.clone(), s.train_config(features.cols));
    loop {
        match trainer
            .events
            .recv_timeout(std::time::Duration::from_millis(100))
        {
            Ok(ev) => {
                on_event(&ev);
                match ev {
                    TrainEvent::Done { latent, .. } => {
                        if progress.cancelled() {
                            return Err(Error::Cancelled);
                        }
                        return Ok(latent);
                    }
                    TrainEvent::Failed(e) => return Err(Error::Training(e)),
                    _ => {}
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if progress.cancelled() {
                    trainer.stop();
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(Error::Training(
                    "the trainer thread ended without a result".into(),
                ));
            }
        }
    }
}

/// The baseline's map input: the k-mer vectors scaled to [0, 1] as the VAE sees them, each
/// column times the square root of its loss weight, so that distances weigh the blocks as the
/// VAE's loss does.
pub fn baseline_input(features: &Matrix, s: &Settings) -> Matrix {
    let mut m = features.scaled_to_unit(SCALE_CLIP);
    let w = s.column_weights(m.cols);
    if !w.is_empty() {
        let f: Vec<f32> = w.iter().map(|x| x.sqrt()).collect();
        for row in m.data.chunks_mut(m.cols) {
            row.iter_mut().zip(&f).for_each(|(v, f)| *v *= f);
        }
    }
    m
}

/// The 2-D map of `input` (the latent, or the k-mer vectors for the baseline).
pub fn project(input: &Matrix, s: &Settings, progress: &Progress) -> Result<Vec<f32>> {
    progress.start("2-D map (UMAP)", 1);
    let mut cb = |done: usize, total: usize| {
        progress.inner.total.store(total as u64, Ordering::Relaxed);
        progress.set(done as u64);
        !progress.cancelled()
    };
    umap(&input.data, input.cols, &s.umap_params(), &mut cb).ok_or(Error::Cancelled)
}

/// The HDBSCAN hierarchy of the points to cluster (built once per `min_samples`).
pub fn cluster_hierarchy(points: &Matrix, s: &Settings, progress: &Progress) -> Result<Hierarchy> {
    progress.start("clustering (HDBSCAN)", 1);
    let h = build_hierarchy(
        &points.data,
        points.cols,
        s.min_samples_for(points.rows),
        &|| progress.cancelled(),
    )
    .ok_or(Error::Cancelled)?;
    progress.set(1);
    Ok(h)
}

/// Everything a run produced, in memory.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub latent: Option<Matrix>,
    /// n × 2.
    pub map: Matrix,
    pub hierarchy: Hierarchy,
    pub clustering: Clustering,
    pub losses: Vec<LossRow>,
    pub seconds: Vec<(String, f64)>,
}

/// The points HDBSCAN runs on, by the settings.
pub fn cluster_points<'a>(s: &Settings, map: &'a Matrix, latent: &'a Matrix) -> &'a Matrix {
    match s.cluster_on {
        ClusterOn::Map => map,
        ClusterOn::Latent => latent,
    }
}

/// The map of `input` and the HDBSCAN hierarchy of what `cluster_on` names, with the seconds
/// each took; the CLI and the GUI both go through here.
pub struct Mapping {
    /// n × 2.
    pub map: Matrix,
    /// The points the hierarchy was built on (the map, or `input` itself).
    pub points: Matrix,
    pub hierarchy: Hierarchy,
    pub map_seconds: f64,
    pub cluster_seconds: f64,
}

pub fn map_and_cluster(input: &Matrix, s: &Settings, progress: &Progress) -> Result<Mapping> {
    let t = std::time::Instant::now();
    let map = Matrix::new(input.rows, 2, project(input, s, progress)?);
    let map_seconds = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let points = cluster_points(s, &map, input).clone();
    let hierarchy = cluster_hierarchy(&points, s, progress)?;
    Ok(Mapping {
        map,
        points,
        hierarchy,
        map_seconds,
        cluster_seconds: t.elapsed().as_secs_f64(),
    })
}

/// Bin name of a cluster label, as used in file names and `assignments.tsv`.
pub fn bin_name(label: i32) -> String {
    if label < 0 {
        "unbinned".into()
    } else {
        format!("bin_{}", label + 1)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub reads: usize,
    pub bases: u64,
    pub read_n50: u32,
    pub skipped_reads: usize,
    pub bins: usize,
    pub binned_reads: usize,
    pub binned_fraction: f64,
    pub min_cluster_size: usize,
    pub min_samples: usize,
    pub epochs_run: usize,
    pub seconds: serde_json::Map<String, serde_json::Value>,
    pub scores: Option<Scores>,
    /// Bins that refinement split (before → after sizes).
    pub refined: Vec<crate::refine::Split>,
    pub warnings: Vec<String>,
}

/// Writes `out/bins/bin_<n>.fasta` and `unbinned.fasta` in a fresh folder, then swaps it in,
/// so a previous run's bins are never mixed with these.
pub fn write_bins(
    out: &Path,
    index: &ReadIndex,
    c: &Clustering,
    progress: &Progress,
) -> Result<(), Error> {
    let tmp = out.join(format!(".bins.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::write(&tmp, e))?;
    let mut paths: Vec<PathBuf> = (0..c.n_clusters as i32)
        .map(|l| tmp.join(format!("{}.fasta", bin_name(l))))
        .collect();
    paths.push(tmp.join("unbinned.fasta"));
    let unbinned = c.n_clusters;
    let group: Vec<Option<usize>> = c
        .labels
        .iter()
        .map(|&l| Some(if l < 0 { unbinned } else { l as usize }))
        .collect();
    let res = crate::reads::export_fasta(index, &group, &paths, progress);
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let bins = out.join("bins");
    let old = out.join(format!(".bins.old{}", std::process::id()));
    if bins.exists() {
        std::fs::rename(&bins, &old).map_err(|e| Error::write(&bins, e))?;
    }
    std::fs::rename(&tmp, &bins).map_err(|e| Error::write(&bins, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Writes `assignments.tsv`, `loss.tsv`, `settings.json` and `report.json` into `dir`, each
/// atomically.
pub fn write_tables(
    dir: &Path,
    index: &ReadIndex,
    r: &RunResult,
    s: &Settings,
    report: &Report,
) -> Result<()> {
    write_assignments(
        &dir.join("assignments.tsv"),
        index,
        &r.clustering.labels,
        &r.map,
    )?;
    write_atomically(&dir.join("loss.tsv"), |w| {
        let p = dir.join("loss.tsv");
        let io = |e| Error::write(&p, e);
        writeln!(w, "step\tepoch\trl\tkld\ttotal").map_err(io)?;
        for l in &r.losses {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}",
                l.step, l.epoch, l.rl, l.kld, l.total
            )
            .map_err(io)?;
        }
        Ok(())
    })?;
    write_json(&dir.join("settings.json"), s)?;
    write_json(&dir.join("report.json"), report)
}

/// Writes `read_id  bin  x  y` for every read (the map is n × 2), atomically.
pub fn write_assignments(
    path: &Path,
    index: &ReadIndex,
    labels: &[i32],
    map: &Matrix,
) -> Result<()> {
    write_atomically(path, |w| {
        let io = |e| Error::write(path, e);
        writeln!(w, "read_id\tbin\tx\ty").map_err(io)?;
        for ((id, &l), xy) in index.ids.iter().zip(labels).zip(map.data.chunks_exact(2)) {
            writeln!(w, "{id}\t{}\t{}\t{}", bin_name(l), xy[0], xy[1]).map_err(io)?;
        }
        Ok(())
    })
}

/// Pretty JSON of `v`, written atomically.
fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::write(path, e.into()))? + "\n";
    write_atomically(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| Error::write(path, e))
    })
}

/// Writes `m` as a TSV with the read ids in the first column (`read_id  z1  z2 …`).
pub fn write_matrix(path: &Path, index: &ReadIndex, m: &Matrix) -> Result<()> {
    write_atomically(path, |w| {
        let io = |e| Error::write(path, e);
        let head: Vec<String> = (1..=m.cols).map(|j| format!("z{j}")).collect();
        writeln!(w, "read_id\t{}", head.join("\t")).map_err(io)?;
        for i in 0..m.rows {
            let row: Vec<String> = m.row(i).iter().map(|v| v.to_string()).collect();
            writeln!(w, "{}\t{}", index.ids[i], row.join("\t")).map_err(io)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_share_sets_the_block_weights() {
        let s = Settings {
            coverage_share: 0.5,
            ..Settings::default()
        };
        // k = 4: 136 composition columns and 16 coverage columns.
        let w = s.column_weights(152);
        assert_eq!(w.len(), 152);
        assert!(w[..136].iter().all(|&x| x == 1.0));
        let cov: f32 = w[136..].iter().sum();
        assert!((cov / w.iter().sum::<f32>() - 0.5).abs() < 1e-5);
        let s = Settings {
            coverage_share: 0.2,
            ..s
        };
        let w = s.column_weights(152);
        let cov: f32 = w[136..].iter().sum();
        assert!((cov / w.iter().sum::<f32>() - 0.2).abs() < 1e-5);
        // Share 0, or no coverage block: unweighted.
        assert!(Settings::default().column_weights(152).is_empty());
        let no_cov = Settings {
            coverage: false,
            ..s
        };
        assert!(no_cov.column_weights(136).is_empty());
        let bad = Settings {
            coverage_share: 1.0,
            ..Settings::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("coverage share")
        );
    }

    #[test]
    fn baseline_input_weighs_columns_by_the_root_of_their_weight() {
        let n = 50;
        let cols = 4 + COVERAGE_BINS;
        let data: Vec<f32> = (0..n * cols).map(|i| ((i * 37) % 101) as f32).collect();
        let m = Matrix::new(n, cols, data);
        let plain = m.scaled_to_unit(SCALE_CLIP);
        let s = Settings {
            coverage_share: 0.5,
            ..Settings::default()
        };
        let w = s.column_weights(cols);
        let b = baseline_input(&m, &s);
        for r in 0..n {
            for ((got, x), w) in b.row(r).iter().zip(plain.row(r)).zip(&w) {
                assert!((got - x * w.sqrt()).abs() < 1e-6);
            }
        }
    }
}
