//! The session file (DESIGN.md section 3): `<state-dir>/session.json`, mode 0600 in a 0700
//! directory, replaced atomically (temp file, fsync, rename, fsync of the directory) after every
//! `Conn`, because the tokens rotate on every login.
//!
//! ```json
//! {"version":1,"clientId":"…","clientToken":"…","serverToken":"1@…","browserToken":"1@…","encKey":"<base64>","macKey":"<base64>","wid":"4915100000000@c.us","pushname":"Ada"}
//! ```

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use waweb_core::crypto::{Secret, SessionKeys};
use waweb_core::login::{Credentials, SecretString};
use waweb_fs::TempName;
use zeroize::{Zeroize, ZeroizeOnDrop};

const FILE_NAME: &str = "session.json";
const FORMAT_VERSION: u32 = 1;
/// Temp files of a save are `.session.json.<12 random letters and digits>.tmp`, beside the
/// session file; [`Store::recover_leftovers`] recognises them by prefix and suffix.
const TEMP_PREFIX: &str = ".session.json.";
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_NAME: TempName<'static> = TempName {
    prefix: TEMP_PREFIX,
    suffix: TEMP_SUFFIX,
    random: 12,
};

/// Why the state directory or the session file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory is open to other users: the session's keys would be readable.
    #[error(
        "state directory {path} has mode {mode:04o}; it must not be accessible by group or others (chmod 700 it)"
    )]
    InsecureDirectory {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file exists but is not a session this version can read; it is left untouched.
    #[error("session file {path} is unreadable ({reason}); move it away to pair again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SessionFile {
    version: u32,
    client_id: String,
    client_token: String,
    server_token: String,
    browser_token: String,
    enc_key: String,
    mac_key: String,
    wid: String,
    pushname: String,
}

/// Why a session file could not be read.
enum ReadError {
    Missing,
    Io(io::Error),
    Invalid(String),
}

/// Entry point for the `session_file` fuzz target (not an API): `data` written to a temp file
/// and read back as a session file is.
#[doc(hidden)]
pub fn fuzz_session_file(data: &[u8]) {
    let path = std::env::temp_dir().join(format!("wawebd-fuzz-session-{}", std::process::id()));
    if fs::write(&path, data).is_ok() {
        let _ = read_session(&path);
    }
    let _ = fs::remove_file(&path);
}

#[test]
fn session_files_of_garbage_are_refused() {
    fuzz_session_file(b"{\"version\":1}");
    fuzz_session_file(b"\xff\xfe");
    fuzz_session_file(b"");
}

/// What is wrong with a session file's JSON, without its content: serde's own message quotes
/// the offending value (`invalid type: string "…"`), which may be a key or a token.
fn json_error_without_content(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "not the shape of a session",
        serde_json::error::Category::Eof => "cut short",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
}

/// Reads and checks one session file (the real one or a temp file of an interrupted save).
fn read_session(path: &Path) -> Result<Credentials, ReadError> {
    let mut text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(error) if error.kind() == io::ErrorKind::InvalidData => {
            return Err(ReadError::Invalid("not UTF-8".into()));
        }
        Err(error) => return Err(ReadError::Io(error)),
    };
    let parsed = serde_json::from_str::<SessionFile>(&text);
    text.zeroize();
    let file = parsed.map_err(|error| ReadError::Invalid(json_error_without_content(&error)))?;
    if file.version != FORMAT_VERSION {
        return Err(ReadError::Invalid(format!(
            "format version {} is not {FORMAT_VERSION}",
            file.version
        )));
    }
    let key = |name: &'static str, text: &str| -> Result<Secret<32>, ReadError> {
        let mut bytes = BASE64
            .decode(text)
            .map_err(|_| ReadError::Invalid(format!("{name} is not base64")))?;
        let key =
            Secret::from_slice(name, &bytes).map_err(|error| ReadError::Invalid(error.to_string()));
        bytes.zeroize();
        key
    };
    Ok(Credentials {
        client_id: file.client_id.clone(),
        client_token: SecretString::new(file.client_token.clone()),
        server_token: SecretString::new(file.server_token.clone()),
        browser_token: SecretString::new(file.browser_token.clone()),
        keys: SessionKeys {
            enc: key("encKey", &file.enc_key)?,
            mac: key("macKey", &file.mac_key)?,
        },
        wid: file.wid.clone(),
        pushname: file.pushname.clone(),
    })
}

