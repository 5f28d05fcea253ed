//! `<state-dir>/waweb.db`: the one embedded database (SQLite, WAL, mode 0600) that holds what
//! the daemon knows besides the secrets: the event journal and consumer cursors now, the outbox
//! and the chats, contacts and messages of DESIGN.md section 8 as they come (DESIGN.md 6).
//!
//! ```text
//! open(dir)  -> migrated to SCHEMA_VERSION (user_version), WAL, synchronous=NORMAL
//!            -> a file that is not a database, or a corrupt one: moved to waweb.db.corrupt-<unix>,
//!               a new one started (the session file is not touched)
//!            -> a database newer than this binary: refused, saying so
//! ```
//!
//! One writer (the journal's thread) owns a read-write connection; readers open their own
//! ([`Db::reader`]), which WAL lets run beside the writer.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags};

#[doc(hidden)]
pub mod fuzzing;

/// The schema this binary writes. Each step of [`MIGRATIONS`] raises it by one.
pub const SCHEMA_VERSION: u32 = 3;

/// The file name inside the state directory.
pub const FILE_NAME: &str = "waweb.db";
/// The WAL's size limit: kept on a reset (`journal_size_limit`), and the size past which a
/// checkpoint waits for its turn (RESTART) instead of only copying what it can (PASSIVE).
const WAL_LIMIT: u64 = 64 << 20;

/// Migration `n` takes a database from version `n` to `n + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 1: the journal and cursors (6.1); the outbox (6.2) and messages (8) keyed as they will be
    // used, so later features add columns, not tables.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
     CREATE TABLE journal (
         seq INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         type TEXT NOT NULL,
         body TEXT NOT NULL
     );
     CREATE TABLE consumers (
         name TEXT PRIMARY KEY,
         seq INTEGER NOT NULL,
         updated_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE outbox (
         id TEXT PRIMARY KEY,
         idempotency_key TEXT UNIQUE,
         recipient TEXT NOT NULL,
         kind TEXT NOT NULL,
         message BLOB NOT NULL,
         state TEXT NOT NULL,
         queued_at INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         result TEXT,
         updated_at INTEGER NOT NULL
     );
     CREATE INDEX outbox_by_state ON outbox (state, updated_at);
     CREATE TABLE messages (
         chat TEXT NOT NULL,
         id TEXT NOT NULL,
         from_me INTEGER NOT NULL,
         timestamp INTEGER NOT NULL,
         event TEXT NOT NULL,
         raw BLOB,
         PRIMARY KEY (chat, id)
     ) WITHOUT ROWID;
     CREATE INDEX messages_by_time ON messages (chat, timestamp);",
    // 2: messages in a rowid table. Rows are a few hundred bytes (the event and the raw bytes),
    // which a WITHOUT ROWID b-tree keyed by random ids splits page after page: storing every
    // message that way cut the daemon's throughput to half. Appending by rowid and indexing the
    // keys is cheaper, and the rowid is the order messages arrived in (the newest of a second).
    "CREATE TABLE messages_v2 (
         n INTEGER PRIMARY KEY,
         chat TEXT NOT NULL,
         id TEXT NOT NULL,
         from_me INTEGER NOT NULL,
         timestamp INTEGER NOT NULL,
         event TEXT NOT NULL,
         raw BLOB
     );
     INSERT INTO messages_v2 (chat, id, from_me, timestamp, event, raw)
         SELECT chat, id, from_me, timestamp, event, raw FROM messages ORDER BY timestamp;
     DROP TABLE messages;
     ALTER TABLE messages_v2 RENAME TO messages;
     CREATE UNIQUE INDEX messages_by_id ON messages (chat, id);
     CREATE INDEX messages_by_time ON messages (chat, timestamp, n);",
    // 3: chats and contacts (DESIGN.md 8). Each block below is one part of issue 12; keep them
    // apart so they merge.
    //
    // Chats (daemon/src/chats): what the phone says of each chat. A chat's `t` and unread count
    // also depend on its messages, which are read from `messages` when asked for (`unread` is
    // the count as of `read_t`; later live messages from others add to it), so storing a
    // message costs no chat write. The read mark is a time and a message row (`read_n`, the
    // newest row then): a time alone would lose messages of the mark's own second. Chats that
    // already have messages start read.
    "CREATE TABLE chats (
         jid TEXT PRIMARY KEY,
         name TEXT,
         t INTEGER NOT NULL DEFAULT 0,
         unread INTEGER NOT NULL DEFAULT 0,
         read_t INTEGER NOT NULL DEFAULT 0,
         read_n INTEGER NOT NULL DEFAULT 0,
         archived INTEGER NOT NULL DEFAULT 0,
         pinned INTEGER,
         muted_until INTEGER,
         read_only INTEGER NOT NULL DEFAULT 0,
         ephemeral_s INTEGER
     ) WITHOUT ROWID;
     CREATE TABLE contacts (
         jid TEXT PRIMARY KEY,
         name TEXT,
         notify TEXT,
         short TEXT
     ) WITHOUT ROWID;
     INSERT INTO chats (jid, t, read_t, read_n)
         SELECT chat, max(timestamp), max(timestamp), max(n) FROM messages GROUP BY chat;

     -- History (daemon/src/history.rs): what is known about the order of history: on the
     -- server, the message before `id` is `prev` ('' = the chat's first message), written
     -- from pages the server sent; the second index walks forwards.
     CREATE TABLE history_links (
         chat TEXT NOT NULL,
         id TEXT NOT NULL,
         prev TEXT NOT NULL,
         PRIMARY KEY (chat, id)
     ) WITHOUT ROWID;
     CREATE INDEX history_links_next ON history_links (chat, prev);",
];

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite refused.
    #[error("database {}: {source}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// Created, moved or chmod-ed without success.
    #[error("database {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Written by a newer waweb.
    #[error(
        "database {} has schema version {found}, newer than this wawebd ({SCHEMA_VERSION}); \
         run the newer wawebd, or move the file away to start an empty one",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
}

