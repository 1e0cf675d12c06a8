//! The explorer's actions: each starts work on a job thread (or the trainer) and returns at
//! once. The panels never change the app; they return [`Action`]s, applied here in one place.
use super::colours::ColourBy;
use super::jobs::{self, JobKind, Outcome, Pick};
use super::panels::BinColumn;
use super::scatter::Tool;
use super::state::{LossLog, Training};
use super::{Explorer, file_name};
use crate::bins::{Cut, Edit};
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
    /// The reads drawn in this colour (a legend entry other than a bin's).
    SelectColour {
        colour: egui::Color32,
        add: bool,
    },
    ClearSelection,
    Hover(Option<usize>),
    LossLogScale(bool),
    /// A hand edit of the bins (undoable).
    Edit(Edit),
    Undo,
    Redo,
    /// Sort the bins table by a column (again: the other way round).
    SortBins(BinColumn),
    DismissError(usize),
    CancelJob(u64),
}

impl Explorer {
    /// Carries out one action (at once; any work goes to a worker).
    pub fn act(&mut self, a: Action) {
        // Bins the user re-cuts, refines or edits are theirs: no comparison then replaces them.
        if matches!(
            a,
            Action::Recut | Action::Recluster | Action::Refine | Action::Edit(_)
        ) {
            self.compare_pending = false;
        }
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
                (self.compare_pending, self.compared) = (false, None);
                self.start_training();
            }
            Action::StopTraining => self.stop_training(),
            Action::Map(input) => {
                // A map the user asks for is the one they get.
                self.settings.map_input = input;
                self.compare_pending = false;
                self.start_map();
            }
            Action::Recut => self.recut(),
            Action::Recluster => self.recluster(),
            Action::Refine => self.start_refine(),
            Action::ColourBy(c) => self.set_colour_by(c),
            Action::Tool(t) => self.scatter.tool = t,
            Action::SelectBin { label, add } => self.select_bin(label, add),
            Action::SelectRows { rows, add } => self.select_rows(&rows, add),
            Action::SelectColour { colour, add } => self.select_colour(colour, add),
            Action::ClearSelection => self.clear_selection(),
            Action::Hover(h) => self.hovered = h,
            Action::LossLogScale(l) => self.loss_log_scale = l,
            Action::Edit(e) => self.edit_bins(e),
            Action::Undo => self.undo(),
            Action::Redo => self.redo(),
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

