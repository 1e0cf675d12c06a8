//! Per-stage seconds of `pipeline::run` (the CLI's own path) on a reads file, and HDBSCAN at
//! scale. Prints figures; asserts nothing.
//! `cargo bench --bench stages` (dev data from ../shared/data, or BINSCAPE_BENCH_READS=FILE;
//! BINSCAPE_BENCH_EPOCHS sets the epochs, default: the step budget; BINSCAPE_BENCH_KMER_SHARE
//! the k-mer vectors' share of the map beside the latent, default: the settings' default;
//! BINSCAPE_BENCH_SIM=200000,1000000 adds the simulated benchmark mix at those sizes).
use binscape::Progress;
use binscape::cluster::build_hierarchy;
use binscape::model::use_one_matmul_thread;
use binscape::pipeline::{self, Stage};
use binscape::reads::load_reads;
use binscape::settings::Settings;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use std::path::PathBuf;
use std::time::Instant;

fn blobs_2d(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g = Normal::new(0.0f32, 1.0).unwrap();
    let mut v = Vec::with_capacity(2 * n);
    for i in 0..n {
        let c = (i % 8) as f32;
        v.push(c * 6.0 + g.sample(&mut rng));
        v.push((c * 2.3).sin() * 10.0 + g.sample(&mut rng));
    }
    v
}

/// Peak resident memory of this process so far (Linux), in MB.
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The stage table of `pipeline::run` with default settings (the CLI's path) on `reads`.
fn bench_file(reads: &std::path::Path, labels: Option<&std::path::Path>, epochs: Option<usize>) {
    let p = Progress::default();
    let s = Settings::default();
    let t = Instant::now();
    let composition_only = load_reads(
        reads,
        binscape::reads::FeatureOptions {
            coverage: false,
            ..s.feature_options()
        },
        &p,
    )
    .unwrap();
    let tc = t.elapsed().as_secs_f64();
    let mb = std::fs::metadata(reads).map_or(0.0, |m| m.len() as f64 / 1e6);
    println!(
        "k=4 composition alone: {tc:.2} s, {:.0} reads/s, {:.0} MB/s",
        composition_only.index.len() as f64 / tc,
        mb / tc
    );
    drop(composition_only);
    let kmer_share = std::env::var("BINSCAPE_BENCH_KMER_SHARE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(s.kmer_share);
    let s = Settings {
        epochs,
        kmer_share,
        ..s
    };
    let t = Instant::now();
    let r = pipeline::run(reads, labels, &s, &p, &mut |_| {}).unwrap();
    let total = t.elapsed().as_secs_f64();
    println!(
        "{}: {} reads, {:.0} MB, {} epochs, {} bins{}",
        reads.display(),
        r.index.len(),
        mb,
        r.train.epochs_run,
        r.cut.clustering.n_clusters,
        r.cut.scores.as_ref().map_or(String::new(), |s| format!(
            ", ARI {:.3} F1 {:.3}",
            s.ari, s.f1
        ))
    );
    println!("{:<18} {:>9} {:>9}", "stage", "seconds", "MB/s");
    for stage in Stage::ORDER {
        if let Some((_, secs)) = r.seconds.iter().find(|(st, _)| *st == stage) {
            println!("{:<18} {secs:>9.2} {:>9.1}", stage.key(), mb / secs);
        }
    }
    println!("{:<18} {total:>9.2} {:>9.1}", "end to end", mb / total);
    if let Some(m) = peak_rss_mb() {
        println!("peak RSS of the bench process so far {m:.0} MB");
    }
}

fn main() {
    use_one_matmul_thread();
    let reads = std::env::var("BINSCAPE_BENCH_READS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/dev_long.fastq"
            ))
        });
    // Unset: the defaults (the step budget).
    let epochs: Option<usize> = std::env::var("BINSCAPE_BENCH_EPOCHS")
        .ok()
        .and_then(|v| v.parse().ok());
    if reads.exists() {
        bench_file(&reads, None, epochs);
    } else {
        println!("{} not found: skipping the reads stages", reads.display());
    }
    // BINSCAPE_BENCH_SIM=200000,1000000: the stage table on the benchmark mix simulated at
    // those sizes (10 genomes, 90 % identity, CLR-like; 5 GB of FASTA a million reads, written
    // to a temporary folder and removed after).
    if let Ok(sizes) = std::env::var("BINSCAPE_BENCH_SIM") {
        let refs = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/refs"));
        let genomes = binscape::simulate::benchmark_mix(&refs, 11).unwrap();
        for n in sizes
            .split(',')
            .filter_map(|x| x.trim().parse::<usize>().ok())
        {
            let dir = tempfile::tempdir().unwrap();
            let (fa, tsv) = (dir.path().join("reads.fa"), dir.path().join("labels.tsv"));
            let params = binscape::simulate::SimParams {
                reads: n,
                mean_length: 5000.0,
                sd_length: 3500.0,
                identity: 0.9,
                identity_sd: 0.02,
                model: binscape::simulate::ErrorModel::Clr,
                seed: 11,
            };
            let t = Instant::now();
            binscape::simulate::simulate(&genomes, &params, &fa, &tsv, &Progress::default())
                .unwrap();
            println!(
                "\nsimulated {n} reads in {:.0} s",
                t.elapsed().as_secs_f64()
            );
            bench_file(&fa, Some(&tsv), epochs);
        }
    }
    for n in [100_000usize, 1_000_000] {
        let pts = blobs_2d(n, 1);
        let t = Instant::now();
        let h = build_hierarchy(&pts, 2, 15, &|| false).unwrap();
        let tb = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let c = h.cut(n / 100);
        let tc = t.elapsed().as_secs_f64();
        println!(
            "HDBSCAN {n:>8} 2-D points:      {tb:>8.2} s tree + {tc:.3} s cut ({} clusters)",
            c.n_clusters
        );
    }
}
