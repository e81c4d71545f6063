//! One function per command: parse the arguments into protocol types, call the library, print.

use std::path::Path;

use sca_protocol::vectors::{self, VectorFile};
use sca_protocol::{
    Code, CodeInput, Kind, KnowledgeKey, Nonce, OpId, Operation, OperationData, PossessionKey, PublicKey,
    SignedPayload, SigningKey, Step, SystemRandom, UncheckedPayload, UserCode, sha256, unescape,
};

use crate::error::{CliError, Result};
use crate::io::{MAX_IMAGE_INPUT, now_or, read_input, read_text, say, stdout, write_output};
use crate::{Command, IdCommand, KindArg, PayloadCommand, PurposeArg, QrCommand, VectorsCommand};

pub(crate) fn run(command: Command) -> Result<()> {
    match command {
        Command::Vectors(VectorsCommand::Check { file, now, verbose }) => vectors_check(&file, now, verbose),
        Command::Vectors(VectorsCommand::Generate { out, force, now }) => {
            let file =
                vectors::generate(&SystemRandom::new(), now_or(now)).map_err(|e| CliError::Refused(e.to_string()))?;
            write_output(&out, file.to_json().as_bytes(), false, force)
        }
        Command::Keygen { out, force } => keygen(&out, force),
        Command::Payload(PayloadCommand::Make {
            key,
            kind,
            op_id,
            fields,
            ttl,
            now,
            out,
        }) => payload_make(&key, kind, op_id.as_deref(), &fields, ttl, now, &out),
        Command::Payload(PayloadCommand::Verify { bank_pub, now, file }) => payload_verify(&bank_pub, now, &file),
        Command::Payload(PayloadCommand::Inspect { file }) => payload_inspect(&file),
        Command::Code(args) => code(args),
        Command::Qr(QrCommand::Render {
            file,
            out,
            module_px,
            force,
        }) => qr_render(&file, &out, module_px, force),
        Command::Qr(QrCommand::Decode { image }) => qr_decode(&image),
        Command::Id(IdCommand::New { user_code }) => id_new(user_code),
        Command::Id(IdCommand::Check { id, user_code }) => id_check(&id, user_code),
    }
}

fn vectors_check(path: &Path, now: Option<u64>, verbose: bool) -> Result<()> {
    let text = read_text(path)?;
    let file = VectorFile::from_json(&text)
        .map_err(|e| CliError::arg(&path.display().to_string(), format!("not a SCA1 vectors file: {e}")))?;
    let report = vectors::check(&file, now_or(now));
    for failure in &report.failures {
        say!("FAIL {}[{}]: {}", failure.section, failure.index, failure.reason)?;
    }
    if verbose {
        for (name, count) in VectorFile::SECTIONS.iter().zip(file.counts()) {
            say!("{name}: {count} cases")?;
        }
    }
    say!("{} passed, {} failed", report.passed, report.failures.len())?;
    if report.ok() {
        Ok(())
    } else if report.passed == 0 && report.failures.is_empty() {
        Err(CliError::Refused("no case ran".into()))
    } else {
        Err(CliError::Refused(format!("{} vector(s) failed", report.failures.len())))
    }
}

fn keygen(out: &Path, force: bool) -> Result<()> {
    let rng = SystemRandom::new();
    let key = SigningKey::generate(&rng).map_err(|e| CliError::Refused(e.to_string()))?;
    if out == Path::new("-") {
        return Err(CliError::arg(
            "--out",
            "a private key is written to a file, not to standard output",
        ));
    }
    write_output(out, key.pkcs8(), true, force)?;
    say!("bank_pub: {}", key.public_key().to_b64u())?;
    say!("key_id:   {}", key.public_key().key_id())
}

fn load_key(path: &Path) -> Result<SigningKey> {
    let der = read_input(path, 64 * 1024)?;
    SigningKey::from_pkcs8(&der, &SystemRandom::new()).map_err(|e| CliError::arg("--key", e))
}

