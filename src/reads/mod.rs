//! Reading FASTA/FASTQ (plain or gzipped) in one streaming pass, the per-read index, ground-truth
//! labels, and FASTA/TSV export.
mod export;
mod labels;

pub use export::{export_fasta, write_atomically};
pub use labels::{Labels, load_labels};

use crate::error::{Error, Result};
use crate::features::{COVERAGE_BINS, KmerCounts, KmerTable, Matrix, gc_fraction};
use crate::progress::Progress;
use needletail::errors::ParseErrorKind;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What is kept per read: never the sequence itself (export re-reads the file).
#[derive(Clone, Debug, Default)]
pub struct ReadIndex {
    pub path: PathBuf,
    /// First word of each header.
    pub ids: Vec<String>,
    pub lengths: Vec<u32>,
    /// GC fraction (0..1) of the ACGT bases.
    pub gc: Vec<f32>,
    /// Per read, the 90th percentile of its sampled 15-mers' counts in the sample (saturating
    /// at 255): the depth of its error-free 15-mers, a coverage estimate (and what tells a phage
    /// or plasmid many times deeper than its bin from the bin's genome); empty without the
    /// coverage features.
    pub kmer_depth: Vec<u8>,
    /// Byte offset of the record in the (decompressed) stream.
    pub offsets: Vec<u64>,
    /// 0-based record number in the file (differs from the row when reads were skipped).
    pub records: Vec<u64>,
    /// Reads left out because they had no valid k-mer (only with `skip_invalid`): (record, id).
    pub skipped: Vec<(u64, String)>,
    /// A copy of input that cannot be read twice (standard input, a pipe): later passes and
    /// export read this file, removed when the last clone of the index is dropped.
    pub spool: Option<Arc<tempfile::TempPath>>,
}

