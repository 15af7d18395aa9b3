//! The brief run that `cargo test` (and so CI) makes of every fuzz target:
//! each input of its committed corpus, through the target and its
//! assertions. A regression that one of them once found shows here.

use std::fs;
use std::path::Path;

#[test]
fn every_corpus_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, target) in gatehouse_fuzz::TARGETS {
        let dir = root.join(name);
        let mut inputs: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("no corpus for {name} at {}: {e}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "the {name} corpus is empty");
        for input in &inputs {
            let data = fs::read(input).expect("a corpus file");
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(
                outcome.is_ok(),
                "{name}: {} fails (replay: cargo afl run --bin {name} < that file)",
                input.display()
            );
        }
        println!("{name}: {} inputs replayed", inputs.len());
    }
}