fn kind(arg: KindArg) -> Kind {
    match arg {
        KindArg::Transfer => Kind::Transfer,
        KindArg::Login => Kind::Login,
        KindArg::CardPayment => Kind::CardPayment,
        KindArg::Device => Kind::Device,
        KindArg::Generic => Kind::Generic,
        KindArg::PagoPa => Kind::PagoPa,
    }
}

fn parse_op_id(text: &str) -> Result<OpId> {
    OpId::parse(text).map_err(|e| CliError::arg("--op-id", e))
}

fn payload_make(
    key: &Path,
    kind_arg: KindArg,
    op_id: Option<&str>,
    fields: &[String],
    ttl: u64,
    now: Option<u64>,
    out: &Path,
) -> Result<()> {
    let rng = SystemRandom::new();
    let bank = load_key(key)?;
    let op_id = match op_id {
        Some(text) => parse_op_id(text)?,
        None => OpId::random(&rng).map_err(|e| CliError::Refused(e.to_string()))?,
    };
    let mut pairs = Vec::new();
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| CliError::arg("--field", format!("{field:?} is not KEY=VALUE")))?;
        let mut letters = key.chars();
        let (Some(letter), None) = (letters.next(), letters.next()) else {
            return Err(CliError::arg(
                "--field",
                format!("{key:?} is not a one-letter key (A B C D I M X)"),
            ));
        };
        // A person writes a line break on the command line as \n, as in the canonical form.
        let value = unescape(value).ok_or_else(|| CliError::arg("--field", format!("{letter}: bad escape")))?;
        pairs.push((letter, value));
    }
    let data = OperationData::from_fields(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .map_err(|e| CliError::arg("--field", e))?;
    let expires = now_or(now)
        .checked_add(ttl)
        .filter(|_| ttl > 0)
        .ok_or_else(|| CliError::arg("--ttl", "must be at least 1 second and not overflow"))?;
    let nonce = Nonce::random(&rng).map_err(|e| CliError::Refused(e.to_string()))?;
    let operation = Operation {
        op_id,
        kind: kind(kind_arg),
        data,
        nonce,
        expires,
    };
    let signed = SignedPayload::sign(operation, &bank, &rng).map_err(|e| CliError::arg("--field", e))?;
    write_output(out, signed.text().as_bytes(), false, true)
}

/// Everything in an operation, for a developer: the fields with their letters, nonce and expiry.
fn print_details(operation: &Operation, now: u64) -> Result<()> {
    say!("op_id:   {}", operation.op_id)?;
    say!("kind:    {}", operation.kind)?;
    for line in operation.data.terminal_lines("", true) {
        say!("{line}")?;
    }
    say!("nonce:   {}", operation.nonce.to_b64u())?;
    let left = operation.expires.saturating_sub(now);
    say!("expires: {} (unix seconds; {} s from now)", operation.expires, left)
}

fn payload_verify(bank_pub: &str, now: Option<u64>, file: &Path) -> Result<()> {
    let bank_pub = PublicKey::from_b64u(bank_pub).map_err(|e| CliError::arg("--bank-pub", e))?;
    let bytes = read_input(file, crate::io::MAX_TEXT_INPUT)?;
    let now = now_or(now);
    match UncheckedPayload::parse_bytes(&bytes).and_then(|p| p.verify(&bank_pub, now)) {
        Ok(payload) => {
            say!("valid: signed by bank key {}", bank_pub.key_id())?;
            print_details(payload.operation(), now)
        }
        Err(e) => Err(CliError::Refused(format!("refused ({}): {e}", e.code()))),
    }
}

fn payload_inspect(file: &Path) -> Result<()> {
    let bytes = read_input(file, crate::io::MAX_TEXT_INPUT)?;
    let payload =
        UncheckedPayload::parse_bytes(&bytes).map_err(|e| CliError::Refused(format!("refused ({}): {e}", e.code())))?;
    say!("NOT VERIFIED: signed, it says, by key {}", payload.key_id())?;
    print_details(payload.operation(), now_or(None))
}

