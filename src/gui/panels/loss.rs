//! The loss curves, live per batch, with markers where the weights changed.
use crate::gui::Explorer;
use crate::gui::actions::Action;
use egui::{Color32, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};

pub(super) fn loss_plot(app: &Explorer, ui: &mut Ui, out: &mut Vec<Action>) {
    let log = app.loss_log_scale;
    ui.horizontal(|ui| {
        ui.strong("Training loss per batch");
        let mut l = log;
        if ui
            .checkbox(&mut l, "log scale")
            .on_hover_text(
                "The KLD is often 100× smaller than the reconstruction loss: on a log scale all three curves keep their shape",
            )
            .changed()
        {
            out.push(Action::LossLogScale(l));
        }
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
        v.iter()
            .step_by(stride)
            .map(|&[x, y]| [x, if log { y.max(1e-9).log10() } else { y }])
            .collect()
    };
    Plot::new(if log { "loss (log)" } else { "loss" })
        .legend(Legend::default())
        .x_axis_label("step")
        .y_axis_label(if log { "loss (log scale)" } else { "loss" })
        .y_axis_formatter(move |m, _| {
            let v = if log { 10f64.powf(m.value) } else { m.value };
            // Three significant digits, without trailing zeros.
            let digits = (2 - v.abs().max(1e-12).log10().floor() as i32).clamp(0, 6) as usize;
            format!("{v:.digits$}")
        })
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
