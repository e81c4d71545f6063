//! Published test vectors (`tests/vectors/sca1.json`): their JSON form, a checker that works on
//! any file of that form (fresh keys, other payloads), and the generator that made ours.
//!
//! Pure: the caller reads the file and passes the time used for payload cases without `now`.

use std::collections::BTreeMap;

use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

use crate::activation::{ActivationId, confirm_tag, derive_keys};
use crate::approval::approve_message;
use crate::code::{Code, Purpose, Step, code_message, compute_code};
use crate::data::OperationData;
use crate::encoding::{b64u_encode, hex_array, sha256};
use crate::error::{KeyError, PayloadError};
use crate::id::{OpId, damm_check_digit};
use crate::keys::{EphemeralEcdh, KnowledgeKey, PossessionKey, PublicKey, SharedSecret, Signature, SigningKey};
use crate::payload::{Kind, Nonce, Operation, SignedPayload};
use crate::pin::{Iterations, Pin, PinSalt, unwrap_knowledge_key, wrap_knowledge_key};

/// `{"input": "572", "check": 4}`: the Damm check digit of `input`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DammCase {
    /// Digits.
    pub input: String,
    /// Their check digit.
    pub check: u8,
}

/// `{"id", "valid"}`: whether `id` has the form of §2 (8 digits, Damm check digit).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IdCase {
    /// The candidate identifier.
    pub id: String,
    /// Whether it is valid.
    pub valid: bool,
}

/// One activation: `Z` in, the three keys and the device's confirmation tag out (hex).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ActivationCase {
    /// b64u of 16 bytes.
    pub activation_id: String,
    /// The ECDH shared secret, hex.
    pub z: String,
    /// `K_poss`, hex.
    pub k_poss: String,
    /// `K_know`, hex.
    pub k_know: String,
    /// `K_conf`, hex.
    pub k_conf: String,
    /// The device public key, b64u.
    pub device_pub: String,
    /// The tag, hex.
    pub confirm: String,
}

/// One PIN wrap: `W = K_know XOR PBKDF2(pin, salt, iterations, 32)`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PinWrapCase {
    /// A valid PIN.
    pub pin: String,
    /// 16 bytes, hex.
    pub salt: String,
    /// PBKDF2 iterations (≥ 100 000).
    pub iterations: u64,
    /// hex.
    pub k_know: String,
    /// hex.
    pub w: String,
}

/// `{"pin", "valid"}`: the weak-PIN rules.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PinCase {
    /// The candidate PIN.
    pub pin: String,
    /// Whether it is accepted.
    pub valid: bool,
}

/// One code: keys and raw `MSG` fields in, `MSG` and the code out.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CodeCase {
    /// 1 LOGIN, 2 OPERATION, 3 OPERATION_ID, 4 TRANSACTION.
    pub purpose: u8,
    /// hex.
    pub k_poss: String,
    /// hex.
    pub k_know: String,
    /// hex of each field, in order.
    pub fields: Vec<String>,
    /// hex of `MSG`.
    pub msg: String,
    /// 6 digits.
    pub code: String,
}

/// Raw field values in, the canonical data text out.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CanonicalCase {
    /// Key letter → raw (unescaped) value.
    pub fields: BTreeMap<String, String>,
    /// The canonical text.
    pub data: String,
}

/// A payload text, the bank key, and whether the authenticator must accept it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PayloadCase {
    /// The payload, exactly.
    pub text: String,
    /// b64u.
    pub bank_pub: String,
    /// Whether it is accepted.
    pub valid: bool,
    /// The time of the check; the current time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<u64>,
    /// Why. For a refusal, our notes begin with the reason code (`expired: …`).
    pub note: String,
}

/// An approval signature and whether it verifies.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ApprovalCase {
    /// b64u.
    pub device_pub: String,
    /// 8 digits.
    pub op_id: String,
    /// b64u of 16 bytes.
    pub nonce: String,
    /// The canonical data text whose SHA is signed.
    pub data: String,
    /// 6 digits.
    pub code: String,
    /// b64u of 64 bytes.
    pub sig: String,
    /// Whether the signature verifies.
    pub valid: bool,
}

