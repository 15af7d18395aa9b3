//! AFL++ entry for the `config` target (see `fuzz/README.md`).

fn main() {
    afl::fuzz!(|data: &[u8]| gatehouse_fuzz::config(data));
}
