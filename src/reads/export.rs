//! Export: FASTA of chosen reads (full original headers and sequences, re-read from the source)
//! and atomic writes so that no half-written file is ever left under its final name.
use super::{ReadIndex, for_each_record};
use crate::error::{Error, Result};
use crate::progress::Progress;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `path` through `write` into a temporary sibling, then renames it into place; on any
/// error the temporary file is removed and an existing `path` is left untouched.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let tmp = tmp_name(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::write(path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::write(path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::write(path, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::write(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A temporary sibling of `path`, new for every call: two writes of one path at once (two
/// exports from the explorer, parallel tests) must not share a temporary file, or one removes
/// or interleaves with the other's. The pid keeps other processes apart.
fn tmp_name(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}-{n}", std::process::id()))
}

/// Writes one FASTA per group in a single pass over the source file: `groups[g]` is the output
/// path of group `g`, `group_of[row]` the group of each read (None: not exported).
pub fn export_fasta(
    index: &ReadIndex,
    group_of: &[Option<usize>],
    groups: &[PathBuf],
    progress: &Progress,
) -> Result<()> {
    assert_eq!(group_of.len(), index.len());
    // Record number -> row, so skipped records (not rows) are passed over.
    let row_of_record = index.row_of_record();
    let tmps: Vec<PathBuf> = groups.iter().map(|p| tmp_name(p)).collect();
    let result = (|| {
        let mut writers = Vec::with_capacity(groups.len());
        for (p, t) in groups.iter().zip(&tmps) {
            let f = File::create(t).map_err(|e| Error::write(p, e))?;
            writers.push(BufWriter::with_capacity(256 << 10, f));
        }
        let total = group_of.iter().filter(|g| g.is_some()).count() as u64;
        progress.start("exporting FASTA", total.max(1));
        let mut done = 0u64;
        for_each_record(index, progress, |rec, header, seq| {
            let group = row_of_record
                .get(rec as usize)
                .copied()
                .flatten()
                .and_then(|r| group_of[r as usize]);
            if let Some(g) = group {
                let w = &mut writers[g];
                let res = (|| {
                    w.write_all(b">")?;
                    w.write_all(header)?;
                    w.write_all(b"\n")?;
                    for line in seq.chunks(80) {
                        w.write_all(line)?;
                        w.write_all(b"\n")?;
                    }
                    Ok::<_, std::io::Error>(())
                })();
                res.map_err(|e| Error::write(&groups[g], e))?;
                done += 1;
                if done.is_multiple_of(1024) {
                    progress.set(done);
                }
            }
            Ok(())
        })?;
        for (w, p) in writers.into_iter().zip(groups) {
            let f = w
                .into_inner()
                .map_err(|e| Error::write(p, e.into_error()))?;
            f.sync_all().map_err(|e| Error::write(p, e))?;
        }
        for (t, p) in tmps.iter().zip(groups) {
            std::fs::rename(t, p).map_err(|e| Error::write(p, e))?;
        }
        progress.set(total.max(1));
        Ok(())
    })();
    if result.is_err() {
        for t in &tmps {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_of_a_path_has_its_own_temporary_file() {
        let p = Path::new("/some/dir/out.fasta");
        let (a, b) = (tmp_name(p), tmp_name(p));
        assert_ne!(a, b);
        assert_eq!(
            a.parent(),
            p.parent(),
            "the rename must stay on one file system"
        );
    }

    #[test]
    fn writes_of_one_path_at_once_each_leave_a_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let (a_started, wait_a) = crossbeam_channel::bounded::<()>(0);
        let (b_done, wait_b) = crossbeam_channel::bounded::<()>(0);
        std::thread::scope(|s| {
            // A opens its temporary file, then B writes and renames whole, then A finishes.
            let a = s.spawn(|| {
                write_atomically(&path, |w| {
                    w.write_all(b"first\n").unwrap();
                    a_started.send(()).unwrap();
                    wait_b.recv().unwrap();
                    w.write_all(b"first again\n").unwrap();
                    Ok(())
                })
            });
            wait_a.recv().unwrap();
            write_atomically(&path, |w| {
                w.write_all(b"second\n").map_err(|e| Error::write(&path, e))
            })
            .unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "second\n");
            b_done.send(()).unwrap();
            a.join().unwrap().unwrap();
        });
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "first\nfirst again\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
