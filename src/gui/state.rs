//! What the explorer holds besides the app itself: the reads in memory, the loss curves, the
//! training in progress and the map with its cut.
use super::colours::{self, ColourBy};
use super::scatter::Grid;
use crate::bins::Cut;
use crate::features::Matrix;
use crate::model::Trainer;
use crate::reads::ReadIndex;
use crate::settings::Settings;
use std::path::PathBuf;
use std::sync::Arc;

/// What the explorer opens with (from the command line).
#[derive(Clone, Debug, Default)]
pub struct Startup {
    pub reads: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub settings: Settings,
    /// Start training as soon as the reads are in.
    pub train: bool,
    pub colour_by: Option<ColourBy>,
    /// A saved session to reopen.
    pub session: Option<PathBuf>,
}

/// Reads in memory: the index and the raw composition vectors.
pub struct Dataset {
    pub index: Arc<ReadIndex>,
    pub features: Arc<Matrix>,
    /// k and coverage the vectors were computed with (a change asks for a reload).
    pub k: usize,
    pub coverage: bool,
    /// Reads per 2.5 % GC bin (40 bins).
    pub gc_hist: Vec<u32>,
    pub n50: u32,
    /// Ends of the GC and ln(length) colour ramps, found once here rather than by sorting every
    /// read each time the colours change (every selection click).
    pub gc_range: (f32, f32),
    pub log_length_range: (f32, f32),
    /// The reads' overlap graph, once a job has found it (it depends on the reads alone).
    pub graph: Option<Arc<crate::graph::ReadGraph>>,
}

impl Dataset {
    pub fn new(index: ReadIndex, features: Matrix, k: usize, coverage: bool) -> Dataset {
        let mut gc_hist = vec![0u32; 40];
        for &g in &index.gc {
            gc_hist[((g * 40.0) as usize).min(39)] += 1;
        }
        let log: Vec<f32> = index.lengths.iter().map(|&l| (l as f32).ln()).collect();
        Dataset {
            n50: index.n50(None),
            gc_range: colours::robust_range(&index.gc),
            log_length_range: colours::robust_range(&log),
            index: Arc::new(index),
            features: Arc::new(features),
            k,
            coverage,
            gc_hist,
            graph: None,
        }
    }
}

/// The loss curves, one point per batch, and where the weights changed: what a session saves
/// and restores as it is.
pub type LossLog = crate::session::Curves;

pub struct Training {
    pub trainer: Trainer,
    /// The reads' generation it trains on: its events, previews and latent belong to those
    /// reads alone.
    pub data_generation: u64,
    pub step: u64,
    pub steps_total: u64,
    pub epoch: usize,
    /// Epochs this training runs (set, or from the step budget).
    pub epochs: usize,
    /// The reads the maps during training show, once computed.
    pub plan: Option<Arc<crate::preview::PreviewPlan>>,
    /// When the last snapshot of the latent was asked for, and whether its map is still due.
    pub last_snapshot: Option<std::time::Instant>,
    pub snapshot_pending: bool,
}

/// The map and its clusters.
pub struct MapView {
    pub xy: Vec<f32>,
    pub grid: Grid,
    pub points: Arc<Matrix>,
    pub hierarchy: Arc<crate::cluster::Hierarchy>,
    pub cut: Cut,
    pub generation: u64,
    /// `Some(step)`: a map drawn while training, of the latent at that step (no hierarchy to
    /// re-cut; replaced by the full map when training ends).
    pub preview: Option<u64>,
    /// A reopened session's map whose hierarchy is still being rebuilt (the sliders wait).
    pub hierarchy_pending: bool,
}

impl MapView {
    /// A map of the final latent (or k-mers), with a hierarchy to re-cut.
    pub fn is_final(&self) -> bool {
        self.preview.is_none()
    }

    /// Whether the min cluster size and min samples can re-cut it now.
    pub fn can_recut(&self) -> bool {
        self.is_final() && !self.hierarchy_pending
    }
}

/// Hand edits of the bins that can be undone: each entry is the cut before an edit (or before
/// a re-cut replaced edited bins), with what the edit was.
#[derive(Default)]
pub struct EditHistory {
    pub undo: Vec<(Cut, String)>,
    pub redo: Vec<(Cut, String)>,
}

impl EditHistory {
    /// Undo steps kept (each a copy of the cut: 8 bytes a read).
    pub const DEPTH: usize = 50;

    pub fn push(&mut self, before: Cut, what: String) {
        self.undo.push((before, what));
        if self.undo.len() > Self::DEPTH {
            self.undo.remove(0);
        }
        self.redo.clear();
    }
}

/// What the side panel shows of the one bin selected: its reads' length and GC histograms and,
/// with labels, its label mix (made when the selection or the bins change, not every frame).
#[derive(Clone, Debug, PartialEq)]
pub struct BinDetails {
    pub label: i32,
    /// Reads per length class: (lower bound in bp, count), classes 2^(i/2) kb wide.
    pub lengths: Vec<(f64, u32)>,
    /// Reads per 2.5 % GC class (40 classes).
    pub gc: Vec<u32>,
    /// True labels in the bin, most common first: (label, reads).
    pub label_mix: Vec<(String, usize)>,
}

impl BinDetails {
    pub fn of(
        label: i32,
        bins: &[i32],
        index: &crate::reads::ReadIndex,
        truth: Option<&crate::reads::Labels>,
    ) -> BinDetails {
        let mut lengths = vec![0u32; 24];
        let mut gc = vec![0u32; 40];
        let mut mix = truth.map_or(Vec::new(), |t| vec![0usize; t.names.len()]);
        for (i, _) in bins.iter().enumerate().filter(|(_, l)| **l == label) {
            // Half-octave classes from 250 bp: 250, 354, 500, 707, 1000 …
            let len = index.lengths[i].max(1) as f64;
            let c = ((len / 250.0).log2() * 2.0).floor().clamp(0.0, 23.0) as usize;
            lengths[c] += 1;
            gc[((index.gc[i] * 40.0) as usize).min(39)] += 1;
            if let Some(Some(code)) = truth.map(|t| t.codes[i]) {
                mix[code as usize] += 1;
            }
        }
        let lengths = lengths
            .into_iter()
            .enumerate()
            .map(|(c, n)| (250.0 * 2f64.powf(c as f64 / 2.0), n))
            .collect();
        let mut label_mix: Vec<(String, usize)> = truth.map_or(Vec::new(), |t| {
            t.names
                .iter()
                .cloned()
                .zip(mix)
                .filter(|(_, n)| *n > 0)
                .collect()
        });
        label_mix.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        BinDetails {
            label,
            lengths,
            gc,
            label_mix,
        }
    }
}
