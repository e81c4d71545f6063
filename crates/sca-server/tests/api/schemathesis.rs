//! The OpenAPI document says exactly what the server does (issue 11 §8): schemathesis generates
//! requests from it — every operation, every check it has — against a sandbox server with a
//! logged-in customer, and finds no server error and no answer the document does not describe.
//!
//! Run by `make api-fuzz` (part of `make test`), which installs schemathesis from PyPI into a
//! virtual environment and names it in `SCHEMATHESIS`. Left out, with the reason:
//! `positive_data_acceptance` — some values a schema cannot state (the check digit of user codes
//! and operation identifiers, P-256 points, IBAN checksums, names once trimmed) are answered 400
//! naming the field, which that check would count as a refusal of valid data.

use std::time::Duration;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by `make api-fuzz`, which installs schemathesis"]
async fn schemathesis_finds_the_document_exact() {
    let st = std::env::var("SCHEMATHESIS")
        .expect("SCHEMATHESIS must name the schemathesis command (make api-fuzz installs it)");
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".into());
    let server = TestServer::start().await;
    let c = server.admin_create("Fuzz Cliente", "+393339990001").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let cookie = web.cookie.clone().unwrap();
    let csrf = web.csrf.clone().unwrap();
    // Logout ends the session the other operations use: it runs on its own, last.
    for filter in ["--exclude-path-regex", "--include-path-regex"] {
        let out = tokio::time::timeout(
            Duration::from_secs(900),
            tokio::process::Command::new(&st)
                // Its cache and reports go to the server's throwaway folder, not the source tree.
                .current_dir(server.dir.path())
                .arg("run")
                .arg(server.url("/api/openapi.json"))
                .args([filter, "^/api/v1/logout$"])
                .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
                .args(["--max-examples", &examples, "--seed", "20261202", "--no-color"])
                .args(["--request-timeout", "10"])
                .arg("-H")
                .arg(format!("cookie: {cookie}"))
                .arg("-H")
                .arg(format!("x-csrf-token: {csrf}"))
                .output(),
        )
        .await
        .expect("schemathesis ran for 15 minutes")
        .expect("schemathesis starts");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The summary, for the log (and docs/security.md).
        let summary: Vec<&str> = text.lines().skip_while(|l| !l.contains("SUMMARY")).collect();
        println!("{filter}:\n{}", summary.join("\n"));
        assert!(out.status.success(), "schemathesis found failures:\n{text}");
    }
}
