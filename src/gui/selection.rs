//! The selection (rows, totals, wholly selected bins) and the per-read colours it dims.
use super::Explorer;
use super::colours::{self, ColourBy};
use egui::Color32;
use std::sync::Arc;

#[derive(Default)]
pub struct Selection {
    pub rows: Vec<bool>,
    pub reads: usize,
    pub bases: u64,
    /// Per bin (index label + 1, so the unbinned come first): wholly selected. Kept up to date
    /// here so the table does not scan every read per row per frame.
    pub(crate) whole_bins: Vec<bool>,
}

impl Explorer {
    /// Selects (or with `add`, adds) every read of bin `label` (negative: the unbinned).
    pub fn select_bin(&mut self, label: i32, add: bool) {
        let Some(m) = &self.map else { return };
        let rows: Vec<u32> = (0..m.cut.clustering.labels.len() as u32)
            .filter(|&i| m.cut.clustering.labels[i as usize] == label)
            .collect();
        self.select_rows(&rows, add);
    }

    pub fn select_rows(&mut self, rows: &[u32], add: bool) {
        let n = self.data.as_ref().map_or(0, |d| d.index.len());
        if self.selection.rows.len() != n || !add {
            self.selection.rows = vec![false; n];
        }
        for &r in rows {
            self.selection.rows[r as usize] = true;
        }
        self.update_selection_totals();
    }

    pub fn clear_selection(&mut self) {
        self.selection = Selection::default();
        self.refresh_colours();
    }

    pub(crate) fn update_selection_totals(&mut self) {
        let Some(d) = &self.data else { return };
        let (mut reads, mut bases) = (0, 0u64);
        for (i, &s) in self.selection.rows.iter().enumerate() {
            if s {
                reads += 1;
                bases += d.index.lengths[i] as u64;
            }
        }
        self.selection.reads = reads;
        self.selection.bases = bases;
        self.refresh_colours();
    }

    /// The one bin wholly selected, if exactly one is (and nothing else).
    pub fn single_selected_bin(&self) -> Option<i32> {
        let m = self.map.as_ref()?;
        let bins: Vec<i32> = (0..m.cut.clustering.n_clusters as i32)
            .filter(|&b| self.bin_selected(b))
            .collect();
        match bins[..] {
            [b] if m
                .cut
                .bins
                .iter()
                .any(|s| s.label == b && s.reads == self.selection.reads) =>
            {
                Some(b)
            }
            _ => None,
        }
    }

    fn update_bin_details(&mut self) {
        self.bin_details = match (self.single_selected_bin(), &self.data, &self.map) {
            (Some(b), Some(d), Some(m)) => Some(super::state::BinDetails::of(
                b,
                &m.cut.clustering.labels,
                &d.index,
                self.labels.as_deref(),
            )),
            _ => None,
        };
    }

    /// Whether bin `label` is wholly selected (highlights its table row).
    pub fn bin_selected(&self, label: i32) -> bool {
        self.selection
            .whole_bins
            .get((label + 1) as usize)
            .copied()
            .unwrap_or(false)
    }

    pub(crate) fn recount_whole_bins(&mut self) {
        let Some(m) = &self.map else { return };
        let c = &m.cut.clustering;
        let mut seen = vec![false; c.n_clusters + 1];
        let mut whole = vec![self.selection.reads > 0; c.n_clusters + 1];
        if self.selection.rows.len() == c.labels.len() {
            for (&l, &s) in c.labels.iter().zip(&self.selection.rows) {
                let b = (l + 1) as usize;
                seen[b] = true;
                whole[b] &= s;
            }
        }
        self.selection.whole_bins = whole.iter().zip(&seen).map(|(&w, &s)| w && s).collect();
    }

    pub fn set_colour_by(&mut self, c: ColourBy) {
        self.colour_by = c;
        self.refresh_colours();
    }

