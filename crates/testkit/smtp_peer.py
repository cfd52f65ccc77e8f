"""An SMTP server for Lyceum's mail tests, on aiosmtpd: it keeps each message it accepts as a file
and answers as told, so a test can hold a real SMTP conversation with Lyceum's mailer.

    python3 smtp_peer.py OUTDIR [--starttls CERT KEY] [--tls CERT KEY] [--reply CODE]

Prints "ready PORT" on stdout once it listens on 127.0.0.1. With --starttls it refuses mail until
the client has started TLS; with --tls the connection is TLS from the first byte. With --reply,
RCPT TO is answered with CODE (451 transient, 550 permanent) instead of 250.
"""

import argparse
import pathlib
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Keeper:
    def __init__(self, outdir, reply):
        self.outdir = pathlib.Path(outdir)
        self.reply = reply
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return f"{self.reply} {'4.2.0 try again later' if self.reply < 500 else '5.1.1 no such mailbox here'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            number = self.count
        name = self.outdir / f"{number:04}.eml"
        partial = self.outdir / f".{number:04}.partial"
        # Whether this connection is encrypted now (after STARTTLS, or from the first byte).
        tls = "tls" if server.transport.get_extra_info("ssl_object") else "plain"
        head = f"X-Peer-Envelope: {envelope.mail_from} -> {','.join(envelope.rcpt_tos)} ({tls})\r\n"
        partial.write_bytes(head.encode() + envelope.original_content)
        partial.rename(name)
        return f"250 2.0.0 kept as {number:04}"


def context(cert, key):
    made = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    made.load_cert_chain(cert, key)
    return made


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--starttls", nargs=2)
    parser.add_argument("--tls", nargs=2)
    parser.add_argument("--reply", type=int)
    args = parser.parse_args()
    keeper = Keeper(args.outdir, args.reply)
    # aiosmtpd checks that it listens by connecting to the port, so it needs one named.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = {"hostname": "127.0.0.1", "port": port, "server_hostname": "localhost"}
    if args.starttls:
        options["tls_context"] = context(*args.starttls)
        options["require_starttls"] = True
    if args.tls:
        options["ssl_context"] = context(*args.tls)
    controller = Controller(keeper, **options)
    controller.start()
    print(f"ready {port}", flush=True)
    # Serve until the test closes stdin (or dies).
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
