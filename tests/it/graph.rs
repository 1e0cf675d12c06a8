//! The read-overlap graph on generated genomes: overlapping reads find each other, a repeat
//! shared by two genomes does not join them, and the vote fixes planted mis-assignments.
use crate::common::{indexed_fasta, random_genome, substituted};
use binscape::Progress;
use binscape::graph::{Plan, correct, genome_sizes, overlaps, overlaps_with};
use binscape::reads::ReadIndex;
use rand::{Rng, SeedableRng};

/// The reads (label, sequence) as FASTA, named r0, r1, ..., loaded ([`indexed_fasta`]).
fn indexed(reads: &[(i32, Vec<u8>)]) -> (tempfile::TempDir, ReadIndex) {
    let text: String = reads
        .iter()
        .enumerate()
        .map(|(i, (_, s))| format!(">r{i}\n{}\n", String::from_utf8_lossy(s)))
        .collect();
    indexed_fasta(&text)
}

#[test]
fn overlaps_fix_planted_mistakes_and_ignore_a_shared_repeat() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    // An insertion-sequence-like element: shorter than the shortest overlap that counts.
    let repeat = random_genome(900, 0.5, &mut rng);
    // Two 120 kb genomes of like composition, each with the same element in its middle.
    let genomes: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let mut g = random_genome(120_000, 0.5, &mut rng);
            g.splice(60_000..60_000, repeat.iter().copied());
            g
        })
        .collect();
    // ~8× coverage of 1.5–3 kb reads, with 3 % substitutions; a tenth of the reads of each
    // genome run through its copy of the element (at 60 000–60 900) with at least 800 bases of
    // genome on each side, as long reads over a 1 kb element do; so reads of the two genomes
    // share it. Reads with less flank on one side (where no overlapper can tell) are moved off.
    let mut reads = Vec::new();
    for (g, genome) in genomes.iter().enumerate() {
        for i in 0..450 {
            let len = rng.random_range(1500..3000);
            let (len, mut start) = if i % 10 == 0 {
                let len = rng.random_range(2800..3000);
                (len, rng.random_range(58_900..59_200))
            } else {
                (len, rng.random_range(0..genome.len() - len))
            };
            let crosses = start < 60_900 && start + len > 60_000;
            if crosses && (start > 59_200 || start + len < 61_700) {
                start = 70_000;
            }
            let seq = substituted(&genome[start..start + len], 0.03, &mut rng);
            reads.push((g as i32, seq));
        }
    }
    let p = Progress::default();
    let (_dir, index) = indexed(&reads);
    let truth: Vec<i32> = reads.iter().map(|r| r.0).collect();
    let o = overlaps(&index, &p).unwrap();
    assert!(o.edges.len() > 1000, "{} edges", o.edges.len());
    let cross = |e: &[(u32, u32, u32)]| {
        e.iter()
            .filter(|&&(a, b, _)| truth[a as usize] != truth[b as usize])
            .count()
    };
    assert_eq!(cross(&o.edges), 0, "the shared repeat joined the genomes");
    // Every fifteenth read put in the wrong bin, every seventeenth unbinned (none of the first
    // at the element, where every tenth read is: mistakes spread over the genomes).
    let mut planted = truth.clone();
    for (i, l) in planted.iter_mut().enumerate() {
        if i % 15 == 7 {
            *l = 1 - *l;
        } else if i % 17 == 3 {
            *l = -1;
        }
    }
    let (fixed, report) = correct(&planted, &o, &o.adjacency(planted.len()));
    let wrong = |l: &[i32]| l.iter().zip(&truth).filter(|(a, b)| a != b).count();
    assert!(wrong(&planted) > 100);
    assert!(wrong(&fixed) <= 5, "{} reads still wrong", wrong(&fixed));
    assert!(report.moved >= 50 && report.rescued >= 40, "{report:?}");

    // As a deep sample is read: only some reads indexed, the others looked up against them.
    // The overlaps that touch an indexed read are the same ones, none between two others, and
    // the vote still fixes the planted mistakes.
    let part = overlaps_with(
        &index,
        &p,
        Plan {
            minimizers: 1.0,
            reads: 0.4,
        },
    )
    .unwrap();
    let pairs = |e: &[(u32, u32, u32)]| {
        e.iter()
            .map(|&(a, b, _)| (a, b))
            .collect::<std::collections::HashSet<_>>()
    };
    let (full, some) = (pairs(&o.edges), pairs(&part.edges));
    let touched: Vec<bool> = (0..truth.len())
        .map(|r| {
            part.edges
                .iter()
                .any(|&(a, b, _)| a as usize == r || b as usize == r)
        })
        .collect();
    let extra = some.iter().filter(|&e| !full.contains(e)).count();
    assert!(
        some.len() * 10 > full.len() * 5 && some.len() < full.len() * 9 / 10,
        "{} of {} overlaps with 40 % of the reads indexed",
        some.len(),
        full.len()
    );
    // (Not all: where a minimizer is in more than MAX_PAIRED reads, each path pairs an even
    // spread of them, and the look-up's spread is of fewer reads.)
    assert!(
        extra * 10 <= some.len(),
        "look-ups found {extra} of {} overlaps that the full index does not",
        some.len()
    );
    assert_eq!(
        cross(&part.edges),
        0,
        "the shared repeat joined the genomes"
    );
    let touched = touched.iter().filter(|&&t| t).count();
    assert!(
        touched > truth.len() * 95 / 100,
        "{touched} reads with overlaps"
    );
    let (fixed, _) = correct(&planted, &part, &part.adjacency(planted.len()));
    assert!(wrong(&fixed) <= 20, "{} reads still wrong", wrong(&fixed));
}

