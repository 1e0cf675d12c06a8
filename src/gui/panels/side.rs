//! The right panel: the reads' statistics and GC histogram, the selection, scores and the
//! bins table.
use super::{Action, swatch, thousands};
use crate::bins::{BinSummary, Edit};
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
    histogram("gc histogram", 110.0, "GC %").show(ui, |pu| {
        pu.bar_chart(BarChart::new("reads", gc_bars(&d.gc_hist)))
    });

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
    edit_bins(app, ui, out);
    bin_details(app, ui);
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
    bins_table(app, &m.cut.bins, ui, out);
}

/// The one bin selected: its numbers, the quality signs, and its length, GC and label mix.
fn bin_details(app: &Explorer, ui: &mut Ui) {
    let (Some(det), Some(m)) = (&app.bin_details, &app.map) else {
        return;
    };
    let Some(b) = m.cut.bins.iter().find(|b| b.label == det.label) else {
        return;
    };
    egui::CollapsingHeader::new(format!("Bin details: {}", m.cut.name(b.label)))
        .default_open(true)
        .show(ui, |ui| {
            let dash = || "—".to_string();
            ui.label(format!(
                "{} reads, {:.2} Mb, GC {:.1} % ± {:.1}, N50 {} bp",
                thousands(b.reads as u64),
                b.bases as f64 / 1e6,
                b.gc * 100.0,
                b.gc_sd * 100.0,
                thousands(b.n50 as u64)
            ));
            ui.label(format!(
                "15-mer coverage {}   membership {:.2}   overlaps inside {}   genome {}",
                b.coverage.map_or_else(dash, |c| format!("{c:.1}")),
                b.membership,
                b.agreement
                    .map_or_else(dash, |a| format!("{:.0} %", a * 100.0)),
                b.genome.map_or_else(dash, |g| if g.size.is_finite() {
                    format!("{:.2} Mb at {:.1}×", g.size / 1e6, g.coverage)
                } else {
                    "? (no overlaps)".into()
                })
            ))
            .on_hover_text(
                "Coverage: median count of the reads' sampled 15-mers (relative abundance). \
                 Membership: mean HDBSCAN strength (how deep in their group the reads sit). \
                 Overlaps inside: share of the reads' overlaps that stay in the bin (binscape run). \
                 Genome: the size and coverage the reads' lengths and overlaps imply.",
            );
            ui.columns(2, |cols| {
                let bars: Vec<Bar> = det
                    .lengths
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, n))| *n > 0)
                    .map(|(i, &(_, n))| Bar::new(i as f64, n as f64).width(0.9))
                    .collect();
                let classes = det.lengths.clone();
                histogram(("bin lengths", det.label), 90.0, "read length (kb)")
                    .x_axis_formatter(move |mark, _| {
                        let i = mark.value.round();
                        classes
                            .get(i as usize)
                            .filter(|_| (mark.value - i).abs() < 1e-6 && i >= 0.0)
                            .map_or(String::new(), |c| format!("{:.1}", c.0 / 1000.0))
                    })
                    .show(&mut cols[0], |pu| pu.bar_chart(BarChart::new("reads", bars)));
                histogram(("bin gc", det.label), 90.0, "GC %").show(&mut cols[1], |pu| {
                    pu.bar_chart(BarChart::new("reads", gc_bars(&det.gc)))
                });
            });
            if !det.label_mix.is_empty() {
                let total: usize = det.label_mix.iter().map(|x| x.1).sum();
                let mix: Vec<String> = det
                    .label_mix
                    .iter()
                    .take(5)
                    .map(|(l, n)| format!("{l} {:.1} %", 100.0 * *n as f64 / total as f64))
                    .collect();
                ui.label(format!("Labels: {}", mix.join(", ")));
            }
        });
}

