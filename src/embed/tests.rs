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

/// The layout's parts run on rayon's threads; the map must not depend on how many there are.
#[test]
fn layout_is_the_same_on_any_number_of_threads() {
    let (x, _) = blobs(300, 4, 6, 4);
    let p = UmapParams {
        n_epochs: 60,
        ..Default::default()
    };
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| umap(&x, 6, &p, &mut |_, _| true).unwrap())
    };
    let one = on(1);
    assert_eq!(one, on(3));
    assert_eq!(one, on(LAYOUT_PARTS));
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

#[test]
fn high_dimensional_neighbours_are_nearly_exact() {
    // 152-D points in 6 groups that vary along a few directions plus a little noise everywhere,
    // as k-mer vectors do (a genome's reads differ mostly along a few axes).
    let (z, _) = blobs(500, 6, 6, 4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let g = Normal::new(0.0f32, 1.0).unwrap();
    let w: Vec<f32> = (0..6 * 152).map(|_| g.sample(&mut rng)).collect();
    let data: Vec<f32> = z
        .chunks(6)
        .flat_map(|r| {
            let noise: Vec<f32> = (0..152).map(|_| 0.05 * g.sample(&mut rng)).collect();
            (0..152)
                .map(|j| (0..6).map(|i| r[i] * w[i * 152 + j]).sum::<f32>() + noise[j])
                .collect::<Vec<f32>>()
        })
        .collect();
    let k = 15;
    let exact = KdTree::new(&data, 152).knn_all(k);
    let approx = knn_all(&data, 152, k);
    let mut hits = 0;
    for (a, e) in approx.iter().zip(&exact) {
        assert_eq!(a.len(), k);
        assert!(a.windows(2).all(|w| w[0].0 <= w[1].0), "not nearest first");
        hits += a.iter().filter(|x| e.iter().any(|y| y.1 == x.1)).count();
    }
    let recall = hits as f64 / (k * exact.len()) as f64;
    assert!(recall > 0.9, "recall {recall}");
}

#[test]
fn a_sampled_layout_places_every_other_point_with_its_own_blob() {
    // Low (8) and high (40) dimensions: the second finds neighbours on principal axes.
    for dim in [8, 40] {
        let (x, truth) = blobs(600, 4, dim, 5);
        let p = UmapParams {
            n_epochs: 100,
            ..Default::default()
        };
        let mut calls = 0;
        let y = umap_sampled(&x, dim, &p, 500, &mut |_, _| {
            calls += 1;
            true
        })
        .unwrap();
        assert_eq!(y.len(), truth.len() * 2);
        assert!(y.iter().all(|v| v.is_finite()));
        // The laid-out points are the layout of the sample alone.
        let step = truth.len().div_ceil(500);
        let sample: Vec<f32> = x.chunks(dim).step_by(step).flatten().copied().collect();
        let alone = umap(&sample, dim, &p, &mut |_, _| true).unwrap();
        for (i, xy) in alone.chunks(2).enumerate() {
            assert_eq!(xy, &y[2 * i * step..2 * i * step + 2]);
        }
        let c = hdbscan(&y, 2, 100, 10);
        let ari = adjusted_rand_index(&c.labels, &truth);
        assert!(
            ari > 0.95,
            "dim {dim}: ARI of HDBSCAN on the placed map {ari}"
        );
        assert!(calls > 100, "progress reported per epoch and placement");
        // Cancelling during placement (after the last epoch) returns nothing.
        let mut seen = 0;
        let cancelled = umap_sampled(&x, dim, &p, 500, &mut |done, total| {
            seen += 1;
            done < total - 1
        });
        assert!(cancelled.is_none() && seen > 100);
    }
}

#[test]
fn neighbour_search_stops_when_asked_and_finds_the_same_otherwise() {
    let (x, _) = blobs(20_000, 4, 6, 9);
    let mut calls = 0;
    assert!(
        knn_all_cancellable(&x, 6, 5, &mut || {
            calls += 1;
            calls < 2
        })
        .is_none()
    );
    assert_eq!(
        calls, 2,
        "asked between chunks, and stopped at the first no"
    );
    let all = knn_all_cancellable(&x, 6, 5, &mut || true).unwrap();
    assert_eq!(all, crate::kdtree::KdTree::new(&x, 6).knn_all(5));
}
