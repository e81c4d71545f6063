//! Desktop notifications for pushes, shown while the app runs (also minimized or behind other
//! windows). A click on one ("default" action of the freedesktop spec) opens its approval.
//!
//! notify-rust directly rather than tauri-plugin-notification: the plugin is notify-rust too on
//! Linux, but it gives no way to learn that a notification was clicked.
//!
//! A notification lives only as long as its operation is waiting: once the operation is approved,
//! rejected or expired, its profile removed, the kiosk session ended or the app closed, it is
//! withdrawn. A payee and an amount must not stay on a branch kiosk's screen for the next
//! customer, and a stale notification would open an approval that no longer exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tauri::AppHandle;

use crate::sync::lock;
use crate::views::{OpenApproval, PendingView};

/// The desktop's language, until the authenticator window says which one the customer picked:
/// Italian unless it is English.
pub fn desktop_is_english() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| v.starts_with("en"))
}

/// Who reads the notification.
#[derive(Debug, Clone, Copy, Default)]
pub struct Audience {
    /// In English (else Italian).
    pub en: bool,
    /// On a branch kiosk: the screen is shared, so no user code, and no notification that stays
    /// for the next customer.
    pub kiosk: bool,
}

/// `text` for a notification body: servers read the body as markup (`<b>`, `<a href>`, `<img>`),
/// and a payee's name is the bank's customer's choice, so `&`, `<` and `>` are escaped.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Title and body of the notification for `view`: what it is and what to compare, never a code;
/// every value from the operation escaped; on a kiosk, no user code.
pub fn texts(view: &PendingView, to: Audience) -> (String, String) {
    let op = &view.operation;
    let field = |k: &str| op.fields.iter().find(|f| f.key == k).map(|f| plain(&f.value));
    let amount = field("A").map(|a| {
        // "1250.00EUR" → "1250.00 EUR"
        let (n, c) = a.split_at(a.len().saturating_sub(3));
        format!("{n} {c}")
    });
    let who = plain(&view.profile_name);
    let (of_it, of_en) = if to.kiosk {
        (String::new(), String::new())
    } else {
        (format!(" di {who}"), format!(" of {who}"))
    };
    let op_id = plain(&op.op_id);
    match (op.kind.as_str(), to.en) {
        ("LOGIN", false) => (
            "Sigillo: conferma l'accesso".into(),
            format!("Accesso ad Area Clienti{of_it}: scrivi il numero che vedi nella pagina."),
        ),
        ("LOGIN", true) => (
            "Sigillo: confirm the login".into(),
            format!("Login to the Customer Area{of_en}: type the number the page shows."),
        ),
        ("TRANSFER", false) => (
            "Sigillo: autorizza il bonifico".into(),
            format!(
                "{} a {} — controlla i dati e conferma con il PIN.",
                amount.unwrap_or_default(),
                field("B").unwrap_or_default()
            ),
        ),
        ("TRANSFER", true) => (
            "Sigillo: authorize the transfer".into(),
            format!(
                "{} to {} — check the details and confirm with your PIN.",
                amount.unwrap_or_default(),
                field("B").unwrap_or_default()
            ),
        ),
        ("CARD_PAYMENT", en) => {
            // "****1234" → "**** 1234"; "25.00EUR" → "25,00 EUR" in Italian.
            let card = field("C").map(|c| c.replacen("****", "**** ", 1)).unwrap_or_default();
            let merchant = field("M").unwrap_or_default();
            let amount = amount.unwrap_or_default();
            if en {
                (
                    "Sigillo: authorize the card payment".into(),
                    format!("Card payment with card {card} at {merchant}: {amount}"),
                )
            } else {
                (
                    "Sigillo: autorizza il pagamento".into(),
                    format!(
                        "Pagamento con carta {card} presso {merchant}: {}",
                        amount.replacen('.', ",", 1)
                    ),
                )
            }
        }
        ("PAGOPA", en) => {
            let amount = amount.unwrap_or_default();
            let creditor = field("B").unwrap_or_default();
            if en {
                (
                    "Sigillo: authorize the pagoPA payment".into(),
                    format!("pagoPA notice to {creditor}: {amount} — check the details and confirm with your PIN."),
                )
            } else {
                (
                    "Sigillo: autorizza il pagamento pagoPA".into(),
                    format!(
                        "Avviso pagoPA a {creditor}: {} — controlla i dati e conferma con il PIN.",
                        amount.replacen('.', ",", 1)
                    ),
                )
            }
        }
        ("DEVICE", false) => (
            "Sigillo: nuovo dispositivo".into(),
            "Autorizza l'attivazione di un altro dispositivo solo se l'hai chiesta tu.".into(),
        ),
        ("DEVICE", true) => (
            "Sigillo: new device".into(),
            "Authorize activating another device only if you asked for it.".into(),
        ),
        (_, false) => (
            "Sigillo: operazione da autorizzare".into(),
            format!("Operazione {op_id}{of_it}: controlla i dati."),
        ),
        (_, true) => (
            "Sigillo: operation to authorize".into(),
            format!("Operation {op_id}{of_en}: check the details."),
        ),
    }
}