impl ReadIndex {
    /// The file to re-read the reads from: the input itself, or its spooled copy.
    pub fn source(&self) -> &Path {
        self.spool.as_deref().map_or(&self.path, |t| t.as_ref())
    }
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

#[cfg(test)]
impl ReadIndex {
    /// `n` reads `r0`, `r1`, … of 1 000 bp at GC 0.5, for unit tests.
    pub(crate) fn uniform(n: usize) -> ReadIndex {
        ReadIndex {
            path: "/data/reads.fa".into(),
            ids: (0..n).map(|i| format!("r{i}")).collect(),
            lengths: vec![1000; n],
            gc: vec![0.5; n],
            offsets: vec![0; n],
            records: (0..n as u64).collect(),
            ..Default::default()
        }
    }
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

/// How the input is stored, from its first bytes (for the messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Packing {
    Plain,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Packing {
    fn sniff(path: &Path) -> Packing {
        let mut head = [0u8; 6];
        let n = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .unwrap_or(0);
        match &head[..n.min(6)] {
            [0x1f, 0x8b, ..] => Packing::Gzip,
            [b'B', b'Z', b'h', ..] => Packing::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0] => Packing::Xz,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Packing::Zstd,
            _ => Packing::Plain,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Packing::Plain => "plain",
            Packing::Gzip => "gzip",
            Packing::Bzip2 => "bzip2",
            Packing::Xz => "xz",
            Packing::Zstd => "zstd",
        }
    }
    /// For gzip (the common case, and our own dependency), a full decompression that names
    /// what is wrong with the stream, if anything: a parse error in a damaged stream is only a
    /// symptom of it.
    fn damage(self, path: &Path) -> Option<String> {
        if self != Packing::Gzip {
            return None;
        }
        let f = std::fs::File::open(path).ok()?;
        let mut d = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        match std::io::copy(&mut d, &mut std::io::sink()) {
            Ok(_) => None,
            Err(e) => Some(format!(
                "corrupt or truncated gzip stream ({e}); re-copy or re-compress the file"
            )),
        }
    }
}

/// Opens `path` (a regular file), mapping needletail's errors to ours with the file named.
fn open(path: &Path, shown: &Path) -> Result<Box<dyn needletail::FastxReader>> {
    let file = std::fs::File::open(path).map_err(|e| Error::Input {
        path: shown.into(),
        reason: format!("cannot open: {e}"),
    })?;
    needletail::parse_fastx_reader(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| parse_error(path, shown, 1, e))
}

/// Our error for needletail's error `e` at `record` of `path` (named `shown` to the user).
pub(crate) fn parse_error(
    path: &Path,
    shown: &Path,
    record: u64,
    e: needletail::errors::ParseError,
) -> Error {
    let packing = Packing::sniff(path);
    let whole = |reason: String| Error::Input {
        path: shown.into(),
        reason,
    };
    if let Some(d) = packing.damage(path) {
        return whole(d);
    }
    let reason = match e.kind {
        ParseErrorKind::EmptyFile => {
            let raw = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            return whole(match packing {
                _ if raw < 2 => "file is empty: no reads".into(),
                Packing::Plain => "file is too short to hold a read".into(),
                p => format!(
                    "the {} stream holds no data (an empty or truncated compressed file)",
                    p.name()
                ),
            });
        }
        ParseErrorKind::UnknownFormat => {
            return whole("not FASTA or FASTQ: the first record must start with '>' or '@'".into());
        }
        ParseErrorKind::InvalidStart => match (
            e.format,
            e.msg.contains("found '>") || e.msg.contains("found '@"),
        ) {
            (Some(f), true) => format!(
                "record starts with '{}' but the file is {} (its first record starts with '{}'): FASTA and FASTQ records are mixed",
                if f.start_char() == '@' { '>' } else { '@' },
                if f.start_char() == '@' {
                    "FASTQ"
                } else {
                    "FASTA"
                },
                f.start_char()
            ),
            (Some(f), false) => format!(
                "record does not start with '{}' (the file is {}): a line of the previous record may be missing or extra",
                f.start_char(),
                if f.start_char() == '@' {
                    "FASTQ"
                } else {
                    "FASTA"
                },
            ),
            (None, _) => "record does not start with '>' or '@'".into(),
        },
        ParseErrorKind::InvalidSeparator => "FASTQ separator line does not start with '+'".into(),
        ParseErrorKind::UnequalLengths => "quality length differs from sequence length".into(),
        ParseErrorKind::UnexpectedEnd => "truncated record: the file ends inside it".into(),
        ParseErrorKind::Io => match packing {
            Packing::Plain => format!("read error: {}", e.msg),
            p => format!(
                "read error in the {} stream (corrupt or truncated?): {}",
                p.name(),
                e.msg
            ),
        },
    };
    let id = e.position.id.as_deref().map(first_word);
    let reason = match e.position.line {
        0 => reason,
        l => format!("{reason} (line {l})"),
    };
    Error::record(shown, record, id, reason)
}

fn first_word(header: &str) -> &str {
    header.split_ascii_whitespace().next().unwrap_or("")
}

/// What to compute per read.
#[derive(Clone, Copy, Debug)]
pub struct FeatureOptions {
    pub k: usize,
    /// Append the 15-mer coverage histogram (from the same pass: sampled keys kept in memory).
    pub coverage: bool,
    pub skip_invalid: bool,
}

/// Most bases a file of `file_len` bytes can hold, to size the k-mer count table before the
/// first pass; the table is then folded to the size the reads themselves call for (see
/// [`KmerCounts::settle`]), so the counts do not depend on how the reads are stored.
fn most_bases(path: &Path, file_len: u64) -> u64 {
    match Packing::sniff(path) {
        // FASTQ (quality as long as the sequence) and FASTA hold at most one base per byte;
        // DNA text rarely compresses beyond 5×; beyond that the table is counted again.
        Packing::Plain => file_len,
        _ => file_len.saturating_mul(5),
    }
}

/// Where the reads are read from: a regular file in place; standard input (`-`), a pipe or a
/// FIFO can be read only once, so it is first copied to a temporary file (removed with the
/// index) that the later passes and export re-read.
fn resolve(path: &Path, progress: &Progress) -> Result<(PathBuf, Option<Arc<tempfile::TempPath>>)> {
    let input_err = |reason: String| Error::Input {
        path: path.into(),
        reason,
    };
    let stdin = path.as_os_str() == "-";
    if !stdin {
        let m = std::fs::metadata(path).map_err(|e| input_err(format!("cannot open: {e}")))?;
        if m.is_dir() {
            return Err(input_err("is a folder, not a FASTA/FASTQ file".into()));
        }
        if m.is_file() {
            return Ok((path.to_path_buf(), None));
        }
    } else if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(input_err(
            "standard input is a terminal: pipe the reads in (e.g. `zcat reads.fq.gz | binscape run - …`) or name a file".into(),
        ));
    }
    progress.start("copying the input stream to a temporary file", 1);
    let mut tmp = tempfile::Builder::new()
        .prefix("binscape-input-")
        .tempfile()
        .map_err(|e| input_err(format!("cannot make a temporary copy of the stream: {e}")))?;
    let copied = if stdin {
        std::io::copy(&mut std::io::stdin().lock(), tmp.as_file_mut())
    } else {
        std::fs::File::open(path).and_then(|mut f| std::io::copy(&mut f, tmp.as_file_mut()))
    };
    copied.map_err(|e| {
        input_err(format!(
            "cannot copy the stream to {}: {e}",
            tmp.path().display()
        ))
    })?;
    if progress.cancelled() {
        return Err(Error::Cancelled);
    }
    let spool = tmp.into_temp_path();
    Ok((spool.to_path_buf(), Some(Arc::new(spool))))
}

