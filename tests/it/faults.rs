//! Runs that survive faults (issue 9, part 2): one test per defect found, each asserting the
//! behaviour a samtools or seqkit user expects — one clear line, nothing on disk lost or mixed.
use crate::common::*;
use binscape::Progress;
use binscape::reads::{FeatureOptions, load_reads};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every file under `dir` (relative path → bytes); `report.json` without its timings, which
/// differ from run to run.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let mut bytes = std::fs::read(&p).unwrap();
            if rel == "report.json" {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                v.as_object_mut().unwrap().remove("seconds");
                bytes = v.to_string().into_bytes();
            }
            out.insert(rel, bytes);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Names in `dir` that a run leaves only while it is working (staging and parked folders).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".binscape-"))
        .collect()
}

fn run_args<'a>(fa: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", path_str(fa), "--out", path_str(out), "-q"];
    // FAST, less what `extra` sets itself.
    for pair in FAST.chunks(2) {
        if !extra.contains(&pair[0]) {
            args.extend_from_slice(pair);
        }
    }
    args.extend_from_slice(extra);
    args
}

/// Defect 1: a re-run killed at any point of its output phase leaves the old run or the new
/// one, never a mix. The fault is injected after each file and around the final swap.
#[test]
fn a_rerun_killed_anywhere_in_its_output_leaves_one_whole_run() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 8);
    let old_args = ["--seed", "1"];
    let new_args = ["--seed", "2", "--save-latent", "--no-refine"];
    // The two runs, each made whole into its own folder.
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    run_ok(&run_args(&fa, &a, &old_args));
    run_ok(&run_args(&fa, &b, &new_args));
    let (old, new) = (snapshot(&a), snapshot(&b));
    assert_ne!(old, new);
    let out = d.path().join("out");
    let mut aborted = 0;
    for at in 1.. {
        let _ = std::fs::remove_dir_all(&out);
        run_ok(&run_args(&fa, &out, &old_args));
        // A file of the user's in the folder: it must survive whatever happens.
        std::fs::write(out.join("notes.txt"), b"mine").unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_binscape"))
            .args(run_args(&fa, &out, &new_args))
            .env("BINSCAPE_ABORT_AT", at.to_string())
            .output()
            .unwrap();
        let mut now = snapshot(&out);
        assert_eq!(
            now.remove("notes.txt").as_deref(),
            Some(&b"mine"[..]),
            "at point {at}"
        );
        if o.status.success() {
            assert!(now == new, "a finished run is not the new run");
            assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
            break;
        }
        aborted += 1;
        assert!(
            now == old || now == new,
            "killed at output point {at}: the folder mixes two runs: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        assert!(at < 30, "the output phase never finished");
    }
    assert!(aborted >= 6, "only {aborted} fault points were reached");
    // What a killed run left beside the folder is removed by the next run.
    let _ = Command::new(env!("CARGO_BIN_EXE_binscape"))
        .args(run_args(&fa, &out, &new_args))
        .env("BINSCAPE_ABORT_AT", "2")
        .output()
        .unwrap();
    assert!(!leftovers(d.path()).is_empty());
    run_ok(&run_args(&fa, &out, &old_args));
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
    let mut last = snapshot(&out);
    last.remove("notes.txt");
    assert!(last == old);
}

