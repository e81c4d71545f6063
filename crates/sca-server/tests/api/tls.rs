//! HTTPS in the server itself (issue 11 §8): a throwaway CA signs a certificate for localhost
//! and 127.0.0.1; a client trusting that CA gets HTTP/2 (ALPN) or HTTP/1.1 with HSTS, one that
//! does not cannot connect, and a plain-HTTP request to the TLS port gets no answer.

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use reqwest::{StatusCode, Version};

use crate::support::*;

/// `(ca.pem, cert.pem, key.pem)`: a CA, and a server certificate it signed for localhost and
/// 127.0.0.1.
fn test_pki() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Sigillo test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn https_with_http2_hsts_and_a_bank_ca() {
    let server = TestServer::start_with(|c| c.cookie_secure = true).await;
    let (ca, cert, key) = test_pki();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    // The files the wrong way round: an error that names the flag.
    let e = sca_server::tls::server_config(&key_path, &cert_path).unwrap_err();
    assert!(e.to_string().contains("--tls-"), "{e}");
    let config = sca_server::tls::server_config(&cert_path, &key_path).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(sca_server::tls::serve_tls(
        listener,
        server.state.clone(),
        config,
        std::future::pending(),
    ));
    let root = reqwest::Certificate::from_pem(ca.as_bytes()).unwrap();
    let trusting = |http1: bool| {
        let b = reqwest::Client::builder()
            .add_root_certificate(root.clone())
            .timeout(Duration::from_secs(10));
        if http1 { b.http1_only() } else { b }.build().unwrap()
    };
    for (host, http1, version) in [
        ("localhost", false, Version::HTTP_2),
        ("127.0.0.1", true, Version::HTTP_11),
    ] {
        let r = trusting(http1)
            .get(format!("https://{host}:{port}/api/v1/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.version(), version, "{host}");
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    }
    // A login over HTTPS sets a Secure cookie.
    let c = server.admin_create("Cliente Https", "+393331117001").await;
    let r = trusting(false)
        .post(format!("https://localhost:{port}/api/v1/login"))
        .json(&serde_json::json!({"user": c.user_code, "password": c.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
    // Without the bank's CA there is no connection at all.
    let stranger = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    assert!(
        stranger
            .get(format!("https://localhost:{port}/api/v1/health"))
            .send()
            .await
            .is_err()
    );
    // Nor does plain HTTP get an answer from the TLS port.
    assert!(
        stranger
            .get(format!("http://127.0.0.1:{port}/api/v1/health"))
            .send()
            .await
            .is_err()
    );
}