/// What [`Store::open`] found of saves that a crash interrupted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// A complete temp file newer than the session file was put in its place: it held the
    /// tokens the server sent last.
    pub recovered: bool,
    /// Temp files removed (the recovered one not counted).
    pub removed: usize,
}

/// The state directory and the session file in it.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

/// Creates `dir` (and missing parents) with mode 0700, or checks that an existing one is not
/// accessible by group or others.
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    match fs::metadata(dir) {
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(Error::InsecureDirectory {
                    path: dir.to_owned(),
                    mode,
                });
            }
            Ok(())
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io_error("creating", dir))?;
            // `mode` applies to the last component only after umask; make sure of it.
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_error("securing", dir))
        }
        Err(error) => Err(Error::Io {
            action: "inspecting",
            path: dir.to_owned(),
            source: error,
        }),
    }
}

/// A file of the daemon's in the state directory that was open to other users and is now 0600.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tightened {
    /// The file.
    pub path: PathBuf,
    /// Its permission bits before.
    pub mode: u32,
}

/// Whether `name` in the state directory is one of the daemon's files: the session file and
/// its temp files, the database with its `-wal`/`-shm` and the corrupt copies moved aside.
fn is_daemon_file(name: &str) -> bool {
    name == FILE_NAME
        || (name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX))
        || name.starts_with(crate::db::FILE_NAME)
}

/// Makes every file of the daemon's in `dir` that group or others may access mode 0600 (docs/
/// DESIGN.md 15.2): they are created 0600, so other bits mean a copy or a restore widened them.
/// Symlinks and other users' names are left alone. What was changed, for the log.
pub fn tighten_files(dir: &Path) -> Result<Vec<Tightened>, Error> {
    let entries = fs::read_dir(dir).map_err(io_error("listing", dir))?;
    let mut tightened = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error("listing", dir))?;
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if !is_file || !is_daemon_file(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        let metadata = fs::symlink_metadata(&path).map_err(io_error("inspecting", &path))?;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o7077 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .map_err(io_error("securing", &path))?;
            tightened.push(Tightened { path, mode });
        }
    }
    tightened.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(tightened)
}

impl Store {
    /// Opens (creating if needed) the state directory, and finishes or cleans up what a crash
    /// left of a save (see [`Store::recover_leftovers`]).
    pub fn open(dir: &Path) -> Result<(Store, Leftovers), Error> {
        ensure_private_dir(dir)?;
        let store = Store {
            path: dir.join(FILE_NAME),
        };
        let leftovers = store.recover_leftovers()?;
        Ok((store, leftovers))
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// The temp files of saves that never reached their rename (a SIGKILL or a power cut in
    /// between). Each holds complete keys and tokens, so none may stay behind.
    fn temp_files(&self) -> Result<Vec<PathBuf>, Error> {
        let dir = self.dir();
        let entries = fs::read_dir(dir).map_err(io_error("listing", dir))?;
        let mut temps = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error("listing", dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
            if is_file && name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
                temps.push(entry.path());
            }
        }
        Ok(temps)
    }

    /// A temp file that is complete, valid and newer than the session file (or with no session
    /// file at all) holds the tokens the server sent last: it replaces the session file. Every
    /// other temp file is removed.
    pub fn recover_leftovers(&self) -> Result<Leftovers, Error> {
        let modified = |path: &Path| fs::metadata(path).and_then(|meta| meta.modified()).ok();
        let current = modified(&self.path);
        let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
        let mut stale = Vec::new();
        for temp in self.temp_files()? {
            let newer = match (modified(&temp), current) {
                (Some(at), Some(current)) => (at > current).then_some(at),
                (Some(at), None) => Some(at),
                (None, _) => None,
            };
            match newer.filter(|_| read_session(&temp).is_ok()) {
                Some(at) if best.as_ref().is_none_or(|(best_at, _)| at > *best_at) => {
                    stale.extend(best.replace((at, temp)).map(|(_, path)| path));
                }
                _ => stale.push(temp),
            }
        }
        let mut leftovers = Leftovers::default();
        if let Some((_, temp)) = best {
            fs::rename(&temp, &self.path).map_err(io_error("recovering", &temp))?;
            self.sync_dir()?;
            leftovers.recovered = true;
        }
        for temp in stale {
            remove_if_present(&temp)?;
            leftovers.removed += 1;
        }
        Ok(leftovers)
    }