fn code(args: crate::CodeArgs) -> Result<()> {
    let k_poss = PossessionKey::from_hex(&args.k_poss).map_err(|e| CliError::arg("--k-poss", e))?;
    let k_know = KnowledgeKey::from_hex(&args.k_know).map_err(|e| CliError::arg("--k-know", e))?;
    let need =
        |value: Option<String>, name: &str| value.ok_or_else(|| CliError::arg(name, "required for this purpose"));
    let time = now_or(args.time);
    let step = Step::at(time);
    let (op_id, nonce, data_sha);
    let input = match args.purpose {
        PurposeArg::Login => CodeInput::Login(step),
        PurposeArg::Transaction => CodeInput::Transaction(step),
        PurposeArg::OperationId => {
            op_id = parse_op_id(&need(args.op_id, "--op-id")?)?;
            CodeInput::OperationId(&op_id)
        }
        PurposeArg::Operation => {
            if let Some(path) = &args.payload {
                let payload = UncheckedPayload::parse_bytes(&read_input(path, crate::io::MAX_TEXT_INPUT)?)
                    .map_err(|e| CliError::arg("--payload", format!("{} ({})", e, e.code())))?;
                let operation = payload.operation();
                op_id = operation.op_id;
                nonce = operation.nonce;
                data_sha = operation.data_sha();
            } else {
                op_id = parse_op_id(&need(args.op_id, "--op-id")?)?;
                nonce = Nonce::from_b64u(&need(args.nonce, "--nonce")?).map_err(|e| CliError::arg("--nonce", e))?;
                let data = need(args.data, "--data")?;
                OperationData::parse_canonical(&data).map_err(|e| CliError::arg("--data", e))?;
                data_sha = sha256(data.as_bytes());
            }
            CodeInput::Operation {
                op_id: &op_id,
                nonce: &nonce,
                data_sha: &data_sha,
            }
        }
    };
    let code: Code = input.code(&k_poss, &k_know);
    if args.show_msg {
        say!("msg:  {}", hex::encode(input.message()))?;
    }
    match args.purpose {
        PurposeArg::Login | PurposeArg::Transaction => {
            say!("{code}")?;
            eprintln!("step {} — valid for {} more seconds", step.0, Step::seconds_left(time));
            Ok(())
        }
        _ => say!("{code}"),
    }
}

fn qr_render(file: &Path, out: &Path, module_px: u32, force: bool) -> Result<()> {
    let text = read_text(file)?;
    let format =
        sca_qr::ImageFormat::from_path(out).ok_or_else(|| CliError::arg("--out", sca_qr::ImageFormat::EXPECTED))?;
    let bytes =
        sca_qr::render_as(&text, format, module_px).map_err(|e| CliError::arg(&file.display().to_string(), e))?;
    write_output(out, &bytes, false, force)
}

fn qr_decode(image: &Path) -> Result<()> {
    let bytes = read_input(image, MAX_IMAGE_INPUT)?;
    match sca_qr::decode_image_bytes(&bytes) {
        Ok(decoded) => stdout(decoded.text.as_bytes()),
        Err(sca_qr::DecodeError::NotFound) => Err(CliError::Refused(format!("{}: no QR code found", image.display()))),
        Err(e) => Err(CliError::arg(&image.display().to_string(), e)),
    }
}

fn id_new(user_code: bool) -> Result<()> {
    let rng = SystemRandom::new();
    let id = if user_code {
        UserCode::random(&rng).map(|u| u.to_string())
    } else {
        OpId::random(&rng).map(|o| o.to_string())
    };
    say!("{}", id.map_err(|e| CliError::Refused(e.to_string()))?)
}

fn id_check(id: &str, user_code: bool) -> Result<()> {
    let result = if user_code {
        UserCode::parse(id).map(|_| ())
    } else {
        OpId::parse(id).map(|_| ())
    };
    match result {
        Ok(()) => say!("valid"),
        Err(e) => Err(CliError::Refused(format!("invalid ({}): {e}", e.code()))),
    }
}
