//! `binscape run` end to end on generated reads.
use crate::common::*;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

fn read_fasta_dir(dir: &Path) -> HashMap<String, Vec<(String, String)>> {
    let mut files = HashMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let mut recs = Vec::new();
        for block in text.split('>').skip(1) {
            let mut lines = block.lines();
            let header = lines.next().unwrap().to_string();
            recs.push((header, lines.collect::<String>()));
        }
        files.insert(p.file_name().unwrap().to_string_lossy().into_owned(), recs);
    }
    files
}

#[test]
fn run_writes_every_read_once_and_scores() {
    let d = tmp();
    let reads = synthetic_reads(60, 1);
    let (fa, lab, out) = (
        d.path().join("r.fa"),
        d.path().join("l.tsv"),
        out_dir(d.path()),
    );
    write_fasta(&fa, &reads);
    write_labels(&lab, &reads);
    let mut args = vec![
        "run",
        path_str(&fa),
        "--labels",
        path_str(&lab),
        "--out",
        path_str(&out),
        "-q",
    ];
    args.extend_from_slice(FAST);
    let report = run_ok(&args);

    // Every read exactly once over the bin files, with its full header and sequence.
    let files = read_fasta_dir(&out.join("bins"));
    assert!(files.contains_key("unbinned.fasta"));
    let by_id: HashMap<&str, &Vec<u8>> = reads.iter().map(|r| (r.0.as_str(), &r.2)).collect();
    let mut seen = HashSet::new();
    for recs in files.values() {
        for (header, seq) in recs {
            assert!(header.ends_with(" some description"), "{header}");
            let id = header.split(' ').next().unwrap();
            assert!(seen.insert(id.to_string()), "{id} exported twice");
            assert_eq!(seq.as_bytes(), by_id[id].as_slice());
        }
    }
    assert_eq!(seen.len(), reads.len());

    // assignments.tsv names every read and agrees with the files.
    let tsv = std::fs::read_to_string(out.join("assignments.tsv")).unwrap();
    let mut lines = tsv.lines();
    assert_eq!(
        lines.next(),
        Some("read_id\tbin\tx\ty\toverlaps\toverlaps_in_bin")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), reads.len());
    // Each read's overlaps, and those in its bin: the genomes are 2× deep and error-free, so
    // reads overlap, and almost only reads of their own genome (so of their own bin).
    let (mut all, mut inside) = (0u32, 0u32);
    for r in &rows {
        let (o, i): (u32, u32) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        assert!(i <= o, "{r:?}");
        all += o;
        inside += i;
    }
    assert!(all > 0 && all % 2 == 0, "{all} overlap ends");
    assert!(
        inside as f64 >= 0.9 * all as f64,
        "{inside} of {all} in their bin"
    );
    // report.json counts the binned reads by the same classes.
    let rs = &report["read_support"];
    let classes = [
        "all_in_bin",
        "most_in_bin",
        "half_or_fewer_in_bin",
        "no_overlaps",
    ];
    let total: u64 = classes.iter().map(|c| rs[c].as_u64().unwrap()).sum();
    assert_eq!(total, report["binned_reads"].as_u64().unwrap(), "{rs}");
    assert!(rs["all_in_bin"].as_u64().unwrap() > total / 2, "{rs}");
    for r in &rows {
        let file = format!("{}.fasta", r[1]);
        assert!(
            files[&file]
                .iter()
                .any(|(h, _)| h.starts_with(&format!("{} ", r[0]))),
            "{} not in {file}",
            r[0]
        );
        assert!(
            r[2].parse::<f32>().unwrap().is_finite() && r[3].parse::<f32>().unwrap().is_finite()
        );
    }

    // Three well separated genomes: the report scores the bins.
    assert_eq!(report["reads"], 180);
    let ari = report["scores"]["ari"].as_f64().unwrap();
    assert!(ari > 0.8, "ARI {ari}");
    assert!(report["bins"].as_u64().unwrap() >= 3);
    // Each genome's size from its bin's reads and overlaps: 60 kb, 2.25x deep.
    let table = std::fs::read_to_string(out.join("bins.tsv")).unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (size, purity) = (col("genome_mb"), col("purity"));
    let mut pure = 0;
    for row in table.lines().skip(1).filter(|l| l.starts_with("bin_")) {
        let cells: Vec<&str> = row.split('\t').collect();
        if cells[purity].parse::<f64>().unwrap() >= 0.95 {
            let mb: f64 = cells[size].parse().unwrap();
            assert!((0.04..0.09).contains(&mb), "{row}");
            pure += 1;
        }
    }
    assert!(pure >= 3, "{table}");
    let loss = std::fs::read_to_string(out.join("loss.tsv")).unwrap();
    assert_eq!(loss.lines().next(), Some("step\tepoch\trl\tkld\ttotal"));
    assert_eq!(loss.lines().count(), 1 + 8 * 3); // 8 epochs × ceil(180 / 64) batches
    // No temporary files left behind.
    for e in std::fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "left {name}");
    }
}

