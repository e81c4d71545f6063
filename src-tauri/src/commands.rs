//! The authenticator window's commands: each parses its arguments, calls the `authenticator`
//! crate, and maps the error. Only the authenticator window may call them (capabilities/); a
//! payload coming back from the window is verified again here, never trusted.

use std::sync::Arc;

use authenticator::{OpIdLookup, TimeCodeKind};
use base64::Engine as _;
use sca_protocol::Pin;
use serde::Serialize;
use tauri::{AppHandle, State};
use zeroize::Zeroizing;

use crate::error::{CommandError, CommandResult};
use crate::state::{Bank, Shared};
use crate::views::{ConnectionView, OperationView, PendingView, ProfileView};

type S<'a> = State<'a, Arc<Shared>>;

/// Every command, for `generate_handler!` and the app manifest in build.rs.
pub const ALL: &[&str] = &[
    "app_info",
    "profiles_list",
    "profile_set_main",
    "profile_remove",
    "activation_start",
    "activation_finish",
    "activation_from_qr",
    "pin_change",
    "time_code",
    "payload_verify",
    "image_scan",
    "bill_open",
    "screen_read",
    "op_id_parse",
    "op_id_lookup",
    "operation_code",
    "op_id_code",
    "approve",
    "reject",
    "pending_list",
    "cameras_list",
    "scan_start",
    "scan_stop",
    "device_qr_start",
    "device_qr_approve",
    "demo_outbox",
    "kiosk_activity",
    "kiosk_end_session",
    "connection_status",
    "language_set",
];

fn pin(text: &str, field: &str) -> CommandResult<Pin> {
    let text = Zeroizing::new(text.trim().to_owned());
    Pin::parse(&text).map_err(|e| CommandError {
        field: Some(field.to_owned()),
        ..CommandError::from(e)
    })
}

/// A new PIN typed twice.
fn new_pin(text: &str, again: &str, field: &str) -> CommandResult<Pin> {
    let p = pin(text, field)?;
    if text.trim() != again.trim() {
        return Err(CommandError::input(
            &format!("{field}_confirm"),
            "the two PINs differ: type the same PIN twice",
        ));
    }
    Ok(p)
}

