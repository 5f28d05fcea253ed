//! Many accounts (DESIGN.md section 10): two real daemons on two accounts, their paths
//! derived by wawebd's `--account` rule, each reached by `wawebctl --account` and both listed
//! by `wawebctl accounts`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::Value;
use waweb_proto::AccountName;
use wawebd::config::{Config, Overrides};

use crate::ctl::spawn_ctl_in;
use crate::support::{Harness, Options};

/// The XDG folders of one user, in a temp dir: runtime, state, and an empty config home.
struct User {
    dir: tempfile::TempDir,
}

impl User {
    fn var(&self, name: &str) -> Option<String> {
        let sub = match name {
            "XDG_RUNTIME_DIR" => "run",
            "XDG_STATE_HOME" => "state",
            "XDG_CONFIG_HOME" => "config",
            "HOME" => "home",
            _ => return None,
        };
        Some(self.dir.path().join(sub).to_str().unwrap().to_owned())
    }

    /// The socket and state dir `wawebd --account NAME` would use.
    fn paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let overrides = Overrides {
            account: Some(AccountName::new(name).unwrap()),
            ..Overrides::default()
        };
        let config = Config::resolve(overrides, &|var| self.var(var)).unwrap();
        (config.socket, config.state_dir)
    }

    fn env(&self) -> BTreeMap<String, OsString> {
        let name = "XDG_RUNTIME_DIR".to_owned();
        BTreeMap::from([(name.clone(), self.var(&name).unwrap().into())])
    }

    fn runtime(&self) -> PathBuf {
        self.var("XDG_RUNTIME_DIR").unwrap().into()
    }
}

async fn ctl(user: &User, args: &[&str]) -> String {
    let (result, out) = spawn_ctl_in(args, Some(user.env())).await.unwrap();
    assert_eq!(result, Ok(()), "wawebctl {args:?}");
    out
}

async fn state_of(user: &User, account: &str) -> Value {
    let out = ctl(user, &["--account", account, "--json", "status"]).await;
    serde_json::from_str::<Value>(&out).unwrap()["state"].clone()
}

#[tokio::test]
async fn two_accounts_have_their_own_daemon_socket_and_session() {
    let user = User {
        dir: tempfile::Builder::new().prefix("waweb").tempdir().unwrap(),
    };
    let (alice_socket, alice_state) = user.paths("alice");
    let (bob_socket, bob_state) = user.paths("bob");
    let sockets = user.runtime().join("wawebd");
    assert_eq!(alice_socket, sockets.join("alice.sock"));
    assert_eq!(bob_socket, sockets.join("bob.sock"));
    let state_home = Path::new(&user.var("XDG_STATE_HOME").unwrap()).join("wawebd");
    assert_eq!(alice_state, state_home.join("alice"));
    assert_eq!(bob_state, state_home.join("bob"));

    let start = |paths| {
        Harness::start_with(Options {
            paths: Some(paths),
            ..Options::default()
        })
    };
    let mut alice = start((alice_socket, alice_state.clone())).await;
    let mut bob = start((bob_socket.clone(), bob_state.clone())).await;

    // Only alice pairs: her session is hers, bob's daemon is untouched.
    let _subscribed = alice.pair().await;
    assert!(alice_state.join("session.json").exists());
    assert!(!bob_state.join("session.json").exists());
    assert_eq!(state_of(&user, "alice").await, "connected");
    assert_eq!(state_of(&user, "bob").await, "logged_out");

    let out = ctl(&user, &["accounts", "--json"]).await;
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let listed: Vec<(&Value, &Value, &Value)> = rows
        .iter()
        .map(|row| (&row["account"], &row["running"], &row["status"]["state"]))
        .collect();
    assert_eq!(
        listed,
        [
            (&"alice".into(), &true.into(), &"connected".into()),
            (&"bob".into(), &true.into(), &"logged_out".into()),
        ],
        "{out}"
    );
    let table = ctl(&user, &["accounts"]).await;
    assert!(
        table.lines().nth(1).unwrap().starts_with("alice"),
        "{table}"
    );

    // Stopping bob leaves alice's daemon and socket alone, and bob's socket goes with him.
    bob.stop_daemon().await;
    assert!(!bob_socket.exists());
    assert_eq!(state_of(&user, "alice").await, "connected");
    let out = ctl(&user, &["accounts", "--json"]).await;
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("\"alice\""), "{out}");
    let (result, _) = spawn_ctl_in(&["--account", "bob", "status"], Some(user.env()))
        .await
        .unwrap();
    assert!(result.unwrap_err().contains("not running"));
}
