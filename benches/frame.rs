//! CPU time per frame of the explorer with a map of 60 k and 1 M reads: a still frame, a frame
//! with the pointer moving (hover lookup), a frame while panning (the raster made before the drag
//! moves along), the frame that lets go (the raster is made for the new view), and scrolling.
//! Runs the real app headless: egui's pass plus tessellation, the work a frame costs the CPU
//! before the GPU draws. `cargo bench --bench frame`
use binscape::bins::Cut;
use binscape::bins::summarize;
use binscape::cluster::Clustering;
use binscape::features::Matrix;
use binscape::gui::scatter::{Grid, rasterize};
use binscape::gui::{Dataset, Explorer, MapView, Startup};
use binscape::reads::ReadIndex;
use egui::{Event, PointerButton, Pos2, RawInput, Rect, pos2, vec2};
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Instant;

/// `n` reads in 12 Gaussian blobs on the plane, as a UMAP of a 12-species sample looks.
fn synthetic_app(n: usize) -> Explorer {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let centres: Vec<[f32; 2]> = (0..12)
        .map(|_| [rng.random_range(-10.0..10.0), rng.random_range(-10.0..10.0)])
        .collect();
    let mut xy = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 12;
        let (a, b): (f32, f32) = (rng.random(), rng.random());
        let r = (-2.0 * a.max(1e-9).ln()).sqrt() * 0.8;
        let t = std::f32::consts::TAU * b;
        xy.push(centres[c][0] + r * t.cos());
        xy.push(centres[c][1] + r * t.sin());
        labels.push(if i % 50 == 0 { -1 } else { c as i32 });
    }
    let index = ReadIndex {
        ids: (0..n).map(|i| format!("read_{i}")).collect(),
        lengths: (0..n).map(|i| 2000 + (i % 7000) as u32).collect(),
        gc: (0..n).map(|i| 0.3 + (i % 12) as f32 * 0.03).collect(),
        ..Default::default()
    };
    let clustering = Clustering {
        n_clusters: 12,
        strength: vec![1.0; n],
        labels,
    };
    let bins = summarize(&index, &clustering.labels, 12, &clustering.strength, None);
    let mut app = Explorer::new(Startup::default());
    app.data = Some(Dataset::new(
        index,
        Matrix::new(n, 1, vec![0.0; n]),
        4,
        true,
    ));
    app.map = Some(MapView {
        grid: Grid::build(&xy),
        points: Arc::new(Matrix::new(n, 2, xy.clone())),
        xy,
        hierarchy: Arc::default(),
        cut: Cut {
            min_cluster_size: 10,
            clustering,
            bins,
            scores: None,
            refined: None,
            names: Vec::new(),
            graph: None,
            steady: None,
        },
        generation: 1,
        preview: None,
        hierarchy_pending: false,
    });
    app.refresh_colours();
    app
}

fn input(events: Vec<Event>) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1500.0, 950.0))),
        events,
        ..Default::default()
    }
}

