//! The read map: a spatial grid for hover and selection, a density raster for many points, real
//! egui_plot points when few are in view, and box/lasso selection.
//!
//! egui_plot `Points` costs ≈300 ms CPU per frame at 1 M points (measured here, 2026-11), so beyond
//! [`POINTS_LIMIT`] visible reads the map is drawn as one texture rasterised here, rebuilt only
//! when the view, the colours or the size change.
use egui::{Color32, ColorImage, TextureHandle, TextureOptions};
use egui_plot::{Line, Plot, PlotImage, PlotPoint, PlotPoints, Points, Polygon};

/// Above this many reads in view the map is a raster, below it real points.
pub const POINTS_LIMIT: usize = 20_000;

/// Uniform grid over the map: reads sorted by cell (CSR), for hover, box and lasso in time
/// proportional to the reads near the query rather than all reads.
#[derive(Clone, Debug, Default)]
pub struct Grid {
    x0: f32,
    y0: f32,
    cell: f32,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
    /// Extent of the reads: min x, min y, max x, max y.
    pub bounds: [f32; 4],
}

impl Grid {
    /// `xy` is n × 2 row-major.
    pub fn build(xy: &[f32]) -> Grid {
        let n = xy.len() / 2;
        if n == 0 {
            return Grid::default();
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in xy.chunks_exact(2) {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        // About 4 reads per cell, at most 1024 cells a side.
        let side = ((n as f64 / 4.0).sqrt().ceil() as usize).clamp(1, 1024);
        let cell = ((x1 - x0).max(y1 - y0) / side as f32).max(1e-6);
        let nx = (((x1 - x0) / cell) as usize + 1).min(side + 1);
        let ny = (((y1 - y0) / cell) as usize + 1).min(side + 1);
        let mut g = Grid {
            x0,
            y0,
            cell,
            nx,
            ny,
            start: vec![0; nx * ny + 1],
            items: vec![0; n],
            bounds: [x0, y0, x1, y1],
        };
        let cells: Vec<usize> = xy.chunks_exact(2).map(|p| g.cell_of(p[0], p[1])).collect();
        for &c in &cells {
            g.start[c + 1] += 1;
        }
        for c in 0..nx * ny {
            g.start[c + 1] += g.start[c];
        }
        let mut fill = g.start.clone();
        for (i, &c) in cells.iter().enumerate() {
            g.items[fill[c] as usize] = i as u32;
            fill[c] += 1;
        }
        g
    }

    fn cell_of(&self, x: f32, y: f32) -> usize {
        let (cx, cy) = self.cell_xy(x, y);
        cy * self.nx + cx
    }

    fn cell_xy(&self, x: f32, y: f32) -> (usize, usize) {
        let cx = ((x - self.x0) / self.cell).max(0.0) as usize;
        let cy = ((y - self.y0) / self.cell).max(0.0) as usize;
        (cx.min(self.nx - 1), cy.min(self.ny - 1))
    }

    /// Calls `f` with every read whose cell overlaps the rectangle (a superset of the reads
    /// inside it: callers test the exact condition).
    pub fn for_each_near(&self, min: [f32; 2], max: [f32; 2], mut f: impl FnMut(u32)) {
        if self.nx == 0 || max[0] < min[0] || max[1] < min[1] {
            return;
        }
        let (ax, ay) = self.cell_xy(min[0], min[1]);
        let (bx, by) = self.cell_xy(max[0], max[1]);
        for cy in ay..=by {
            let (s, e) = (
                self.start[cy * self.nx + ax],
                self.start[cy * self.nx + bx + 1],
            );
            for &i in &self.items[s as usize..e as usize] {
                f(i);
            }
        }
    }

    /// How many reads are inside the rectangle, counting no further than `limit + 1`.
    pub fn count_in_rect(&self, xy: &[f32], min: [f32; 2], max: [f32; 2], limit: usize) -> usize {
        if self.nx == 0 || max[0] < min[0] || max[1] < min[1] {
            return 0;
        }
        let (ax, ay) = self.cell_xy(min[0], min[1]);
        let (bx, by) = self.cell_xy(max[0], max[1]);
        let mut n = 0;
        for cy in ay..=by {
            let (s, e) = (
                self.start[cy * self.nx + ax],
                self.start[cy * self.nx + bx + 1],
            );
            for &i in &self.items[s as usize..e as usize] {
                let (x, y) = (xy[2 * i as usize], xy[2 * i as usize + 1]);
                if x >= min[0] && x <= max[0] && y >= min[1] && y <= max[1] {
                    n += 1;
                    if n > limit {
                        return n;
                    }
                }
            }
        }
        n
    }

    /// Reads strictly inside the rectangle.
    pub fn in_rect(&self, xy: &[f32], min: [f32; 2], max: [f32; 2]) -> Vec<u32> {
        let mut out = Vec::new();
        self.for_each_near(min, max, |i| {
            let (x, y) = (xy[2 * i as usize], xy[2 * i as usize + 1]);
            if x >= min[0] && x <= max[0] && y >= min[1] && y <= max[1] {
                out.push(i);
            }
        });
        out
    }

    /// The read nearest to `p` within the ellipse of half-axes `r` (plot units per axis, so a
    /// radius in screen pixels works whatever the zoom and aspect).
    pub fn nearest(&self, xy: &[f32], p: [f32; 2], r: [f32; 2]) -> Option<u32> {
        let mut best = (f32::MAX, None);
        self.for_each_near(
            [p[0] - r[0], p[1] - r[1]],
            [p[0] + r[0], p[1] + r[1]],
            |i| {
                let dx = (xy[2 * i as usize] - p[0]) / r[0];
                let dy = (xy[2 * i as usize + 1] - p[1]) / r[1];
                let d = dx * dx + dy * dy;
                if d <= 1.0 && d < best.0 {
                    best = (d, Some(i));
                }
            },
        );
        best.1
    }
}

/// Even-odd rule; `poly` is a closed ring given without repeating the first vertex.
pub fn in_polygon(poly: &[[f32; 2]], p: [f32; 2]) -> bool {
    let mut inside = false;
    let mut j = poly.len().wrapping_sub(1);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Reads inside a lasso drawn in plot coordinates.
pub fn in_lasso(grid: &Grid, xy: &[f32], poly: &[[f32; 2]]) -> Vec<u32> {
    if poly.len() < 3 {
        return Vec::new();
    }
    let (mut min, mut max) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in poly {
        for a in 0..2 {
            min[a] = min[a].min(p[a]);
            max[a] = max[a].max(p[a]);
        }
    }
    let mut out = Vec::new();
    grid.for_each_near(min, max, |i| {
        if in_polygon(poly, [xy[2 * i as usize], xy[2 * i as usize + 1]]) {
            out.push(i);
        }
    });
    out.sort_unstable();
    out
}

/// The view a raster was made for: rebuilt when any part changes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RasterKey {
    bounds: [f64; 4],
    size: [usize; 2],
    colours: u64,
}

/// Draws every read into a `w × h` image of the view `[xmin, xmax, ymin, ymax]`: each read
/// covers a 2 × 2 pixel footprint, a pixel's colour is the mean of the reads on it and its
/// opacity grows with their number, so dense cores read as dense.
/// Reads are visited in index order: measured here, that beats visiting them in grid order
/// (1 M reads: 20 vs 42 ms), as the point and colour arrays then stream from memory. Each read
/// is added to one cell (its footprint's top-left pixel, the grid one wider and taller so a read
/// just off the left or top edge has one) and the footprints are summed from the cells row by
/// row: a scattered write per read instead of four, over memory that misses the cache.
pub fn rasterize(
    xy: &[f32],
    colours: &[Color32],
    view: [f64; 4],
    w: usize,
    h: usize,
) -> ColorImage {
    let gw = w + 1;
    let mut acc = vec![[0u32; 5]; gw * (h + 1)];
    let sx = w as f64 / (view[1] - view[0]);
    let sy = h as f64 / (view[3] - view[2]);
    // Threads of its own, not rayon's pool: a job running there (training, the map, refinement)
    // can hold every pool thread for seconds, and the UI thread would wait for them.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    // Bands of cell rows, one a thread, each band reading every read and keeping those that
    // fall in it: no cell is written by two threads, and no copies to add up.
    let band_rows = (h + 1).div_ceil(threads).max(16);
    std::thread::scope(|scope| {
        for (band, cells) in acc.chunks_mut(band_rows * gw).enumerate() {
            scope.spawn(move || {
                let first = (band * band_rows) as i64 - 1;
                let rows = (cells.len() / gw) as i64;
                for (p, &c) in xy.chunks_exact(2).zip(colours) {
                    let py = ((view[3] - p[1] as f64) * sy) as i64;
                    if py < first || py >= first + rows || py >= h as i64 {
                        continue;
                    }
                    let px = ((p[0] as f64 - view[0]) * sx) as i64;
                    if px < -1 || px >= w as i64 || c.a() == 0 {
                        continue;
                    }
                    let [r, g, b, al] = c.to_srgba_unmultiplied();
                    let a = &mut cells[(py - first) as usize * gw + (px + 1) as usize];
                    a[0] += r as u32;
                    a[1] += g as u32;
                    a[2] += b as u32;
                    a[3] += 1;
                    a[4] += al as u32;
                }
            });
        }
    });
    // Pixel (x, y) holds the reads of cells (x, y) to (x + 1, y + 1).
    let acc = &acc;
    let cells = move |x: usize, y: usize| {
        let (r0, r1) = (y * gw + x, (y + 1) * gw + x);
        [acc[r0], acc[r0 + 1], acc[r1], acc[r1 + 1]]
    };
    let count = move |x: usize, y: usize| cells(x, y).iter().map(|c| c[3]).sum::<u32>();
    let band_rows = h.div_ceil(threads).max(16);
    let max = std::thread::scope(|scope| {
        let bands: Vec<_> = (0..h)
            .step_by(band_rows)
            .map(|y0| {
                scope.spawn(move || {
                    (y0..(y0 + band_rows).min(h))
                        .flat_map(|y| (0..w).map(move |x| count(x, y)))
                        .max()
                        .unwrap_or(0)
                })
            })
            .collect();
        bands.into_iter().map(|b| b.join().unwrap_or(0)).max()
    });
    let max = max.unwrap_or(1).max(1) as f32;
    let mut pixels = vec![Color32::TRANSPARENT; w * h];
    std::thread::scope(|scope| {
        for (band, out) in pixels.chunks_mut(band_rows * w).enumerate() {
            scope.spawn(move || {
                for (i, px) in out.iter_mut().enumerate() {
                    let (x, y) = (i % w, band * band_rows + i / w);
                    let four = cells(x, y);
                    let n: u32 = four.iter().map(|c| c[3]).sum();
                    if n == 0 {
                        continue;
                    }
                    let a: [u32; 5] = std::array::from_fn(|k| four.iter().map(|c| c[k]).sum());
                    let mean_alpha = a[4] as f32 / n as f32 / 255.0;
                    let alpha = mean_alpha * (0.55 + 0.45 * ((n as f32).ln_1p() / max.ln_1p()));
                    *px = Color32::from_rgba_unmultiplied(
                        (a[0] / n) as u8,
                        (a[1] / n) as u8,
                        (a[2] / n) as u8,
                        (alpha * 255.0) as u8,
                    );
                }
            });
        }
    });
    ColorImage::new([w, h], pixels)
}

/// Box and lasso select; panning and zooming are the plot's own in `Pan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Pan,
    Box,
    Lasso,
}

/// What the user did to the map this frame.
#[derive(Debug, Default)]
pub struct MapInteraction {
    pub hovered: Option<usize>,
    /// Reads enclosed by a finished box or lasso, and whether Shift (add) was held.
    pub enclosed: Option<(Vec<u32>, bool)>,
    /// A read clicked (selects its bin).
    pub clicked: Option<(usize, bool)>,
    /// How the map was drawn this frame.
    pub drawn_as_points: bool,
    /// Overlaps of the hovered read drawn as lines.
    pub links_drawn: usize,
}

/// What the map draws: each read's position (`xy`, x and y interleaved, indexed by `grid`)
/// and colour, and the overlaps to draw from the hovered read.
pub struct Shown<'a> {
    pub xy: &'a [f32],
    pub grid: &'a Grid,
    pub colours: &'a [Color32],
    pub links: Option<&'a crate::graph::Adjacency>,
}