/// The database's location, and how connections to it are opened.
#[derive(Debug, Clone)]
pub struct Db {
    path: PathBuf,
    /// The WAL size past which [`Db::checkpoint`] is RESTART: [`WAL_LIMIT`], lowered by tests.
    wal_limit: u64,
}

/// What [`Db::open`] found.
#[derive(Debug)]
pub struct Opened {
    /// The database.
    pub db: Db,
    /// The read-write connection for the one writer.
    pub writer: Connection,
    /// Where an unreadable file was moved, if one was.
    pub moved_aside: Option<PathBuf>,
}

impl Db {
    /// Opens (creating or migrating) `<state_dir>/waweb.db`. A corrupt file is moved aside and
    /// replaced by an empty database.
    pub fn open(state_dir: &Path) -> Result<Opened, Error> {
        let path = state_dir.join(FILE_NAME);
        let db = Db {
            path,
            wal_limit: WAL_LIMIT,
        };
        match db.open_writer() {
            Ok(writer) => Ok(Opened {
                db,
                writer,
                moved_aside: None,
            }),
            Err(Error::Sqlite { source, .. }) if is_corruption(&source) => {
                let aside = db.move_aside()?;
                let writer = db.open_writer()?;
                Ok(Opened {
                    db,
                    writer,
                    moved_aside: Some(aside),
                })
            }
            Err(error) => Err(error),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A read-only connection for one reader (a replay, an `events` call).
    pub fn reader(&self) -> Result<Connection, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection =
            Connection::open_with_flags(&self.path, flags).map_err(|e| self.sqlite(e))?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| self.sqlite(e))?;
        Ok(connection)
    }

