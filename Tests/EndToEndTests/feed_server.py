#!/usr/bin/env python3
"""A loopback feed server for the end-to-end tests.

    feed_server.py ROOT LOG

Serves files from ROOT with an ETag and Last-Modified, answers 304 to matching validators, and
logs each request (and each connection, when it closes) as a JSON line in LOG. It listens on
127.0.0.1 and, on the same port, 127.0.0.2 (both loopback), and prints the port.

Paths that misbehave on purpose (NAME is a file under ROOT; the query string is kept in keys):
  /gzip/NAME /deflate/NAME    NAME compressed (Content-Encoding gzip / deflate, zlib-wrapped)
  /rawdeflate/NAME            NAME as raw deflate (what some servers send for `deflate`)
  /flaky/NAME                 500 on the first request for this path, then NAME
  /429/NAME                   429 with Retry-After: 1 first, then NAME
  /429date/NAME               429 with Retry-After as an HTTP-date one second ahead, then NAME
  /429long/NAME               429 with Retry-After: 3600, always
  /slow/NAME                  NAME after a 20 ms pause (for the per-host limits test)
  /plain/NAME                 NAME without ETag or Last-Modified, validators ignored (tools/bench-http)
  /drip                       200, then one byte every 50 ms, for ever
  /hang                       reads the request and never answers
  /loop/a, /loop/b            302 to each other
  /redirect/NAME              302 to /NAME
  /bomb                       200 gzip: a 64 MB calendar of blank lines in 64 KB on the wire
  /html /json /empty          200 with a login page, a JSON error, no body
  /huge                       200, 3 MB streamed without Content-Length (connection closes)
  /hugecl                     200 with Content-Length: 3000000 (nothing sent)
  /reset                      reads the request and resets the connection
  /404                        anything not found: 404 with an HTML body
"""
import gzip, hashlib, json, os, socket, struct, sys, threading, time, zlib
from email.utils import formatdate
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

root, log_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counts = {}
conn_ids = iter(range(1, 1 << 30))

BOMB = gzip.compress(b"BEGIN:VCALENDAR\r\n" + b"\r\n" * (32 * 1024 * 1024), 9)


def log(obj):
    with lock:
        with open(log_path, "a") as f:
            f.write(json.dumps(obj) + "\n")


def seen(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.conn_id = next(conn_ids)
        self.conn_open = time.time()
        self.conn_host = None

    def finish(self):
        try:
            super().finish()
        finally:
            log({"conn": self.conn_id, "host": self.conn_host, "open": self.conn_open, "close": time.time()})

    def send(self, status, body=b"", ctype="text/calendar; charset=utf-8", headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        t0 = time.time()
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        self.conn_host = self.conn_host or host
        try:
            self.route()
        finally:
            log({"path": self.path, "host": host, "t0": t0, "t1": time.time(), "conn_id": self.conn_id,
                 "if_none_match": self.headers.get("If-None-Match"),
                 "if_modified_since": self.headers.get("If-Modified-Since"),
                 "accept_encoding": self.headers.get("Accept-Encoding"),
                 "user_agent": self.headers.get("User-Agent")})

    def file(self, name):
        path = os.path.join(root, name.split("?")[0].lstrip("/"))
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def route(self):
        p = self.path
        bare = p.split("?")[0]
        parts = bare.split("/")
        kind = parts[1] if len(parts) > 2 else ""
        name = "/".join(parts[2:])
        if kind in ("gzip", "deflate", "rawdeflate"):
            body = self.file(name)
            if body is None:
                return self.not_found()
            if kind == "gzip":
                data = gzip.compress(body)
            elif kind == "deflate":
                data = zlib.compress(body)
            else:
                c = zlib.compressobj(9, zlib.DEFLATED, -15)
                data = c.compress(body) + c.flush()
            enc = "gzip" if kind == "gzip" else "deflate"
            return self.send(200, data, headers=[("Content-Encoding", enc)])
        if kind == "flaky" and seen(p) == 1:
            return self.send(500, b"<html>oops</html>", "text/html")
        if kind == "429" and seen(p) == 1:
            return self.send(429, b"slow down", "text/plain", [("Retry-After", "1")])
        if kind == "429date" and seen(p) == 1:
            return self.send(429, b"slow down", "text/plain", [("Retry-After", formatdate(time.time() + 1.5, usegmt=True))])
        if kind == "429long":
            return self.send(429, b"slow down", "text/plain", [("Retry-After", "3600")])
        if kind == "slow":
            time.sleep(0.02)
        if kind == "redirect":
            return self.send(302, b"", None, [("Location", "/" + name)])
        if kind == "plain":
            body = self.file(name)
            return self.send(200, body) if body is not None else self.not_found()
        if kind in ("flaky", "429", "429date", "slow"):
            return self.serve("/" + name)
        if p.startswith("/loop/a"):
            return self.send(302, b"", None, [("Location", "/loop/b")])
        if p.startswith("/loop/b"):
            return self.send(302, b"", None, [("Location", "http://127.0.0.1:%d/loop/a" % port)])
        if bare == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"BEGIN:VCALENDAR\r\n")
            try:
                while True:
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                return
        if bare == "/hang":
            time.sleep(3600)
            return
        if bare == "/bomb":
            return self.send(200, BOMB, headers=[("Content-Encoding", "gzip")])
        if bare == "/html":
            return self.send(200, b"<!DOCTYPE html>\n<html><head><title>Log in</title></head><body>Please log in</body></html>", "text/html; charset=utf-8")
        if bare == "/json":
            return self.send(200, b'{"error":"rate limited"}', "application/json")
        if bare == "/empty":
            return self.send(200, b"")
        if bare == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(b"BEGIN:VCALENDAR\r\n")
                for _ in range(3000):
                    self.wfile.write(b"X" * 1000)
            except OSError:
                pass
            return
        if bare == "/hugecl":
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", "3000000")
            self.end_headers()
            self.close_connection = True
            return
        if bare == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        return self.serve(p)

    def not_found(self):
        self.send(404, b"<html><body>Not found</body></html>", "text/html")

    def serve(self, p):
        body = self.file(p)
        if body is None:
            return self.not_found()
        inm = self.headers.get("If-None-Match")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        path = os.path.join(root, p.split("?")[0].lstrip("/"))
        last_modified = formatdate(int(os.path.getmtime(path)), usegmt=True)
        if inm == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send(200, body, headers=[("ETag", etag), ("Last-Modified", last_modified)])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # clients that reset or time out on purpose are not news


server = Server(("127.0.0.1", 0), Handler)
port = server.server_address[1]
servers = [server]
try:
    servers.append(Server(("127.0.0.2", port), Handler))
except OSError:
    pass
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print(port, flush=True)
server.serve_forever()
