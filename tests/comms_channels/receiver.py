#!/usr/bin/python3
"""An HTTP(S) receiver for the comms channels' tests (loopback only).

Binds 127.0.0.1 on a free port, prints the port on the first line of stdout,
and exits when its stdin reaches end of file (so that it never outlives the
test that started it).

Every POST is checked against the format its provider documents, chosen by
the path's first segment:
  /slack/...      Slack incoming webhook, Block Kit
  /teams/...      Microsoft Teams incoming webhook, Adaptive Card attachment
  /pagerduty/...  PagerDuty Events API v2 (answers 202 like PagerDuty)
  /webhook/...    Lifeboat's generic webhook (HMAC signature recomputed)
A request with problems is answered 400 with the problems in the body. Each
request is appended to the --record file as one JSON line {"path",
"headers" (names in lower case), "body" (parsed JSON or null), "problems",
"status"} before it is answered.

Options:
  --record FILE          where requests are recorded (required)
  --script 503,503,400   answer the first requests with these statuses, in
                         order, whatever they hold; then check as usual
  --retry-after S        sent with every scripted 429/503 answer
  --delay-ms N           wait N ms before answering every request
  --webhook-key KEY      the HMAC key of /webhook/ signatures
  --routing-key KEY      the routing key /pagerduty/ expects
  --cert PEM --key PEM   serve HTTPS
"""

import argparse
import hashlib
import hmac
import http.server
import json
import re
import socket
import ssl
import sys
import threading
import time

SLACK_TOP = {"text", "blocks", "attachments", "thread_ts", "mrkdwn", "unfurl_links",
             "unfurl_media", "username", "icon_emoji", "icon_url", "channel"}
SLACK_BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image",
                     "input", "file", "rich_text", "video"}
TEAMS_ELEMENT_KEYS = {
    "TextBlock": {"type", "text", "wrap", "weight", "size", "color", "isSubtle", "spacing",
                  "separator", "horizontalAlignment", "maxLines", "fontType", "id"},
    "FactSet": {"type", "facts", "spacing", "separator", "id"},
}
TEAMS_ENUMS = {
    "weight": {"Default", "Lighter", "Bolder"},
    "size": {"Default", "Small", "Medium", "Large", "ExtraLarge"},
    "color": {"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"},
}
PAGERDUTY_SEVERITIES = {"critical", "error", "warning", "info"}
PAGERDUTY_TOP = {"routing_key", "event_action", "dedup_key", "payload", "client",
                 "client_url", "links", "images"}
PAGERDUTY_PAYLOAD = {"summary", "source", "severity", "timestamp", "component", "group",
                     "class", "custom_details"}
WEBHOOK_FIELDS = {"id": int, "dedup_key": str, "incident": str, "audience": str,
                  "channel": str, "trigger": str, "drill": bool, "resolves": bool,
                  "subject": str, "body": str, "facts": dict, "created_at": str}


def check_slack_text(where, value, problems, allowed=("plain_text", "mrkdwn"), limit=3000):
    if not isinstance(value, dict):
        problems.append(f"{where}: a text object must be an object")
        return
    kind = value.get("type")
    if kind not in allowed:
        problems.append(f"{where}.type: {kind!r} is not one of {allowed}")
    text = value.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}.text: a non-empty string is required")
        return
    if len(text) > limit:
        problems.append(f"{where}.text: {len(text)} characters, at most {limit}")
    if "emoji" in value and kind != "plain_text":
        problems.append(f"{where}.emoji: only plain_text takes emoji")
    if "verbatim" in value and kind != "mrkdwn":
        problems.append(f"{where}.verbatim: only mrkdwn takes verbatim")
    if kind == "mrkdwn":
        check_slack_escaped(where + ".text", text, problems)
    unknown = set(value) - {"type", "text", "emoji", "verbatim"}
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}")


def check_slack_escaped(where, text, problems):
    # Our sender never writes Slack's <link|...> syntax, so every < and > must
    # be escaped, and every & must start one of the three entities.
    if "<" in text or ">" in text:
        problems.append(f"{where}: unescaped < or >")
    if re.search(r"&(?!amp;|lt;|gt;)", text):
        problems.append(f"{where}: unescaped &")