/// Merge, new bin, move, rename, undo and redo.
fn edit_bins(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
    let Some(m) = &app.map else { return };
    let cut = &m.cut;
    let whole: Vec<i32> = (0..cut.clustering.n_clusters as i32)
        .filter(|&b| app.bin_selected(b))
        .collect();
    let selected_rows = || -> Vec<u32> {
        (0..app.selection.rows.len() as u32)
            .filter(|&i| app.selection.rows[i as usize])
            .collect()
    };
    let editable = m.is_final();
    ui.horizontal_wrapped(|ui| {
        ui.label("Edit bins:");
        if ui
            .add_enabled(editable && whole.len() >= 2, egui::Button::new("Merge"))
            .on_hover_text("Merge the selected bins into one (select bins with Shift-click)")
            .on_disabled_hover_text("Select two or more whole bins (Shift-click in the table or legend)")
            .clicked()
        {
            out.push(Action::Edit(Edit::Merge { bins: whole.clone() }));
        }
        if ui
            .add_enabled(editable && app.selection.reads > 0, egui::Button::new("New bin"))
            .on_hover_text("Make a new bin of the selected reads (draw a lasso around part of a bin to split it)")
            .clicked()
        {
            out.push(Action::Edit(Edit::NewBin { rows: selected_rows() }));
        }
        // The target of "Move to", kept in egui's memory (a panel does not change the app).
        let id = egui::Id::unique("binscape move target");
        let mut to: i32 = ui.data(|d| d.get_temp(id)).unwrap_or(0);
        if to >= cut.clustering.n_clusters as i32 {
            to = 0;
        }
        let before = to;
        // Plain widgets in the wrapped row: an enabled-scope around them started a vertical
        // layout (a tall combo box with its label stacked letter by letter).
        if ui
            .add_enabled(
                editable && app.selection.reads > 0,
                egui::Button::new("Move to"),
            )
            .on_hover_text("Move the selected reads to the bin chosen beside")
            .clicked()
        {
            out.push(Action::Edit(Edit::Move {
                rows: selected_rows(),
                to,
            }));
        }
        egui::ComboBox::new("move to", "")
            .selected_text(cut.name(to))
            .width(90.0)
            .show_ui(ui, |ui| {
                for b in (0..cut.clustering.n_clusters as i32).chain([crate::cluster::NOISE]) {
                    ui.selectable_value(&mut to, b, cut.name(b));
                }
            })
            .response
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Move target")
            });
        if to != before {
            ui.data_mut(|d| d.insert_temp(id, to));
        }
        ui.separator();
        let undo = app.history.undo.last().map(|u| u.1.clone());
        if ui
            .add_enabled(undo.is_some(), egui::Button::new("Undo"))
            .on_hover_text(format!("Undo {} (Ctrl+Z)", undo.unwrap_or_default()))
            .clicked()
        {
            out.push(Action::Undo);
        }
        let redo = app.history.redo.last().map(|u| u.1.clone());
        if ui
            .add_enabled(redo.is_some(), egui::Button::new("Redo"))
            .on_hover_text(format!("Redo {} (Ctrl+Shift+Z)", redo.unwrap_or_default()))
            .clicked()
        {
            out.push(Action::Redo);
        }
    });
    // Rename: exactly one whole bin selected.
    if let [b] = whole[..] {
        ui.horizontal(|ui| {
            let id = egui::Id::unique(("binscape rename", b, m.generation));
            let mut name: String = ui.data(|d| d.get_temp(id)).unwrap_or_else(|| cut.name(b));
            let r = ui.add(
                egui::TextEdit::singleline(&mut name)
                    .desired_width(140.0)
                    .hint_text("bin name"),
            );
            ui.data_mut(|d| d.insert_temp(id, name.clone()));
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui
                .add_enabled(editable, egui::Button::new("Rename"))
                .on_hover_text(
                    "Give the selected bin a name (used in the table, the legend and the exports)",
                )
                .clicked()
                || enter)
                && name.trim() != cut.name(b)
            {
                out.push(Action::Edit(Edit::Rename { bin: b, name }));
            }
        });
    }
}

/// A column of the bins table, to sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinColumn {
    Bin,
    Reads,
    Mb,
    MeanLength,
    Gc,
    GcSd,
    N50,
    Membership,
    Coverage,
    Agreement,
    Genome,
    Majority,
    Purity,
}

impl BinColumn {
    const PLAIN: [BinColumn; 11] = [
        BinColumn::Bin,
        BinColumn::Reads,
        BinColumn::Mb,
        BinColumn::MeanLength,
        BinColumn::Gc,
        BinColumn::GcSd,
        BinColumn::N50,
        BinColumn::Membership,
        BinColumn::Coverage,
        BinColumn::Agreement,
        BinColumn::Genome,
    ];