#[test]
fn same_seed_same_assignments_and_settings_replay() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 40, 2);
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["run", path_str(&fa), "--out", path_str(out), "-q"];
        args.extend_from_slice(extra);
        let o = binscape(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out.join("assignments.tsv")).unwrap()
    };
    let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
    let first = run(&a, FAST);
    assert_eq!(first, run(&b, FAST), "two runs with the same seed differ");
    // Replaying the saved settings reproduces the run.
    let settings = a.join("settings.json");
    assert_eq!(first, run(&c, &["--settings", path_str(&settings)]));
    let mut other = FAST.to_vec();
    other.extend_from_slice(&["--seed", "9"]);
    assert_ne!(
        first,
        run(&d.path().join("e"), &other),
        "the seed has no effect"
    );
}

#[test]
fn without_the_graph_the_overlap_columns_say_na() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 40, 2);
    let out = d.path().join("o");
    let mut args = vec![
        "run",
        path_str(&fa),
        "--out",
        path_str(&out),
        "-q",
        "--no-graph",
    ];
    args.extend_from_slice(FAST);
    run_ok(&args);
    let tsv = std::fs::read_to_string(out.join("assignments.tsv")).unwrap();
    let rows: Vec<&str> = tsv.lines().skip(1).collect();
    assert_eq!(rows.len(), 120);
    assert!(rows.iter().all(|l| l.ends_with("\tNA\tNA")), "{}", rows[0]);
}

#[test]
fn gzipped_fastq_is_read() {
    let d = tmp();
    let reads = synthetic_reads(30, 3);
    let gz = d.path().join("r.fq.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    for (id, _, seq) in &reads {
        write!(
            enc,
            "@{id}\n{}\n+\n{}\n",
            String::from_utf8_lossy(seq),
            "I".repeat(seq.len())
        )
        .unwrap();
    }
    enc.finish().unwrap();
    let out = out_dir(d.path());
    let mut args = vec!["run", path_str(&gz), "--out", path_str(&out), "-q"];
    args.extend_from_slice(FAST);
    assert_eq!(run_ok(&args)["reads"], 90);
}

#[test]
fn demo_runs() {
    let d = tmp();
    let out = out_dir(d.path());
    let report = run_ok(&[
        "run",
        "--demo",
        "--out",
        path_str(&out),
        "-q",
        "--epochs",
        "5",
        "--umap-epochs",
        "50",
    ]);
    assert_eq!(report["reads"], 1200);
    assert!(report["scores"]["ari"].as_f64().is_some());
}

/// The same generated reads run with the defaults and with `flag`: each run's report and the
/// settings it saved.
fn default_and_with(flag: &str) -> [(serde_json::Value, binscape::Settings); 2] {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 40, 2);
    [("a", None), ("b", Some(flag))].map(|(dir, extra)| {
        let out = d.path().join(dir);
        let mut args = vec!["run", path_str(&fa), "--out", path_str(&out), "-q"];
        args.extend_from_slice(FAST);
        args.extend(extra);
        let report = run_ok(&args);
        let saved =
            serde_json::from_str(&std::fs::read_to_string(out.join("settings.json")).unwrap())
                .unwrap();
        (report, saved)
    })
}

