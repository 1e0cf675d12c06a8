//! The window's panels: toolbar, settings, map with its tools, loss curves, reads and bins.
use super::colours::{self, ColourBy};
use super::jobs::Pick;
use super::scatter::Tool;
use super::{Explorer, file_name};
use crate::model::LogVar;
use crate::pipeline::{ClusterOn, MapInput, bin_name};
use egui::{Color32, RichText, Slider, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints, VLine};

pub fn show(app: &mut Explorer, ui: &mut Ui) {
    egui::Panel::top("toolbar").show(ui, |ui| toolbar(app, ui));
    if !app.errors.is_empty() {
        egui::Panel::top("errors").show(ui, |ui| errors(app, ui));
    }
    egui::Panel::bottom("status").show(ui, |ui| status(app, ui));
    egui::Panel::left("settings")
        .resizable(true)
        .default_size(290.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| settings(app, ui));
        });
    egui::Panel::right("bins")
        .resizable(true)
        .default_size(420.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| side(app, ui));
        });
    egui::Panel::bottom("loss")
        .resizable(true)
        .default_size(230.0)
        .show(ui, |ui| loss_plot(app, ui));
    egui::CentralPanel::default().show(ui, |ui| map(app, ui));
}

fn toolbar(app: &mut Explorer, ui: &mut Ui) {
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Open reads…")
            .on_hover_text("FASTQ or FASTA, plain or gzipped; or drop a file on the window")
            .clicked()
        {
            app.pick(Pick::Reads);
        }
        let has_data = app.data.is_some();
        if ui
            .add_enabled(has_data, egui::Button::new("Open labels…"))
            .on_hover_text("Ground truth: read_id<TAB>label with a header line")
            .clicked()
        {
            app.pick(Pick::Labels);
        }
        if ui
            .button("Demo reads")
            .on_hover_text("1 200 simulated long reads of 6 species, with their labels")
            .clicked()
        {
            match crate::reads::demo_files() {
                Ok((r, l)) => {
                    app.pending_labels = Some(l);
                    app.labels_path = None;
                    app.open_reads(r);
                }
                Err(e) => app.errors.push(e.to_string()),
            }
        }
        ui.separator();
        let can_export = app.selection.reads > 0 && !app.jobs.is_running("export");
        if ui
            .add_enabled(can_export, egui::Button::new("Export selection…"))
            .on_hover_text("Selected reads to FASTA, with their original ids and full sequences")
            .clicked()
        {
            app.pick(Pick::SaveFasta);
        }
        if ui
            .add_enabled(app.map.is_some(), egui::Button::new("Export assignments…"))
            .on_hover_text("read_id, bin, x, y of every read as TSV")
            .clicked()
        {
            app.pick(Pick::SaveTsv);
        }
        ui.separator();
        let mut cancel = None;
        for r in &app.jobs.running {
            if r.kind == "dialog" {
                continue;
            }
            let (stage, done, total) = r.progress.get();
            let text = if stage.is_empty() {
                r.name.clone()
            } else {
                stage
            };
            ui.add(
                egui::ProgressBar::new(if total > 0 {
                    done as f32 / total as f32
                } else {
                    0.0
                })
                .desired_width(220.0)
                .text(text)
                .animate(true),
            );
            if ui.small_button("Cancel").clicked() {
                cancel = Some(r.id);
            }
        }
        if let Some(id) = cancel
            && let Some(r) = app.jobs.running.iter().find(|r| r.id == id)
        {
            r.progress.cancel();
        }
        if let Some(t) = &app.training {
            let f = if t.steps_total > 0 {
                t.step as f32 / t.steps_total as f32
            } else {
                0.0
            };
            ui.add(
                egui::ProgressBar::new(f)
                    .desired_width(220.0)
                    .text(format!(
                        "Training: epoch {}/{}",
                        t.epoch, app.settings.epochs
                    ))
                    .animate(true),
            );
        }
    });
}

fn errors(app: &mut Explorer, ui: &mut Ui) {
    let mut dismiss = None;
    for (i, e) in app.errors.iter().enumerate() {
        ui.horizontal(|ui| {
            if ui.small_button("Dismiss").clicked() {
                dismiss = Some(i);
            }
            ui.colored_label(Color32::from_rgb(220, 60, 60), e);
        });
    }
    if let Some(i) = dismiss {
        app.errors.remove(i);
    }
}

