//! The app speaks HTTPS itself when given a certificate: a handshake with a
//! certificate made for this test, and HSTS on the answer.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use garage_infra::testing::TestDb;

use crate::helpers::spawn_app_with;

#[actix_web::test]
async fn https_is_served_with_the_configured_certificate() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("garage_tls_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__TLS__CERT_PATH", cert_path.to_str().unwrap()),
            ("APP__TLS__KEY_PATH", key_path.to_str().unwrap()),
        ],
    )
    .await;
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();

    let der = certified.cert.der().clone();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap())
            .unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .expect("the TLS handshake succeeds");
        let mut answer = Vec::new();
        // The server may close without close_notify: keep what was read.
        let _ = tls.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).to_lowercase()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains("strict-transport-security: max-age="),
        "{answer}"
    );

    let plain = app
        .client
        .get(format!("{}/health/live", app.base))
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| r.status() != 200),
        "plain HTTP is not served on the TLS port"
    );
    std::fs::remove_dir_all(&dir).ok();
}
