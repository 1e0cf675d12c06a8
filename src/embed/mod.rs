//! 2-D projection of the latent: UMAP (exact kNN graph, fuzzy simplicial set, seeded SGD layout
//! with negative sampling), written here because the published `umap-rs` lays points out wrongly
//! (see the measurements); checked against umap-learn by trustworthiness.
mod curve;
mod pca;

pub use pca::{Pca, pca};

use crate::kdtree::{KdTree, dist2, scatter};
use rand::{RngCore, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UmapParams {
    pub n_neighbors: usize,
    pub min_dist: f32,
    pub spread: f32,
    /// 0: [`DEFAULT_EPOCHS`].
    pub n_epochs: usize,
    pub negative_sample_rate: usize,
    pub seed: u64,
}

impl Default for UmapParams {
    fn default() -> Self {
        UmapParams {
            n_neighbors: 15,
            min_dist: 0.1,
            spread: 1.0,
            n_epochs: 0,
            negative_sample_rate: 5,
            seed: 42,
        }
    }
}

/// The symmetric fuzzy graph, one entry per direction.
struct Graph {
    head: Vec<u32>,
    tail: Vec<u32>,
    weight: Vec<f32>,
}

/// Calibrates each point's kernel (rho = nearest-neighbour distance, sigma so the memberships
/// sum to log2 k) and joins i→j and j→i memberships with the fuzzy union a + b − ab.
fn fuzzy_graph(knn: &[Vec<(f32, u32)>], k: usize) -> Graph {
    let target = (k as f32).log2();
    let mean_all: f32 = {
        let (s, c) = knn
            .iter()
            .flat_map(|r| r.iter())
            .fold((0f64, 0u64), |(s, c), e| (s + (e.0 as f64).sqrt(), c + 1));
        (s / c.max(1) as f64) as f32
    };
    let directed: Vec<Vec<(u32, u32, f32)>> = knn
        .par_iter()
        .enumerate()
        .map(|(i, row)| {
            let d: Vec<(f32, u32)> = row
                .iter()
                .filter(|e| e.1 as usize != i)
                .map(|e| (e.0.sqrt(), e.1))
                .collect();
            let rho = d.iter().map(|e| e.0).find(|&x| x > 0.0).unwrap_or(0.0);
            let (mut lo, mut hi, mut mid) = (0f32, f32::INFINITY, 1f32);
            for _ in 0..64 {
                let s: f32 = d
                    .iter()
                    .map(|e| {
                        if e.0 - rho > 0.0 {
                            (-(e.0 - rho) / mid).exp()
                        } else {
                            1.0
                        }
                    })
                    .sum();
                if (s - target).abs() < 1e-5 {
                    break;
                }
                if s > target {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    mid = if hi.is_infinite() {
                        mid * 2.0
                    } else {
                        (lo + hi) / 2.0
                    };
                }
            }
            let mean_i = d.iter().map(|e| e.0).sum::<f32>() / d.len().max(1) as f32;
            let floor = 1e-3 * if rho > 0.0 { mean_i } else { mean_all };
            let sigma = mid.max(floor);
            d.iter()
                .map(|e| {
                    let w = if e.0 - rho > 0.0 {
                        (-(e.0 - rho) / sigma).exp()
                    } else {
                        1.0
                    };
                    (i as u32, e.1, w)
                })
                .collect()
        })
        .collect();
    // Key each membership by its unordered pair; the two directions meet after sorting.
    let mut pairs: Vec<(u32, u32, f32)> = directed
        .into_iter()
        .flatten()
        .map(|(i, j, w)| if i < j { (i, j, w) } else { (j, i, w) })
        .collect();
    pairs.par_sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.2.total_cmp(&y.2)));
    let mut g = Graph {
        head: Vec::new(),
        tail: Vec::new(),
        weight: Vec::new(),
    };
    let mut i = 0;
    while i < pairs.len() {
        let (a, b, w1) = pairs[i];
        let (w, step) = if i + 1 < pairs.len() && (pairs[i + 1].0, pairs[i + 1].1) == (a, b) {
            let w2 = pairs[i + 1].2;
            (w1 + w2 - w1 * w2, 2)
        } else {
            (w1, 1)
        };
        for (h, t) in [(a, b), (b, a)] {
            g.head.push(h);
            g.tail.push(t);
            g.weight.push(w);
        }
        i += step;
    }
    g
}