fn status(app: &mut Explorer, ui: &mut Ui) {
    ui.horizontal(|ui| {
        ui.label(&app.status);
        if let (Some(i), Some(d)) = (app.hovered, &app.data) {
            ui.separator();
            ui.label(hover_text(app, d, i));
        }
    });
}

fn hover_text(app: &Explorer, d: &super::Dataset, i: usize) -> String {
    let bin = app
        .map
        .as_ref()
        .map(|m| bin_name(m.cut.clustering.labels[i]))
        .unwrap_or_default();
    let label = app
        .labels
        .as_ref()
        .and_then(|l| l.name(i).map(str::to_string))
        .unwrap_or_else(|| "—".into());
    format!(
        "{}  ·  {} bp  ·  GC {:.1}%  ·  {bin}  ·  label {label}",
        d.index.ids[i],
        d.index.lengths[i],
        d.index.gc[i] * 100.0
    )
}

/// A labelled slider row; returns the response so callers can see changes and drag ends.
fn slider<T: egui::emath::Numeric>(
    ui: &mut Ui,
    value: &mut T,
    range: std::ops::RangeInclusive<T>,
    label: &str,
    help: &str,
) -> egui::Response {
    ui.add(Slider::new(value, range).text(label))
        .on_hover_text(help)
}

