//! binscape: `binscape run READS --out DIR` bins reads headless.
mod cli;

use anyhow::Result;
use binscape::settings::{ClusterOn, MapInput};
use binscape::{Progress, Settings};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "binscape",
    version,
    about = "Bin metagenomic long reads by k-mer composition: VAE latent, UMAP map, HDBSCAN bins"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Reads to open in the explorer: FASTQ or FASTA, plain or gzipped; or a saved session
    /// (`.binscape`) to reopen.
    reads: Option<PathBuf>,
    /// Ground-truth labels TSV to open with the reads.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Open the explorer on the bundled demo reads and labels.
    #[arg(long, conflicts_with = "reads")]
    demo: bool,
    /// Start training as soon as the reads are in.
    #[arg(long)]
    train: bool,
    /// What the map's colours show first [default: bin]
    #[arg(long, value_enum)]
    colour_by: Option<binscape::gui::colours::ColourBy>,
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline headless: reads -> k-mer vectors -> VAE -> 2-D map -> bins -> FASTA.
    Run(Box<RunCmd>),
    /// Simulate long reads from reference genomes, with truth labels (benchmarks, checks).
    #[command(hide = true)]
    Simulate(SimCmd),
}

#[derive(Args)]
struct SimCmd {
    /// Genome FASTA (plain or gzipped), with its share of the reads: PATH[:SHARE] (share 1 if
    /// not given); the label is the file name without extensions.
    #[arg(long, required = true)]
    genome: Vec<String>,
    /// A made-up relative of a genome (its order-5 Markov model, perturbed): PATH:SHARE[:DRIFT]
    /// (drift 0.3 if not given); labelled NAME_relN.
    #[arg(long)]
    relative: Vec<String>,
    #[arg(long, default_value_t = 10_000)]
    reads: usize,
    #[arg(long, default_value_t = 5000.0)]
    mean_length: f64,
    #[arg(long, default_value_t = 3500.0)]
    sd_length: f64,
    /// Mean read identity (0-1).
    #[arg(long, default_value_t = 0.90)]
    identity: f64,
    #[arg(long, default_value_t = 0.02)]
    identity_sd: f64,
    #[arg(long, value_enum, default_value_t = binscape::simulate::ErrorModel::Clr)]
    model: binscape::simulate::ErrorModel,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Reads file to write (.fastq/.fq: FASTQ, else FASTA).
    #[arg(long)]
    out: PathBuf,
    /// Truth labels TSV to write.
    #[arg(long)]
    labels: PathBuf,
}

fn simulate(c: SimCmd) -> Result<()> {
    use binscape::simulate::{Genome, SimParams, load_genome, relative};
    let split = |spec: &str| -> (PathBuf, Vec<f64>) {
        let mut parts = spec.split(':');
        let path = PathBuf::from(parts.next().unwrap_or_default());
        (path, parts.filter_map(|x| x.parse().ok()).collect())
    };
    let stem = |p: &std::path::Path| {
        let n = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        n.split('.').next().unwrap_or_default().to_string()
    };
    let mut genomes = Vec::new();
    for g in &c.genome {
        let (path, nums) = split(g);
        genomes.push(Genome {
            name: stem(&path),
            contigs: load_genome(&path)?,
            share: nums.first().copied().unwrap_or(1.0),
        });
    }
    for (i, r) in c.relative.iter().enumerate() {
        let (path, nums) = split(r);
        let src = load_genome(&path)?;
        let len = src.iter().map(Vec::len).sum();
        let seed = c.seed.wrapping_add(1000 + i as u64);
        genomes.push(Genome {
            name: format!("{}_rel{}", stem(&path), i + 1),
            contigs: vec![relative(
                &src,
                len,
                nums.get(1).copied().unwrap_or(0.3),
                seed,
            )],
            share: nums.first().copied().unwrap_or(1.0),
        });
    }
    let p = SimParams {
        reads: c.reads,
        mean_length: c.mean_length,
        sd_length: c.sd_length,
        identity: c.identity,
        identity_sd: c.identity_sd,
        model: c.model,
        seed: c.seed,
    };
    binscape::simulate::simulate(&genomes, &p, &c.out, &c.labels, &Progress::default())?;
    Ok(())
}