/// xorshift: the layout draws hundreds of millions of negative samples; a ChaCha draw each
/// would dominate the loop. Seeded from the settings, so the layout is reproducible.
struct XorShift(u64);
impl XorShift {
    #[inline]
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Up to this many dimensions the kd-tree finds exact neighbours quickly (the latent).
const EXACT_MAX_DIM: usize = 16;
/// Above it (the 152-D k-mer vectors) a kd-tree visits nearly every leaf: 540 s for 30 000
/// reads. Candidates are then found on the first `SEARCH_DIMS` principal axes and re-ranked by
/// the true distance.
const SEARCH_DIMS: usize = 12;
/// Candidates per neighbour kept, and rows the axes are fitted on at most.
const CANDIDATES: usize = 4;
const MAX_FIT_ROWS: usize = 50_000;

/// The `k` nearest neighbours (squared distance, index) of every row of `data`, nearest first:
/// exact in few dimensions, approximate (principal-axis candidates, exact re-ranking) in many.
pub fn knn_all(data: &[f32], dim: usize, k: usize) -> Vec<Vec<(f32, u32)>> {
    knn_all_cancellable(data, dim, k, &mut || true).expect("never cancelled")
}

/// Rows searched between two calls of `keep_going` (a few seconds of work at most).
const KNN_CHUNK: usize = 1 << 15;

/// [`knn_all`], asking `keep_going` between chunks of rows: `None` once it says no (a kNN of
/// 200 000 points takes tens of seconds, and Ctrl-C or Cancel waited for all of it).
pub fn knn_all_cancellable(
    data: &[f32],
    dim: usize,
    k: usize,
    keep_going: &mut dyn FnMut() -> bool,
) -> Option<Vec<Vec<(f32, u32)>>> {
    let n = data.len() / dim.max(1);
    let row = |i: usize| &data[i * dim..(i + 1) * dim];
    let exact = dim <= EXACT_MAX_DIM || n <= k * CANDIDATES;
    // Exact: a kd-tree on the data. Approximate: on its leading principal axes, with the
    // candidates re-ranked by the true distance.
    let (low, ldim) = if exact {
        (Vec::new(), dim)
    } else {
        let fit = every_nth_row(data, dim, n.div_ceil(MAX_FIT_ROWS));
        (Pca::fit(&fit, dim, SEARCH_DIMS).project(data), SEARCH_DIMS)
    };
    let tree = KdTree::new(if exact { data } else { &low }, ldim);
    let search = |i: usize| {
        if exact {
            return tree.knn(row(i), k);
        }
        let mut c: Vec<(f32, u32)> = tree
            .knn(&low[i * ldim..(i + 1) * ldim], k * CANDIDATES)
            .into_iter()
            .map(|(_, j)| (dist2(row(i), row(j as usize)), j))
            .collect();
        c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        c.truncate(k);
        c
    };
    // Rows are searched in the tree's order (neighbours in space one after another, so the
    // nodes they walk stay in cache) and put back in row order.
    let mut found: Vec<Vec<(f32, u32)>> = Vec::with_capacity(n);
    for chunk in tree.order().chunks(KNN_CHUNK) {
        if !keep_going() {
            return None;
        }
        found.par_extend(chunk.par_iter().map(|&i| search(i as usize)));
    }
    Some(scatter(tree.order(), found))
}

/// Layout epochs at any size. umap-learn runs 500 up to 10 000 points and 200 above; 200 at
/// every size bins as well here (dev reads, seeds 42/1/2: ARI 0.907 with 500, 0.903 with 200;
/// mix F 0.839 / 0.839 at seeds 1 and 2) and takes the map of 6 000 reads from 3.2 s to 1.3 s.
pub const DEFAULT_EPOCHS: usize = 200;

/// Lays out `data` (n × dim, row-major) in 2-D; returns n × 2. `progress(done, total)` is called
/// once per epoch and returns false to cancel (then `None`).
pub fn umap(
    data: &[f32],
    dim: usize,
    p: &UmapParams,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Option<Vec<f32>> {
    let n = data.len() / dim.max(1);
    if n == 0 {
        return Some(Vec::new());
    }
    if n == 1 {
        return Some(vec![0.0, 0.0]);
    }
    let k = p.n_neighbors.clamp(2, n);
    let n_epochs = if p.n_epochs > 0 {
        p.n_epochs
    } else {
        DEFAULT_EPOCHS
    };
    let knn = knn_all_cancellable(data, dim, k, &mut || progress(0, n_epochs))?;
    let g = fuzzy_graph(&knn, k);
    let (a, b) = curve::fit_ab(p.spread, p.min_dist);

    // Initial layout: the first two principal components, scaled to ±10 like umap-learn's
    // spectral start; deterministic and keeps the latent's global arrangement.
    let mut y = pca(data, dim, 2);
    let max_abs = y.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    for v in &mut y {
        *v *= 10.0 / max_abs;
    }

    let max_w = g.weight.iter().copied().fold(0f32, f32::max);
    let keep: Vec<usize> = (0..g.weight.len())
        .filter(|&e| g.weight[e] >= max_w / n_epochs as f32)
        .collect();
    let edges: Vec<(u32, u32, f32)> = keep
        .iter()
        .map(|&e| (g.head[e], g.tail[e], max_w / g.weight[e]))
        .collect();
    let l = Layout {
        a,
        b,
        neg_rate: p.negative_sample_rate.max(1) as f32,
        seed: rand_chacha::ChaCha8Rng::seed_from_u64(p.seed).next_u64(),
        n_epochs,
    };
    l.run(&mut y, &edges, progress)?;
    progress(n_epochs, n_epochs);
    Some(y)
}

/// Parts the layout's points are split into, each moved by its own thread. Fixed, so the map
/// does not depend on the number of cores.
const LAYOUT_PARTS: usize = 4;

/// The SGD of the layout (attraction along the graph's edges, repulsion from random points).
struct Layout {
    a: f32,
    b: f32,
    neg_rate: f32,
    seed: u64,
    n_epochs: usize,
}

/// Edges (head, tail: positions into a part's points) with their sampling schedules.
#[derive(Default)]
struct Edges {
    head: Vec<u32>,
    tail: Vec<u32>,
    eps: Vec<f32>,
    next: Vec<f32>,
    next_neg: Vec<f32>,
}

impl Edges {
    fn push(&mut self, h: u32, t: u32, eps: f32, neg_rate: f32) {
        self.head.push(h);
        self.tail.push(t);
        self.eps.push(eps);
        self.next.push(eps);
        self.next_neg.push(eps / neg_rate);
    }
}

impl Layout {
    /// Lays out `y` (n × 2, the start) along `edges` (head, tail, epochs per sample).
    ///
    /// The points are cut into [`LAYOUT_PARTS`] strips of the starting map (by x); each strip's
    /// own edges run on their own thread, then the few edges between strips run in turn. Every
    /// repulsion reads where the other point was at the start of the epoch, so no thread reads
    /// what another writes and the map is the same on any number of cores. (A single-threaded
    /// layout left one core idle for most of the map: 6 000 reads, 1.3 s.)
    fn run(
        &self,
        y: &mut [f32],
        edges: &[(u32, u32, f32)],
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Option<()> {
        let n = y.len() / 2;
        // New order: by x, so that each part is a contiguous run of points.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&i, &j| {
            y[2 * i as usize]
                .total_cmp(&y[2 * j as usize])
                .then(i.cmp(&j))
        });
        let mut at = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            at[old as usize] = new as u32;
        }
        let parts = LAYOUT_PARTS.min(n).max(1);
        let bounds: Vec<usize> = (0..=parts).map(|p| p * n / parts).collect();
        let part_of = |i: u32| bounds.partition_point(|&b| b <= i as usize) - 1;
        // Each part's own edges (positions into the part), and those between parts.
        let mut own: Vec<Edges> = (0..parts).map(|_| Edges::default()).collect();
        let mut cross = Edges::default();
        for &(h, t, eps) in edges {
            let (h, t) = (at[h as usize], at[t as usize]);
            let (ph, pt) = (part_of(h), part_of(t));
            if ph == pt {
                let base = bounds[ph] as u32;
                own[ph].push(h - base, t - base, eps, self.neg_rate);
            } else {
                cross.push(h, t, eps, self.neg_rate);
            }
        }
        let mut pos: Vec<f32> = order
            .iter()
            .flat_map(|&i| [y[2 * i as usize], y[2 * i as usize + 1]])
            .collect();
        let mut rngs: Vec<XorShift> = (0..=parts as u64)
            .map(|p| XorShift((self.seed ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1))
            .collect();
        let (cross_rng, part_rngs) = rngs.split_last_mut().expect("parts + 1 generators");
        let mut before = pos.clone();
        for epoch in 0..self.n_epochs {
            if !progress(epoch, self.n_epochs) {
                return None;
            }
            before.copy_from_slice(&pos);
            let mut slices: Vec<&mut [f32]> = Vec::with_capacity(parts);
            let mut rest: &mut [f32] = &mut pos;
            for p in 0..parts {
                let (s, r) = rest.split_at_mut(2 * (bounds[p + 1] - bounds[p]));
                slices.push(s);
                rest = r;
            }
            slices
                .into_par_iter()
                .zip(own.par_iter_mut())
                .zip(part_rngs.par_iter_mut())
                .enumerate()
                .for_each(|(p, ((ys, e), rng))| self.epoch(epoch, ys, bounds[p], &before, e, rng));
            self.epoch(epoch, &mut pos, 0, &before, &mut cross, cross_rng);
        }
        for (new, &old) in order.iter().enumerate() {
            y[2 * old as usize] = pos[2 * new];
            y[2 * old as usize + 1] = pos[2 * new + 1];
        }
        Some(())
    }

    /// One epoch of `e`'s edges over the points `ys` (positions `base`.. of the whole map);
    /// repulsion from random points of `before` (the whole map as the epoch began).
    fn epoch(
        &self,
        epoch: usize,
        ys: &mut [f32],
        base: usize,
        before: &[f32],
        e: &mut Edges,
        rng: &mut XorShift,
    ) {
        let (a, b) = (self.a, self.b);
        let n = before.len() / 2;
        let alpha = 1.0 - epoch as f32 / self.n_epochs as f32;
        let ep = epoch as f32;
        let clip = |v: f32| v.clamp(-4.0, 4.0);
        for i in 0..e.head.len() {
            if e.next[i] > ep {
                continue;
            }
            let (j, kk) = (e.head[i] as usize, e.tail[i] as usize);
            let (dx, dy) = (ys[2 * j] - ys[2 * kk], ys[2 * j + 1] - ys[2 * kk + 1]);
            let d2 = dx * dx + dy * dy;
            if d2 > 0.0 {
                let pb = d2.powf(b - 1.0);
                let coef = -2.0 * a * b * pb / (a * pb * d2 + 1.0);
                let (gx, gy) = (clip(coef * dx) * alpha, clip(coef * dy) * alpha);
                ys[2 * j] += gx;
                ys[2 * j + 1] += gy;
                ys[2 * kk] -= gx;
                ys[2 * kk + 1] -= gy;
            }
            e.next[i] += e.eps[i];
            let eps_neg = e.eps[i] / self.neg_rate;
            let n_neg = ((ep - e.next_neg[i]) / eps_neg).max(0.0) as usize;
            // The repulsions all start from where the head is now and are added together, so
            // their powf calls do not wait on each other (they did, one after another, through
            // the head's position).
            let (hx, hy) = (ys[2 * j], ys[2 * j + 1]);
            let (mut gx, mut gy) = (0f32, 0f32);
            for _ in 0..n_neg {
                let m = (rng.next() % n as u64) as usize;
                if m == base + j {
                    continue;
                }
                let (dx, dy) = (hx - before[2 * m], hy - before[2 * m + 1]);
                let d2 = dx * dx + dy * dy;
                if d2 > 0.0 {
                    let coef = 2.0 * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0));
                    gx += clip(coef * dx) * alpha;
                    gy += clip(coef * dy) * alpha;
                }
            }
            ys[2 * j] += gx;
            ys[2 * j + 1] += gy;
            e.next_neg[i] += n_neg as f32 * eps_neg;
        }
    }
}

