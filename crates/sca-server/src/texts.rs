//! What the bank tells its customers by SMS and e-mail, in Italian and in English, in one place.

use crate::sca::OtpPurpose;
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

/// The SMS that carries a one-time code for `purpose`, valid `minutes`.
pub(crate) fn otp_sms(otp: &str, purpose: OtpPurpose, minutes: u64) -> String {
    let (it, en) = match purpose {
        OtpPurpose::Login => ("per accedere all'Area Clienti", "to log in to Area Clienti"),
        OtpPurpose::Activation => ("per attivare un nuovo autenticatore", "to activate a new authenticator"),
        OtpPurpose::Unblock => ("per sbloccare le tue credenziali", "to unblock your credentials"),
        OtpPurpose::PasswordReset => ("per reimpostare la password", "to reset your password"),
        OtpPurpose::PasswordChange => ("per cambiare la password", "to change your password"),
        OtpPurpose::Operation => ("per autorizzare un'operazione", "to authorize an operation"),
    };
    format!(
        "Sigillo: {otp} è il tuo codice {it}. Scade tra {minutes} minuti. Non darlo a nessuno, neanche alla banca. \
         / {otp} is your code {en}. It expires in {minutes} minutes. Never give it to anyone, not even the bank."
    )
}

/// The alert (SMS and e-mail) that a new authenticator named `name` was activated.
pub(crate) fn device_activated(name: &str) -> String {
    format!(
        "Sigillo: un nuovo autenticatore \"{name}\" è stato attivato sul tuo profilo. Se non sei stato tu, chiama la tua \
         filiale. / A new authenticator \"{name}\" was activated on your account. If it was not you, call your branch."
    )
}

/// The alert that an authenticator was removed.
pub(crate) const DEVICE_REMOVED: &str = "Sigillo: un autenticatore è stato rimosso dal tuo profilo. Se non sei stato tu, \
     chiama la tua filiale. / An authenticator was removed from your account. If it was not you, call your branch.";

/// The alert that operation `op_id` was rejected from an authenticator ("it wasn't me").
pub(crate) fn operation_rejected(op_id: &str) -> String {
    format!(
        "Sigillo: l'operazione {op_id} è stata rifiutata dal tuo autenticatore. Se l'ha avviata qualcun altro, chiama la \
         tua filiale. / Operation {op_id} was rejected from your authenticator. If someone else started it, call your branch."
    )
}

/// The SMS that tells the user codes registered on a phone.
pub(crate) fn user_codes(list: &str) -> String {
    format!("Sigillo: il tuo codice utente è {list}. / Your user code is {list}.")
}

/// What a GENERIC operation on a card's Key6 or 3-D Secure phone says it does (field `D`).
pub(crate) const KEY6_SET: &str = "Key6 3D Secure: imposta / set";
/// See [`KEY6_SET`].
pub(crate) const KEY6_CHANGE: &str = "Key6 3D Secure: cambia / change";
/// See [`KEY6_SET`].
pub(crate) const KEY6_SHOW: &str = "Key6 3D Secure: mostra / show";
/// See [`KEY6_SET`].
pub(crate) const KEY6_UNBLOCK: &str = "Key6 3D Secure: sblocca / unblock";
/// See [`KEY6_SET`]; followed by the new phone, masked.
pub(crate) const SECURE_PHONE: &str = "3D Secure: nuovo telefono / new phone";

/// The description of a card purchase in the account's movements, before the masked card.
pub(crate) const CARD_PAYMENT: &str = "Pagamento con carta / Card payment";

/// The alert (SMS to the card's 3-D Secure phone, e-mail to the customer) that the Key6 of card
/// `masked` is blocked after `max` wrong answers.
pub(crate) fn key6_blocked(masked: &str, max: u32) -> String {
    format!(
        "Sigillo: la Key6 della carta {masked} è stata bloccata dopo {max} codici errati (Key6 o SMS). Se non sei stato \
         tu, chiama la tua filiale. Sbloccala in Area Clienti > Le tue carte, o in filiale. / Sigillo: the Key6 of card \
         {masked} has been blocked after {max} wrong codes (Key6 or SMS). If it was not you, call your branch. Unblock \
         it in Area Clienti > Cards, or at the branch."
    )
}

/// The SMS with the one-time code of a card purchase: dynamic linking in the text itself.
pub(crate) fn purchase_sms(otp: &str, masked: &str, amount: &str, merchant: &str, minutes: u64) -> String {
    format!(
        "Sigillo: {otp} è il codice per pagare {amount} a {merchant} con la carta {masked}, da usare con la tua Key6. \
         Scade tra {minutes} minuti. Non darlo a nessuno. / {otp} is the code to pay {amount} to {merchant} with card \
         {masked}, to be used with your Key6. It expires in {minutes} minutes. Never give it to anyone."
    )
}

