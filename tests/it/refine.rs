//! Bin refinement on generated reads: a bin holding two genomes is split, a one-genome bin is not.
use crate::common::genome_reads;
use binscape::Settings;
use binscape::cluster::Clustering;
use binscape::metrics::adjusted_rand_index;
use binscape::reads::{FeatureOptions, ReadIndex, load_reads};
use binscape::refine::refine;
use binscape::{Error, Progress};
use rand::{Rng, SeedableRng};

/// Reads of random genomes, one per (GC, read count), each read labelled by its genome.
fn genomes(specs: &[(f64, usize)], rng: &mut impl Rng) -> Vec<(i32, Vec<u8>)> {
    let mut reads = Vec::new();
    for (g, &(gc, n)) in specs.iter().enumerate() {
        reads.extend(genome_reads(gc, n, rng).into_iter().map(|s| (g as i32, s)));
    }
    reads
}

/// All `n` reads of `index` as one bin, refined with the default settings.
fn refined_whole(index: &ReadIndex, n: usize) -> (Clustering, Vec<binscape::refine::Split>) {
    refine(
        index,
        &one_bin(n),
        &Settings::default(),
        &Progress::default(),
    )
    .unwrap()
}

/// Every one of `n` reads in one bin.
fn one_bin(n: usize) -> Clustering {
    Clustering {
        labels: vec![0; n],
        n_clusters: 1,
        strength: vec![1.0; n],
    }
}

/// Genomes A (GC 42%, 300 reads) and B (50%, 100 reads: close to A, a third of its reads) put in
/// one bin, C (65%, 200 reads) in another; reads interleaved so file order says nothing. Returns
/// the loaded reads' index, each read's genome and that two-bin clustering.
fn setup(dir: &std::path::Path) -> (ReadIndex, Vec<i32>, Clustering) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let reads = genomes(&[(0.42, 300), (0.50, 100), (0.65, 200)], &mut rng);
    let (index, truth) = shuffled_and_loaded(dir, reads, &mut rng, false);
    let labels: Vec<i32> = truth.iter().map(|&g| if g == 2 { 1 } else { 0 }).collect();
    let n = labels.len();
    let c = Clustering {
        labels,
        n_clusters: 2,
        strength: vec![1.0; n],
    };
    (index, truth, c)
}

/// `reads` (genome, sequence) shuffled, written to `dir`/r.fa and loaded (with the coverage
/// features or not): the index and each read's genome, in file order.
fn shuffled_and_loaded(
    dir: &std::path::Path,
    mut reads: Vec<(i32, Vec<u8>)>,
    rng: &mut impl Rng,
    coverage: bool,
) -> (ReadIndex, Vec<i32>) {
    for i in (1..reads.len()).rev() {
        reads.swap(i, rng.random_range(0..=i));
    }
    let fa: String = reads
        .iter()
        .enumerate()
        .map(|(i, (_, s))| format!(">r{i}\n{}\n", String::from_utf8_lossy(s)))
        .collect();
    let path = dir.join("r.fa");
    std::fs::write(&path, fa).unwrap();
    let opt = FeatureOptions {
        k: 4,
        coverage,
        skip_invalid: false,
    };
    let index = load_reads(&path, opt, &Progress::default()).unwrap().index;
    (index, reads.iter().map(|r| r.0).collect())
}

#[test]
fn a_bin_of_two_genomes_is_split_and_a_one_genome_bin_kept_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (index, truth, c) = setup(dir.path());
    let progress = Progress::default();
    let (refined, splits) = refine(&index, &c, &Settings::default(), &progress).unwrap();

    assert_eq!(refined.n_clusters, 3, "splits: {splits:?}");
    assert_eq!(splits.len(), 1);
    assert_eq!(splits[0].reads, 400);
    let ari = adjusted_rand_index(&refined.labels, &truth);
    assert!(ari > 0.95, "ARI {ari}");
    // Genome C's bin is untouched: one bin, all of C and nothing else.
    let c_bins: std::collections::HashSet<i32> = (0..truth.len())
        .filter(|&i| truth[i] == 2)
        .map(|i| refined.labels[i])
        .collect();
    assert_eq!(c_bins.len(), 1);
    let c_bin = *c_bins.iter().next().unwrap();
    let in_c_bin = refined.labels.iter().filter(|&&l| l == c_bin).count();
    assert_eq!(in_c_bin, 200);
    // Bins are numbered by size, largest first.
    let sizes: Vec<usize> = (0..3)
        .map(|b| refined.labels.iter().filter(|&&l| l == b).count())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
}

