//! HTTPS in front of a test server, the way an organisation runs Countersign behind a
//! TLS-terminating proxy: a certificate authority made for this test alone, a server
//! certificate it signed for the names asked for, and a listener on 127.0.0.1 that ends TLS
//! and relays the plain bytes to the server.
//!
//! The authority is trusted nowhere on the machine; a test trusts it for one process by
//! pointing `SSL_CERT_FILE` at [`TlsFront::authority_file`] (rustls-native-certs reads that
//! variable on Linux, and the client's certificate check goes through it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub struct TlsFront {
    addr: SocketAddr,
    authority: PathBuf,
    _dir: tempfile::TempDir,
    accepting: JoinHandle<()>,
}

impl TlsFront {
    /// Listens on 127.0.0.1 (a free port) with a certificate valid for `names` (DNS names
    /// or IP addresses), relaying every connection to `upstream` once its handshake is done.
    pub async fn start(upstream: SocketAddr, names: &[&str]) -> Self {
        Self::launch(upstream, names, false).await
    }

    /// As [`TlsFront::start`], with a server certificate that expired in 2021 (its authority
    /// still valid): what a server shows when nobody renewed it.
    pub async fn start_expired(upstream: SocketAddr, names: &[&str]) -> Self {
        Self::launch(upstream, names, true).await
    }

    async fn launch(upstream: SocketAddr, names: &[&str], expired: bool) -> Self {
        let authority_key = KeyPair::generate().expect("a key for the test authority");
        let mut authority = CertificateParams::new(Vec::<String>::new()).unwrap();
        authority
            .distinguished_name
            .push(DnType::CommonName, "Countersign test authority");
        authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        authority.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let authority_cert = authority.self_signed(&authority_key).unwrap();
        let issuer = Issuer::new(authority, authority_key);

        let server_key = KeyPair::generate().expect("a key for the server");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut server_params =
            CertificateParams::new(names).expect("names a certificate can carry");
        if expired {
            server_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            server_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let dir = tempfile::tempdir().expect("a directory for the authority's certificate");
        let authority_file = dir.path().join("authority.pem");
        std::fs::write(&authority_file, authority_cert.pem()).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .expect("the server certificate and its key");
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(acceptor.clone(), client, upstream));
            }
        });
        Self {
            addr,
            authority: authority_file,
            _dir: dir,
            accepting,
        }
    }

    /// `https://{host}:PORT`: the name the client asks for is `host`, whatever the
    /// certificate says, so a test can ask for a name it does not carry.
    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }

    /// The authority's certificate (PEM), for `SSL_CERT_FILE`.
    pub fn authority_file(&self) -> &Path {
        &self.authority
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// One connection: the handshake, then bytes both ways until either side closes. A failed
/// handshake (the client refused the certificate) just ends the connection, as a proxy does.
async fn relay(acceptor: TlsAcceptor, client: TcpStream, upstream: SocketAddr) {
    let Ok(mut tls) = acceptor.accept(client).await else {
        return;
    };
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
}
