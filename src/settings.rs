//! Every setting of a run, its validation and what the stages take from it. Saved as
//! `settings.json`, so a run can be repeated exactly (`--settings`).
use crate::embed::UmapParams;
use crate::error::{Error, Result};
use crate::features::{COVERAGE_BINS, KmerTable, MAX_K, MIN_K};
use crate::model::{LogVar, Scaling, TrainConfig};
use crate::reads::FeatureOptions;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Fraction clipped at each end of every feature column before scaling to [0, 1].
pub use crate::features::SCALE_CLIP;

/// Largest batch the trainer takes.
pub const MAX_BATCH: usize = 1 << 20;
/// Widest VAE layer (latent or hidden).
pub const MAX_LAYER: usize = 1 << 14;
pub const MAX_LAYERS: usize = 8;
/// Most VAE weights (1 GiB of f32, before the optimiser's two moments).
pub const MAX_PARAMETERS: u64 = 1 << 28;
pub const MAX_EPOCHS: usize = 1_000_000;
pub const MAX_STEPS: usize = 100_000_000;
/// The step budget, whatever the number of reads: 50 epochs of the 6 000 dev reads at batch
/// 1 024. With the linear log-variance head the latent is as good after 300 steps as after the
/// seed's 300 epochs (1 800 steps): mean ARI over six simulated mixes and the dev reads at
/// three seeds each in the README; training of the dev reads 18 s → 3 s.
pub const DEFAULT_TRAIN_STEPS: usize = 300;
pub const MAX_NEIGHBORS: usize = 1000;
/// The map's default input: the latent beside the k-mer vectors, these with three quarters of
/// the distances (session 18: the latent alone lost to the vectors alone on every mix made by
/// another simulator, PBSIM and Badread; together they beat both there, README).
pub const DEFAULT_KMER_SHARE: f64 = 0.75;
/// Most reads at which a run bins the k-mer vectors alone too ([`Settings::compare_maps`]).
/// Below it the VAE learns from few reads, and the vectors alone binned better on four of six
/// simulated mixes of 5 000 to 8 300 reads (ONT-like by 0.004 to 0.011); at 30 000 reads the
/// latent led on both mixes (by 0.007 and 0.017), and comparing there would double the map,
/// refinement and graph stages for no gain (README, session 25).
pub const COMPARE_MAX_READS: usize = 20_000;
/// Fewest reads worth binning: below this no map or density estimate means anything.
pub const MIN_READS: usize = 30;

/// What the map (and so the clusters) is built from.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MapInput {
    /// The VAE's latent (encoder mean), beside the k-mer vectors by `kmer_share`: the method.
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
    /// The map's input itself: the latent beside the k-mer vectors (the latent alone with
    /// `--kmer-share 0`, the vectors alone with `--map-input kmers`).
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
    /// With the latent as map input: the share of the map's distances that the k-mer vectors
    /// (as the no-VAE baseline maps them) carry beside it, each block scaled to its share of the
    /// total variance; 0 maps the latent alone (the seed's method). 0 when a settings file
    /// predates it, so an old run's `settings.json` maps as that run did.
    #[serde(default)]
    pub kmer_share: f64,
    /// Training passes over the reads; `None` (the default): as many as the step budget
    /// `train_steps` allows, so training costs about the same at 6 000 and 1 000 000 reads.
    pub epochs: Option<usize>,
    /// Optimiser steps (batches) that training is bounded by when `epochs` is not set.
    pub train_steps: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub w_rl: f64,
    pub w_kld: f64,
    pub latent: usize,
    pub hidden: Vec<usize>,
    /// Squashing of the encoder's log-variance (the seed uses softplus; linear learns a useful
    /// latent in a sixth of the steps).
    pub logvar: LogVar,
    /// How the vectors are scaled for the VAE (the seed: [0, 1] and a sigmoid decoder).
    pub scaling: Scaling,
    pub seed: u64,
    pub n_neighbors: usize,
    pub min_dist: f32,
    pub umap_epochs: usize,
    pub cluster_on: ClusterOn,
    /// 0: chosen from the hierarchy ([`crate::cluster::Hierarchy::steadiest`], around 1 % of
    /// the reads, at least 10).
    pub min_cluster_size: usize,
    /// 0: automatic (see [`Settings::min_samples_for`]).
    pub min_samples: usize,
    /// Re-examine every bin on its own 5-mer map and split those that hold several groups
    /// (see [`crate::refine`]).
    pub refine: bool,
    /// Correct the bins by the read-overlap graph (see [`crate::graph`]).
    pub graph: bool,
    /// With the graph: place the reads its overlaps leave in doubt by their bins' sequence
    /// models (see [`crate::markov`]). Off when a settings file predates it, so an old run's
    /// `settings.json` repeats that run.
    #[serde(default)]
    pub sequence_vote: bool,
    /// With the latent as map input and the graph on, in a sample of at most
    /// [`COMPARE_MAX_READS`] reads: also bin the k-mer vectors alone, and keep whichever bins
    /// the overlaps doubt fewer reads of ([`crate::graph::doubted`]). Off when a settings file
    /// predates it, so an old run's `settings.json` repeats that run.
    #[serde(default)]
    pub compare_maps: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            k: 4,
            coverage: true,
            coverage_share: 0.0,
            skip_invalid: false,
            map_input: MapInput::Latent,
            kmer_share: DEFAULT_KMER_SHARE,
            epochs: None,
            train_steps: DEFAULT_TRAIN_STEPS,
            batch_size: 1024,
            learning_rate: 1e-3,
            w_rl: 1.0,
            w_kld: 0.01,
            latent: 8,
            hidden: vec![128, 64],
            logvar: LogVar::Linear,
            scaling: Scaling::Unit,
            seed: 42,
            n_neighbors: 15,
            min_dist: 0.1,
            umap_epochs: 0,
            cluster_on: ClusterOn::Map,
            min_cluster_size: 0,
            min_samples: 0,
            refine: true,
            graph: true,
            sequence_vote: true,
            compare_maps: true,
        }
    }
}

