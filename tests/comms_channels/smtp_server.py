#!/usr/bin/python3
"""An SMTP server for the email channel's tests (aiosmtpd, loopback only).

Run with Debian's /usr/bin/python3 (python3-aiosmtpd). Binds 127.0.0.1 on a
free port, prints the port on the first line of stdout, and exits when its
stdin reaches end of file.

Every command the client got through is appended to the --record file as a
JSON line: {"event": "ehlo" | "auth" | "mail" | "rcpt" | "data", "tls":
bool, ...}; "data" carries "mail_from", "rcpt_tos", "content" (the message
as received, after the server undid dot-stuffing), "tls_version", "user",
and the message as Python's email package reads it: "headers" (name ->
list of decoded values), "body" (decoded text), "defects".

Options:
  --record FILE          (required)
  --cert PEM --key PEM   offer STARTTLS and require it before MAIL and AUTH;
                         without them the server offers no STARTTLS at all
  --implicit-tls         (with --cert) TLS from the first byte (smtps://)
  --user U --password P  accept AUTH PLAIN/LOGIN with these (only over TLS)
Recipients whose local part starts with "later" get 451, with "nobody" 550.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, path):
        self.path = path

    def write(self, server, event, **fields):
        tls = server.transport.get_extra_info("ssl_object") is not None
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"event": event, "tls": tls, **fields}) + "\n")


class Handler:
    def __init__(self, recorder):
        self.recorder = recorder

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.recorder.write(server, "ehlo", hostname=hostname)
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.recorder.write(server, "mail", address=address)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.recorder.write(server, "rcpt", address=address)
        if address.startswith("later"):
            return "451 4.3.0 try again later"
        if address.startswith("nobody"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        ssl_object = server.transport.get_extra_info("ssl_object")
        user = session.auth_data.login.decode() if session.authenticated else None
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        headers = {}
        for name, value in message.items():
            headers.setdefault(name.lower(), []).append(str(value))
        self.recorder.write(server, "data", mail_from=envelope.mail_from,
                            rcpt_tos=envelope.rcpt_tos,
                            content=envelope.content.decode("utf-8", "replace"),
                            tls_version=ssl_object.version() if ssl_object else None,
                            user=user, headers=headers, body=message.get_content().replace("\r\n", "\n"),
                            defects=[type(d).__name__ for d in message.defects])
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--implicit-tls", action="store_true")
    options = parser.parse_args()
    # aiosmtpd warns about its own deprecated attribute on every login.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    recorder = Recorder(options.record)

    context = None
    if options.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(options.cert, options.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == options.user
              and auth_data.password.decode() == options.password)
        recorder.write(server, "auth", mechanism=mechanism, accepted=ok)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))

    starttls = context is not None and not options.implicit_tls

    def factory():
        # With implicit TLS the whole session is encrypted, which aiosmtpd's
        # auth_require_tls (a STARTTLS check) does not see.
        return SMTP(Handler(recorder), hostname="smtp.test",
                    tls_context=context if starttls else None, require_starttls=starttls,
                    authenticator=authenticate, auth_require_tls=starttls, loop=loop)

    server = loop.run_until_complete(loop.create_server(
        factory, sock=listener, ssl=context if options.implicit_tls else None))
    print(listener.getsockname()[1], flush=True)

    async def wait_for_stdin_end():
        await loop.run_in_executor(None, sys.stdin.read)

    loop.run_until_complete(wait_for_stdin_end())
    server.close()


if __name__ == "__main__":
    main()
