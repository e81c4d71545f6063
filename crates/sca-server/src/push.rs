//! Push across instances (issue 13): on PostgreSQL, what one instance publishes to its hub —
//! a new operation, a decided one, a removed device, a block, changed devices — reaches the
//! streams held by every other instance.
//!
//! `LISTEN/NOTIFY` is a wake-up hint only, never the truth: a notification is lost while a
//! listener reconnects, and its payload is bounded (8000 bytes; an operation's is a few hundred).
//! So after every (re)connection, and every [`REREAD_EVERY`], each stream of the instance reads
//! the table again (`HubEvent::Resync`, handled as a stream that lagged): a missed hint costs a
//! delay, never an operation.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

use crate::state::{AppState, HubEvent};
use crate::storage::OperationStatus;

/// The notification channel.
const CHANNEL: &str = "sca_hub";

/// How often every stream reads the table again, in case a hint was lost without the listener
/// noticing.
pub const REREAD_EVERY: Duration = Duration::from_secs(60);

/// What travels in a notification.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The instance that published it (it does not deliver its own twice).
    from: String,
    customer: i64,
    event: WireEvent,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum WireEvent {
    Operation { op_id: String, payload: String },
    DeviceRemoved { device_id: String },
    CodesBlocked,
    Status { op_id: String, status: String },
    DevicesChanged,
}

impl WireEvent {
    fn of(event: &HubEvent) -> Option<Self> {
        Some(match event {
            HubEvent::Operation { op_id, payload } => Self::Operation {
                op_id: op_id.clone(),
                payload: payload.clone(),
            },
            HubEvent::DeviceRemoved { device_id } => Self::DeviceRemoved {
                device_id: device_id.clone(),
            },
            HubEvent::CodesBlocked => Self::CodesBlocked,
            HubEvent::Status { op_id, status } => Self::Status {
                op_id: op_id.clone(),
                status: status.as_str().to_owned(),
            },
            HubEvent::DevicesChanged => Self::DevicesChanged,
            HubEvent::Resync => return None,
        })
    }

    fn into_event(self) -> Option<HubEvent> {
        Some(match self {
            Self::Operation { op_id, payload } => HubEvent::Operation { op_id, payload },
            Self::DeviceRemoved { device_id } => HubEvent::DeviceRemoved { device_id },
            Self::CodesBlocked => HubEvent::CodesBlocked,
            Self::Status { op_id, status } => HubEvent::Status {
                op_id,
                status: OperationStatus::parse(&status)?,
            },
            Self::DevicesChanged => HubEvent::DevicesChanged,
        })
    }
}

/// Starts the two tasks of an instance on PostgreSQL: one sends what its hub publishes as
/// notifications (in order), one listens for the others'.
pub(crate) fn start(state: &AppState, pool: PgPool, instance: String) {
    let (tx, rx) = mpsc::unbounded_channel();
    state.0.hub.forward_to(tx);
    tokio::spawn(send(pool.clone(), rx, instance.clone()));
    tokio::spawn(listen(state.clone(), pool, instance));
}

/// The most notifications one statement sends.
const SEND_MAX: usize = 256;

async fn send(pool: PgPool, mut rx: mpsc::UnboundedReceiver<(i64, Arc<HubEvent>)>, instance: String) {
    let mut payloads: Vec<String> = Vec::with_capacity(SEND_MAX);
    while let Some(first) = rx.recv().await {
        // What has queued up meanwhile goes in the same statement: one round trip for a burst
        // (each approval publishes one event) instead of one per event.
        let mut next = Some(first);
        while let Some((customer, event)) = next.take() {
            if let Some(event) = WireEvent::of(&event) {
                let wire = Wire {
                    from: instance.clone(),
                    customer,
                    event,
                };
                match serde_json::to_string(&wire) {
                    // PostgreSQL refuses a payload of 8000 bytes or more (and with it the
                    // statement): that hint is left to the re-read.
                    Ok(payload) if payload.len() < 8000 => payloads.push(payload),
                    Ok(payload) => tracing::warn!(bytes = payload.len(), "push: a hint too long to send"),
                    Err(_) => {}
                }
            }
            if payloads.len() < SEND_MAX {
                next = rx.try_recv().ok();
            }
        }
        if payloads.is_empty() {
            continue;
        }
        // In the array's order (a function scan yields its rows in order, and the aggregate
        // calls `pg_notify` on each as it comes). Identical payloads in one transaction reach
        // the listeners once, which a hint allows.
        const SEND: &str = "SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p";
        let sent = sqlx::query(SEND).bind(CHANNEL).bind(&payloads).execute(&pool).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, n = payloads.len(), "push: notifications could not be sent together");
            // One at a time, so that one that fails costs only itself; the other instances'
            // streams catch up with what is lost at their next re-read.
            for payload in &payloads {
                if let Err(e) = sqlx::query(SEND)
                    .bind(CHANNEL)
                    .bind(std::slice::from_ref(payload))
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "push: a notification could not be sent");
                }
            }
        }
        payloads.clear();
    }
}

async fn listen(state: AppState, pool: PgPool, instance: String) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "push: cannot connect the listener; trying again");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "push: LISTEN failed; trying again");
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        // Listening again: whatever was published meanwhile is read from the table.
        state.0.hub.resync_all();
        let mut reread = tokio::time::interval(REREAD_EVERY);
        reread.tick().await;
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) => deliver(&state, &instance, notification.payload()),
                    // The connection was lost: a new listener, then a re-read.
                    Ok(None) | Err(_) => break,
                },
                _ = reread.tick() => state.0.hub.resync_all(),
            }
        }
        tracing::warn!("push: the listener's connection was lost; listening again");
    }
}

fn deliver(state: &AppState, instance: &str, payload: &str) {
    let Ok(wire) = serde_json::from_str::<Wire>(payload) else {
        tracing::warn!("push: a notification of another form was ignored");
        return;
    };
    if wire.from == instance {
        return;
    }
    let Some(event) = wire.event.into_event() else { return };
    if matches!(event, HubEvent::DevicesChanged | HubEvent::DeviceRemoved { .. }) {
        state.forget_device_keys_here(wire.customer);
    }
    state.0.hub.publish_here(wire.customer, Arc::new(event));
}
