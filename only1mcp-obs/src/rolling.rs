//! A file that rotates by size: `app.log` -> `app.log.1` (-> `.1.gz` when compressing) ...,
//! keeping a bounded number of files and, optionally, only files younger than some days.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How a [`RollingFile`] rotates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollingPolicy {
    /// Rotate before a write would take the file past this size.
    pub max_bytes: u64,
    /// Rotated files kept (`app.log.1` .. `app.log.N`).
    pub max_files: usize,
    /// Gzip rotated files.
    pub compress: bool,
    /// Delete rotated files older than this.
    pub retention: Option<Duration>,
    /// Create files `0600` and directories `0700` (audit logs), whatever the umask.
    pub private: bool,
}

/// An append-only file rotated by size.
#[derive(Debug)]
pub struct RollingFile {
    path: PathBuf,
    file: File,
    size: u64,
    policy: RollingPolicy,
}

pub(crate) fn open_append(path: &Path, private: bool) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    if private {
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates the directory `path` lives in (`0700` when `private`), with its parents.
pub(crate) fn create_parent(path: &Path, private: bool) -> io::Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    if private {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display())))
}

impl RollingFile {
    /// Opens (creating directories and the file) for appending.
    pub fn open(path: impl Into<PathBuf>, policy: RollingPolicy) -> io::Result<Self> {
        let path = path.into();
        create_parent(&path, policy.private)?;
        let file = open_append(&path, policy.private).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
        })?;
        let size = file.metadata()?.len();
        let rolling = RollingFile {
            path,
            file,
            size,
            policy,
        };
        rolling.apply_retention();
        Ok(rolling)
    }

    /// The current file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The underlying file (for `sync_data`).
    pub fn file(&self) -> &File {
        &self.file
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn gz(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".gz");
        PathBuf::from(name)
    }

    /// Moves the current file to `.1` (shifting older ones), and starts a new one.
    pub fn rotate(&mut self) -> io::Result<()> {
        self.file.sync_all()?;
        let keep = self.policy.max_files;
        for n in (1..=keep.max(1)).rev() {
            for from in [self.rotated(n), Self::gz(&self.rotated(n))] {
                if !from.exists() {
                    continue;
                }
                if n >= keep {
                    std::fs::remove_file(&from)?;
                } else {
                    let to = if from.extension().is_some_and(|e| e == "gz") {
                        Self::gz(&self.rotated(n + 1))
                    } else {
                        self.rotated(n + 1)
                    };
                    std::fs::rename(&from, to)?;
                }
            }
        }
        if keep > 0 {
            let first = self.rotated(1);
            std::fs::rename(&self.path, &first)?;
            if self.policy.compress {
                compress(&first)?;
            }
        } else {
            std::fs::remove_file(&self.path)?;
        }
        self.file = open_append(&self.path, self.policy.private)?;
        self.size = 0;
        self.apply_retention();
        Ok(())
    }

    /// Deletes rotated files older than the retention period.
    fn apply_retention(&self) {
        let Some(retention) = self.policy.retention else {
            return;
        };
        let cutoff = SystemTime::now()
            .checked_sub(retention)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        for n in 1..=self.policy.max_files.max(1) {
            for path in [self.rotated(n), Self::gz(&self.rotated(n))] {
                let old = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < cutoff);
                if old {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

fn compress(path: &Path) -> io::Result<()> {
    let input = std::fs::read(path)?;
    let target = RollingFile::gz(path);
    let mut encoder =
        flate2::write::GzEncoder::new(File::create(&target)?, flate2::Compression::default());
    encoder.write_all(&input)?;
    encoder.finish()?.sync_all()?;
    std::fs::remove_file(path)
}

impl Write for RollingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.policy.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