    /// Copies the WAL back into the database file, on a connection of its own. PASSIVE (it
    /// waits for nobody and blocks nobody) while the WAL is under [`WAL_LIMIT`]; past it,
    /// RESTART: under writes without a pause a passive checkpoint never catches up with the
    /// last frame, so the WAL is never rewound and grows without bound (scripts/soak.sh: 190
    /// MB in 12 s of floods). RESTART holds the writer back while it copies and waits for the
    /// readers, so the next commit starts the WAL from its beginning (DESIGN.md 14.2).
    ///
    /// Returns the frames the WAL had when it ran (SQLite's `log`; 0 when it could not tell).
    pub fn checkpoint(&self) -> Result<u64, Error> {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        let big = fs::metadata(&wal).is_ok_and(|meta| meta.len() > self.wal_limit);
        let mode = if big { "RESTART" } else { "PASSIVE" };
        let connection = Connection::open(&self.path).map_err(|e| self.sqlite(e))?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| self.sqlite(e))?;
        connection
            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
                row.get::<_, i64>(1)
            })
            .map(|frames| u64::try_from(frames).unwrap_or(0))
            .map_err(|e| self.sqlite(e))
    }

    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn open_writer(&self) -> Result<Connection, Error> {
        self.create_private()?;
        let mut connection = Connection::open(&self.path).map_err(|e| self.sqlite(e))?;
        let setup = || -> rusqlite::Result<u32> {
            connection.busy_timeout(Duration::from_secs(5))?;
            // WAL with synchronous=NORMAL: a commit survives a crash of the daemon (SIGKILL);
            // a power cut may lose the last commits, never corrupt the file.
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "NORMAL")?;
            // Checkpoints run beside the writer ([`Db::checkpoint`]), never inside a commit.
            connection.pragma_update(None, "wal_autocheckpoint", 0)?;
            connection.pragma_update(None, "journal_size_limit", WAL_LIMIT)?;
            connection.pragma_update(None, "foreign_keys", true)?;
            connection.query_row("PRAGMA user_version", [], |row| row.get(0))
        };
        let version = setup().map_err(|e| self.sqlite(e))?;
        if version > SCHEMA_VERSION {
            return Err(Error::TooNew {
                path: self.path.clone(),
                found: version,
            });
        }
        migrate(&mut connection, version).map_err(|e| self.sqlite(e))?;
        Ok(connection)
    }

    /// Creates the file 0600 before SQLite opens it, so it is never readable by others; an
    /// existing file is made 0600 too.
    fn create_private(&self) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io)?;
        fs::set_permissions(&self.path, fs::Permissions::from_mode(0o600)).map_err(io)
    }

    /// Moves the database and its WAL files to `waweb.db.corrupt-<unix>`.
    fn move_aside(&self) -> Result<PathBuf, Error> {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = self
            .path
            .with_file_name(format!("{FILE_NAME}.corrupt-{unix}"));
        fs::rename(&self.path, &aside).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })?;
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", self.path.display()));
            if side.exists() {
                let _ = fs::rename(&side, format!("{}{suffix}", aside.display()));
            }
        }
        Ok(aside)
    }
}

