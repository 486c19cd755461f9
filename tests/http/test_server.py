#!/usr/bin/python3
"""A small HTTP(S) server for the HTTP client's tests (loopback only).

Binds 127.0.0.1 on a free port and prints the port on the first line of
stdout. Exits when its stdin reaches end of file, so that it never outlives
the test that started it, even one that crashed.

Endpoints:
  /status/NNN     answers status NNN with the body "status NNN"
  /echo           answers 200 with a JSON object: method, headers (names in
                  lower case), body
  /slow?ms=N      waits N milliseconds, then answers 200 "slow"
  /big?bytes=N    answers 200 with N bytes of 'x'
  /redirect       answers 302 to /status/200

Options:
  --cert PEM --key PEM   serve HTTPS with this certificate and key
  --client-ca PEM        (with --cert) require a client certificate signed by
                         this CA
"""

import argparse
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tls_context = None  # set for HTTPS

    def setup(self):
        # The TLS handshake happens here, on the connection's own thread, so
        # that a client that fails it (or stalls) never blocks the others.
        if self.tls_context is not None:
            connection = self.tls_context.wrap_socket(
                self.request, server_side=True, do_handshake_on_connect=False)
            try:
                connection.do_handshake()
            except (ssl.SSLError, OSError):
                linger_and_close(socket.socket(fileno=connection.detach()))
                raise
            self.request = connection
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass  # the tests read results, not access logs

    def answer(self, status, body, content_type="text/plain", extra_headers=(), send_body=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length > 0 else b""

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        body = self.read_body()
        send_body = self.command != "HEAD"
        if url.path.startswith("/status/"):
            status = int(url.path[len("/status/"):])
            self.answer(status, b"status %d" % status, send_body=send_body)
        elif url.path == "/echo":
            echoed = {
                "method": self.command,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            self.answer(200, json.dumps(echoed).encode(), "application/json", send_body=send_body)
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
            self.answer(200, b"slow", send_body=send_body)
        elif url.path == "/big":
            size = int(query.get("bytes", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            while send_body and size > 0:
                piece = chunk[: min(size, len(chunk))]
                self.wfile.write(piece)
                size -= len(piece)
        elif url.path == "/redirect":
            self.answer(302, b"moved", extra_headers=[("Location", "/status/200")],
                        send_body=send_body)
        else:
            self.answer(404, b"no such endpoint", send_body=send_body)

    do_GET = route
    do_HEAD = route
    do_POST = route
    do_PUT = route
    do_PATCH = route
    do_DELETE = route


def linger_and_close(raw):
    """Closes a connection whose handshake failed so that the client reads our
    TLS alert: a plain close with the client's request still unread would send
    a TCP reset, which can destroy the alert before the client sees it (well
    behaved servers linger like this too)."""
    try:
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(1.0)
        while raw.recv(65536):
            pass
    except OSError:
        pass
    raw.close()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Failed handshakes and clients that hang up (timeouts, cancels) are
        # what several tests do on purpose: one line, no traceback.
        error = sys.exc_info()[1]
        print("test_server: %s: %s" % (type(error).__name__, error), file=sys.stderr)


def exit_at_end_of_stdin():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    options = parser.parse_args()

    if options.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(options.cert, options.key)
        if options.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(options.client_ca)
        Handler.tls_context = context

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=exit_at_end_of_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
