use super::*;
use crate::cluster::hdbscan;
use crate::metrics::adjusted_rand_index;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Well separated Gaussian blobs in `dim` dimensions with their true labels.
fn blobs(n_per: usize, centers: usize, dim: usize, seed: u64) -> (Vec<f32>, Vec<i32>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let c = Normal::new(0.0f32, 6.0).unwrap();
    let g = Normal::new(0.0f32, 1.0).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for k in 0..centers {
        let center: Vec<f32> = (0..dim).map(|_| c.sample(&mut rng)).collect();
        for _ in 0..n_per {
            x.extend(center.iter().map(|m| m + g.sample(&mut rng)));
            y.push(k as i32);
        }
    }
    (x, y)
}

#[test]
fn layout_keeps_neighbours_and_separates_blobs() {
    let (x, truth) = blobs(200, 5, 8, 1);
    let p = UmapParams {
        n_epochs: 200,
        ..Default::default()
    };
    let y = umap(&x, 8, &p, &mut |_, _| true).unwrap();
    assert_eq!(y.len(), truth.len() * 2);
    assert!(y.iter().all(|v| v.is_finite()));
    let t = trustworthiness(&x, 8, &y, 2, 15, &[]);
    // umap-learn gets ≈ 0.93–0.95 on such blobs; the within-blob order is noise, so this
    // mostly checks that neighbours stay neighbours.
    assert!(t > 0.9, "trustworthiness {t}");
    let c = hdbscan(&y, 2, 50, 10);
    let ari = adjusted_rand_index(&c.labels, &truth);
    assert!(ari > 0.95, "ARI of HDBSCAN on the map {ari}");
}

#[test]
fn same_seed_same_layout() {
    let (x, _) = blobs(80, 3, 4, 2);
    let p = UmapParams {
        n_epochs: 50,
        ..Default::default()
    };
    let a = umap(&x, 4, &p, &mut |_, _| true).unwrap();
    let b = umap(&x, 4, &p, &mut |_, _| true).unwrap();
    assert_eq!(a, b);
    let c = umap(&x, 4, &UmapParams { seed: 7, ..p }, &mut |_, _| true).unwrap();
    assert_ne!(a, c);
}

#[test]
fn cancel_stops_layout() {
    let (x, _) = blobs(50, 2, 3, 3);
    assert!(umap(&x, 3, &UmapParams::default(), &mut |e, _| e < 3).is_none());
}

#[test]
fn trustworthiness_of_identity_is_one() {
    let (x, _) = blobs(60, 2, 2, 4);
    let t = trustworthiness(&x, 2, &x, 2, 10, &[]);
    assert!((t - 1.0).abs() < 1e-9, "{t}");
}
