//! Work off the UI thread: each job runs on its own thread with a [`Progress`] (shown as a bar,
//! cancellable) and sends one [`Outcome`] back over a crossbeam channel, then wakes the UI.
use super::scatter::Grid;
use crate::Result;
use crate::bins::Cut;
use crate::cluster::Hierarchy;
use crate::features::Matrix;
use crate::pipeline;
use crate::progress::Progress;
use crate::reads::{Labels, LoadedReads, ReadIndex};
use crate::settings::Settings;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::path::PathBuf;
use std::sync::Arc;

/// The kinds of job: one of a kind runs at a time, and a newer one supersedes an older one
/// (exports excepted: see [`JobKind::supersedes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    Load,
    Labels,
    Dialog,
    Map,
    Cut,
    Refine,
    /// Exports: each writes a file of its own, so they run side by side.
    Export,
    /// Maps of the latent while the VAE trains (and the plan they follow).
    Preview,
    /// Sessions: saving and opening.
    Session,
    /// The hierarchy of a reopened session's map (its own kind: saving the session must not
    /// cancel it).
    Hierarchy,
}

impl JobKind {
    fn name(self) -> &'static str {
        match self {
            JobKind::Load => "load",
            JobKind::Labels => "labels",
            JobKind::Dialog => "dialog",
            JobKind::Map => "map",
            JobKind::Cut => "cut",
            JobKind::Refine => "refine",
            JobKind::Export => "export",
            JobKind::Preview => "preview",
            JobKind::Session => "session",
            JobKind::Hierarchy => "hierarchy",
        }
    }

    /// Whether a new job of this kind cancels the one running. Not for exports: a file the
    /// user asked for is never made obsolete by another export, which may even go elsewhere.
    fn supersedes(self) -> bool {
        self != JobKind::Export
    }
}

/// What a file dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pick {
    Reads,
    Labels,
    SaveFasta,
    SaveTsv,
    SaveSession,
    OpenSession,
    /// The reads of a session whose reads file is no longer where it was.
    SessionReads,
}

/// File dialogs, behind a trait so tests inject paths instead of opening a real dialog.
pub trait Dialogs: Send + Sync {
    /// Blocks until the user picks (runs on a job thread, never the UI thread).
    fn pick(&self, purpose: Pick, suggested_name: &str) -> Option<PathBuf>;
}

/// The desktop's own dialogs (xdg portal, or zenity) through rfd.
pub struct NativeDialogs;

impl Dialogs for NativeDialogs {
    fn pick(&self, purpose: Pick, suggested_name: &str) -> Option<PathBuf> {
        let d = rfd::FileDialog::new();
        match purpose {
            Pick::Reads => d
                .set_title("Open reads")
                .add_filter(
                    "Reads (FASTQ/FASTA, gz)",
                    &["fastq", "fq", "fasta", "fa", "fna", "gz"],
                )
                .add_filter("All files", &["*"])
                .pick_file(),
            Pick::Labels => d
                .set_title("Open ground-truth labels")
                .add_filter("Labels (TSV)", &["tsv", "txt"])
                .add_filter("All files", &["*"])
                .pick_file(),
            Pick::SaveFasta => d
                .set_title("Export selected reads")
                .set_file_name(suggested_name)
                .add_filter("FASTA", &["fasta", "fa"])
                .save_file(),
            Pick::SaveTsv => d
                .set_title("Export bin assignments")
                .set_file_name(suggested_name)
                .add_filter("TSV", &["tsv"])
                .save_file(),
            Pick::SaveSession => d
                .set_title("Save session")
                .set_file_name(suggested_name)
                .add_filter("binscape session", &[crate::session::EXTENSION])
                .save_file(),
            Pick::OpenSession => d
                .set_title("Open session")
                .add_filter("binscape session", &[crate::session::EXTENSION])
                .add_filter("All files", &["*"])
                .pick_file(),
            Pick::SessionReads => d
                .set_title(suggested_name)
                .add_filter(
                    "Reads (FASTQ/FASTA, gz)",
                    &["fastq", "fq", "fasta", "fa", "fna", "gz"],
                )
                .add_filter("All files", &["*"])
                .pick_file(),
        }
    }
}

/// A finished map: the 2-D layout and the hierarchy over the points clustered, with the hover
/// grid built on the job's thread (17 ms at a million points, a frame's time on the UI thread).
pub struct Mapped {
    pub xy: Vec<f32>,
    pub grid: Grid,
    pub points: Arc<Matrix>,
    pub hierarchy: Arc<Hierarchy>,
    pub cut: Cut,
}