impl Settings {
    /// Whether a run of `reads` reads bins the k-mer vectors alone beside the latent and keeps
    /// the bins its overlaps doubt less ([`Settings::compare_maps`]).
    pub fn compares(&self, reads: usize) -> bool {
        self.compare_maps
            && self.map_input == MapInput::Latent
            && self.graph
            && reads <= COMPARE_MAX_READS
    }

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
        // Sizes beyond these are typing errors, not models: checked here so that they end in a
        // settings error rather than a failed allocation deep in candle (exit 134).
        if self.batch_size > MAX_BATCH {
            return bad(format!(
                "batch size must be at most {MAX_BATCH}, not {}",
                self.batch_size
            ));
        }
        if self.latent > MAX_LAYER || self.hidden.iter().any(|&h| h > MAX_LAYER) {
            return bad(format!(
                "latent and hidden layer sizes must be at most {MAX_LAYER} (got latent {}, hidden {:?})",
                self.latent, self.hidden
            ));
        }
        if self.hidden.len() > MAX_LAYERS {
            return bad(format!(
                "at most {MAX_LAYERS} hidden layers, not {}",
                self.hidden.len()
            ));
        }
        let params = self.vae_parameters();
        if params > MAX_PARAMETERS {
            return bad(format!(
                "a VAE of {params} weights (k = {}, hidden {:?}, latent {}) is too large; at most {MAX_PARAMETERS}",
                self.k, self.hidden, self.latent
            ));
        }
        if self.map_input == MapInput::Latent && (self.epochs == Some(0) || self.train_steps == 0) {
            return bad(
                "epochs must be at least 1 to train the VAE (or --map-input kmers to map the k-mer vectors without it)"
                    .into(),
            );
        }
        if let Some(e) = self.epochs
            && e > MAX_EPOCHS
        {
            return bad(format!("epochs must be at most {MAX_EPOCHS}, not {e}"));
        }
        if self.train_steps > MAX_STEPS {
            return bad(format!(
                "train steps must be at most {MAX_STEPS}, not {}",
                self.train_steps
            ));
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
        if self.map_input == MapInput::Latent && self.w_rl == 0.0 {
            return bad(
                "the reconstruction weight (w-rl) must be above 0: without it the VAE learns nothing of the reads and every read maps to the prior"
                    .into(),
            );
        }
        if !(self.kmer_share >= 0.0 && self.kmer_share < 1.0) {
            return bad(format!(
                "k-mer share must be at least 0 and below 1, not {} (for the k-mer vectors alone use --map-input kmers)",
                self.kmer_share
            ));
        }
        if !(self.coverage_share >= 0.0 && self.coverage_share < 1.0) {
            return bad(format!(
                "coverage share must be at least 0 and below 1, not {}",
                self.coverage_share
            ));
        }
        if !(2..=MAX_NEIGHBORS).contains(&self.n_neighbors) {
            return bad(format!(
                "n-neighbors must be from 2 to {MAX_NEIGHBORS}, not {}",
                self.n_neighbors
            ));
        }
        // UMAP's spread is 1: min_dist is a distance on that scale (umap-learn refuses
        // min_dist > spread too).
        if !(self.min_dist >= 0.0 && self.min_dist <= 1.0) {
            return bad(format!(
                "min-dist must be from 0 to 1, not {}",
                self.min_dist
            ));
        }
        if self.umap_epochs > MAX_EPOCHS {
            return bad(format!(
                "umap-epochs must be at most {MAX_EPOCHS}, not {}",
                self.umap_epochs
            ));
        }
        if self.min_cluster_size == 1 {
            return bad("min cluster size must be at least 2 (or 0 for automatic)".into());
        }
        Ok(())
    }

