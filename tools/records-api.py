#!/usr/bin/env python3
"""A generated race API for tools/bench-records (the shape of tests' race_api.py, in memory).

    records-api.py EVENTS PARTICIPANTS NOW

NOW is night 1's instant (Unix seconds). Every event is in the future. Night 1: every participant
was last modified the day before NOW. GET /control?night=2 switches to night 2: 1% of each event's
participants renamed, last modified an hour after NOW. Endpoints as race_api.py:
  /race/1                            {"race": {"events": [...]}}
  /race/1/participants?event_id=E&modified_after_timestamp=T&page=P&results_per_page=N
GET /control?cost_us=C sets the server's cost model: C microseconds of server time per record an
answer holds (default 0: an instant server). The cost is spent under one server-wide lock, so
concurrent requests do not share it out (one database answers them all): a client gains from
asking for fewer records, never from asking in parallel.
Prints the port (127.0.0.1).
"""
import json, socket, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlparse, parse_qs

events_n, people_n, now = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
state = {"night": 1, "cost_us": 0}
server_lock = threading.Lock()
EVENTS = [{"event_id": 100000 + e, "name": f"Race {e}", "start_time": "12/5/2027 09:00", "end_time": "12/5/2027 13:00",
           "last_modified": now - 86400} for e in range(events_n)]
EVENTS_BODY = json.dumps({"race": {"name": "Bench", "events": EVENTS}}, separators=(",", ":")).encode()
changed_per_event = max(1, people_n // 100)


def participants(event):
    e = event - 100000
    out = []
    for i in range(people_n):
        modified = state["night"] == 2 and i < changed_per_event
        out.append({"registration_id": e * 1000 + i, "bib": str(i + 1),
                    "user": {"first_name": ("Renamed" if modified else "Runner"), "last_name": f"R{e}-{i}", "age": 20 + i % 50},
                    "last_modified": now + 3600 if modified else now - 86400})
    return out


# Answers are made once and kept (the bench measures feedsync and its peer, not this server).
cache = {}


def page_bytes(event, since, page, size):
    key = (state["night"], event, since, page, size)
    if key not in cache:
        people = participants(event)
        if since:
            people = [p for p in people if p["last_modified"] > int(since)]
        chunk = people[(page - 1) * size:page * size]
        cache[key] = (len(chunk), json.dumps([{"participants": chunk}], separators=(",", ":")).encode())
    return cache[key]


def spend(records):
    """The cost model: the server's time for the records an answer holds, one answer at a time."""
    if state["cost_us"] > 0 and records > 0:
        with server_lock:
            time.sleep(records * state["cost_us"] / 1e6)


def warm():
    for night in (1, 2):
        state["night"] = night
        for ev in EVENTS:
            for since in ("", str(now - 86400 - 300), str(now - 300)):
                for page in (1, 2):
                    page_bytes(ev["event_id"], since, page, 500)
    state["night"] = 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16   # headers and body leave in one write

    def setup(self):
        super().setup()
        # Keep-alive with small writes and Nagle costs 40 ms per answer (delayed ACK): off.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def answer(self, obj):
        body = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if url.path == "/control":
            state["night"] = int(q.get("night", state["night"]))
            state["cost_us"] = float(q.get("cost_us", state["cost_us"]))
            return self.answer({"night": state["night"], "cost_us": state["cost_us"]})
        if url.path == "/race/1":
            spend(len(EVENTS))
            return self.answer(EVENTS_BODY)
        if url.path == "/race/1/participants":
            count, body = page_bytes(int(q["event_id"]), q.get("modified_after_timestamp", ""),
                                     int(q.get("page", "1")), int(q.get("results_per_page", "1000")))
            spend(count)
            return self.answer(body)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


warm()
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
