//! The Area Clienti pages at `/`, next to the API.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn pages_are_served_with_their_policy_and_the_api_keeps_its_404s() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><title>Area Clienti</title>",
    )
    .unwrap();
    std::fs::write(ui.path().join("assets/app-1a2b.js"), "console.log(1)").unwrap();
    let dir = ui.path().to_owned();
    let server = TestServer::start_with(move |c| c.ui_dir = Some(dir)).await;
    let get = |path: &str| server.http.get(server.url(path)).send();

    let r = get("/").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert!(r.text().await.unwrap().contains("Area Clienti"));

    let r = get("/assets/app-1a2b.js").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));

    for missing in ["/nothing.html", "/%2e%2e/Cargo.toml", "/assets/../../Cargo.toml"] {
        assert_eq!(get(missing).await.unwrap().status(), StatusCode::NOT_FOUND, "{missing}");
    }
    let r = get("/api/v1/nope").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = server.http.post(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The API's own strict policy is unchanged.
    let r = get("/api/openapi.json").await.unwrap();
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
}

/// The demo shop plays a merchant: served by a sandbox (also at `/dev/shop`), by no bank.
#[tokio::test]
async fn the_demo_shop_is_a_sandbox_page_only() {
    let ui = tempfile::tempdir().unwrap();
    for page in ["index.html", "shop.html", "challenge.html"] {
        std::fs::write(ui.path().join(page), format!("<!doctype html><title>{page}</title>")).unwrap();
    }
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for sandbox in [true, false] {
        let dir = ui.path().to_owned();
        let server = TestServer::start_with(move |c| {
            c.ui_dir = Some(dir);
            c.sandbox = sandbox;
        })
        .await;
        let status = |path: &'static str| {
            let r = no_redirect.get(server.url(path)).send();
            async move { r.await.unwrap().status() }
        };
        assert_eq!(
            status("/challenge.html").await,
            StatusCode::OK,
            "the bank's challenge page"
        );
        if sandbox {
            assert_eq!(status("/shop.html").await, StatusCode::OK);
            let r = no_redirect.get(server.url("/dev/shop")).send().await.unwrap();
            assert!(r.status().is_redirection());
            assert_eq!(r.headers()["location"], "/shop.html");
        } else {
            assert_eq!(status("/shop.html").await, StatusCode::NOT_FOUND);
            assert_eq!(status("/dev/shop").await, StatusCode::NOT_FOUND);
        }
    }
}