def check_slack(body, problems):
    if not isinstance(body, dict):
        problems.append("the payload must be an object")
        return
    unknown = set(body) - SLACK_TOP
    if unknown:
        problems.append(f"unknown top-level keys {sorted(unknown)}")
    text = body.get("text")
    if not isinstance(text, str) or not text:
        problems.append("text: a non-empty fallback string is required with blocks")
    else:
        check_slack_escaped("text", text, problems)
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        problems.append("blocks: a list of 1 to 50 blocks is required")
        return
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict) or block.get("type") not in SLACK_BLOCK_TYPES:
            problems.append(f"{where}: not a block of a known type")
            continue
        kind = block["type"]
        if "block_id" in block and (not isinstance(block["block_id"], str)
                                    or len(block["block_id"]) > 255):
            problems.append(f"{where}.block_id: a string of at most 255 characters")
        if kind == "header":
            check_slack_text(where + ".text", block.get("text"), problems,
                             allowed=("plain_text",), limit=150)
            if set(block) - {"type", "text", "block_id"}:
                problems.append(f"{where}: unknown keys")
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: text or fields is required")
            if "text" in block:
                check_slack_text(where + ".text", block["text"], problems)
            for position, field in enumerate(block.get("fields", [])):
                check_slack_text(f"{where}.fields[{position}]", field, problems, limit=2000)
            if set(block) - {"type", "text", "fields", "block_id", "accessory"}:
                problems.append(f"{where}: unknown keys")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                problems.append(f"{where}.elements: a list of 1 to 10 elements is required")
                continue
            for position, element in enumerate(elements):
                check_slack_text(f"{where}.elements[{position}]", element, problems)
            if set(block) - {"type", "elements", "block_id"}:
                problems.append(f"{where}: unknown keys")


def check_teams(body, problems):
    if not isinstance(body, dict) or body.get("type") != "message":
        problems.append('type: "message" is required')
        return
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        problems.append("attachments: a non-empty list is required")
        return
    for index, attachment in enumerate(attachments):
        where = f"attachments[{index}]"
        if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append(f"{where}.contentType: not an Adaptive Card")
        if attachment.get("contentUrl", None) is not None:
            problems.append(f"{where}.contentUrl: must be null or absent")
        card = attachment.get("content")
        if not isinstance(card, dict):
            problems.append(f"{where}.content: an object is required")
            continue
        if card.get("type") != "AdaptiveCard":
            problems.append(f'{where}.content.type: "AdaptiveCard" is required')
        if card.get("$schema") != "http://adaptivecards.io/schemas/adaptive-card.json":
            problems.append(f"{where}.content.$schema: not the Adaptive Card schema")
        if not isinstance(card.get("version"), str) or not re.fullmatch(r"1\.[0-6]",
                                                                        card["version"]):
            problems.append(f"{where}.content.version: 1.0 to 1.6 as a string")
        elements = card.get("body")
        if not isinstance(elements, list) or not elements:
            problems.append(f"{where}.content.body: a non-empty list is required")
            continue
        for position, element in enumerate(elements):
            check_teams_element(f"{where}.content.body[{position}]", element, problems)


def check_teams_element(where, element, problems):
    kind = element.get("type") if isinstance(element, dict) else None
    if kind not in TEAMS_ELEMENT_KEYS:
        problems.append(f"{where}: not a TextBlock or FactSet")
        return
    unknown = set(element) - TEAMS_ELEMENT_KEYS[kind]
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}")
    for key, allowed in TEAMS_ENUMS.items():
        if key in element and element[key] not in allowed:
            problems.append(f"{where}.{key}: {element[key]!r} is not allowed")
    if "wrap" in element and not isinstance(element["wrap"], bool):
        problems.append(f"{where}.wrap: a boolean")
    if kind == "TextBlock":
        if not isinstance(element.get("text"), str) or not element["text"]:
            problems.append(f"{where}.text: a non-empty string is required")
    else:
        facts = element.get("facts")
        if not isinstance(facts, list) or not facts:
            problems.append(f"{where}.facts: a non-empty list is required")
            return
        for position, fact in enumerate(facts):
            if (not isinstance(fact, dict) or set(fact) != {"title", "value"}
                    or not all(isinstance(fact[k], str) for k in ("title", "value"))):
                problems.append(f"{where}.facts[{position}]: title and value strings only")


