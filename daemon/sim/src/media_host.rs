//! The media host, a hyper service: serves encrypted blobs by `GET /d/<id>` (410 Gone once
//! expired, 404 when unknown) and accepts uploads as PROTOCOL.md 10.6 describes
//! (`POST /mms/<type>/<token>?auth=…&token=…`, token = base64url of the body's SHA-256, with or
//! without padding). Over `https://` when the simulator runs with TLS.
//!
//! Two listeners serve the same store, so `mediaConn` names two hosts and a client's fallback to
//! the next host can be seen: each upload is reported as
//! `{"type":"upload","host":"127.0.0.1:Q","path":"/mms/image","status":200,"bytes":N}`, and the
//! `fail_upload` command makes the next one fail with a status of the script's choice.
//! `media_fault` breaks downloads and uploads in the ways [`crate::media_fault`] lists; each
//! time one fires it is reported as `{"type":"media_fault","fault":F,"host":…,"method":M}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use hyper::body::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use waweb_core::crypto;

use super::http::{self, HangUp, Request, Response};
use super::media_fault::{self, Fault};
use crate::core::Input;
use crate::tasks::Tasks;

/// Largest upload accepted: above the real service's 100 MB documents, so that the Props limits
/// a test raises (and the 1 GiB disk benchmark, `examples/disk_media_bench.rs`) decide, not this.
const MAX_UPLOAD: usize = (1 << 30) + (64 << 20);

/// Blobs by id, shared between the core (which stores what contacts send) and the HTTP side.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    base_url: String,
    /// `host:port` of each listener, for `mediaConn`.
    hosts: Vec<String>,
    output: broadcast::Sender<Value>,
    /// The core, told of every upload before it is answered (`drop_at upload`).
    core: Option<mpsc::Sender<Input>>,
}

#[derive(Debug)]
struct Inner {
    /// Shared, so a download sends the stored bytes without copying them first.
    blobs: HashMap<String, Bytes>,
    expired: bool,
    auth: String,
    next_id: u64,
    /// The status the next upload fails with (`fail_upload`).
    fail_next: Option<u16>,
    /// Ids the host forgot (`forget_media`) and the status their downloads get.
    gone: HashMap<String, u16>,
    /// What `media_fault` armed.
    faults: media_fault::Armed,
}

impl Store {
    /// A store whose downloads are under `base_url`, served by `hosts`; uploads are reported on
    /// `output`.
    pub fn new(base_url: String, hosts: Vec<String>, output: broadcast::Sender<Value>) -> Self {
        let mut auth = [0u8; 24];
        crypto::fill_random(&mut auth);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                blobs: HashMap::new(),
                expired: false,
                auth: STANDARD.encode(auth),
                next_id: 1,
                fail_next: None,
                gone: HashMap::new(),
                faults: media_fault::Armed::default(),
            })),
            base_url,
            hosts,
            output,
            core: None,
        }
    }

    /// The store, telling `core` of each upload before answering it.
    pub fn with_core(mut self, core: mpsc::Sender<Input>) -> Self {
        self.core = Some(core);
        self
    }

    /// Tells the core an upload's body arrived and waits until it has acted on it (a cut of
    /// the websocket armed with `drop_at upload` is then queued).
    async fn upload_arrived(&self) {
        let Some(core) = &self.core else {
            return;
        };
        let (reply, done) = oneshot::channel();
        if core.send(Input::UploadArrived { reply }).await.is_ok() {
            let _ = done.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a body and returns `(url, direct_path)`.
    pub fn put(&self, body: impl Into<Bytes>) -> (String, String) {
        let mut inner = self.lock();
        let mut random = [0u8; 6];
        crypto::fill_random(&mut random);
        let id = format!("{}-{}", inner.next_id, URL_SAFE_NO_PAD.encode(random));
        inner.next_id += 1;
        inner.blobs.insert(id.clone(), body.into());
        let path = format!("/d/{id}");
        (format!("{}d/{id}", self.base_url), path)
    }

    /// From now on every download answers 410 Gone, as old media did.
    pub fn expire_all(&self) {
        self.lock().expired = true;
    }

    /// Downloads work again (a re-upload after a `media` query).
    pub fn refresh(&self) {
        self.lock().expired = false;
    }

    /// The host forgets one URL: its downloads answer `status` (404 or 410) from now on. The
    /// body moves to a new URL (what the phone's re-upload gives, PROTOCOL.md 10.5), or with
    /// `for_good` is dropped. Returns the new URL.
    pub fn forget(&self, url: &str, status: u16, for_good: bool) -> Result<Option<String>, String> {
        let id = blob_id(url)?.to_owned();
        let body = {
            let mut inner = self.lock();
            let body = inner
                .blobs
                .remove(&id)
                .ok_or_else(|| format!("the media host has no blob {id}"))?;
            inner.gone.insert(id, status);
            body
        };
        Ok((!for_good).then(|| self.put(body).0))
    }

    /// The `auth` of the `mediaConn` reply.
    pub fn auth(&self) -> String {
        self.lock().auth.clone()
    }

    /// `host:port` of every upload host, for the `mediaConn` reply.
    pub fn hostnames(&self) -> &[String] {
        &self.hosts
    }

    /// The next upload is answered with `status` instead of being stored.
    pub fn fail_next_upload(&self, status: u16) {
        self.lock().fail_next = Some(status);
    }

    /// The next `times` downloads of a blob the host has (or uploads, for an upload fault) get
    /// `fault`.
    pub fn arm_fault(&self, fault: Fault, times: u64, pause: Duration) {
        let mut state = self.lock();
        state.faults.arm(fault, times);
        state.faults.pause = pause;
    }

    fn report_fault(&self, fault: Fault, host: &str, method: &str) {
        let _ = self.output.send(json!({
            "type": "media_fault", "fault": fault.name(), "host": host, "method": method
        }));
    }

    /// Runs `check` on the body a download URL of this store points to, or says why there is
    /// none. The URL's host is not compared: the body is found by its id.
    pub fn with_blob<T>(&self, url: &str, check: impl FnOnce(&[u8]) -> T) -> Result<T, String> {
        let id = blob_id(url)?;
        let inner = self.lock();
        let body = inner
            .blobs
            .get(id)
            .ok_or_else(|| format!("the media host has no blob {id}"))?;
        Ok(check(body))
    }

    fn get(&self, id: &str) -> Result<Bytes, u16> {
        let inner = self.lock();
        if let Some(status) = inner.gone.get(id) {
            return Err(*status);
        }
        match inner.blobs.get(id) {
            Some(_) if inner.expired => Err(410),
            Some(body) => Ok(body.clone()),
            None => Err(404),
        }
    }
}

/// The blob id a download URL of this host names (its host is not compared).
fn blob_id(url: &str) -> Result<&str, String> {
    url.split('?')
        .next()
        .and_then(|url| url.rsplit_once("/d/"))
        .map(|(_, id)| id)
        .ok_or_else(|| "the url is not one of the media host's".to_owned())
}

/// Serves downloads and uploads on `listener`, through `tls` when given.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, store: Store, tasks: Tasks) {
    let host = listener
        .local_addr()
        .map(|addr| addr.to_string())
        .unwrap_or_default();
    http::serve(listener, tls, "media host", tasks, move |request| {
        handle(request, store.clone(), host.clone())
    })
    .await;
}