    fn sync_dir(&self) -> Result<(), Error> {
        let dir = self.dir();
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error("syncing", dir))
    }

    /// The session file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a session file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads the stored session, if there is one.
    pub fn load(&self) -> Result<Option<Credentials>, Error> {
        match read_session(&self.path) {
            Ok(credentials) => Ok(Some(credentials)),
            Err(ReadError::Missing) => Ok(None),
            Err(ReadError::Io(error)) => Err(io_error("reading", &self.path)(error)),
            Err(ReadError::Invalid(reason)) => Err(Error::Corrupt {
                path: self.path.clone(),
                reason,
            }),
        }
    }

    /// Replaces the stored session atomically: a reader sees the old file or the new one.
    pub fn save(&self, credentials: &Credentials) -> Result<(), Error> {
        let file = SessionFile {
            version: FORMAT_VERSION,
            client_id: credentials.client_id.clone(),
            client_token: credentials.client_token.expose().to_owned(),
            server_token: credentials.server_token.expose().to_owned(),
            browser_token: credentials.browser_token.expose().to_owned(),
            enc_key: BASE64.encode(credentials.keys.enc.expose()),
            mac_key: BASE64.encode(credentials.keys.mac.expose()),
            wid: credentials.wid.clone(),
            pushname: credentials.pushname.clone(),
        };
        let mut bytes = serde_json::to_vec(&file).expect("plain strings serialise");
        let result = self.write_atomically(&bytes);
        bytes.zeroize();
        result
    }

    fn write_atomically(&self, bytes: &[u8]) -> Result<(), Error> {
        // Exclusive create with mode 0600, write, fsync, rename, fsync of the directory.
        waweb_fs::write_atomically_named(&self.path, bytes, TEMP_NAME).map_err(|error| {
            let action = error.action();
            let (_, path, source) = error.into_parts();
            Error::Io {
                action,
                path,
                source,
            }
        })
    }

    /// Removes the stored session and any temp file of an interrupted save; a missing file is
    /// not an error.
    pub fn erase(&self) -> Result<(), Error> {
        remove_if_present(&self.path)?;
        for temp in self.temp_files()? {
            remove_if_present(&temp)?;
        }
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error("removing", path)(error)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            client_id: "AAECAwQFBgcICQoLDA0ODw==".into(),
            client_token: SecretString::new("ct"),
            server_token: SecretString::new("1@st"),
            browser_token: SecretString::new("1@bt"),
            keys: SessionKeys::random(),
            wid: "4915100000000@c.us".into(),
            pushname: "Ada".into(),
        }
    }

    #[test]
    fn save_load_erase_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state/wawebd");
        let store = Store::open(&state).unwrap().0;
        assert_eq!(
            fs::metadata(&state).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(store.load().unwrap().is_none());
        let saved = credentials();
        store.save(&saved).unwrap();
        assert_eq!(
            fs::metadata(store.path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(store.load().unwrap().unwrap(), saved);
        let mut rotated = saved.clone();
        rotated.client_token = SecretString::new("ct2");
        store.save(&rotated).unwrap();
        assert_eq!(store.load().unwrap().unwrap().client_token.expose(), "ct2");
        // No temp files are left behind.
        assert_eq!(fs::read_dir(&state).unwrap().count(), 1);
        store.erase().unwrap();
        store.erase().unwrap();
        assert!(!store.exists());
    }

    /// A temp file as a save leaves it when killed between its fsync and its rename.
    fn interrupted_save(store: &Store, credentials: &Credentials, name: &str) -> PathBuf {
        let other = tempfile::tempdir().unwrap();
        let (scratch, _) = Store::open(&other.path().join("s")).unwrap();
        scratch.save(credentials).unwrap();
        let temp = store.dir().join(name);
        fs::copy(scratch.path(), &temp).unwrap();
        temp
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_complete_newer_temp_file_is_recovered_and_the_rest_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s")).unwrap();
        let old = credentials();
        store.save(&old).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut rotated = old.clone();
        rotated.client_token = SecretString::new("rotated");
        interrupted_save(&store, &rotated, ".session.json.0123456789ab.tmp");
        // A truncated one (killed mid-write) and an unrelated file.
        fs::write(
            dir.path().join("s/.session.json.ffffffffffff.tmp"),
            b"{\"version\":1,",
        )
        .unwrap();
        fs::write(dir.path().join("s/notes.txt"), b"mine").unwrap();

        let (store, leftovers) = Store::open(&dir.path().join("s")).unwrap();
        assert_eq!(
            leftovers,
            Leftovers {
                recovered: true,
                removed: 1
            }
        );
        assert_eq!(store.load().unwrap().unwrap(), rotated);
        assert_eq!(names(&dir.path().join("s")), ["notes.txt", "session.json"]);
    }

    #[test]
    fn an_older_temp_file_never_replaces_the_session_and_erase_removes_temps() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s")).unwrap();
        let mut stale = credentials();
        stale.client_token = SecretString::new("stale");
        interrupted_save(&store, &stale, ".session.json.aaaaaaaaaaaa.tmp");
        std::thread::sleep(Duration::from_millis(20));
        let current = credentials();
        store.save(&current).unwrap();
        let (store, leftovers) = Store::open(&dir.path().join("s")).unwrap();
        assert_eq!(
            leftovers,
            Leftovers {
                recovered: false,
                removed: 1
            }
        );
        assert_eq!(store.load().unwrap().unwrap(), current);

        interrupted_save(&store, &stale, ".session.json.bbbbbbbbbbbb.tmp");
        store.erase().unwrap();
        assert!(names(&dir.path().join("s")).is_empty());
    }

    #[test]
    fn a_failed_save_names_its_step_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s")).unwrap();
        // A non-empty directory where the session file goes: the rename over it fails.
        fs::create_dir(store.path()).unwrap();
        fs::write(store.path().join("keep"), b"x").unwrap();
        let error = store.save(&credentials()).unwrap_err();
        assert!(
            matches!(&error, Error::Io { action: "replacing", path, .. } if path == store.path()),
            "{error}"
        );
        assert_eq!(names(&dir.path().join("s")), ["session.json"]);
        assert_eq!(fs::read(store.path().join("keep")).unwrap(), b"x");
    }

    #[test]
    fn refuses_an_open_directory_and_keeps_a_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        let error = Store::open(&open).unwrap_err().to_string();
        assert!(
            error.contains("mode 0755") && error.contains("chmod 700"),
            "{error}"
        );

        let private = dir.path().join("private");
        let store = Store::open(&private).unwrap().0;
        fs::write(store.path(), b"{\"version\":1,").unwrap();
        assert!(matches!(store.load(), Err(Error::Corrupt { .. })));
        assert_eq!(fs::read(store.path()).unwrap(), b"{\"version\":1,");
        fs::write(store.path(), br#"{"version":"c2VjcmV0LXRva2Vu"}"#).unwrap();
        let error = store.load().unwrap_err().to_string();
        assert!(error.contains("not the shape of a session"), "{error}");
        assert!(!error.contains("c2VjcmV0LXRva2Vu"), "{error}");
        fs::write(store.path(), br#"{"version":2}"#).unwrap();
        assert!(store.load().unwrap_err().to_string().contains("unreadable"));
    }

    #[test]
    fn the_daemons_open_files_are_tightened_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s");
        Store::open(&state).unwrap();
        let files = [
            ("session.json", 0o644),
            (".session.json.0123456789ab.tmp", 0o666),
            ("waweb.db", 0o640),
            ("waweb.db-wal", 0o604),
            ("waweb.db-shm", 0o2600),
            ("waweb.db.corrupt-1700000000", 0o600),
            ("notes.txt", 0o644),
        ];
        for (name, mode) in files {
            fs::write(state.join(name), b"x").unwrap();
            fs::set_permissions(state.join(name), fs::Permissions::from_mode(mode)).unwrap();
        }
        let outside = dir.path().join("elsewhere");
        fs::write(&outside, b"x").unwrap();
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o644)).unwrap();
        fs::remove_file(state.join("waweb.db.corrupt-1700000000")).unwrap();
        std::os::unix::fs::symlink(&outside, state.join("waweb.db.corrupt-1700000000")).unwrap();

        let tightened = tighten_files(&state).unwrap();
        let named: Vec<(String, u32)> = tightened
            .iter()
            .map(|t| (t.path.file_name().unwrap().to_string_lossy().into(), t.mode))
            .collect();
        let expected: Vec<(String, u32)> = [
            (".session.json.0123456789ab.tmp", 0o666),
            ("session.json", 0o644),
            ("waweb.db", 0o640),
            ("waweb.db-shm", 0o2600),
            ("waweb.db-wal", 0o604),
        ]
        .map(|(name, mode)| (name.to_owned(), mode))
        .into();
        assert_eq!(named, expected);
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        for (name, _) in &expected {
            assert_eq!(mode(&state.join(name)), 0o600, "{name}");
        }
        assert_eq!(mode(&state.join("notes.txt")), 0o644, "not the daemon's");
        assert_eq!(mode(&outside), 0o644, "a symlink is not followed");
        assert!(tighten_files(&state).unwrap().is_empty(), "once is enough");
    }
}
