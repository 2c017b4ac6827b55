#!/usr/bin/env python3
"""The naive nightly script tools/bench-records compares feedsync with: pull every event and every
event's participants (every page), upsert every participant into SQLite.

    records-peer.py BASE_URL DATABASE
"""
import json, sqlite3, sys, urllib.request

base, db_path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(db_path)
db.execute("CREATE TABLE IF NOT EXISTS participants (event_id INTEGER, registration_id INTEGER PRIMARY KEY, data TEXT)")
opener = urllib.request.build_opener()


def get(path):
    with opener.open(base + path) as r:
        return json.load(r)


events = get("/race/1?format=json")["race"]["events"]
size = 500
for e in events:
    page = 1
    while True:
        people = get(f"/race/1/participants?event_id={e['event_id']}&format=json&page={page}&results_per_page={size}")[0]["participants"]
        db.executemany("INSERT OR REPLACE INTO participants VALUES (?, ?, ?)",
                       [(e["event_id"], p["registration_id"], json.dumps(p, sort_keys=True)) for p in people])
        if len(people) < size:
            break
        page += 1
db.commit()
