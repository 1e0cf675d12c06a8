//! The window's panels, one file each. A panel reads the explorer and returns [`Action`]s;
//! it never changes the app itself (see [`Explorer::act`]).
mod loss;
mod map;
mod settings;
mod side;
mod status;
mod toolbar;

pub use side::BinColumn;

use super::Explorer;
use super::actions::Action;
use super::scatter::ScatterView;
use egui::{Color32, Slider, Ui};

/// Draws every panel; returns what the user asked for, in the order asked.
pub fn show(app: &Explorer, scatter: &mut ScatterView, ui: &mut Ui) -> Vec<Action> {
    let mut out = Vec::new();
    egui::Panel::top("toolbar").show(ui, |ui| toolbar::toolbar(app, ui, &mut out));
    if !app.errors.is_empty() {
        egui::Panel::top("errors").show(ui, |ui| status::errors(app, ui, &mut out));
    }
    egui::Panel::bottom("status").show(ui, |ui| status::status(app, ui));
    egui::Panel::left("settings")
        .resizable(true)
        .default_size(290.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| settings::settings(app, ui, &mut out));
        });
    egui::Panel::right("bins")
        .resizable(true)
        .default_size(420.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| side::side(app, ui, &mut out));
        });
    egui::Panel::bottom("loss")
        .resizable(true)
        .default_size(230.0)
        .show(ui, |ui| loss::loss_plot(app, ui, &mut out));
    egui::CentralPanel::default().show(ui, |ui| map::map(app, scatter, ui, &mut out));
    out
}

/// A labelled slider row; returns the response so callers can see changes and drag ends.
pub(super) fn slider<T: egui::emath::Numeric>(
    ui: &mut Ui,
    value: &mut T,
    range: std::ops::RangeInclusive<T>,
    label: &str,
    help: &str,
) -> egui::Response {
    ui.add(Slider::new(value, range).text(label))
        .on_hover_text(help)
}

/// A small disc of colour `c` (drawn, not a glyph: the bundled fonts have no "●").
pub(super) fn swatch(ui: &mut Ui, c: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, c);
}

/// 1234567 → "1 234 567" (thin groups read well in a table).
pub(super) fn thousands(v: u64) -> String {
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
