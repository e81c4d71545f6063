//! Desktop notifications for pushes, shown while the app runs (also minimized or behind other
//! windows). A click on one ("default" action of the freedesktop spec) opens its approval.
//!
//! notify-rust directly rather than tauri-plugin-notification: the plugin is notify-rust too on
//! Linux, but it gives no way to learn that a notification was clicked.

use tauri::AppHandle;

use crate::state::Shared;
use crate::views::{OpenApproval, PendingView};

/// Italian unless the desktop's language is English.
fn english() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| v.starts_with("en"))
}

/// Title and body of the notification for `view`: what it is and what to compare, never a code.
pub fn texts(view: &PendingView, en: bool) -> (String, String) {
    let op = &view.operation;
    let field = |k: &str| op.fields.iter().find(|f| f.key == k).map(|f| f.value.clone());
    let amount = field("A").map(|a| {
        // "1250.00EUR" → "1250.00 EUR"
        let (n, c) = a.split_at(a.len().saturating_sub(3));
        format!("{n} {c}")
    });
    let who = view.profile_name.as_str();
    match (op.kind.as_str(), en) {
        ("LOGIN", false) => (
            "Sigillo: conferma l'accesso".into(),
            format!("Accesso ad Area Clienti di {who}: scegli il numero che vedi nella pagina."),
        ),
        ("LOGIN", true) => (
            "Sigillo: confirm the login".into(),
            format!("Login to the Customer Area of {who}: pick the number the page shows."),
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
            format!("Operazione {} di {who}: controlla i dati.", op.op_id),
        ),
        (_, true) => (
            "Sigillo: operation to authorize".into(),
            format!("Operation {} of {who}: check the details.", op.op_id),
        ),
    }
}

/// Shows the notification of a new pending operation, on its own thread (the D-Bus call and the
/// wait for a click both block).
pub fn operation(app: &AppHandle, view: &PendingView) {
    let (summary, body) = texts(view, english());
    let app = app.clone();
    let target = OpenApproval {
        profile_id: view.profile_id.clone(),
        op_id: view.operation.op_id.clone(),
    };
    let open = if english() { "Open" } else { "Apri" };
    let spawned = std::thread::Builder::new().name("notification".into()).spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Sigillo")
            .summary(&summary)
            .body(&body)
            .icon("sigillo")
            .action("default", open)
            .urgency(notify_rust::Urgency::Critical)
            .show();
        match shown {
            Ok(handle) => handle.wait_for_action(|action| {
                if action == "default" {
                    Shared::open_approval(&app, target);
                }
            }),
            // No notification server (a bare session): the window still shows the push.
            Err(e) => tracing::info!(error = %e, "no desktop notification"),
        }
    });
    if let Err(e) = spawned {
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
            number_choices: None,
            received_at: 0,
        }
    }

    #[test]
    fn a_transfer_notification_names_amount_and_payee_in_both_languages() {
        let v = view("TRANSFER", &[("A", "1250.00EUR"), ("B", "Mario Rossi")]);
        let (title, body) = texts(&v, false);
        assert!(title.contains("bonifico"));
        assert_eq!(
            body,
            "1250.00 EUR a Mario Rossi — controlla i dati e conferma con il PIN."
        );
        let (title, body) = texts(&v, true);
        assert!(title.contains("transfer"));
        assert!(body.starts_with("1250.00 EUR to Mario Rossi"));
    }

    #[test]
    fn a_login_notification_asks_for_the_number_and_never_shows_it() {
        let mut v = view("LOGIN", &[]);
        v.number_choices = Some(vec![17, 42, 88]);
        let (_, body) = texts(&v, false);
        assert!(body.contains("numero"));
        assert!(!body.contains("42"));
    }
}