/// Runs the migrations from `version` up, each in its own transaction with its version bump.
fn migrate(connection: &mut Connection, version: u32) -> rusqlite::Result<()> {
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", from as u32 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

/// Whether SQLite says the file is not a database or is damaged.
fn is_corruption(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_migrates_and_reopens_a_private_database() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Db::open(dir.path()).unwrap();
        assert!(opened.moved_aside.is_none());
        let mode = fs::metadata(opened.db.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let version: u32 = opened
            .writer
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let mode: String = opened
            .writer
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(opened);
        let again = Db::open(dir.path()).unwrap();
        let tables: u32 = again
            .db
            .reader()
            .unwrap()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 8); // meta, journal, consumers, outbox, messages, chats, contacts, history_links
    }

    #[test]
    fn version_one_messages_move_to_the_rowid_table_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let v1 = Connection::open(&path).unwrap();
        v1.execute_batch(&format!(
            "BEGIN; {}; PRAGMA user_version = 1; COMMIT;",
            MIGRATIONS[0]
        ))
        .unwrap();
        v1.execute_batch(
            "INSERT INTO messages VALUES ('c@g.us', 'B', 0, 20, '{}', x'02');
             INSERT INTO messages VALUES ('c@g.us', 'A', 1, 10, '{}', NULL);",
        )
        .unwrap();
        drop(v1);
        // Owner-only, as `Db::open` expects of a file it did not create.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let opened = Db::open(dir.path()).unwrap();
        assert!(opened.moved_aside.is_none());
        let rows: Vec<(i64, String, i64, Option<Vec<u8>>)> = opened
            .writer
            .prepare("SELECT n, id, timestamp, raw FROM messages ORDER BY n")
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (1, "A".into(), 10, None),
                (2, "B".into(), 20, Some(vec![2]))
            ]
        );
        // The key is still unique.
        let again = opened.writer.execute(
            "INSERT INTO messages (chat, id, from_me, timestamp, event) VALUES ('c@g.us', 'A', 1, 30, '{}')",
            [],
        );
        assert!(again.is_err());
    }

    #[test]
    fn version_two_gains_chats_and_history_links_and_keeps_its_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let v2 = Connection::open(&path).unwrap();
        v2.execute_batch(&format!(
            "BEGIN; {}; {}; PRAGMA user_version = 2; COMMIT;",
            MIGRATIONS[0], MIGRATIONS[1]
        ))
        .unwrap();
        v2.execute_batch(
            "INSERT INTO messages (chat, id, from_me, timestamp, event) VALUES ('a@s.whatsapp.net', 'A', 0, 10, '{}');
             INSERT INTO messages (chat, id, from_me, timestamp, event) VALUES ('a@s.whatsapp.net', 'B', 0, 30, '{}');
             INSERT INTO messages (chat, id, from_me, timestamp, event) VALUES ('c@g.us', 'C', 1, 20, '{}');",
        )
        .unwrap();
        drop(v2);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let opened = Db::open(dir.path()).unwrap();
        let count: u32 = opened
            .writer
            .query_row("SELECT count(*) FROM messages", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 3);
        opened
            .writer
            .execute(
                "INSERT INTO history_links (chat, id, prev) VALUES ('c@g.us', 'C', '')",
                [],
            )
            .unwrap();
        let rows: Vec<(String, i64, i64, i64)> = opened
            .writer
            .prepare("SELECT jid, t, unread, read_t + read_n * 1000 FROM chats ORDER BY jid")
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                ("a@s.whatsapp.net".into(), 30, 0, 2030),
                ("c@g.us".into(), 20, 0, 3020)
            ]
        );
        let contacts: i64 = opened
            .writer
            .query_row("SELECT count(*) FROM contacts", [], |row| row.get(0))
            .unwrap();
        assert_eq!(contacts, 0);
    }

    /// Writes without a pause on one thread, checkpoints every 20 ms on another (as the journal
    /// thread does, more often), with the limit lowered to 1 MiB: the WAL is rewound (its frame
    /// count falls) again and again. With PASSIVE alone it never catches up with the writer,
    /// is never rewound in the 10 s and grows by everything written (75 MiB in 1.5 s).
    #[test]
    fn past_the_limit_the_checkpoint_restarts_the_wal_under_writes_without_a_pause() {
        use std::sync::atomic::{AtomicBool, Ordering};
        const LIMIT: u64 = 1 << 20;
        const REWINDS: usize = 3;
        let dir = tempfile::tempdir().unwrap();
        let Opened { mut db, writer, .. } = Db::open(dir.path()).unwrap();
        db.wal_limit = LIMIT;
        writer
            .pragma_update(None, "journal_size_limit", LIMIT)
            .unwrap();
        writer
            .execute_batch("CREATE TABLE filler (body BLOB)")
            .unwrap();
        let wal = dir.path().join(format!("{FILE_NAME}-wal"));
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let writing = std::thread::spawn({
            let (done, wal) = (done.clone(), wal.clone());
            // Stops short of filling the disk if the WAL runs away (a failing run).
            let runaway = move || fs::metadata(&wal).is_ok_and(|meta| meta.len() > 256 << 20);
            move || {
                let body = vec![7u8; 4 << 10];
                while !done.load(Ordering::Acquire) && !runaway() {
                    writer
                        .execute("INSERT INTO filler (body) VALUES (?1)", [&body])
                        .unwrap();
                    writer.execute("DELETE FROM filler", []).unwrap();
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let (mut largest, mut frames, mut rewound) = (0, Vec::new(), 0);
        while rewound < REWINDS && std::time::Instant::now() < deadline {
            largest = largest.max(fs::metadata(&wal).map_or(0, |meta| meta.len()));
            frames.push(db.checkpoint().unwrap());
            if let [.., before, now] = frames[..] {
                rewound += usize::from(now < before);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        done.store(true, Ordering::Release);
        writing.join().unwrap();
        eprintln!(
            "{} checkpoints, the WAL rewound {rewound} times, at most {} KiB",
            frames.len(),
            largest >> 10
        );
        assert!(
            largest < 256 << 20,
            "the WAL ran away: {} MiB",
            largest >> 20
        );
        assert_eq!(rewound, REWINDS, "frames at each checkpoint: {frames:?}");
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, b"this is not an SQLite database, just some bytes that are long enough to fill a header page").unwrap();
        let opened = Db::open(dir.path()).unwrap();
        let aside = opened.moved_aside.clone().expect("moved aside");
        assert!(
            aside
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("waweb.db.corrupt-")
        );
        assert!(fs::read(&aside).unwrap().starts_with(b"this is not"));
        opened
            .writer
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(opened);
        let error = Db::open(dir.path()).unwrap_err();
        assert!(matches!(error, Error::TooNew { found, .. } if found == SCHEMA_VERSION + 1));
        assert!(
            error.to_string().contains("newer than this wawebd"),
            "{error}"
        );
    }
}