#[test]
fn refinement_is_on_by_default_and_no_refine_is_saved() {
    let [(on, saved_on), (off, saved_off)] = default_and_with("--no-refine");
    assert!(on["seconds"]["refine"].as_f64().is_some(), "{on}");
    assert!(on["refined"].is_array());
    assert!(off["seconds"].get("refine").is_none(), "{off}");
    assert_eq!(off["refined"], serde_json::json!([]));
    assert!(saved_on.refine);
    assert!(!saved_off.refine);
}

#[test]
fn the_sequence_vote_is_on_by_default_and_no_sequence_vote_is_saved() {
    let [(on, saved_on), (off, saved_off)] = default_and_with("--no-sequence-vote");
    // Some reads overlap too few others to settle their bin: the chains see them.
    let doubted = on["graph"]["doubted"].as_u64().unwrap();
    assert!(doubted > 0, "{}", on["graph"]);
    assert_eq!(off["graph"]["doubted"], 0, "{}", off["graph"]);
    assert_eq!(off["graph"]["sequence_moved"], 0);
    assert!(saved_on.sequence_vote);
    assert!(!saved_off.sequence_vote);
}

/// Reads that overlap others yet are unbinned or hold half or fewer of their overlaps in their
/// bin, counted from a run's assignments.tsv; and each read's bin.
fn doubted_and_bins(out: &Path) -> (u64, Vec<String>) {
    let tsv = std::fs::read_to_string(out.join("assignments.tsv")).unwrap();
    let mut doubted = 0;
    let mut bins = Vec::new();
    for l in tsv.lines().skip(1) {
        let f: Vec<&str> = l.split('\t').collect();
        let (overlaps, in_bin): (u64, u64) = (f[4].parse().unwrap(), f[5].parse().unwrap());
        if overlaps > 0 && (f[1] == "unbinned" || 2 * in_bin <= overlaps) {
            doubted += 1;
        }
        bins.push(f[1].to_string());
    }
    (doubted, bins)
}

#[test]
fn a_small_sample_keeps_the_bins_of_the_map_its_overlaps_doubt_less() {
    let d = tmp();
    // Genomes of near GC, so that composition mixes them and some reads' bins are in doubt.
    let fa = d.path().join("r.fa");
    write_fasta(&fa, &reads_of_genomes(60, 3, &[0.46, 0.5, 0.54]));
    let run = |dir: &str, extra: &[&str]| {
        let out = d.path().join(dir);
        let mut args = vec!["run", path_str(&fa), "--out", path_str(&out), "-q"];
        args.extend_from_slice(FAST);
        args.extend_from_slice(extra);
        (run_ok(&args), doubted_and_bins(&out))
    };
    let (both, (_, bins)) = run("both", &[]);
    let (latent, (latent_doubted, latent_bins)) = run("latent", &["--no-compare"]);
    let (kmers, (kmers_doubted, kmers_bins)) = run("kmers", &["--map-input", "kmers"]);
    let c = &both["map_compared"];
    // Each side's count is that of the run of its map alone, and the bins kept are that run's.
    assert_eq!(c["latent_doubted"], latent_doubted, "{c}");
    assert_eq!(c["kmers_doubted"], kmers_doubted, "{c}");
    // (Near genomes: some reads are in doubt, so the two maps' bins are told apart.)
    assert!(latent_doubted + kmers_doubted > 0, "{c}");
    let kept = if kmers_doubted < latent_doubted {
        "kmers"
    } else {
        "latent"
    };
    assert_eq!(c["kept"], kept);
    assert_eq!(
        bins,
        if kept == "kmers" {
            kmers_bins
        } else {
            latent_bins
        }
    );
    assert!(both["seconds"]["compare"].as_f64().is_some(), "{both}");
    // Neither single map's run compares.
    assert!(latent["map_compared"].is_null() && kmers["map_compared"].is_null());
    assert!(latent["seconds"].get("compare").is_none());
}