#[derive(Args)]
struct RunCmd {
    /// Reads to bin: FASTQ or FASTA, plain or gzipped; `-` reads standard input (spooled to a
    /// temporary file, since binning reads the reads more than once).
    #[arg(required_unless_present_any = ["demo", "session"])]
    reads: Option<PathBuf>,
    /// Write a session saved in the explorer (`.binscape`) as this run: its bins with the
    /// edits and names made by hand, without training or clustering again. READS, if given,
    /// is where its reads are now (they must be the same reads).
    #[arg(long, value_name = "SESSION", conflicts_with = "demo")]
    session: Option<PathBuf>,
    /// Ground truth, `read_id<TAB>label` with a header line: adds ARI, precision, recall and F1
    /// to report.json.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Output folder: bins/*.fasta, assignments.tsv, loss.tsv, settings.json, report.json.
    #[arg(long)]
    out: PathBuf,
    /// Use the bundled demo reads (and their labels) instead of READS.
    #[arg(long, conflicts_with = "reads")]
    demo: bool,
    /// Also write latent.tsv: the VAE latent (encoder mean) of every read.
    #[arg(long)]
    save_latent: bool,
    /// Do not print the summary lines.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Every setting; unset ones come from --settings, or the defaults.
#[derive(Args, Default)]
struct SettingsArgs {
    /// Start from the settings.json of an earlier run (flags given here override it).
    #[arg(long, value_name = "JSON")]
    settings: Option<PathBuf>,
    /// k-mer size (3-7): longer k-mers separate close genomes better but need longer reads
    /// [default: 4, 136 dims]
    #[arg(long)]
    k: Option<usize>,
    /// Composition only: leave out the 15-mer coverage histogram that separates genomes of
    /// similar composition but different abundance (LRBinner-style).
    #[arg(long)]
    no_coverage: bool,
    /// Share of the VAE's reconstruction loss that the coverage histogram carries against the
    /// composition (0 to below 1; 0 = every column alike): higher keeps genomes of one abundance
    /// together (a phage whose halves differ in GC stays one bin) but mixes genomes of like
    /// abundance more [default: 0]
    #[arg(long)]
    coverage_share: Option<f64>,
    /// Leave out reads with no valid k-mer (shorter than k, or all N) instead of stopping with an
    /// error; they are listed in report.json and in no bin.
    #[arg(long)]
    skip_invalid: bool,
    /// What the map is built from: the VAE latent (the method; beside the k-mer vectors, by
    /// --kmer-share) or the raw k-mer vectors alone (no VAE, the baseline) [default: latent]
    #[arg(long, value_enum)]
    map_input: Option<MapInput>,
    /// With the latent: the share of the map's distances the k-mer vectors carry beside it (0 to
    /// below 1; 0 maps the latent alone, as the seed did) [default: 0.75]
    #[arg(long)]
    kmer_share: Option<f64>,
    /// Training epochs, overriding the step budget: more gives a latent whose species separate
    /// more cleanly, up to a point [default: as many as --train-steps allows]
    #[arg(long)]
    epochs: Option<usize>,
    /// Training steps (batches) when --epochs is not given: training then costs about the same
    /// at any number of reads [default: 300, i.e. 50 epochs of 6 000 reads]
    #[arg(long)]
    train_steps: Option<usize>,
    /// Reads per training batch: smaller batches take more, noisier steps per epoch [default: 1024]
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate [default: 0.001]
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Weight of the reconstruction loss (MSE) [default: 1]
    #[arg(long)]
    w_rl: Option<f64>,
    /// Weight of the KL divergence: higher pulls the latent toward N(0,1), merging close bins
    /// [default: 0.01]
    #[arg(long)]
    w_kld: Option<f64>,
    /// Latent dimensions [default: 8]
    #[arg(long)]
    latent: Option<usize>,
    /// Hidden layer sizes of the encoder (the decoder mirrors them), comma separated [default: 128,64]
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Log-variance head: softplus (the seed method; posterior sd at least 1) or linear (the
    /// encoder may be more certain, keeping finer differences between close genomes, and
    /// learns in far fewer steps) [default: linear]
    #[arg(long, value_enum)]
    logvar: Option<binscape::model::LogVar>,
    /// How the vectors are scaled for the VAE: unit (the seed: each column to [0, 1], a sigmoid
    /// decoder) or zscore (each column centred and divided by its spread, a linear decoder)
    #[arg(long, value_enum)]
    scaling: Option<binscape::model::Scaling>,
    /// Random seed for weights, batches, noise and the layout: same seed, same bins [default: 42]
    #[arg(long)]
    seed: Option<u64>,
    /// UMAP neighbours: more keeps larger-scale structure, fewer splits finer [default: 15]
    #[arg(long)]
    n_neighbors: Option<usize>,
    /// UMAP minimum distance: smaller packs bins tighter on the map [default: 0.1]
    #[arg(long)]
    min_dist: Option<f32>,
    /// UMAP layout epochs, 0 for automatic (200) [default: 0]
    #[arg(long)]
    umap_epochs: Option<usize>,
    /// Cluster on the 2-D map or on the map's input itself (the latent beside the k-mer
    /// vectors; slow in their 160 dimensions at many reads) [default: map]
    #[arg(long, value_enum)]
    cluster_on: Option<ClusterOn>,
    /// HDBSCAN minimum cluster size: groups smaller than this are not bins; larger merges or
    /// drops small genomes. 0 = chosen: the middle of the widest range of sizes over which the
    /// map's cut keeps the same number of bins (report.json says which) [default: 0]
    #[arg(long)]
    min_cluster_size: Option<usize>,
    /// HDBSCAN min samples: higher calls more reads noise (unbinned), making bins purer.
    /// 0 = min cluster size, at most 15 [default: 0]
    #[arg(long)]
    min_samples: Option<usize>,
    /// Keep the bins as the whole-sample map cuts them: do not re-examine each bin on its own
    /// 5-mer map (which splits bins that hold close relatives, e.g. two Enterobacteriaceae).
    #[arg(long)]
    no_refine: bool,
    /// Keep the bins as composition made them: do not let each read's overlaps with other reads
    /// vote on its bin (which corrects reads at the borders between bins and bins unbinned
    /// reads).
    #[arg(long)]
    no_graph: bool,
    /// Leave the reads the overlaps cannot settle (none, or half or fewer in their bin) where
    /// composition put them: do not place them by their bins' 7-mer sequence models.
    #[arg(long)]
    no_sequence_vote: bool,
    /// Keep the latent's bins as they are: do not also bin the k-mer vectors alone (done in
    /// samples of up to 20 000 reads, where the VAE has few reads to learn from) and keep
    /// whichever bins the reads' overlaps doubt fewer reads of.
    #[arg(long)]
    no_compare: bool,
}

impl SettingsArgs {
    fn resolve(&self) -> Result<Settings> {
        let mut s = match &self.settings {
            Some(p) => Settings::load(p)?,
            None => Settings::default(),
        };
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { s.$f = v; } )* };
        }
        if let Some(e) = self.epochs {
            s.epochs = Some(e);
        }
        set!(
            k,
            coverage_share,
            map_input,
            kmer_share,
            train_steps,
            batch_size,
            learning_rate,
            w_rl,
            w_kld,
            latent,
            hidden,
            logvar,
            scaling,
            seed,
            n_neighbors,
            min_dist,
            umap_epochs,
            cluster_on,
            min_cluster_size,
            min_samples
        );
        s.skip_invalid |= self.skip_invalid;
        if self.no_coverage {
            s.coverage = false;
        }
        if self.no_refine {
            s.refine = false;
        }
        if self.no_graph {
            s.graph = false;
        }
        if self.no_sequence_vote {
            s.sequence_vote = false;
        }
        if self.no_compare {
            s.compare_maps = false;
        }
        s.validate()?;
        Ok(s)
    }
}

