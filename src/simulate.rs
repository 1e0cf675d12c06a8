//! A read simulator for benchmarks and for checking defaults on mixes other than the dev set
//! (`binscape simulate`, hidden from the help). Reads are drawn from reference genomes at chosen
//! abundances, with gamma-distributed lengths and per-read identity, and with errors shaped like
//! PacBio CLR (mostly insertions) or Oxford Nanopore (substitutions and deletions, many in
//! homopolymers). Truth labels are written beside the reads.
//!
//! Extra species can be made from a reference: a pseudo-genome drawn from the reference's
//! order-5 Markov model with every context's next-base distribution perturbed, so it has a
//! composition close to, but distinct from, its source (a "relative of similar GC", as real
//! metagenomes have and as the held-out set does).
use crate::error::{Error, Result};
use crate::progress::Progress;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Normal};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// How errors are spread over substitutions, insertions and deletions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorModel {
    /// PacBio CLR-like: insertions dominate (≈ 60 % ins, 30 % del, 10 % sub).
    Clr,
    /// Nanopore-like: substitutions and deletions (≈ 40 % sub, 40 % del, 20 % ins), deletions
    /// twice as likely inside homopolymers.
    Ont,
}

impl ErrorModel {
    /// (substitution, insertion, deletion) shares of the errors.
    fn shares(self) -> (f64, f64, f64) {
        match self {
            ErrorModel::Clr => (0.10, 0.60, 0.30),
            ErrorModel::Ont => (0.40, 0.20, 0.40),
        }
    }
}

/// One genome of the mix: its name (the label), its sequences and its share of the reads.
pub struct Genome {
    pub name: String,
    pub contigs: Vec<Vec<u8>>,
    pub share: f64,
}

pub struct SimParams {
    pub reads: usize,
    pub mean_length: f64,
    pub sd_length: f64,
    /// Mean read identity (0..1) and its spread between reads.
    pub identity: f64,
    pub identity_sd: f64,
    pub model: ErrorModel,
    pub seed: u64,
}

/// Reads every record of a FASTA/FASTQ (plain or compressed) as one genome's contigs, upper
/// case, non-ACGT bases kept out.
pub fn load_genome(path: &Path) -> Result<Vec<Vec<u8>>> {
    let mut reader = needletail::parse_fastx_file(path).map_err(|e| Error::Input {
        path: path.into(),
        reason: format!("cannot read genome: {e}"),
    })?;
    let mut contigs = Vec::new();
    while let Some(r) = reader.next() {
        let r = r.map_err(|e| Error::Input {
            path: path.into(),
            reason: format!("cannot read genome: {e}"),
        })?;
        let s: Vec<u8> = r
            .seq()
            .iter()
            .map(|b| b.to_ascii_uppercase())
            .filter(|b| b"ACGT".contains(b))
            .collect();
        if !s.is_empty() {
            contigs.push(s);
        }
    }
    if contigs.is_empty() {
        return Err(Error::Input {
            path: path.into(),
            reason: "no sequence".into(),
        });
    }
    Ok(contigs)
}

const ORDER: usize = 5;

fn code(b: u8) -> usize {
    match b {
        b'A' => 0,
        b'C' => 1,
        b'G' => 2,
        _ => 3,
    }
}

