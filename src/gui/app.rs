//! The explorer app: its state, construction, and one frame (poll the workers, draw the
//! panels, apply what they asked for).
use super::actions::Action;
use super::colours::ColourBy;
use super::jobs::{Dialogs, Jobs, NativeDialogs};
use super::panels;
use super::scatter::ScatterView;
use super::selection::Selection;
use super::state::{Dataset, EditHistory, LossLog, MapView, Startup, Training};
use crate::features::Matrix;
use crate::reads::Labels;
use crate::settings::Settings;
use egui::Color32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    pub(crate) colour_version: u64,
    /// The reads' overlap support under the bins shown, keyed by a fingerprint of the bins and
    /// graph: colouring by agreement recomputes it only when they change, not per selection.
    pub(crate) support_cache: std::sync::Mutex<Option<(u64, Arc<Vec<crate::graph::Support>>)>>,
    pub scatter: ScatterView,
    pub jobs: Jobs,
    pub(crate) dialogs: Arc<dyn Dialogs>,
    /// Errors to show until dismissed, newest last.
    pub errors: Vec<String>,
    /// The last finished action, for the status line.
    pub status: String,
    pub hovered: Option<usize>,
    /// Details of the one bin selected (None: no single whole bin selected).
    pub bin_details: Option<super::state::BinDetails>,
    /// Hand edits of the bins, for undo and redo.
    pub history: EditHistory,
    /// The loss plot's y axis: log10 (the default: RL and KLD differ by orders of magnitude).
    pub loss_log_scale: bool,
    /// The bins table's sort: column, and whether descending.
    pub bin_sort: (super::panels::BinColumn, bool),
    /// The generation of the reads in `data`, set when new reads replace the old: jobs are
    /// tagged with it, and results of older reads are dropped.
    pub(crate) data_generation: u64,
    /// Bumped for each reads file opened: only the newest load is taken in. Jobs started while
    /// it loads keep the older reads' generation, so they apply to those reads until then.
    pub(crate) load_generation: u64,
    pub(crate) map_generation: u64,
    /// Set when training ends and the latent is mapped on its own: once its bins are refined and
    /// corrected, the k-mer vectors' own bins are made to compare, as `binscape run` does
    /// ([`Settings::compares`]).
    pub(crate) compare_pending: bool,
    /// The last comparison of the latent's and the k-mer vectors' bins, for the settings panel.
    pub compared: Option<crate::output::MapChoice>,
    /// Labels to open once the reads are in.
    pub(crate) pending_labels: Option<PathBuf>,
    pub(crate) train_after_load: bool,
    /// A session to restore once its reads are in.
    pub(crate) pending_session: Option<crate::session::Session>,
    /// A session whose reads file moved, while the user is asked for it.
    pub(crate) session_waiting_for_reads: Option<crate::session::Session>,
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
            support_cache: Default::default(),
            scatter: ScatterView::default(),
            jobs: Jobs::default(),
            dialogs,
            errors: Vec::new(),
            status: "Open a FASTQ/FASTA file of reads to start.".into(),
            hovered: None,
            bin_details: None,
            history: EditHistory::default(),
            loss_log_scale: true,
            bin_sort: (super::panels::BinColumn::Bin, false),
            data_generation: 0,
            load_generation: 0,
            map_generation: 0,
            compare_pending: false,
            compared: None,
            pending_labels: startup.labels,
            train_after_load: startup.train,
            pending_session: None,
            session_waiting_for_reads: None,
        };
        if let Some(p) = startup.session {
            app.open_session(p);
        } else if let Some(p) = startup.reads {
            app.open_reads(p);
        }
        app
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
            self.act(Action::OpenReads(p));
        }
        // The scatter view (pan, zoom, tool) is the map panel's own widget state.
        let mut scatter = std::mem::take(&mut self.scatter);
        let actions = panels::show(self, &mut scatter, ui);
        self.scatter = scatter;
        for a in actions {
            self.act(a);
        }
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
