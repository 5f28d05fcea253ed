//! Replacing a file atomically: a reader of the path sees the old file or the new one, never a
//! part of either, and a crash leaves one of the two in place.
//!
//! The one way every file of the project is written ([`AtomicFile`], [`write_atomically`]): the
//! session file of wawebd, its media outputs and wawebctl's QR files.
//!
//! 1. A new file is created in the target's own folder (so that the rename stays on one file
//!    system) by [`tempfile`]: exclusive create (`O_EXCL`, never following or reusing what
//!    someone else put there), a random name, mode 0600 (see [`MODE`]).
//! 2. The caller writes it, as a whole or streaming.
//! 3. [`AtomicFile::commit`] fsyncs it, renames it over the target, and fsyncs the folder so
//!    that the rename itself survives a crash.
//!
//! Dropped before the rename, or on any error before it, the temporary file is removed: a failed
//! write never leaves a file behind and never touches the old one.
//!
//! Why a crate of its own rather than a module of an existing one: wawebd and wawebctl both need
//! it, and wawebctl depends on nothing of the daemon's. waweb-proto is the socket protocol that
//! third-party clients build on (serde only), waweb-core does no IO, so both would have had to
//! take on a file-system dependency that has nothing to do with them. This crate depends on
//! `tempfile` alone.

use std::fmt;
use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::{Builder, NamedTempFile};

/// The mode of every file written here: readable and writable by its owner only. (Requested at
/// creation, so the process umask can only narrow it; then set with `fchmod`, so a umask that
/// takes the owner's own bits, such as 0277, does not leave a 0400 file either.)
pub const MODE: u32 = 0o600;

/// How the temporary file beside the target is named: `{prefix}{random}{suffix}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TempName<'a> {
    /// Leading part; a leading dot keeps the file out of plain listings.
    pub prefix: &'a str,
    /// Trailing part.
    pub suffix: &'a str,
    /// How many random letters and digits go between the two.
    pub random: usize,
}

impl TempName<'static> {
    /// `.wawebd-<12 random>.part`: the same length whatever the target's name, so a long file
    /// name cannot make its temporary file's name too long.
    pub const DEFAULT: TempName<'static> = TempName {
        prefix: ".wawebd-",
        suffix: ".part",
        random: 12,
    };
}

impl Default for TempName<'static> {
    fn default() -> Self {
        TempName::DEFAULT
    }
}

/// The step of an atomic write that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Creating the temporary file in the target's folder ([`Error::path`] is the folder).
    Create,
    /// Writing the temporary file (by [`write_atomically`]).
    Write,
    /// Flushing the temporary file to disk.
    Sync,
    /// Renaming it over the target ([`Error::path`] is the target).
    Rename,
    /// Flushing the folder after the rename ([`Error::path`] is the folder). The new file is
    /// complete and in place; only its survival of a crash is not assured.
    SyncDir,
}

impl Step {
    /// What was being done, for messages: `"{action} {path}"`.
    pub fn action(self) -> &'static str {
        match self {
            Step::Create => "creating a file in",
            Step::Write => "writing",
            Step::Sync | Step::SyncDir => "syncing",
            Step::Rename => "replacing",
        }
    }
}

/// Why an atomic write failed: the step, the path it concerned and the OS error.
#[derive(Debug)]
pub struct Error {
    step: Step,
    path: PathBuf,
    source: io::Error,
}

impl Error {
    fn new(step: Step, path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
        move |source| Error {
            step,
            path: path.to_owned(),
            source,
        }
    }

    /// The step that failed.
    pub fn step(&self) -> Step {
        self.step
    }

    /// What was being done, as in [`Step::action`].
    pub fn action(&self) -> &'static str {
        self.step.action()
    }

    /// The file or folder the step concerned.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the new file is complete and in place despite the error (only the folder's
    /// fsync failed, which some file systems refuse).
    pub fn is_in_place(&self) -> bool {
        self.step == Step::SyncDir
    }

    /// The OS error alone.
    pub fn into_source(self) -> io::Error {
        self.source
    }

    /// The step, the path and the OS error.
    pub fn into_parts(self) -> (Step, PathBuf, io::Error) {
        (self.step, self.path, self.source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.action(),
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A file being written that replaces `target` on [`commit`](Self::commit), and vanishes if
/// dropped before.
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts replacing (or creating) `target`, with a temporary file named as
    /// [`TempName::DEFAULT`].
    pub fn create(target: impl AsRef<Path>) -> Result<AtomicFile, Error> {
        AtomicFile::create_named(target, TempName::DEFAULT)
    }

    /// Starts replacing (or creating) `target`, with a temporary file named as `name` says.
    pub fn create_named(target: impl AsRef<Path>, name: TempName<'_>) -> Result<AtomicFile, Error> {
        let target = target.as_ref();
        let dir = folder_of(target);
        if target.file_name().is_none() {
            return Err(Error::new(Step::Create, dir)(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} has no file name", target.display()),
            )));
        }
        let temp = Builder::new()
            .prefix(name.prefix)
            .suffix(name.suffix)
            .rand_bytes(name.random)
            .permissions(Permissions::from_mode(MODE))
            .tempfile_in(dir)
            .map_err(Error::new(Step::Create, dir))?;
        temp.as_file()
            .set_permissions(Permissions::from_mode(MODE))
            .map_err(Error::new(Step::Create, temp.path()))?;
        Ok(AtomicFile {
            temp,
            target: target.to_owned(),
        })
    }

    /// The temporary file, to write (or read back) before the commit.
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// The temporary file's path.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// The path that the commit replaces.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the file to disk, renames it over the target and flushes the folder.
    ///
    /// On an error of any step but [`Step::SyncDir`] the temporary file is removed and the target
    /// is as it was.
    pub fn commit(self) -> Result<(), Error> {
        let AtomicFile { temp, target } = self;
        temp.as_file()
            .sync_all()
            .map_err(Error::new(Step::Sync, temp.path()))?;
        // On failure the temporary file comes back inside the error, and is removed with it.
        temp.persist(&target)
            .map_err(|error| Error::new(Step::Rename, &target)(error.error))?;
        let dir = folder_of(&target);
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(Error::new(Step::SyncDir, dir))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.temp.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Replaces `target` by a file holding `bytes` (see the [crate] documentation), with a
/// temporary file named as [`TempName::DEFAULT`].
pub fn write_atomically(target: impl AsRef<Path>, bytes: &[u8]) -> Result<(), Error> {
    write_atomically_named(target, bytes, TempName::DEFAULT)
}

/// [`write_atomically`] with the temporary file named as `name` says.
pub fn write_atomically_named(
    target: impl AsRef<Path>,
    bytes: &[u8],
    name: TempName<'_>,
) -> Result<(), Error> {
    let mut file = AtomicFile::create_named(target, name)?;
    let written = file.write_all(bytes);
    written.map_err(Error::new(Step::Write, file.temp_path()))?;
    file.commit()
}

/// The folder a file is in; `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests;
