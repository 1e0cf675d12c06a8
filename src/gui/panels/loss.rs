//! The loss curves, live per batch, with markers where the weights changed.
use crate::gui::Explorer;
use egui::{Color32, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};

pub(super) fn loss_plot(app: &Explorer, ui: &mut Ui) {
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
