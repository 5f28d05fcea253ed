//! The scripted fake daemon the wawebctl tests talk to: a std Unix listener in a thread
//! answering JSON-RPC lines the way a test tells it to.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use clap::Parser;
use serde_json::{Value, json};
use tempfile::TempDir;
use wawebctl::{Cli, Failure, run};

/// What the fake writes back for one request: reply and event lines, then maybe hang up.
pub struct Answer {
    pub lines: Vec<Value>,
    pub close: bool,
}

impl Answer {
    pub fn result(request: &Value, result: Value) -> Answer {
        Answer {
            lines: vec![json!({"jsonrpc": "2.0", "id": request["id"], "result": result})],
            close: false,
        }
    }

    pub fn error(request: &Value, code: i64, kind: &str, message: &str) -> Answer {
        let error = json!({"code": code, "message": message, "data": {"kind": kind}});
        Answer {
            lines: vec![json!({"jsonrpc": "2.0", "id": request["id"], "error": error})],
            close: false,
        }
    }

    pub fn then_event(mut self, params: Value) -> Answer {
        self.lines
            .push(json!({"jsonrpc": "2.0", "method": "event", "params": params}));
        self
    }

    pub fn then_close(mut self) -> Answer {
        self.close = true;
        self
    }
}

/// A fake daemon on a socket in a temp dir; every request it gets is reported on `requests`.
pub struct Fake {
    _dir: TempDir,
    pub path: PathBuf,
    requests: mpsc::Receiver<Value>,
}

/// A temp dir for sockets (short: socket paths are limited to about 100 bytes).
pub fn socket_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("wawebctl")
        .tempdir()
        .unwrap()
}

impl Fake {
    pub fn start(script: impl FnMut(&Value) -> Answer + Send + 'static) -> Fake {
        let dir = socket_dir();
        let path = dir.path().join("wawebd.sock");
        Fake::start_at(dir, path, script)
    }

    /// A fake on `path` (below `dir`, which it keeps until dropped), as the daemon of an
    /// account listens on `<dir>/<name>.sock`.
    pub fn start_at(
        dir: TempDir,
        path: PathBuf,
        script: impl FnMut(&Value) -> Answer + Send + 'static,
    ) -> Fake {
        let listener = UnixListener::bind(&path).unwrap();
        let (seen, requests) = mpsc::channel();
        let script = Arc::new(Mutex::new(script));
        // Like the daemon, serve connections concurrently: wawebctl may open a second one (to
        // ask for the version) while the first is still open.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (script, seen) = (script.clone(), seen.clone());
                thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    for line in BufReader::new(stream).lines() {
                        let Ok(line) = line else { break };
                        let request: Value = serde_json::from_str(&line).unwrap();
                        let answer = (script.lock().unwrap())(&request);
                        let _ = seen.send(request);
                        for line in answer.lines {
                            if writeln!(writer, "{line}").is_err() {
                                break;
                            }
                        }
                        if answer.close {
                            break;
                        }
                    }
                });
            }
        });
        Fake {
            _dir: dir,
            path,
            requests,
        }
    }

    pub fn run(&self, args: &[&str]) -> (Result<(), Failure>, String) {
        let mut argv = vec!["wawebctl", "--socket", self.path.to_str().unwrap()];
        argv.extend_from_slice(args);
        run_in(&argv, &[])
    }

    pub fn requests(&self) -> Vec<Value> {
        self.requests.try_iter().collect()
    }

    /// Runs `args`, which must succeed sending exactly one request: that request (its method
    /// and params) and what was printed.
    pub fn one(&self, args: &[&str]) -> (Value, String) {
        let (result, out) = self.run(args);
        assert_eq!(result, Ok(()), "{args:?}");
        let mut requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        let request = requests.remove(0);
        (
            serde_json::json!({"method": request["method"], "params": request["params"]}),
            out,
        )
    }
}

/// Runs wawebctl in-process with `argv` (program name first) in the environment `env` only, as
/// `env -i VAR=VALUE… wawebctl …` would.
pub fn run_in(argv: &[&str], env: &[(&str, &str)]) -> (Result<(), Failure>, String) {
    let mut cli = Cli::try_parse_from(argv).unwrap();
    cli.env = Some(
        env.iter()
            .map(|&(name, value)| (name.to_owned(), value.into()))
            .collect(),
    );
    let mut out = Vec::new();
    let result = run(&cli, &mut out, false);
    (result, String::from_utf8(out).unwrap())
}