/// Where the notification of one operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Asked for: the notification server has not answered yet.
    Showing,
    /// Withdrawn while it was being shown: it is closed as soon as it is up.
    Withdrawn,
    /// On screen, with the server's id.
    Shown(u32),
}

/// The notifications on screen, by profile and operation identifier.
#[derive(Clone, Debug, Default)]
pub struct Shown(Arc<Mutex<HashMap<(String, String), Slot>>>);

impl Shown {
    /// Marks `key` as being shown.
    fn showing(&self, key: (String, String)) {
        lock(&self.0).insert(key, Slot::Showing);
    }

    /// The server answered with `id`: false if the operation was withdrawn meanwhile (the caller
    /// then closes it).
    fn up(&self, key: &(String, String), id: u32) -> bool {
        let mut slots = lock(&self.0);
        if slots.get(key) == Some(&Slot::Showing) {
            slots.insert(key.clone(), Slot::Shown(id));
            true
        } else {
            slots.remove(key);
            false
        }
    }

    /// The notification `id` is gone (clicked or closed): forget it.
    fn gone(&self, key: &(String, String), id: Option<u32>) {
        let mut slots = lock(&self.0);
        if id.is_none_or(|id| slots.get(key) == Some(&Slot::Shown(id))) {
            slots.remove(key);
        }
    }

    /// Marks withdrawn every operation `which` picks: the ids of those on screen (to close),
    /// and those still being shown are closed as soon as they are up.
    fn take(&self, which: impl Fn(&(String, String)) -> bool) -> Vec<u32> {
        let mut ids = Vec::new();
        lock(&self.0).retain(|key, slot| match *slot {
            _ if !which(key) => true,
            Slot::Shown(id) => {
                ids.push(id);
                false
            }
            Slot::Showing | Slot::Withdrawn => {
                *slot = Slot::Withdrawn;
                true
            }
        });
        ids
    }

    /// Takes the notification of `op_id` off the screen, if it has one (off the caller's thread).
    pub fn withdraw(&self, profile_id: &str, op_id: &str) {
        close_in_background(self.take(|(p, op)| p == profile_id && op == op_id));
    }

    /// Takes the notifications of profiles not in `keep` off the screen (profiles removed).
    pub fn withdraw_others(&self, keep: &std::collections::HashSet<String>) {
        close_in_background(self.take(|(p, _)| !keep.contains(p)));
    }

    /// Takes every notification off the screen (a kiosk session ends, the app exits), waiting
    /// for the notification server so that none outlives the app.
    pub fn withdraw_all(&self) {
        close(&self.take(|_| true));
    }

