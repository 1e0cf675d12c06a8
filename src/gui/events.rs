//! What comes back from the workers: the trainer's events and the jobs' outcomes, taken in
//! once per frame and applied to the explorer's state.
use super::jobs::{Done, JobKind, Outcome, Pick};
use super::selection::Selection;
use super::state::{Dataset, LossLog, MapView};
use super::{Explorer, file_name};
use crate::model::{TrainCommand, TrainEvent};
use std::time::{Duration, Instant};

/// How often a map is drawn while the VAE trains (at most: each waits for the last).
const PREVIEW_EVERY: Duration = Duration::from_secs(3);
use crate::settings::MapInput;
use std::sync::Arc;

impl Explorer {
    /// Takes in what the trainer and the jobs sent since the last frame.
    pub fn poll(&mut self) {
        self.poll_training();
        for done in self.jobs.poll() {
            // A load is for the newest reads opened; other jobs are for the reads in hand.
            let current = match done.outcome {
                Outcome::Loaded(..) => self.load_generation,
                _ => self.data_generation,
            };
            if done.data_generation != 0 && done.data_generation != current {
                continue; // for reads that were since replaced
            }
            let preview_ended = match &done.outcome {
                Outcome::Previewed(_) => true,
                Outcome::Panicked { kind, .. } => *kind == JobKind::Preview,
                _ => false,
            };
            if preview_ended && let Some(t) = &mut self.training {
                t.snapshot_pending = false;
            }
            let stale = match &done.outcome {
                Outcome::Mapped(_) => !self.jobs.is_latest(JobKind::Map, done.id),
                Outcome::Clustered(_) => !self.jobs.is_latest(JobKind::Cut, done.id),
                Outcome::Refined(_) | Outcome::Compared(_) => {
                    !self.jobs.is_latest(JobKind::Refine, done.id)
                }
                Outcome::Previewed(_) => !self.jobs.is_latest(JobKind::Preview, done.id),
                _ => false,
            };
            if stale {
                continue;
            }
            self.apply(done);
        }
    }

