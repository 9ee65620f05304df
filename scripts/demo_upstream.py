#!/usr/bin/env python3
"""Demo upstream for the quick start: answers every request with the identity keygate forwarded.

    scripts/demo_upstream.py PORT [BIND_ADDRESS]

Replies 200 with a JSON object of the request's method, path and every X-Keygate-* header it
received (the identity keygate vouches for). Binds 127.0.0.1 unless told otherwise.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        identity = {k: v for k, v in self.headers.items() if k.lower().startswith("x-keygate-")}
        body = json.dumps({"method": self.command, "path": self.path, "identity": identity}, indent=2).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, fmt, *args):  # quiet: keygate has the access log
        pass


if __name__ == "__main__":
    bind = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    ThreadingHTTPServer((bind, int(sys.argv[1])), Echo).serve_forever()
