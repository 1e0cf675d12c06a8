//! The explorer: an eframe app that drives the headless stages. It holds what the user sees
//! and dispatches work to job threads and the trainer; it never waits on either.
pub mod colours;
pub mod jobs;
mod panels;
pub mod scatter;

use crate::features::Matrix;
use crate::model::{TrainCommand, TrainEvent, Trainer};
use crate::pipeline::{self, MapInput, Settings};
use crate::reads::{self, Labels, ReadIndex};
use colours::ColourBy;
use egui::Color32;
use jobs::{Cut, Dialogs, Done, Jobs, NativeDialogs, Outcome, Pick};
use scatter::{Grid, ScatterView};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the explorer opens with (from the command line).
#[derive(Clone, Debug, Default)]
pub struct Startup {
    pub reads: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub settings: Settings,
    /// Start training as soon as the reads are in.
    pub train: bool,
    pub colour_by: Option<ColourBy>,
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
        }
    }
}

/// The loss curves, one point per batch, and where the weights changed.
#[derive(Default)]
pub struct LossLog {
    pub rl: Vec<[f64; 2]>,
    pub kld: Vec<[f64; 2]>,
    pub total: Vec<[f64; 2]>,
    /// (step, w_rl, w_kld) where new weights took effect.
    pub weight_changes: Vec<(u64, f64, f64)>,
}

pub struct Training {
    pub trainer: Trainer,
    pub step: u64,
    pub steps_total: u64,
    pub epoch: usize,
}

/// The map and its clusters.
pub struct MapView {
    pub xy: Vec<f32>,
    pub grid: Grid,
    pub points: Arc<Matrix>,
    pub hierarchy: Arc<crate::cluster::Hierarchy>,
    pub cut: Cut,
    pub generation: u64,
}

#[derive(Default)]
pub struct Selection {
    pub rows: Vec<bool>,
    pub reads: usize,
    pub bases: u64,
    /// Per bin (index label + 1, so the unbinned come first): wholly selected. Kept up to date
    /// here so the table does not scan every read per row per frame.
    whole_bins: Vec<bool>,
}

pub struct Explorer {
    pub settings: Settings,
    pub data: Option<Dataset>,
    pub labels: Option<Arc<Labels>>,
    pub labels_path: Option<PathBuf>,
    pub training: Option<Training>,
    pub loss: LossLog,
    pub latent: Option<Arc<Matrix>>,
    pub map: Option<MapView>,
    pub selection: Selection,
    pub colour_by: ColourBy,
    pub colours: Vec<Color32>,
    colour_version: u64,
    pub scatter: ScatterView,
    pub jobs: Jobs,
    dialogs: Arc<dyn Dialogs>,
    /// Errors to show until dismissed, newest last.
    pub errors: Vec<String>,
    /// The last finished action, for the status line.
    pub status: String,
    pub hovered: Option<usize>,
    /// Bumped when new reads replace the old: results of older jobs are dropped.
    data_generation: u64,
    map_generation: u64,
    /// Labels to open once the reads are in.
    pending_labels: Option<PathBuf>,
    train_after_load: bool,
}

impl Explorer {
    pub fn new(startup: Startup) -> Self {
        Self::with_dialogs(startup, Arc::new(NativeDialogs))
    }

    /// As [`Explorer::new`] with other file dialogs (tests answer them with fixed paths).
    pub fn with_dialogs(startup: Startup, dialogs: Arc<dyn Dialogs>) -> Self {
        let mut app = Explorer {
            settings: startup.settings,
            data: None,
            labels: None,
            labels_path: None,
            training: None,
            loss: LossLog::default(),
            latent: None,
            map: None,
            selection: Selection::default(),
            colour_by: startup.colour_by.unwrap_or(ColourBy::Bin),
            colours: Vec::new(),
            colour_version: 0,
            scatter: ScatterView::default(),
            jobs: Jobs::default(),
            dialogs,
            errors: Vec::new(),
            status: "Open a FASTQ/FASTA file of reads to start.".into(),
            hovered: None,
            data_generation: 0,
            map_generation: 0,
            pending_labels: startup.labels,
            train_after_load: startup.train,
        };
        if let Some(p) = startup.reads {
            app.open_reads(p);
        }
        app
    }

    // ----- actions (each returns at once; the work runs on a job thread) -----

