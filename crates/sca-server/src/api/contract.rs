//! The OpenAPI document as the server really behaves, so that a client generated from it never
//! meets a surprise (issue 11 §8, checked by schemathesis in `make test`). utoipa writes what the
//! handlers' attributes say; [`document`] then states, in one place, what every handler shares:
//!
//! - errors are `application/problem+json` (not `application/json`);
//! - a call with a session can answer 401 (no session, or it ended) and, when it changes state,
//!   403 (the CSRF token); a device-signed call 400 (a malformed header), 401 and 403; a call with
//!   a JSON body 400, 413 and 415; a call with a checked path or query parameter 400;
//! - the formats the server enforces on fields, parameters and headers, where JSON Schema can
//!   state them exactly (check digits, P-256 points, IBAN checksums, names once trimmed it cannot:
//!   those are 400s that name the field, and schemathesis' `positive_data_acceptance` is left out
//!   for them).
//!
//! The formats mirror the checks in `customers.rs`, `sca_protocol` and the extractors.

use serde_json::{Map, Value, json};
use utoipa::OpenApi as _;

use super::ApiDoc;

/// A user code or alias as typed: 1 to 64 characters once trimmed.
const USER: &str = r"^\s*\S[\s\S]*$";
/// A new password: 8 to 32 digits.
const NEW_PASSWORD: &str = "^[0-9]{8,32}$";
/// E.164: `+`, then 8 to 15 digits, the first not 0 (spaces anywhere are dropped).
const PHONE: &str = r"^\s*\+\s*[1-9](\s*[0-9]){7,14}\s*$";
/// 20 characters of the security code's alphabet (no I, L, O, U), spaces and dashes between.
const SECURITY_CODE: &str = "^[ -]*([0-9A-HJKMNP-TV-Za-hjkmnp-tv-z][ -]*){20}$";
/// A 6-digit code or SMS code.
const SIX_DIGITS: &str = "^[0-9]{6}$";
/// An 8-digit user code or operation identifier (its last digit is a check digit).
const EIGHT_DIGITS: &str = "^[0-9]{8}$";
/// A pagoPA creditor's fiscal code (its check digit is the server's to check).
const ELEVEN_DIGITS: &str = "^[0-9]{11}$";
/// b64u of 16 random bytes: an activation or recovery id, a login id.
const ID16: &str = "^[A-Za-z0-9_-]{22}$";
/// A 3-D Secure authentication's id: a UUID in lower case.
const UUID: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
/// A device id.
const DEVICE_ID: &str = "^[A-Za-z0-9_-]{1,64}$";
/// b64u of a 64-byte ECDSA signature.
const SIGNATURE: &str = "^[A-Za-z0-9_-]{86}$";
/// b64u of a 65-byte SEC1 P-256 point.
const POINT: &str = "^[A-Za-z0-9_-]{87}$";
/// `authorization: SCA1-Device id=<device_id>,ts=<unix seconds>,sig=<b64u>`.
const DEVICE_AUTH: &str = "^SCA1-Device id=[A-Za-z0-9_-]{1,64},ts=[0-9]{1,19},sig=[A-Za-z0-9_-]{86}$";
/// An acquired bank's code.
const BANK_CODE: &str = "^[a-z0-9]{2,16}$";
/// A legacy customer code (spaces around it are dropped).
const LEGACY_CODE: &str = r"^\s*[A-Za-z0-9_-]{1,32}\s*$";
/// An alias: 3 to 32 letters, digits, `.`, `_`, `-`, starting with a letter.
const ALIAS: &str = "^[A-Za-z][A-Za-z0-9._-]{2,31}$";

fn pattern(p: &str) -> Value {
    json!({ "pattern": p })
}

/// What a request body's property must be: (schema, property) → JSON Schema keywords.
fn property_format(schema: &str, property: &str) -> Option<Value> {
    Some(match (schema, property) {
        (_, "user") => json!({ "pattern": USER, "maxLength": 64 }),
        ("StartFirstAccess", "password") => json!({ "minLength": 1, "maxLength": 128 }),
        ("StartFirstAccess", "legacy_code") => pattern(LEGACY_CODE),
        ("StartFirstAccess", "bank") => pattern(BANK_CODE),
        ("Credentials", "password") => pattern(NEW_PASSWORD),
        (_, "password" | "current_password") => json!({ "maxLength": 64 }),
        (_, "new_password") => pattern(NEW_PASSWORD),
        (_, "phone") => pattern(PHONE),
        (_, "security_code") => pattern(SECURITY_CODE),
        (_, "sms_otp" | "code" | "otp" | "key6") => pattern(SIX_DIGITS),
        (_, "signature") => pattern(SIGNATURE),
        (_, "device_pub" | "ecdh_pub") => pattern(POINT),
        ("ActivationConfirm", "confirm") => pattern("^[0-9a-fA-F]{64}$"),
        (_, "alias") => pattern(ALIAS),
        ("PagoPaRequest", "notice_code") => pattern("^[0-3][0-9]{17}$"),
        ("PagoPaRequest", "creditor_fiscal_code") => pattern(ELEVEN_DIGITS),
        ("PagoPaRequest", "currency") => pattern("^[A-Z]{3}$"),
        _ => return None,
    })
}