/// Most overlaps drawn from the hovered read (a read of a deep genome has hundreds).
const LINKS_SHOWN: usize = 200;

/// The map widget's own state across frames.
pub struct ScatterView {
    pub tool: Tool,
    drag: Vec<[f32; 2]>,
    texture: Option<TextureHandle>,
    key: Option<RasterKey>,
    cache: Drawn,
    /// The map generation, plot size and layout the view was last fitted to, and whether the user has
    /// panned or zoomed since: until they do, the view refits when the area changes size (the
    /// side panels settle a frame or two after a new map, which left bins off-screen).
    fitted: Option<(u64, [i32; 2], u64)>,
    moved_by_user: bool,
    /// The last frame's plot area on screen and the map bounds it showed (x0, x1, y0, y1).
    last_view: Option<(egui::Rect, [f64; 4])>,
    /// Rasters made so far (tests and the frame bench count them).
    pub rasters_made: u64,
}

/// The drawing made for the current view.
enum Drawn {
    /// Visible reads grouped by colour (dimmed groups first, so the selection draws on top).
    Points(Vec<(Color32, Vec<[f64; 2]>)>),
    /// The texture holds the raster.
    Raster,
}

fn point_groups(xy: &[f32], colours: &[Color32], visible: &[u32]) -> Vec<(Color32, Vec<[f64; 2]>)> {
    let mut groups: std::collections::HashMap<Color32, Vec<[f64; 2]>> = Default::default();
    for &i in visible {
        let c = colours[i as usize];
        if c.a() > 0 {
            let p = [xy[2 * i as usize] as f64, xy[2 * i as usize + 1] as f64];
            groups.entry(c).or_default().push(p);
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|(c, _)| (c.a(), c.to_array()));
    groups
}

impl Default for ScatterView {
    fn default() -> Self {
        ScatterView {
            tool: Tool::Pan,
            drag: Vec::new(),
            texture: None,
            key: None,
            cache: Drawn::Raster,
            fitted: None,
            moved_by_user: false,
            last_view: None,
            rasters_made: 0,
        }
    }
}

impl ScatterView {
    /// Where the map was drawn last frame (screen rect) and the map bounds it showed.
    pub fn last_view(&self) -> Option<(egui::Rect, [f64; 4])> {
        self.last_view
    }

    /// Shows the map (`shown.colours`: alpha 0 hides a read). `generation` changes with the map
    /// itself (resets the view), `layout` with a new layout of it (refits unless the user moved
    /// the view) and `colour_version` with the colours (redraws the raster).
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        shown: Shown<'_>,
        (generation, layout): (u64, u64),
        colour_version: u64,
    ) -> MapInteraction {
        let Shown {
            xy,
            grid,
            colours,
            links,
        } = shown;
        let mut out = MapInteraction::default();
        let selecting = self.tool != Tool::Pan;
        let shift = ui.input(|i| i.modifiers.shift);
        let ppp = ui.ctx().pixels_per_point();
        let area = ui.available_size();
        let area = [area.x.round() as i32, area.y.round() as i32];
        // The plot's id carries the area it was fitted to: a new id starts from the default
        // (fitted) bounds. Once the user moves the view, the id (and so the view) stays.
        // The same for a new layout of the same map (each map drawn while training): refitted
        // so no bin grows off-screen, unless the user has moved the view.
        let (fitted_area, fitted_layout) = match self.fitted {
            Some((g, _, _)) if g != generation => {
                self.moved_by_user = false;
                (area, layout)
            }
            Some((_, a, l)) if self.moved_by_user => (a, l),
            _ => (area, layout),
        };
        self.fitted = Some((generation, fitted_area, fitted_layout));
        let fit = fitted_bounds(grid.bounds, area);
        let plot = Plot::new(("read map", generation, fitted_area, fitted_layout))
            .data_aspect(1.0)
            .show_x(false)
            .show_y(false)
            .allow_drag(!selecting)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(true)
            .show_grid(false)
            .default_x_bounds(fit[0], fit[2])
            .default_y_bounds(fit[1], fit[3])
            .x_axis_label("UMAP 1")
            .y_axis_label("UMAP 2");
        let texture = &mut self.texture;
        let key_slot = &mut self.key;
        let cache = &mut self.cache;
        let drag = &mut self.drag;
        let tool = self.tool;
        let last_view = &mut self.last_view;
        let rasters_made = &mut self.rasters_made;
        // The view is being moved: dragged (the primary button held with the pan tool), or
        // scrolled or zoomed (egui spreads one wheel notch over several frames).
        let moving = ui.input(|i| {
            (!selecting && i.pointer.primary_down())
                || i.smooth_scroll_delta != egui::Vec2::ZERO
                || i.zoom_delta() != 1.0
        });
        let resp = plot.show(ui, |pu| {
            let b = pu.plot_bounds();
            let view = [b.min()[0], b.max()[0], b.min()[1], b.max()[1]];
            let frame = *pu.transform().frame();
            *last_view = Some((frame, view));
            let (vmin, vmax) = (
                [view[0] as f32, view[2] as f32],
                [view[1] as f32, view[3] as f32],
            );
            let size = [
                ((frame.width() * ppp) as usize).clamp(1, 4096),
                ((frame.height() * ppp) as usize).clamp(1, 4096),
            ];
            let key = RasterKey {
                bounds: view,
                size,
                colours: colour_version,
            };
            // What is drawn depends only on the view and the colours: rebuilt when they change,
            // but not while the view moves: the raster made before moves along, drawn where it
            // was made for (what comes into view stays empty until the view stops). At a million
            // reads a raster takes 20 ms, more than a frame, and panning made one every frame.
            // The plot's size may change mid-drag too (the status line's hover text reflows the
            // panels), which the raster, placed by its own bounds, also survives.
            let keep = moving
                && matches!(cache, Drawn::Raster)
                && texture.is_some()
                && key_slot.is_some_and(|k| k.colours == colour_version);
            if keep && *key_slot != Some(key) {
                // The frame after the view stops makes the raster, even with no input then.
                pu.ctx().request_repaint();
            }
            if *key_slot != Some(key) && !keep {
                *key_slot = Some(key);
                *cache = if grid.count_in_rect(xy, vmin, vmax, POINTS_LIMIT) <= POINTS_LIMIT {
                    Drawn::Points(point_groups(xy, colours, &grid.in_rect(xy, vmin, vmax)))
                } else {
                    let img = rasterize(xy, colours, view, size[0], size[1]);
                    *rasters_made += 1;
                    match texture {
                        Some(t) => t.set(img, TextureOptions::NEAREST),
                        None => {
                            *texture = Some(pu.ctx().load_texture(
                                "read map",
                                img,
                                TextureOptions::NEAREST,
                            ))
                        }
                    }
                    Drawn::Raster
                };
            }
            match &*cache {
                Drawn::Points(groups) => {
                    out.drawn_as_points = true;
                    for (c, pts) in groups {
                        pu.points(
                            Points::new("", PlotPoints::from(pts.clone()))
                                .color(*c)
                                .radius(2.0)
                                .allow_hover(false),
                        );
                    }
                }
                Drawn::Raster => {
                    // Where the raster was made for (the view itself, unless a drag moved it).
                    let view = key_slot.map_or(view, |k| k.bounds);
                    if let Some(t) = texture {
                        pu.image(
                            PlotImage::new(
                                "density",
                                t.id(),
                                PlotPoint::new(
                                    (view[0] + view[1]) / 2.0,
                                    (view[2] + view[3]) / 2.0,
                                ),
                                egui::vec2((view[1] - view[0]) as f32, (view[3] - view[2]) as f32),
                            )
                            .allow_hover(false),
                        );
                    }
                }
            }

            // Hover: nearest read within 6 screen pixels.
            let pointer = pu.pointer_coordinate();
            if let Some(p) = pointer {
                let per_px = [
                    (view[1] - view[0]) as f32 / frame.width().max(1.0),
                    (view[3] - view[2]) as f32 / frame.height().max(1.0),
                ];
                let r = [6.0 * per_px[0], 6.0 * per_px[1]];
                out.hovered = grid
                    .nearest(xy, [p.x as f32, p.y as f32], r)
                    .map(|i| i as usize);
                if let (Some(i), Some(adj)) = (out.hovered, links) {
                    // The hovered read's overlaps: where on the map the reads it shares
                    // sequence with lie (most in its own bin, if the bin is right).
                    let at = |j: usize| [xy[2 * j] as f64, xy[2 * j + 1] as f64];
                    for &(j, _) in adj.of(i).iter().take(LINKS_SHOWN) {
                        pu.line(
                            Line::new("", PlotPoints::from(vec![at(i), at(j as usize)]))
                                .color(ui_strong().gamma_multiply(0.7))
                                .width(1.2)
                                .allow_hover(false),
                        );
                        out.links_drawn += 1;
                    }
                }
                if let Some(i) = out.hovered {
                    pu.points(
                        Points::new("", vec![[xy[2 * i] as f64, xy[2 * i + 1] as f64]])
                            .radius(5.0)
                            .filled(false)
                            .color(ui_strong())
                            .allow_hover(false),
                    );
                }
            }

            let r = pu.response().clone();
            if selecting {
                if r.drag_started() {
                    drag.clear();
                }
                if r.dragged()
                    && let Some(p) = pointer
                {
                    let p = [p.x as f32, p.y as f32];
                    if tool == Tool::Box && drag.len() == 2 {
                        drag[1] = p;
                    } else if tool == Tool::Lasso || drag.len() < 2 {
                        drag.push(p);
                    }
                }
                let ring = |d: &[[f32; 2]]| -> Vec<[f64; 2]> {
                    if tool == Tool::Box && d.len() == 2 {
                        let (a, b) = (d[0], d[1]);
                        vec![[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]]
                            .into_iter()
                            .map(|p| [p[0] as f64, p[1] as f64])
                            .collect()
                    } else {
                        d.iter().map(|p| [p[0] as f64, p[1] as f64]).collect()
                    }
                };
                if drag.len() >= 2 {
                    let pts = ring(drag);
                    if r.dragged() {
                        pu.polygon(
                            Polygon::new("", PlotPoints::from(pts.clone()))
                                .fill_color(Color32::from_rgba_unmultiplied(120, 160, 255, 40))
                                .stroke(egui::Stroke::new(1.5, Color32::from_rgb(80, 120, 255)))
                                .allow_hover(false),
                        );
                    }
                }
                if r.drag_stopped() && drag.len() >= 2 {
                    let ids = if tool == Tool::Box {
                        let (a, b) = (drag[0], drag[drag.len() - 1]);
                        let mut v = grid.in_rect(
                            xy,
                            [a[0].min(b[0]), a[1].min(b[1])],
                            [a[0].max(b[0]), a[1].max(b[1])],
                        );
                        v.sort_unstable();
                        v
                    } else {
                        in_lasso(grid, xy, drag)
                    };
                    out.enclosed = Some((ids, shift));
                    drag.clear();
                }
            }
            if r.clicked()
                && let Some(i) = out.hovered
            {
                out.clicked = Some((i, shift));
            }
        });
        let r = &resp.response;
        let scrolled = r.hovered() && ui.input(|i| i.smooth_scroll_delta != egui::Vec2::ZERO);
        if (r.dragged() && !selecting) || scrolled {
            self.moved_by_user = true;
        }
        if r.double_clicked() {
            self.moved_by_user = false;
        }
        out
    }
}

