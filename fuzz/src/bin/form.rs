//! AFL++ entry for the `form` target (see `fuzz/README.md`).

fn main() {
    afl::fuzz!(|data: &[u8]| gatehouse_fuzz::form(data));
}
