//! Every kind of bad input gets a clear error naming the file (and record) and a non-zero exit,
//! never a panic; labels that do not match warn and score the matched reads.
use crate::common::*;
use std::io::Write;
use std::path::Path;

/// Runs on `reads` and returns stderr, asserting a failure that is not a panic.
fn fails(reads: &Path, extra: &[&str]) -> String {
    let out = reads.parent().unwrap().join("out");
    let mut args = vec!["run", path_str(reads), "--out", path_str(&out), "-q"];
    args.extend_from_slice(extra);
    args.extend_from_slice(FAST);
    let o = binscape(&args);
    let err = stderr(&o);
    assert!(!o.status.success(), "expected failure, got success: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(
        err.contains(path_str(reads)) || extra.iter().any(|a| err.contains(a)),
        "error names no file: {err}"
    );
    err
}

fn file(d: &tempfile::TempDir, name: &str, content: &[u8]) -> std::path::PathBuf {
    let p = d.path().join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn empty_file() {
    let d = tmp();
    let err = fails(&file(&d, "e.fq", b""), &[]);
    assert!(err.contains("file is empty"), "{err}");
}

#[test]
fn not_fastx() {
    let d = tmp();
    let err = fails(
        &file(&d, "x.txt", b"hello world\nthis is not a read file\n"),
        &[],
    );
    assert!(err.contains("not FASTA or FASTQ"), "{err}");
}

#[test]
fn truncated_record() {
    let d = tmp();
    let good = format!("@r1\n{}\n+\n{}\n", "ACGT".repeat(50), "I".repeat(200));
    let content = format!("{good}@r2\n{}\n", "ACGT".repeat(50));
    let err = fails(&file(&d, "t.fq", content.as_bytes()), &[]);
    assert!(err.contains("record 2"), "{err}");
    assert!(err.contains("truncated record"), "{err}");
}

#[test]
fn quality_length_differs() {
    let d = tmp();
    let content = format!("@r1\n{}\n+\n{}\n", "ACGT".repeat(50), "I".repeat(199));
    let err = fails(&file(&d, "q.fq", content.as_bytes()), &[]);
    assert!(err.contains("record 1"), "{err}");
    assert!(
        err.contains("quality length differs from sequence length"),
        "{err}"
    );
}

#[test]
fn corrupt_gzip() {
    let d = tmp();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..200 {
        write!(enc, ">r{i}\n{}\n", "ACGTTGCAAC".repeat(40)).unwrap();
    }
    let mut bytes = enc.finish().unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 64].iter_mut().for_each(|b| *b ^= 0x5a);
    let err = fails(&file(&d, "c.fa.gz", &bytes), &[]);
    assert!(err.contains("corrupt or truncated gzip"), "{err}");
}

#[test]
fn read_shorter_than_k() {
    let d = tmp();
    let content = format!(">r1\n{}\n>r2\nACG\n", "ACGT".repeat(100));
    let err = fails(&file(&d, "s.fa", content.as_bytes()), &[]);
    assert!(err.contains("record 2 (id 'r2')"), "{err}");
    assert!(err.contains("shorter than k = 4"), "{err}");
}

#[test]
fn read_without_valid_kmer() {
    let d = tmp();
    let content = format!(">r1\n{}\n>r2\n{}\n", "ACGT".repeat(100), "N".repeat(500));
    let err = fails(&file(&d, "n.fa", content.as_bytes()), &[]);
    assert!(err.contains("record 2 (id 'r2')"), "{err}");
    assert!(err.contains("no valid k-mer"), "{err}");
    assert!(err.contains("--skip-invalid"), "{err}");
}