/// The alert (SMS to the card's 3-D Secure phone until then, e-mail) that card `masked` has a
/// new Key6.
pub(crate) fn key6_changed(masked: &str) -> String {
    format!(
        "Sigillo: la Key6 della carta {masked} è stata impostata. Se non sei stato tu, chiama la tua filiale. / \
         Sigillo: a Key6 was set for card {masked}. If it was not you, call your branch."
    )
}

/// The alert that the 3-D Secure SMS codes of card `masked` go to `phone` (masked) from now on.
pub(crate) fn secure_phone_changed(masked: &str, phone: &str) -> String {
    format!(
        "Sigillo: i codici SMS 3D Secure della carta {masked} andranno al numero {phone}. Se non sei stato tu, chiama \
         la tua filiale. / Sigillo: the 3-D Secure SMS codes of card {masked} will go to {phone}. If it was not you, \
         call your branch."
    )
}

/// The alert (SMS to the mobile the old bank certified, and e-mail) that a customer's legacy
/// credentials of `bank` are blocked after `max` wrong answers.
pub(crate) fn legacy_blocked_alert(bank: &str, max: u32) -> String {
    format!(
        "Sigillo: il primo accesso con le credenziali di {bank} è stato bloccato dopo {max} tentativi errati. Se non \
         sei stato tu, chiama la tua filiale; la filiale lo sblocca. / Sigillo: the first access with your {bank} \
         credentials has been blocked after {max} wrong attempts. If it was not you, call your branch; the branch \
         unblocks it."
    )
}

/// The SMS with the code of a first access step (`to_new`: the code proves a new number).
pub(crate) fn first_access_sms(otp: &str, bank: &str, to_new: bool, minutes: u64) -> String {
    let (it, en) = if to_new {
        (
            "per certificare questo numero".to_owned(),
            "to certify this number".to_owned(),
        )
    } else {
        (
            format!("per il primo accesso dei clienti ex {bank}"),
            format!("for the first access of former {bank} customers"),
        )
    };
    format!(
        "Sigillo: {otp} è il tuo codice {it}. Scade tra {minutes} minuti. Non darlo a nessuno, neanche alla banca. \
         / {otp} is your code {en}. It expires in {minutes} minutes. Never give it to anyone, not even the bank."
    )
}

/// The e-mail with the code that validates the address.
pub(crate) fn first_access_email_code(otp: &str, minutes: u64) -> String {
    format!(
        "Sigillo: il codice per convalidare questo indirizzo e-mail è {otp}. Scade tra {minutes} minuti. / The code \
         to validate this e-mail address is {otp}. It expires in {minutes} minutes."
    )
}

/// The confirmation e-mail at the end of a first access: the new user code, never the password,
/// and what comes next (`sms`: one-time PINs by SMS until an authenticator is activated).
pub(crate) fn first_access_done(bank: &str, user_code: &str, sms: bool) -> String {
    let (it, en) = if sms {
        (
            "A ogni accesso e operazione riceverai un PIN monouso via SMS; ti consigliamo di attivare l'autenticatore \
             Sigillo.",
            "At each login and operation you will get a one-time PIN by SMS; we recommend activating the Sigillo \
             authenticator.",
        )
    } else {
        (
            "Ora attiva l'autenticatore Sigillo: lo userai per accedere e per autorizzare le operazioni.",
            "Now activate the Sigillo authenticator: you will use it to log in and to authorize operations.",
        )
    };
    format!(
        "Sigillo: benvenuto! Il passaggio da {bank} è completo. Il tuo nuovo codice utente è {user_code}. La password \
         è quella che hai scelto: non te la chiederemo mai. {it} / Welcome! Your move from {bank} is complete. Your \
         new user code is {user_code}. The password is the one you chose: we will never ask you for it. {en}"
    )
}

/// The SMS with the one-time code of an operation: dynamic linking in the text itself (`what`:
/// the amount and the payee, or what the operation does).
pub(crate) fn operation_sms(otp: &str, what: &str, minutes: u64) -> String {
    format!(
        "Sigillo: {otp} è il codice per autorizzare: {what}. Scade tra {minutes} minuti. Non darlo a nessuno. / {otp} \
         is the code to authorize: {what}. It expires in {minutes} minutes. Never give it to anyone."
    )
}
