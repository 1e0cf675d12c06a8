//! The explorer: an eframe app that drives the headless stages. It holds what the user sees
//! and dispatches work to job threads and the trainer; it never waits on either.
//!
//! Split by concern: `app` (state and frame), `actions` (what the user can do, and the
//! [`Action`]s the panels return), `events` (results from workers), `selection` (selection and
//! colours), `state` (data types), `panels/` (one file per panel), `jobs`, `scatter`, `colours`.
mod actions;
mod app;
pub mod colours;
mod events;
pub mod jobs;
mod panels;
pub mod scatter;
mod selection;
mod state;
#[cfg(test)]
mod tests;

pub use actions::Action;
pub use app::Explorer;
pub use selection::Selection;
pub use state::{BinDetails, Dataset, EditHistory, LossLog, MapView, Startup, Training};

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Opens the explorer window (blocks until it is closed).
pub fn run(startup: Startup) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("binscape")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "binscape",
        options,
        Box::new(|_cc| Ok(Box::new(Explorer::new(startup)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the explorer window: {e}"))
}
