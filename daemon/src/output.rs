//! Where methods may read and write files the client names: anywhere the daemon's user may,
//! except inside the daemon's own folders.
//!
//! A bot that passes paths on from its users must not be able to overwrite the session or the
//! socket, nor send them away (DESIGN.md 7.1: -32602), whether the path names the state dir
//! directly, goes through a symlinked folder, or is itself a symlink into it.
//!
//! ```text
//! media_download output=/home/ada/photo.jpg          -> allowed
//! media_download output=/home/ada/.local/state/wawebd/session.json -> refused
//! media_download output=/tmp/link/x (link -> the state dir)        -> refused
//! send_media path=/tmp/link/session.json                           -> refused
//! ```

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Why a path is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not absolute: relative to what would be the daemon's working directory, not the client's.
    #[error("{0} must be an absolute path")]
    Relative(&'static str),
    /// A file to read cannot be opened (missing, unreadable, a folder).
    #[error("cannot read {}: {source}", path.display())]
    Open {
        /// The path as given.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// The folder it would go in does not exist.
    #[error("the folder of {} does not exist", .0.display())]
    NoFolder(PathBuf),
    /// It lies inside one of the daemon's own folders.
    #[error("{} is inside the daemon's {what} ({}); choose another place", path.display(), dir.display())]
    Protected {
        /// The path as given.
        path: PathBuf,
        /// Which folder: "state directory" or "socket directory".
        what: &'static str,
        /// That folder.
        dir: PathBuf,
    },
    /// It names an existing folder, not a file.
    #[error("{} is a directory; name a file", .0.display())]
    Directory(PathBuf),
    /// The path could not be resolved.
    #[error("cannot resolve {}: {source}", path.display())]
    Resolve {
        /// The path as given.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
}

/// The daemon's own folders, resolved once.
#[derive(Debug, Clone)]
pub struct Protected {
    dirs: Vec<(&'static str, PathBuf)>,
}

impl Protected {
    /// The state directory and the socket's folder; a folder that cannot be resolved is kept as
    /// given (it is compared against resolved paths, so it still matches what lies below it).
    pub fn new(state_dir: &Path, socket: &Path) -> Protected {
        let mut dirs = vec![("state directory", state_dir.to_owned())];
        if let Some(dir) = socket.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            dirs.push(("socket directory", dir.to_owned()));
        }
        let dirs = dirs
            .into_iter()
            .map(|(what, dir)| (what, fs::canonicalize(&dir).unwrap_or(dir)))
            .collect();
        Protected { dirs }
    }

    /// Checks a path a client asked the daemon to write, before anything is written.
    pub fn check_output(&self, output: &Path) -> Result<(), Error> {
        if !output.is_absolute() {
            return Err(Error::Relative("output"));
        }
        let resolve = |path: &Path| {
            fs::canonicalize(path).map_err(|source| Error::Resolve {
                path: output.to_owned(),
                source,
            })
        };
        let (Some(parent), Some(name)) = (output.parent(), output.file_name()) else {
            return Err(Error::NoFolder(output.to_owned()));
        };
        if !parent.is_dir() {
            return Err(Error::NoFolder(output.to_owned()));
        }
        // The folder through any symlinks, then the file itself if it is a symlink: the write
        // replaces the link, but a path that points into our folders is refused all the same.
        let mut places = vec![resolve(parent)?.join(name)];
        if fs::symlink_metadata(output).is_ok_and(|meta| meta.file_type().is_symlink()) {
            match fs::canonicalize(output) {
                Ok(target) => places.push(target),
                Err(source) if source.kind() == io::ErrorKind::NotFound => {
                    // Dangling: resolve the link's own text against its folder.
                    let target = fs::read_link(output).map_err(|source| Error::Resolve {
                        path: output.to_owned(),
                        source,
                    })?;
                    let target = places[0].parent().unwrap_or(parent).join(target);
                    if let (Some(folder), Some(name)) = (target.parent(), target.file_name()) {
                        places.push(resolve(folder)?.join(name));
                    }
                }
                Err(source) => {
                    return Err(Error::Resolve {
                        path: output.to_owned(),
                        source,
                    });
                }
            }
        }
        places
            .iter()
            .try_for_each(|place| self.check_place(output, place))?;
        // Refused now rather than after the download, when the rename onto it would fail.
        if fs::metadata(output).is_ok_and(|meta| meta.is_dir()) {
            return Err(Error::Directory(output.to_owned()));
        }
        Ok(())
    }

    /// Opens a file a client asked the daemon to read. What is checked is the file that was
    /// opened (the kernel's name for the descriptor), so no symlink swapped in between a check
    /// and the open can lead into our folders.
    pub fn open_input(&self, input: &Path) -> Result<File, Error> {
        if !input.is_absolute() {
            return Err(Error::Relative("path"));
        }
        let opened = |source| Error::Open {
            path: input.to_owned(),
            source,
        };
        // Where it leads first, so that our socket is refused as ours, not as a non-file.
        if let Ok(place) = fs::canonicalize(input) {
            self.check_place(input, &place)?;
        }
        // Only regular files: opening a named pipe would wait for a writer forever.
        if !fs::metadata(input).map_err(opened)?.is_file() {
            return Err(opened(io::Error::other("not a regular file")));
        }
        let file = File::open(input).map_err(opened)?;
        let meta = file.metadata().map_err(opened)?;
        if !meta.is_file() {
            return Err(opened(io::Error::other("not a regular file")));
        }
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let real = fs::read_link(format!("/proc/self/fd/{fd}"))
            .or_else(|_| fs::canonicalize(input))
            .map_err(|source| Error::Resolve {
                path: input.to_owned(),
                source,
            })?;
        self.check_place(input, &real)?;
        Ok(file)
    }

    fn check_place(&self, path: &Path, place: &Path) -> Result<(), Error> {
        match self.dirs.iter().find(|(_, dir)| place.starts_with(dir)) {
            Some((what, dir)) => Err(Error::Protected {
                path: path.to_owned(),
                what,
                dir: dir.clone(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn is_protected(path: &Path, result: Result<(), Error>) {
        let error = result.unwrap_err();
        assert!(
            matches!(error, Error::Protected { .. }),
            "{}: {error}",
            path.display()
        );
    }

    #[test]
    fn our_folders_are_refused_for_writing_and_reading_directly_and_through_symlinks() {
        let root = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(root.path()).unwrap();
        let state = root.join("state");
        let run = root.join("run");
        let free = root.join("free");
        for dir in [&state, &run, &free] {
            fs::create_dir(dir).unwrap();
        }
        fs::write(state.join("session.json"), b"{}").unwrap();
        symlink(&state, free.join("to-state")).unwrap();
        symlink(state.join("session.json"), free.join("session-link")).unwrap();
        symlink(state.join("gone"), free.join("dangling")).unwrap();
        symlink("../run/x", free.join("relative")).unwrap();
        let protected = Protected::new(&state, &run.join("wawebd.sock"));

        for refused in [
            state.join("session.json"),
            state.join("new.jpg"),
            run.join("wawebd.sock"),
            free.join("to-state/session.json"),
            free.join("session-link"),
            free.join("dangling"),
            free.join("relative"),
            root.join("free/../state/session.json"),
        ] {
            is_protected(&refused, protected.check_output(&refused));
        }
        protected.check_output(&free.join("photo.jpg")).unwrap();
        assert!(matches!(
            protected.check_output(Path::new("photo.jpg")),
            Err(Error::Relative("output"))
        ));
        assert!(matches!(
            protected.check_output(&free),
            Err(Error::Directory(_))
        ));
        assert!(matches!(
            protected.check_output(&free.join("missing/photo.jpg")),
            Err(Error::NoFolder(_))
        ));
        let message = protected
            .check_output(&state.join("x"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("state directory"), "{message}");

        // Reading: the same folders, judged by where the opened file really is.
        fs::write(run.join("x"), b"x").unwrap();
        fs::write(free.join("cat.jpg"), b"meow").unwrap();
        symlink(free.join("cat.jpg"), state.join("out-link")).unwrap();
        for refused in [
            state.join("session.json"),
            run.join("x"),
            free.join("to-state/session.json"),
            free.join("session-link"),
            free.join("relative"),
            root.join("free/../state/session.json"),
        ] {
            is_protected(&refused, protected.open_input(&refused).map(drop));
        }
        // What matters is where the file is: a link in our folder to a free file is that file.
        protected.open_input(&state.join("out-link")).unwrap();
        protected.open_input(&free.join("cat.jpg")).unwrap();
        let relative = protected.open_input(Path::new("cat.jpg")).unwrap_err();
        assert_eq!(relative.to_string(), "path must be an absolute path");
        for unreadable in [free.join("missing.jpg"), free.clone()] {
            let error = protected.open_input(&unreadable).unwrap_err();
            assert!(matches!(error, Error::Open { .. }), "{error}");
        }
    }
}