    pub fn open_reads(&mut self, path: PathBuf) {
        self.data_generation += 1;
        self.stop_training();
        let opt = self.settings.feature_options();
        let p = path.clone();
        self.jobs.spawn(
            "load",
            format!("Reading {}", file_name(&path)),
            self.data_generation,
            move |progress| Outcome::Loaded(p.clone(), reads::load_reads(&p, opt, progress)),
        );
    }

    pub fn open_labels(&mut self, path: PathBuf) {
        let Some(d) = &self.data else {
            self.pending_labels = Some(path);
            return;
        };
        let index = d.index.clone();
        let p = path.clone();
        self.jobs.spawn(
            "labels",
            format!("Reading labels {}", file_name(&path)),
            self.data_generation,
            move |_| Outcome::Labels(p.clone(), reads::load_labels(&p, &index)),
        );
    }

    /// Opens a file dialog on a job thread; the answer arrives as [`Outcome::Picked`].
    pub fn pick(&mut self, purpose: Pick) {
        let dialogs = self.dialogs.clone();
        let name = match purpose {
            Pick::SaveFasta => "selection.fasta",
            Pick::SaveTsv => "assignments.tsv",
            _ => "",
        };
        self.jobs
            .spawn("dialog", "Waiting for the file dialog", 0, move |_| {
                Outcome::Picked(purpose, dialogs.pick(purpose, name))
            });
    }

    pub fn start_training(&mut self) {
        let Some(features) = self.data.as_ref().map(|d| d.features.clone()) else {
            return;
        };
        if let Err(e) = self.settings.validate() {
            self.errors.push(e.to_string());
            return;
        }
        self.stop_training();
        self.loss = LossLog::default();
        let cols = features.cols;
        let trainer = Trainer::spawn(features, self.settings.train_config(cols));
        self.training = Some(Training {
            trainer,
            step: 0,
            steps_total: 0,
            epoch: 0,
        });
        self.status = "Training the VAE…".into();
    }

    /// Stops training; the trainer still sends the latent it has, which is then mapped.
    pub fn stop_training(&mut self) {
        if let Some(t) = &self.training {
            t.trainer.stop();
        }
    }

    /// Sends new loss weights to the running trainer (applied from its next batch).
    pub fn send_weights(&mut self) {
        if let Some(t) = &self.training {
            let _ = t.trainer.commands.send(TrainCommand::SetWeights {
                w_rl: self.settings.w_rl,
                w_kld: self.settings.w_kld,
            });
        }
    }

    /// Maps and clusters the latent (or, for the baseline, the scaled k-mer vectors).
    pub fn start_map(&mut self) {
        let Some(d) = &self.data else { return };
        // The baseline's scaling (a quantile per column) runs on the job, not the UI thread.
        let latent = match (self.settings.map_input, &self.latent) {
            (MapInput::Latent, Some(l)) => Some(l.clone()),
            (MapInput::Latent, None) => {
                self.status = "Train the VAE first (or map the k-mer vectors directly).".into();
                return;
            }
            (MapInput::Kmers, _) => None,
        };
        let features = d.features.clone();
        let s = self.settings.clone();
        let mcs = s.min_cluster_size_for(d.index.len());
        let index = d.index.clone();
        let labels = self.labels.clone();
        self.jobs.supersede("refine");
        self.jobs.spawn(
            "map",
            "Mapping and clustering",
            self.data_generation,
            move |progress| {
                let input =
                    latent.unwrap_or_else(|| Arc::new(pipeline::baseline_input(&features, &s)));
                Outcome::Mapped(jobs::map_and_cluster(
                    input,
                    &s,
                    mcs,
                    &index,
                    labels.as_deref(),
                    progress,
                ))
            },
        );
    }

    /// Refines the current cut on a worker; the plain cut shows meanwhile, so the sliders stay
    /// quick and the refined bins replace it when ready.
    pub fn start_refine(&mut self) {
        if !self.settings.refine {
            return;
        }
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        if m.cut.refined.is_some() {
            return;
        }
        let (cut, index, labels) = (m.cut.clone(), d.index.clone(), self.labels.clone());
        let s = self.settings.clone();
        self.jobs.spawn(
            "refine",
            "Refining bins",
            self.data_generation,
            move |progress| Outcome::Refined(cut.refine(&index, labels.as_deref(), &s, progress)),
        );
    }

    /// Starts a job that yields a new cut; a refinement of the cut it replaces is then stale.
    fn spawn_cut(
        &mut self,
        name: &str,
        work: impl FnOnce(&crate::Progress) -> Outcome + Send + 'static,
    ) {
        self.jobs.supersede("refine");
        self.jobs.spawn("cut", name, self.data_generation, work);
    }