fn server_for(shared: &Shared, server_url: Option<String>) -> CommandResult<String> {
    match server_url.filter(|s| !s.trim().is_empty()) {
        Some(s) => crate::options::check_server_url(&s).map_err(|e| CommandError::input("server_url", e)),
        None => Ok(shared.server_url.clone()),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    user_code: String,
    alias: String,
    password: String,
    security_code: String,
    phone: String,
    /// The demo customers of the two acquired banks, for their first access.
    legacy: Vec<LegacyDemoInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyDemoInfo {
    bank: String,
    bank_name: String,
    legacy_code: String,
    password: String,
    phone: String,
    auth: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    version: &'static str,
    mode: &'static str,
    server_url: String,
    kiosk: bool,
    demo: Option<DemoInfo>,
}

#[tauri::command]
pub fn app_info(shared: S<'_>) -> AppInfo {
    let demo = match &shared.bank {
        Bank::Demo { credentials: c } => Some(DemoInfo {
            user_code: c.user_code.clone(),
            alias: c.alias.clone(),
            password: c.password.clone(),
            security_code: c.security_code.clone(),
            phone: c.phone.clone(),
            legacy: c
                .legacy
                .iter()
                .map(|l| LegacyDemoInfo {
                    bank: l.bank.clone(),
                    bank_name: l.bank_name.clone(),
                    legacy_code: l.legacy_code.clone(),
                    password: l.password.clone(),
                    phone: l.phone.clone(),
                    auth: l.auth.clone(),
                })
                .collect(),
        }),
        Bank::Remote => None,
    };
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        mode: if demo.is_some() { "demo" } else { "remote" },
        server_url: shared.server_url.clone(),
        kiosk: shared.options.kiosk,
        demo,
    }
}

#[tauri::command]
pub fn profiles_list(shared: S<'_>) -> Vec<ProfileView> {
    shared.auth().vault().profiles().iter().map(ProfileView::from).collect()
}

#[tauri::command]
pub fn profile_set_main(shared: S<'_>, profile_id: String) -> CommandResult<()> {
    let p = shared.profile(&profile_id)?;
    Ok(shared.auth().vault().set_main(&p.id)?)
}

#[tauri::command]
pub async fn profile_remove(app: AppHandle, shared: S<'_>, profile_id: String, local_only: bool) -> CommandResult<()> {
    let p = shared.profile(&profile_id)?;
    shared.auth().remove(&p, local_only).await?;
    shared.restart_listener(&app);
    Ok(())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pending_id: String,
}

#[tauri::command]
pub async fn activation_start(
    shared: S<'_>,
    server_url: Option<String>,
    user: String,
    password: Zeroizing<String>,
) -> CommandResult<Started> {
    let server = server_for(&shared, server_url)?;
    if password.is_empty() {
        return Err(CommandError::input("password", "type your password"));
    }
    let pending = shared.auth().start_activation(&server, &user, &password).await?;
    Ok(Started {
        pending_id: shared.put_activation(pending),
    })
}

#[tauri::command]
pub async fn activation_finish(
    app: AppHandle,
    shared: S<'_>,
    pending_id: String,
    sms_otp: String,
    pin: Zeroizing<String>,
    pin_confirm: Zeroizing<String>,
    device_name: String,
) -> CommandResult<ProfileView> {
    let pin = new_pin(&pin, &pin_confirm, "pin")?;
    let name = self::device_name(&device_name)?;
    let pending = shared.activation(&pending_id)?;
    let profile = shared.auth().finish_activation(&pending, &sms_otp, &pin, &name).await?;
    shared.drop_activation(&pending_id);
    shared.restart_listener(&app);
    Ok(ProfileView::from(&profile))
}

fn device_name(text: &str) -> CommandResult<String> {
    Ok(authenticator::check_device_name(text)?)
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn activation_from_qr(
    app: AppHandle,
    shared: S<'_>,
    server_url: Option<String>,
    qr_text: String,
    user: String,
    pin: Zeroizing<String>,
    pin_confirm: Zeroizing<String>,
    device_name: String,
) -> CommandResult<ProfileView> {
    let server = server_for(&shared, server_url)?;
    let pin = new_pin(&pin, &pin_confirm, "pin")?;
    let name = self::device_name(&device_name)?;
    let user = user.trim();
    if user.is_empty() {
        return Err(CommandError::input(
            "user",
            "type your user code or alias, to label this profile",
        ));
    }
    let profile = shared
        .auth()
        .activate_from_qr(&server, &qr_text, user, &pin, &name)
        .await?;
    shared.restart_listener(&app);
    Ok(ProfileView::from(&profile))
}

#[tauri::command]
pub async fn pin_change(
    shared: S<'_>,
    profile_id: String,
    old_pin: Zeroizing<String>,
    new_pin: Zeroizing<String>,
    new_pin_confirm: Zeroizing<String>,
) -> CommandResult<()> {
    let p = shared.profile(&profile_id)?;
    let old = pin(&old_pin, "old_pin")?;
    let new = self::new_pin(&new_pin, &new_pin_confirm, "new_pin")?;
    Ok(shared.auth().change_pin(&p, &old, &new).await?)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeCodeView {
    code: String,
    seconds_left: u64,
    period: u64,
}

#[tauri::command]
pub async fn time_code(
    shared: S<'_>,
    profile_id: String,
    pin: Zeroizing<String>,
    kind: String,
) -> CommandResult<TimeCodeView> {
    let p = shared.profile(&profile_id)?;
    let kind = match kind.as_str() {
        "login" => TimeCodeKind::Login,
        "transaction" => TimeCodeKind::Transaction,
        _ => return Err(CommandError::input("kind", "login or transaction")),
    };
    let c = shared.auth().time_code(&p, &self::pin(&pin, "pin")?, kind)?;
    Ok(TimeCodeView {
        code: c.code.as_str().to_owned(),
        seconds_left: c.seconds_left,
        period: 30,
    })
}

#[tauri::command]
pub async fn payload_verify(
    app: AppHandle,
    shared: S<'_>,
    profile_id: String,
    text: String,
) -> CommandResult<crate::reading::ReadView> {
    let p = shared.profile(&profile_id)?;
    crate::reading::read_and_open(&app, &shared, &p, &text)
}

// PBKDF2 (the PIN) and QR decoding take tens to hundreds of milliseconds: the commands that do
// them are async, so they run on the async runtime and never hold up the windows' main thread.

/// The largest image accepted from a file or a drop (a phone photo is a few MB).
const MAX_IMAGE: usize = 30 * 1024 * 1024;

#[tauri::command]
pub async fn image_scan(
    app: AppHandle,
    shared: S<'_>,
    profile_id: String,
    image_base64: String,
) -> CommandResult<crate::reading::ReadView> {
    let p = shared.profile(&profile_id)?;
    if image_base64.len() > MAX_IMAGE * 4 / 3 + 4 {
        return Err(CommandError::input("image", "the image is larger than 30 MB"));
    }
    let b64 = image_base64
        .split_once(";base64,")
        .map_or(image_base64.as_str(), |(_, b)| b);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| CommandError::input("image", "not a readable image file"))?;
    let text = sca_qr::decode_image_bytes(&bytes)
        .map_err(authenticator::Error::from)?
        .text;
    crate::reading::read_and_open(&app, &shared, &p, &text)
}

/// Reads every QR code on the screen (capture and decoding take a moment: off the main thread).
#[tauri::command]
pub async fn screen_read(app: AppHandle, shared: S<'_>) -> CommandResult<crate::reading::ScreenView> {
    let shared = shared.inner().clone();
    tauri::async_runtime::spawn_blocking(move || crate::reading::read_screen(&app, &shared))
        .await
        .map_err(|e| CommandError::new("screen_capture", format!("the screen reading stopped: {e}")))?
}

/// Opens the payment page of a bill in the banking window: the customer picked it among the
/// codes on the screen. The text is read again here; nothing but its page's address leaves.
#[tauri::command]
pub fn bill_open(app: AppHandle, shared: S<'_>, text: String) -> CommandResult<authenticator::bill::BillPage> {
    let page = authenticator::bill::BillPage::read(&shared.server_url, &text).map_err(authenticator::Error::from)?;
    crate::reading::open_bill(&app, &page)?;
    Ok(page)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedOpId {
    op_id: String,
}

#[tauri::command]
pub fn op_id_parse(text: String) -> CommandResult<ParsedOpId> {
    Ok(ParsedOpId {
        op_id: authenticator::parse_op_id(&text)?.as_str().to_owned(),
    })
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LookupView {
    Online { online: bool, operation: OperationView },
    Offline { online: bool, reason: String },
}

#[tauri::command]
pub async fn op_id_lookup(shared: S<'_>, profile_id: String, op_id: String) -> CommandResult<LookupView> {
    let p = shared.profile(&profile_id)?;
    let op_id = authenticator::parse_op_id(&op_id)?;
    Ok(match shared.auth().lookup_op_id(&p, &op_id).await? {
        OpIdLookup::Verified(payload) => LookupView::Online {
            online: true,
            operation: OperationView::from(payload.as_ref()),
        },
        OpIdLookup::Offline(reason) => LookupView::Offline { online: false, reason },
    })
}

#[derive(Debug, Serialize)]
pub struct CodeView {
    code: String,
}

#[tauri::command]
pub async fn operation_code(
    shared: S<'_>,
    profile_id: String,
    payload: String,
    pin: Zeroizing<String>,
) -> CommandResult<CodeView> {
    let p = shared.profile(&profile_id)?;
    let auth = shared.auth();
    let verified = auth.verify_payload(&p, &payload)?;
    let code = auth.operation_code(&p, &verified, &self::pin(&pin, "pin")?)?;
    Ok(CodeView {
        code: code.as_str().to_owned(),
    })
}

#[tauri::command]
pub async fn op_id_code(
    shared: S<'_>,
    profile_id: String,
    op_id: String,
    pin: Zeroizing<String>,
) -> CommandResult<CodeView> {
    let p = shared.profile(&profile_id)?;
    let op_id = authenticator::parse_op_id(&op_id)?;
    let code = shared.auth().operation_id_code(&p, &op_id, &self::pin(&pin, "pin")?)?;
    Ok(CodeView {
        code: code.as_str().to_owned(),
    })
}

#[derive(Debug, Serialize)]
pub struct StatusView {
    status: String,
}

#[tauri::command]
pub async fn approve(
    app: AppHandle,
    shared: S<'_>,
    profile_id: String,
    payload: String,
    pin: Zeroizing<String>,
    number: Option<String>,
) -> CommandResult<StatusView> {
    let p = shared.profile(&profile_id)?;
    let auth = shared.auth();
    let verified = auth.verify_payload(&p, &payload)?;
    // As typed; the rules (two digits, needed for a login) are the authenticator crate's.
    let number = number
        .filter(|n| !n.trim().is_empty())
        .map(|n| authenticator::parse_typed_number(&n))
        .transpose()?;
    let status = auth.approve(&p, &verified, &self::pin(&pin, "pin")?, number).await?;
    shared.resolve(&app, &p.id, verified.operation().op_id.as_str(), &status);
    Ok(StatusView { status })
}

#[tauri::command]
pub async fn reject(app: AppHandle, shared: S<'_>, profile_id: String, payload: String) -> CommandResult<StatusView> {
    let p = shared.profile(&profile_id)?;
    let auth = shared.auth();
    let verified = auth.verify_payload(&p, &payload)?;
    let status = auth.reject(&p, &verified).await?;
    shared.resolve(&app, &p.id, verified.operation().op_id.as_str(), &status);
    Ok(StatusView { status })
}

#[tauri::command]
pub fn pending_list(shared: S<'_>) -> Vec<PendingView> {
    shared.pending()
}

#[derive(Debug, Serialize)]
pub struct CameraView {
    index: u32,
    name: String,
    description: String,
}

#[tauri::command]
pub fn cameras_list(shared: S<'_>) -> CommandResult<Vec<CameraView>> {
    if let Some(dir) = &shared.options.camera_frames {
        return Ok(vec![CameraView {
            index: 0,
            name: "Image frames".into(),
            description: dir.display().to_string(),
        }]);
    }
    let cams = authenticator::scan::list_cameras().map_err(authenticator::Error::from)?;
    Ok(cams
        .into_iter()
        .map(|c| CameraView {
            index: c.index,
            name: c.name,
            description: c.description,
        })
        .collect())
}

#[derive(Debug, Serialize)]
pub struct ScanStarted {
    source: String,
}

#[tauri::command]
pub fn scan_start(
    app: AppHandle,
    shared: S<'_>,
    profile_id: Option<String>,
    camera: Option<u32>,
) -> CommandResult<ScanStarted> {
    Ok(ScanStarted {
        source: crate::scan::start(&shared, &app, profile_id, camera)?,
    })
}

#[tauri::command]
pub fn scan_stop() {
    crate::scan::stop();
}

#[tauri::command]
pub async fn device_qr_start(shared: S<'_>, profile_id: String) -> CommandResult<OperationView> {
    let p = shared.profile(&profile_id)?;
    let auth = shared.auth();
    let started = auth.start_second_device(&p).await?;
    let verified = auth.verify_payload(&p, &started.payload)?;
    shared.put_device_qr(&p.id, started);
    Ok(OperationView::from(&verified))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceQrView {
    qr_text: String,
    qr_svg: String,
}

#[tauri::command]
pub async fn device_qr_approve(
    app: AppHandle,
    shared: S<'_>,
    profile_id: String,
    pin: Zeroizing<String>,
) -> CommandResult<DeviceQrView> {
    let p = shared.profile(&profile_id)?;
    let started = shared.device_qr(&p.id)?;
    let auth = shared.auth();
    let verified = auth.verify_payload(&p, &started.payload)?;
    auth.approve(&p, &verified, &self::pin(&pin, "pin")?, None).await?;
    shared.drop_device_qr(&p.id);
    shared.resolve(&app, &p.id, &started.op_id, "approved");
    let qr_svg = sca_qr::render_svg(&started.qr_text).map_err(|e| CommandError::new("qr", e.to_string()))?;
    Ok(DeviceQrView {
        qr_text: started.qr_text,
        qr_svg,
    })
}

/// The demo bank's SMS and e-mails to its demo customers: the "simulated phone".
#[tauri::command]
pub async fn demo_outbox(shared: S<'_>) -> CommandResult<Vec<authenticator::OutboxMessage>> {
    let Bank::Demo { credentials } = &shared.bank else {
        return Err(CommandError::new(
            "not_demo",
            "there is no simulated phone with a real bank",
        ));
    };
    let client = authenticator::Client::new(&shared.server_url)?;
    let mut all = Vec::new();
    let legacy = credentials.legacy.iter().flat_map(|l| [&l.phone, &l.email]);
    for to in [&credentials.phone, &credentials.email].into_iter().chain(legacy) {
        all.append(&mut client.sandbox_outbox(to).await?);
    }
    all.sort_by_key(|m| std::cmp::Reverse(m.at));
    Ok(all)
}

#[tauri::command]
pub fn kiosk_activity(shared: S<'_>) {
    shared.touch();
}

/// The language the customer picked in the authenticator window (`it` or `en`): the desktop
/// notifications follow it.
#[tauri::command]
pub fn language_set(shared: S<'_>, lang: &str) -> CommandResult<()> {
    let english = match lang {
        "it" => false,
        "en" => true,
        _ => return Err(CommandError::input("lang", "the language is `it` or `en`")),
    };
    shared.english.store(english, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

#[tauri::command]
pub fn kiosk_end_session(app: AppHandle, shared: S<'_>) -> CommandResult<()> {
    if !shared.options.kiosk {
        return Err(CommandError::new("not_kiosk", "only a kiosk ends its sessions"));
    }
    crate::scan::stop();
    shared.kiosk_reset(&app);
    Ok(())
}

#[tauri::command]
pub fn connection_status(shared: S<'_>) -> Vec<ConnectionView> {
    shared.connections()
}