/// Waits for `child` at most `secs`, killing it (and failing) if it hangs.
fn wait_or_fail(mut child: std::process::Child, secs: u64) -> std::process::Output {
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("binscape hung for {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Defect 2: reads piped in on standard input (`-`) or through a FIFO are binned, the same as
/// from the file, and never hang (with `--no-coverage`, a FIFO used to be reopened and hang).
#[test]
fn reads_from_a_pipe_or_a_fifo_are_binned_like_the_file() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 9);
    let file_out = d.path().join("file");
    run_ok(&run_args(&fa, &file_out, &["--no-coverage"]));
    let want = std::fs::read_to_string(file_out.join("assignments.tsv")).unwrap();

    let pipe_out = d.path().join("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_binscape"))
        .args(run_args(Path::new("-"), &pipe_out, &["--no-coverage"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written, then closed: the end of the stream.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(&fa).unwrap()).unwrap();
    drop(stdin);
    let o = wait_or_fail(child, 120);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = std::fs::read_to_string(pipe_out.join("assignments.tsv")).unwrap();
    assert_eq!(got, want);
    // The bins hold the reads themselves, re-read from the spooled copy.
    let unbinned = std::fs::read_to_string(pipe_out.join("bins/unbinned.fasta")).unwrap();
    let binned: usize = std::fs::read_dir(pipe_out.join("bins"))
        .unwrap()
        .map(|e| {
            std::fs::read_to_string(e.unwrap().path())
                .unwrap()
                .matches('>')
                .count()
        })
        .sum();
    assert_eq!(binned, 90, "{unbinned}");

    let fifo = d.path().join("reads.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo_out = d.path().join("fifo");
    let child = Command::new(env!("CARGO_BIN_EXE_binscape"))
        .args(run_args(&fifo, &fifo_out, &["--no-coverage"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (fifo2, fa2) = (fifo.clone(), fa.clone());
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(fifo2).unwrap();
        f.write_all(&std::fs::read(fa2).unwrap()).unwrap();
    });
    let o = wait_or_fail(child, 120);
    writer.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let got = std::fs::read_to_string(fifo_out.join("assignments.tsv")).unwrap();
    assert_eq!(got, want);
}

fn write_fastq(path: &Path, reads: &[(String, String, Vec<u8>)], gzip: bool) {
    let mut text = Vec::new();
    for (id, _, seq) in reads {
        text.extend_from_slice(format!("@{id}\n").as_bytes());
        text.extend_from_slice(seq);
        text.extend_from_slice(b"\n+\n");
        text.extend(std::iter::repeat_n(b'I', seq.len()));
        text.push(b'\n');
    }
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&text).unwrap();
        text = enc.finish().unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// Defect 3: the same reads give the same vectors (and so the same bins) plain, gzipped, as
/// FASTA or as FASTQ: the 15-mer table no longer takes its size from the file.
#[test]
fn the_same_reads_stored_differently_give_the_same_bins() {
    let d = tmp();
    // 3 Mbp: enough that the files' sizes would size the count table differently.
    let reads = synthetic_reads(500, 10);
    let (fa, fq, gz) = (
        d.path().join("r.fa"),
        d.path().join("r.fq"),
        d.path().join("r.fq.gz"),
    );
    write_fasta(&fa, &reads);
    write_fastq(&fq, &reads, false);
    write_fastq(&gz, &reads, true);
    let opt = FeatureOptions {
        k: 4,
        coverage: true,
        skip_invalid: false,
    };
    let p = Progress::default();
    let want = load_reads(&fa, opt, &p).unwrap().features;
    for f in [&fq, &gz] {
        let got = load_reads(f, opt, &p).unwrap().features;
        assert!(got == want, "{} gives other vectors", f.display());
    }
    // And end to end, on a smaller set.
    let small = synthetic_reads(30, 11);
    let (fq, gz) = (d.path().join("s.fq"), d.path().join("s.fq.gz"));
    write_fastq(&fq, &small, false);
    write_fastq(&gz, &small, true);
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    run_ok(&run_args(&fq, &a, &[]));
    run_ok(&run_args(&gz, &b, &[]));
    assert_eq!(
        std::fs::read(a.join("assignments.tsv")).unwrap(),
        std::fs::read(b.join("assignments.tsv")).unwrap()
    );
}

/// Defect 4: bins too small to split are not re-examined (each examined bin costs a 5-mer
/// PCA, ≈ 0.3 s): refining hundreds of tiny bins does not even re-read the reads.
#[test]
fn tiny_bins_are_not_reexamined() {
    use binscape::cluster::Clustering;
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 200, 12);
    let p = Progress::default();
    let mut index = load_reads(
        &fa,
        FeatureOptions {
            k: 4,
            coverage: false,
            skip_invalid: false,
        },
        &p,
    )
    .unwrap()
    .index;
    let n = index.len();
    // 150 bins of 4 reads, as --min-cluster-size 2 makes.
    let labels: Vec<i32> = (0..n).map(|i| (i / 4) as i32).collect();
    let c = Clustering {
        n_clusters: n.div_ceil(4),
        labels: labels.clone(),
        ..Default::default()
    };
    // The reads file is gone: any re-read would fail.
    index.path = PathBuf::from("/nonexistent/reads.fa");
    let s = binscape::Settings {
        min_cluster_size: 2,
        ..Default::default()
    };
    let (refined, splits) = binscape::refine::refine(&index, &c, &s, &p).unwrap();
    assert!(splits.is_empty());
    assert_eq!(refined.n_clusters, c.n_clusters);
    // The CLI with --min-cluster-size 2 finishes (in the bench: well under 30 s on 2 000 reads).
    let out = d.path().join("out");
    let report = run_ok(&run_args(&fa, &out, &["--min-cluster-size", "2"]));
    assert_eq!(report["reads"], 600);
}

/// Defect 5: a re-run without `--save-latent` leaves no stale latent.tsv of the run before, and
/// keeps what else the user put in the folder.
#[test]
fn a_rerun_leaves_no_stale_outputs() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 13);
    let out = d.path().join("out");
    run_ok(&run_args(&fa, &out, &["--save-latent"]));
    assert!(out.join("latent.tsv").exists());
    run_ok(&run_args(&fa, &out, &["--seed", "5"]));
    assert!(!out.join("latent.tsv").exists(), "stale latent.tsv kept");
    // Files in the folder that are not binscape's (notes, a sub-folder) are kept.
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    std::fs::create_dir_all(out.join("mine/deeper")).unwrap();
    std::fs::write(out.join("mine/deeper/x.tsv"), b"x").unwrap();
    // A user's dot-files that look like temporary names are theirs too (a review found them
    // deleted); an earlier version's leftover temporary file is not.
    std::fs::write(out.join(".settings.old"), b"old").unwrap();
    std::fs::create_dir_all(out.join(".backup.tmp")).unwrap();
    std::fs::write(out.join(".backup.tmp/y"), b"y").unwrap();
    std::fs::write(out.join(".assignments.tsv.tmp4711"), b"left").unwrap();
    run_ok(&run_args(&fa, &out, &["--seed", "6"]));
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read(out.join("mine/deeper/x.tsv")).unwrap(), b"x");
    assert_eq!(std::fs::read(out.join(".settings.old")).unwrap(), b"old");
    assert_eq!(std::fs::read(out.join(".backup.tmp/y")).unwrap(), b"y");
    assert!(!out.join(".assignments.tsv.tmp4711").exists());
    assert!(out.join("assignments.tsv").exists());
}

