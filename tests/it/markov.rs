//! The sequence vote on generated genomes: two genomes that differ in which bases follow which
//! are told apart read by read, planted mistakes among reads the overlaps cannot settle are
//! undone, and settled reads stay put.
use crate::common::{indexed_fasta, substituted};
use binscape::Progress;
use binscape::graph::Support;
use binscape::markov::{Chains, doubted, vote, words};
use rand::{Rng, SeedableRng};

/// A genome drawn from an order-2 Markov chain with random transition probabilities (a
/// Dirichlet(1) draw per context): its own preferences for which base follows which two.
fn chain_genome(len: usize, rng: &mut impl Rng) -> Vec<u8> {
    let table = chain_table(rng);
    genome_of(&table, len, rng)
}

/// An order-2 chain's transition probabilities, a Dirichlet(1) draw per context.
fn chain_table(rng: &mut impl Rng) -> Vec<[f64; 4]> {
    (0..16)
        .map(|_| {
            let w: Vec<f64> = (0..4).map(|_| -rng.random::<f64>().ln()).collect();
            let t: f64 = w.iter().sum();
            [w[0] / t, w[1] / t, w[2] / t, w[3] / t]
        })
        .collect()
}

/// A genome of `len` bases drawn from the order-2 chain `table`.
fn genome_of(table: &[[f64; 4]], len: usize, rng: &mut impl Rng) -> Vec<u8> {
    let mut g = vec![0u8, 1];
    while g.len() < len {
        let p = &table[(g[g.len() - 2] * 4 + g[g.len() - 1]) as usize];
        let (mut u, mut b) = (rng.random::<f64>(), 0);
        while b < 3 && u >= p[b] {
            u -= p[b];
            b += 1;
        }
        g.push(b as u8);
    }
    g.iter().map(|&b| b"ACGT"[b as usize]).collect()
}

/// 2–3 kb reads of `genome` under 1× (few overlap), either strand, 5 % substitutions.
fn reads_of(genome: &[u8], n: usize, rng: &mut impl Rng) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let len = rng.random_range(2000..3000);
            let start = rng.random_range(0..genome.len() - len);
            let mut s = substituted(&genome[start..start + len], 0.05, rng);
            if rng.random::<bool>() {
                s.reverse();
                for b in s.iter_mut() {
                    *b = match *b {
                        b'A' => b'T',
                        b'C' => b'G',
                        b'G' => b'C',
                        _ => b'A',
                    };
                }
            }
            s
        })
        .collect()
}

/// `per` reads of each genome ([`reads_of`]) as FASTA named g{genome}r{i}, loaded; with each
/// read's genome.
fn indexed_reads(
    genomes: &[Vec<u8>],
    per: usize,
    rng: &mut impl Rng,
) -> (tempfile::TempDir, binscape::reads::ReadIndex, Vec<i32>) {
    let mut truth = Vec::new();
    let mut text = String::new();
    for (g, genome) in genomes.iter().enumerate() {
        for (i, s) in reads_of(genome, per, rng).into_iter().enumerate() {
            text += &format!(">g{g}r{i}\n{}\n", String::from_utf8_lossy(&s));
            truth.push(g as i32);
        }
    }
    let (dir, index) = indexed_fasta(&text);
    (dir, index, truth)
}

