//! The explorer's actions: each starts work on a job thread (or the trainer) and returns at
//! once. The panels never change the app; they return [`Action`]s, applied here in one place.
use super::colours::ColourBy;
use super::jobs::{self, JobKind, Outcome, Pick};
use super::panels::BinColumn;
use super::scatter::Tool;
use super::state::{LossLog, Training};
use super::{Explorer, file_name};
use crate::bins::Cut;
use crate::features::Matrix;
use crate::model::{TrainCommand, Trainer};
use crate::pipeline;
use crate::reads;
use crate::settings::{MapInput, Settings};
use std::path::PathBuf;
use std::sync::Arc;

/// What a panel asks for; [`Explorer::act`] carries it out after the frame's panels are drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Pick(Pick),
    OpenReads(PathBuf),
    OpenDemo,
    /// New settings from the settings panel (no work starts by itself).
    Settings(Settings),
    /// Send the loss weights in the settings to the running trainer.
    SendWeights,
    Train,
    StopTraining,
    /// Map and cluster the latent, or the k-mer vectors (no VAE).
    Map(MapInput),
    Recut,
    Recluster,
    Refine,
    ColourBy(ColourBy),
    Tool(Tool),
    SelectBin {
        label: i32,
        add: bool,
    },
    SelectRows {
        rows: Vec<u32>,
        add: bool,
    },
    ClearSelection,
    Hover(Option<usize>),
    LossLogScale(bool),
    /// Sort the bins table by a column (again: the other way round).
    SortBins(BinColumn),
    DismissError(usize),
    CancelJob(u64),
}

impl Explorer {
    /// Carries out one action (at once; any work goes to a worker).
    pub fn act(&mut self, a: Action) {
        match a {
            Action::Pick(p) => self.pick(p),
            Action::OpenReads(p) => self.open_reads(p),
            Action::OpenDemo => match crate::reads::demo_files() {
                Ok((r, l)) => {
                    self.pending_labels = Some(l);
                    self.labels_path = None;
                    self.open_reads(r);
                }
                Err(e) => self.errors.push(e.to_string()),
            },
            Action::Settings(s) => self.settings = s,
            Action::SendWeights => self.send_weights(),
            Action::Train => {
                self.settings.map_input = MapInput::Latent;
                self.start_training();
            }
            Action::StopTraining => self.stop_training(),
            Action::Map(input) => {
                self.settings.map_input = input;
                self.start_map();
            }
            Action::Recut => self.recut(),
            Action::Recluster => self.recluster(),
            Action::Refine => self.start_refine(),
            Action::ColourBy(c) => self.set_colour_by(c),
            Action::Tool(t) => self.scatter.tool = t,
            Action::SelectBin { label, add } => self.select_bin(label, add),
            Action::SelectRows { rows, add } => self.select_rows(&rows, add),
            Action::ClearSelection => self.clear_selection(),
            Action::Hover(h) => self.hovered = h,
            Action::LossLogScale(l) => self.loss_log_scale = l,
            Action::SortBins(c) => {
                self.bin_sort = if self.bin_sort.0 == c {
                    (c, !self.bin_sort.1)
                } else {
                    // Sizes and scores read best largest first; names and GC ascending.
                    let down = !matches!(c, BinColumn::Bin | BinColumn::Gc | BinColumn::Majority);
                    (c, down)
                };
            }
            Action::DismissError(i) => {
                if i < self.errors.len() {
                    self.errors.remove(i);
                }
            }
            Action::CancelJob(id) => {
                if let Some(r) = self.jobs.running.iter().find(|r| r.id == id) {
                    r.progress.cancel();
                }
            }
        }
    }

