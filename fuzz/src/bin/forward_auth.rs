//! AFL++ entry for the `forward_auth` target (see `fuzz/README.md`).

fn main() {
    afl::fuzz!(|data: &[u8]| gatehouse_fuzz::forward_auth(data));
}