    /// Re-cuts the kept hierarchy at the current min cluster size (no retraining, no new tree).
    pub fn recut(&mut self) {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        let mcs = self.settings.min_cluster_size_for(d.index.len());
        let (h, index, labels) = (m.hierarchy.clone(), d.index.clone(), self.labels.clone());
        self.spawn_cut("Re-cutting bins", move |_| {
            Outcome::Clustered(Ok((None, Cut::make(&h, mcs, &index, labels.as_deref()))))
        });
    }

    /// Scores the bins shown against the labels just opened (no re-cut, no re-refinement).
    fn rescore(&mut self) {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        let (cut, index, labels) = (m.cut.clone(), d.index.clone(), self.labels.clone());
        self.spawn_cut("Scoring bins", move |_| {
            Outcome::Clustered(Ok((None, cut.rescored(&index, labels.as_deref()))))
        });
    }

    /// Rebuilds the hierarchy for a new min samples, then cuts it.
    pub fn recluster(&mut self) {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        let s = self.settings.clone();
        let mcs = s.min_cluster_size_for(d.index.len());
        let (points, index, labels) = (m.points.clone(), d.index.clone(), self.labels.clone());
        self.spawn_cut("Clustering (HDBSCAN)", move |progress| {
            Outcome::Clustered(
                crate::pipeline::cluster_hierarchy(&points, &s, progress).map(|h| {
                    let cut = Cut::make(&h, mcs, &index, labels.as_deref());
                    (Some(Arc::new(h)), cut)
                }),
            )
        });
    }

    pub fn export_selection(&mut self, path: PathBuf) {
        let Some(d) = &self.data else { return };
        if self.selection.reads == 0 {
            self.errors
                .push("Nothing is selected: pick bins in the table or on the map first.".into());
            return;
        }
        let group: Vec<Option<usize>> = self
            .selection
            .rows
            .iter()
            .map(|&s| s.then_some(0))
            .collect();
        let (index, n) = (d.index.clone(), self.selection.reads);
        self.jobs.spawn(
            "export",
            format!("Exporting {n} reads"),
            self.data_generation,
            move |progress| {
                Outcome::Exported(
                    reads::export_fasta(&index, &group, std::slice::from_ref(&path), progress)
                        .map(|_| format!("Wrote {n} reads to {}", path.display())),
                )
            },
        );
    }

    pub fn export_assignments(&mut self, path: PathBuf) {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        let index = d.index.clone();
        let labels = m.cut.clustering.labels.clone();
        let map = Matrix::new(index.len(), 2, m.xy.clone());
        self.jobs.spawn(
            "export",
            "Exporting assignments",
            self.data_generation,
            move |_| {
                Outcome::Exported(
                    crate::pipeline::write_assignments(&path, &index, &labels, &map)
                        .map(|_| format!("Wrote the bin of every read to {}", path.display())),
                )
            },
        );
    }

    // ----- selection and colours -----

    /// Selects (or with `add`, adds) every read of bin `label` (negative: the unbinned).
    pub fn select_bin(&mut self, label: i32, add: bool) {
        let Some(m) = &self.map else { return };
        let rows: Vec<u32> = (0..m.cut.clustering.labels.len() as u32)
            .filter(|&i| m.cut.clustering.labels[i as usize] == label)
            .collect();
        self.select_rows(&rows, add);
    }

    pub fn select_rows(&mut self, rows: &[u32], add: bool) {
        let n = self.data.as_ref().map_or(0, |d| d.index.len());
        if self.selection.rows.len() != n || !add {
            self.selection.rows = vec![false; n];
        }
        for &r in rows {
            self.selection.rows[r as usize] = true;
        }
        self.update_selection_totals();
    }

    pub fn clear_selection(&mut self) {
        self.selection = Selection::default();
        self.refresh_colours();
    }

    fn update_selection_totals(&mut self) {
        let Some(d) = &self.data else { return };
        let (mut reads, mut bases) = (0, 0u64);
        for (i, &s) in self.selection.rows.iter().enumerate() {
            if s {
                reads += 1;
                bases += d.index.lengths[i] as u64;
            }
        }
        self.selection.reads = reads;
        self.selection.bases = bases;
        self.refresh_colours();
    }

    /// Whether bin `label` is wholly selected (highlights its table row).
    pub fn bin_selected(&self, label: i32) -> bool {
        self.selection
            .whole_bins
            .get((label + 1) as usize)
            .copied()
            .unwrap_or(false)
    }