/// The k-mer vectors' bins made to compare with the latent's (`latent_labels`, the bins they
/// were compared with), and which the overlaps doubt less.
pub struct Compared {
    pub latent_labels: Vec<i32>,
    pub choice: crate::output::MapChoice,
    pub kmers: Mapped,
}

/// A map drawn while training, with what the UI shows of it made on the job's thread: the
/// bins' summaries and the hover grid (15 and 17 ms at a million reads; a refresh every few
/// seconds would drop two frames each time on the UI thread).
pub struct Shown {
    pub preview: crate::preview::Preview,
    pub cut: Cut,
    pub grid: Grid,
}

impl Shown {
    pub fn of(
        preview: crate::preview::Preview,
        index: &ReadIndex,
        labels: Option<&Labels>,
    ) -> Shown {
        let cut = Cut::of(
            preview.clustering.clone(),
            preview.min_cluster_size,
            index,
            labels,
            None,
        );
        let grid = Grid::build(&preview.xy);
        Shown { preview, cut, grid }
    }
}

/// A reopened session's bins as the UI shows them, made on a job.
pub struct Restored {
    pub grid: Grid,
    pub xy: Vec<f32>,
    pub points: Arc<Matrix>,
    pub cut: Cut,
    pub selected: Vec<u32>,
    /// The labels the bins were scored with (the UI's may have come in since).
    pub labels: Option<Arc<Labels>>,
    pub latent: Option<Matrix>,
    pub curves: crate::session::Curves,
}

pub enum Outcome {
    Loaded(PathBuf, Result<LoadedReads>),
    Labels(PathBuf, Result<Labels>),
    Mapped(Result<Mapped>),
    /// A new cut, or a new hierarchy (min samples) and its cut.
    Clustered(Result<(Option<Arc<Hierarchy>>, Cut)>),
    /// The current cut, refined and/or corrected by the overlap graph (a new map or cut
    /// supersedes these in flight), with the graph when this job found it.
    Refined(Result<(Cut, Option<Arc<crate::graph::ReadGraph>>)>),
    /// The k-mer vectors' own bins beside the latent's (a job of the Refine kind: a new cut or
    /// map supersedes it).
    Compared(Result<Box<Compared>>),
    Exported(Result<String>),
    /// Which reads the maps during training show (computed once per training).
    Planned(Arc<crate::preview::PreviewPlan>),
    Previewed(Result<Shown>),
    Picked(Pick, Option<PathBuf>),
    SessionSaved(Result<PathBuf>),
    SessionOpened(PathBuf, Result<Box<crate::session::Session>>),
    /// A reopened session's bins, for the map of that generation (an error: the reads are not
    /// the session's).
    Restored(u64, Result<Box<Restored>>),
    /// The hierarchy of a reopened session's map, for the sliders.
    Hierarchy(u64, Result<Arc<Hierarchy>>),
    /// The job panicked (a bug): reported like a failed job instead of running forever.
    Panicked {
        kind: JobKind,
        name: String,
        message: String,
    },
}

/// A job's result, tagged with the job and with the dataset generation it was started for (a
/// result for reads that were since replaced is dropped).
pub struct Done {
    pub id: u64,
    pub data_generation: u64,
    pub outcome: Outcome,
}

pub struct Running {
    pub id: u64,
    pub name: String,
    pub progress: Progress,
    /// Jobs of the same kind replace each other (a newer cut supersedes an older one).
    pub kind: JobKind,
}

pub struct Jobs {
    tx: Sender<Done>,
    rx: Receiver<Done>,
    pub running: Vec<Running>,
    /// The newest job of each kind: an older one's result is stale when it lands later.
    latest: std::collections::HashMap<JobKind, u64>,
    next_id: u64,
    pub ctx: Option<egui::Context>,
}

impl Default for Jobs {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Jobs {
            tx,
            rx,
            running: Vec::new(),
            latest: Default::default(),
            next_id: 1,
            ctx: None,
        }
    }
}

