//! The media host, a hyper service: serves encrypted blobs by `GET /d/<id>` (410 Gone once
//! expired, 404 when unknown) and accepts uploads as PROTOCOL.md 10.6 describes
//! (`POST /mms/<type>/<token>?auth=…&token=…`, token = base64url of the body's SHA-256, with or
//! without padding). Over `https://` when the simulator runs with TLS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use waweb_core::crypto;

use super::http::{self, Request, Response};
use crate::tasks::Tasks;

/// Largest upload accepted (the real service allowed 100 MB documents).
const MAX_UPLOAD: usize = 128 * 1024 * 1024;

/// Blobs by id, shared between the core (which stores what contacts send) and the HTTP side.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    base_url: String,
}

#[derive(Debug)]
struct Inner {
    blobs: HashMap<String, Vec<u8>>,
    expired: bool,
    auth: String,
    next_id: u64,
}

impl Store {
    pub fn new(base_url: String) -> Self {
        let mut auth = [0u8; 24];
        crypto::fill_random(&mut auth);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                blobs: HashMap::new(),
                expired: false,
                auth: STANDARD.encode(auth),
                next_id: 1,
            })),
            base_url,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a body and returns `(url, direct_path)`.
    pub fn put(&self, body: Vec<u8>) -> (String, String) {
        let mut inner = self.lock();
        let mut random = [0u8; 6];
        crypto::fill_random(&mut random);
        let id = format!("{}-{}", inner.next_id, URL_SAFE_NO_PAD.encode(random));
        inner.next_id += 1;
        inner.blobs.insert(id.clone(), body);
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

    /// The `auth` of the `mediaConn` reply.
    pub fn auth(&self) -> String {
        self.lock().auth.clone()
    }

    /// `host:port` for the `mediaConn` reply.
    pub fn hostname(&self) -> String {
        let base = self.base_url.as_str();
        base.strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .unwrap_or(base)
            .trim_end_matches('/')
            .to_owned()
    }

    fn get(&self, id: &str) -> Result<Vec<u8>, u16> {
        let inner = self.lock();
        match inner.blobs.get(id) {
            Some(_) if inner.expired => Err(410),
            Some(body) => Ok(body.clone()),
            None => Err(404),
        }
    }
}

/// Serves downloads and uploads on `listener`, through `tls` when given.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, store: Store, tasks: Tasks) {
    http::serve(listener, tls, "media host", tasks, move |request| {
        handle(request, store.clone())
    })
    .await;
}

async fn handle(request: Request, store: Store) -> Response {
    let path = request.uri().path().to_owned();
    match (request.method().as_str(), path.strip_prefix('/')) {
        ("GET", Some(rest)) if rest.starts_with("d/") => match store.get(&rest[2..]) {
            Ok(body) => http::respond(200, "application/octet-stream", body),
            Err(status) => http::respond(status, "text/plain", "media not available\n"),
        },
        ("POST", Some(rest)) if rest.starts_with("mms/") => {
            let query = http::parse_query(request.uri().query());
            let body = match http::read_body(request, MAX_UPLOAD).await {
                Ok(body) => body,
                Err(http::BodyError::TooLarge) => {
                    return http::respond(413, "application/json", "{\"status\":413}");
                }
                Err(error) => {
                    tracing::debug!("sim media host: {error}");
                    return http::respond(400, "application/json", "{\"status\":400}");
                }
            };
            let path_token = rest.rsplit('/').next().unwrap_or_default();
            let (status, reply) = upload(&store, &query, path_token, body);
            http::respond(status, "application/json", reply)
        }
        _ => http::respond(404, "text/plain", "not found\n"),
    }
}

fn upload(
    store: &Store,
    query: &HashMap<String, String>,
    path_token: &str,
    body: Vec<u8>,
) -> (u16, String) {
    if query.get("auth").map(String::as_str) != Some(store.auth().as_str()) {
        return (401, "{\"status\":401}".into());
    }
    let digest = crypto::sha256(&body);
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
        serde_json::json!({"url": url, "direct_path": direct_path}).to_string(),
    )
}
