//! AFL++ entry for the `route` target (see `fuzz/README.md`).

fn main() {
    afl::fuzz!(|data: &[u8]| gatehouse_fuzz::route(data));
}