/// Streams every read of `path`, computing its k-mer vector and GC in parallel, batch by batch
/// (and, with `opt.coverage`, its coverage histogram once every read has been counted).
///
/// Errors on unreadable/corrupt input, duplicate ids, reads shorter than k and reads without a
/// valid k-mer; with `skip_invalid` the last two are left out (listed in `index.skipped`).
pub fn load_reads(path: &Path, opt: FeatureOptions, progress: &Progress) -> Result<LoadedReads> {
    let (k, skip_invalid) = (opt.k, opt.skip_invalid);
    let table = KmerTable::new(k);
    let d = table.dims();
    let (src, spool) = resolve(path, progress)?;
    let file_len = std::fs::metadata(&src).map(|m| m.len()).unwrap_or(0);
    let mut counts = opt
        .coverage
        .then(|| KmerCounts::new(most_bases(&src, file_len)));
    progress.start("reading reads and k-mer vectors", file_len.max(1));
    let mut reader = open(&src, path)?;
    let mut index = ReadIndex {
        path: path.to_path_buf(),
        spool,
        ..Default::default()
    };
    let mut features: Vec<f32> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<Pending> = Vec::new();
    let mut batch_bases = 0usize;
    let mut record = 0u64;

    let coverage = counts.is_some();
    // Every read's sampled 15-mer keys, kept from the first pass for the histograms (one
    // block per batch, in row order): ~4 bytes per 32 bases, where reading the file again and
    // hashing every 15-mer again took a third of the time of the whole stage.
    let mut kept_keys: Vec<KeyBlock> = Vec::new();
    let flush = |batch: &mut Vec<Pending>,
                 index: &mut ReadIndex,
                 features: &mut Vec<f32>,
                 counts: &mut Option<KmerCounts>,
                 kept_keys: &mut Vec<KeyBlock>|
     -> Result<()> {
        let rows: Vec<(Vec<f32>, u64, f32, Vec<u32>)> = batch
            .par_iter()
            .map(|p| {
                let mut v = vec![0f32; d];
                let n = table.composition(&p.seq, &mut v);
                // A read with no valid k-mer has no valid 15-mer either: left out or not,
                // it adds nothing to the counts.
                let keys = if coverage {
                    KmerCounts::keys(&p.seq)
                } else {
                    Vec::new()
                };
                (v, n, gc_fraction(&p.seq), keys)
            })
            .collect();
        if let Some(c) = counts {
            c.add_keys(&rows.iter().map(|r| &r.3[..]).collect::<Vec<_>>());
        }
        let mut block = KeyBlock::default();
        for (p, (v, nk, gc, keys)) in batch.drain(..).zip(rows) {
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
            if coverage {
                block.keys.extend_from_slice(&keys);
                block.ends.push(block.keys.len());
            }
        }
        if coverage {
            block.keys.shrink_to_fit();
            kept_keys.push(block);
        }
        Ok(())
    };

    while let Some(rec) = reader.next() {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let rec = rec.map_err(|e| parse_error(&src, path, record + 1, e))?;
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
            flush(
                &mut batch,
                &mut index,
                &mut features,
                &mut counts,
                &mut kept_keys,
            )?;
            batch_bases = 0;
            // Compressed input: the decompressed offset over-runs the file size; clamp.
            progress.set(offset.min(file_len));
        }
    }
    flush(
        &mut batch,
        &mut index,
        &mut features,
        &mut counts,
        &mut kept_keys,
    )?;
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
    if let Some(c) = counts {
        let c = match c.settle(index.total_bases()) {
            Ok(c) => c,
            // The input held more bases than its size suggested (a very compressible file):
            // count again into a table of the right size.
            Err(size) => KmerCounts::recount(size, kept_keys.iter().map(|b| &b.keys[..])),
        };
        let (cov, depth) = coverage_histograms(&kept_keys, n, &c, progress)?;
        index.kmer_depth = depth;
        features = features.hstack(&cov);
    }
    Ok(LoadedReads { index, features })
}