    fn title(self) -> (&'static str, &'static str) {
        match self {
            BinColumn::Bin => ("Bin", "Click to select, Shift-click to add"),
            BinColumn::Reads => ("Reads", "Reads in the bin"),
            BinColumn::Mb => ("Mb", "Bases in the bin, millions"),
            BinColumn::MeanLength => ("Len", "Mean read length (bp)"),
            BinColumn::Gc => ("GC%", "GC of the bin's bases"),
            BinColumn::GcSd => (
                "±GC",
                "Standard deviation of the reads' GC (points): one genome's reads spread by sampling noise alone, a mixed bin wider",
            ),
            BinColumn::N50 => ("N50", "Read N50 (bp)"),
            BinColumn::Membership => (
                "Memb.",
                "Mean HDBSCAN membership (0–1): how deep inside their group of the map the reads sit; low for a bin made of a diffuse shoulder",
            ),
            BinColumn::Coverage => (
                "Cov.",
                "Median 15-mer coverage of the reads: relative abundance of the bin's genome (comparable between bins of one sample)",
            ),
            BinColumn::Agreement => (
                "Ovl%",
                "Share of the reads' overlaps that stay in the bin (from `binscape run`'s overlap graph): needs no truth; low when the bin shares reads' loci with another",
            ),
            BinColumn::Genome => (
                "Genome",
                "Genome size (Mb) the bin's reads imply: their bases over the coverage their overlaps show (from `binscape run`'s overlap graph). A bacterial genome is 1–10 Mb; far less is a phage, a plasmid or a stretch of a genome that composition set apart",
            ),
            BinColumn::Majority => ("Majority", "Most common true label in the bin"),
            BinColumn::Purity => (
                "Purity",
                "Share of the bin's labelled reads with that label",
            ),
        }
    }

    /// Orders two bins by this column (ascending).
    fn cmp(self, a: &BinSummary, b: &BinSummary) -> std::cmp::Ordering {
        let f = |x: f64, y: f64| x.total_cmp(&y);
        let o = |x: Option<f64>, y: Option<f64>| {
            f(
                x.unwrap_or(f64::NEG_INFINITY),
                y.unwrap_or(f64::NEG_INFINITY),
            )
        };
        match self {
            BinColumn::Bin => a.label.cmp(&b.label),
            BinColumn::Reads => a.reads.cmp(&b.reads),
            BinColumn::Mb => a.bases.cmp(&b.bases),
            BinColumn::MeanLength => f(a.mean_length, b.mean_length),
            BinColumn::Gc => f(a.gc, b.gc),
            BinColumn::GcSd => f(a.gc_sd, b.gc_sd),
            BinColumn::N50 => a.n50.cmp(&b.n50),
            BinColumn::Membership => f(a.membership, b.membership),
            BinColumn::Coverage => o(a.coverage, b.coverage),
            BinColumn::Agreement => o(a.agreement, b.agreement),
            BinColumn::Genome => o(a.genome.map(|g| g.size), b.genome.map(|g| g.size)),
            BinColumn::Majority => a
                .majority
                .as_ref()
                .map(|m| &m.0)
                .cmp(&b.majority.as_ref().map(|m| &m.0)),
            BinColumn::Purity => o(
                a.majority.as_ref().map(|m| m.1),
                b.majority.as_ref().map(|m| m.1),
            ),
        }
    }
}

/// The bins in the order the table shows them: by `column` (then by bin), unbinned last.
pub fn sorted_bins(bins: &[BinSummary], column: BinColumn, descending: bool) -> Vec<&BinSummary> {
    let mut v: Vec<&BinSummary> = bins.iter().filter(|b| b.label >= 0).collect();
    v.sort_by(|a, b| {
        let o = column.cmp(a, b);
        (if descending { o.reverse() } else { o }).then(a.label.cmp(&b.label))
    });
    v.extend(bins.iter().filter(|b| b.label < 0));
    v
}

