//! Maps while the VAE trains: every few seconds the explorer asks the trainer for the latent of
//! a fixed sample of reads, maps and clusters that sample, and spreads the result over every
//! read by its nearest sampled read. At a million reads a full map takes minutes; a 20 000-read
//! sample takes seconds, so the user watches the bins form instead of a blank map.
use crate::cluster::{Clustering, NOISE, build_hierarchy};
use crate::embed::{Pca, UmapParams, umap};
use crate::error::{Error, Result};
use crate::features::Matrix;
use crate::kdtree::KdTree;
use crate::progress::Progress;
use crate::settings::Settings;
use rayon::prelude::*;
use std::sync::Arc;

/// Reads mapped at each refresh, at most.
pub const PREVIEW_ROWS: usize = 20_000;
/// Principal axes of the k-mer vectors on which each read finds its nearest sampled read.
const AXES: usize = 8;
/// Layout epochs of a preview: enough for the groups to show, a third of a full map's.
const PREVIEW_EPOCHS: usize = 150;

/// Which reads are mapped, and for every read the sampled read standing in for it.
#[derive(Clone, Debug)]
pub struct PreviewPlan {
    /// Sampled rows, ascending (every ⌈n / PREVIEW_ROWS⌉-th read).
    pub rows: Arc<Vec<u32>>,
    /// Per read: index into `rows` of its nearest sampled read on the k-mer vectors' leading
    /// principal axes (itself when sampled). Fixed for the whole training: it needs no latent.
    pub nearest: Vec<u32>,
}

impl PreviewPlan {
    pub fn new(features: &Matrix, max_rows: usize) -> PreviewPlan {
        let (n, d) = (features.rows, features.cols);
        let step = n.div_ceil(max_rows.max(1)).max(1);
        let rows: Vec<u32> = (0..n as u32).step_by(step).collect();
        let nearest = if step == 1 {
            (0..n as u32).collect()
        } else {
            let sample: Vec<f32> = rows
                .iter()
                .flat_map(|&r| features.row(r as usize).iter().copied())
                .collect();
            let pca = Pca::fit(&sample, d, AXES);
            let low = pca.project(&sample);
            let tree = KdTree::new(&low, AXES);
            (0..n)
                .into_par_iter()
                .map(|i| {
                    if i % step == 0 {
                        return (i / step) as u32;
                    }
                    let mut q = [0f32; AXES];
                    pca.project_row(features.row(i), &mut q);
                    tree.knn(&q, 1).first().map_or(0, |&(_, j)| j)
                })
                .collect()
        };
        PreviewPlan {
            rows: Arc::new(rows),
            nearest,
        }
    }
}

/// A preview: the map of every read (each unsampled read beside its stand-in) and its bins.
#[derive(Clone, Debug)]
pub struct Preview {
    pub step: u64,
    /// n × 2.
    pub xy: Vec<f32>,
    pub clustering: Clustering,
    pub min_cluster_size: usize,
}