fn settings(app: &mut Explorer, ui: &mut Ui) {
    let busy_training = app.training.is_some();
    ui.heading("Reads");
    slider(
        ui,
        &mut app.settings.k,
        3..=7,
        "k-mer size",
        "Length of the k-mers counted per read (canonical). 4 is the measured best for long \
         reads; larger k gives longer, sparser vectors.",
    );
    ui.checkbox(&mut app.settings.coverage, "Coverage histogram")
        .on_hover_text(
            "Append each read's 15-mer coverage histogram (LRBinner-style): separates genomes \
             of similar composition but different abundance.",
        );
    if app.settings.coverage {
        slider(
            ui,
            &mut app.settings.coverage_share,
            0.0..=0.95,
            "Coverage share",
            "Share of the VAE's reconstruction loss carried by the coverage histogram against \
             the composition (0: every column alike). Higher keeps genomes of one abundance \
             together but mixes genomes of like abundance more. Takes effect at the next \
             training.",
        );
    }
    if let Some(d) = &app.data
        && (d.k != app.settings.k || d.coverage != app.settings.coverage)
    {
        let path = d.index.path.clone();
        ui.colored_label(
            Color32::from_rgb(230, 160, 40),
            "Vectors use other settings.",
        );
        if ui.button("Recompute vectors").clicked() {
            app.open_reads(path);
        }
    }

    ui.separator();
    ui.heading("VAE");
    ui.add_enabled_ui(!busy_training, |ui| {
        slider(
            ui,
            &mut app.settings.latent,
            2..=32,
            "Latent size",
            "Dimensions of the VAE latent that the map is drawn from.",
        );
        // Not clamped: a larger value typed in (or from the command line) is kept.
        ui.add(
            Slider::new(&mut app.settings.epochs, 1..=2000)
                .logarithmic(true)
                .clamping(egui::SliderClamping::Never)
                .text("Epochs"),
        )
        .on_hover_text("Passes over all reads: more gives a cleaner latent, up to a point.");
        ui.add(
            Slider::new(&mut app.settings.learning_rate, 1e-5..=1e-1)
                .logarithmic(true)
                .text("Learning rate"),
        )
        .on_hover_text("Adam step size: too high and the loss jumps or becomes NaN.");
        ui.add(
            Slider::new(&mut app.settings.batch_size, 32..=8192)
                .logarithmic(true)
                .text("Batch size"),
        )
        .on_hover_text("Reads per training step: smaller batches take more, noisier steps.");
        ui.horizontal(|ui| {
            let l = ui.label("Seed");
            ui.add(egui::DragValue::new(&mut app.settings.seed))
                .labelled_by(l.id)
                .on_hover_text("Same seed and settings, same bins (on the same machine).");
        });
        egui::ComboBox::from_label("Log-variance")
            .selected_text(match app.settings.logvar {
                LogVar::Softplus => "softplus (seed)",
                LogVar::Linear => "linear",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(
                    &mut app.settings.logvar,
                    LogVar::Softplus,
                    "softplus (seed)",
                );
                ui.selectable_value(&mut app.settings.logvar, LogVar::Linear, "linear");
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
            Slider::new(&mut app.settings.w_rl, 0.0..=10.0)
                .text("RL weight")
                .logarithmic(true)
                .smallest_positive(1e-3),
        )
        .on_hover_text("Weight of the reconstruction loss (MSE).");
    let kld = ui
        .add(
            Slider::new(&mut app.settings.w_kld, 0.0..=10.0)
                .text("KLD weight")
                .logarithmic(true)
                .smallest_positive(1e-4),
        )
        .on_hover_text(
            "Weight of the KL divergence: higher pulls the latent toward N(0,1), merging close \
             bins. Applied from the trainer's next batch.",
        );
    if rl.changed() || kld.changed() {
        app.send_weights();
    }
    ui.horizontal(|ui| {
        let can_train = app.data.is_some() && !busy_training && !app.jobs.is_running("load");
        if ui
            .add_enabled(can_train, egui::Button::new("Train"))
            .on_hover_text("Train the VAE on the loaded reads, then map and cluster its latent")
            .clicked()
        {
            app.settings.map_input = MapInput::Latent;
            app.start_training();
        }
        if ui
            .add_enabled(busy_training, egui::Button::new("Stop training"))
            .on_hover_text("Stop now and map the latent as it is")
            .clicked()
        {
            app.stop_training();
        }
    });

    ui.separator();
    ui.heading("Map");
    slider(
        ui,
        &mut app.settings.n_neighbors,
        2..=100,
        "Neighbours",
        "UMAP neighbours: more keeps larger-scale structure, fewer splits finer.",
    );
    slider(
        ui,
        &mut app.settings.min_dist,
        0.0..=1.0,
        "Min distance",
        "UMAP minimum distance: smaller packs bins tighter on the map.",
    );
    ui.horizontal(|ui| {
        ui.label("Cluster on");
        ui.radio_value(&mut app.settings.cluster_on, ClusterOn::Map, "map");
        ui.radio_value(&mut app.settings.cluster_on, ClusterOn::Latent, "latent");
    });
    ui.horizontal(|ui| {
        let idle = !app.jobs.is_running("map") && !busy_training;
        if ui
            .add_enabled(
                idle && app.latent.is_some(),
                egui::Button::new("Re-map latent"),
            )
            .on_hover_text("Project and cluster the trained latent again with these settings")
            .clicked()
        {
            app.settings.map_input = MapInput::Latent;
            app.start_map();
        }
        if ui
            .add_enabled(
                idle && app.data.is_some(),
                egui::Button::new("Map k-mers (no VAE)"),
            )
            .on_hover_text("Baseline: map the k-mer vectors directly, without the VAE")
            .clicked()
        {
            app.settings.map_input = MapInput::Kmers;
            app.start_map();
        }
    });

    ui.separator();
    ui.heading("Bins (HDBSCAN)");
    let n = app.data.as_ref().map_or(0, |d| d.index.len());
    let mut mcs = app.settings.min_cluster_size_for(n);
    let hi = (n / 4).max(50);
    let r = ui
        .add_enabled(
            app.map.is_some(),
            Slider::new(&mut mcs, 2..=hi)
                .logarithmic(true)
                .text("Min cluster size"),
        )
        .on_hover_text(
            "Groups smaller than this are not bins: larger merges or drops small genomes. \
             Re-cuts the kept tree at once.",
        );
    if r.changed() {
        app.settings.min_cluster_size = mcs;
        app.recut();
    }
    let mut ms = app.settings.min_samples_for(n);
    let r = ui
        .add_enabled(
            app.map.is_some(),
            Slider::new(&mut ms, 1..=100)
                .logarithmic(true)
                .text("Min samples"),
        )
        .on_hover_text(
            "Higher calls more reads noise (unbinned), making bins purer. Rebuilds the tree \
             when you let go.",
        );
    if r.changed() {
        app.settings.min_samples = ms;
    }
    if r.drag_stopped() || (r.changed() && !r.dragged()) {
        app.recluster();
    }
    let r = ui
        .checkbox(&mut app.settings.refine, "Refine bins")
        .on_hover_text(
            "Look at every bin again on its own 5-mer map and split bins that hold several \
             groups (close relatives, such as two Enterobacteriaceae). Runs after each cut; the \
             plain cut shows meanwhile.",
        );
    if r.changed() {
        if app.settings.refine {
            app.start_refine();
        } else {
            app.recut();
        }
    }
}

fn map(app: &mut Explorer, ui: &mut Ui) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Colour by");
        let mut c = app.colour_by;
        ui.radio_value(&mut c, ColourBy::Bin, "Bin");
        ui.add_enabled_ui(app.labels.is_some(), |ui| {
            ui.radio_value(&mut c, ColourBy::Truth, "Truth")
                .on_disabled_hover_text("Open a labels TSV to colour by the true species");
        });
        ui.radio_value(&mut c, ColourBy::Gc, "GC");
        ui.radio_value(&mut c, ColourBy::Length, "Length");
        if c != app.colour_by {
            app.set_colour_by(c);
        }
        ui.separator();
        ui.label("Tool");
        ui.radio_value(&mut app.scatter.tool, Tool::Pan, "Pan")
            .on_hover_text("Drag to pan, scroll to zoom, double-click to fit");
        ui.radio_value(&mut app.scatter.tool, Tool::Box, "Box")
            .on_hover_text("Drag a box to select reads (Shift adds)");
        ui.radio_value(&mut app.scatter.tool, Tool::Lasso, "Lasso")
            .on_hover_text("Draw around reads to select them (Shift adds)");
        if ui
            .add_enabled(
                app.selection.reads > 0,
                egui::Button::new("Clear selection"),
            )
            .clicked()
        {
            app.clear_selection();
        }
    });
    legend(app, ui);
    let Some(m) = &app.map else {
        ui.centered_and_justified(|ui| {
            ui.label(if app.data.is_none() {
                "Open reads (toolbar, or drop a file here), then Train."
            } else {
                "Train the VAE (left) to draw the map of its latent."
            });
        });
        app.hovered = None;
        return;
    };
    let out = app.scatter.show(
        ui,
        &m.xy,
        &m.grid,
        &app.colours,
        m.generation,
        app.colour_version,
    );
    let clicked_bin = out
        .clicked
        .map(|(i, add)| (m.cut.clustering.labels[i], add));
    app.hovered = out.hovered;
    if let Some((rows, add)) = out.enclosed {
        app.select_rows(&rows, add);
    }
    if let Some((label, add)) = clicked_bin {
        app.select_bin(label, add);
    }
}