/// Milliseconds per frame (mean, max) over `frames` frames, each given the events of `events(i)`.
fn time_frames(
    ctx: &egui::Context,
    app: &mut Explorer,
    frames: usize,
    events: impl Fn(usize) -> Vec<Event>,
) -> (f64, f64) {
    let mut times = Vec::new();
    for i in 0..frames {
        let t = Instant::now();
        let out = ctx.run_ui(input(events(i)), |ui| app.show(ui));
        let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    (mean, times.iter().cloned().fold(0.0, f64::max))
}

fn main() {
    // Plot area centre in the default layout (left panel 290, right 420, loss plot below).
    let c = pos2(650.0, 330.0);
    for n in [60_000usize, 1_000_000] {
        let mut app = synthetic_app(n);
        let ctx = egui::Context::default();
        // Settle the layout (panels, first raster).
        for _ in 0..5 {
            let out = ctx.run_ui(input(vec![]), |ui| app.show(ui));
            let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
        }
        let (still, still_max) = time_frames(&ctx, &mut app, 30, |_| vec![]);
        let (hover, hover_max) = time_frames(&ctx, &mut app, 30, |i| {
            vec![Event::PointerMoved(c + vec2((i % 20) as f32 * 3.0, 0.0))]
        });
        let (pan, pan_max) = time_frames(&ctx, &mut app, 30, |i| {
            let p = c + vec2(i as f32 * 4.0, i as f32 * 2.0);
            let mut ev = vec![Event::PointerMoved(p)];
            if i == 0 {
                ev.push(Event::PointerButton {
                    pos: p,
                    button: PointerButton::Primary,
                    pressed: true,
                    modifiers: Default::default(),
                });
            }
            ev
        });
        // Letting go: the one frame that makes the raster of the view the drag ended at.
        let (release, _) = time_frames(&ctx, &mut app, 1, |_| {
            vec![Event::PointerButton {
                pos: c + vec2(120.0, 60.0),
                button: PointerButton::Primary,
                pressed: false,
                modifiers: Default::default(),
            }]
        });
        // Scrolling (a wheel notch every third frame, as a spun wheel sends them), then the
        // frames after it until the view's raster is made.
        let (scroll, scroll_max) = time_frames(&ctx, &mut app, 30, |i| {
            let mut ev = vec![Event::PointerMoved(c)];
            if i % 3 == 0 {
                ev.push(Event::MouseWheel {
                    unit: egui::MouseWheelUnit::Point,
                    delta: vec2(0.0, 24.0),
                    phase: egui::TouchPhase::Move,
                    source: egui::MouseWheelSource::Wheel,
                    modifiers: Default::default(),
                });
            }
            ev
        });
        let (_, settle_max) = time_frames(&ctx, &mut app, 30, |_| vec![]);
        println!(
            "{n:>8} reads: still {still:6.1} ms/frame (max {still_max:.1}), hover {hover:6.1} \
             (max {hover_max:.1}), panning {pan:6.1} (max {pan_max:.1}), letting go {release:.1}, \
             scrolling {scroll:.1} (max {scroll_max:.1}), after it (max) {settle_max:.1}"
        );
        // What a map's arrival costs (a preview while training, every few seconds): the bins'
        // summaries and the hover grid, made on the map's job thread since session 21 (on the
        // UI thread they were two frames' time at a million reads).
        let (m, index) = (app.map.as_ref().unwrap(), &app.data.as_ref().unwrap().index);
        let t = Instant::now();
        let cut = Cut::of(m.cut.clustering.clone(), 10, index, None, None);
        let summaries = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let grid = Grid::build(&m.xy);
        let grid_ms = t.elapsed().as_secs_f64() * 1e3;
        // A reopened session's check that these are its reads: a hash of every id (on the
        // restore job since session 22; the ids here are 6-12 characters, an ONT read's 36).
        let t = Instant::now();
        let fingerprint = binscape::session::Fingerprint::of(index);
        let fingerprint_ms = t.elapsed().as_secs_f64() * 1e3;
        // The raster itself (made by the frame the view stops at): a 1000 × 700-pixel view of
        // the whole map, median of 9.
        let colours: Vec<egui::Color32> = (m.cut.clustering.labels.iter())
            .map(|&l| egui::Color32::from_rgb((l * 40) as u8, (l * 90) as u8, 200))
            .collect();
        let b = m.grid.bounds;
        let view = [b[0] as f64, b[2] as f64, b[1] as f64, b[3] as f64];
        let mut raster: Vec<f64> = (0..9)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(rasterize(&m.xy, &colours, view, 1000, 700));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        raster.sort_by(f64::total_cmp);
        println!(
            "{n:>8} reads: a raster of the whole map {:.1} ms",
            raster[4]
        );
        std::hint::black_box((cut, grid, fingerprint));
        println!(
            "{n:>8} reads: a map's arrival (on its job's thread): summaries {summaries:.1} ms, \
             hover grid {grid_ms:.1} ms; a session's reads checked {fingerprint_ms:.1} ms"
        );
    }
}
