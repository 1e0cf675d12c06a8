//! Library error type: every variant names the file and, where there is one, the record.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{path}: record {record}{id}: {reason}")]
    Record {
        path: PathBuf,
        /// 1-based record (read) number in the file.
        record: u64,
        /// `" (id 'x')"` or empty, so the message reads naturally either way.
        id: String,
        reason: String,
    },
    #[error("{path}: line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("training failed: {0}")]
    Training(String),
    #[error("invalid setting: {0}")]
    Settings(String),
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn record(
        path: &std::path::Path,
        record: u64,
        id: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Record {
            path: path.to_path_buf(),
            record,
            id: id
                .map(|i| format!(" (id '{}')", printable(i)))
                .unwrap_or_default(),
            reason: reason.into(),
        }
    }
    pub fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Training(e.to_string())
    }
}

/// `s` as it can be shown on one terminal line: control and replacement characters (binary
/// garbage read as an id) escaped, and at most 60 characters.
pub fn printable(s: &str) -> String {
    const MAX: usize = 60;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() || c == char::REPLACEMENT_CHARACTER {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn binary_ids_are_escaped_and_cut() {
        let e = super::Error::record(
            std::path::Path::new("r.fq"),
            3,
            Some("a\u{1}\u{fffd}b"),
            "bad",
        );
        let m = e.to_string();
        assert!(m.contains("(id 'a\\u{1}\\u{fffd}b')"), "{m}");
        let long = "x".repeat(500);
        let m =
            super::Error::record(std::path::Path::new("r.fq"), 1, Some(&long), "bad").to_string();
        assert!(m.len() < 120 && m.contains('…'), "{m}");
    }
}
