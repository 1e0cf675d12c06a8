//! Per-stage seconds of `pipeline::run` (the CLI's own path) on a reads file, and HDBSCAN at
//! scale. Prints figures; asserts nothing.
//! `cargo bench --bench stages` (dev data from ../shared/data, or BINSCAPE_BENCH_READS=FILE;
//! BINSCAPE_BENCH_EPOCHS sets the epochs, default: the step budget).
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
    let p = Progress::default();
    if reads.exists() {
        let s = Settings::default();
        let t = Instant::now();
        let composition_only = load_reads(
            &reads,
            binscape::reads::FeatureOptions {
                coverage: false,
                ..s.feature_options()
            },
            &p,
        )
        .unwrap();
        let tc = t.elapsed().as_secs_f64();
        let mb = std::fs::metadata(&reads).map_or(0.0, |m| m.len() as f64 / 1e6);
        println!(
            "k=4 composition alone: {tc:.2} s, {:.0} reads/s, {:.0} MB/s",
            composition_only.index.len() as f64 / tc,
            mb / tc
        );
        drop(composition_only);
        let s = Settings { epochs, ..s };
        let r = pipeline::run(&reads, None, &s, &p, &mut |_| {}).unwrap();
        println!(
            "{}: {} reads, {} bases, {} epochs, {} bins",
            reads.display(),
            r.index.len(),
            r.index.total_bases(),
            r.train.epochs_run,
            r.cut.clustering.n_clusters
        );
        println!("{:<18} {:>9} {:>9}", "stage", "seconds", "MB/s");
        for stage in Stage::ORDER {
            if let Some((_, secs)) = r.seconds.iter().find(|(st, _)| *st == stage) {
                println!("{:<18} {secs:>9.2} {:>9.1}", stage.key(), mb / secs);
            }
        }
        if let Some(m) = peak_rss_mb() {
            println!("peak RSS {m:.0} MB");
        }
    } else {
        println!("{} not found: skipping the reads stages", reads.display());
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
