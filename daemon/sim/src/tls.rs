//! TLS for the simulator (`wawebd sim --tls`): a fresh self-signed certificate for `127.0.0.1`
//! and `localhost` (an IP and a DNS subject alternative name) and the rustls server settings
//! that serve `wss://…/ws` and `https://…/` with it, on the ring provider.
//!
//! A client trusts the simulator by taking [`Tls::certificate_pem`] as its CA file:
//!
//! ```text
//! wawebd sim --tls --cert-out /tmp/sim.pem
//! wawebd --server-url wss://127.0.0.1:P/ws --ca-file /tmp/sim.pem
//! ```

use std::fmt;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names the certificate is valid for.
const NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// A self-signed certificate and the server settings that present it. Cheap to clone.
#[derive(Clone)]
pub struct Tls {
    certificate_pem: String,
    acceptor: TlsAcceptor,
}

impl Tls {
    /// Generates a new key pair and a self-signed certificate for `127.0.0.1` and `localhost`.
    pub fn self_signed() -> std::io::Result<Tls> {
        let certified = rcgen::generate_simple_self_signed(NAMES.map(str::to_owned).to_vec())
            .map_err(std::io::Error::other)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .map_err(std::io::Error::other)?;
        // The simulator speaks HTTP/1.1 only (the websocket upgrade needs it).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            certificate_pem: certified.cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The certificate in PEM, for a client's CA file. Public; the key never leaves the process.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("names", &NAMES)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_certificate_is_new_and_in_pem() {
        let one = Tls::self_signed().unwrap();
        let two = Tls::self_signed().unwrap();
        assert!(
            one.certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        assert!(
            one.certificate_pem()
                .trim_end()
                .ends_with("-----END CERTIFICATE-----")
        );
        assert!(!one.certificate_pem().contains("PRIVATE KEY"));
        assert_ne!(one.certificate_pem(), two.certificate_pem());
    }
}
