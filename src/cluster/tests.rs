use super::*;
use crate::metrics::adjusted_rand_index;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Gaussian blobs of different sizes and spreads plus uniform background noise.
fn blobs(seed: u64, dim: usize) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let specs = [
        (0.0, 0.0, 0.5, 300),
        (6.0, 1.0, 0.8, 200),
        (2.0, 7.0, 0.3, 120),
        (9.0, 8.0, 1.0, 80),
    ];
    let mut pts = Vec::new();
    for (cx, cy, sd, n) in specs {
        let g = Normal::new(0.0f32, sd).unwrap();
        for _ in 0..n {
            pts.push(cx + g.sample(&mut rng));
            pts.push(cy + g.sample(&mut rng));
            for _ in 2..dim {
                pts.push(g.sample(&mut rng));
            }
        }
    }
    let u = rand_distr::Uniform::new(-3.0f32, 12.0).unwrap();
    for _ in 0..60 {
        for _ in 0..dim {
            pts.push(u.sample(&mut rng));
        }
    }
    pts
}

fn oracle(pts: &[f32], dim: usize, mcs: usize, ms: usize) -> Vec<i32> {
    let rows: Vec<Vec<f32>> = pts.chunks(dim).map(|c| c.to_vec()).collect();
    let hp = hdbscan::HdbscanHyperParams::builder()
        .min_cluster_size(mcs)
        .min_samples(ms)
        .build();
    hdbscan::Hdbscan::new(&rows, hp).cluster().unwrap()
}

#[test]
fn agrees_with_hdbscan_crate() {
    for (seed, dim, mcs, ms) in [
        (1u64, 2usize, 15usize, 5usize),
        (2, 2, 40, 10),
        (3, 5, 20, 20),
        (4, 2, 5, 3),
    ] {
        let pts = blobs(seed, dim);
        let ours = hdbscan(&pts, dim, mcs, ms);
        let theirs = oracle(&pts, dim, mcs, ms);
        let ari = adjusted_rand_index(&ours.labels, &theirs);
        assert!(
            ari > 0.98,
            "seed {seed} dim {dim} mcs {mcs} ms {ms}: ARI vs hdbscan crate {ari}"
        );
        let n_theirs = theirs
            .iter()
            .filter(|&&l| l >= 0)
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        // With min_samples 3 many mutual-reachability weights tie, and the order of equal merges
        // (free in any implementation) decides a few 5-point clusters; compare counts above that.
        if mcs >= 15 {
            assert_eq!(ours.n_clusters, n_theirs, "seed {seed}");
        }
    }
}

#[test]
fn mst_is_minimal_and_spanning() {
    // Against Prim's algorithm over all pairs of mutual-reachability distances.
    let pts = blobs(9, 2);
    let n = pts.len() / 2;
    let ms = 4;
    let tree = KdTree::new(&pts, 2);
    let core2 = mst::core_distances2(&tree, ms);
    let edges = mst::mutual_reachability_mst(&tree, &core2, &|| false).unwrap();
    assert_eq!(edges.len(), n - 1);
    let mr = |a: usize, b: usize| {
        let d = crate::kdtree::dist2(&pts[a * 2..a * 2 + 2], &pts[b * 2..b * 2 + 2]);
        d.max(core2[a]).max(core2[b]).sqrt() as f64
    };
    let mut in_tree = vec![false; n];
    let mut best = vec![f64::INFINITY; n];
    best[0] = 0.0;
    let mut total = 0.0;
    for _ in 0..n {
        let u = (0..n)
            .filter(|&i| !in_tree[i])
            .min_by(|&a, &b| best[a].total_cmp(&best[b]))
            .unwrap();
        in_tree[u] = true;
        total += best[u];
        for v in 0..n {
            if !in_tree[v] {
                best[v] = best[v].min(mr(u, v));
            }
        }
    }
    let ours: f64 = edges.iter().map(|e| e.w as f64).sum();
    assert!(
        (ours - total).abs() < 1e-3 * total,
        "MST weight {ours} vs Prim {total}"
    );
}

#[test]
fn recut_changes_cluster_count() {
    let pts = blobs(5, 2);
    let h = build_hierarchy(&pts, 2, 5, &|| false).unwrap();
    let small = h.cut(15);
    let large = h.cut(250);
    assert!(small.n_clusters >= 4, "{}", small.n_clusters);
    assert!(large.n_clusters < small.n_clusters);
    // Labels are numbered by size, largest first.
    let count = |c: &Clustering, l: i32| c.labels.iter().filter(|&&x| x == l).count();
    for l in 1..small.n_clusters as i32 {
        assert!(count(&small, l - 1) >= count(&small, l));
    }
}

#[test]
fn tiny_inputs_do_not_panic() {
    assert_eq!(hdbscan(&[], 2, 5, 5).labels.len(), 0);
    assert_eq!(hdbscan(&[1.0, 2.0], 2, 5, 5).labels, vec![NOISE]);
    let same = vec![0.5f32; 2 * 50];
    let c = hdbscan(&same, 2, 5, 5);
    assert_eq!(c.labels.len(), 50);
}

