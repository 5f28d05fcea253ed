//! The systemd units in `systemd/`: `systemd-analyze verify` must be clean (the templates
//! `wawebd@.service` checked as an instance) and `systemd-analyze security` must rate the
//! system units 2.0 or better.
//!
//! Both run offline (no running systemd needed). The units are checked as copies whose
//! `ExecStart=` points at the binary cargo just built, because `verify` insists on an executable.
//! Without `systemd-analyze` on the machine (Debian: `apt-get install systemd`) those tests say so
//! and pass; `scripts/check-systemd.sh` runs the same checks by hand.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// The highest exposure the system unit may have (`systemd-analyze security`, 0 best, 10 worst).
const SYSTEM_EXPOSURE_MAX: f64 = 2.0;

/// One `systemd-analyze` at a time: `verify` loads a whole unit graph and writes below /run.
static ANALYZE: Mutex<()> = Mutex::new(());

fn units_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd")
}

fn read_unit(name: &str) -> String {
    let path = units_dir().join(name);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// A line written straight to stderr, past the test harness's capture, so that skips and scores
/// show up in a plain `cargo test` run.
fn notice(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Whether `systemd-analyze` can be run; `None` (after saying why) when it is not installed.
fn analyze_available(test: &str) -> Option<()> {
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(output) if output.status.success() => Some(()),
        Ok(output) => panic!(
            "systemd-analyze --version failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            notice(&format!(
                "SKIPPED {test}: systemd-analyze is not installed \
                 (Debian/Ubuntu: apt-get install systemd)"
            ));
            None
        }
        Err(error) => panic!("cannot run systemd-analyze: {error}"),
    }
}