def check_pagerduty(body, routing_key, problems):
    if not isinstance(body, dict):
        problems.append("the event must be an object")
        return
    unknown = set(body) - PAGERDUTY_TOP
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    if body.get("routing_key") != routing_key:
        problems.append("routing_key: not the integration's key")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("event_action: trigger, acknowledge or resolve")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not 1 <= len(dedup) <= 255):
        problems.append("dedup_key: a string of 1 to 255 characters")
    if action in ("acknowledge", "resolve"):
        if dedup is None:
            problems.append(f"dedup_key: required to {action}")
        return
    payload = body.get("payload")
    if not isinstance(payload, dict):
        problems.append("payload: required to trigger")
        return
    unknown = set(payload) - PAGERDUTY_PAYLOAD
    if unknown:
        problems.append(f"payload: unknown keys {sorted(unknown)}")
    summary = payload.get("summary")
    if not isinstance(summary, str) or not 1 <= len(summary) <= 1024:
        problems.append("payload.summary: a string of 1 to 1024 characters")
    if not isinstance(payload.get("source"), str) or not payload["source"]:
        problems.append("payload.source: a non-empty string")
    if payload.get("severity") not in PAGERDUTY_SEVERITIES:
        problems.append("payload.severity: critical, error, warning or info")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        problems.append("payload.custom_details: an object")
    if "timestamp" in payload and not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", payload["timestamp"]):
        problems.append("payload.timestamp: ISO 8601")


def check_webhook(headers, raw, body, key, problems):
    timestamp = headers.get("x-lifeboat-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        problems.append("x-lifeboat-timestamp: seconds since 1970, within 5 minutes of now")
    expected = "sha256=" + hmac.new(key.encode(), timestamp.encode() + b"." + raw,
                                    hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("x-lifeboat-signature", ""), expected):
        problems.append("x-lifeboat-signature: does not match the body")
    if not isinstance(body, dict):
        problems.append("the payload must be an object")
        return
    for name, kind in WEBHOOK_FIELDS.items():
        if not isinstance(body.get(name), kind) or (kind is int and isinstance(body[name], bool)):
            problems.append(f"{name}: a {kind.__name__} is required")
    if set(body) - set(WEBHOOK_FIELDS):
        problems.append(f"unknown keys {sorted(set(body) - set(WEBHOOK_FIELDS))}")
    if headers.get("idempotency-key") != body.get("dedup_key"):
        problems.append("idempotency-key: not the payload's dedup_key")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None
    lock = threading.Lock()
    script = []

    def setup(self):
        if self.options.cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(self.options.cert, self.options.key)
            self.request = context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def do_POST(self):  # noqa: N802 (the base class's name)
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        problems = []
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
            problems.append("the body is not JSON")
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append("content-type: application/json is required")
        with self.lock:
            scripted = self.script.pop(0) if self.script else None
        kind = self.path.strip("/").split("/")[0]
        if body is not None:
            if kind == "slack":
                check_slack(body, problems)
            elif kind == "teams":
                check_teams(body, problems)
            elif kind == "pagerduty":
                check_pagerduty(body, self.options.routing_key, problems)
            elif kind == "webhook":
                check_webhook(headers, raw, body, self.options.webhook_key, problems)
            else:
                problems.append(f"no provider at {self.path}")
        status = scripted or (400 if problems else (202 if kind == "pagerduty" else 200))
        record = {"path": self.path, "headers": headers, "body": body, "problems": problems,
                  "status": status}
        with self.lock, open(self.options.record, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        if self.options.delay_ms:
            time.sleep(self.options.delay_ms / 1000)
        extra = []
        if scripted in (429, 503) and self.options.retry_after:
            extra.append(("Retry-After", self.options.retry_after))
        if scripted:
            answer = json.dumps({"status": "scripted", "message": f"scripted {scripted}"})
        elif problems:
            answer = json.dumps({"status": "invalid event", "errors": problems})
        else:
            answer = json.dumps({"status": "success", "message": "Event processed"})
        self.answer(status, answer.encode(), extra)

    def answer(self, status, body, extra_headers):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--script", default="")
    parser.add_argument("--retry-after", default="")
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--webhook-key", default="")
    parser.add_argument("--routing-key", default="")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    options = parser.parse_args()
    Handler.options = options
    Handler.script = [int(s) for s in options.script.split(",") if s]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A client that refuses our certificate ends its connection in setup():
    # expected in the TLS tests, not worth a traceback.
    server.handle_error = lambda request, address: None
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin or dies


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    main()