    /// The session as it stands: the final map, its bins with the edits, the selection and the
    /// loss curves. None (with a message) when there is no final map yet.
    fn session(&mut self) -> Option<crate::session::Session> {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            self.errors
                .push("Nothing to save yet: a session holds a map and its bins.".into());
            return None;
        };
        if !m.is_final() {
            self.errors.push(
                "A session can be saved once training has finished and the full map is in.".into(),
            );
            return None;
        }
        let reads = std::path::absolute(&d.index.path).unwrap_or_else(|_| d.index.path.clone());
        let labels = self
            .labels_path
            .as_ref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()));
        Some(crate::session::Session {
            settings: self.settings.clone(),
            reads,
            labels,
            fingerprint: crate::session::Fingerprint::of(&d.index),
            latent: match self.settings.map_input {
                MapInput::Latent => self.latent.as_deref().cloned(),
                MapInput::Kmers => None,
            },
            map: m.xy.clone(),
            min_cluster_size: m.cut.min_cluster_size,
            clustering: m.cut.clustering.clone(),
            names: m.cut.names.clone(),
            refined: m.cut.refined.clone(),
            graph: m.cut.graph.clone(),
            selected: (0..self.selection.rows.len() as u32)
                .filter(|&i| self.selection.rows[i as usize])
                .collect(),
            curves: self.loss.clone(),
            edits: self.history.undo.iter().map(|u| u.1.clone()).collect(),
        })
    }

    /// Saves the session to `path` (on a job: the latent of a million reads is tens of MB).
    pub fn save_session(&mut self, path: PathBuf) {
        let Some(session) = self.session() else {
            return;
        };
        let path = if path.extension().is_none() {
            path.with_extension(crate::session::EXTENSION)
        } else {
            path
        };
        // Tagged 0: whether the file was written is worth saying even once other reads are in.
        self.jobs
            .spawn(JobKind::Session, "Saving the session", 0, move |_| {
                Outcome::SessionSaved(session.save(&path).map(|_| path.clone()))
            });
    }

    /// Opens a saved session: read on a job, then its reads are read again and it is restored.
    pub fn open_session(&mut self, path: PathBuf) {
        let p = path.clone();
        self.jobs.spawn(
            JobKind::Session,
            format!("Opening {}", file_name(&path)),
            0,
            move |_| {
                Outcome::SessionOpened(p.clone(), crate::session::Session::load(&p).map(Box::new))
            },
        );
    }

    /// A session is in: its settings apply and its reads are read again (asked for when the
    /// file is no longer where it was).
    pub(crate) fn open_session_reads(&mut self, path: PathBuf, s: crate::session::Session) {
        self.stop_training();
        self.settings = s.settings.clone();
        self.pending_labels = s.labels.clone().filter(|l| l.exists());
        self.labels_path = None;
        self.status = format!("Opening the session {}", file_name(&path));
        if s.reads.is_file() {
            let reads = s.reads.clone();
            self.pending_session = Some(s);
            self.open_reads(reads);
        } else {
            self.errors.push(format!(
                "The session's reads are no longer at {}: pick where they are now.",
                s.reads.display()
            ));
            self.session_waiting_for_reads = Some(s);
            self.pick(Pick::SessionReads);
        }
    }

    /// Puts a session's map, bins, selection and curves back over the reads just read (which
    /// must be the session's reads). Checking the reads (a hash of every read id) and making its
    /// bins' summaries and hover grid are done on a job (at a million reads 15, 23 and 32 ms,
    /// `cargo bench --bench frame`: four frames on the UI thread); [`Self::restored`] then
    /// shows them and rebuilds the hierarchy for the sliders on another.
    pub(crate) fn restore_session(&mut self, mut s: crate::session::Session) {
        let Some(d) = &self.data else { return };
        let (index, labels) = (d.index.clone(), self.labels.clone());
        self.map_generation += 1;
        let generation = self.map_generation;
        self.history = Default::default();
        self.jobs.spawn(
            JobKind::Hierarchy,
            "Restoring the session's bins",
            self.data_generation,
            move |progress| {
                let restored = s.check_reads(&index).and_then(|()| {
                    // Tens of milliseconds at a million reads: Cancel is heard once, at the end.
                    let cut = s.cut(&index, labels.as_deref());
                    let points = Arc::new(Matrix::new(index.len(), 2, s.map.clone()));
                    let restored = Box::new(super::jobs::Restored {
                        grid: super::scatter::Grid::build(&s.map),
                        xy: std::mem::take(&mut s.map),
                        points,
                        cut,
                        selected: std::mem::take(&mut s.selected),
                        labels,
                        latent: s.latent.take(),
                        curves: std::mem::take(&mut s.curves),
                    });
                    if progress.cancelled() {
                        return Err(crate::Error::Cancelled);
                    }
                    Ok(restored)
                });
                Outcome::Restored(generation, restored)
            },
        );
    }

    /// A reopened session's bins, made on a job by [`Self::restore_session`], shown (unless a
    /// map of its own replaced it meanwhile, or the user started training instead: the
    /// session's curves and latent would mix with the new ones); the hierarchy is then rebuilt
    /// on a job.
    pub(crate) fn restored(&mut self, generation: u64, r: super::jobs::Restored) {
        if generation != self.map_generation || self.training.is_some() {
            return;
        }
        let super::jobs::Restored {
            grid,
            xy,
            points,
            cut,
            selected,
            labels,
            latent,
            curves,
        } = r;
        self.latent = latent.map(Arc::new);
        self.loss = curves;
        self.status = format!(
            "Session restored: {} (no training needed)",
            cut.describe(false)
        );
        self.map = Some(super::MapView {
            grid,
            xy,
            points: points.clone(),
            hierarchy: Arc::new(crate::cluster::Hierarchy::default()),
            cut,
            generation,
            preview: None,
            hierarchy_pending: true,
        });
        self.select_rows(&selected, false);
        // The labels came in while the bins were being summarised: score them.
        let same = match (&labels, &self.labels) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same {
            self.rescore();
        }
        let settings = self.settings.clone();
        self.jobs.spawn(
            JobKind::Hierarchy,
            "Rebuilding the bins' hierarchy",
            self.data_generation,
            move |progress| {
                Outcome::Hierarchy(
                    generation,
                    crate::pipeline::cluster_hierarchy(&points, &settings, progress).map(Arc::new),
                )
            },
        );
    }

    /// Applies a hand edit to the bins shown; the cut before it goes on the undo stack.
    pub fn edit_bins(&mut self, e: Edit) {
        let (Some(d), Some(m)) = (&self.data, &mut self.map) else {
            return;
        };
        if !m.is_final() {
            self.errors.push(
                "Bins can be edited once training has finished and the full map is in.".into(),
            );
            return;
        }
        match m.cut.edited(&e, &d.index, self.labels.as_deref()) {
            Ok(cut) => {
                let what = e.describe(&m.cut);
                let before = std::mem::replace(&mut m.cut, cut);
                self.status = format!("Edited: {what} (Ctrl+Z undoes)");
                self.history.push(before, what);
                self.refresh_colours();
            }
            Err(why) => self.errors.push(format!("Cannot edit the bins: {why}.")),
        }
    }

    pub fn undo(&mut self) {
        self.step_history(false);
    }

    pub fn redo(&mut self) {
        self.step_history(true);
    }

    /// Swaps the cut shown with the newest on the undo (or redo) stack; the cut shown goes on
    /// the other stack.
    fn step_history(&mut self, redo: bool) {
        let Some(m) = &mut self.map else { return };
        let h = &mut self.history;
        let (from, to) = if redo {
            (&mut h.redo, &mut h.undo)
        } else {
            (&mut h.undo, &mut h.redo)
        };
        let Some((cut, what)) = from.pop() else {
            return;
        };
        let now = std::mem::replace(&mut m.cut, cut);
        self.status = format!("{}: {what}", if redo { "Redone" } else { "Undone" });
        to.push((now, what));
        self.refresh_colours();
    }

    pub fn open_reads(&mut self, path: PathBuf) {
        self.load_generation += 1;
        // A latent of these reads is of no use for the next: nothing of it may be mapped.
        self.abandon_training();
        let opt = self.settings.feature_options();
        let p = path.clone();
        self.jobs.spawn(
            JobKind::Load,
            format!("Reading {}", file_name(&path)),
            self.load_generation,
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
            Pick::SaveSession => "session.binscape",
            Pick::SessionReads => "Where are the session's reads now?",
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
            data_generation: self.data_generation,
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

    /// Forgets the training in progress: nothing it sends is taken in any more. Its trainer
    /// still embeds every read once before it ends, so it is dropped (joined) off the UI thread.
    pub(crate) fn abandon_training(&mut self) {
        self.jobs.supersede(JobKind::Preview);
        if let Some(t) = self.training.take() {
            t.trainer.stop();
            std::thread::spawn(move || drop(t));
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

    /// Maps and clusters the latent beside the scaled k-mer vectors ([`pipeline::map_input`];
    /// for the baseline, the vectors alone).
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
        // The vectors' scaling (a quantile per column) runs on the job, not the UI thread.
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
        let index = d.index.clone();
        let labels = self.labels.clone();
        self.jobs.supersede(JobKind::Refine);
        self.jobs.spawn(
            JobKind::Map,
            "Mapping and clustering",
            self.data_generation,
            move |progress| {
                let input = Arc::new(pipeline::map_input(latent.as_deref(), &features, &s));
                Outcome::Mapped(jobs::map_and_cluster(
                    input,
                    &s,
                    &index,
                    labels.as_deref(),
                    progress,
                ))
            },
        );
    }

    /// Refines the current cut and corrects it by the overlap graph on a worker (each as the
    /// settings ask); the plain cut shows meanwhile, so the sliders stay quick and the final
    /// bins replace it when ready. The graph is found once per reads and kept.
    pub fn start_refine(&mut self) {
        let s = self.settings.clone();
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        let refine = s.refine && m.cut.refined.is_none();
        let graph = s.graph && m.cut.graph.is_none();
        if !m.is_final() || !(refine || graph) {
            return;
        }
        let (cut, index, labels) = (m.cut.clone(), d.index.clone(), self.labels.clone());
        let known = d.graph.clone();
        let name = if refine {
            "Refining bins"
        } else {
            "Correcting bins by overlaps"
        };
        self.jobs.spawn(
            JobKind::Refine,
            name,
            self.data_generation,
            move |progress| {
                Outcome::Refined((|| {
                    let mut cut = cut;
                    if refine {
                        cut = cut.refine(&index, labels.as_deref(), &s, progress)?;
                    }
                    let mut found = None;
                    if graph {
                        let g = match known {
                            Some(g) => g,
                            None => {
                                let o = crate::graph::overlaps(&index, progress)?;
                                let g = Arc::new(crate::graph::ReadGraph::new(o, index.len()));
                                found = Some(g.clone());
                                g
                            }
                        };
                        cut = corrected(&g, &cut, &index, labels.as_deref(), &s, progress)?.0;
                    }
                    Ok((cut, found))
                })())
            },
        );
    }

    /// Makes the k-mer vectors' own bins on a worker, mapped, cut, refined and corrected as the
    /// latent's just were, to keep whichever the overlaps doubt fewer reads of (as `binscape
    /// run` does: [`crate::settings::Settings::compares`]).
    pub(crate) fn start_compare(&mut self) {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return;
        };
        let Some(g) = d.graph.clone() else { return };
        if !m.is_final() || m.cut.graph.is_none() {
            return;
        }
        let (features, index, labels) = (d.features.clone(), d.index.clone(), self.labels.clone());
        let s = self.settings.clone();
        let latent_labels = m.cut.clustering.labels.clone();
        self.jobs.spawn(
            JobKind::Refine,
            "Comparing with the k-mer vectors' bins",
            self.data_generation,
            move |progress| {
                Outcome::Compared((|| {
                    let correct = |cut: &crate::bins::Cut| {
                        corrected(&g, cut, &index, labels.as_deref(), &s, progress)
                    };
                    let (k, (cut, _, support)) = pipeline::kmer_bins(
                        &features,
                        &s,
                        &index,
                        labels.as_deref(),
                        correct,
                        progress,
                    )?;
                    let latent_support = crate::graph::support(&latent_labels, &g.adjacency);
                    let choice = crate::output::MapChoice::of(
                        crate::graph::doubted(&latent_labels, &latent_support),
                        crate::graph::doubted(&cut.clustering.labels, &support),
                    );
                    Ok(Box::new(jobs::Compared {
                        latent_labels,
                        choice,
                        kmers: jobs::Mapped {
                            grid: super::scatter::Grid::build(&k.map.data),
                            xy: k.map.data,
                            points: Arc::new(k.points),
                            hierarchy: Arc::new(k.hierarchy),
                            cut,
                        },
                    }))
                })())
            },
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
        let (Some(d), Some(m)) = (&self.data, self.map.as_ref().filter(|m| m.can_recut())) else {
            return;
        };
        // A reopened session's map whose rebuild was cancelled or failed has no tree yet.
        if m.hierarchy.n != m.points.rows {
            return self.recluster();
        }
        let s = self.settings.clone();
        let (h, index, labels) = (m.hierarchy.clone(), d.index.clone(), self.labels.clone());
        self.spawn_cut("Re-cutting bins", move |_| {
            Outcome::Clustered(Ok((None, Cut::chosen(&h, &s, &index, labels.as_deref()))))
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
        let (Some(d), Some(m)) = (&self.data, self.map.as_ref().filter(|m| m.can_recut())) else {
            return;
        };
        let s = self.settings.clone();
        let (points, index, labels) = (m.points.clone(), d.index.clone(), self.labels.clone());
        self.spawn_cut("Clustering (HDBSCAN)", move |progress| {
            Outcome::Clustered(
                crate::pipeline::cluster_hierarchy(&points, &s, progress).map(|h| {
                    let cut = Cut::chosen(&h, &s, &index, labels.as_deref());
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
        // Tagged 0 (as below): the export's outcome is a message, true whatever is open since.
        self.jobs.spawn(
            JobKind::Export,
            format!("Exporting {n} reads"),
            0,
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
        let cut = m.cut.clone();
        let map = Matrix::new(index.len(), 2, m.xy.clone());
        let graph = d.graph.clone();
        self.jobs
            .spawn(JobKind::Export, "Exporting assignments", 0, move |_| {
                let support =
                    graph.map(|g| crate::graph::support(&cut.clustering.labels, &g.adjacency));
                Outcome::Exported(
                    crate::output::write_assignments(&path, &index, &cut, &map, support.as_deref())
                        .map(|_| format!("Wrote the bin of every read to {}", path.display())),
                )
            });
    }
}

/// `cut` corrected by the reads' overlap graph `g` as the settings ask: the refinement job's and
/// the comparison's, as `binscape run` does it ([`pipeline::graph_corrected`]).
fn corrected(
    g: &crate::graph::ReadGraph,
    cut: &crate::bins::Cut,
    index: &crate::reads::ReadIndex,
    labels: Option<&crate::reads::Labels>,
    s: &Settings,
    progress: &crate::Progress,
) -> crate::Result<pipeline::Corrected> {
    pipeline::graph_corrected(
        cut,
        &g.overlaps,
        &g.adjacency,
        index,
        labels,
        s.sequence_vote,
        progress,
    )
}
