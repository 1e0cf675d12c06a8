//! Reading FASTA/FASTQ (plain or gzipped) in one streaming pass, the per-read index, ground-truth
//! labels, and FASTA/TSV export.
mod export;
mod labels;

pub use export::{export_fasta, write_atomically};
pub use labels::{Labels, load_labels};

use crate::error::{Error, Result};
use crate::features::{COVERAGE_BINS, KmerCounts, KmerTable, Matrix, gc_fraction};
use crate::pipeline::Progress;
use needletail::errors::ParseErrorKind;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What is kept per read: never the sequence itself (export re-reads the file).
#[derive(Clone, Debug, Default)]
pub struct ReadIndex {
    pub path: PathBuf,
    /// First word of each header.
    pub ids: Vec<String>,
    pub lengths: Vec<u32>,
    /// GC fraction (0..1) of the ACGT bases.
    pub gc: Vec<f32>,
    /// Byte offset of the record in the (decompressed) stream.
    pub offsets: Vec<u64>,
    /// 0-based record number in the file (differs from the row when reads were skipped).
    pub records: Vec<u64>,
    /// Reads left out because they had no valid k-mer (only with `skip_invalid`): (record, id).
    pub skipped: Vec<(u64, String)>,
}

impl ReadIndex {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn total_bases(&self) -> u64 {
        self.lengths.iter().map(|&l| l as u64).sum()
    }
    /// Record number in the file -> row, `None` for records that were left out (skipped).
    pub fn row_of_record(&self) -> Vec<Option<u32>> {
        let n_records = self.records.last().map(|&r| r as usize + 1).unwrap_or(0);
        let mut rows = vec![None; n_records];
        for (row, &r) in self.records.iter().enumerate() {
            rows[r as usize] = Some(row as u32);
        }
        rows
    }

    /// Length N50 over `rows` (or all reads when `None`).
    pub fn n50(&self, rows: Option<&[usize]>) -> u32 {
        let mut l: Vec<u32> = match rows {
            Some(r) => r.iter().map(|&i| self.lengths[i]).collect(),
            None => self.lengths.clone(),
        };
        n50(&mut l)
    }
}

/// N50 of a set of lengths: the length at which half the bases are in reads at least that long.
pub fn n50(lengths: &mut [u32]) -> u32 {
    lengths.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = lengths.iter().map(|&x| x as u64).sum();
    let mut acc = 0u64;
    for &l in lengths.iter() {
        acc += l as u64;
        if acc * 2 >= total {
            return l;
        }
    }
    0
}

/// Reads streamed in and their k-mer composition vectors (rows in read order).
#[derive(Clone, Debug)]
pub struct LoadedReads {
    pub index: ReadIndex,
    pub features: Matrix,
}

/// How many bases to buffer before handing a batch of reads to the rayon workers.
const BATCH_BASES: usize = 32 << 20;

struct Pending {
    record: u64,
    id: String,
    offset: u64,
    seq: Vec<u8>,
}

/// Opens `path`, mapping needletail's errors to ours with the file and record named.
fn open(path: &Path) -> Result<Box<dyn needletail::FastxReader>> {
    let file = std::fs::File::open(path).map_err(|e| Error::Input {
        path: path.into(),
        reason: format!("cannot open: {e}"),
    })?;
    needletail::parse_fastx_reader(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| parse_error(path, 1, e))
}

pub(crate) fn parse_error(path: &Path, record: u64, e: needletail::errors::ParseError) -> Error {
    let reason = match e.kind {
        ParseErrorKind::EmptyFile => {
            return Error::Input {
                path: path.into(),
                reason: "file is empty: no reads".into(),
            };
        }
        ParseErrorKind::UnknownFormat => {
            return Error::Input {
                path: path.into(),
                reason: "not FASTA or FASTQ: the first record must start with '>' or '@'".into(),
            };
        }
        ParseErrorKind::InvalidStart => "record does not start with '>' or '@'".to_string(),
        ParseErrorKind::InvalidSeparator => "FASTQ separator line does not start with '+'".into(),
        ParseErrorKind::UnequalLengths => "quality length differs from sequence length".into(),
        ParseErrorKind::UnexpectedEnd => "truncated record: the file ends inside it".into(),
        ParseErrorKind::Io => format!("read error (corrupt or truncated gzip?): {}", e.msg),
    };
    let id = e.position.id.as_deref().map(first_word);
    let reason = format!("{reason} (line {})", e.position.line);
    Error::record(path, record, id, reason)
}

fn first_word(header: &str) -> &str {
    header.split_ascii_whitespace().next().unwrap_or("")
}