/// What a parameter must be: (in, name) → JSON Schema keywords.
fn parameter_format(location: &str, name: &str) -> Option<Value> {
    Some(match (location, name) {
        ("header", "authorization") => pattern(DEVICE_AUTH),
        ("path", "op_id" | "user_code") => pattern(EIGHT_DIGITS),
        ("path", "activation_id" | "recovery_id" | "first_access_id") => pattern(ID16),
        ("path", "code") => pattern(BANK_CODE),
        ("path", "legacy_code") => pattern(LEGACY_CODE),
        ("path", "fiscal_code") => pattern(ELEVEN_DIGITS),
        ("path", "device_id") => pattern(DEVICE_ID),
        ("path", "acsTransID") => pattern(UUID),
        ("query", "to") => json!({ "minLength": 1 }),
        _ => return None,
    })
}

fn merge(target: &mut Value, keywords: &Value) {
    if let (Some(t), Some(k)) = (target.as_object_mut(), keywords.as_object()) {
        for (key, value) in k {
            t.insert(key.clone(), value.clone());
        }
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

/// The document served at `/api/openapi.json`.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    // Formats are what requests must be: only the schemas of request bodies get them.
    let mut requests = std::collections::BTreeSet::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for op in paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|item| item.values())
        {
            if let Some(r) = op
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
            {
                requests.insert(r.to_owned());
            }
        }
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut().filter(|(name, _)| requests.contains(name.as_str())) {
            let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
                continue;
            };
            for (prop, value) in props.iter_mut() {
                if let Some(keywords) = property_format(name, prop) {
                    merge(value, &keywords);
                }
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                tighten_operation(method, op);
            }
        }
    }
    doc
}

fn tighten_operation(method: &str, op: &mut Value) {
    let mut has_session_csrf = false;
    let mut device_signed = false;
    let mut checked_parameter = false;
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let (location, name) = (
                p.get("in").and_then(Value::as_str).unwrap_or("").to_owned(),
                p.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
            );
            has_session_csrf |= location == "header" && name == "x-csrf-token";
            device_signed |= location == "header" && name == "authorization";
            if let (Some(keywords), Some(schema)) = (parameter_format(&location, &name), p.get_mut("schema")) {
                merge(schema, &keywords);
                checked_parameter |= location == "path" || location == "query";
            }
        }
    }
    let has_body = op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    // Errors are problem documents.
    for response in responses.values_mut() {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        let is_problem = content
            .get("application/json")
            .and_then(|c| c.pointer("/schema/$ref"))
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with("/Problem"));
        if is_problem && let Some(c) = content.remove("application/json") {
            content.insert("application/problem+json".into(), c);
        }
    }
    let add = |responses: &mut Map<String, Value>, status: &str, why: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(why));
    };
    if has_session_csrf {
        add(
            responses,
            "401",
            "no session, or it ended (`unauthenticated`, `session_expired`)",
        );
        if method != "get" {
            add(responses, "403", "the `x-csrf-token` is missing or not the session's");
        }
    }
    if device_signed {
        add(responses, "400", "the `authorization` header is not of its form");
        add(
            responses,
            "401",
            "the device signature is missing, stale, already used or does not verify",
        );
        add(responses, "403", "the path names another device");
    }
    if checked_parameter {
        add(
            responses,
            "400",
            "a path or query parameter is not of its form (`field` names it)",
        );
    }
    if has_body {
        add(responses, "400", "the body is not of its schema (`field` names what)");
        add(responses, "413", "the body is larger than the limit");
        add(responses, "415", "the body is not `application/json`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_problem_documents_and_formats_are_stated() {
        let doc = document();
        let login = &doc["paths"]["/api/v1/login"]["post"]["responses"];
        assert!(login["401"]["content"]["application/problem+json"].is_object());
        assert!(login["401"]["content"].get("application/json").is_none());
        assert!(login["415"].is_object());
        let sms = &doc["paths"]["/api/v1/login/{login_id}/sms"]["post"]["responses"];
        assert!(sms["401"].is_object() && sms["403"].is_object());
        assert_eq!(
            doc["components"]["schemas"]["RecoverUserCode"]["properties"]["phone"]["pattern"],
            PHONE
        );
        let params = doc["paths"]["/api/v1/devices/{device_id}/check-code"]["post"]["parameters"]
            .as_array()
            .unwrap();
        let auth = params.iter().find(|p| p["name"] == "authorization").unwrap();
        assert_eq!(auth["schema"]["pattern"], DEVICE_AUTH);
    }
}
