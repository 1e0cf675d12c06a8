//! The settings panel: reads, VAE (with the live loss weights), map and bins.
use super::{Action, slider};
use crate::gui::Explorer;
use crate::gui::jobs::JobKind;
use crate::model::LogVar;
use crate::settings::{ClusterOn, MapInput};
use egui::{Color32, RichText, Slider, Ui};

pub(super) fn settings(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
    // Widgets edit a copy; the copy goes out first, then what the edits asked for.
    let mut s = app.settings.clone();
    let mut then = Vec::new();
    let busy_training = app.training.is_some();
    ui.heading("Reads");
    slider(
        ui,
        &mut s.k,
        3..=7,
        "k-mer size",
        "Length of the k-mers counted per read (canonical). 4 is the measured best for long \
         reads; larger k gives longer, sparser vectors.",
    );
    ui.checkbox(&mut s.coverage, "Coverage histogram")
        .on_hover_text(
            "Append each read's 15-mer coverage histogram (LRBinner-style): separates genomes \
             of similar composition but different abundance.",
        );
    if s.coverage {
        slider(
            ui,
            &mut s.coverage_share,
            0.0..=0.95,
            "Coverage share",
            "Share of the VAE's reconstruction loss carried by the coverage histogram against \
             the composition (0: every column alike). Higher keeps genomes of one abundance \
             together but mixes genomes of like abundance more. Takes effect at the next \
             training.",
        );
    }
    if let Some(d) = &app.data
        && (d.k != s.k || d.coverage != s.coverage)
    {
        let path = d.index.path.clone();
        ui.colored_label(
            Color32::from_rgb(230, 160, 40),
            "Vectors use other settings.",
        );
        if ui.button("Recompute vectors").clicked() {
            then.push(Action::OpenReads(path));
        }
    }

    ui.separator();
    ui.heading("VAE");
    ui.add_enabled_ui(!busy_training, |ui| {
        slider(
            ui,
            &mut s.latent,
            2..=32,
            "Latent size",
            "Dimensions of the VAE latent that the map is drawn from.",
        );
        // Epochs: by the step budget (the default, same cost at any number of reads) or fixed.
        let mut fixed = s.epochs.is_some();
        ui.checkbox(&mut fixed, "Fixed epochs").on_hover_text(
            "Off: train for a fixed number of steps (batches), whatever the number of reads. \
             On: a fixed number of passes over all reads.",
        );
        let n = app.data.as_ref().map_or(0, |d| d.index.len());
        match (fixed, s.epochs) {
            (true, None) => s.epochs = Some(s.epochs_for(n.max(1))),
            (false, Some(_)) => s.epochs = None,
            _ => {}
        }
        match &mut s.epochs {
            // Not clamped: a larger value typed in (or from the command line) is kept.
            Some(e) => {
                ui.add(
                    Slider::new(e, 1..=2000)
                        .logarithmic(true)
                        .clamping(egui::SliderClamping::Never)
                        .text("Epochs"),
                )
                .on_hover_text(
                    "Passes over all reads: more gives a cleaner latent, up to a point.",
                );
            }
            None => {
                ui.add(
                    Slider::new(&mut s.train_steps, 100..=20_000)
                        .logarithmic(true)
                        .clamping(egui::SliderClamping::Never)
                        .text("Training steps"),
                )
                .on_hover_text("Batches to train for, whatever the number of reads.");
            }
        }
        ui.add(
            Slider::new(&mut s.learning_rate, 1e-5..=1e-1)
                .logarithmic(true)
                .text("Learning rate"),
        )
        .on_hover_text("Adam step size: too high and the loss jumps or becomes NaN.");
        ui.add(
            Slider::new(&mut s.batch_size, 32..=8192)
                .logarithmic(true)
                .text("Batch size"),
        )
        .on_hover_text("Reads per training step: smaller batches take more, noisier steps.");
        ui.horizontal(|ui| {
            let l = ui.label("Seed");
            ui.add(egui::DragValue::new(&mut s.seed))
                .labelled_by(l.id)
                .on_hover_text("Same seed and settings, same bins (on the same machine).");
        });
        egui::ComboBox::from_label("Log-variance")
            .selected_text(match s.logvar {
                LogVar::Softplus => "softplus (seed)",
                LogVar::Linear => "linear",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut s.logvar, LogVar::Softplus, "softplus (seed)");
                ui.selectable_value(&mut s.logvar, LogVar::Linear, "linear");
            })
            .response
            .on_hover_text(
                "softplus: the seed method, posterior sd at least 1. linear: the encoder may \
                 be more certain, keeping finer differences.",
            );
    });
    ui.label(RichText::new("Loss weights (live while training)").strong());
    let rl = ui
        .add(
            Slider::new(&mut s.w_rl, 0.0..=10.0)
                .text("RL weight")
                .logarithmic(true)
                .smallest_positive(1e-3),
        )
        .on_hover_text("Weight of the reconstruction loss (MSE).");
    let kld = ui
        .add(
            Slider::new(&mut s.w_kld, 0.0..=10.0)
                .text("KLD weight")
                .logarithmic(true)
                .smallest_positive(1e-4),
        )
        .on_hover_text(
            "Weight of the KL divergence: higher pulls the latent toward N(0,1), merging close \
             bins. Applied from the trainer's next batch.",
        );
    if rl.changed() || kld.changed() {
        then.push(Action::SendWeights);
    }
    ui.horizontal(|ui| {
        let can_train = app.data.is_some() && !busy_training && !app.jobs.is_running(JobKind::Load);
        if ui
            .add_enabled(can_train, egui::Button::new("Train"))
            .on_hover_text("Train the VAE on the loaded reads, then map and cluster its latent")
            .clicked()
        {
            then.push(Action::Train);
        }
        if ui
            .add_enabled(busy_training, egui::Button::new("Stop training"))
            .on_hover_text("Stop now and map the latent as it is")
            .clicked()
        {
            then.push(Action::StopTraining);
        }
    });

    ui.separator();
    ui.heading("Map");
    slider(
        ui,
        &mut s.n_neighbors,
        2..=100,
        "Neighbours",
        "UMAP neighbours: more keeps larger-scale structure, fewer splits finer.",
    );
    slider(
        ui,
        &mut s.min_dist,
        0.0..=1.0,
        "Min distance",
        "UMAP minimum distance: smaller packs bins tighter on the map.",
    );
    slider(
        ui,
        &mut s.kmer_share,
        0.0..=0.99,
        "K-mers in map",
        "Share of the map's distances carried by the k-mer vectors beside the latent (0: the \
         latent alone). Together they separate more genomes than either alone on reads from \
         other simulators. Takes effect at the next \"Re-map latent\".",
    );
    ui.horizontal(|ui| {
        ui.label("Cluster on");
        ui.radio_value(&mut s.cluster_on, ClusterOn::Map, "map");
        ui.radio_value(&mut s.cluster_on, ClusterOn::Latent, "latent");
    });
    ui.horizontal(|ui| {
        let idle = !app.jobs.is_running(JobKind::Map) && !busy_training;
        if ui
            .add_enabled(
                idle && app.latent.is_some(),
                egui::Button::new("Re-map latent"),
            )
            .on_hover_text(
                "Project and cluster the trained latent (beside the k-mer vectors, by \
                 \"K-mers in map\") again with these settings",
            )
            .clicked()
        {
            then.push(Action::Map(MapInput::Latent));
        }
        if ui
            .add_enabled(
                idle && app.data.is_some(),
                egui::Button::new("Map k-mers (no VAE)"),
            )
            .on_hover_text("Baseline: map the k-mer vectors directly, without the VAE")
            .clicked()
        {
            then.push(Action::Map(MapInput::Kmers));
        }
    });
    ui.add_enabled(
        s.graph,
        egui::Checkbox::new(&mut s.compare_maps, "Compare with k-mers"),
    )
    .on_hover_text(format!(
        "When training ends, also bin the k-mer vectors alone (up to {} reads, where the VAE \
         has few reads to learn from) and keep whichever bins the reads' overlaps doubt fewer \
         reads of: those that overlap reads yet lie unbinned or with half or fewer of their \
         overlaps in their bin. Needs the overlap graph.",
        crate::settings::COMPARE_MAX_READS
    ));
    if let Some(c) = &app.compared {
        ui.label(egui::RichText::new(c.describe()).small())
            .on_hover_text("The last comparison of the latent's and the k-mer vectors' bins");
    }

    ui.separator();
    ui.heading("Bins (HDBSCAN)");
    let n = app.data.as_ref().map_or(0, |d| d.index.len());
    // Automatic (0) shows the size the cut was made at: the steadiest one.
    let shown = app.map.as_ref().map(|m| &m.cut);
    let mut mcs = match (s.min_cluster_size, shown) {
        (0, Some(c)) => c.min_cluster_size,
        _ => s.min_cluster_size_for(n),
    };
    let hi = (n / 4).max(50);
    let r = ui
        .add_enabled(
            app.map.as_ref().is_some_and(|m| m.can_recut()),
            Slider::new(&mut mcs, 2..=hi)
                .logarithmic(true)
                .text("Min cluster size"),
        )
        .on_hover_text(
            "Groups smaller than this are not bins: larger merges or drops small genomes. \
             Re-cuts the kept tree at once.",
        );
    if r.changed() {
        s.min_cluster_size = mcs;
        then.push(Action::Recut);
    }
    ui.horizontal(|ui| match shown.and_then(|c| c.steady) {
        Some(st) if s.min_cluster_size == 0 => {
            ui.label(format!(
                "auto: {} bins from {} to {}",
                st.bins, st.from, st.to
            ))
            .on_hover_text(
                "Chosen as the middle of the widest range of min cluster sizes over \
                         which the map's cut keeps the same number of bins (before refinement). \
                         Drag the slider to set your own.",
            );
        }
        _ => {
            let auto = ui
                .add_enabled(
                    app.map.as_ref().is_some_and(|m| m.can_recut()),
                    egui::Button::new("Auto"),
                )
                .on_hover_text("Let binscape choose the min cluster size again");
            if auto.clicked() {
                s.min_cluster_size = 0;
                then.push(Action::Recut);
            }
        }
    });
    let mut ms = s.min_samples_for(n);
    let r = ui
        .add_enabled(
            app.map.as_ref().is_some_and(|m| m.can_recut()),
            Slider::new(&mut ms, 1..=100)
                .logarithmic(true)
                .text("Min samples"),
        )
        .on_hover_text(
            "Higher calls more reads noise (unbinned), making bins purer. Rebuilds the tree \
             when you let go.",
        );
    if r.changed() {
        s.min_samples = ms;
    }
    if r.drag_stopped() || (r.changed() && !r.dragged()) {
        then.push(Action::Recluster);
    }
    let r = ui.checkbox(&mut s.refine, "Refine bins").on_hover_text(
        "Look at every bin again on its own 5-mer map and split bins that hold several \
             groups (close relatives, such as two Enterobacteriaceae). Runs after each cut; the \
             plain cut shows meanwhile.",
    );
    if r.changed() {
        then.push(if s.refine {
            Action::Refine
        } else {
            Action::Recut
        });
    }
    let r = ui.checkbox(&mut s.graph, "Overlap graph").on_hover_text(
        "Find which reads overlap (they come from one genome) and let each read's overlaps \
             vote on its bin; a group of overlapping reads the map spread over other bins \
             becomes a bin. Runs after each cut (found once per reads file).",
    );
    if r.changed() {
        then.push(if s.graph {
            Action::Refine
        } else {
            Action::Recut
        });
    }
    let r = ui
        .add_enabled(
            s.graph,
            egui::Checkbox::new(&mut s.sequence_vote, "Sequence vote"),
        )
        .on_hover_text(
            "Reads the overlaps leave in doubt (none, or half or fewer in their bin) go to the \
             bin whose reads' 7-mer statistics explain their sequence best, when clearly better \
             than their own. Runs with the overlap graph.",
        );
    if r.changed() {
        // The corrected cut is the graph's and the vote's together: start again from the cut.
        then.push(Action::Recut);
    }
    if s != app.settings {
        out.push(Action::Settings(s));
    }
    out.extend(then);
}
