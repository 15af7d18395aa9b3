//! argon2id password verification with the OWASP parameters Gatehouse uses
//! (19 MiB, 2 passes, 1 lane): the cost of one sign-in, which the gateway
//! runs on a bounded blocking pool, never on the proxy's event loop.
//!
//! Tens of milliseconds per iteration, so this target takes a few seconds
//! even with a short measurement time; it is separate so the hot-path
//! targets can be run without it.
//!
//! Run with `cargo bench -p gatehouse-benches --bench password`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gatehouse::auth::password::{hash_blocking, verify_blocking};

fn password(c: &mut Criterion) {
    let phc = hash_blocking("correct horse battery staple").expect("argon2 hashes");
    assert!(verify_blocking(&phc, "correct horse battery staple"));

    let mut g = c.benchmark_group("password");
    g.sample_size(10);
    g.bench_function("argon2id verify (right password)", |b| {
        b.iter(|| verify_blocking(black_box(&phc), black_box("correct horse battery staple")))
    });
    g.finish();
}

criterion_group!(benches, password);
criterion_main!(benches);