/// The bins table: one compact row per bin, every column sortable by its header.
fn bins_table(app: &Explorer, bins: &[BinSummary], ui: &mut Ui, out: &mut Vec<Action>) {
    let with_truth = app.labels.is_some();
    let mut columns = BinColumn::PLAIN.to_vec();
    if with_truth {
        columns.extend([BinColumn::Majority, BinColumn::Purity]);
    }
    let (sort, descending) = app.bin_sort;
    let dash = || "—".to_string();
    egui::ScrollArea::horizontal()
        .id_salt("bins table scroll")
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing.x = 6.0;
            egui::Grid::new("bins table")
                .striped(true)
                .num_columns(columns.len())
                .show(ui, |ui| {
                    for &c in &columns {
                        let (title, help) = c.title();
                        let mark = match (c == sort, descending) {
                            (true, true) => " v",
                            (true, false) => " ^",
                            _ => "",
                        };
                        if ui
                            .add(
                                egui::Button::new(RichText::new(format!("{title}{mark}")).strong())
                                    .frame(false),
                            )
                            .on_hover_text(format!("{help}. Click to sort."))
                            .clicked()
                        {
                            out.push(Action::SortBins(c));
                        }
                    }
                    ui.end_row();
                    for b in sorted_bins(bins, sort, descending) {
                        for &c in &columns {
                            match c {
                                BinColumn::Bin => {
                                    let colour = colours::category(b.label as i64);
                                    ui.horizontal(|ui| {
                                        swatch(ui, colour);
                                        if ui
                                            .selectable_label(
                                                app.bin_selected(b.label),
                                                RichText::new(app.map.as_ref().map_or_else(
                                                    || bin_name(b.label),
                                                    |m| m.cut.name(b.label),
                                                )),
                                            )
                                            .on_hover_text("Click to select, Shift-click to add")
                                            .clicked()
                                        {
                                            out.push(Action::SelectBin {
                                                label: b.label,
                                                add: ui.input(|i| i.modifiers.shift),
                                            });
                                        }
                                    });
                                }
                                _ => {
                                    let text = match c {
                                        BinColumn::Reads => thousands(b.reads as u64),
                                        BinColumn::Mb => format!("{:.2}", b.bases as f64 / 1e6),
                                        BinColumn::MeanLength => format!("{:.0}", b.mean_length),
                                        BinColumn::Gc => format!("{:.1}", b.gc * 100.0),
                                        BinColumn::GcSd => format!("{:.1}", b.gc_sd * 100.0),
                                        BinColumn::N50 => thousands(b.n50 as u64),
                                        BinColumn::Membership => format!("{:.2}", b.membership),
                                        BinColumn::Coverage => {
                                            b.coverage.map_or_else(dash, |v| format!("{v:.1}"))
                                        }
                                        BinColumn::Agreement => b
                                            .agreement
                                            .map_or_else(dash, |v| format!("{:.0}", v * 100.0)),
                                        BinColumn::Genome => b.genome.map_or_else(dash, |g| {
                                            if g.size.is_finite() {
                                                format!("{:.2}", g.size / 1e6)
                                            } else {
                                                "?".into()
                                            }
                                        }),
                                        BinColumn::Majority => {
                                            b.majority.as_ref().map_or_else(dash, |m| m.0.clone())
                                        }
                                        BinColumn::Purity => b
                                            .majority
                                            .as_ref()
                                            .map_or_else(dash, |m| format!("{:.1}%", m.1 * 100.0)),
                                        BinColumn::Bin => unreachable!(),
                                    };
                                    ui.label(text);
                                }
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}

/// A small fixed histogram (no pan, zoom or y axis) of height `height`.
fn histogram<'a>(id: impl egui::AsIdSalt, height: f32, x_label: &str) -> Plot<'a> {
    Plot::new(id)
        .height(height)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_y(false)
        .x_axis_label(x_label)
}

/// Bars of reads per 2.5 % GC class.
fn gc_bars(counts: &[u32]) -> Vec<Bar> {
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new((i as f64 + 0.5) * 2.5, c as f64).width(2.5))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(label: i32, reads: usize, coverage: Option<f64>) -> BinSummary {
        BinSummary {
            label,
            reads,
            bases: reads as u64 * 1000,
            mean_length: 1000.0,
            gc: 0.5,
            n50: 1000,
            gc_sd: 0.01,
            membership: 0.5,
            coverage,
            agreement: None,
            genome: None,
            majority: None,
        }
    }

    #[test]
    fn the_table_sorts_by_any_column_with_unbinned_last() {
        let bins = vec![
            bin(0, 50, Some(3.0)),
            bin(1, 80, None),
            bin(2, 50, Some(9.0)),
            bin(-1, 500, None),
        ];
        let order =
            |c, d| -> Vec<i32> { sorted_bins(&bins, c, d).iter().map(|b| b.label).collect() };
        assert_eq!(order(BinColumn::Bin, false), [0, 1, 2, -1]);
        // Ties keep bin order; the unbinned reads stay last however many they are.
        assert_eq!(order(BinColumn::Reads, true), [1, 0, 2, -1]);
        assert_eq!(order(BinColumn::Reads, false), [0, 2, 1, -1]);
        // Unknown values sort below every known one.
        assert_eq!(order(BinColumn::Coverage, true), [2, 0, 1, -1]);
    }
}
