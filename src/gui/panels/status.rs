//! The errors bar (each with Dismiss) and the status line (last action, hovered read).
use super::Action;
use crate::gui::Explorer;
use egui::{Color32, Ui};

pub(super) fn errors(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
    for (i, e) in app.errors.iter().enumerate() {
        ui.horizontal(|ui| {
            if ui.small_button("Dismiss").clicked() {
                out.push(Action::DismissError(i));
            }
            ui.colored_label(Color32::from_rgb(220, 60, 60), e);
        });
    }
}

pub(super) fn status(app: &Explorer, ui: &mut Ui) {
    // Wrapped: what the overlap graph changed can run past any window's width.
    ui.horizontal_wrapped(|ui| {
        ui.label(&app.status);
        if let (Some(i), Some(d)) = (app.hovered, &app.data) {
            ui.separator();
            ui.label(hover_text(app, d, i));
        }
    });
}

fn hover_text(app: &Explorer, d: &crate::gui::Dataset, i: usize) -> String {
    let bin = app
        .map
        .as_ref()
        .map(|m| m.cut.name(m.cut.clustering.labels[i]))
        .unwrap_or_default();
    let label = app
        .labels
        .as_ref()
        .and_then(|l| l.name(i).map(str::to_string))
        .unwrap_or_else(|| "—".into());
    let overlaps = match (&d.graph, &app.map) {
        (Some(g), Some(m)) => {
            let l = &m.cut.clustering.labels;
            let links = g.adjacency.of(i);
            let inside = links
                .iter()
                .filter(|&&(j, _)| l[j as usize] == l[i])
                .count();
            // Why the read is in its bin: its firm overlaps settle it, or (with too few of them
            // in it) its sequence does, by the map and the bins' sequence models.
            let firm = crate::graph::firm_support_of(l, &g.adjacency, i);
            let why = match (l[i] >= 0, crate::markov::doubted(l[i], firm)) {
                (false, _) => "",
                (true, false) => ": its overlaps place it",
                (true, true) if crate::graph::held_weakly(l, &g.adjacency, i) => {
                    ": its sequence places it (its overlaps in it are weak)"
                }
                (true, true) => ": its sequence places it",
            };
            format!("  ·  {} overlaps, {inside} in its bin{why}", links.len())
        }
        _ => String::new(),
    };
    format!(
        "{}  ·  {} bp  ·  GC {:.1}%  ·  {bin}  ·  label {label}{overlaps}",
        d.index.ids[i],
        d.index.lengths[i],
        d.index.gc[i] * 100.0
    )
}
