//! Output files: atomic replacement of regular files (temp file beside the target, then
//! rename), direct writes to devices and pipes, and the check that an output is not an input.
//!
//! - A new file is created with mode `0666` less the process umask, like `>` in a shell.
//! - An existing regular file keeps its mode (and, where permitted, its owner); a symlink to a
//!   regular file is followed, so the link stays a link and its target is replaced.
//! - A character or block device, a FIFO or a socket (`/dev/null`, `/dev/stdout` on a pipe,
//!   `>(gzip > f.gz)`) is opened and written directly: renaming over it would replace it.
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Fails with [`Error::OutputIsInput`] when `output` is the same regular file (device and
/// inode) as one of `inputs`; a new path, a device or FIFO, or `-` never is.
pub fn ensure_not_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    if output.as_os_str() == "-" {
        return Ok(());
    }
    // Only an existing regular file can be an input destroyed by writing it.
    let Some(out_meta) = std::fs::metadata(output).ok().filter(|m| m.is_file()) else {
        return Ok(());
    };
    for input in inputs {
        if input.as_os_str() == "-" {
            continue;
        }
        let Ok(in_meta) = std::fs::metadata(input) else {
            continue;
        };
        if same_file(&out_meta, &in_meta) {
            return Err(Error::OutputIsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// Writes `path`: regular files and new paths atomically (`write` fills a temporary file in
/// the same directory, which is renamed over the target only when `write` succeeded, so on
/// failure the previous file is untouched); devices, FIFOs and sockets directly.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = &existing {
        if !meta.is_file() {
            if meta.is_dir() {
                return Err(Error::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
                ));
            }
            return write_direct(path, write);
        }
    }
    let out = AtomicFile::create(path)?;
    {
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, out.file());
        write(&mut buf)?;
        buf.flush().map_err(|e| Error::io(path, e))?;
    }
    out.commit()
}

/// A regular file being replaced atomically: a temporary file beside the target (mode `0666`
/// less the umask), renamed over it by [`AtomicFile::commit`] with the existing file's mode
/// and owner; dropped without a commit, it is removed and the target is untouched.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    shown: PathBuf,
    existing: Option<std::fs::Metadata>,
}

impl AtomicFile {
    /// Starts replacing `path` (a regular file, a symlink to one, or a new path).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let existing = std::fs::metadata(path).ok().filter(|m| m.is_file());
        // Follow a symlink to its target so the link itself stays in place.
        let target: PathBuf = match (&existing, std::fs::symlink_metadata(path)) {
            (Some(_), Ok(l)) if l.file_type().is_symlink() => {
                std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?
            }
            _ => path.to_path_buf(),
        };
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".ltv-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The kernel applies the umask to this mode, as for any new file.
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(AtomicFile {
            tmp,
            target,
            shown: path.to_path_buf(),
            existing,
        })
    }

    /// The temporary file to write.
    pub fn file(&self) -> &std::fs::File {
        self.tmp.as_file()
    }

    /// Gives the file the replaced file's mode (and owner where permitted), syncs it and
    /// renames it over the target.
    pub fn commit(self) -> Result<()> {
        let path = &self.shown;
        #[cfg(unix)]
        if let Some(meta) = &self.existing {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let mode = std::fs::Permissions::from_mode(meta.mode() & 0o7777);
            self.tmp
                .as_file()
                .set_permissions(mode)
                .map_err(|e| Error::io(path, e))?;
            // Keep the owner where permitted (root); others cannot give files away.
            let _ =
                std::os::unix::fs::fchown(self.tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
        }
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(path, e))?;
        self.tmp
            .persist(&self.target)
            .map_err(|e| Error::io(path, e.error))?;
        Ok(())
    }
}

/// Writes a device, FIFO or socket in place.
fn write_direct<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let mut buf = std::io::BufWriter::with_capacity(1 << 20, file);
    write(&mut buf)?;
    buf.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, |w| w.write_all(b"old").map_err(|e| Error::io("x", e))).unwrap();
        let r = write_atomic(&p, |w| {
            w.write_all(b"partial").map_err(|e| Error::io("x", e))?;
            Err(Error::NotEnoughData("boom".into()))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "temp file must be cleaned up");
    }
}
