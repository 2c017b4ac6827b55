#!/usr/bin/env python3
"""A loopback race API for the end-to-end tests, shaped like RunSignUp's.

    race_api.py STATE LOG

STATE is a JSON file, read again on every request:
  {"events": [{"event_id": 101, "name": "...", "start_time": "...", "end_time": "...", ...}],
   "participants": {"101": [{"registration_id": 1, "name": "...", "last_modified": 1800000000}]},
   "fail_incremental": [102]}
Endpoints:
  /race/1?format=json                 {"race": {"events": [...]}}
  /race/1/participants?event_id=E&modified_after_timestamp=T&page=P&results_per_page=N
                                      [{"participants": [...]}]: E's participants modified after T
                                      (all when T is absent or empty), page P (from 1) of N; 500 when
                                      E is in fail_incremental and T is given
Each request is logged as a JSON line in LOG: {"path", "event_id", "since", "page", "status"}.
Prints the port it listens on (127.0.0.1).
"""
import json, sys, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlparse, parse_qs

state_path, log_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, obj, entry):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        entry["status"] = status
        with lock:
            with open(log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with open(state_path) as f:
            state = json.load(f)
        entry = {"path": url.path, "event_id": q.get("event_id"), "since": q.get("modified_after_timestamp"),
                 "page": q.get("page")}
        if url.path == "/race/1":
            return self.answer(200, {"race": {"name": "City Run", "events": state["events"]}}, entry)
        if url.path == "/race/1/participants":
            event = q.get("event_id", "")
            since = q.get("modified_after_timestamp")
            if since and int(event) in state.get("fail_incremental", []):
                return self.answer(500, {"error": "try later"}, entry)
            people = state["participants"].get(event, [])
            if since:
                people = [p for p in people if p["last_modified"] > int(since)]
            page, size = int(q.get("page", "1")), int(q.get("results_per_page", "1000"))
            chunk = people[(page - 1) * size:page * size]
            return self.answer(200, [{"participants": chunk}], entry)
        return self.answer(404, {"error": "not found"}, entry)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
