//! The map: colour mode, tools, legend and the scatter view with hover, click, box and lasso.
use super::{Action, swatch};
use crate::gui::Explorer;
use crate::gui::colours::{self, ColourBy};
use crate::gui::scatter::{ScatterView, Shown, Tool};
use egui::{Color32, RichText, Ui};

pub(super) fn map(app: &Explorer, scatter: &mut ScatterView, ui: &mut Ui, out: &mut Vec<Action>) {
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
        let graph = app.data.as_ref().is_some_and(|d| d.graph.is_some());
        ui.add_enabled_ui(graph, |ui| {
            ui.radio_value(&mut c, ColourBy::Component, "Overlaps")
                .on_hover_text("Reads joined by chains of overlaps: one genome each")
                .on_disabled_hover_text(
                    "Found after the first cut when \"Overlap graph\" is on (left)",
                );
            ui.radio_value(&mut c, ColourBy::Agreement, "Agreement")
                .on_hover_text(
                    "How many of each read's overlaps lie in its bin: red reads sit where \
                     their overlaps disagree, grey ones have none (placed by composition alone)",
                )
                .on_disabled_hover_text(
                    "Found after the first cut when \"Overlap graph\" is on (left)",
                );
        });
        if c != app.colour_by {
            out.push(Action::ColourBy(c));
        }
        ui.separator();
        ui.label("Tool");
        let mut tool = scatter.tool;
        ui.radio_value(&mut tool, Tool::Pan, "Pan")
            .on_hover_text("Drag to pan, scroll to zoom, double-click to fit (key P)");
        ui.radio_value(&mut tool, Tool::Box, "Box")
            .on_hover_text("Drag a box to select reads, Shift adds (key B)");
        ui.radio_value(&mut tool, Tool::Lasso, "Lasso")
            .on_hover_text("Draw around reads to select them, Shift adds (key L)");
        // Keys for the tools, unless a text field has the keyboard.
        if !ui.ctx().egui_wants_keyboard_input() {
            ui.input(|i| {
                for (key, t) in [
                    (egui::Key::P, Tool::Pan),
                    (egui::Key::B, Tool::Box),
                    (egui::Key::L, Tool::Lasso),
                ] {
                    if i.key_pressed(key) && i.modifiers.is_none() {
                        tool = t;
                    }
                }
                if i.key_pressed(egui::Key::Escape) && app.selection.reads > 0 {
                    out.push(Action::ClearSelection);
                }
            });
            // Undo and redo of bin edits: Ctrl+Shift+Z (or Ctrl+Y) before Ctrl+Z, which
            // would also match with Shift held.
            ui.input_mut(|i| {
                use egui::{Key, Modifiers};
                if i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
                    || i.consume_key(Modifiers::COMMAND, Key::Y)
                {
                    out.push(Action::Redo);
                } else if i.consume_key(Modifiers::COMMAND, Key::Z) {
                    out.push(Action::Undo);
                }
            });
        }
        if tool != scatter.tool {
            out.push(Action::Tool(tool));
        }
        if ui
            .add_enabled(
                app.selection.reads > 0,
                egui::Button::new("Clear selection"),
            )
            .on_hover_text("Esc")
            .clicked()
        {
            out.push(Action::ClearSelection);
        }
    });
    legend(app, ui, out);
    let Some(m) = &app.map else {
        ui.centered_and_justified(|ui| {
            ui.label(if app.data.is_none() {
                "Open reads (toolbar, or drop a file here), then Train."
            } else {
                "Train the VAE (left) to draw the map of its latent."
            });
        });
        out.push(Action::Hover(None));
        return;
    };
    let links = app
        .data
        .as_ref()
        .and_then(|d| d.graph.as_ref())
        .map(|g| &g.adjacency);
    let shown = scatter.show(
        ui,
        Shown {
            xy: &m.xy,
            grid: &m.grid,
            colours: &app.colours,
            links,
        },
        (m.generation, m.preview.unwrap_or(0)),
        app.colour_version,
    );
    out.push(Action::Hover(shown.hovered));
    if let Some((rows, add)) = shown.enclosed {
        out.push(Action::SelectRows { rows, add });
    }
    if let Some((i, add)) = shown.clicked {
        out.push(Action::SelectBin {
            label: m.cut.clustering.labels[i],
            add,
        });
    }
}

/// Clickable legend for categorical colourings (click selects, Shift adds).
fn legend(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
    let entries: Vec<(String, Color32, Option<i32>)> = match app.colour_by {
        ColourBy::Bin => app.map.as_ref().map_or(Vec::new(), |m| {
            m.cut
                .bins
                .iter()
                .map(|b| {
                    (
                        format!("{} ({})", m.cut.name(b.label), b.reads),
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
        ColourBy::Agreement => colours::AGREEMENT
            .iter()
            .map(|&(name, c)| (name.to_string(), c, None))
            .collect(),
        ColourBy::Gc => vec![("low GC → high GC".into(), colours::ramp(0.5), None)],
        ColourBy::Length => vec![("short → long (log)".into(), colours::ramp(0.5), None)],
        ColourBy::Component => {
            app.data
                .as_ref()
                .and_then(|d| d.graph.as_ref())
                .map_or(Vec::new(), |g| {
                    let mut v: Vec<(String, Color32, Option<i32>)> = (0
                        ..crate::gui::selection::shown_components(g))
                        .map(|c| {
                            (
                                format!("overlaps {} ({} reads)", c + 1, g.component_sizes[c]),
                                colours::category(c as i64),
                                None,
                            )
                        })
                        .collect();
                    v.push(("smaller groups, lone reads".into(), colours::GREY, None));
                    v
                })
        }
    };
    // Wrapped rows, at most about three lines high: at 40 or more bins the legend scrolls
    // instead of pushing the map down.
    let width = ui.available_width();
    egui::ScrollArea::vertical()
        .id_salt("legend")
        .max_height(LEGEND_HEIGHT)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            // Wrap at the panel's width (inside a scroll area a row could grow without end and
            // widen the whole panel).
            ui.set_max_width(width);
            legend_entries(app, entries, ui, out)
        });
}

/// Most height the legend takes before it scrolls (about three rows of entries).
pub(crate) const LEGEND_HEIGHT: f32 = 66.0;

fn legend_entries(
    app: &Explorer,
    entries: Vec<(String, Color32, Option<i32>)>,
    ui: &mut Ui,
    out: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        for (name, c, bin) in entries {
            // Swatch and name wrap together: a nested row does not wrap by itself (it shrinks to
            // what is left of the line and overflows), so start a new line when it cannot fit.
            let font = egui::TextStyle::Button.resolve(ui.style());
            let text_w = ui
                .painter()
                .layout_no_wrap(name.clone(), font, Color32::WHITE)
                .size()
                .x;
            let s = ui.spacing();
            let need = 10.0 + 2.0 * s.item_spacing.x + 2.0 * s.button_padding.x + text_w;
            if ui.available_size_before_wrap().x < need
                && ui.cursor().min.x > ui.max_rect().min.x + 1.0
            {
                ui.end_row();
            }
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
                            out.push(Action::SelectBin { label: b, add });
                        }
                    }
                    // A species, component or agreement class: its reads can be picked too
                    // (the ramps of GC and length are not classes).
                    None if !matches!(app.colour_by, ColourBy::Gc | ColourBy::Length) => {
                        let r = ui
                            .selectable_label(false, text)
                            .on_hover_text("Click to select these reads, Shift-click to add them");
                        if r.clicked() {
                            let add = ui.input(|i| i.modifiers.shift);
                            out.push(Action::SelectColour { colour: c, add });
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