/// Most points [`umap_sampled`] lays out itself. 200 000 points take about a minute on 2 cores
/// (kNN, then a single-threaded layout); a million took over ten.
pub const MAP_ROWS: usize = 200_000;
/// Candidates on principal axes among which a placed point's nearest laid-out point is found.
const PLACE_CANDIDATES: usize = 8;

/// Rows 0, `step`, 2·`step`, … of the row-major `data` (`dim` columns): an even sample.
fn every_nth_row(data: &[f32], dim: usize, step: usize) -> Vec<f32> {
    data.chunks_exact(dim)
        .step_by(step)
        .flatten()
        .copied()
        .collect()
}

/// A small fixed offset for point `i`, each coordinate in ±`size` / 2: points put beside a
/// stand-in do not hide it or each other.
pub(crate) fn offset(i: usize, size: f32) -> [f32; 2] {
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let unit = |bits: u64| (bits & 0xFF_FFFF) as f32 / (1u64 << 24) as f32 - 0.5;
    [unit(h >> 40) * size, unit(h >> 16) * size]
}

/// [`umap`] of at most `max_rows` points: above that, every ⌈n / max_rows⌉-th point is laid out
/// and every other point is put beside its nearest laid-out point (found in `data`'s space, on
/// principal axes when it has many dimensions). Cancelling through `progress` returns `None`.
pub fn umap_sampled(
    data: &[f32],
    dim: usize,
    p: &UmapParams,
    max_rows: usize,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Option<Vec<f32>> {
    let n = data.len() / dim.max(1);
    if n <= max_rows.max(1) {
        return umap(data, dim, p, progress);
    }
    let step = n.div_ceil(max_rows);
    let sample = every_nth_row(data, dim, step);
    let m = sample.len() / dim;
    // The layout's epochs count for most of the work; placement reports one more step.
    let mut epochs = 0;
    let ys = umap(&sample, dim, p, &mut |done, total| {
        epochs = total;
        progress(done, total + 1)
    })?;
    let pca = (dim > EXACT_MAX_DIM).then(|| Pca::fit(&sample, dim, SEARCH_DIMS));
    let (low, ldim) = match &pca {
        Some(pca) => (pca.project(&sample), SEARCH_DIMS),
        None => (sample.clone(), dim),
    };
    let tree = KdTree::new(&low, ldim);
    // The nearest laid-out point of a row: on principal axes, the nearest of a few candidates
    // by the true distance.
    let nearest = |i: usize| -> u32 {
        let row = &data[i * dim..(i + 1) * dim];
        let Some(pca) = &pca else {
            return tree.knn(row, 1).first().map_or(0, |f| f.1);
        };
        let mut q = [0f32; SEARCH_DIMS];
        pca.project_row(row, &mut q);
        let laid = |j: u32| &sample[j as usize * dim..(j as usize + 1) * dim];
        tree.knn(&q, PLACE_CANDIDATES.min(m))
            .into_iter()
            .map(|(_, j)| (dist2(row, laid(j)), j))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map_or(0, |c| c.1)
    };
    // The rows to place, taken leaf by leaf of the laid-out points' tree: rows searched one
    // after another then walk the same nodes, which stay in cache (a million joined rows:
    // about 30 s in file order, 26 s in this one).
    let leaf_of = |i: usize| -> (u32, u32) {
        let row = &data[i * dim..(i + 1) * dim];
        let leaf = match &pca {
            Some(pca) => {
                let mut q = [0f32; SEARCH_DIMS];
                pca.project_row(row, &mut q);
                tree.leaf_of(&q)
            }
            None => tree.leaf_of(row),
        };
        (leaf, i as u32)
    };
    // In chunks, each after a look at the cancel button (800 000 rows at a million reads).
    const CHUNK: usize = 1 << 18;
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(n - m);
    for start in (0..n).step_by(CHUNK) {
        if !progress(epochs, epochs + 1) {
            return None;
        }
        order.par_extend(
            (start..(start + CHUNK).min(n))
                .into_par_iter()
                .filter(|i| !i.is_multiple_of(step))
                .map(leaf_of),
        );
    }
    order.par_sort_unstable();
    let mut found: Vec<u32> = Vec::with_capacity(order.len());
    for chunk in order.chunks(1 << 16) {
        if !progress(epochs, epochs + 1) {
            return None;
        }
        found.par_extend(chunk.par_iter().map(|&(_, i)| nearest(i as usize)));
    }
    // Beside its nearest laid-out point, not at a mean of several: a mean puts the reads
    // between two groups into the gap, and those bridges merged five genomes into one
    // HDBSCAN bin at a million reads. A small fixed offset keeps the points apart.
    let mut y = vec![0f32; 2 * n];
    for (i, xy) in y.chunks_exact_mut(2).enumerate().step_by(step) {
        xy.copy_from_slice(&ys[2 * (i / step)..2 * (i / step) + 2]);
    }
    for (&(_, i), &j) in order.iter().zip(&found) {
        let (i, j) = (i as usize, j as usize);
        let d = offset(i, 0.1);
        y[2 * i] = ys[2 * j] + d[0];
        y[2 * i + 1] = ys[2 * j + 1] + d[1];
    }
    progress(epochs + 1, epochs + 1);
    Some(y)
}

/// Trustworthiness (Venna & Kaski) of `low` as an embedding of `high` at `k` neighbours, over
/// the query points `queries` (all points when empty): 1 is perfect.
pub fn trustworthiness(
    high: &[f32],
    hd: usize,
    low: &[f32],
    ld: usize,
    k: usize,
    queries: &[usize],
) -> f64 {
    let n = high.len() / hd;
    let all: Vec<usize>;
    let q = if queries.is_empty() {
        all = (0..n).collect();
        &all
    } else {
        queries
    };
    let low_tree = KdTree::new(low, ld);
    let penalty: f64 = q
        .par_iter()
        .map(|&i| {
            let hi_i = &high[i * hd..(i + 1) * hd];
            let mut order: Vec<(f32, u32)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (dist2(hi_i, &high[j * hd..(j + 1) * hd]), j as u32))
                .collect();
            order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut rank = vec![0u32; n];
            for (r, &(_, j)) in order.iter().enumerate() {
                rank[j as usize] = r as u32 + 1;
            }
            let nn = low_tree.knn(&low[i * ld..(i + 1) * ld], k + 1);
            nn.iter()
                .filter(|e| e.1 as usize != i)
                .take(k)
                .map(|e| (rank[e.1 as usize] as f64 - k as f64).max(0.0))
                .sum::<f64>()
        })
        .sum();
    let (nf, kf) = (n as f64, k as f64);
    // Normalised per query point so a subsample estimates the full score.
    1.0 - 2.0 / (q.len() as f64 * kf * (2.0 * nf - 3.0 * kf - 1.0)) * penalty
}

#[cfg(test)]
mod tests;