/// Sampled 15-mer keys of a batch of reads, end to end, and where each read's end.
#[derive(Default)]
struct KeyBlock {
    keys: Vec<u32>,
    ends: Vec<usize>,
}

/// Every read's coverage histogram and depth against the finished counts.
fn coverage_histograms(
    blocks: &[KeyBlock],
    n: usize,
    counts: &KmerCounts,
    progress: &Progress,
) -> Result<(Matrix, Vec<u8>)> {
    progress.start("k-mer coverage histograms", n.max(1) as u64);
    let mut out = vec![0f32; n * COVERAGE_BINS];
    let mut depth = vec![0u8; n];
    let mut row = 0;
    for b in blocks {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let m = b.ends.len();
        out[row * COVERAGE_BINS..(row + m) * COVERAGE_BINS]
            .par_chunks_mut(COVERAGE_BINS)
            .zip(depth[row..row + m].par_iter_mut())
            .enumerate()
            .for_each(|(i, (h, d))| {
                let start = if i == 0 { 0 } else { b.ends[i - 1] };
                *d = counts.histogram_of(&b.keys[start..b.ends[i]], h);
            });
        row += m;
        progress.set(row as u64);
    }
    Ok((Matrix::new(n, COVERAGE_BINS, out), depth))
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
        |_, seq| {
            let mut v = vec![0f32; table.dims()];
            table.composition(seq, &mut v);
            v
        },
        |row, v| sink(row, &v),
    )
}

/// Another pass over the reads file: `compute(row, seq)` for every read (every row, or those
/// where `wanted[row]`) in parallel batches, handed to `sink(row, value)` in file order.
pub fn rows_pass<T: Send>(
    index: &ReadIndex,
    wanted: Option<&[bool]>,
    stage: &str,
    progress: &Progress,
    compute: impl Fn(usize, &[u8]) -> T + Sync,
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
            .map(|(row, seq)| (row, compute(row as usize, &seq)))
            .collect();
        for (row, v) in rows {
            sink(row as usize, v);
        }
    };
    for_each_record(index, progress, |rec, _, seq| {
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

/// Calls `f(record_number, header, seq)` for every record of the index's file, in file order.
pub(crate) fn for_each_record(
    index: &ReadIndex,
    progress: &Progress,
    mut f: impl FnMut(u64, &[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let (src, path) = (index.source(), index.path.as_path());
    let mut reader = open(src, path)?;
    let mut record = 0u64;
    while let Some(rec) = reader.next() {
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        let rec = rec.map_err(|e| parse_error(src, path, record + 1, e))?;
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