/// Reads shorter than the shortest overlap that counts (1 kb) have a voice when they lie inside
/// a longer read: their edges go to their own genome, a planted wrong bin is fixed by them, a
/// chimera of two genomes lies inside no read (though short reads may lie inside it), and the
/// genome size estimate, which counts end-to-end overlaps only, does not move.
#[test]
fn short_reads_inside_longer_ones_overlap_them_and_take_their_vote() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(24);
    let genomes: Vec<Vec<u8>> = (0..2)
        .map(|_| random_genome(80_000, 0.5, &mut rng))
        .collect();
    // Per genome: ~6x of 2-4 kb reads, 120 reads of 200-900 bp, 3 % substitutions; then 20
    // chimeras of 400 bp of each genome.
    let mut reads: Vec<(i32, Vec<u8>)> = Vec::new();
    for (g, genome) in genomes.iter().enumerate() {
        for i in 0..(160 + 120) {
            let len = if i < 160 {
                rng.random_range(2000..4000)
            } else {
                rng.random_range(200..900)
            };
            let start = rng.random_range(0..genome.len() - len);
            reads.push((
                g as i32,
                substituted(&genome[start..start + len], 0.03, &mut rng),
            ));
        }
    }
    let chimeras = reads.len()..reads.len() + 20;
    for _ in chimeras.clone() {
        let mut s = Vec::new();
        for genome in &genomes {
            let start = rng.random_range(0..genome.len() - 400);
            s.extend(substituted(&genome[start..start + 400], 0.03, &mut rng));
        }
        reads.push((-1, s));
    }
    let p = Progress::default();
    let (_dir, index) = indexed(&reads);
    let o = overlaps(&index, &p).unwrap();
    let truth: Vec<i32> = reads.iter().map(|r| r.0).collect();
    let short = |i: usize| truth[i] >= 0 && reads[i].1.len() < 1000;
    let mut with_edges = vec![false; reads.len()];
    for &(a, b, _) in &o.edges {
        let (a, b) = (a as usize, b as usize);
        with_edges[a] = true;
        with_edges[b] = true;
        // A chimera lies inside no read (half of it does, in many); a shorter read may lie
        // (mostly) inside its one half.
        if let Some((c, r)) = [(a, b), (b, a)]
            .into_iter()
            .find(|(c, _)| chimeras.contains(c))
        {
            assert!(
                reads[r].1.len() < reads[c].1.len(),
                "the chimera r{c} overlaps r{r} of {} bp",
                reads[r].1.len()
            );
            continue;
        }
        assert_eq!(truth[a], truth[b], "r{a} and r{b} are of two genomes");
    }
    let shorts = (0..reads.len()).filter(|&i| short(i)).count();
    let heard = (0..reads.len())
        .filter(|&i| short(i) && with_edges[i])
        .count();
    assert!(
        heard * 10 >= shorts * 7,
        "{heard} of {shorts} short reads have overlaps"
    );

    // Every short read put in the other genome's bin: the reads it lies inside vote it back.
    let planted: Vec<i32> = (0..reads.len())
        .map(|i| if short(i) { 1 - truth[i] } else { truth[i] })
        .collect();
    let (fixed, _) = correct(&planted, &o, &o.adjacency(planted.len()));
    let back = (0..reads.len())
        .filter(|&i| short(i) && fixed[i] == truth[i])
        .count();
    assert!(
        back * 10 >= heard * 9,
        "{back} of {heard} short reads voted back"
    );

    // The genome estimate is that of the long reads' overlaps alone.
    let labels: Vec<i32> = truth.iter().map(|&t| t.max(0)).collect();
    let long_only = binscape::graph::Overlaps {
        edges: o
            .edges
            .iter()
            .copied()
            .filter(|&(a, b, _)| !short(a as usize) && !short(b as usize))
            .collect(),
        ..o.clone()
    };
    assert!(long_only.edges.len() < o.edges.len());
    let size = |o: &binscape::graph::Overlaps| {
        genome_sizes(&labels, o, &index.lengths)
            .iter()
            .map(|g| g.size)
            .collect::<Vec<_>>()
    };
    assert_eq!(size(&o), size(&long_only));
}

