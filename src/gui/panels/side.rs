//! The right panel: the reads' statistics and GC histogram, the selection, scores and the
//! bins table.
use super::{Action, swatch, thousands};
use crate::gui::colours;
use crate::gui::{Explorer, file_name};
use crate::output::bin_name;
use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Plot};

pub(super) fn side(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
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
        100.0 * m.cut.binned_reads() as f64 / m.cut.clustering.labels.len().max(1) as f64
    ));
    let with_truth = app.labels.is_some();
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
                        out.push(Action::SelectBin {
                            label: b.label,
                            add: ui.input(|i| i.modifiers.shift),
                        });
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
}