    /// The ids on screen.
    #[cfg(test)]
    fn on_screen(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = lock(&self.0)
            .values()
            .filter_map(|s| match s {
                Slot::Shown(id) => Some(*id),
                Slot::Showing | Slot::Withdrawn => None,
            })
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// `CloseNotification` for each id, on the session bus (any connection may close any id).
fn close(ids: &[u32]) {
    if ids.is_empty() {
        return;
    }
    let closed = zbus::blocking::Connection::session().and_then(|bus| {
        for id in ids {
            bus.call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.freedesktop.Notifications"),
                "CloseNotification",
                id,
            )?;
        }
        Ok(())
    });
    if let Err(e) = closed {
        tracing::warn!(error = %e, "cannot withdraw a notification");
    }
}

fn close_in_background(ids: Vec<u32>) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = std::thread::Builder::new()
        .name("notification-close".into())
        .spawn(move || close(&ids))
    {
        tracing::warn!(error = %e, "cannot withdraw a notification");
    }
}

/// Shows the notification of a new pending operation, on its own thread (the D-Bus call and the
/// wait for a click both block). The thread ends when the notification is clicked or closed.
/// `on_click` opens the approval the notification is about (the app's window logic, which this
/// module does not know).
pub fn operation(
    app: &AppHandle,
    shown: &Shown,
    view: &PendingView,
    to: Audience,
    on_click: fn(&AppHandle, OpenApproval),
) {
    let (summary, body) = texts(view, to);
    let en = to.en;
    // Critical notifications never expire: on a kiosk, a payee and an amount would stay on the
    // screen for the next customer.
    let urgency = if to.kiosk {
        notify_rust::Urgency::Normal
    } else {
        notify_rust::Urgency::Critical
    };
    let app = app.clone();
    let target = OpenApproval {
        profile_id: view.profile_id.clone(),
        op_id: view.operation.op_id.clone(),
    };
    let key = (target.profile_id.clone(), target.op_id.clone());
    shown.showing(key.clone());
    let open = if en { "Open" } else { "Apri" };
    let (thread_shown, thread_key) = (shown.clone(), key.clone());
    let spawned = std::thread::Builder::new().name("notification".into()).spawn(move || {
        let (shown, key) = (thread_shown, thread_key);
        let handle = notify_rust::Notification::new()
            .appname("Sigillo")
            .summary(&summary)
            .body(&body)
            .icon("sigillo")
            .action("default", open)
            .urgency(urgency)
            .show();
        let handle = match handle {
            Ok(handle) => handle,
            // No notification server (a bare session): the window still shows the push.
            Err(e) => {
                shown.gone(&key, None);
                tracing::info!(error = %e, "no desktop notification");
                return;
            }
        };
        let id = handle.id();
        if !shown.up(&key, id) {
            // Resolved, or the session ended, before the server answered.
            handle.close();
            return;
        }
        // The server sends the click to this connection only, so the wait is on the handle's.
        handle.wait_for_action(|action| {
            if action == "default" {
                on_click(&app, target);
            }
        });
        shown.gone(&key, Some(id));
    });
    if let Err(e) = spawned {
        shown.gone(&key, None);
        tracing::warn!(error = %e, "cannot show a notification");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{FieldView, OperationView};

    fn view(kind: &str, fields: &[(&str, &str)]) -> PendingView {
        PendingView {
            profile_id: "p".into(),
            profile_name: "demo".into(),
            operation: OperationView {
                op_id: "57240000".into(),
                kind: kind.into(),
                fields: fields
                    .iter()
                    .map(|(k, v)| FieldView {
                        key: (*k).into(),
                        value: (*v).into(),
                    })
                    .collect(),
                expires: 0,
                payload: String::new(),
            },
            needs_number: false,
            received_at: 0,
        }
    }

    #[test]
    fn a_transfer_notification_names_amount_and_payee_in_both_languages() {
        let v = view("TRANSFER", &[("A", "1250.00EUR"), ("B", "Mario Rossi")]);
        let (title, body) = texts(&v, Audience::default());
        assert!(title.contains("bonifico"));
        assert_eq!(
            body,
            "1250.00 EUR a Mario Rossi — controlla i dati e conferma con il PIN."
        );
        let (title, body) = texts(&v, Audience { en: true, kiosk: false });
        assert!(title.contains("transfer"));
        assert!(body.starts_with("1250.00 EUR to Mario Rossi"));
    }

    #[test]
    fn a_pagopa_notification_names_creditor_and_amount_in_both_languages() {
        let v = view(
            "PAGOPA",
            &[
                ("A", "27.30EUR"),
                ("B", "INPS"),
                ("F", "80078750587"),
                ("N", "302000100000012345"),
            ],
        );
        let (title, body) = texts(&v, Audience::default());
        assert!(title.contains("pagoPA"), "{title}");
        assert_eq!(
            body,
            "Avviso pagoPA a INPS: 27,30 EUR — controlla i dati e conferma con il PIN."
        );
        let (_, body) = texts(&v, Audience { en: true, kiosk: false });
        assert!(body.starts_with("pagoPA notice to INPS: 27.30 EUR"), "{body}");
    }

    #[test]
    fn a_card_payment_notification_names_card_merchant_and_amount_escaped() {
        let v = view(
            "CARD_PAYMENT",
            &[("A", "25.00EUR"), ("C", "****1234"), ("M", "Caffè <b>Roma</b> & Co")],
        );
        let (title, body) = texts(&v, Audience::default());
        assert!(title.contains("pagamento"));
        assert_eq!(
            body,
            "Pagamento con carta **** 1234 presso Caffè &lt;b&gt;Roma&lt;/b&gt; &amp; Co: 25,00 EUR"
        );
        let (_, body) = texts(&v, Audience { en: true, kiosk: false });
        assert_eq!(
            body,
            "Card payment with card **** 1234 at Caffè &lt;b&gt;Roma&lt;/b&gt; &amp; Co: 25.00 EUR"
        );
    }

    fn key(op: &str) -> (String, String) {
        ("p".into(), op.into())
    }

    #[test]
    fn a_notification_withdrawn_before_the_server_answers_is_closed_once_it_is_up() {
        let shown = Shown::default();
        shown.showing(key("1"));
        shown.withdraw("p", "1");
        // The server's answer comes after the withdrawal: the thread must close it.
        assert!(!shown.up(&key("1"), 7));
        assert!(shown.on_screen().is_empty());
        assert!(lock(&shown.0).is_empty());
    }

    #[test]
    fn withdrawing_others_keeps_the_notifications_of_the_profiles_kept() {
        let shown = Shown::default();
        for (p, op, id) in [("a", "1", 1), ("b", "2", 2), ("c", "3", 3)] {
            shown.showing((p.into(), op.into()));
            assert!(shown.up(&(p.into(), op.into()), id));
        }
        shown.withdraw_others(&["b".to_owned()].into_iter().collect());
        assert_eq!(shown.on_screen(), vec![2]);
    }

    #[test]
    fn a_closed_notification_is_forgotten_but_not_a_newer_one_for_the_same_operation() {
        let shown = Shown::default();
        shown.showing(key("1"));
        assert!(shown.up(&key("1"), 5));
        shown.gone(&key("1"), Some(4));
        assert_eq!(shown.on_screen(), vec![5]);
        shown.gone(&key("1"), Some(5));
        assert!(shown.on_screen().is_empty());
    }

    #[test]
    fn a_login_notification_asks_for_the_number() {
        let mut v = view("LOGIN", &[]);
        v.needs_number = true;
        let (_, body) = texts(&v, Audience::default());
        assert!(body.contains("numero"));
    }

    #[test]
    fn markup_in_a_payee_name_is_shown_as_text() {
        let v = view(
            "TRANSFER",
            &[("A", "5.00EUR"), ("B", "<b>Banca</b> & <a href=\"x\">Co</a>")],
        );
        let (_, body) = texts(&v, Audience::default());
        assert!(
            body.contains("&lt;b&gt;Banca&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;Co&lt;/a&gt;"),
            "{body}"
        );
        assert!(!body.contains('<'));
    }

    #[test]
    fn a_kiosk_notification_names_no_user_code() {
        let mut v = view("LOGIN", &[]);
        v.profile_name = "12345678".into();
        for en in [false, true] {
            let (_, mine) = texts(&v, Audience { en, kiosk: false });
            assert!(mine.contains("12345678"));
            let (_, kiosk) = texts(&v, Audience { en, kiosk: true });
            assert!(!kiosk.contains("12345678"), "{kiosk}");
        }
    }
}
