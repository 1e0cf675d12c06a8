//! Colours of the reads on the map: by bin, by true label, by GC, by length, by overlap graph
//! component or by how far a read's overlaps agree with its bin.
use egui::Color32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColourBy {
    Bin,
    Truth,
    Gc,
    Length,
    /// The read's component of the overlap graph (reads joined by chains of overlaps).
    Component,
    /// How many of the read's overlaps lie in its bin ([`agreement`]).
    Agreement,
}

/// The classes of [`ColourBy::Agreement`], as the legend names them. On the dev reads, 97 % of
/// the reads whose overlaps all share their bin are in the right bin, 75–79 % of the others
/// (README, session 12).
pub const AGREEMENT: [(&str, Color32); 4] = [
    (
        "all its overlaps in its bin",
        Color32::from_rgb(44, 160, 44),
    ),
    ("most in its bin", Color32::from_rgb(255, 127, 14)),
    ("half or fewer in its bin", Color32::from_rgb(214, 39, 40)),
    ("no overlaps (composition alone), or unbinned", GREY),
];

/// A read's colour by its overlaps' agreement with its bin (`binned`: it has one).
pub fn agreement(s: crate::graph::Support, binned: bool) -> Color32 {
    use crate::graph::Agreement::*;
    let class = match s.agreement(binned) {
        All => 0,
        Most => 1,
        HalfOrFewer => 2,
        NoOverlaps => 3,
    };
    AGREEMENT[class].1
}

/// Unbinned / unlabelled reads.
pub const GREY: Color32 = Color32::from_rgb(150, 150, 150);

/// 20 categorical colours, ordered so that neighbours in the list differ in hue and lightness
/// (chosen here by eye on both themes).
const PALETTE: [Color32; 20] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
    Color32::from_rgb(174, 199, 232),
    Color32::from_rgb(255, 187, 120),
    Color32::from_rgb(152, 223, 138),
    Color32::from_rgb(255, 152, 150),
    Color32::from_rgb(197, 176, 213),
    Color32::from_rgb(196, 156, 148),
    Color32::from_rgb(247, 182, 210),
    Color32::from_rgb(219, 219, 141),
    Color32::from_rgb(158, 218, 229),
    Color32::from_rgb(90, 90, 200),
    Color32::from_rgb(200, 90, 90),
];

/// Colour of category `i` (negative: grey); the palette repeats after 20.
pub fn category(i: i64) -> Color32 {
    if i < 0 {
        GREY
    } else {
        PALETTE[i as usize % PALETTE.len()]
    }
}

/// A perceptually ordered ramp (dark blue → teal → yellow, viridis-like) at `t` in [0, 1],
/// quantised to 32 steps so the point renderer draws at most 32 groups.
pub fn ramp(t: f32) -> Color32 {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let t = (t.clamp(0.0, 1.0) * 31.0).round() / 31.0;
    let x = t * (STOPS.len() - 1) as f32;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f32;
    let c: Vec<u8> = (0..3)
        .map(|k| (STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * f) as u8)
        .collect();
    Color32::from_rgb(c[0], c[1], c[2])
}

/// The 2nd and 98th percentiles of `v`: a ramp over them is not flattened by a few outliers.
pub fn robust_range(v: &[f32]) -> (f32, f32) {
    if v.is_empty() {
        return (0.0, 1.0);
    }
    let mut s: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f32::total_cmp);
    let q = |p: f64| s[((s.len() - 1) as f64 * p) as usize];
    let (lo, hi) = (q(0.02), q(0.98));
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

/// Dims a colour for reads outside the selection.
pub fn dim(c: Color32) -> Color32 {
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), 40)
}