/// The map's bounds widened, about their centre, to the plot area's aspect ratio (with a margin):
/// with `data_aspect(1)`, egui_plot keeps one axis and trims the other to the frame, which cut
/// off bins at the sides of a wide map.
fn fitted_bounds(b: [f32; 4], area: [i32; 2]) -> [f64; 4] {
    // The frame is the area less the axes' labels and ticks.
    let (w, h) = (
        (area[0] as f64 - 60.0).max(50.0),
        (area[1] as f64 - 40.0).max(50.0),
    );
    let (cx, cy) = ((b[0] + b[2]) as f64 / 2.0, (b[1] + b[3]) as f64 / 2.0);
    let (mut xs, mut ys) = (
        ((b[2] - b[0]) as f64).max(1e-3),
        ((b[3] - b[1]) as f64).max(1e-3),
    );
    if xs / ys < w / h {
        xs = ys * w / h;
    } else {
        ys = xs * h / w;
    }
    let (xs, ys) = (xs * 1.06, ys * 1.06);
    [cx - xs / 2.0, cy - ys / 2.0, cx + xs / 2.0, cy + ys / 2.0]
}

fn ui_strong() -> Color32 {
    Color32::from_rgb(255, 215, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn cloud(n: usize) -> Vec<f32> {
        let mut s = 12345u64;
        (0..2 * n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 10.0 - 5.0
            })
            .collect()
    }

    #[test]
    fn a_drag_moves_the_raster_it_has_and_letting_go_makes_one_for_the_new_view() {
        let n = 3 * POINTS_LIMIT;
        let xy = cloud(n);
        let grid = Grid::build(&xy);
        let colours = vec![Color32::RED; n];
        let ctx = egui::Context::default();
        let mut view = ScatterView::default();
        let centre = egui::pos2(400.0, 300.0);
        let frame = |view: &mut ScatterView, events: Vec<egui::Event>| {
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(800.0, 600.0),
                )),
                events,
                ..Default::default()
            };
            let mut out = ctx.run_ui(input, |ui| {
                let shown = Shown {
                    xy: &xy,
                    grid: &grid,
                    colours: &colours,
                    links: None,
                };
                view.show(ui, shown, (1, 1), 1);
            });
            // No renderer here takes the texture uploads.
            out.textures_delta.clear();
            view.last_view().unwrap().1
        };
        for _ in 0..3 {
            frame(&mut view, vec![]);
        }
        let (made, before) = (view.rasters_made, frame(&mut view, vec![]));
        assert!(made >= 1, "the map is a raster at {n} reads");
        let button = |pos, pressed| egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        };
        frame(
            &mut view,
            vec![egui::Event::PointerMoved(centre), button(centre, true)],
        );
        let mut moved_to = before;
        for step in 1..=10 {
            let p = centre + egui::vec2(8.0 * step as f32, 4.0 * step as f32);
            moved_to = frame(&mut view, vec![egui::Event::PointerMoved(p)]);
        }
        assert_ne!(moved_to, before, "the drag moved the view");
        assert_eq!(view.rasters_made, made, "no raster made while dragging");
        let end = centre + egui::vec2(80.0, 40.0);
        frame(&mut view, vec![button(end, false)]);
        frame(&mut view, vec![]);
        assert_eq!(
            view.rasters_made,
            made + 1,
            "one raster for the view let go at"
        );
        // Scrolling moves the view too (over several frames per notch): one raster after it.
        let wheel = |dy| egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: Default::default(),
        };
        let before = frame(&mut view, vec![egui::Event::PointerMoved(centre)]);
        let made = view.rasters_made;
        let mut scrolled_to = before;
        for _ in 0..5 {
            scrolled_to = frame(&mut view, vec![wheel(30.0)]);
        }
        assert_ne!(scrolled_to, before, "the wheel moved the view");
        assert_eq!(view.rasters_made, made, "no raster made while scrolling");
        for _ in 0..60 {
            frame(&mut view, vec![]);
        }
        assert_eq!(
            view.rasters_made,
            made + 1,
            "one raster once the view stopped"
        );
    }

    #[test]
    fn grid_queries_match_brute_force() {
        let xy = cloud(5000);
        let g = Grid::build(&xy);
        let (min, max) = ([-1.3, -0.2], [2.1, 3.7]);
        let mut got = g.in_rect(&xy, min, max);
        got.sort_unstable();
        let want: Vec<u32> = (0..5000u32)
            .filter(|&i| {
                let (x, y) = (xy[2 * i as usize], xy[2 * i as usize + 1]);
                x >= min[0] && x <= max[0] && y >= min[1] && y <= max[1]
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want);

        let p = [0.37, -1.2];
        let r = [0.3, 0.15];
        let brute = (0..5000usize)
            .map(|i| {
                let dx = (xy[2 * i] - p[0]) / r[0];
                let dy = (xy[2 * i + 1] - p[1]) / r[1];
                (dx * dx + dy * dy, i)
            })
            .filter(|&(d, _)| d <= 1.0)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, i)| i as u32);
        assert!(brute.is_some());
        assert_eq!(g.nearest(&xy, p, r), brute);
        assert_eq!(g.nearest(&xy, [50.0, 50.0], r), None);
    }

    #[test]
    fn lasso_selects_the_points_inside_a_triangle() {
        let xy = cloud(3000);
        let g = Grid::build(&xy);
        let tri = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]];
        let got = in_lasso(&g, &xy, &tri);
        let want: Vec<u32> = (0..3000u32)
            .filter(|&i| {
                let (x, y) = (xy[2 * i as usize], xy[2 * i as usize + 1]);
                x > 0.0 && y > 0.0 && x + y < 4.0
            })
            .collect();
        assert!(want.len() > 100);
        assert_eq!(got, want);
    }

    #[test]
    fn raster_counts_every_visible_read_and_skips_hidden_ones() {
        let xy = vec![0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 9.0, 9.0];
        let c = vec![
            Color32::RED,
            Color32::BLUE,
            Color32::BLUE,
            Color32::TRANSPARENT,
        ];
        let img = rasterize(&xy, &c, [-1.0, 1.0, -1.0, 1.0], 20, 20);
        let lit = img.pixels.iter().filter(|p| p.a() > 0).count();
        // Two distinct positions in view, 2 × 2 pixels each; the hidden read is off the image.
        assert_eq!(lit, 8);
        let blue = img
            .pixels
            .iter()
            .filter(|p| p.b() > 200 && p.r() < 50)
            .count();
        assert_eq!(blue, 4);
    }

    /// The raster against the footprints drawn one pixel at a time: reads beside every edge
    /// (inside, just off, far off), piled on some pixels, over enough rows for several bands.
    #[test]
    fn raster_matches_each_pixel_summed_over_the_reads_on_it() {
        let (w, h, view) = (30usize, 70usize, [-1.0, 2.0, -3.0, 4.0]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 3000;
        let xy: Vec<f32> = (0..n)
            .flat_map(|i| {
                let (x, y) = if i % 3 == 0 {
                    (0.5, 0.5)
                } else {
                    (rng.random_range(-1.3..2.3), rng.random_range(-3.3..4.3))
                };
                [x, y]
            })
            .collect();
        let colours: Vec<Color32> = (0..n)
            .map(|i| {
                Color32::from_rgba_unmultiplied(
                    (i * 7) as u8,
                    (i * 13) as u8,
                    90,
                    (i % 4 * 80) as u8,
                )
            })
            .collect();
        let img = rasterize(&xy, &colours, view, w, h);
        let (sx, sy) = (
            w as f64 / (view[1] - view[0]),
            h as f64 / (view[3] - view[2]),
        );
        let mut sums = vec![[0u32; 5]; w * h];
        for (p, c) in xy.chunks_exact(2).zip(&colours) {
            if c.a() == 0 {
                continue;
            }
            // The pixel a read's footprint starts at, rounded toward zero as the raster does.
            let px = ((p[0] as f64 - view[0]) * sx) as i64;
            let py = ((view[3] - p[1] as f64) * sy) as i64;
            for (x, y) in [(px, py), (px + 1, py), (px, py + 1), (px + 1, py + 1)] {
                if (0..w as i64).contains(&x) && (0..h as i64).contains(&y) {
                    let s = &mut sums[y as usize * w + x as usize];
                    let [r, g, b, a] = c.to_srgba_unmultiplied();
                    for (k, v) in [r, g, b, 1, a].into_iter().enumerate() {
                        s[k] += v as u32;
                    }
                }
            }
        }
        let max = sums.iter().map(|s| s[3]).max().unwrap() as f32;
        assert!(max >= 700.0, "the piled pixel holds a quarter of the reads");
        for (s, got) in sums.iter().zip(&img.pixels) {
            let n = s[3];
            let want = if n == 0 {
                Color32::TRANSPARENT
            } else {
                let alpha = s[4] as f32 / n as f32 / 255.0
                    * (0.55 + 0.45 * ((n as f32).ln_1p() / max.ln_1p()));
                Color32::from_rgba_unmultiplied(
                    (s[0] / n) as u8,
                    (s[1] / n) as u8,
                    (s[2] / n) as u8,
                    (alpha * 255.0) as u8,
                )
            };
            assert_eq!(*got, want);
        }
        assert!(img.pixels.iter().filter(|p| p.a() > 0).count() > w * h / 2);
    }
}