#[test]
fn refinement_is_deterministic_and_cancellable() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _, c) = setup(dir.path());
    let progress = Progress::default();
    let s = Settings::default();
    let a = refine(&index, &c, &s, &progress).unwrap();
    let b = refine(&index, &c, &s, &progress).unwrap();
    assert_eq!(a, b);
    progress.cancel();
    assert!(matches!(
        refine(&index, &c, &s, &progress),
        Err(Error::Cancelled)
    ));
}

/// A phage (20 kb, ~11× deep) whose reads share a bin with a host genome's (1 Mb, ~1× deep) of
/// the same GC: the reads' 15-mer depth tells them apart, and refinement gives the phage a bin.
/// The phage's reads share k-mers along its length, so its 5-mer map often splits it by locus
/// (two to four pieces in 11 of 12 seeds before the pieces were joined again): the test holds
/// over several samples, not one lucky one.
#[test]
fn a_deep_phage_in_its_host_bin_shows_its_depth_and_gets_a_bin() {
    let mut outcomes = Vec::new();
    for seed in 1..=6 {
        let (bins, phage_in, host_in) = phage_and_host(seed);
        outcomes.push((seed, bins, phage_in, host_in));
    }
    // The phage's bin: most of its 100 reads, and few of the host's 400.
    let good = outcomes
        .iter()
        .filter(|&&(_, bins, phage_in, host_in)| bins == 2 && phage_in >= 70 && host_in <= 8)
        .count();
    assert!(
        good >= 5,
        "(seed, bins, phage reads, host reads in its bin): {outcomes:?}"
    );
}

/// A host and a deep phage's reads from `seed`, refined from one bin: bins, and the phage
/// reads and host reads in the phage's bin.
fn phage_and_host(seed: u64) -> (usize, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let host = crate::common::random_genome(1_000_000, 0.5, &mut rng);
    let phage = crate::common::random_genome(20_000, 0.5, &mut rng);
    let mut reads: Vec<(i32, Vec<u8>)> = Vec::new();
    for (g, genome, n) in [(0, &host, 400), (1, &phage, 100)] {
        for _ in 0..n {
            let len = rng.random_range(1500..3000);
            let start = rng.random_range(0..genome.len() - len);
            reads.push((g, genome[start..start + len].to_vec()));
        }
    }
    let (index, truth) = shuffled_and_loaded(dir.path(), reads, &mut rng, true);
    let depth_of = |g: i32| {
        let mut d: Vec<u8> = (0..truth.len())
            .filter(|&i| truth[i] == g)
            .map(|i| index.kmer_depth[i])
            .collect();
        d.sort_unstable();
        (d[d.len() / 10], d[d.len() / 2], d[d.len() * 9 / 10])
    };
    let (host_depth, phage_depth) = (depth_of(0), depth_of(1));
    // Nine in ten phage reads are over four times the host's median read.
    assert!(
        phage_depth.0 as u32 >= 4 * host_depth.1 as u32,
        "seed {seed}: host {host_depth:?}, phage {phage_depth:?}"
    );
    let (refined, _) = refined_whole(&index, truth.len());
    let phage_bin = refined.labels[truth.iter().position(|&g| g == 1).unwrap()];
    let (mut phage_in, mut host_in) = (0, 0);
    for (i, &l) in refined.labels.iter().enumerate() {
        if l == phage_bin && l >= 0 {
            *(if truth[i] == 1 {
                &mut phage_in
            } else {
                &mut host_in
            }) += 1;
        }
    }
    (refined.n_clusters, phage_in, host_in)
}

/// Genomes A (GC 38 %) and B (43 %) and a far one, C (72 %), all in one bin: the bin's first map
/// puts A and B together apart from C, and they are told apart when that part is looked at
/// again on its own axes (the second round).
#[test]
fn the_parts_of_a_split_bin_are_split_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let reads = genomes(&[(0.38, 300), (0.43, 200), (0.72, 300)], &mut rng);
    let (index, truth) = shuffled_and_loaded(dir.path(), reads, &mut rng, false);
    let n = truth.len();
    let (refined, splits) = refined_whole(&index, n);
    assert_eq!(refined.n_clusters, 3, "splits: {splits:?}");
    assert_eq!(splits.len(), 2, "the bin, then its A + B part: {splits:?}");
    assert_eq!((splits[0].reads, splits[1].reads), (n, 500), "{splits:?}");
    let ari = adjusted_rand_index(&refined.labels, &truth);
    assert!(ari > 0.9, "ARI {ari}");
}