/// What to compute per read.
#[derive(Clone, Copy, Debug)]
pub struct FeatureOptions {
    pub k: usize,
    /// Append the 15-mer coverage histogram (a second pass over the file).
    pub coverage: bool,
    pub skip_invalid: bool,
}

/// Rough number of bases in `path` from its size, to size the k-mer count table.
fn expected_bases(path: &Path, file_len: u64) -> u64 {
    let mut head = [0u8; 2];
    let _ =
        std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
    match head {
        [0x1f, 0x8b] => file_len.saturating_mul(3),
        [b'@', _] => file_len / 2,
        _ => file_len,
    }
}

/// Streams every read of `path`, computing its k-mer vector and GC in parallel, batch by batch
/// (and, with `opt.coverage`, its coverage histogram in a second pass).
///
/// Errors on unreadable/corrupt input, duplicate ids, reads shorter than k and reads without a
/// valid k-mer; with `skip_invalid` the last two are left out (listed in `index.skipped`).
pub fn load_reads(path: &Path, opt: FeatureOptions, progress: &Progress) -> Result<LoadedReads> {
    let (k, skip_invalid) = (opt.k, opt.skip_invalid);
    let table = KmerTable::new(k);
    let d = table.dims();
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let counts = opt
        .coverage
        .then(|| KmerCounts::new(expected_bases(path, file_len)));
    progress.start("reading reads and k-mer vectors", file_len.max(1));
    let mut reader = open(path)?;
    let mut index = ReadIndex {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let mut features: Vec<f32> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<Pending> = Vec::new();
    let mut batch_bases = 0usize;
    let mut record = 0u64;

    let flush =
        |batch: &mut Vec<Pending>, index: &mut ReadIndex, features: &mut Vec<f32>| -> Result<()> {
            let rows: Vec<(Vec<f32>, u64, f32)> = batch
                .par_iter()
                .map(|p| {
                    let mut v = vec![0f32; d];
                    let n = table.composition(&p.seq, &mut v);
                    if let Some(c) = &counts {
                        c.add(&p.seq);
                    }
                    (v, n, gc_fraction(&p.seq))
                })
                .collect();
            for (p, (v, nk, gc)) in batch.drain(..).zip(rows) {
                if nk == 0 {
                    let why = if p.seq.len() < k {
                        format!("read is {} bp, shorter than k = {k}", p.seq.len())
                    } else {
                        "read has no valid k-mer (no run of k A/C/G/T bases)".to_string()
                    };
                    if skip_invalid {
                        index.skipped.push((p.record, p.id));
                        continue;
                    }
                    return Err(Error::record(
                        path,
                        p.record + 1,
                        Some(&p.id),
                        format!("{why}; use --skip-invalid to leave such reads out"),
                    ));
                }
                index.ids.push(p.id);
                index.lengths.push(p.seq.len() as u32);
                index.gc.push(gc);
                index.offsets.push(p.offset);
                index.records.push(p.record);
                features.extend_from_slice(&v);
            }
            Ok(())
        };

    while let Some(rec) = reader.next() {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let rec = rec.map_err(|e| parse_error(path, record + 1, e))?;
        let header = String::from_utf8_lossy(rec.id());
        let id = first_word(&header).to_string();
        if id.is_empty() {
            return Err(Error::record(path, record + 1, None, "empty read id"));
        }
        if let Some(prev) = seen.insert(id.clone(), record) {
            return Err(Error::record(
                path,
                record + 1,
                Some(&id),
                format!("duplicate read id: record {} has the same id", prev + 1),
            ));
        }
        let seq = rec.seq().into_owned();
        let offset = rec.position().byte();
        batch_bases += seq.len();
        batch.push(Pending {
            record,
            id,
            offset,
            seq,
        });
        record += 1;
        if batch_bases >= BATCH_BASES {
            flush(&mut batch, &mut index, &mut features)?;
            batch_bases = 0;
            // Compressed input: the decompressed offset over-runs the file size; clamp.
            progress.set(offset.min(file_len));
        }
    }
    flush(&mut batch, &mut index, &mut features)?;
    progress.set(file_len.max(1));
    if index.is_empty() {
        return Err(Error::Input {
            path: path.into(),
            reason: if record == 0 {
                "file is empty: no reads".into()
            } else {
                format!("none of the {record} reads has a valid k-mer")
            },
        });
    }
    let n = index.len();
    let mut features = Matrix::new(n, d, features);
    if let Some(c) = &counts {
        let cov = coverage_pass(&index, c, progress)?;
        features = features.hstack(&cov);
    }
    Ok(LoadedReads { index, features })
}

/// Second pass: every read's coverage histogram against the finished counts.
fn coverage_pass(index: &ReadIndex, counts: &KmerCounts, progress: &Progress) -> Result<Matrix> {
    let n = index.len();
    let mut out = vec![0f32; n * COVERAGE_BINS];
    rows_pass(
        index,
        None,
        "k-mer coverage histograms",
        progress,
        |seq| {
            let mut h = vec![0f32; COVERAGE_BINS];
            counts.histogram(seq, &mut h);
            h
        },
        |row, h| out[row * COVERAGE_BINS..(row + 1) * COVERAGE_BINS].copy_from_slice(&h),
    )?;
    Ok(Matrix::new(n, COVERAGE_BINS, out))
}

/// Re-reads the reads where `wanted[row]` and hands `sink(row, vector)` each one's k-mer
/// composition, in file order; the vectors are computed in parallel batches and never all held.
pub fn composition_pass(
    index: &ReadIndex,
    wanted: &[bool],
    k: usize,
    stage: &str,
    progress: &Progress,
    mut sink: impl FnMut(usize, &[f32]),
) -> Result<()> {
    let table = KmerTable::new(k);
    rows_pass(
        index,
        Some(wanted),
        stage,
        progress,
        |seq| {
            let mut v = vec![0f32; table.dims()];
            table.composition(seq, &mut v);
            v
        },
        |row, v| sink(row, &v),
    )
}

/// Another pass over the reads file: `compute(seq)` for every read (every row, or those where
/// `wanted[row]`) in parallel batches, handed to `sink(row, value)` in file order.
fn rows_pass<T: Send>(
    index: &ReadIndex,
    wanted: Option<&[bool]>,
    stage: &str,
    progress: &Progress,
    compute: impl Fn(&[u8]) -> T + Sync,
    mut sink: impl FnMut(usize, T),
) -> Result<()> {
    let total = wanted.map_or(index.len(), |w| w.iter().filter(|&&x| x).count()) as u64;
    progress.start(stage, total.max(1));
    let row_of_record = index.row_of_record();
    let mut batch: Vec<(u32, Vec<u8>)> = Vec::new();
    let (mut bases, mut done) = (0usize, 0u64);
    let mut flush = |batch: &mut Vec<(u32, Vec<u8>)>| {
        let rows: Vec<(u32, T)> = batch
            .par_drain(..)
            .map(|(row, seq)| (row, compute(&seq)))
            .collect();
        for (row, v) in rows {
            sink(row as usize, v);
        }
    };
    for_each_record(&index.path, progress, |rec, _, seq| {
        if let Some(&Some(row)) = row_of_record.get(rec as usize)
            && wanted.is_none_or(|w| w.get(row as usize).copied().unwrap_or(false))
        {
            bases += seq.len();
            batch.push((row, seq.to_vec()));
            done += 1;
            if bases >= BATCH_BASES {
                flush(&mut batch);
                bases = 0;
                progress.set(done);
            }
        }
        Ok(())
    })?;
    flush(&mut batch);
    progress.set(total.max(1));
    Ok(())
}

/// Calls `f(record_number, header, seq)` for every record of `path`, in file order.
pub(crate) fn for_each_record(
    path: &Path,
    progress: &Progress,
    mut f: impl FnMut(u64, &[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut reader = open(path)?;
    let mut record = 0u64;
    while let Some(rec) = reader.next() {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let rec = rec.map_err(|e| parse_error(path, record + 1, e))?;
        f(record, rec.id(), &rec.seq())?;
        record += 1;
    }
    Ok(())
}

/// The bundled demo reads and labels (a slice of the dev set), unpacked once into the temp
/// folder: export re-reads the reads file, so it must exist on disk.
pub fn demo_files() -> Result<(PathBuf, PathBuf)> {
    const READS: &[u8] = include_bytes!("../../assets/demo.fasta.gz");
    const LABELS: &[u8] = include_bytes!("../../assets/demo.labels.tsv");
    let dir = std::env::temp_dir().join(format!("binscape-demo-{}", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    let (r, l) = (dir.join("demo.fasta.gz"), dir.join("demo.labels.tsv"));
    for (p, bytes) in [(&r, READS), (&l, LABELS)] {
        if std::fs::read(p).map(|b| b != bytes).unwrap_or(true) {
            write_atomically(p, |w| {
                std::io::Write::write_all(w, bytes).map_err(|e| Error::write(p, e))
            })?;
        }
    }
    Ok((r, l))
}