/// The whole file; every section is required.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VectorFile {
    /// Damm check digits.
    pub damm: Vec<DammCase>,
    /// Identifier forms.
    pub ids: Vec<IdCase>,
    /// Activation key derivation.
    pub activation: Vec<ActivationCase>,
    /// PIN wraps.
    pub pin_wrap: Vec<PinWrapCase>,
    /// Weak-PIN rules.
    pub pins: Vec<PinCase>,
    /// Codes of every purpose.
    pub codes: Vec<CodeCase>,
    /// Canonical data.
    pub canonical: Vec<CanonicalCase>,
    /// Signed payloads, accepted and refused.
    pub payloads: Vec<PayloadCase>,
    /// Approval signatures.
    pub approvals: Vec<ApprovalCase>,
}

impl VectorFile {
    /// The names of the sections, in file order.
    pub const SECTIONS: [&'static str; 9] = [
        "damm",
        "ids",
        "activation",
        "pin_wrap",
        "pins",
        "codes",
        "canonical",
        "payloads",
        "approvals",
    ];

    /// Parses the JSON text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Pretty JSON, one case per few lines, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// How many cases each section holds, in [`SECTIONS`](Self::SECTIONS) order.
    pub fn counts(&self) -> [usize; 9] {
        [
            self.damm.len(),
            self.ids.len(),
            self.activation.len(),
            self.pin_wrap.len(),
            self.pins.len(),
            self.codes.len(),
            self.canonical.len(),
            self.payloads.len(),
            self.approvals.len(),
        ]
    }
}

/// One failed case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The section.
    pub section: &'static str,
    /// The 0-based index of the case in its section.
    pub index: usize,
    /// What did not match.
    pub reason: String,
}

/// The result of checking a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Cases that matched.
    pub passed: usize,
    /// Cases that did not.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Whether at least one case ran and none failed.
    pub fn ok(&self) -> bool {
        self.passed > 0 && self.failures.is_empty()
    }
}

type CaseResult = Result<(), String>;

fn expect_eq(what: &str, got: impl AsRef<str>, want: impl AsRef<str>) -> CaseResult {
    if got.as_ref() == want.as_ref() {
        Ok(())
    } else {
        Err(format!(
            "{what}: computed {}, vector says {}",
            got.as_ref(),
            want.as_ref()
        ))
    }
}

fn hex32(what: &str, text: &str) -> Result<[u8; 32], String> {
    hex_array::<32>(text).map_err(|_| format!("{what}: not 32 bytes of hex"))
}

/// Checks one Damm case.
pub fn check_damm(case: &DammCase) -> CaseResult {
    match damm_check_digit(&case.input) {
        Some(d) => expect_eq("check digit", d.to_string(), case.check.to_string()),
        None => Err("input: not digits".into()),
    }
}

/// Checks one identifier case.
pub fn check_id(case: &IdCase) -> CaseResult {
    let got = OpId::parse(&case.id);
    match (got, case.valid) {
        (Ok(_), true) | (Err(_), false) => Ok(()),
        (Ok(_), false) => Err("accepted, vector says invalid".into()),
        (Err(e), true) => Err(format!("refused ({e}), vector says valid")),
    }
}

/// Checks one activation case.
pub fn check_activation(case: &ActivationCase) -> CaseResult {
    let id = ActivationId::parse(&case.activation_id).map_err(|e| format!("activation_id: {e}"))?;
    let z = SharedSecret::from_bytes(hex32("z", &case.z)?);
    let keys = derive_keys(&id, &z);
    expect_eq(
        "k_poss",
        hex::encode(keys.possession.expose_secret()),
        case.k_poss.to_ascii_lowercase(),
    )?;
    expect_eq(
        "k_know",
        hex::encode(keys.knowledge.expose_secret()),
        case.k_know.to_ascii_lowercase(),
    )?;
    expect_eq(
        "k_conf",
        hex::encode(keys.confirm.expose_secret()),
        case.k_conf.to_ascii_lowercase(),
    )?;
    let device_pub = PublicKey::from_b64u(&case.device_pub).map_err(|e| format!("device_pub: {e}"))?;
    expect_eq(
        "confirm",
        hex::encode(confirm_tag(&keys.confirm, &id, &device_pub)),
        case.confirm.to_ascii_lowercase(),
    )
}