    pub fn open_reads(&mut self, path: PathBuf) {
        self.data_generation += 1;
        self.stop_training();
        let opt = self.settings.feature_options();
        let p = path.clone();
        self.jobs.spawn(
            JobKind::Load,
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
            JobKind::Labels,
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
        self.jobs.spawn(
            JobKind::Dialog,
            "Waiting for the file dialog",
            0,
            move |_| Outcome::Picked(purpose, dialogs.pick(purpose, name)),
        );
    }

    pub fn start_training(&mut self) {
        let Some(features) = self.data.as_ref().map(|d| d.features.clone()) else {
            return;
        };
        let n = self.data.as_ref().map_or(0, |d| d.index.len());
        if let Err(e) = self.settings.validate().and(self.settings.check_reads(n)) {
            self.errors.push(e.to_string());
            return;
        }
        self.stop_training();
        self.loss = LossLog::default();
        let cfg = self.settings.train_config(features.rows, features.cols);
        let epochs = cfg.epochs;
        let trainer = Trainer::spawn(features, cfg);
        self.training = Some(Training {
            trainer,
            step: 0,
            steps_total: 0,
            epochs,
            plan: None,
            last_snapshot: None,
            snapshot_pending: false,
            epoch: 0,
        });
        // Which reads the maps during training show: computed once, on a job.
        if let Some(features) = self.data.as_ref().map(|d| d.features.clone()) {
            self.jobs.spawn(
                JobKind::Preview,
                "Choosing reads for the maps during training",
                self.data_generation,
                move |_| {
                    Outcome::Planned(Arc::new(crate::preview::PreviewPlan::new(
                        &features,
                        crate::preview::PREVIEW_ROWS,
                    )))
                },
            );
        }
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
        self.jobs.supersede(JobKind::Preview);
        let Some(d) = &self.data else { return };
        if let Err(e) = self
            .settings
            .validate()
            .and(self.settings.check_reads(d.index.len()))
        {
            self.errors.push(e.to_string());
            return;
        }
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
        self.jobs.supersede(JobKind::Refine);
        self.jobs.spawn(
            JobKind::Map,
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
        if m.cut.refined.is_some() || !m.is_final() {
            return;
        }
        let (cut, index, labels) = (m.cut.clone(), d.index.clone(), self.labels.clone());
        let s = self.settings.clone();
        self.jobs.spawn(
            JobKind::Refine,
            "Refining bins",
            self.data_generation,
            move |progress| Outcome::Refined(cut.refine(&index, labels.as_deref(), &s, progress)),
        );
    }

    /// Starts a job that yields a new cut; a refinement of the cut it replaces is then stale.
    pub(crate) fn spawn_cut(
        &mut self,
        name: &str,
        work: impl FnOnce(&crate::Progress) -> Outcome + Send + 'static,
    ) {
        self.jobs.supersede(JobKind::Refine);
        self.jobs
            .spawn(JobKind::Cut, name, self.data_generation, work);
    }

    /// Re-cuts the kept hierarchy at the current min cluster size (no retraining, no new tree).
    pub fn recut(&mut self) {
        let (Some(d), Some(m)) = (&self.data, self.map.as_ref().filter(|m| m.is_final())) else {
            return;
        };
        let mcs = self.settings.min_cluster_size_for(d.index.len());
        let (h, index, labels) = (m.hierarchy.clone(), d.index.clone(), self.labels.clone());
        self.spawn_cut("Re-cutting bins", move |_| {
            Outcome::Clustered(Ok((None, Cut::make(&h, mcs, &index, labels.as_deref()))))
        });
    }

    /// Scores the bins shown against the labels just opened (no re-cut, no re-refinement).
    pub(crate) fn rescore(&mut self) {
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
        let (Some(d), Some(m)) = (&self.data, self.map.as_ref().filter(|m| m.is_final())) else {
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
            JobKind::Export,
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
            JobKind::Export,
            "Exporting assignments",
            self.data_generation,
            move |_| {
                Outcome::Exported(
                    crate::output::write_assignments(&path, &index, &labels, &map)
                        .map(|_| format!("Wrote the bin of every read to {}", path.display())),
                )
            },
        );
    }
}
