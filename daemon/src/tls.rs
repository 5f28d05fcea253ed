//! The TLS client settings every outgoing connection uses: the websocket (`wss://`), the media
//! host and the logout request (`https://`).
//!
//! The trust anchors are the webpki roots (the public CAs, built in so the daemon does not
//! depend on the machine's store) plus, with `--ca-file FILE` / `ca_file = "…"`, the PEM
//! certificates in that file: a private CA or the simulator's self-signed certificate
//! (`wawebd sim --tls --cert-out FILE`). A certificate that does not verify is an error, never a
//! silent downgrade to plain text.
//!
//! ```text
//! wawebd --server-url wss://127.0.0.1:4443/ws --ca-file /tmp/sim.pem
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Why the TLS settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA file could not be read or holds no certificate.
    #[error("CA file {}: {message}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the settings.
    #[error("TLS settings: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Client settings for `wss://` and `https://`, trusting the webpki roots and `ca_file`.
///
/// `alpn` is what the connection offers: nothing for the websocket (tungstenite speaks
/// HTTP/1.1 only), `http/1.1` for the HTTP client.
pub fn client_config(ca_file: Option<&Path>, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, Error> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let fail = |message: String| Error::CaFile {
            path: path.to_owned(),
            message,
        };
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|error| fail(error.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| fail(error.to_string()))?;
        if certificates.is_empty() {
            return Err(fail("no PEM certificate in it".into()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|error| fail(error.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_certificates() {
        assert!(client_config(None, &[]).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let error = client_config(Some(&missing), &[]).unwrap_err().to_string();
        assert!(error.contains("missing.pem"), "{error}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = client_config(Some(&empty), &[]).unwrap_err().to_string();
        assert!(error.contains("no PEM certificate"), "{error}");
    }
}