/// A pseudo-genome of `len` bases from `source`'s order-5 Markov model, each context's
/// next-base weights multiplied by exp(N(0, `drift`)): composition near the source's, not equal.
pub fn relative(source: &[Vec<u8>], len: usize, drift: f64, seed: u64) -> Vec<u8> {
    let contexts = 1usize << (2 * ORDER);
    let mut counts = vec![[1.0f64; 4]; contexts];
    for c in source {
        let mut ctx = 0usize;
        for (i, &b) in c.iter().enumerate() {
            let x = code(b);
            if i >= ORDER {
                counts[ctx][x] += 1.0;
            }
            ctx = ((ctx << 2) | x) & (contexts - 1);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, drift.max(1e-9)).expect("finite sd");
    let cdf: Vec<[f64; 4]> = counts
        .iter()
        .map(|w| {
            let mut p = [0.0; 4];
            let mut acc = 0.0;
            for (i, &x) in w.iter().enumerate() {
                acc += x * noise.sample(&mut rng).exp();
                p[i] = acc;
            }
            p.iter_mut().for_each(|v| *v /= acc);
            p
        })
        .collect();
    let mut out = Vec::with_capacity(len);
    let mut ctx = 0usize;
    for _ in 0..len {
        let u: f64 = rng.random();
        let x = cdf[ctx].iter().position(|&c| u <= c).unwrap_or(3);
        out.push(b"ACGT"[x]);
        ctx = ((ctx << 2) | x) & (contexts - 1);
    }
    out
}

/// `template` read with errors at rate 1 − `identity`, spread by `model`.
fn with_errors(template: &[u8], identity: f64, model: ErrorModel, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let e = (1.0 - identity).clamp(0.0, 0.5);
    let (sub, ins, del) = model.shares();
    let mut out = Vec::with_capacity(template.len() + template.len() / 8);
    for (i, &b) in template.iter().enumerate() {
        let homopolymer = i > 0 && template[i - 1] == b;
        let del_p = e
            * del
            * if model == ErrorModel::Ont && homopolymer {
                2.0
            } else {
                1.0
            };
        let u: f64 = rng.random();
        if u < e * ins {
            out.push(b"ACGT"[rng.random_range(0..4)]);
            out.push(b);
        } else if u < e * ins + del_p {
            // deleted
        } else if u < e * ins + del_p + e * sub {
            let others: Vec<u8> = b"ACGT".iter().copied().filter(|&x| x != b).collect();
            out.push(others[rng.random_range(0..3)]);
        } else {
            out.push(b);
        }
    }
    out
}

/// The benchmark mix (issue 12's "10 genomes, ~90 % identity"): the six references in
/// `refs` (E. coli 14 %, H. pylori 6 %, K. pneumoniae 10 %, M. tuberculosis 8 %, S. aureus
/// 12 %, phage lambda 3 % of the reads) and made-up relatives (drift 0.5) of E. coli 12 %,
/// S. aureus 10 %, M. tuberculosis 15 % and K. pneumoniae 10 %. The same as
/// `binscape simulate --genome refs/Ecoli_536.fa.gz:14 … --relative refs/Ecoli_536.fa.gz:12:0.5 …`
/// with that `seed`.
pub fn benchmark_mix(refs: &Path, seed: u64) -> Result<Vec<Genome>> {
    let genomes = [
        ("Ecoli_536", 14.0),
        ("Hpylori_F32", 6.0),
        ("Kpneumoniae_NTUH-K2044", 10.0),
        ("Mtuberculosis_H37Rv", 8.0),
        ("Saureus_NCTC8325", 12.0),
        ("lambda", 3.0),
    ];
    let relatives = [
        ("Ecoli_536", 12.0),
        ("Saureus_NCTC8325", 10.0),
        ("Mtuberculosis_H37Rv", 15.0),
        ("Kpneumoniae_NTUH-K2044", 10.0),
    ];
    let mut out = Vec::new();
    for (name, share) in genomes {
        out.push(Genome {
            name: name.to_string(),
            contigs: load_genome(&refs.join(format!("{name}.fa.gz")))?,
            share,
        });
    }
    for (i, (name, share)) in relatives.into_iter().enumerate() {
        let src = load_genome(&refs.join(format!("{name}.fa.gz")))?;
        let len = src.iter().map(Vec::len).sum();
        out.push(Genome {
            name: format!("{name}_rel{}", i + 1),
            contigs: vec![relative(&src, len, 0.5, seed.wrapping_add(1000 + i as u64))],
            share,
        });
    }
    Ok(out)
}

/// Simulates the reads and writes them to `path` (FASTQ when it ends in .fastq/.fq, else
/// FASTA) with their truth in `labels` (`read_id<TAB>species`). Reads are made in chunks, each
/// with its own seeded generator (the same reads on any number of threads), a batch of chunks
/// at a time, so a million reads never sit in memory.
pub fn simulate(
    genomes: &[Genome],
    p: &SimParams,
    path: &Path,
    labels: &Path,
    progress: &Progress,
) -> Result<()> {
    let total: f64 = genomes.iter().map(|g| g.share).sum();
    if genomes.is_empty() || total <= 0.0 {
        return Err(Error::Settings("no genome with a positive share".into()));
    }
    let cum: Vec<f64> = genomes
        .iter()
        .scan(0.0, |a, g| {
            *a += g.share / total;
            Some(*a)
        })
        .collect();
    let shape = (p.mean_length / p.sd_length).powi(2);
    let gamma = Gamma::new(shape, p.mean_length / shape)
        .map_err(|e| Error::Settings(format!("read length distribution: {e}")))?;
    let ident = Normal::new(p.identity, p.identity_sd.max(1e-9))
        .map_err(|e| Error::Settings(format!("identity distribution: {e}")))?;
    let chunk = |c: usize| -> Vec<(usize, Vec<u8>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed ^ (c as u64).wrapping_mul(0x9E37_79B9));
        let n = CHUNK.min(p.reads - c * CHUNK);
        (0..n)
            .map(|_| {
                let u: f64 = rng.random();
                let g = cum
                    .iter()
                    .position(|&x| u <= x)
                    .unwrap_or(genomes.len() - 1);
                let genome = &genomes[g];
                // A contig by its length.
                let lens: u64 = genome.contigs.iter().map(|c| c.len() as u64).sum();
                let mut at = rng.random_range(0..lens);
                let mut contig = &genome.contigs[0];
                for c in &genome.contigs {
                    if at < c.len() as u64 {
                        contig = c;
                        break;
                    }
                    at -= c.len() as u64;
                }
                let len =
                    (gamma.sample(&mut rng) as usize).clamp(500.min(contig.len()), contig.len());
                let start = rng.random_range(0..=contig.len() - len);
                let mut t = contig[start..start + len].to_vec();
                if rng.random::<bool>() {
                    t = crate::features::reverse_complement(&t);
                }
                let id = ident.sample(&mut rng).clamp(0.75, 0.995);
                (g, with_errors(&t, id, p.model, &mut rng))
            })
            .collect()
    };
    let fastq = {
        let name = path.to_string_lossy();
        name.ends_with(".fastq") || name.ends_with(".fq")
    };
    let mut w = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).map_err(|e| Error::write(path, e))?,
    );
    let mut l = std::io::BufWriter::new(
        std::fs::File::create(labels).map_err(|e| Error::write(labels, e))?,
    );
    let (wio, lio) = (|e| Error::write(path, e), |e| Error::write(labels, e));
    writeln!(l, "read_id\tspecies").map_err(lio)?;
    progress.start("simulating reads", p.reads as u64);
    let chunks = p.reads.div_ceil(CHUNK);
    let mut i = 0usize;
    for first in (0..chunks).step_by(BATCH) {
        let batch: Vec<Vec<(usize, Vec<u8>)>> = (first..(first + BATCH).min(chunks))
            .into_par_iter()
            .map(chunk)
            .collect();
        for (g, s) in batch.into_iter().flatten() {
            i += 1;
            let id = format!("s{i:07}");
            if fastq {
                writeln!(w, "@{id}").map_err(wio)?;
                w.write_all(&s).map_err(wio)?;
                writeln!(w, "\n+").map_err(wio)?;
                w.write_all(&vec![b'5'; s.len()]).map_err(wio)?;
                writeln!(w).map_err(wio)?;
            } else {
                writeln!(w, ">{id}").map_err(wio)?;
                w.write_all(&s).map_err(wio)?;
                writeln!(w).map_err(wio)?;
            }
            writeln!(l, "{id}\t{}", genomes[g].name).map_err(lio)?;
        }
        progress.set(i as u64);
    }
    w.flush().map_err(wio)?;
    l.flush().map_err(lio)
}