impl Jobs {
    /// Runs `work` on a new thread; a running job of the same `kind` is cancelled first (unless
    /// the kind runs side by side). A panic in `work` comes back as [`Outcome::Panicked`].
    pub fn spawn(
        &mut self,
        kind: JobKind,
        name: impl Into<String>,
        data_generation: u64,
        work: impl FnOnce(&Progress) -> Outcome + Send + 'static,
    ) -> u64 {
        if kind.supersedes() {
            for r in self.running.iter().filter(|r| r.kind == kind) {
                r.progress.cancel();
            }
        }
        let name = name.into();
        let id = self.next_id;
        self.next_id += 1;
        self.latest.insert(kind, id);
        let progress = Progress::default();
        self.running.push(Running {
            id,
            name: name.clone(),
            progress: progress.clone(),
            kind,
        });
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        std::thread::Builder::new()
            .name(format!("binscape-{}", kind.name()))
            .spawn(move || {
                // Without this a panic would send nothing: the job would show as running for
                // ever and block what waits on its kind.
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&progress)))
                        .unwrap_or_else(|payload| Outcome::Panicked {
                            kind,
                            name,
                            message: panic_message(payload.as_ref()),
                        });
                let _ = tx.send(Done {
                    id,
                    data_generation,
                    outcome,
                });
                if let Some(c) = ctx {
                    c.request_repaint();
                }
            })
            .expect("spawning a job thread");
        id
    }

    /// Results that arrived since the last call; finished jobs leave the running list.
    pub fn poll(&mut self) -> Vec<Done> {
        let done: Vec<Done> = self.rx.try_iter().collect();
        self.running.retain(|r| !done.iter().any(|d| d.id == r.id));
        done
    }

    /// Whether job `id` is the newest of its `kind` (older cuts and maps are dropped).
    pub fn is_latest(&self, kind: JobKind, id: u64) -> bool {
        self.latest.get(&kind) == Some(&id)
    }

    /// Marks every job of `kind` in flight as stale (its input was replaced) and asks it to stop.
    pub fn supersede(&mut self, kind: JobKind) {
        self.latest.remove(&kind);
        for r in self.running.iter().filter(|r| r.kind == kind) {
            r.progress.cancel();
        }
    }

    pub fn is_running(&self, kind: JobKind) -> bool {
        self.running.iter().any(|r| r.kind == kind)
    }

    pub fn cancel_all(&self) {
        for r in &self.running {
            r.progress.cancel();
        }
    }
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".into())
}

/// The map job: 2-D layout of `input`, the hierarchy of the points to cluster, the first cut.
pub fn map_and_cluster(
    input: Arc<Matrix>,
    s: &Settings,
    index: &ReadIndex,
    labels: Option<&Labels>,
    progress: &Progress,
) -> Result<Mapped> {
    let m = pipeline::map_and_cluster(&input, s, progress)?;
    let cut = Cut::chosen(&m.hierarchy, s, index, labels);
    Ok(Mapped {
        grid: Grid::build(&m.map.data),
        xy: m.map.data,
        points: Arc::new(m.points),
        hierarchy: Arc::new(m.hierarchy),
        cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait(jobs: &mut Jobs, n: usize) -> Vec<Done> {
        let start = Instant::now();
        let mut done = Vec::new();
        while done.len() < n {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "jobs never ended"
            );
            done.extend(jobs.poll());
            std::thread::sleep(Duration::from_millis(5));
        }
        done
    }

    #[test]
    fn a_panicking_job_reports_its_panic_and_stops_running() {
        let mut jobs = Jobs::default();
        let id = jobs.spawn(JobKind::Map, "Mapping", 0, |_| panic!("boom {}", 1));
        let done = wait(&mut jobs, 1);
        assert_eq!(done[0].id, id);
        match &done[0].outcome {
            Outcome::Panicked {
                kind,
                name,
                message,
            } => {
                assert_eq!((*kind, name.as_str()), (JobKind::Map, "Mapping"));
                assert_eq!(message, "boom 1");
            }
            _ => panic!("not reported as a panic"),
        }
        assert!(!jobs.is_running(JobKind::Map));
    }

    #[test]
    fn exports_run_side_by_side_but_other_kinds_supersede() {
        let mut jobs = Jobs::default();
        for kind in [JobKind::Export, JobKind::Session] {
            // The first job waits until the second has started, then says if it was cancelled.
            let (go, wait_go) = crossbeam_channel::bounded::<()>(0);
            jobs.spawn(kind, "first", 0, move |p| {
                wait_go.recv().unwrap();
                Outcome::Exported(Ok(p.cancelled().to_string()))
            });
            jobs.spawn(kind, "second", 0, |_| {
                Outcome::Exported(Ok("second".into()))
            });
            go.send(()).unwrap();
            let cancelled: Vec<String> = wait(&mut jobs, 2)
                .into_iter()
                .filter_map(|d| match d.outcome {
                    Outcome::Exported(Ok(m)) if m != "second" => Some(m),
                    _ => None,
                })
                .collect();
            let want = if kind == JobKind::Export {
                "false"
            } else {
                "true"
            };
            assert_eq!(cancelled, [want], "{kind:?}");
        }
    }
}