    /// Weights of the VAE these settings build (encoder, heads and decoder), with coverage.
    pub fn vae_parameters(&self) -> u64 {
        let d = (KmerTable::dims_of(self.k) + if self.coverage { COVERAGE_BINS } else { 0 }) as u64;
        let mut widths = vec![d];
        widths.extend(self.hidden.iter().map(|&h| h as u64));
        let mut p = 0u64;
        for w in widths.windows(2) {
            // Encoder layer and its mirror in the decoder.
            p = p.saturating_add(w[0].saturating_mul(w[1]).saturating_mul(2));
        }
        let last = *widths.last().unwrap_or(&d);
        // mu and logvar heads, and the decoder's first layer.
        p.saturating_add(last.saturating_mul(self.latent as u64).saturating_mul(3))
    }

    /// Refuses settings that cannot bin `n` reads, with what to change.
    pub fn check_reads(&self, n: usize) -> Result<()> {
        let mcs = self.min_cluster_size_for(n);
        if n < MIN_READS {
            return Err(Error::Settings(format!(
                "only {n} reads: binning needs at least {MIN_READS}"
            )));
        }
        if mcs > n / 2 {
            return Err(Error::Settings(format!(
                "min cluster size {mcs} is more than half of the {n} reads: no two bins could be told apart; choose at most {}",
                n / 2
            )));
        }
        if self.n_neighbors >= n {
            return Err(Error::Settings(format!(
                "n-neighbors {} must be below the number of reads ({n})",
                self.n_neighbors
            )));
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

    pub fn feature_options(&self) -> FeatureOptions {
        FeatureOptions {
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

    /// Epochs for `n` reads: as set, or as many whole epochs as the step budget allows (at
    /// least one).
    pub fn epochs_for(&self, n: usize) -> usize {
        self.epochs.unwrap_or_else(|| {
            let batches = n.div_ceil(self.batch_size.max(1)).max(1);
            self.train_steps.div_ceil(batches).max(1)
        })
    }

    /// The training settings for `rows` reads with `cols` feature columns.
    pub fn train_config(&self, rows: usize, cols: usize) -> TrainConfig {
        TrainConfig {
            column_weights: self.column_weights(cols),
            epochs: self.epochs_for(rows),
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            w_rl: self.w_rl,
            w_kld: self.w_kld,
            latent: self.latent,
            hidden: self.hidden.clone(),
            logvar: self.logvar,
            scaling: self.scaling,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_from_before_the_sequence_vote_repeats_its_run_without_it() {
        assert!(Settings::default().sequence_vote);
        let old: Settings = serde_json::from_str(r#"{"graph": true}"#).unwrap();
        assert!(!old.sequence_vote);
        let now: Settings =
            serde_json::from_str(&serde_json::to_string(&Settings::default()).unwrap()).unwrap();
        assert_eq!(now, Settings::default());
    }

    #[test]
    fn the_step_budget_sets_the_epochs() {
        let s = Settings::default();
        // The dev set: 6 batches of 1 024 → 50 epochs.
        assert_eq!(s.epochs_for(6000), 50);
        // A million reads: 977 batches → 1 epoch (some steps more than the budget, never fewer).
        assert_eq!(s.epochs_for(1_000_000), 1);
        assert_eq!(s.epochs_for(10), 300);
        let fixed = Settings {
            epochs: Some(7),
            ..Settings::default()
        };
        assert_eq!(fixed.epochs_for(1_000_000), 7);
        assert!(
            Settings {
                epochs: Some(0),
                ..Settings::default()
            }
            .validate()
            .is_err()
        );
    }

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
}