    /// Per-read colours for the current mode and selection.
    pub fn refresh_colours(&mut self) {
        self.colour_version += 1;
        self.recount_whole_bins();
        self.update_bin_details();
        let mut c = self.base_colours();
        if self.selection.reads > 0 {
            for (c, &s) in c.iter_mut().zip(&self.selection.rows) {
                if !s {
                    *c = colours::dim(*c);
                }
            }
        }
        self.colours = c;
    }

    /// Selects the reads drawn in `colour` in the current mode (a legend entry: a true species,
    /// an overlap component, an agreement class), or adds them to the selection.
    pub fn select_colour(&mut self, colour: Color32, add: bool) {
        let rows: Vec<u32> = self
            .base_colours()
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c == colour)
            .map(|(i, _)| i as u32)
            .collect();
        self.select_rows(&rows, add);
    }

    /// Each read's overlap support under `labels`, from the cache while the bins and the graph
    /// are those it was made for (a selection at a million reads must not walk every overlap).
    fn support(
        &self,
        labels: &[i32],
        g: &Arc<crate::graph::ReadGraph>,
    ) -> Arc<Vec<crate::graph::Support>> {
        let key = labels.iter().fold(Arc::as_ptr(g) as u64, |h, &l| {
            (h ^ l as u32 as u64).wrapping_mul(0x0100_0000_01b3)
        });
        let mut cache = self.support_cache.lock().unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((k, s)) if *k == key => s.clone(),
            _ => {
                let s = Arc::new(crate::graph::support(labels, &g.adjacency));
                *cache = Some((key, s.clone()));
                s
            }
        }
    }

    /// Per-read colours for the current mode, before the selection dims the rest (empty before
    /// a map).
    fn base_colours(&self) -> Vec<Color32> {
        let (Some(d), Some(m)) = (&self.data, &self.map) else {
            return Vec::new();
        };
        let n = d.index.len();
        match self.colour_by {
            ColourBy::Bin => m
                .cut
                .clustering
                .labels
                .iter()
                .map(|&l| colours::category(l as i64))
                .collect(),
            ColourBy::Truth => match &self.labels {
                Some(l) => l
                    .codes
                    .iter()
                    .map(|c| colours::category(c.map_or(-1, |c| c as i64)))
                    .collect(),
                None => vec![colours::GREY; n],
            },
            ColourBy::Gc => {
                let (lo, hi) = d.gc_range;
                d.index
                    .gc
                    .iter()
                    .map(|&g| colours::ramp((g - lo) / (hi - lo)))
                    .collect()
            }
            ColourBy::Component => match &d.graph {
                Some(g) => {
                    let shown = shown_components(g) as u32;
                    g.component
                        .iter()
                        .map(|&c| colours::category(if c < shown { c as i64 } else { -1 }))
                        .collect()
                }
                None => vec![colours::GREY; n],
            },
            ColourBy::Agreement => match &d.graph {
                // O(overlaps), here on the UI thread: tens of ms at a million reads, and only
                // when the bins or the mode change.
                Some(g) => {
                    let labels = &m.cut.clustering.labels;
                    self.support(labels, g)
                        .iter()
                        .zip(labels)
                        .map(|(&s, &l)| colours::agreement(s, l >= 0))
                        .collect()
                }
                None => vec![colours::GREY; n],
            },
            ColourBy::Length => {
                let (lo, hi) = d.log_length_range;
                d.index
                    .lengths
                    .iter()
                    .map(|&l| colours::ramp(((l as f32).ln() - lo) / (hi - lo)))
                    .collect()
            }
        }
    }
}

/// Components coloured: the largest ones, each of at least this share of the reads; the rest
/// (fragments of genomes too shallow to join up, lone reads) grey.
pub(crate) const COMPONENTS_SHOWN: usize = 20;
pub(crate) const COMPONENT_MIN_SHARE: f64 = 0.005;

/// How many components (the largest, by rank) get a colour of their own.
pub(crate) fn shown_components(g: &crate::graph::ReadGraph) -> usize {
    let n = g.component.len() as f64;
    g.component_sizes
        .iter()
        .take(COMPONENTS_SHOWN)
        .take_while(|&&s| s > 1 && s as f64 >= COMPONENT_MIN_SHARE * n)
        .count()
}