#[test]
fn doubted_reads_go_back_to_their_genome_and_settled_reads_stay() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let genomes = [
        chain_genome(2_000_000, &mut rng),
        chain_genome(2_000_000, &mut rng),
    ];
    let (_dir, index, genome) = indexed_reads(&genomes, 300, &mut rng);
    // Genome g's bin is 2g: label 1 is a bin the earlier votes emptied.
    let truth: Vec<i32> = genome.iter().map(|g| 2 * g).collect();
    // Every fifth read in the other genome's bin, every 23rd unbinned.
    let planted: Vec<i32> = (0..truth.len())
        .map(|i| match i {
            _ if i % 23 == 0 => -1,
            _ if i % 5 == 0 => 2 - truth[i],
            _ => truth[i],
        })
        .collect();
    // No read has overlaps, except every 10th, whose overlaps all agree with its (planted) bin
    // (half of the planted mistakes: those must stay).
    let support: Vec<Support> = (0..truth.len())
        .map(|i| {
            let n = if i % 10 == 0 { 3 } else { 0 };
            Support {
                overlaps: n,
                in_bin: if planted[i] >= 0 { n } else { 0 },
            }
        })
        .collect();
    let in_doubt: Vec<usize> = (0..truth.len())
        .filter(|&i| doubted(planted[i], support[i]))
        .collect();
    let wrong = |l: &[i32]| in_doubt.iter().filter(|&&i| l[i] != truth[i]).count();
    let (fixed, said) = vote(&index, &planted, &support, None, None, &Progress::default()).unwrap();
    assert!(wrong(&planted) > 80, "{} planted", wrong(&planted));
    assert!(
        wrong(&fixed) <= 3,
        "{} of {} planted mistakes in doubt left",
        wrong(&fixed),
        wrong(&planted)
    );
    for i in 0..truth.len() {
        if !doubted(planted[i], support[i]) {
            assert_eq!(
                fixed[i], planted[i],
                "read {i}: its overlaps settle its bin"
            );
        }
    }
    assert_eq!(said.doubted, in_doubt.len());
    assert!(!fixed.contains(&1), "a read went to the empty bin");
    let moved = (0..truth.len()).filter(|&i| planted[i] >= 0 && fixed[i] != planted[i]);
    assert_eq!(said.moved, moved.count());
    assert!(said.rescued > 20, "{said:?}");
    // Deterministic.
    let (again, _) = vote(&index, &planted, &support, None, None, &Progress::default()).unwrap();
    assert_eq!(again, fixed);
    // Cancelled: an error, not half-voted bins.
    let p = Progress::default();
    p.cancel();
    assert!(vote(&index, &planted, &support, None, None, &p).is_err());
}

#[test]
fn a_chain_prefers_its_own_genome_on_either_strand() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let genomes = [
        chain_genome(500_000, &mut rng),
        chain_genome(500_000, &mut rng),
    ];
    let mut counts = vec![vec![0u32; 1 << 14]; 2];
    let mut w = Vec::new();
    for (g, genome) in genomes.iter().enumerate() {
        words(genome, &mut w);
        for &x in &w {
            counts[g][x as usize] += 1;
        }
    }
    let chains = Chains::fit(&counts);
    for (g, genome) in genomes.iter().enumerate() {
        for s in reads_of(genome, 20, &mut rng) {
            words(&s, &mut w);
            let ll = chains.log_likelihoods(&w);
            assert!(ll[g] > ll[1 - g], "a read of genome {g}: {ll:?}");
        }
    }
}

#[test]
fn a_doubted_read_joins_the_bin_its_overlaps_point_to_when_its_chain_agrees_at_all() {
    // Two genomes of nearly one composition (the second's chain is the first's with a tenth of
    // another mixed in): a read's chains differ by less than the margin a read needs on its
    // own, so only where its overlaps point can it move on that.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (a, b) = (chain_table(&mut rng), chain_table(&mut rng));
    let near: Vec<[f64; 4]> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| std::array::from_fn(|k| MIX_NEAR * y[k] + (1.0 - MIX_NEAR) * x[k]))
        .collect();
    let genomes = [
        genome_of(&a, 2_000_000, &mut rng),
        genome_of(&near, 2_000_000, &mut rng),
    ];
    let (_dir, index, truth) = indexed_reads(&genomes, 300, &mut rng);
    // Every fourth read in the other genome's bin; every read doubted (one overlap, out of its
    // bin); the overlaps of the planted reads and of every other read point to the true bin, and
    // those of the rest to the wrong one.
    let planted: Vec<i32> = (0..truth.len())
        .map(|i| if i % 4 == 0 { 1 - truth[i] } else { truth[i] })
        .collect();
    let support = vec![
        Support {
            overlaps: 1,
            in_bin: 0
        };
        truth.len()
    ];
    let pointed: Vec<i32> = (0..truth.len())
        .map(|i| {
            if i % 4 == 0 || i % 2 == 1 {
                truth[i]
            } else {
                1 - truth[i]
            }
        })
        .collect();
    let wrong = |l: &[i32]| (0..truth.len()).filter(|&i| l[i] != truth[i]).count();
    let p = Progress::default();
    let (alone, _) = vote(&index, &planted, &support, None, None, &p).unwrap();
    let (with, said) = vote(&index, &planted, &support, None, Some(&pointed), &p).unwrap();
    // On its chain's margin alone most planted reads stay; where the overlaps point, most go.
    assert_eq!(wrong(&planted), 150);
    assert!(
        wrong(&alone) > 80,
        "{} left by the margin alone",
        wrong(&alone)
    );
    assert!(
        wrong(&with) < wrong(&alone) / 2,
        "{} left where the overlaps point, {} by the margin alone",
        wrong(&with),
        wrong(&alone)
    );
    // A read in its genome's bin whose overlaps point to the other goes there only when its
    // chain says so too: few do.
    let led_astray = (0..truth.len())
        .filter(|&i| i % 4 == 2 && with[i] != truth[i])
        .count();
    assert!(led_astray <= 10, "{led_astray} of 150 led astray");
    assert_eq!(
        said.moved,
        (0..truth.len()).filter(|&i| with[i] != planted[i]).count()
    );
}