/// Checks one PIN wrap case (both directions).
pub fn check_pin_wrap(case: &PinWrapCase) -> CaseResult {
    let pin = Pin::parse(&case.pin).map_err(|e| format!("pin: {e}"))?;
    let salt = PinSalt(hex_array::<16>(&case.salt).map_err(|_| "salt: not 16 bytes of hex".to_owned())?);
    let iterations = Iterations::new(case.iterations).map_err(|e| format!("iterations: {e}"))?;
    let k_know = KnowledgeKey::from_bytes(hex32("k_know", &case.k_know)?);
    let w = wrap_knowledge_key(&k_know, &pin, &salt, iterations);
    expect_eq("w", hex::encode(w.expose_secret()), case.w.to_ascii_lowercase())?;
    let back = unwrap_knowledge_key(&w, &pin, &salt, iterations);
    expect_eq(
        "unwrapped k_know",
        hex::encode(back.expose_secret()),
        case.k_know.to_ascii_lowercase(),
    )
}

/// Checks one PIN rule case.
pub fn check_pin(case: &PinCase) -> CaseResult {
    match (Pin::parse(&case.pin), case.valid) {
        (Ok(_), true) | (Err(_), false) => Ok(()),
        (Ok(_), false) => Err("accepted, vector says weak or malformed".into()),
        (Err(e), true) => Err(format!("refused ({e}), vector says valid")),
    }
}

/// Checks one code case, including the shape of each purpose's fields.
pub fn check_code(case: &CodeCase) -> CaseResult {
    let purpose = Purpose::from_u8(case.purpose).ok_or("purpose: not 1 to 4")?;
    let fields: Vec<Vec<u8>> = case
        .fields
        .iter()
        .map(|f| hex::decode(f).map_err(|_| format!("fields: {f:?} is not hex")))
        .collect::<Result<_, _>>()?;
    let lens: Vec<usize> = fields.iter().map(Vec::len).collect();
    let shape_ok = match purpose {
        Purpose::Login | Purpose::Transaction => lens == [8],
        Purpose::Operation => lens == [8, 16, 32],
        Purpose::OperationId => lens == [8],
    };
    if !shape_ok {
        return Err(format!("fields: lengths {lens:?} do not fit purpose {}", case.purpose));
    }
    let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    let msg = code_message(purpose, &refs).map_err(|e| e.to_string())?;
    expect_eq("msg", hex::encode(&msg), case.msg.to_ascii_lowercase())?;
    let k_poss = PossessionKey::from_bytes(hex32("k_poss", &case.k_poss)?);
    let k_know = KnowledgeKey::from_bytes(hex32("k_know", &case.k_know)?);
    let code = compute_code(&k_poss, &k_know, purpose, &refs).map_err(|e| e.to_string())?;
    expect_eq("code", code.as_str(), &case.code)
}

/// Checks one canonical data case, both ways.
pub fn check_canonical(case: &CanonicalCase) -> CaseResult {
    let mut pairs = Vec::new();
    for (key, value) in &case.fields {
        let mut chars = key.chars();
        let (Some(letter), None) = (chars.next(), chars.next()) else {
            return Err(format!("fields: key {key:?} is not one letter"));
        };
        pairs.push((letter, value.as_str()));
    }
    let data = OperationData::from_fields(pairs).map_err(|e| format!("fields: {e}"))?;
    expect_eq("data", data.canonical(), &case.data)?;
    let parsed = OperationData::parse_canonical(&case.data).map_err(|e| format!("data: {e}"))?;
    if parsed != data {
        return Err("data: parses to other fields".into());
    }
    Ok(())
}