    fn recount_whole_bins(&mut self) {
        let Some(m) = &self.map else { return };
        let c = &m.cut.clustering;
        let mut seen = vec![false; c.n_clusters + 1];
        let mut whole = vec![self.selection.reads > 0; c.n_clusters + 1];
        if self.selection.rows.len() == c.labels.len() {
            for (&l, &s) in c.labels.iter().zip(&self.selection.rows) {
                let b = (l + 1) as usize;
                seen[b] = true;
                whole[b] &= s;
            }
        }
        self.selection.whole_bins = whole.iter().zip(&seen).map(|(&w, &s)| w && s).collect();
    }

    pub fn set_colour_by(&mut self, c: ColourBy) {
        self.colour_by = c;
        self.refresh_colours();
    }

    /// Per-read colours for the current mode and selection.
    pub fn refresh_colours(&mut self) {
        self.colour_version += 1;
        self.recount_whole_bins();
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            self.colours.clear();
            return;
        };
        let n = d.index.len();
        let mut c: Vec<Color32> = match self.colour_by {
            ColourBy::Bin => m
                .cut
                .clustering
                .labels
                .iter()
                .map(|&l| colours::category(l as i64))
                .collect(),
            ColourBy::Truth => match &self.labels {
                Some(l) => l
                    .codes
                    .iter()
                    .map(|c| colours::category(c.map_or(-1, |c| c as i64)))
                    .collect(),
                None => vec![colours::GREY; n],
            },
            ColourBy::Gc => {
                let (lo, hi) = d.gc_range;
                d.index
                    .gc
                    .iter()
                    .map(|&g| colours::ramp((g - lo) / (hi - lo)))
                    .collect()
            }
            ColourBy::Length => {
                let (lo, hi) = d.log_length_range;
                d.index
                    .lengths
                    .iter()
                    .map(|&l| colours::ramp(((l as f32).ln() - lo) / (hi - lo)))
                    .collect()
            }
        };
        if self.selection.reads > 0 {
            for (c, &s) in c.iter_mut().zip(&self.selection.rows) {
                if !s {
                    *c = colours::dim(*c);
                }
            }
        }
        self.colours = c;
    }

    // ----- events from workers -----

    /// Takes in what the trainer and the jobs sent since the last frame.
    pub fn poll(&mut self) {
        self.poll_training();
        for done in self.jobs.poll() {
            if done.data_generation != 0 && done.data_generation != self.data_generation {
                continue; // for reads that were since replaced
            }
            let stale = match &done.outcome {
                Outcome::Mapped(_) => !self.jobs.is_latest("map", done.id),
                Outcome::Clustered(_) => !self.jobs.is_latest("cut", done.id),
                Outcome::Refined(_) => !self.jobs.is_latest("refine", done.id),
                _ => false,
            };
            if stale {
                continue;
            }
            self.apply(done);
        }
    }

    fn poll_training(&mut self) {
        let Some(t) = &mut self.training else { return };
        let mut finished = None;
        for ev in t.trainer.events.try_iter() {
            match ev {
                TrainEvent::Batch {
                    epoch,
                    step,
                    steps_total,
                    rl,
                    kld,
                    total,
                } => {
                    let x = step as f64;
                    self.loss.rl.push([x, rl as f64]);
                    self.loss.kld.push([x, kld as f64]);
                    self.loss.total.push([x, total as f64]);
                    (t.step, t.steps_total, t.epoch) = (step, steps_total, epoch);
                }
                TrainEvent::Epoch { .. } => {}
                TrainEvent::WeightsApplied {
                    step, w_rl, w_kld, ..
                } => self.loss.weight_changes.push((step, w_rl, w_kld)),
                TrainEvent::Done {
                    latent,
                    epochs_run,
                    stopped,
                } => {
                    finished = Some(Ok((latent, epochs_run, stopped)));
                    break;
                }
                TrainEvent::Failed(e) => {
                    finished = Some(Err(e));
                    break;
                }
            }
        }
        match finished {
            Some(Ok((latent, epochs, stopped))) => {
                self.training = None;
                self.latent = Some(Arc::new(latent));
                self.status = format!(
                    "Training {} after {epochs} epochs; mapping the latent…",
                    if stopped { "stopped" } else { "finished" }
                );
                if self.settings.map_input == MapInput::Latent {
                    self.start_map();
                }
            }
            Some(Err(e)) => {
                self.training = None;
                self.errors.push(format!("Training failed: {e}"));
            }
            None => {}
        }
    }

    fn apply(&mut self, done: Done) {
        match done.outcome {
            Outcome::Loaded(path, Ok(loaded)) => {
                let index = loaded.index;
                let mut warnings = Vec::new();
                if !index.skipped.is_empty() {
                    warnings.push(format!(
                        "{}: left out {} reads with no valid k-mer",
                        path.display(),
                        index.skipped.len()
                    ));
                }
                self.status = format!(
                    "Read {} reads ({} bases) from {}",
                    index.len(),
                    index.total_bases(),
                    file_name(&path)
                );
                self.data = Some(Dataset::new(
                    index,
                    loaded.features,
                    self.settings.k,
                    self.settings.coverage,
                ));
                self.errors.extend(warnings);
                self.labels = None;
                self.latent = None;
                self.map = None;
                self.loss = LossLog::default();
                self.selection = Selection::default();
                self.colours.clear();
                if let Some(l) = self.pending_labels.take().or(self.labels_path.clone()) {
                    self.open_labels(l);
                }
                if std::mem::take(&mut self.train_after_load) {
                    self.start_training();
                }
            }
            Outcome::Loaded(_, Err(e)) => self.errors.push(e.to_string()),
            Outcome::Labels(path, Ok(l)) => {
                let w = l.warnings(&path);
                self.errors.extend(w);
                self.labels = Some(Arc::new(l));
                self.labels_path = Some(path);
                // Score the bins against the new truth; a cut still in flight was started with
                // the old labels, so it is redone instead.
                if self.jobs.is_running("cut") {
                    self.recut();
                } else {
                    self.rescore();
                }
                self.refresh_colours();
            }
            Outcome::Labels(_, Err(e)) => self.errors.push(e.to_string()),
            Outcome::Mapped(Ok(m)) => {
                // Cuts of the previous map's tree still in flight no longer apply.
                self.jobs.supersede("cut");
                self.map_generation += 1;
                self.status = m.cut.describe(self.settings.refine);
                self.map = Some(MapView {
                    grid: Grid::build(&m.xy),
                    xy: m.xy,
                    points: m.points,
                    hierarchy: m.hierarchy,
                    cut: m.cut,
                    generation: self.map_generation,
                });
                self.selection = Selection::default();
                self.refresh_colours();
                self.start_refine();
            }
            Outcome::Clustered(Ok((h, cut))) => {
                if let Some(m) = &mut self.map {
                    if let Some(h) = h {
                        m.hierarchy = h;
                    }
                    self.status = cut.describe(self.settings.refine);
                    m.cut = cut;
                    self.refresh_colours();
                    self.start_refine();
                }
            }
            Outcome::Refined(Ok(cut)) => {
                if let Some(m) = &mut self.map {
                    self.status = cut.describe(false);
                    m.cut = cut;
                    self.refresh_colours();
                }
            }
            Outcome::Mapped(Err(e)) | Outcome::Clustered(Err(e)) | Outcome::Refined(Err(e)) => {
                if !matches!(e, crate::Error::Cancelled) {
                    self.errors.push(e.to_string());
                }
            }
            Outcome::Exported(Ok(msg)) => self.status = msg,
            Outcome::Exported(Err(e)) => self.errors.push(format!("Export failed: {e}")),
            Outcome::Picked(_, None) => {}
            Outcome::Picked(purpose, Some(path)) => match purpose {
                Pick::Reads => self.open_reads(path),
                Pick::Labels => self.open_labels(path),
                Pick::SaveFasta => self.export_selection(path),
                Pick::SaveTsv => self.export_assignments(path),
            },
        }
    }

    /// One frame of the whole window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.jobs.ctx = Some(ctx.clone());
        self.poll();
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.open_reads(p);
        }
        panels::show(self, ui);
        // Keep polling while anything runs: progress bars move and curves grow.
        if self.training.is_some() || !self.jobs.running.is_empty() {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    pub fn is_busy(&self) -> bool {
        self.training.is_some() || !self.jobs.running.is_empty()
    }
}

impl eframe::App for Explorer {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self) {
        self.stop_training();
        self.jobs.cancel_all();
    }
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Opens the explorer window (blocks until it is closed).
pub fn run(startup: Startup) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("binscape")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "binscape",
        options,
        Box::new(|_cc| Ok(Box::new(Explorer::new(startup)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the explorer window: {e}"))
}
