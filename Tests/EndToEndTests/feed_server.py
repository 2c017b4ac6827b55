#!/usr/bin/env python3
"""A loopback feed server for the end-to-end tests: serves files from a folder with an ETag and
Last-Modified, answers 304 to matching validators, and logs each request as a JSON line."""
import hashlib, json, os, sys
from email.utils import formatdate
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

root, log_path = sys.argv[1], sys.argv[2]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = os.path.join(root, self.path.split("?")[0].lstrip("/"))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        with open(log_path, "a") as log:
            log.write(json.dumps({"path": self.path, "if_none_match": inm, "if_modified_since": ims}) + "\n")
        if not os.path.isfile(path):
            body = b"<html><body>Not found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with open(path, "rb") as f:
            body = f.read()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        last_modified = formatdate(int(os.path.getmtime(path)), usegmt=True)
        if inm == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
