//! Ephemeral ports: ask the kernel for a free one, never hard-code.

use std::net::TcpListener;

/// Binds 127.0.0.1:0, reads the port the kernel chose and releases it.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}