/// Checks one payload case at `now` (its own, else `default_now`). A refused case whose note
/// begins with a reason code (`expired: …`) must be refused for that reason.
pub fn check_payload(case: &PayloadCase, default_now: u64) -> CaseResult {
    let now = case.now.unwrap_or(default_now);
    let result = PublicKey::from_b64u(&case.bank_pub)
        .map_err(|_| PayloadError::KeyId)
        .and_then(|key| SignedPayload::verify(&case.text, &key, now));
    match (result, case.valid) {
        (Ok(_), true) => Ok(()),
        (Err(e), true) => Err(format!("refused ({}: {e}), vector says valid", e.code())),
        (Ok(_), false) => Err("accepted, vector says refused".into()),
        (Err(e), false) => {
            let named = case.note.split(':').next().filter(|r| PayloadError::CODES.contains(r));
            match named {
                Some(reason) if reason != e.code() => {
                    Err(format!("refused for {} ({e}), vector says {reason}", e.code()))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Checks one approval case.
pub fn check_approval(case: &ApprovalCase) -> CaseResult {
    let verified = (|| -> Result<bool, KeyError> {
        let key = PublicKey::from_b64u(&case.device_pub)?;
        let (Ok(op_id), Ok(code)) = (OpId::parse(&case.op_id), Code::parse(&case.code)) else {
            return Ok(false);
        };
        let nonce = Nonce::from_b64u(&case.nonce)?;
        let sig = Signature::from_b64u(&case.sig)?;
        Ok(key.verify(
            &approve_message(&op_id, &nonce, &sha256(case.data.as_bytes()), &code),
            &sig,
        ))
    })()
    .unwrap_or(false);
    match (verified, case.valid) {
        (true, true) | (false, false) => Ok(()),
        (true, false) => Err("verifies, vector says it must not".into()),
        (false, true) => Err("does not verify, vector says it must".into()),
    }
}

/// Checks every case of `file`; payload cases without `now` are checked at `default_now`.
pub fn check(file: &VectorFile, default_now: u64) -> Report {
    let mut report = Report::default();
    let mut record = |section: &'static str, index: usize, result: CaseResult| match result {
        Ok(()) => report.passed += 1,
        Err(reason) => report.failures.push(Failure { section, index, reason }),
    };
    file.damm
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("damm", i, check_damm(c)));
    file.ids
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("ids", i, check_id(c)));
    file.activation
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("activation", i, check_activation(c)));
    file.pin_wrap
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("pin_wrap", i, check_pin_wrap(c)));
    file.pins
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("pins", i, check_pin(c)));
    file.codes
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("codes", i, check_code(c)));
    file.canonical
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("canonical", i, check_canonical(c)));
    file.payloads
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("payloads", i, check_payload(c, default_now)));
    file.approvals
        .iter()
        .enumerate()
        .for_each(|(i, c)| record("approvals", i, check_approval(c)));
    report
}

/// Valid payloads in generated files expire on 2100-01-01, so they stay valid at the current time.
pub const FAR_EXPIRY: u64 = 4_102_444_800;

fn random<const N: usize>(rng: &dyn SecureRandom) -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    rng.fill(&mut out).map_err(|_| KeyError::Random)?;
    Ok(out)
}

/// Signs arbitrary first seven lines (even ill-formed ones) the way §6 says, so a refused case
/// fails for exactly the reason it names and not for its signature.
fn sign_lines(bank: &SigningKey, rng: &dyn SecureRandom, lines: &[String; 7]) -> Result<String, KeyError> {
    let signed: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let sig = bank.sign(rng, signed.as_bytes())?;
    Ok(format!("{signed}{}\n", sig.to_b64u()))
}