#[test]
fn skip_invalid_leaves_such_reads_out() {
    let d = tmp();
    let mut reads = synthetic_reads(30, 4);
    reads.insert(5, ("allN".into(), "x".into(), vec![b'N'; 400]));
    let fa = d.path().join("r.fa");
    write_fasta(&fa, &reads);
    let out = d.path().join("out");
    let mut args = vec![
        "run",
        path_str(&fa),
        "--out",
        path_str(&out),
        "--skip-invalid",
    ];
    args.extend_from_slice(FAST);
    let o = binscape(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("left out 1 reads"), "{}", stderr(&o));
    let tsv = std::fs::read_to_string(out.join("assignments.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), 1 + 90);
    assert!(!tsv.contains("allN"));
}

#[test]
fn duplicate_read_ids() {
    let d = tmp();
    let s = "ACGT".repeat(100);
    let content = format!(">a\n{s}\n>b\n{s}\n>a dup\n{s}\n");
    let err = fails(&file(&d, "d.fa", content.as_bytes()), &[]);
    assert!(err.contains("record 3 (id 'a')"), "{err}");
    assert!(
        err.contains("duplicate read id: record 1 has the same id"),
        "{err}"
    );
}

#[test]
fn unwritable_output_folder() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 10, 5);
    // A folder inside a regular file cannot be created, even by root.
    let blocker = file(&d, "blocker", b"x");
    let out = blocker.join("out");
    let o = binscape(&["run", path_str(&fa), "--out", path_str(&out)]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("cannot write") && err.contains(path_str(&out)),
        "{err}"
    );
}

#[test]
fn labels_missing_and_unknown_ids_warn() {
    let d = tmp();
    let (fa, reads) = reads_fasta(d.path(), 30, 6);
    // Drop ten reads' labels and add two ids that are not reads.
    let lab = d.path().join("l.tsv");
    write_labels(&lab, &reads[10..]);
    let mut extra = std::fs::OpenOptions::new().append(true).open(&lab).unwrap();
    writeln!(extra, "ghost1\tgenome_0\nghost2\tgenome_1").unwrap();
    let out = d.path().join("out");
    let mut args = vec![
        "run",
        path_str(&fa),
        "--labels",
        path_str(&lab),
        "--out",
        path_str(&out),
    ];
    args.extend_from_slice(FAST);
    let o = binscape(&args);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("10 reads have no label; scores use only the 80 labelled reads"),
        "{err}"
    );
    assert!(
        err.contains("2 ids are not in the reads (e.g. ghost1, ghost2)"),
        "{err}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["scores"]["scored_reads"], 80);
}

#[test]
fn malformed_labels_line() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 10, 7);
    let lab = file(&d, "l.tsv", b"read_id\tspecies\nread0001 genome_0\n");
    let err = fails(&fa, &["--labels", path_str(&lab)]);
    assert!(
        err.contains("line 2: expected 'read_id<TAB>label'"),
        "{err}"
    );
}

#[test]
fn invalid_setting() {
    let d = tmp();
    let fa = file(&d, "r.fa", b">a\nACGTACGTACGT\n");
    let o = binscape(&[
        "run",
        path_str(&fa),
        "--out",
        path_str(&d.path().join("o")),
        "--k",
        "2",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("k must be from 3 to 7, not 2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn failed_run_keeps_earlier_outputs_whole() {
    let d = tmp();
    let (fa, _) = reads_fasta(d.path(), 30, 8);
    let out = d.path().join("out");
    let mut args = vec!["run", path_str(&fa), "--out", path_str(&out), "-q"];
    args.extend_from_slice(FAST);
    assert!(binscape(&args).status.success());
    let before = std::fs::read_to_string(out.join("assignments.tsv")).unwrap();
    // A second run into the same folder on a broken file fails and leaves the first intact.
    let bad = file(&d, "bad.fq", b"@r1\nACGT\n+\nII\n");
    let o = binscape(&["run", path_str(&bad), "--out", path_str(&out)]);
    assert!(!o.status.success());
    assert_eq!(
        before,
        std::fs::read_to_string(out.join("assignments.tsv")).unwrap()
    );
    assert!(out.join("bins").join("unbinned.fasta").exists());
}
