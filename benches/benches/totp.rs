//! Second-factor checks: a TOTP code, and a recovery code's keyed hash.
//!
//! `Totp::verify` computes the code for the previous, current and next
//! 30-second step and compares all three in constant time without stopping
//! at a match, so a right and a wrong code both cost three HMAC-SHA1s.
//!
//! Run with `cargo bench -p gatehouse-benches --bench totp`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse::auth::recovery;
use gatehouse::auth::{RecoveryHasher, Totp, TotpSecret};

/// A fixed instant in the middle of a step, so the code stays valid for the
/// whole run.
const NOW: u64 = 1_700_000_015;

fn totp(c: &mut Criterion) {
    let totp = Totp::new(&TotpSecret::generate(), "Gatehouse", "alice");
    let right = totp.code_at(NOW);
    let window: Vec<String> = [NOW - 30, NOW, NOW + 30]
        .iter()
        .map(|&t| totp.code_at(t))
        .collect();
    let wrong = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|code| !window.contains(code))
        .expect("some 6-digit code is outside the window");
    assert_eq!(totp.verify(&right, NOW), Some(NOW / 30));
    assert_eq!(totp.verify(&wrong, NOW), None);

    let mut g = c.benchmark_group("totp");
    g.bench_function("Totp::verify (right code, current step)", |b| {
        b.iter(|| totp.verify(black_box(&right), black_box(NOW)))
    });
    g.bench_function("Totp::verify (wrong code)", |b| {
        b.iter(|| totp.verify(black_box(&wrong), black_box(NOW)))
    });
    g.finish();
}

fn recovery_codes(c: &mut Criterion) {
    let hasher = RecoveryHasher::new(&[7; 32]);
    let typed = "ABCDE fghjk-MNPQR";
    let code = recovery::normalise(typed).expect("a well-formed code");

    let mut g = c.benchmark_group("totp");
    g.bench_function("recovery code hash (HMAC-SHA256, hex)", |b| {
        b.iter(|| hasher.hash(black_box("alice"), black_box(&code)))
    });
    g.bench_function("recovery code normalise + hash (as typed)", |b| {
        b.iter(|| {
            let code = recovery::normalise(black_box(typed)).unwrap();
            hasher.hash(black_box("alice"), &code)
        })
    });
    g.finish();
}

criterion_group!(benches, totp, recovery_codes);
criterion_main!(benches);