/// Defect 6: SIGINT and SIGTERM stop the run with a message and exit 130; the folder keeps the
/// earlier run and no temporary file or folder is left.
#[test]
fn a_signal_stops_the_run_cleanly() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 14);
    let out = d.path().join("out");
    run_ok(&run_args(&fa, &out, &[]));
    let before = snapshot(&out);
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let args = run_args(&fa, &out, &["--epochs", "100000", "--seed", "3"]);
        let child = Command::new(env!("CARGO_BIN_EXE_binscape"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(child.id() as i32, sig) };
        let o = wait_or_fail(child, 60);
        assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
        assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
        assert!(snapshot(&out) == before, "the earlier run was changed");
        assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
    }
}

fn fails_with(args: &[&str], want: &str) -> String {
    let o = binscape(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "expected failure: {err}");
    assert_eq!(o.status.code(), Some(1), "not a clean error exit: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(want), "expected {want:?} in: {err}");
    err
}

/// Defect 7: absurd sizes are settings errors, not failed allocations (exit 134).
#[test]
fn absurd_sizes_are_settings_errors() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 10, 15);
    let out = d.path().join("out");
    for extra in [
        &["--batch-size", "1000000000"][..],
        &["--latent", "1000000000"],
        &["--hidden", "100000000,1"],
        &["--hidden", "16384,16384", "--k", "7"],
    ] {
        let mut args = vec!["run", path_str(&fa), "--out", path_str(&out)];
        args.extend_from_slice(extra);
        fails_with(&args, "invalid setting");
        assert!(!out.exists());
    }
}

/// Defect 8: --min-dist is checked (NaN, negative, huge), and every saved settings.json can be
/// read back.
#[test]
fn min_dist_is_validated() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 16);
    let out = d.path().join("out");
    for v in ["NaN", "-0.5", "1e30", "inf"] {
        let flag = format!("--min-dist={v}");
        let args = ["run", path_str(&fa), "--out", path_str(&out), &flag];
        fails_with(&args, "min-dist must be from 0 to 1");
    }
    run_ok(&run_args(&fa, &out, &["--min-dist", "0.3"]));
    let settings = out.join("settings.json");
    let again = d.path().join("again");
    let mut args = run_args(&fa, &again, &[]);
    args.extend_from_slice(&["--settings", path_str(&settings)]);
    run_ok(&args);
    assert_eq!(
        std::fs::read(out.join("assignments.tsv")).unwrap(),
        std::fs::read(again.join("assignments.tsv")).unwrap()
    );
}

fn fails_on(d: &tempfile::TempDir, name: &str, content: &[u8], want: &str) -> String {
    let p = d.path().join(name);
    std::fs::write(&p, content).unwrap();
    let out = d.path().join("out");
    let err = fails_with(&["run", path_str(&p), "--out", path_str(&out)], want);
    assert!(err.contains(path_str(&p)), "the file is not named: {err}");
    assert!(!err.contains("(line 0)"), "{err}");
    err
}

