use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;

use super::*;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
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
fn creates_and_replaces_with_mode_0600_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.bin");
    write_atomically(&target, b"first").unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"first");
    assert_eq!(mode(&target), MODE);

    // An existing file open to others is replaced by a private one, not rewritten in place.
    fs::set_permissions(&target, Permissions::from_mode(0o644)).unwrap();
    let mut old = File::open(&target).unwrap();
    write_atomically(&target, b"second, longer").unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"second, longer");
    assert_eq!(mode(&target), MODE);
    let mut seen = String::new();
    old.read_to_string(&mut seen).unwrap();
    assert_eq!(
        seen, "first",
        "a reader that had the old file keeps reading it"
    );
    assert_eq!(names(dir.path()), ["out.bin"]);
}

#[test]
fn the_temporary_file_is_private_named_as_asked_and_streams() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("session.json");
    fs::write(&target, b"old").unwrap();
    let name = TempName {
        prefix: ".session.json.",
        suffix: ".tmp",
        random: 12,
    };
    let mut file = AtomicFile::create_named(&target, name).unwrap();
    let temp = file.temp_path().to_owned();
    assert_eq!(temp.parent(), Some(dir.path()), "beside the target");
    let temp_name = temp.file_name().unwrap().to_str().unwrap();
    assert!(temp_name.starts_with(".session.json.") && temp_name.ends_with(".tmp"));
    assert_eq!(temp_name.len(), ".session.json.".len() + 12 + ".tmp".len());
    assert_eq!(mode(&temp), MODE);
    assert_eq!(file.target(), target);

    for chunk in [&b"new "[..], b"content"] {
        file.write_all(chunk).unwrap();
    }
    // Readable back before the commit, as a spool would be.
    let mut back = String::new();
    file.file_mut().seek(SeekFrom::Start(0)).unwrap();
    file.file_mut().read_to_string(&mut back).unwrap();
    assert_eq!(back, "new content");
    assert_eq!(
        fs::read(&target).unwrap(),
        b"old",
        "untouched until the commit"
    );

    file.commit().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"new content");
    assert!(!temp.exists());
    assert_eq!(names(dir.path()), ["session.json"]);
}

#[test]
fn dropped_before_the_commit_leaves_the_old_file_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("qr.png");
    fs::write(&target, b"old").unwrap();
    let mut file = AtomicFile::create(&target).unwrap();
    file.write_all(b"half of it").unwrap();
    let temp = file.temp_path().to_owned();
    assert!(temp.exists());
    drop(file);
    assert!(!temp.exists());
    assert_eq!(fs::read(&target).unwrap(), b"old");
    assert_eq!(names(dir.path()), ["qr.png"]);
}

#[test]
fn a_failed_rename_removes_the_temporary_file_and_keeps_the_target() {
    let dir = tempfile::tempdir().unwrap();
    // A folder that is not empty cannot be renamed over (root included).
    let target = dir.path().join("busy");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("inside"), b"kept").unwrap();
    let error = write_atomically(&target, b"data").unwrap_err();
    assert_eq!(error.step(), Step::Rename);
    assert!(!error.is_in_place());
    assert_eq!(error.path(), target);
    assert!(
        error
            .to_string()
            .starts_with(&format!("replacing {}: ", target.display())),
        "{error}"
    );
    assert_eq!(fs::read(target.join("inside")).unwrap(), b"kept");
    assert_eq!(names(dir.path()), ["busy"]);
}

#[test]
fn a_missing_folder_or_no_file_name_fails_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let error = write_atomically(missing.join("out"), b"data").unwrap_err();
    assert_eq!(error.step(), Step::Create);
    assert_eq!(error.path(), missing);
    assert_eq!(error.action(), "creating a file in");
    let (_, _, source) = error.into_parts();
    assert_eq!(source.kind(), io::ErrorKind::NotFound);

    let error = write_atomically(dir.path().join(".."), b"data").unwrap_err();
    assert_eq!(error.step(), Step::Create);
    assert_eq!(error.into_source().kind(), io::ErrorKind::InvalidInput);
    assert!(names(dir.path()).is_empty());
}

#[test]
fn concurrent_writers_never_share_a_temporary_file_and_the_last_commit_wins() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out");
    let mut first = AtomicFile::create(&target).unwrap();
    let mut second = AtomicFile::create(&target).unwrap();
    assert_ne!(first.temp_path(), second.temp_path());
    first.write_all(b"first").unwrap();
    second.write_all(b"second").unwrap();
    first.commit().unwrap();
    second.commit().unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"second");
    assert_eq!(names(dir.path()), ["out"]);
}

#[test]
fn a_bare_file_name_lives_in_the_current_folder() {
    assert_eq!(folder_of(Path::new("qr.png")), Path::new("."));
    assert_eq!(folder_of(Path::new("/qr.png")), Path::new("/"));
    assert_eq!(folder_of(Path::new("a/qr.png")), Path::new("a"));
}