/// A path as one `ExecStart=` word: systemd expands `%` specifiers and `$` variables and splits
/// on whitespace, so escape those and quote when needed.
fn exec_word(path: &Path) -> String {
    let path = path.to_str().expect("the binary's path is UTF-8");
    assert!(
        !path.contains('"') && !path.contains('\\'),
        "cannot put {path:?} in ExecStart="
    );
    let escaped = path.replace('%', "%%").replace('$', "$$");
    if escaped.contains(char::is_whitespace) {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

/// The unit text with the program of its one `ExecStart=` line replaced by `program`, arguments
/// kept.
fn with_exec_start(unit: &str, program: &Path) -> String {
    with_exec_word(unit, &exec_word(program))
}

/// [`with_exec_start`] with the program given as an `ExecStart=` word, specifiers and all.
fn with_exec_word(unit: &str, program: &str) -> String {
    let mut found = 0;
    let mut out = String::with_capacity(unit.len() + 100);
    for line in unit.lines() {
        match line.strip_prefix("ExecStart=") {
            Some(command) => {
                found += 1;
                let args = command.split_once(' ').map_or("", |(_, args)| args);
                out.push_str(&format!("ExecStart={program} {args}"));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    assert_eq!(found, 1, "the unit must have exactly one ExecStart= line");
    out
}

/// The instance the template units are checked as.
const INSTANCE: &str = "alice";

/// A scratch folder holding the unit under the name it is installed as (`wawebd.service` or
/// the template `wawebd@.service`), pointed at the built binary, and an empty 0700
/// `XDG_RUNTIME_DIR` for `--user` runs. A template is checked as the instance [`INSTANCE`].
struct Scratch {
    dir: tempfile::TempDir,
    unit: String,
}

impl Scratch {
    fn new(unit_file: &str) -> Scratch {
        let program = exec_word(Path::new(env!("CARGO_BIN_EXE_wawebd")));
        Scratch::with_program(unit_file, &program, INSTANCE)
    }

    /// The unit with `program` (an `ExecStart=` word) as its program, checked as `instance`
    /// if it is a template.
    fn with_program(unit_file: &str, program: &str, instance: &str) -> Scratch {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let template = unit_file.contains('@');
        let installed = if template {
            "wawebd@.service"
        } else {
            "wawebd.service"
        };
        let unit = with_exec_word(&read_unit(unit_file), program);
        fs::write(dir.path().join(installed), unit).expect("writing the unit copy");
        let runtime = dir.path().join("xdg-runtime");
        fs::create_dir(&runtime).expect("creating XDG_RUNTIME_DIR");
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        let unit = if template {
            format!("wawebd@{instance}.service")
        } else {
            installed.to_owned()
        };
        Scratch { dir, unit }
    }

    /// The unit to check: for a template, an instance file that does not exist, so systemd
    /// loads the template beside it and fills in `%i`.
    fn unit(&self) -> PathBuf {
        self.dir.path().join(&self.unit)
    }

    /// Runs `systemd-analyze ARGS… UNIT` (plus `--user` and `XDG_RUNTIME_DIR` if `user`).
    fn analyze(&self, user: bool, args: &[&str]) -> Output {
        let _one_at_a_time = ANALYZE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut command = Command::new("systemd-analyze");
        command
            .env("LC_ALL", "C")
            .env("SYSTEMD_COLORS", "0")
            .env("SYSTEMD_PAGER", "")
            .env_remove("SYSTEMD_LOG_LEVEL");
        if user {
            command
                .arg("--user")
                .env("XDG_RUNTIME_DIR", self.dir.path().join("xdg-runtime"));
        }
        command.args(args).arg(self.unit());
        command.output().expect("running systemd-analyze")
    }
}

/// `verify` must exit 0 and print nothing on stderr: an unknown key is only a warning there.
fn assert_verify_clean(unit_file: &str, user: bool) {
    assert_verify_clean_in(&Scratch::new(unit_file), unit_file, user);
}

fn assert_verify_clean_in(scratch: &Scratch, unit_file: &str, user: bool) {
    let output = scratch.analyze(user, &["verify", "--man=no"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze{} verify --man=no {unit_file}: {}\nstdout:\n{}\nstderr:\n{stderr}",
        if user { " --user" } else { "" },
        output.status,
        String::from_utf8_lossy(&output.stdout),
    );
}

/// The number on `systemd-analyze security`'s "Overall exposure level for X: 1.1 OK" line.
fn overall_exposure(report: &str) -> Option<f64> {
    let line = report
        .lines()
        .find(|line| line.contains("Overall exposure level for"))?;
    let (_, rest) = line.rsplit_once(": ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The checks that still cost points, for a failure message or the log.
fn exposed(report: &str) -> String {
    report
        .lines()
        // "✗ Key=" in a UTF-8 locale, "- Key=" in the C locale used here.
        .filter(|line| line.starts_with("- ") || line.starts_with('✗'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn system_unit_verifies_cleanly() {
    if analyze_available("system_unit_verifies_cleanly").is_some() {
        assert_verify_clean("wawebd-system.service", false);
    }
}

#[test]
fn user_unit_verifies_cleanly() {
    if analyze_available("user_unit_verifies_cleanly").is_some() {
        assert_verify_clean("wawebd.service", true);
    }
}

/// The templates as the instance `wawebd@alice.service` (the system one, then the user one).
#[test]
fn templates_verify_cleanly_as_an_instance() {
    if analyze_available("templates_verify_cleanly_as_an_instance").is_some() {
        for (file, user) in [("wawebd-system@.service", false), ("wawebd@.service", true)] {
            assert_verify_clean(file, user);
        }
    }
}

/// systemd fills the instance name into the templates' `%i`: with the program at
/// `<dir>/%i/wawebd` and a binary only at `<dir>/alice/wawebd`, `wawebd@alice` verifies and
/// `wawebd@bob` fails for want of `<dir>/bob/wawebd`.
#[test]
fn templates_get_the_instance_name_from_systemd() {
    if analyze_available("templates_get_the_instance_name_from_systemd").is_none() {
        return;
    }
    let bin = tempfile::tempdir().expect("a temporary directory");
    fs::create_dir(bin.path().join(INSTANCE)).expect("creating the instance's folder");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_wawebd"),
        bin.path().join(INSTANCE).join("wawebd"),
    )
    .expect("linking the binary");
    let program = format!("{}/%i/wawebd", exec_word(bin.path()));
    for (file, user) in [("wawebd-system@.service", false), ("wawebd@.service", true)] {
        let alice = Scratch::with_program(file, &program, INSTANCE);
        assert_verify_clean_in(&alice, file, user);
        let bob = Scratch::with_program(file, &program, "bob");
        let output = bob.analyze(user, &["verify", "--man=no"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let missing = format!("{}/bob/wawebd", bin.path().display());
        assert!(
            !output.status.success() && stderr.contains(&missing),
            "{file} as wawebd@bob: expected a complaint about {missing}: {}\n{stderr}",
            output.status
        );
    }
}

#[test]
fn system_unit_exposure_is_at_most_2() {
    if analyze_available("system_unit_exposure_is_at_most_2").is_none() {
        return;
    }
    for file in ["wawebd-system.service", "wawebd-system@.service"] {
        assert_exposure_at_most_2(file);
    }
}

fn assert_exposure_at_most_2(file: &str) {
    let scratch = Scratch::new(file);
    let threshold = format!("--threshold={}", (SYSTEM_EXPOSURE_MAX * 10.0) as u32);
    let output = scratch.analyze(false, &["security", "--offline=yes", &threshold]);
    let report = String::from_utf8_lossy(&output.stdout);
    let score = overall_exposure(&report).unwrap_or_else(|| {
        panic!(
            "no overall exposure in the output of systemd-analyze security ({}):\n{report}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    notice(&format!(
        "systemd-analyze security --offline=yes: system unit ({file}) {score:.1}"
    ));
    assert!(
        output.status.success() && score <= SYSTEM_EXPOSURE_MAX,
        "the system unit's exposure is {score} ({}), more than {SYSTEM_EXPOSURE_MAX}; \
         what still counts:\n{}",
        output.status,
        exposed(&report)
    );
}

/// The user unit's figure is only reported: the offline scorer rates a user unit as if it ran as
/// root with every capability, so most of its points are for things a user process cannot do.
#[test]
fn user_unit_exposure_is_reported() {
    if analyze_available("user_unit_exposure_is_reported").is_none() {
        return;
    }
    let scratch = Scratch::new("wawebd.service");
    let output = scratch.analyze(true, &["security", "--offline=yes"]);
    let report = String::from_utf8_lossy(&output.stdout);
    let score = overall_exposure(&report).unwrap_or_else(|| {
        panic!(
            "no overall exposure in the output of systemd-analyze --user security ({}):\n{report}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(
        output.status.success(),
        "systemd-analyze --user security: {}",
        output.status
    );
    notice(&format!(
        "systemd-analyze --user security --offline=yes: user unit (wawebd.service) {score:.1} \
         (informational: the offline scorer counts capabilities a user service never has)"
    ));
}

/// `Key=value` pairs of a unit, in order, comments and section headers left out.
fn settings(unit: &str) -> Vec<(&str, &str)> {
    unit.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with(['#', ';', '[']))
        .filter_map(|line| line.split_once('='))
        .collect()
}

fn has(unit: &[(&str, &str)], key: &str, value: &str) -> bool {
    unit.iter().any(|&(k, v)| k == key && v == value)
}

/// What the issue asks of both units, checked without systemd, so it holds on any machine.
#[test]
fn units_keep_the_service_contract() {
    for file in ["wawebd.service", "wawebd-system.service"] {
        let text = read_unit(file);
        let unit = settings(&text);
        for (key, value) in [
            ("Type", "notify"),
            ("NotifyAccess", "main"),
            ("Restart", "on-failure"),
            ("RuntimeDirectory", "wawebd"),
            ("RuntimeDirectoryMode", "0700"),
            ("UMask", "0077"),
            ("NoNewPrivileges", "yes"),
            ("LimitNOFILE", "8192"),
        ] {
            assert!(has(&unit, key, value), "{file} lacks {key}={value}");
        }
        assert!(
            unit.iter().any(|&(k, _)| k == "WatchdogSec"),
            "{file} lacks WatchdogSec="
        );
        let exec = unit
            .iter()
            .find(|&&(k, _)| k == "ExecStart")
            .map(|&(_, v)| v)
            .unwrap_or_else(|| panic!("{file} lacks ExecStart="));
        assert!(
            exec.contains(" run ") && exec.contains("--socket=${RUNTIME_DIRECTORY}/wawebd.sock"),
            "{file}: ExecStart= must run the daemon on $RUNTIME_DIRECTORY/wawebd.sock: {exec}"
        );
    }

    let system = read_unit("wawebd-system.service");
    let system = settings(&system);
    for (key, value) in [
        ("User", "wawebd"),
        ("StateDirectory", "wawebd"),
        ("StateDirectoryMode", "0700"),
        (
            "ExecStart",
            "/usr/local/bin/wawebd run --socket=${RUNTIME_DIRECTORY}/wawebd.sock --state-dir=${STATE_DIRECTORY}",
        ),
    ] {
        assert!(
            has(&system, key, value),
            "wawebd-system.service lacks {key}={value}"
        );
    }
    // A static user (sysusers.d) keeps the uid fixed for `sudo -u wawebd wawebctl`.
    assert!(!system.iter().any(|&(k, _)| k == "DynamicUser"));
    let sysusers = read_unit("wawebd.sysusers.conf");
    assert!(
        sysusers
            .lines()
            .any(|line| line.split_whitespace().take(2).eq(["u", "wawebd"])),
        "wawebd.sysusers.conf must create the user wawebd"
    );

    // A user manager may not touch the capability bounding set: each of these makes a user
    // service fail with status=218/CAPABILITIES (seen with systemd 252).
    let user = read_unit("wawebd.service");
    let user = settings(&user);
    for key in [
        "CapabilityBoundingSet",
        "AmbientCapabilities",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectClock",
        "PrivateDevices",
        "User",
        "DynamicUser",
    ] {
        assert!(
            !user.iter().any(|&(k, _)| k == key),
            "the user unit must not set {key}="
        );
    }
}

fn exec_start<'a>(file: &str, unit: &[(&str, &'a str)]) -> &'a str {
    unit.iter()
        .find(|&&(k, _)| k == "ExecStart")
        .map(|&(_, v)| v)
        .unwrap_or_else(|| panic!("{file} lacks ExecStart="))
}

/// The value of `--flag=VALUE` in a command line.
fn flag<'a>(exec: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("--{name}=");
    exec.split_whitespace()
        .find_map(|word| word.strip_prefix(prefix.as_str()))
}

/// The templates are the single-account units with the account's own socket, state and name
/// (DESIGN.md section 10), and every unit keeps the shared socket folder when it stops, so
/// that stopping one account leaves the others' sockets alone.
#[test]
fn templates_run_one_account_each_in_a_shared_socket_folder() {
    for (template, single) in [
        ("wawebd@.service", "wawebd.service"),
        ("wawebd-system@.service", "wawebd-system.service"),
    ] {
        let (template_text, single_text) = (read_unit(template), read_unit(single));
        let (unit, plain) = (settings(&template_text), settings(&single_text));
        for file_unit in [(template, &unit), (single, &plain)] {
            let (file, unit) = file_unit;
            assert!(
                has(unit, "RuntimeDirectory", "wawebd")
                    && has(unit, "RuntimeDirectoryPreserve", "yes"),
                "{file} must keep the shared RuntimeDirectory=wawebd on stop"
            );
        }
        // Everything else as in the single-account unit, but for the lines that name the account.
        let differs = |key: &str| {
            matches!(
                key,
                "Description" | "ExecStart" | "StateDirectory" | "RuntimeDirectoryPreserve"
            )
        };
        let same = |unit: &[(&str, &str)]| -> Vec<(String, String)> {
            unit.iter()
                .filter(|(key, _)| !differs(key))
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        assert_eq!(same(&unit), same(&plain), "{template} vs {single}");

        let exec = exec_start(template, &unit);
        assert!(exec.contains(" run "), "{template}: {exec}");
        assert_eq!(flag(exec, "account"), Some("%i"), "{template}: {exec}");
        let socket = flag(exec, "socket").unwrap_or_else(|| panic!("{template}: {exec}"));
        // The socket in the unit is the one wawebctl --account picks: $RUNTIME_DIRECTORY is
        // $XDG_RUNTIME_DIR/wawebd in a user manager (/run/wawebd, i.e. the same rule with
        // /run, for the system one).
        let name = waweb_proto::AccountName::new(INSTANCE).unwrap();
        let expanded = socket
            .replace("${RUNTIME_DIRECTORY}", "/run/user/7/wawebd")
            .replace("%i", INSTANCE);
        let rule = waweb_proto::account_socket_path_from(&name, |var| {
            (var == "XDG_RUNTIME_DIR").then(|| "/run/user/7".into())
        })
        .unwrap();
        assert_eq!(Path::new(&expanded), rule, "{template}: {exec}");
    }

    let system = read_unit("wawebd-system@.service");
    let system = settings(&system);
    assert!(has(&system, "StateDirectory", "wawebd/%i"));
    assert_eq!(
        flag(exec_start("wawebd-system@.service", &system), "state-dir"),
        Some("${STATE_DIRECTORY}")
    );
    // The user template leaves the state folder to the daemon's --account rule, as the user
    // unit does (no StateDirectory=: its place moved between systemd versions).
    let user = read_unit("wawebd@.service");
    let user = settings(&user);
    assert!(!user.iter().any(|&(k, _)| k == "StateDirectory"));
    assert_eq!(
        flag(exec_start("wawebd@.service", &user), "state-dir"),
        None
    );

    // The parent of the system template's state folders is wawebd's and private.
    let tmpfiles = read_unit("wawebd.tmpfiles.conf");
    assert!(
        tmpfiles.lines().any(|line| line.split_whitespace().eq([
            "d",
            "/var/lib/wawebd",
            "0700",
            "wawebd",
            "wawebd",
            "-"
        ])),
        "wawebd.tmpfiles.conf must create /var/lib/wawebd 0700 for wawebd:\n{tmpfiles}"
    );
}

#[test]
fn exec_start_rewrite_keeps_arguments_and_escapes() {
    let unit = "[Service]\nExecStart=/usr/local/bin/wawebd run --socket=${RUNTIME_DIRECTORY}/x\n";
    assert_eq!(
        with_exec_start(unit, Path::new("/b/wawebd")),
        "[Service]\nExecStart=/b/wawebd run --socket=${RUNTIME_DIRECTORY}/x\n"
    );
    assert_eq!(
        with_exec_start(unit, Path::new("/my dir/100%/wawebd")),
        "[Service]\nExecStart=\"/my dir/100%%/wawebd\" run --socket=${RUNTIME_DIRECTORY}/x\n"
    );
    assert_eq!(
        overall_exposure("x\n→ Overall exposure level for wawebd.service: 1.1 OK :-)\n"),
        Some(1.1)
    );
    assert_eq!(
        overall_exposure("-> Overall exposure level for wawebd.service: 9.6 UNSAFE\n"),
        Some(9.6)
    );
    assert_eq!(overall_exposure("nothing here"), None);
}
