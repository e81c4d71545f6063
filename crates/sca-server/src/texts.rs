//! What the bank tells its customers by SMS and e-mail, in Italian and in English, in one place.

use crate::storage::Credential;

/// The alert sent when `credential` is blocked after `max` wrong answers in a row.
pub(crate) fn blocked_alert(credential: Credential, max: u32) -> String {
    let (it, en) = match credential {
        Credential::Password => ("la tua password è stata bloccata", "your password has been blocked"),
        Credential::Code => (
            "i codici del tuo autenticatore sono stati bloccati",
            "your authenticator codes have been blocked",
        ),
        Credential::SmsOtp => (
            "i tuoi codici SMS sono stati bloccati",
            "your SMS codes have been blocked",
        ),
        Credential::SecurityCode => (
            "il tuo codice di sicurezza è stato bloccato",
            "your security code has been blocked",
        ),
    };
    format!(
        "Sigillo: {it} dopo {max} tentativi errati. Se non sei stato tu, chiama la tua filiale. Sblocca con il \
         codice di sicurezza e un codice SMS, o in filiale. / Sigillo: {en} after {max} wrong attempts. If it was \
         not you, call your branch. Unblock with your security code and an SMS code, or at the branch."
    )
}
