//! A push stream that falls behind the hub resyncs from the database instead of skipping
//! operations (issue 11 §5): with room for one event per customer, 40 transfers created at once
//! all reach the device.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn a_lagging_device_stream_misses_no_operation() {
    let server = TestServer::start_with(|c| c.hub_capacity = 1).await;
    let c = server.admin_create("Flusso Lento", "+393332220099").await;
    let device = Device::activate(&server, &c).await;
    let web = server.web_login(&c, &device).await;
    let mut events = device.events(server.clock.now_secs()).await;
    let transfers: Vec<_> = (0..40)
        .map(|i| {
            web.request(reqwest::Method::POST, "/api/v1/transfers")
                .json(
                    &serde_json::json!({"payee_name": "Anna Bianchi", "payee_iban": "IT60X0542811101000000123456",
                    "amount": format!("1.{i:02}"), "currency": "EUR"}),
                )
                .send()
        })
        .collect();
    let mut created = HashSet::new();
    for r in futures_util::future::join_all(transfers).await {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: serde_json::Value = r.json().await.unwrap();
        created.insert(v["op_id"].as_str().unwrap().to_owned());
    }
    let mut seen = HashSet::new();
    while !created.is_subset(&seen) {
        let (event, data) = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} of 40 operations reached the device",
                    created.intersection(&seen).count()
                )
            })
            .unwrap();
        if event == "operation" {
            seen.insert(data["op_id"].as_str().unwrap().to_owned());
        }
    }
}
