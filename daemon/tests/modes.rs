//! The modes of the daemon's files on start (issue 13, "Secrets"; docs/DESIGN.md 15.2), with
//! the real binary under umask 000: everything is created private, a file of the daemon's that
//! was opened up is made 0600 again with a warning that names it and its mode (never its
//! content), an open state directory stops the start and is left as it was.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;
use support::{Daemon, Setup, Sim, paired_with};

/// The permission bits, in octal as `ls` and `chmod` write them.
fn mode(path: &Path) -> String {
    let meta = std::fs::symlink_metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    format!("{:04o}", meta.permissions().mode() & 0o7777)
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The files of the state directory that hold secrets or messages, with the mode each is
/// opened to before the restart.
const FILES: [(&str, u32); 4] = [
    ("session.json", 0o644),
    ("waweb.db", 0o640),
    ("waweb.db-wal", 0o666),
    ("waweb.db-shm", 0o604),
];

fn assert_private(daemon: &Daemon) {
    assert_eq!(mode(&daemon.state), "0700", "the state directory");
    assert_eq!(
        mode(daemon.socket.parent().unwrap()),
        "0700",
        "the socket's directory"
    );
    assert_eq!(mode(&daemon.socket), "0600", "the socket");
    for (name, _) in FILES {
        assert_eq!(mode(&daemon.state.join(name)), "0600", "{name}");
    }
}

/// Pairs a daemon started by `setup` (a umask), checks that everything is private, and kills
/// it; the simulator stays for restarts.
fn paired_and_private(setup: Setup) -> (Sim, Daemon) {
    let (sim, mut daemon, _client) = paired_with(setup);
    assert_private(&daemon);
    daemon.kill();
    (sim, daemon)
}

#[test]
fn opened_files_are_tightened_with_a_warning_and_an_open_state_dir_refused() {
    // umask 000 would make a careless file 0666 and a folder 0777.
    let (_sim, mut daemon) = paired_and_private(|command, _| {
        command.env("WAWEBD_TEST_UMASK", "000");
    });
    let session = std::fs::read_to_string(daemon.state.join("session.json")).unwrap();
    let session: Value = serde_json::from_str(&session).unwrap();
    for (name, opened) in FILES {
        chmod(&daemon.state.join(name), opened);
    }

    daemon.restart();
    assert_private(&daemon);
    let log = daemon.log();
    for (name, opened) in FILES {
        let path = daemon.state.join(name);
        let line = log
            .lines()
            .find(|line| line.contains(&format!("path={} ", path.display())))
            .unwrap_or_else(|| panic!("no warning for {name}: {log}"));
        assert!(line.contains(" WARN "), "{line}");
        assert!(line.contains(&format!("mode={opened:04o}")), "{line}");
        assert!(line.contains("it is now 0600"), "{line}");
    }
    assert!(
        log.contains("the session file was open to other users"),
        "{log}"
    );
    for (field, value) in session.as_object().unwrap() {
        let value = value.as_str().unwrap_or_default();
        if value.len() >= 8 && field != "wid" {
            assert!(!log.contains(value), "the warning shows {field}");
        }
    }
    assert_eq!(log.matches("it is now 0600").count(), FILES.len(), "{log}");

    // A state directory open to the group is refused, not changed: the daemon did not make it.
    daemon.kill();
    chmod(&daemon.state, 0o750);
    let (status, stderr) = daemon.run_to_exit();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("state directory") && stderr.contains("mode 0750"),
        "{stderr}"
    );
    assert!(stderr.contains("chmod 700"), "{stderr}");
    assert_eq!(mode(&daemon.state), "0750");
    for (name, _) in FILES {
        assert_eq!(mode(&daemon.state.join(name)), "0600", "{name}");
    }

    // A socket directory open to others is only warned about (the peer check guards the
    // socket); the socket itself is still 0600.
    chmod(&daemon.state, 0o700);
    chmod(daemon.socket.parent().unwrap(), 0o755);
    daemon.restart();
    assert_eq!(mode(&daemon.socket), "0600");
    assert!(
        daemon
            .log()
            .contains("the socket's directory is open to other users"),
        "{}",
        daemon.log()
    );
}

/// A umask that takes the owner's own bits (0277) does not leave a file the daemon cannot
/// rewrite or a folder it cannot enter: the modes are set, not left to the umask.
#[test]
fn a_umask_that_takes_the_owners_bits_still_gives_the_exact_modes() {
    paired_and_private(|command, _| {
        command.env("WAWEBD_TEST_UMASK", "0277");
    });
}
