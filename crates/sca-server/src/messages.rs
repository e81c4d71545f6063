//! SMS and e-mail. Messages are written to the outbox table in the same transaction that decides
//! to send them (so an OTP is never sent for a login that did not commit, and never lost after
//! one that did); a dispatcher then hands undelivered rows to a [`Gateway`].
//!
//! With no gateway (the default), the outbox table is the record, shown at `/dev/outbox` in
//! sandbox mode. [`WebhookGateway`] posts each message to a provider over HTTPS (rustls).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::storage::{OutboxRow, Store};

/// A delivery failed (it is retried).
#[derive(Debug, thiserror::Error)]
#[error("message delivery failed: {0}")]
pub struct GatewayError(pub String);

/// Delivers one message to a provider.
pub trait Gateway: Send + Sync + fmt::Debug {
    /// Sends `message`; `Ok` once the provider accepted it.
    fn deliver<'a>(&'a self, message: &'a OutboxRow) -> BoxFuture<'a, Result<(), GatewayError>>;
}

/// What the webhook receives.
#[derive(Debug, Serialize)]
struct WebhookMessage<'a> {
    id: i64,
    to: &'a str,
    channel: &'a str,
    body: &'a str,
    at: i64,
}

/// POSTs `{"id","to","channel","body","at"}` to a provider's URL.
pub struct WebhookGateway {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl fmt::Debug for WebhookGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookGateway")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl WebhookGateway {
    /// A gateway posting to `url`, with `authorization: Bearer <token>` if given.
    pub fn new(url: String, token: Option<String>) -> Result<Self, GatewayError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| GatewayError(e.to_string()))?;
        Ok(Self { client, url, token })
    }
}

impl Gateway for WebhookGateway {
    fn deliver<'a>(&'a self, m: &'a OutboxRow) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async move {
            let mut req = self.client.post(&self.url).json(&WebhookMessage {
                id: m.id,
                to: &m.recipient,
                channel: &m.channel,
                body: &m.body,
                at: m.created_at,
            });
            if let Some(token) = &self.token {
                req = req.bearer_auth(token);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| GatewayError(e.without_url().to_string()))?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(GatewayError(format!("provider answered {}", resp.status())))
            }
        })
    }
}

/// The advisory lock key of outbox delivery.
const OUTBOX_LEASE: i64 = 0x5349_4731_4f55_5442; // "SIG1OUTB"

/// Runs forever: delivers undelivered outbox rows through `gateway` whenever `wake` is notified
/// (after a commit that queued messages) and every few seconds (retries), while this instance
/// holds the delivery lease.
pub async fn dispatch(
    store: Store,
    gateway: Arc<dyn Gateway>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    keep_bodies: bool,
) {
    // One instance at a time delivers (a message is sent once, not once per instance); another
    // takes over within a round when it dies.
    let mut lease: Option<crate::storage::Lease> = None;
    loop {
        let _ = tokio::time::timeout(Duration::from_secs(5), wake.notified()).await;
        let held = match lease.as_mut() {
            Some(l) => l.held().await,
            None => false,
        };
        if !held {
            lease = store.lease(OUTBOX_LEASE).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "outbox: cannot take the delivery lease");
                None
            });
            if lease.is_none() {
                continue;
            }
        }
        let rows = match store.undelivered(100).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "outbox: cannot read");
                continue;
            }
        };
        for row in rows {
            let result = gateway.deliver(&row).await;
            let now = clock.now();
            let id = row.id;
            let write = match result {
                Ok(()) => {
                    store
                        .write(move |w| Box::pin(async move { w.outbox_delivered(&[id], now, keep_bodies).await }))
                        .await
                }
                Err(e) => {
                    tracing::warn!(message = id, error = %e, "outbox: delivery failed, will retry");
                    store
                        .write(move |w| Box::pin(async move { w.outbox_attempt_failed(id).await }))
                        .await
                }
            };
            if let Err(e) = write {
                tracing::warn!(error = %e, "outbox: cannot record delivery");
            }
        }
    }
}
