//! AFL++ entry for the `cookie` target (see `fuzz/README.md`).

fn main() {
    afl::fuzz!(|data: &[u8]| gatehouse_fuzz::cookie(data));
}
