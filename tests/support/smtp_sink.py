#!/usr/bin/env python3
"""A real SMTP server for the end-to-end tests: it accepts every message and
reports it on stdout, so a test can read the one-time code the gateway mailed.

Protocol with the test harness (tests/src/harness/smtp.rs):
  * binds 127.0.0.1 on an ephemeral port itself (no port races), then prints
    `READY <port>`;
  * prints one JSON line per accepted message:
    {"mail_from", "rcpt_tos", "subject", "body", "raw"}, where `body` is the
    text/plain part decoded to text (transfer encoding and charset undone), so
    tests never parse MIME themselves;
  * exits when stdin closes (the test process died or dropped the sink) or on
    SIGTERM.

Uses aiosmtpd (Debian: python3-aiosmtpd) so the gateway talks to a real,
standards-following SMTP implementation rather than a hand-written fake.
"""

import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import sys
import threading

from aiosmtpd.smtp import SMTP


def describe(envelope):
    """The JSON-ready record of one message."""
    content = envelope.content
    if isinstance(content, str):
        content = content.encode("utf-8", errors="surrogateescape")
    subject = ""
    body = ""
    try:
        message = email.message_from_bytes(content, policy=email.policy.default)
        subject = str(message.get("subject", "") or "")
        part = message.get_body(preferencelist=("plain",))
        if part is not None:
            # CRLF from the wire becomes \n, like any text a test writes.
            body = part.get_content().replace("\r\n", "\n")
    except Exception as error:  # a malformed message is still worth reporting
        print(f"smtp_sink: could not parse message: {error!r}", file=sys.stderr, flush=True)
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "subject": subject,
        "body": body,
        "raw": content.decode("utf-8", errors="replace"),
    }


class Sink:
    """aiosmtpd handler: report the message, accept it."""

    async def handle_DATA(self, server, session, envelope):
        print(json.dumps(describe(envelope)), flush=True)
        return "250 Message accepted for delivery"


async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def watch_stdin():
        # Blocks until the parent closes our stdin (or dies). os.read, not
        # sys.stdin: a daemon thread holding stdin's buffer lock aborts the
        # interpreter at shutdown.
        try:
            while os.read(0, 4096):
                pass
        finally:
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    port = sock.getsockname()[1]

    # A fixed hostname: the default looks up the FQDN, which can stall
    # without DNS. No TLS context, so STARTTLS is not offered (plain smtp://).
    server = await loop.create_server(
        lambda: SMTP(
            Sink(),
            hostname="smtp-sink.test",
            decode_data=False,
            enable_SMTPUTF8=True,
        ),
        sock=sock,
    )
    print(f"READY {port}", flush=True)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
