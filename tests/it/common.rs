//! Helpers shared by the integration tests: generated genomes and read sets, and a CLI runner.
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `n` reads of 1.5–3 kb from a random 1 Mb genome with GC fraction `gc`: under 1× coverage,
/// as for most genomes of a metagenome (reads of a small genome at high coverage overlap, and
/// group by where they come from).
pub fn genome_reads(gc: f64, n: usize, rng: &mut impl Rng) -> Vec<Vec<u8>> {
    let genome = random_genome(1_000_000, gc, rng);
    (0..n)
        .map(|_| {
            let len = rng.random_range(1500..3000);
            let start = rng.random_range(0..genome.len() - len);
            genome[start..start + len].to_vec()
        })
        .collect()
}

/// `seq` with each base replaced by a random one (possibly itself) at `rate`: sequencing
/// substitutions.
pub fn substituted(seq: &[u8], rate: f64, rng: &mut impl Rng) -> Vec<u8> {
    seq.iter()
        .map(|&b| {
            if rng.random::<f64>() < rate {
                b"ACGT"[rng.random_range(0..4)]
            } else {
                b
            }
        })
        .collect()
}

/// A random genome of `len` bases with GC fraction `gc`.
pub fn random_genome(len: usize, gc: f64, rng: &mut impl Rng) -> Vec<u8> {
    (0..len)
        .map(|_| match (rng.random::<f64>() < gc, rng.random::<bool>()) {
            (true, true) => b'G',
            (true, false) => b'C',
            (false, true) => b'A',
            (false, false) => b'T',
        })
        .collect()
}

/// Reads from three random "genomes" of different GC (30%, 50%, 70%): `per` reads each of
/// 1.5–3 kb, sampled with overlaps so the coverage histogram has signal too.
pub fn synthetic_reads(per: usize, seed: u64) -> Vec<(String, String, Vec<u8>)> {
    reads_of_genomes(per, seed, &[0.3, 0.5, 0.7])
}

/// `per` error-free reads of 1.5-3 kb from each of 60 kb random genomes of GC `gcs`, shuffled
/// and named `read0001`...
pub fn reads_of_genomes(per: usize, seed: u64, gcs: &[f64]) -> Vec<(String, String, Vec<u8>)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (g, gc) in gcs.iter().enumerate() {
        let genome = random_genome(60_000, *gc, &mut rng);
        for _ in 0..per {
            let len = rng.random_range(1500..3000);
            let start = rng.random_range(0..genome.len() - len);
            out.push((
                String::new(),
                format!("genome_{g}"),
                genome[start..start + len].to_vec(),
            ));
        }
    }
    // Shuffle and name the reads.
    for i in (1..out.len()).rev() {
        let j = rng.random_range(0..=i);
        out.swap(i, j);
    }
    for (i, r) in out.iter_mut().enumerate() {
        r.0 = format!("read{:04}", i + 1);
    }
    out
}

pub fn write_fasta(path: &Path, reads: &[(String, String, Vec<u8>)]) {
    let mut s = String::new();
    for (id, _, seq) in reads {
        s.push_str(&format!(
            ">{id} some description\n{}\n",
            String::from_utf8_lossy(seq)
        ));
    }
    std::fs::write(path, s).unwrap();
}

/// `per` synthetic reads per genome (see [`synthetic_reads`]) written to `dir/r.fa`.
pub fn reads_fasta(dir: &Path, per: usize, seed: u64) -> (PathBuf, Vec<(String, String, Vec<u8>)>) {
    let reads = synthetic_reads(per, seed);
    let fa = dir.join("r.fa");
    write_fasta(&fa, &reads);
    (fa, reads)
}

pub fn write_labels(path: &Path, reads: &[(String, String, Vec<u8>)]) {
    let mut s = String::from("read_id\tspecies\n");
    for (id, label, _) in reads {
        s.push_str(&format!("{id}\t{label}\n"));
    }
    std::fs::write(path, s).unwrap();
}

/// Small, fast settings for tests.
pub const FAST: &[&str] = &[
    "--epochs",
    "8",
    "--batch-size",
    "64",
    "--umap-epochs",
    "60",
    "--min-cluster-size",
    "15",
];

pub fn binscape(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_binscape"))
        .args(args)
        .output()
        .expect("running binscape")
}

/// Runs `binscape` with `args`, which name `--out DIR`; asserts it succeeded and returns the
/// parsed `DIR/report.json`.
pub fn run_ok(args: &[&str]) -> serde_json::Value {
    let o = binscape(args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = args
        .iter()
        .position(|a| *a == "--out")
        .and_then(|i| args.get(i + 1))
        .expect("run_ok needs --out DIR");
    let text = std::fs::read_to_string(Path::new(out).join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn out_dir(dir: &Path) -> PathBuf {
    dir.join("out")
}

/// `fasta` written to a file and loaded (k = 4, no coverage): the reads' index, and the folder
/// that holds the file (the overlap search and the sequence models read it again).
pub fn indexed_fasta(fasta: &str) -> (tempfile::TempDir, binscape::reads::ReadIndex) {
    let d = tempfile::tempdir().unwrap();
    let fa = d.path().join("r.fa");
    std::fs::write(&fa, fasta).unwrap();
    let opt = binscape::reads::FeatureOptions {
        k: 4,
        coverage: false,
        skip_invalid: false,
    };
    let index = binscape::reads::load_reads(&fa, opt, &binscape::Progress::default())
        .unwrap()
        .index;
    (d, index)
}