/// The share of another chain in the near genome's ([`a_doubted_read_joins_the_bin_its_overlaps_point_to_when_its_chain_agrees_at_all`]).
const MIX_NEAR: f64 = 0.2;

#[test]
fn a_read_held_in_a_bin_only_by_weak_overlaps_goes_where_its_sequence_says() {
    // Two genomes of their own compositions. Every fourth read of the second sits in the first's
    // bin, held there by two weak overlaps (a tenth of the usual shared minimizers per kb, as a
    // gene two genomes share) with reads of the first; every other read overlaps two reads of its
    // own genome firmly, except every fourth read of the first, whose overlaps in its own bin are
    // weak too (it must stay: its sequence agrees).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let genomes = [
        chain_genome(2_000_000, &mut rng),
        chain_genome(2_000_000, &mut rng),
    ];
    let (_dir, index, truth) = indexed_reads(&genomes, 200, &mut rng);
    let n = truth.len();
    let planted: Vec<i32> = (0..n)
        .map(|i| {
            if truth[i] == 1 && i % 4 == 0 {
                0
            } else {
                truth[i]
            }
        })
        .collect();
    let (firm, weak) = (400u16, 40u16);
    let (mut edges, mut density) = (Vec::new(), Vec::new());
    for (i, &bin) in planted.iter().enumerate() {
        let held_weakly = i.is_multiple_of(4);
        // Partners: two reads of its bin's genome (genome 0's for a planted read), none of them
        // held weakly itself.
        let base = 200 * bin as usize;
        for k in [1, 2] {
            let j = base + (i % 200 + 4 * k + 1) % 200;
            let j = if j.is_multiple_of(4) { j + 1 } else { j };
            edges.push((i.min(j) as u32, i.max(j) as u32, 50));
            density.push(if held_weakly { weak } else { firm });
        }
    }
    let o = binscape::graph::Overlaps {
        edges,
        density,
        sampled: 1.0,
        reads_indexed: 1.0,
    };
    let adj = o.adjacency(n);
    let all = binscape::graph::support(&planted, &adj);
    let strong = binscape::graph::firm_support(&planted, &adj);
    let wrong = |l: &[i32]| (0..n).filter(|&i| l[i] != truth[i]).count();
    assert_eq!(wrong(&planted), 50);
    // All their overlaps in their bin: by every overlap, none is in doubt.
    assert!((0..n).all(|i| !doubted(planted[i], all[i])));
    assert_eq!(binscape::graph::weakly_held(&planted, &adj), 100);
    let p = Progress::default();
    let (by_all, _) = vote(&index, &planted, &all, None, None, &p).unwrap();
    assert_eq!(wrong(&by_all), 50, "nothing was in doubt");
    let (by_firm, said) = vote(&index, &planted, &strong, None, None, &p).unwrap();
    assert_eq!(said.doubted, 100);
    assert!(
        wrong(&by_firm) <= 3,
        "{} of 50 planted reads left",
        wrong(&by_firm)
    );
    // The first genome's weakly held reads stay: their sequence agrees with their bin.
    let strayed = (0..200).filter(|&i| by_firm[i] != 0).count();
    assert!(
        strayed <= 2,
        "{strayed} of the first genome's reads left its bin"
    );
}