/// Reads and labels to use: the bundled demo (with its labels unless others are given) or
/// what was named.
fn inputs(
    demo: bool,
    reads: Option<PathBuf>,
    labels: Option<PathBuf>,
) -> Result<(Option<PathBuf>, Option<PathBuf>)> {
    if demo {
        let (a, b) = binscape::reads::demo_files()?;
        Ok((Some(a), Some(labels.unwrap_or(b))))
    } else {
        Ok((reads, labels))
    }
}

/// Ctrl-C, SIGTERM and SIGHUP cancel the run: the stage in progress stops, the staging folder
/// is removed and `--out` keeps what it held. A second signal ends the process at once (the
/// next run removes what it leaves).
fn cancel_on_signals(progress: &Progress) {
    let p = progress.clone();
    let _ = ctrlc::set_handler(move || {
        if p.cancelled() {
            std::process::exit(130);
        }
        p.cancel();
    });
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    binscape::model::use_one_matmul_thread();
    let progress = Progress::default();
    let out = match &cli.command {
        Some(Command::Run(r)) => Some(r.out.clone()),
        _ => None,
    };
    match start(cli, &progress) {
        Ok(()) => ExitCode::SUCCESS,
        // Only a cancel the user asked for: a stage that fails also stops the work beside it
        // (the overlap search) through the shared flag, and its own message must be shown.
        Err(e) if matches!(e.downcast_ref(), Some(binscape::Error::Cancelled)) => {
            eprintln!(
                "binscape: interrupted; {} holds what it held before this run",
                out.unwrap_or_default().display()
            );
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn start(cli: Cli, progress: &Progress) -> Result<()> {
    match cli.command {
        Some(Command::Run(r)) if r.session.is_some() => {
            cancel_on_signals(progress);
            let session = r.session.clone().unwrap_or_default();
            cli::run_session(
                &session,
                r.reads.as_deref(),
                cli::RunArgs {
                    reads: Path::new(""),
                    labels: r.labels.as_deref(),
                    out: &r.out,
                    settings: Settings::default(),
                    quiet: r.quiet,
                    save_latent: r.save_latent,
                },
                progress,
            )?;
            Ok(())
        }
        Some(Command::Run(r)) => {
            let settings = r.settings.resolve()?;
            let (reads, labels) = inputs(r.demo, r.reads.clone(), r.labels.clone())?;
            cancel_on_signals(progress);
            cli::run(
                cli::RunArgs {
                    reads: &reads.unwrap_or_default(),
                    labels: labels.as_deref(),
                    out: &r.out,
                    settings,
                    quiet: r.quiet,
                    save_latent: r.save_latent,
                },
                progress,
            )?;
            Ok(())
        }
        Some(Command::Simulate(c)) => simulate(c),
        None => {
            let settings = cli.settings.resolve()?;
            let is_session = cli.reads.as_ref().is_some_and(|p| {
                p.extension()
                    .is_some_and(|e| e == binscape::session::EXTENSION)
            });
            if is_session {
                return binscape::gui::run(binscape::gui::Startup {
                    session: cli.reads,
                    settings,
                    colour_by: cli.colour_by,
                    ..Default::default()
                });
            }
            let (reads, labels) = inputs(cli.demo, cli.reads, cli.labels)?;
            binscape::gui::run(binscape::gui::Startup {
                reads,
                labels,
                settings,
                train: cli.train,
                colour_by: cli.colour_by,
                session: None,
            })
        }
    }
}