/// Clickable legend for categorical colourings (click selects, Shift adds).
fn legend(app: &mut Explorer, ui: &mut Ui) {
    let entries: Vec<(String, Color32, Option<i32>)> = match app.colour_by {
        ColourBy::Bin => app.map.as_ref().map_or(Vec::new(), |m| {
            m.cut
                .bins
                .iter()
                .map(|b| {
                    (
                        format!("{} ({})", bin_name(b.label), b.reads),
                        colours::category(b.label as i64),
                        Some(b.label),
                    )
                })
                .collect()
        }),
        ColourBy::Truth => app.labels.as_ref().map_or(Vec::new(), |l| {
            l.names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), colours::category(i as i64), None))
                .collect()
        }),
        ColourBy::Gc => vec![("low GC → high GC".into(), colours::ramp(0.5), None)],
        ColourBy::Length => vec![("short → long (log)".into(), colours::ramp(0.5), None)],
    };
    ui.horizontal_wrapped(|ui| {
        for (name, c, bin) in entries {
            // Swatch and name wrap together.
            ui.horizontal(|ui| {
                swatch(ui, c);
                // Selectable entries keep the theme's text colour: readable when highlighted.
                let text = match bin {
                    Some(_) => RichText::new(name),
                    None => RichText::new(name).color(c),
                };
                match bin {
                    Some(b) => {
                        let r = ui
                            .selectable_label(app.bin_selected(b), text)
                            .on_hover_text("Click to select this bin, Shift-click to add it");
                        if r.clicked() {
                            let add = ui.input(|i| i.modifiers.shift);
                            app.select_bin(b, add);
                        }
                    }
                    None => {
                        ui.label(text);
                    }
                }
            });
        }
    });
}

fn loss_plot(app: &mut Explorer, ui: &mut Ui) {
    ui.horizontal(|ui| {
        ui.strong("Training loss per batch");
        if let Some(last) = app.loss.total.last() {
            ui.label(format!(
                "step {}  total {:.4}  RL {:.4}  KLD {:.4}",
                last[0],
                last[1],
                app.loss.rl.last().map_or(0.0, |p| p[1]),
                app.loss.kld.last().map_or(0.0, |p| p[1])
            ));
        }
    });
    // Decimate long histories: a curve needs at most a few thousand vertices.
    let thin = |v: &[[f64; 2]]| -> Vec<[f64; 2]> {
        let stride = (v.len() / 4000).max(1);
        v.iter().step_by(stride).copied().collect()
    };
    Plot::new("loss")
        .legend(Legend::default())
        .x_axis_label("step")
        .allow_scroll(false)
        .show(ui, |pu| {
            pu.line(Line::new("total", PlotPoints::from(thin(&app.loss.total))).width(1.5));
            pu.line(Line::new("RL", PlotPoints::from(thin(&app.loss.rl))));
            pu.line(Line::new("KLD", PlotPoints::from(thin(&app.loss.kld))));
            for &(step, w_rl, w_kld) in &app.loss.weight_changes {
                pu.vline(
                    VLine::new(format!("weights RL {w_rl:.3} KLD {w_kld:.4}"), step as f64)
                        .color(Color32::from_rgb(200, 160, 40)),
                );
            }
        });
}