/// Maps and clusters the sample's latent (`latent` rows follow `plan.rows`) and spreads it over
/// every read; `previous` (the last preview's labels) keeps bin numbers, and so colours, steady.
pub fn preview(
    plan: &PreviewPlan,
    latent: &Matrix,
    step: u64,
    s: &Settings,
    previous: Option<&[i32]>,
    progress: &Progress,
) -> Result<Preview> {
    let m = latent.rows;
    let n = plan.nearest.len();
    progress.start("preview map", PREVIEW_EPOCHS as u64);
    let params = UmapParams {
        n_epochs: PREVIEW_EPOCHS,
        ..s.umap_params()
    };
    let mut cb = |done: usize, _: usize| {
        progress.set(done as u64);
        !progress.cancelled()
    };
    let xy_sample = umap(&latent.data, latent.cols, &params, &mut cb).ok_or(Error::Cancelled)?;
    // The min cluster size the full cut would use, scaled to the sample.
    let mcs = (s.min_cluster_size_for(n) * m / n.max(1)).max(5);
    let h = build_hierarchy(&xy_sample, 2, s.min_samples_for(n).min(mcs), &|| {
        progress.cancelled()
    })
    .ok_or(Error::Cancelled)?;
    let cut = h.cut(mcs);
    let mut xy = vec![0f32; 2 * n];
    let mut labels = vec![NOISE; n];
    let mut strength = vec![0f32; n];
    for (i, &j) in plan.nearest.iter().enumerate() {
        let j = j as usize;
        // A small fixed offset per read, so stand-ins do not hide the reads beside them.
        let d = crate::embed::offset(i, 0.2);
        xy[2 * i] = xy_sample[2 * j] + d[0];
        xy[2 * i + 1] = xy_sample[2 * j + 1] + d[1];
        labels[i] = cut.labels[j];
        strength[i] = cut.strength.get(j).copied().unwrap_or(0.0);
    }
    let n_clusters = cut.n_clusters;
    let labels = match previous {
        Some(p) if p.len() == n => keep_numbers(&labels, n_clusters, p),
        _ => labels,
    };
    Ok(Preview {
        step,
        xy,
        clustering: Clustering {
            labels,
            n_clusters,
            strength,
        },
        min_cluster_size: mcs,
    })
}

/// Renumbers the bins of `labels` so that each takes the number of the previous bin it shares
/// most reads with (greedily, largest overlaps first); bins with no match take the numbers
/// left. Colours follow numbers, so a bin keeps its colour from one refresh to the next.
fn keep_numbers(labels: &[i32], n_clusters: usize, previous: &[i32]) -> Vec<i32> {
    let prev_n = crate::cluster::bin_count(previous);
    let mut overlap = std::collections::HashMap::new();
    for (&a, &b) in labels.iter().zip(previous) {
        if a >= 0 && b >= 0 {
            *overlap.entry((a, b)).or_insert(0usize) += 1;
        }
    }
    let mut pairs: Vec<((i32, i32), usize)> = overlap.into_iter().collect();
    pairs.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut new_of = vec![-1i32; n_clusters];
    let mut taken = vec![false; prev_n.max(n_clusters)];
    for ((a, b), _) in pairs {
        if new_of[a as usize] < 0 && !taken[b as usize] && (b as usize) < n_clusters {
            new_of[a as usize] = b;
            taken[b as usize] = true;
        }
    }
    let mut free = (0..n_clusters as i32).filter(|&x| !taken[x as usize]);
    for v in new_of.iter_mut() {
        if *v < 0 {
            *v = free.next().unwrap_or(0);
        }
    }
    labels
        .iter()
        .map(|&l| if l < 0 { l } else { new_of[l as usize] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_keep_their_numbers_across_refreshes() {
        // The same two groups, numbered the other way round this time, plus a new third one.
        let previous = [0, 0, 0, 1, 1, -1, -1];
        let now = [1, 1, 0, 0, 0, 2, 2];
        let kept = keep_numbers(&now, 3, &previous);
        assert_eq!(kept, vec![0, 0, 1, 1, 1, 2, 2]);
    }

    #[test]
    fn every_read_stands_near_its_sampled_neighbour() {
        // Two groups far apart in 20-D.
        let n = 1000;
        let d = 20;
        let data: Vec<f32> = (0..n * d)
            .map(|i| {
                let (r, c) = (i / d, i % d);
                (if r % 2 == 0 { 5.0 } else { -5.0 }) * ((c % 3) as f32)
                    + ((i * 7919) % 101) as f32 / 200.0
            })
            .collect();
        let f = Matrix::new(n, d, data);
        // Every 11th read: both groups are sampled.
        let plan = PreviewPlan::new(&f, 91);
        assert_eq!(plan.rows.len(), 91);
        for (i, &j) in plan.nearest.iter().enumerate() {
            let r = plan.rows[j as usize] as usize;
            assert_eq!(
                r % 2,
                i % 2,
                "read {i} stands in for a read of the other group"
            );
        }
    }
}
