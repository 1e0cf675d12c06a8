//! The toolbar: open, export, and a progress bar with Cancel for every job and for training.
use super::Action;
use crate::gui::Explorer;
use crate::gui::jobs::{JobKind, Pick};
use egui::Ui;

pub(super) fn toolbar(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Open reads…")
            .on_hover_text("FASTQ or FASTA, plain or gzipped; or drop a file on the window")
            .clicked()
        {
            out.push(Action::Pick(Pick::Reads));
        }
        let has_data = app.data.is_some();
        if ui
            .add_enabled(has_data, egui::Button::new("Open labels…"))
            .on_hover_text("Ground truth: read_id<TAB>label with a header line")
            .clicked()
        {
            out.push(Action::Pick(Pick::Labels));
        }
        if ui
            .button("Demo reads")
            .on_hover_text("1 200 simulated long reads of 6 species, with their labels")
            .clicked()
        {
            out.push(Action::OpenDemo);
        }
        if ui
            .button("Open session…")
            .on_hover_text("Reopen a saved session: map, bins, edits and selection, without training")
            .clicked()
        {
            out.push(Action::Pick(Pick::OpenSession));
        }
        let can_save = app.map.as_ref().is_some_and(|m| m.is_final());
        if ui
            .add_enabled(can_save, egui::Button::new("Save session…"))
            .on_hover_text("Save the map, the bins with your edits and names, the selection and the loss curves to one .binscape file")
            .clicked()
        {
            out.push(Action::Pick(Pick::SaveSession));
        }
        ui.separator();
        // Exports run side by side (each to its own file), so one running disables none.
        if ui
            .add_enabled(app.selection.reads > 0, egui::Button::new("Export selection…"))
            .on_hover_text("Selected reads to FASTA, with their original ids and full sequences")
            .clicked()
        {
            out.push(Action::Pick(Pick::SaveFasta));
        }
        if ui
            .add_enabled(app.map.is_some(), egui::Button::new("Export assignments…"))
            .on_hover_text("read_id, bin, x, y of every read as TSV")
            .clicked()
        {
            out.push(Action::Pick(Pick::SaveTsv));
        }
        ui.separator();
        for r in &app.jobs.running {
            if r.kind == JobKind::Dialog {
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
                out.push(Action::CancelJob(r.id));
            }
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
                    .text(format!("Training: epoch {}/{}", t.epoch, t.epochs))
                    .animate(true),
            );
        }
    });
}