    pub(crate) fn poll_training(&mut self) {
        // A training of reads since replaced: its latent would be mapped with the new reads.
        if self
            .training
            .as_ref()
            .is_some_and(|t| t.data_generation != self.data_generation)
        {
            self.abandon_training();
        }
        let Some(t) = &mut self.training else { return };
        let mut finished = None;
        let mut snapshot = None;
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
                TrainEvent::Snapshot { step, latent, .. } => snapshot = Some((step, latent)),
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
        // Every few seconds, the latent of the sampled reads, for a map while training goes on.
        if finished.is_none()
            && !t.snapshot_pending
            && let Some(plan) = &t.plan
            && t.last_snapshot
                .is_none_or(|at| at.elapsed() >= PREVIEW_EVERY)
        {
            let _ = t
                .trainer
                .commands
                .send(TrainCommand::Snapshot(plan.rows.clone()));
            t.last_snapshot = Some(Instant::now());
            t.snapshot_pending = true;
        }
        if let (Some((step, latent)), Some(plan)) = (snapshot, t.plan.clone()) {
            let s = self.settings.clone();
            let previous = self
                .map
                .as_ref()
                .filter(|m| !m.is_final())
                .map(|m| m.cut.clustering.labels.clone());
            let index = self.data.as_ref().map(|d| d.index.clone());
            let labels = self.labels.clone();
            self.jobs.spawn(
                JobKind::Preview,
                "Mapping the latent while training",
                self.data_generation,
                move |progress| {
                    Outcome::Previewed(
                        crate::preview::preview(
                            &plan,
                            &latent,
                            step,
                            &s,
                            previous.as_deref(),
                            progress,
                        )
                        .and_then(|p| {
                            let index = index.ok_or(crate::Error::Cancelled)?;
                            Ok(super::jobs::Shown::of(p, &index, labels.as_deref()))
                        }),
                    )
                },
            );
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
                    let n = self.data.as_ref().map_or(0, |d| d.index.len());
                    self.compare_pending = self.settings.compares(n);
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

    /// Shows a new map and its bins in place of the old.
    fn show_map(&mut self, m: super::jobs::Mapped) {
        // Cuts of the previous map's tree still in flight no longer apply.
        self.jobs.supersede(JobKind::Cut);
        self.map_generation += 1;
        // Edits were of the old map's bins.
        self.history = Default::default();
        self.map = Some(MapView {
            grid: m.grid,
            xy: m.xy,
            points: m.points,
            hierarchy: m.hierarchy,
            cut: m.cut,
            generation: self.map_generation,
            preview: None,
            hierarchy_pending: false,
        });
        self.selection = Selection::default();
        self.refresh_colours();
    }

    /// The k-mer vectors' bins compared with the latent's: shown in their place when the
    /// overlaps doubt fewer of their reads, unless the bins compared with have since changed
    /// (an edit: the user's bins stay).
    fn compared(&mut self, c: super::jobs::Compared) {
        let Some(m) = &self.map else { return };
        if m.cut.clustering.labels != c.latent_labels {
            return;
        }
        self.compared = Some(c.choice);
        self.status = format!(
            "Compared with the k-mer vectors' own bins: {}",
            c.choice.describe()
        );
        if c.choice.kept == MapInput::Kmers {
            self.settings.map_input = MapInput::Kmers;
            self.show_map(c.kmers);
        }
    }

    pub(crate) fn apply(&mut self, done: Done) {
        let (id, data_generation) = (done.id, done.data_generation);
        match done.outcome {
            Outcome::Loaded(path, Ok(loaded)) => {
                self.data_generation = data_generation;
                // Work on the reads replaced would be dropped when done: stop it now.
                for kind in [
                    JobKind::Labels,
                    JobKind::Map,
                    JobKind::Cut,
                    JobKind::Refine,
                    JobKind::Hierarchy,
                ] {
                    self.jobs.supersede(kind);
                }
                let index = loaded.index;
                let warnings = crate::pipeline::skipped_warning(&index);
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
                self.compared = None;
                self.compare_pending = false;
                self.loss = LossLog::default();
                self.selection = Selection::default();
                self.colours.clear();
                if let Some(l) = self.pending_labels.take().or(self.labels_path.clone()) {
                    self.open_labels(l);
                }
                if let Some(session) = self.pending_session.take() {
                    self.restore_session(session);
                }
                if std::mem::take(&mut self.train_after_load) {
                    self.start_training();
                }
            }
            Outcome::Loaded(_, Err(e)) => {
                self.pending_session = None;
                self.errors.push(e.to_string())
            }
            Outcome::SessionSaved(Ok(p)) => {
                self.status = format!("Saved the session to {}", p.display());
            }
            Outcome::SessionSaved(Err(e)) => self.errors.push(e.to_string()),
            Outcome::SessionOpened(path, Ok(s)) => self.open_session_reads(path, *s),
            Outcome::SessionOpened(_, Err(e)) => self.errors.push(e.to_string()),
            Outcome::Restored(generation, Ok(r)) => self.restored(generation, *r),
            Outcome::Restored(_, Err(crate::Error::Cancelled)) => {
                self.status = "The session was not restored (cancelled).".into();
            }
            Outcome::Restored(_, Err(e)) => self.errors.push(e.to_string()),
            Outcome::Hierarchy(generation, Ok(h)) => {
                if let Some(m) = self.map.as_mut().filter(|m| m.generation == generation) {
                    m.hierarchy = h;
                    m.hierarchy_pending = false;
                }
            }
            Outcome::Hierarchy(generation, Err(e)) => {
                // The sliders must not wait for a tree that is not coming: the first re-cut
                // builds it instead (see `recut`).
                if let Some(m) = self
                    .map
                    .as_mut()
                    .filter(|m| m.generation == generation && m.hierarchy_pending)
                {
                    m.hierarchy_pending = false;
                    if matches!(e, crate::Error::Cancelled) {
                        self.status = "The bins' hierarchy was not rebuilt (cancelled): \
                                       changing the min cluster size or min samples rebuilds it."
                            .into();
                    } else {
                        self.errors.push(format!(
                            "Rebuilding the bins' hierarchy failed: {e}. Changing the min \
                             cluster size or min samples tries again."
                        ));
                    }
                }
            }
            Outcome::Labels(path, Ok(l)) => {
                let w = l.warnings(&path);
                self.errors.extend(w);
                self.labels = Some(Arc::new(l));
                self.labels_path = Some(path);
                // Score the bins against the new truth; a cut still in flight was started with
                // the old labels, so it is redone instead (a rescoring in flight while a reopened
                // session's tree is rebuilt, which cannot re-cut yet, is rescored again).
                let can_recut = self.map.as_ref().is_some_and(|m| m.can_recut());
                if self.jobs.is_running(JobKind::Cut) && can_recut {
                    self.recut();
                } else {
                    self.rescore();
                }
                self.refresh_colours();
            }
            Outcome::Labels(_, Err(e)) => self.errors.push(e.to_string()),
            Outcome::Mapped(Ok(m)) => {
                self.status = m.cut.describe(self.settings.refine);
                self.show_map(m);
                self.start_refine();
            }
            Outcome::Clustered(Ok((h, cut))) => {
                if let Some(m) = &mut self.map {
                    if let Some(h) = h {
                        m.hierarchy = h;
                    }
                    self.status = cut.describe(self.settings.refine);
                    let before = std::mem::replace(&mut m.cut, cut);
                    // A new cut replaces edited bins: Ctrl+Z brings them back.
                    let edited = !self.history.undo.is_empty() || !before.names.is_empty();
                    let rescored = before.clustering.labels == m.cut.clustering.labels;
                    if edited && !rescored {
                        self.history.push(before, "re-cut the bins".into());
                    }
                    self.refresh_colours();
                    self.start_refine();
                }
            }
            Outcome::Refined(Ok((cut, graph))) => {
                if let (Some(g), Some(d)) = (graph, &mut self.data) {
                    d.graph = Some(g);
                }
                if let Some(m) = &mut self.map {
                    self.status = cut.describe(false);
                    m.cut = cut;
                    self.refresh_colours();
                }
                if std::mem::take(&mut self.compare_pending) {
                    self.start_compare();
                }
            }
            Outcome::Compared(Ok(c)) => self.compared(*c),
            Outcome::Mapped(Err(e))
            | Outcome::Clustered(Err(e))
            | Outcome::Refined(Err(e))
            | Outcome::Compared(Err(e)) => {
                // The bins a comparison was waiting for did not come.
                self.compare_pending = false;
                if !matches!(e, crate::Error::Cancelled) {
                    self.errors.push(e.to_string());
                }
            }
            Outcome::Planned(plan) => {
                if let Some(t) = self.training_of(data_generation) {
                    t.plan = Some(plan);
                }
            }
            Outcome::Previewed(result) => {
                match result {
                    // Only while that training goes on: the full map, once there, is never
                    // replaced.
                    Ok(p) if self.training_of(data_generation).is_some() => self.show_preview(p),
                    Ok(_) | Err(crate::Error::Cancelled) => {}
                    Err(e) => self.errors.push(e.to_string()),
                }
            }
            Outcome::Panicked {
                kind,
                name,
                message,
            } => {
                self.errors
                    .push(format!("{name} failed: internal error ({message})"));
                // What waited on the job's outcome must not wait for ever.
                match kind {
                    JobKind::Load => self.pending_session = None,
                    JobKind::Hierarchy if self.jobs.is_latest(kind, id) => {
                        if let Some(m) = &mut self.map {
                            m.hierarchy_pending = false;
                        }
                    }
                    _ => {}
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
                Pick::SaveSession => self.save_session(path),
                Pick::OpenSession => self.open_session(path),
                Pick::SessionReads => {
                    if let Some(s) = self.session_waiting_for_reads.take() {
                        self.pending_session = Some(s);
                        self.open_reads(path);
                    }
                }
            },
        }
    }

    /// The training in progress, if it trains on the reads of `generation`.
    fn training_of(&mut self, generation: u64) -> Option<&mut super::Training> {
        self.training
            .as_mut()
            .filter(|t| generation == 0 || t.data_generation == generation)
    }

    /// Shows a map drawn while training. Previews of one training share a view generation, so
    /// the view (pan, zoom) stays where the user put it from one refresh to the next.
    fn show_preview(&mut self, shown: super::jobs::Shown) {
        let Some(d) = &self.data else { return };
        let super::jobs::Shown {
            preview: p,
            cut,
            grid,
        } = shown;
        let generation = match &self.map {
            Some(m) if !m.is_final() => m.generation,
            _ => {
                self.map_generation += 1;
                self.map_generation
            }
        };
        let sampled = self
            .training
            .as_ref()
            .and_then(|t| t.plan.as_ref())
            .map_or(0, |pl| pl.rows.len());
        let which = if sampled < d.index.len() {
            format!("{sampled} sampled reads mapped, each other read beside its nearest")
        } else {
            "every read".into()
        };
        self.status = format!(
            "Training the VAE: map of the latent at step {} ({which}); {} bins so far",
            p.step, cut.clustering.n_clusters
        );
        self.map = Some(MapView {
            grid,
            xy: p.xy,
            points: Arc::new(crate::features::Matrix::default()),
            hierarchy: Arc::new(crate::cluster::Hierarchy::default()),
            cut,
            generation,
            preview: Some(p.step),
            hierarchy_pending: false,
        });
        self.refresh_colours();
    }
}