async fn handle(request: Request, store: Store, host: String) -> Result<Response, HangUp> {
    let path = request.uri().path().to_owned();
    Ok(match (request.method().as_str(), path.strip_prefix('/')) {
        ("GET", Some(rest)) if rest.starts_with("d/") => match store.get(&rest[2..]) {
            Ok(body) => {
                let (fault, pause) = {
                    let mut state = store.lock();
                    (state.faults.next_download(), state.faults.pause)
                };
                match fault {
                    Some(fault) => {
                        store.report_fault(fault, &host, "GET");
                        media_fault::download(fault, body.into(), pause)
                    }
                    None => http::respond(200, "application/octet-stream", body),
                }
            }
            Err(status) => http::respond(status, "text/plain", "media not available\n"),
        },
        ("POST", Some(rest)) if rest.starts_with("mms/") => {
            let fault = store.lock().faults.next_upload();
            if let Some(fault) = fault {
                store.report_fault(fault, &host, "POST");
            }
            let pace = match fault {
                Some(Fault::SlowUpload) => Some(media_fault::SLOW_UPLOAD_RATE),
                Some(fault) => return Err(media_fault::upload(fault, request).await),
                None => None,
            };
            let query = http::parse_query(request.uri().query());
            // The token check's hash runs on a blocking thread while the body arrives, so a
            // large upload is hashed and received at once (the pieces are shared, not copied).
            let (pieces, to_hash) = std::sync::mpsc::channel::<hyper::body::Bytes>();
            let hasher = tokio::task::spawn_blocking(move || {
                let mut hasher = Sha256::new();
                for piece in to_hash {
                    hasher.update(&piece);
                }
                <[u8; 32]>::from(hasher.finalize())
            });
            let body = http::read_body(request, MAX_UPLOAD, pace, |piece| {
                let _ = pieces.send(piece.clone());
            })
            .await;
            drop(pieces);
            let digest = hasher.await.unwrap_or_default();
            let body = match body {
                Ok(body) => body,
                Err(http::BodyError::TooLarge) => {
                    return Ok(http::respond(413, "application/json", "{\"status\":413}"));
                }
                Err(error) => {
                    tracing::debug!("sim media host: {error}");
                    return Ok(http::respond(400, "application/json", "{\"status\":400}"));
                }
            };
            store.upload_arrived().await;
            let path_token = rest.rsplit('/').next().unwrap_or_default();
            let bytes = body.len();
            let failed = store.lock().fail_next.take();
            let (status, reply) = match failed {
                Some(status) => (status, json!({"status": status}).to_string()),
                None => upload(&store, &query, path_token, body, digest),
            };
            let upload_path = path.rsplit_once('/').map_or("", |(path, _)| path);
            let _ = store.output.send(json!({
                "type": "upload", "host": host, "path": upload_path, "status": status, "bytes": bytes
            }));
            http::respond(status, "application/json", reply)
        }
        _ => http::respond(404, "text/plain", "not found\n"),
    })
}

fn upload(
    store: &Store,
    query: &HashMap<String, String>,
    path_token: &str,
    body: Vec<u8>,
    digest: [u8; 32],
) -> (u16, String) {
    if query.get("auth").map(String::as_str) != Some(store.auth().as_str()) {
        return (401, "{\"status\":401}".into());
    }
    let accepted = [URL_SAFE.encode(digest), URL_SAFE_NO_PAD.encode(digest)];
    let query_token = query.get("token").map(String::as_str).unwrap_or(path_token);
    let path_token = http::percent_decode(path_token);
    if !accepted.contains(&path_token) || !accepted.iter().any(|token| token == query_token) {
        return (
            400,
            "{\"status\":400,\"error\":\"token is not base64url(sha256(body))\"}".into(),
        );
    }
    let (url, direct_path) = store.put(body);
    (
        200,
        json!({"url": url, "direct_path": direct_path}).to_string(),
    )
}