fn side(app: &mut Explorer, ui: &mut Ui) {
    let Some(d) = &app.data else {
        ui.label("No reads loaded.");
        return;
    };
    ui.heading(file_name(&d.index.path));
    egui::Grid::new("read stats").num_columns(2).show(ui, |ui| {
        ui.label("Reads");
        ui.label(thousands(d.index.len() as u64));
        ui.end_row();
        ui.label("Bases");
        ui.label(thousands(d.index.total_bases()));
        ui.end_row();
        ui.label("Read N50");
        ui.label(format!("{} bp", thousands(d.n50 as u64)));
        ui.end_row();
        ui.label("Vector dims");
        ui.label(d.features.cols.to_string());
        ui.end_row();
        if let Some(p) = &app.labels_path {
            ui.label("Labels");
            ui.label(file_name(p));
            ui.end_row();
        }
    });
    let bars: Vec<Bar> = d
        .gc_hist
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new((i as f64 + 0.5) * 2.5, c as f64).width(2.5))
        .collect();
    Plot::new("gc histogram")
        .height(110.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_y(false)
        .x_axis_label("GC %")
        .show(ui, |pu| pu.bar_chart(BarChart::new("reads", bars)));

    ui.separator();
    if app.selection.reads > 0 {
        ui.strong(format!(
            "Selected: {} reads, {} bases",
            thousands(app.selection.reads as u64),
            thousands(app.selection.bases)
        ));
    } else {
        ui.label("Nothing selected: click a bin below, in the legend or on the map.");
    }
    let Some(m) = &app.map else { return };
    if let Some(s) = &m.cut.scores {
        ui.label(format!(
            "ARI {:.3}   precision {:.3}   recall {:.3}   F1 {:.3}",
            s.ari, s.precision, s.recall, s.f1
        ));
    }
    ui.label(format!(
        "{} bins, {:.1}% of reads binned",
        m.cut.clustering.n_clusters,
        100.0 * m.cut.clustering.labels.iter().filter(|&&l| l >= 0).count() as f64
            / m.cut.clustering.labels.len().max(1) as f64
    ));
    let with_truth = app.labels.is_some();
    let mut clicked = None;
    egui::Grid::new("bins table")
        .striped(true)
        .num_columns(if with_truth { 8 } else { 6 })
        .show(ui, |ui| {
            for h in ["Bin", "Reads", "Mb", "Mean len", "GC %", "N50"] {
                ui.strong(h);
            }
            if with_truth {
                ui.strong("Majority label");
                ui.strong("Purity");
            }
            ui.end_row();
            for b in &m.cut.bins {
                let c = colours::category(b.label as i64);
                let text = RichText::new(bin_name(b.label));
                ui.horizontal(|ui| {
                    swatch(ui, c);
                    if ui
                        .selectable_label(app.bin_selected(b.label), text)
                        .on_hover_text("Click to select, Shift-click to add")
                        .clicked()
                    {
                        clicked = Some((b.label, ui.input(|i| i.modifiers.shift)));
                    }
                });
                ui.label(thousands(b.reads as u64));
                ui.label(format!("{:.2}", b.bases as f64 / 1e6));
                ui.label(format!("{:.0}", b.mean_length));
                ui.label(format!("{:.1}", b.gc * 100.0));
                ui.label(thousands(b.n50 as u64));
                if with_truth {
                    match &b.majority {
                        Some((l, p)) => {
                            ui.label(l);
                            ui.label(format!("{:.1}%", p * 100.0));
                        }
                        None => {
                            ui.label("—");
                            ui.label("—");
                        }
                    }
                }
                ui.end_row();
            }
        });
    if let Some((label, add)) = clicked {
        app.select_bin(label, add);
    }
}

/// A small disc of colour `c` (drawn, not a glyph: the bundled fonts have no "●").
fn swatch(ui: &mut Ui, c: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, c);
}

/// 1234567 → "1 234 567" (thin groups read well in a table).
fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}
