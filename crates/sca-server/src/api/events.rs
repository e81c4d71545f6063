//! Server-sent event streams: an operation's (or login's) status for the page, and the pending
//! operations of a customer for a device. Both subscribe to the hub before reading the current
//! state, so nothing that happens in between is missed; heartbeats keep proxies from closing
//! idle streams.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt as _, stream};
use serde_json::json;
use tokio::sync::broadcast;

use crate::state::{AppState, HubEvent};
use crate::storage::OperationRow;
use crate::storage::OperationStatus;

fn status_event(status: &str) -> Event {
    Event::default()
        .event("status")
        .data(json!({ "status": status }).to_string())
}

struct StatusState {
    rx: broadcast::Receiver<Arc<HubEvent>>,
    first: Option<OperationStatus>,
    done: bool,
    op_id: String,
    row: i64,
    login: bool,
    deadline: tokio::time::Instant,
    state: AppState,
}

/// `status` events for one operation: the current status at once, then each change, ending after
/// a final status (or `expired` at the expiry). A stream that lagged behind the hub reads the
/// status from the table instead of skipping it.
pub(crate) fn status_stream(
    state: &AppState,
    op: OperationRow,
    login: bool,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
    let rx = state.0.hub.subscribe(op.customer_id);
    let now = state.now();
    let name = |s: OperationStatus, login: bool| {
        if login {
            super::login::login_status_name(s)
        } else {
            s.as_str()
        }
    };
    let left = (op.expires_at as u64).saturating_sub(now);
    let st = StatusState {
        rx,
        first: Some(op.status_at(now)),
        done: false,
        op_id: op.op_id.clone(),
        row: op.id,
        login,
        deadline: tokio::time::Instant::now() + Duration::from_secs(left),
        state: state.clone(),
    };
    let events = stream::unfold(st, move |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(s) = st.first.take() {
            st.done = !s.is_pending();
            return Some((status_event(name(s, st.login)), st));
        }
        loop {
            tokio::select! {
                received = st.rx.recv() => match received {
                    Ok(ev) if !matches!(*ev, HubEvent::Resync) => {
                        if let HubEvent::Status { op_id, status } = &*ev && *op_id == st.op_id {
                            st.done = !status.is_pending();
                            let s = name(*status, st.login);
                            return Some((status_event(s), st));
                        }
                    }
                    // Events were dropped while this stream lagged, or may have been missed
                    // between instances: the table is the truth.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        let now = st.state.now();
                        if let Ok(Some(op)) = st.state.store().operation_by_row(st.row).await {
                            let status = op.status_at(now);
                            if !status.is_pending() {
                                st.done = true;
                                let s = name(status, st.login);
                                return Some((status_event(s), st));
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep_until(st.deadline) => {
                    st.done = true;
                    return Some((status_event(OperationStatus::Expired.as_str()), st));
                }
            }
        }
    });
    Sse::new(events.map(Ok)).keep_alive(KeepAlive::new().interval(state.config().sse_heartbeat))
}

/// An `operation` event. A login's number to match is not in it: the customer must type the
/// number the page shows (CISA's number matching), so a device that approves by reflex, or
/// malware on it, cannot pass.
fn operation_event(op_id: &str, payload: &str) -> Event {
    let data = json!({ "op_id": op_id, "payload": payload });
    Event::default().event("operation").id(op_id).data(data.to_string())
}

/// A device's stream: an `operation` event `{"op_id","payload"}` for each pending
/// operation at connect and as they appear, and `status` events `{"op_id","status"}` when one is
/// decided (so the authenticator can drop its prompt). It ends when the device is removed. A
/// stream that lagged behind the hub sends the pending operations again from the table.
pub(crate) async fn device_stream(
    state: &AppState,
    customer_id: i64,
    device_id: String,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, crate::error::AppError> {
    let rx = state.0.hub.subscribe(customer_id);
    // Codes blocked: nothing to approve with (subscribed first, so an unblock in between is not
    // missed; a block in between ends the stream through the hub).
    if state.store().failures(customer_id).await?.code >= state.config().max_attempts {
        return Err(crate::error::AppError::blocked());
    }
    let pending = state.store().pending_operations(customer_id, state.now()).await?;
    let initial = stream::iter(
        pending
            .into_iter()
            .map(|op| operation_event(&op.op_id, &op.payload))
            .collect::<Vec<_>>(),
    );
    let live = stream::unfold(
        (
            rx,
            device_id,
            state.clone(),
            customer_id,
            std::collections::VecDeque::new(),
        ),
        |(mut rx, me, state, customer_id, mut resync)| async move {
            loop {
                if let Some(event) = resync.pop_front() {
                    return Some((event, (rx, me, state, customer_id, resync)));
                }
                match rx.recv().await {
                    Ok(ev) if !matches!(*ev, HubEvent::Resync) => {
                        let event = match &*ev {
                            HubEvent::DeviceRemoved { device_id } if *device_id == me => return None,
                            HubEvent::DeviceRemoved { .. } | HubEvent::DevicesChanged | HubEvent::Resync => continue,
                            HubEvent::CodesBlocked => return None,
                            HubEvent::Operation { op_id, payload } => operation_event(op_id, payload),
                            HubEvent::Status { op_id, status } => Event::default()
                                .event("status")
                                .data(json!({ "op_id": op_id, "status": status.as_str() }).to_string()),
                        };
                        return Some((event, (rx, me, state, customer_id, resync)));
                    }
                    // Events were dropped while this stream lagged, or may have been missed
                    // between instances: every pending operation is sent again from the table
                    // (the authenticator keys them by op id), and a removed device's stream ends.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        match state.store().device(&me).await {
                            Ok(Some(d)) if d.status == crate::storage::DeviceStatus::Active => {}
                            _ => return None,
                        }
                        match state.store().failures(customer_id).await {
                            Ok(f) if f.code < state.config().max_attempts => {}
                            _ => return None,
                        }
                        if let Ok(pending) = state.store().pending_operations(customer_id, state.now()).await {
                            resync.extend(pending.iter().map(|op| operation_event(&op.op_id, &op.payload)));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(initial.chain(live).map(Ok)).keep_alive(KeepAlive::new().interval(state.config().sse_heartbeat)))
}
