//! Benchmarks for Gatehouse live in `benches/`; see `benches/README.md`.
