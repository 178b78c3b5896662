//! Files written whole or not at all: every output, saved index and saved
//! model goes through [`AtomicFile`].

use std::ffi::OsString;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A file written whole or not at all.
///
/// The bytes go to a temporary file beside the target (its folder created
/// if missing), which replaces the target only on [`AtomicFile::commit`],
/// after everything was written and synced to disk; the folder is synced
/// too, so the rename survives a crash. Dropped without a commit (an error,
/// a panic), it removes the temporary file and leaves the target as it
/// was. A symbolic link is followed, so that the file it names is replaced,
/// not the link. A target that exists and is not a regular file
/// (`/dev/null`, a pipe, a terminal) is written into directly: renaming
/// over it would replace the device with a file.
///
/// ```
/// use std::io::Write;
/// use wirecluster::AtomicFile;
/// let dir = std::env::temp_dir().join(format!("wirecluster-doc-atomic-{}", std::process::id()));
/// let path = dir.join("out.jsonl");
/// let mut f = AtomicFile::create(&path)?;
/// f.write_all(b"{\"id\": 1}\n").map_err(|e| wirecluster::Error::Io { path: path.clone(), source: e })?;
/// assert!(!path.exists(), "nothing is visible before the commit");
/// f.commit()?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"id\": 1}\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), wirecluster::Error>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    /// The file replaced (links resolved).
    path: PathBuf,
    /// The temporary file, when the target is replaced by renaming.
    tmp: Option<PathBuf>,
    file: Option<BufWriter<std::fs::File>>,
}

/// `path`, or the file it names when it is a symbolic link (followed up to
/// 40 links, relative links from the link's folder; a link to a file that
/// does not exist yet names that file).
fn resolve_links(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(target) => {
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                }
            }
            Err(_) => break,
        }
    }
    p
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl AtomicFile {
    /// Starts writing `path`; nothing is visible there before
    /// [`Self::commit`].
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = Error::io(path);
        let target = resolve_links(path);
        if let Ok(meta) = std::fs::metadata(&target)
            && !meta.is_file()
        {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(io)?;
            return Ok(AtomicFile {
                path: target,
                tmp: None,
                file: Some(BufWriter::new(file)),
            });
        }
        let name = target.file_name().ok_or_else(|| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file name",
            ))
        })?;
        std::fs::create_dir_all(folder_of(&target)).map_err(io)?;
        // A name of its own per process and file, so that two writers never
        // share a temporary file.
        static FILES: AtomicU64 = AtomicU64::new(0);
        let n = FILES.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        let file = std::fs::File::create(&tmp).map_err(io)?;
        Ok(AtomicFile {
            path: target,
            tmp: Some(tmp),
            file: Some(BufWriter::new(file)),
        })
    }

    /// Whether the target is replaced by renaming (a regular file, or none
    /// yet), rather than written into directly.
    pub fn replaces(&self) -> bool {
        self.tmp.is_some()
    }

    /// Flushes and syncs the temporary file, renames it over the target and
    /// syncs the folder.
    pub fn commit(mut self) -> Result<()> {
        let path = self.path.clone();
        let io = Error::io(&path);
        let file = self.file.take().expect("an AtomicFile is committed once");
        let file = file.into_inner().map_err(|e| io(e.into_error()))?;
        if let Some(tmp) = &self.tmp {
            file.sync_all().map_err(io)?;
            drop(file);
            std::fs::rename(tmp, &self.path).map_err(io)?;
            std::fs::File::open(folder_of(&self.path))
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    /// `e` with the target's name in front (built only on an error: the
    /// writes themselves are many and small).
    fn name_error(&self, e: std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
    }

    fn writer(&mut self) -> &mut BufWriter<std::fs::File> {
        self.file
            .as_mut()
            .expect("an AtomicFile is not written after its commit")
    }
}

impl Write for AtomicFile {
    /// Writes to the temporary file; an error names the target.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.writer().write(buf);
        result.map_err(|e| self.name_error(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let result = self.writer().write_all(buf);
        result.map_err(|e| self.name_error(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.writer().flush();
        result.map_err(|e| self.name_error(e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some()
            && let Some(tmp) = &self.tmp
        {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("wirecluster-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn leftovers(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one_and_no_temporary() {
        let d = dir("drop");
        let p = d.join("out.txt");
        std::fs::write(&p, "old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"new, half written").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(leftovers(&d), ["out.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_followed_and_stays_a_link() {
        let d = dir("link");
        let real = d.join("real.txt");
        std::fs::write(&real, "old").unwrap();
        let link = d.join("link.txt");
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        let mut f = AtomicFile::create(&link).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(leftovers(&d), ["link.txt", "real.txt"]);
    }

    #[test]
    fn missing_folders_are_created() {
        let d = dir("mkdir");
        let p = d.join("a/b/out.txt");
        let mut f = AtomicFile::create(&p).unwrap();
        assert!(f.replaces());
        f.write_all(b"x").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x");
    }

    #[test]
    fn a_device_is_written_into_not_replaced() {
        let f = AtomicFile::create("/dev/null").unwrap();
        assert!(!f.replaces());
        f.commit().unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null is still a device");
    }
}