/// Makes a fresh vectors file: new random keys, ids, nonces and secrets every time. `now` is the
/// time the `expired` case and the LOGIN/TRANSACTION steps are built around.
pub fn generate(rng: &dyn SecureRandom, now: u64) -> Result<VectorFile, KeyError> {
    let mut damm = vec![
        DammCase {
            input: "572".into(),
            check: 4,
        },
        DammCase {
            input: "5724".into(),
            check: 0,
        },
        DammCase {
            input: "0".into(),
            check: 0,
        },
    ];
    let mut ids = vec![
        IdCase {
            id: "57240000".into(),
            valid: true,
        },
        IdCase {
            id: "57240001".into(),
            valid: false,
        },
        IdCase {
            id: "52740000".into(),
            valid: false,
        },
        IdCase {
            id: "5724000".into(),
            valid: false,
        },
        IdCase {
            id: "572400000".into(),
            valid: false,
        },
        IdCase {
            id: "5724a000".into(),
            valid: false,
        },
        IdCase {
            id: " 5724000".into(),
            valid: false,
        },
    ];
    for _ in 0..4 {
        let op = OpId::random(rng)?;
        let seven = &op.as_str()[..7];
        damm.push(DammCase {
            input: seven.into(),
            check: op.as_bytes()[7] - b'0',
        });
        ids.push(IdCase {
            id: op.to_string(),
            valid: true,
        });
    }

    let mut activation = Vec::new();
    for _ in 0..5 {
        let id = ActivationId::random(rng)?;
        let ed = EphemeralEcdh::generate(rng)?;
        let es = EphemeralEcdh::generate(rng)?;
        let es_pub = es.public_key();
        let z = ed.agree(&es_pub)?;
        let keys = derive_keys(&id, &z);
        let device_pub = SigningKey::generate(rng)?.public_key();
        activation.push(ActivationCase {
            activation_id: id.to_string(),
            z: hex::encode(z.expose_secret()),
            k_poss: hex::encode(keys.possession.expose_secret()),
            k_know: hex::encode(keys.knowledge.expose_secret()),
            k_conf: hex::encode(keys.confirm.expose_secret()),
            device_pub: device_pub.to_b64u(),
            confirm: hex::encode(confirm_tag(&keys.confirm, &id, &device_pub)),
        });
    }

    let mut pin_wrap = Vec::new();
    for (pin, iterations) in [
        ("13579", 100_000),
        ("89012", 100_000),
        ("24680", 150_000),
        ("00001", 200_000),
        ("97531", 100_000),
    ] {
        let pin = Pin::parse(pin).map_err(|_| KeyError::Random)?;
        let salt = PinSalt(random::<16>(rng)?);
        let iterations = Iterations::new(iterations).map_err(|_| KeyError::Random)?;
        let k_know = KnowledgeKey::from_bytes(random::<32>(rng)?);
        let w = wrap_knowledge_key(&k_know, &pin, &salt, iterations);
        pin_wrap.push(PinWrapCase {
            pin: String::from_utf8_lossy(pin.expose_secret()).into_owned(),
            salt: hex::encode(salt.0),
            iterations: u64::from(iterations.get()),
            k_know: hex::encode(k_know.expose_secret()),
            w: hex::encode(w.expose_secret()),
        });
    }

    let pins = [
        ("12345", false),
        ("11111", false),
        ("01234", false),
        ("56789", false),
        ("43210", false),
        ("1234", false),
        ("123456", false),
        ("1234a", false),
        ("89012", true),
        ("13579", true),
        ("90123", true),
        ("11112", true),
    ]
    .into_iter()
    .map(|(pin, valid)| PinCase { pin: pin.into(), valid })
    .collect();

    let mut codes = Vec::new();
    let step = Step::at(now);
    for (purpose, round) in [1u8, 2, 3, 4].iter().flat_map(|p| [(*p, 0), (*p, 1)]) {
        let k_poss = random::<32>(rng)?;
        let k_know = random::<32>(rng)?;
        let op = OpId::random(rng)?;
        let fields: Vec<Vec<u8>> = match purpose {
            1 | 4 => vec![(step.0 + round).to_be_bytes().to_vec()],
            2 => vec![
                op.as_bytes().to_vec(),
                random::<16>(rng)?.to_vec(),
                random::<32>(rng)?.to_vec(),
            ],
            _ => vec![op.as_bytes().to_vec()],
        };
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        let p = Purpose::from_u8(purpose).ok_or(KeyError::Random)?;
        let msg = code_message(p, &refs).map_err(|_| KeyError::Random)?;
        let code = compute_code(
            &PossessionKey::from_bytes(k_poss),
            &KnowledgeKey::from_bytes(k_know),
            p,
            &refs,
        )
        .map_err(|_| KeyError::Random)?;
        codes.push(CodeCase {
            purpose,
            k_poss: hex::encode(k_poss),
            k_know: hex::encode(k_know),
            fields: fields.iter().map(hex::encode).collect(),
            msg: hex::encode(msg),
            code: code.to_string(),
        });
    }

    let canonical_inputs: [&[(&str, &str)]; 8] = [
        &[("A", "1.00EUR"), ("B", "a*b")],
        &[("A", "12.50EUR"), ("C", "****1234"), ("M", "Libreria Àncora")],
        &[("D", "riga uno\nriga due \\ fine"), ("B", "Ditta S.r.l.")],
        &[
            ("A", "1250.00EUR"),
            ("B", "Mario Rossi"),
            ("D", "Affitto novembre"),
            ("I", "IT60X0542811101000000123456"),
            ("X", "2024-02-29"),
        ],
        &[
            ("A", "0.50EUR"),
            ("B", "Zoë O'Brien: *** \\n"),
            ("I", "DE89370400440532013000"),
        ],
        &[("X", "2030-12-31")],
        &[],
        &[
            ("N", "302000100000009424"),
            ("F", "80078750587"),
            ("B", "INPS"),
            ("A", "120.30EUR"),
        ],
    ];
    let mut canonical = Vec::new();
    for fields in canonical_inputs {
        let data = OperationData::from_fields(fields.iter().map(|(k, v)| (k.chars().next().unwrap_or('?'), *v)))
            .map_err(|_| KeyError::Random)?;
        canonical.push(CanonicalCase {
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            data: data.canonical(),
        });
    }

    let bank = SigningKey::generate(rng)?;
    let other_bank = SigningKey::generate(rng)?;
    let bank_pub = bank.public_key().to_b64u();
    let key_id = bank.public_key().key_id().to_string();
    let mut payloads = Vec::new();
    let valid_ops: [(Kind, &[(char, &str)]); 7] = [
        (
            Kind::Transfer,
            &[
                ('A', "1250.00EUR"),
                ('B', "Mario Rossi"),
                ('I', "IT60X0542811101000000123456"),
            ],
        ),
        (
            Kind::Transfer,
            &[
                ('A', "0.50EUR"),
                ('B', "Caffè * Bar"),
                ('D', "Colazione\nsecondo rigo \\ fine"),
                ('I', "DE89370400440532013000"),
                ('X', "2030-01-31"),
            ],
        ),
        (Kind::Login, &[]),
        (
            Kind::CardPayment,
            &[('A', "49.90EUR"), ('C', "****4321"), ('M', "Libreria Àncora")],
        ),
        (Kind::Device, &[]),
        (Kind::Generic, &[('D', "Modifica limite carta")]),
        (
            Kind::PagoPa,
            &[
                ('A', "120.30EUR"),
                ('B', "INPS"),
                ('F', "80078750587"),
                ('N', "302000100000009424"),
            ],
        ),
    ];
    for (kind, fields) in valid_ops {
        let operation = Operation {
            op_id: OpId::random(rng)?,
            kind,
            data: OperationData::from_fields(fields.iter().copied()).map_err(|_| KeyError::Random)?,
            nonce: Nonce::random(rng)?,
            expires: FAR_EXPIRY,
        };
        let signed = SignedPayload::sign(operation, &bank, rng).map_err(|_| KeyError::Random)?;
        payloads.push(PayloadCase {
            text: signed.text().to_owned(),
            bank_pub: bank_pub.clone(),
            valid: true,
            now: None,
            note: format!("valid {kind}"),
        });
    }
    let transfer_data = "A:1250.00EUR*B:Mario Rossi*I:IT60X0542811101000000123456";
    let lines = |op: &str, kind: &str, data: &str, nonce: &str, expires: &str, kid: &str| -> [String; 7] {
        ["SCA1", op, kind, data, nonce, expires, kid].map(str::to_owned)
    };
    let op = OpId::random(rng)?.to_string();
    let nonce = Nonce::random(rng)?.to_b64u();
    let far = FAR_EXPIRY.to_string();
    let mut bad_op = op.clone().into_bytes();
    bad_op[7] = b'0' + (bad_op[7] - b'0' + 1) % 10;
    let bad_op = String::from_utf8_lossy(&bad_op).into_owned();
    let short_nonce = b64u_encode(&random::<15>(rng)?);
    let refused: Vec<(String, Option<u64>, &str)> = vec![
        (
            sign_lines(
                &bank,
                rng,
                &lines(&op, "TRANSFER", transfer_data, &nonce, &far, &key_id),
            )?
            .replacen("SCA1", "SCA2", 1),
            None,
            "form: the first line must be SCA1",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(&op, "TRANSFER", transfer_data, &nonce, &far, &key_id),
            )?
            .trim_end_matches('\n')
            .rsplit_once('\n')
            .map(|(head, _)| format!("{head}\n"))
            .unwrap_or_default(),
            None,
            "form: the signature line is missing",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(&bad_op, "TRANSFER", transfer_data, &nonce, &far, &key_id),
            )?,
            None,
            "op_id: wrong check digit",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(&op, "Transfer", transfer_data, &nonce, &far, &key_id),
            )?,
            None,
            "kind: kinds are upper case",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(
                    &op,
                    "TRANSFER",
                    "B:Mario Rossi*A:1250.00EUR*I:IT60X0542811101000000123456",
                    &nonce,
                    &far,
                    &key_id,
                ),
            )?,
            None,
            "data: fields not sorted by key",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(
                    &op,
                    "TRANSFER",
                    "A:1250.00EUR*I:IT60X0542811101000000123456",
                    &nonce,
                    &far,
                    &key_id,
                ),
            )?,
            None,
            "missing_field: a TRANSFER needs the payee name B",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(
                    &op,
                    "TRANSFER",
                    "A:1250.00EUR*B:Mario Rossi*I:IT61X0542811101000000123456",
                    &nonce,
                    &far,
                    &key_id,
                ),
            )?,
            None,
            "iban: mod-97 check fails",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(&op, "TRANSFER", transfer_data, &short_nonce, &far, &key_id),
            )?,
            None,
            "nonce: 15 bytes, not 16",
        ),
        (
            sign_lines(
                &other_bank,
                rng,
                &lines(
                    &op,
                    "TRANSFER",
                    transfer_data,
                    &nonce,
                    &far,
                    &other_bank.public_key().key_id().to_string(),
                ),
            )?,
            None,
            "key_id: signed by another bank's key",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(&op, "TRANSFER", transfer_data, &nonce, &far, &key_id),
            )?
            .replacen("1250.00EUR", "9250.00EUR", 1),
            None,
            "signature: the amount was changed after signing",
        ),
        (
            sign_lines(
                &bank,
                rng,
                &lines(&op, "TRANSFER", transfer_data, &nonce, &now.to_string(), &key_id),
            )?,
            Some(now),
            "expired: checked at the very second it expires",
        ),
    ];
    for (text, case_now, note) in refused {
        payloads.push(PayloadCase {
            text,
            bank_pub: bank_pub.clone(),
            valid: false,
            now: case_now,
            note: note.into(),
        });
    }
    // The same payload one second before its expiry is still valid.
    payloads.push(PayloadCase {
        text: sign_lines(
            &bank,
            rng,
            &lines(&op, "TRANSFER", transfer_data, &nonce, &now.to_string(), &key_id),
        )?,
        bank_pub: bank_pub.clone(),
        valid: true,
        now: Some(now - 1),
        note: "valid one second before it expires".into(),
    });

    let mut approvals = Vec::new();
    for i in 0..10 {
        let device = SigningKey::generate(rng)?;
        let op_id = OpId::random(rng)?;
        let nonce = Nonce::random(rng)?;
        let data = canonical[i % canonical.len()].data.clone();
        let code = Code::parse(&format!("{:06}", u32::from_be_bytes(random::<4>(rng)?) % 1_000_000))
            .map_err(|_| KeyError::Random)?;
        let sig = device.sign(rng, &approve_message(&op_id, &nonce, &sha256(data.as_bytes()), &code))?;
        let mut case = ApprovalCase {
            device_pub: device.public_key().to_b64u(),
            op_id: op_id.to_string(),
            nonce: nonce.to_b64u(),
            data,
            code: code.to_string(),
            sig: sig.to_b64u(),
            valid: true,
        };
        // Half the cases are refusals: the signature stays, one signed input changes.
        match i {
            5 => case.code = format!("{:06}", (code.as_str().parse::<u32>().unwrap_or(0) + 1) % 1_000_000),
            6 => case.data.push_str("*X:2031-01-01"),
            7 => case.nonce = Nonce::random(rng)?.to_b64u(),
            8 => case.op_id = OpId::random(rng)?.to_string(),
            9 => case.device_pub = SigningKey::generate(rng)?.public_key().to_b64u(),
            _ => {}
        }
        case.valid = i < 5;
        approvals.push(case);
    }

    Ok(VectorFile {
        damm,
        ids,
        activation,
        pin_wrap,
        pins,
        codes,
        canonical,
        payloads,
        approvals,
    })
}