/// Reads per seeded chunk, and chunks made in parallel at a time.
const CHUNK: usize = 1024;
const BATCH: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_follow_the_model_and_the_identity() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let t: Vec<u8> = (0..200_000)
            .map(|_| b"ACGT"[rng.random_range(0..4)])
            .collect();
        let clr = with_errors(&t, 0.9, ErrorModel::Clr, &mut rng);
        let ont = with_errors(&t, 0.9, ErrorModel::Ont, &mut rng);
        // CLR: net insertions make reads longer; ONT: net deletions make them shorter.
        assert!(clr.len() > t.len() + t.len() / 50, "{}", clr.len());
        assert!(ont.len() < t.len() - t.len() / 50, "{}", ont.len());
        let exact = with_errors(&t, 1.0, ErrorModel::Ont, &mut rng);
        assert_eq!(exact, t);
    }

    #[test]
    fn a_relative_has_close_but_not_equal_composition() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        // A GC-rich source.
        let src: Vec<u8> = (0..300_000)
            .map(|_| {
                if rng.random::<f64>() < 0.65 {
                    b"GC"[rng.random_range(0..2)]
                } else {
                    b"AT"[rng.random_range(0..2)]
                }
            })
            .collect();
        let rel = relative(std::slice::from_ref(&src), 300_000, 0.3, 3);
        let gc = |s: &[u8]| {
            s.iter().filter(|&&b| b == b'G' || b == b'C').count() as f64 / s.len() as f64
        };
        assert!((gc(&rel) - 0.65).abs() < 0.05, "{}", gc(&rel));
        assert_ne!(&rel[..1000], &src[..1000]);
        assert_eq!(rel, relative(std::slice::from_ref(&src), 300_000, 0.3, 3));
    }
}