/// Defect 9: messages say what is really wrong.
#[test]
fn messages_name_the_real_fault() {
    let d = tmp();
    let seq = "ACGT".repeat(60);
    let fq = format!("@r1\n{seq}\n+\n{}\n", "I".repeat(240));
    // A FASTA record inside a FASTQ file: the mix is named, not a missing '>'.
    let fq3 = format!("@r3\n{seq}\n+\n{}\n", "I".repeat(240));
    let mixed = format!("{fq}>r2\n{seq}\n{fq3}");
    fails_on(
        &d,
        "mixed.fq",
        mixed.as_bytes(),
        "FASTA and FASTQ records are mixed",
    );
    // A damaged gzip is a gzip fault, whatever the parser met first.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..300 {
        write!(enc, "@r{i}\n{seq}\n+\n{}\n", "I".repeat(240)).unwrap();
    }
    let mut gz = enc.finish().unwrap();
    let mid = gz.len() / 2;
    gz[mid..mid + 40].iter_mut().for_each(|b| *b ^= 0x5a);
    fails_on(&d, "bad.fq.gz", &gz, "corrupt or truncated gzip");
    // Other compressions are named as what they are.
    let mut zst = vec![0x28, 0xb5, 0x2f, 0xfd];
    zst.extend_from_slice(&[0x13; 64]);
    let err = fails_on(&d, "bad.fq.zst", &zst, "zstd");
    assert!(!err.contains("gzip"), "{err}");
    // A bare gzip header is a truncated stream, not an empty file.
    fails_on(
        &d,
        "header.gz",
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3],
        "gzip",
    );
    // A folder is a folder.
    let dir = d.path().join("a_folder");
    std::fs::create_dir(&dir).unwrap();
    fails_with(
        &[
            "run",
            path_str(&dir),
            "--out",
            path_str(&d.path().join("o")),
        ],
        "is a folder",
    );
    // Binary garbage in an id is escaped, not echoed to the terminal.
    let garbage = b">r\x01\x02\x1b[31m\nNNNN\n";
    let err = fails_on(&d, "bin.fa", garbage, "no valid k-mer");
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// Defect 10: what used to succeed silently with nothing to show is refused, or warned about,
/// and a failed run leaves no empty --out folder behind.
#[test]
fn runs_that_could_bin_nothing_are_refused() {
    let d = tmp();
    let (fa, reads) = reads_fasta(d.path(), 30, 17);
    let out = d.path().join("out");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "run".to_string(),
            path_str(&fa).to_string(),
            "--out".into(),
            path_str(&out).to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let fail = |extra: &[&'static str], want: &str| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        fails_with(&a, want);
        assert!(!out.exists(), "a failed run left {}", out.display());
    };
    fail(&["--epochs", "0"], "epochs must be at least 1");
    fail(&["--w-rl", "0", "--w-kld", "0"], "reconstruction weight");
    fail(&["--min-cluster-size", "1000"], "min cluster size 1000");
    // A handful of reads is not a sample.
    let few = d.path().join("few.fa");
    write_fasta(&few, &reads[..12]);
    fails_with(
        &["run", path_str(&few), "--out", path_str(&out)],
        "only 12 reads",
    );
    assert!(!out.exists());
    // Labels: one read with two labels, or every label empty.
    let labels = d.path().join("l.tsv");
    let (id, _, _) = &reads[0];
    std::fs::write(&labels, format!("read_id\tlabel\n{id}\tA\n{id}\tB\n")).unwrap();
    let mut a = args(&[]);
    a.extend(["--labels".to_string(), path_str(&labels).to_string()]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let err = fails_with(&a, "one label per read");
    assert!(err.contains("line 3") && err.contains("line 2"), "{err}");
    let empty: String = reads.iter().map(|(id, _, _)| format!("{id}\t\n")).collect();
    std::fs::write(&labels, format!("read_id\tlabel\n{empty}")).unwrap();
    let err = fails_with(&a, "every label is empty");
    assert!(err.contains(path_str(&labels)), "{err}");
    assert!(!out.exists());
}

/// A training that fails (the loss not finite) says why and exits 1, not "interrupted" with
/// exit 130 (a review found the failure's message thrown away: the failure stops the overlap
/// search beside it through the shared cancel flag).
#[test]
fn a_failed_training_says_why_not_interrupted() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 15);
    let out = d.path().join("out");
    let o = binscape(&run_args(&fa, &out, &["--learning-rate", "1e30"]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the loss became"), "{err}");
    assert!(!err.contains("interrupted"), "{err}");
    assert!(!out.exists(), "a failed first run left {}", out.display());
}