#[test]
fn overlaps_between_diverged_copies_of_a_genome_are_weak() {
    // A 100 kb genome and a copy of it 12 % apart (a relative, or a gene two genomes share):
    // reads of one copy share far more minimizers per kb than reads of the two, so most overlaps
    // between copies are weak ([`binscape::graph::FIRM`]) and almost none within one.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(27);
    let genome = random_genome(100_000, 0.5, &mut rng);
    let copy = substituted(&genome, 0.12, &mut rng);
    let mut reads = Vec::new();
    for (g, n) in [(0, 400), (1, 40)] {
        let source = if g == 0 { &genome } else { &copy };
        for _ in 0..n {
            let len = rng.random_range(2000..4000);
            let start = rng.random_range(0..source.len() - len);
            reads.push((g, substituted(&source[start..start + len], 0.02, &mut rng)));
        }
    }
    let (_dir, index) = indexed(&reads);
    let truth: Vec<i32> = reads.iter().map(|r| r.0).collect();
    let o = overlaps(&index, &Progress::default()).unwrap();
    assert_eq!(o.density.len(), o.edges.len());
    let adj = o.adjacency(truth.len());
    // Each overlap's firmness as the adjacency tells it, by kind.
    let (mut within, mut between) = ((0, 0), (0, 0));
    for i in 0..truth.len() {
        for (&(j, _), firm) in adj.of(i).iter().zip(adj.firm(i)) {
            let t = match (truth[i], truth[j as usize]) {
                (0, 0) => &mut within,
                (a, b) if a != b => &mut between,
                _ => continue,
            };
            t.0 += firm as usize;
            t.1 += 1;
        }
    }
    assert!(between.1 > 200, "{between:?} overlaps between the copies");
    assert!(
        within.0 * 100 >= within.1 * 95,
        "{within:?} firm of the overlaps within one copy"
    );
    // (Not all: a tenth of the copy's reads lie where it differs less, and the per-kb counts
    // of short overlaps spread widely; on dev a third of the overlaps between species are firm.)
    assert!(
        between.0 * 2 <= between.1,
        "{between:?} firm of the overlaps between the copies"
    );
}