#[test]
fn allow_single_keeps_one_blob_whole_and_still_splits_several() {
    // One Gaussian blob: with the root out of the running HDBSCAN has no cluster to give it (all
    // noise or splinters); with the root in, it is one cluster.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let g = Normal::new(0.0f32, 1.0).unwrap();
    let one: Vec<f32> = (0..2 * 600).map(|_| g.sample(&mut rng)).collect();
    let h = build_hierarchy(&one, 2, 10, &|| false).unwrap();
    let single = h.cut_with(30, true);
    assert_eq!(single.n_clusters, 1);
    assert!(single.labels.iter().all(|&l| l == 0));
    let plain = h.cut(30);
    assert!(
        plain.n_clusters != 1 || plain.labels.contains(&NOISE),
        "plain cut already keeps the blob whole"
    );
    // Well-separated blobs: the root loses to its children, as without allow_single.
    let pts = blobs(5, 2);
    let h = build_hierarchy(&pts, 2, 5, &|| false).unwrap();
    let a = h.cut_with(15, true);
    assert!(a.n_clusters >= 4, "{}", a.n_clusters);
    assert_eq!(
        adjusted_rand_index(&a.labels, &h.cut(15).labels),
        1.0,
        "allow_single changed a clear cut"
    );
}

#[test]
fn the_steadiest_min_cluster_size_sits_inside_the_widest_run_of_one_bin_count() {
    // Four blobs of 80–300 points among 60 scattered ones: every size from 10 to n/50 finds
    // the four, whatever size the caller would usually take.
    let pts = blobs(5, 2);
    let h = build_hierarchy(&pts, 2, 5, &|| false).unwrap();
    for usual in [10, 100] {
        let st = h.steadiest(usual);
        assert_eq!(st.bins, 4, "{st:?}");
        assert!(st.from <= st.size && st.size <= st.to, "{st:?}");
        assert_eq!((st.from, st.to), (10, pts.len() / 2 / 50), "{st:?}");
        assert_eq!(h.cut(st.size).n_clusters, 4);
    }
}

#[test]
fn the_widest_run_wins_and_ties_go_to_the_one_nearest_the_usual_size() {
    let sizes = [10, 14, 20, 28, 40, 57, 80];
    let st = steadiest_of(&sizes, &[9, 9, 7, 7, 7, 7, 4], 80);
    assert_eq!((st.bins, st.from, st.to, st.size), (7, 20, 57, 34));
    // Two runs of two: the one whose middle is nearer the usual size.
    let st = steadiest_of(&sizes[..4], &[5, 5, 3, 3], 12);
    assert_eq!((st.bins, st.from, st.to), (5, 10, 14));
    let st = steadiest_of(&sizes[..4], &[5, 5, 3, 3], 25);
    assert_eq!((st.bins, st.from, st.to), (3, 20, 28));
    // Nothing cut: the usual size.
    assert_eq!(steadiest_of(&[], &[], 60).size, 60);
}

#[test]
fn bins_are_counted_to_the_highest_label() {
    let labels = [1, NOISE, 1, 3, 0];
    assert_eq!(bin_count(&labels), 4);
    assert_eq!(bin_sizes(&labels), vec![1, 2, 0, 1]);
    assert_eq!(bin_count(&[NOISE, NOISE]), 0);
    assert!(bin_sizes(&[]).is_empty());
}

#[test]
fn the_steadiest_size_keeps_a_group_of_three_percent() {
    // 5 000 points: eight large groups and one of 150 (3 %, the rarest genome share the product
    // is for). Every size tried finds all nine, so the chosen size must sit under 150 and the
    // cut must keep the small group as a cluster of its own.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let g = Normal::new(0.0f32, 0.4).unwrap();
    let shares = [150usize, 450, 500, 550, 600, 650, 650, 700, 750];
    let mut pts = Vec::new();
    for (c, &m) in shares.iter().enumerate() {
        let (cx, cy) = ((c % 3) as f32 * 8.0, (c / 3) as f32 * 8.0);
        for _ in 0..m {
            pts.push(cx + g.sample(&mut rng));
            pts.push(cy + g.sample(&mut rng));
        }
    }
    let n = pts.len() / 2;
    let h = build_hierarchy(&pts, 2, 15, &|| false).unwrap();
    let st = h.steadiest(n / 100);
    assert!(st.to as f64 <= n as f64 * STEADY_MAX_SHARE + 1.0, "{st:?}");
    assert!(st.size < 150, "{st:?}");
    let c = h.cut(st.size);
    assert_eq!(c.n_clusters, 9, "{st:?}");
    let small: std::collections::BTreeSet<i32> = (0..150).map(|i| c.labels[i]).collect();
    assert_eq!(small.len(), 1, "the small group is one cluster: {small:?}");
    assert!(!small.contains(&NOISE));
}
