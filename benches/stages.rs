//! Per-stage throughput on the dev set and HDBSCAN at scale. Prints figures; asserts nothing.
//! `cargo bench --bench stages` (dev data from ../shared/data, or BINSCAPE_BENCH_READS=FILE).
use binscape::Progress;
use binscape::cluster::build_hierarchy;
use binscape::features::Matrix;
use binscape::model::{TrainEvent, use_one_matmul_thread};
use binscape::pipeline::{self, Settings};
use binscape::reads::load_reads;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use std::path::PathBuf;
use std::sync::Arc;
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
    let s = Settings::default();
    let p = Progress::default();
    if reads.exists() {
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
        let t = Instant::now();
        let loaded = load_reads(&reads, s.feature_options(), &p).unwrap();
        let tf = t.elapsed().as_secs_f64();
        let n = loaded.index.len();
        println!(
            "reads: {} ({} reads, {} bases)",
            reads.display(),
            n,
            loaded.index.total_bases()
        );
        println!(
            "vectors, k=4 composition:        {:>8.2} s  {:>10.0} reads/s",
            tc,
            composition_only.index.len() as f64 / tc
        );
        println!(
            "vectors, composition + coverage: {:>8.2} s  {:>10.0} reads/s",
            tf,
            n as f64 / tf
        );
        let epochs = 20;
        let short = Settings {
            epochs,
            ..s.clone()
        };
        let t = Instant::now();
        let latent = pipeline::train_blocking(
            Arc::new(loaded.features),
            &short,
            &p,
            &mut |_: &TrainEvent| {},
        )
        .unwrap();
        let tt = t.elapsed().as_secs_f64();
        println!(
            "VAE training (batch {}):          {:>8.3} s/epoch ({} epochs)",
            s.batch_size,
            tt / epochs as f64,
            epochs
        );
        let t = Instant::now();
        let map = Matrix::new(n, 2, pipeline::project(&latent, &s, &p).unwrap());
        println!(
            "UMAP map of the latent:          {:>8.2} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let h = pipeline::cluster_hierarchy(&map, &s, &p).unwrap();
        let c = h.cut(s.min_cluster_size_for(n));
        println!(
            "HDBSCAN on the map:              {:>8.3} s ({} bins)",
            t.elapsed().as_secs_f64(),
            c.n_clusters
        );
        let t = Instant::now();
        let (r, splits) = binscape::refine::refine(&loaded.index, &c, &s, &p).unwrap();
        println!(
            "refining the bins (5-mer maps):  {:>8.2} s ({} bins, {} split)",
            t.elapsed().as_secs_f64(),
            r.n_clusters,
            splits.len()
        );
    } else {
        println!("{} not found: skipping the dev-set stages", reads.display());
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
