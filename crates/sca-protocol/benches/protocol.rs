//! Costs of the protocol's hot operations on one core.
//!
//! Run: `cargo bench -p sca-protocol --bench protocol` (results in docs/benchmarks.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sca_protocol::*;
use std::hint::black_box;

fn codes(c: &mut Criterion) {
    let k_poss = PossessionKey::from_bytes([1; 32]);
    let k_know = KnowledgeKey::from_bytes([2; 32]);
    let op = OpId::parse("57240000").unwrap();
    let nonce = Nonce::from_bytes([3; 16]);
    let sha = [4u8; 32];
    let mut group = c.benchmark_group("code");
    group.throughput(Throughput::Elements(1));
    group.bench_function("login", |b| {
        let mut step = 0u64;
        b.iter(|| {
            step += 1;
            black_box(CodeInput::Login(Step(step)).code(&k_poss, &k_know))
        })
    });
    group.bench_function("operation", |b| {
        b.iter(|| {
            black_box(
                CodeInput::Operation {
                    op_id: &op,
                    nonce: &nonce,
                    data_sha: &sha,
                }
                .code(&k_poss, &k_know),
            )
        })
    });
    group.finish();
}

fn payloads(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let bank = SigningKey::generate(&rng).unwrap();
    let op = Operation {
        op_id: OpId::parse("57240000").unwrap(),
        kind: Kind::Transfer,
        data: OperationData::from_fields([
            ('A', "1250.00EUR"),
            ('B', "Mario Rossi"),
            ('D', "Affitto novembre"),
            ('I', "IT60X0542811101000000123456"),
        ])
        .unwrap(),
        nonce: Nonce::random(&rng).unwrap(),
        expires: 4_102_444_800,
    };
    let signed = SignedPayload::sign(op.clone(), &bank, &rng).unwrap();
    let text = signed.text().to_owned();
    let public = bank.public_key();
    let mut group = c.benchmark_group("payload");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify", |b| {
        b.iter(|| SignedPayload::verify(black_box(&text), &public, 1_700_000_000).unwrap())
    });
    group.bench_function("sign", |b| {
        b.iter_batched(
            || op.clone(),
            |op| SignedPayload::sign(op, &bank, &rng).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn pin(c: &mut Criterion) {
    let salt = PinSalt([5; 16]);
    let pin = Pin::parse("13579").unwrap();
    let w = WrappedKnowledgeKey::from_bytes([6; 32]);
    let mut group = c.benchmark_group("pin_unwrap");
    group.sample_size(20);
    for n in [Iterations::MIN, Iterations::DEFAULT.get()] {
        let it = Iterations::new(u64::from(n)).unwrap();
        group.bench_function(format!("{n}_iterations"), |b| {
            b.iter(|| black_box(unwrap_knowledge_key(&w, &pin, &salt, it)))
        });
    }
    group.finish();
}

criterion_group!(benches, codes, payloads, pin);
criterion_main!(benches);
