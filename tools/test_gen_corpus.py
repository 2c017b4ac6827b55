#!/usr/bin/env python3
"""Self-checks for tools/gen-corpus. Run: python3 tools/test_gen_corpus.py (exits 1 on failure)."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-corpus")
FEEDS, EVENTS, SEED = 40, 30, "7"
EOL = {"airbnb": b"\r\n", "vrbo": b"\r\n", "booking": b"\n", "google": b"\r\n"}


def run(*args):
    p = subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"gen-corpus {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.stderr


def tree_hashes(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def feeds(root):
    d = os.path.join(root, "feeds")
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            yield name[:-4], name.split("-", 1)[0], f.read()


def unfold(data, eol):
    lines = []
    for l in data.decode().split(eol.decode())[:-1]:
        if l[:1] == " ":
            lines[-1] += l[1:]
        else:
            lines.append(l)
    return lines


def check_feed(fid, provider, data, events=None):
    eol = EOL[provider]
    if eol == b"\n":
        assert b"\r" not in data, f"{fid}: CR in an LF feed"
    else:
        assert data.count(b"\n") == data.count(b"\r\n"), f"{fid}: bare LF in a CRLF feed"
    assert data.startswith(b"BEGIN:VCALENDAR" + eol), f"{fid}: does not begin with BEGIN:VCALENDAR"
    assert data.endswith(eol + b"END:VCALENDAR" + eol), f"{fid}: does not end with END:VCALENDAR"
    for n, phys in enumerate(data.split(eol)[:-1], 1):
        assert len(phys) <= 75, f"{fid}:{n}: physical line of {len(phys)} octets"
        phys.decode()   # a fold never splits a UTF-8 sequence
    lines = unfold(data, eol)
    stack = []
    for n, l in enumerate(lines, 1):
        assert l and not l.startswith(" "), f"{fid}: empty or stray continuation line {n}"
        if l.startswith("BEGIN:"):
            stack.append(l[6:])
        elif l.startswith("END:"):
            assert stack and stack.pop() == l[4:], f"{fid}:{n}: unbalanced {l}"
    assert not stack, f"{fid}: unclosed {stack}"
    n_ev = lines.count("BEGIN:VEVENT")
    if events is not None:
        assert n_ev == events, f"{fid}: {n_ev} VEVENTs, expected {events}"
    assert lines.count("END:VCALENDAR") == 1
    if provider != "google":   # rental stays never overlap (DTEND is exclusive)
        spans, cur = [], {}
        for l in lines:
            if l.startswith("DTSTART;VALUE=DATE:"):
                cur["s"] = l[-8:]
            elif l.startswith("DTEND;VALUE=DATE:"):
                cur["e"] = l[-8:]
            elif l == "END:VEVENT":
                assert cur["s"] < cur["e"], f"{fid}: empty stay {cur}"
                spans.append((cur["s"], cur["e"]))
                cur = {}
        spans.sort()
        for a, b in zip(spans, spans[1:]):
            assert a[1] <= b[0], f"{fid}: overlapping stays {a} {b}"
    return lines


def without_dtstamp(data):
    return re.sub(rb"(?m)^DTSTAMP:[0-9TZ]+", b"", data)


def dtstamps(data):
    return set(re.findall(rb"(?m)^DTSTAMP:([0-9TZ]+)", data))


# ---------------------------------------------------------------------------------------------

def test_generate_shapes_and_determinism(tmp):
    a, b, c = (os.path.join(tmp, x) for x in "abc")
    msg = run("--out", a, "--feeds", str(FEEDS), "--events", str(EVENTS), "--seed", SEED)
    assert msg.startswith(f"wrote {FEEDS} feeds, {FEEDS * EVENTS} events, "), msg
    run("--out", b, "--feeds", str(FEEDS), "--events", str(EVENTS), "--seed", SEED)
    ha, hb = tree_hashes(a), tree_hashes(b)
    assert len(ha) == FEEDS + 2, sorted(ha)
    assert ha == hb, "two runs with the same arguments differ"
    run("--out", c, "--feeds", str(FEEDS), "--events", str(EVENTS), "--seed", "8")
    assert tree_hashes(c) != ha, "another seed gives the same corpus"

    providers, rrules, overrides, utc, past = {}, 0, 0, 0, 0
    for fid, provider, data in feeds(a):
        assert re.fullmatch(r"(airbnb|vrbo|booking|google)-\d{5}", fid), fid
        providers[provider] = providers.get(provider, 0) + 1
        lines = check_feed(fid, provider, data, EVENTS)
        if provider == "google":
            rrules += sum(l.startswith("RRULE:FREQ=WEEKLY") for l in lines)
            overrides += sum(l.startswith("RECURRENCE-ID") for l in lines)
            utc += sum(l.startswith("DTSTART:") and l.endswith("Z") for l in lines)
            assert any(l.startswith("X-WR-TIMEZONE:") for l in lines)
        else:
            past += sum(l.startswith("DTEND;VALUE=DATE:") and l[-8:] <= "20261123" for l in lines)
        if provider == "airbnb":
            assert b"PRODID:-//Airbnb Inc//Hosting Calendar 0.8.8//EN" in data
            assert re.search(rb"UID:[0-9a-f]{12}-[0-9a-f]{32}@airbnb.com\r\n", data)
            desc = [l for l in lines if l.startswith("DESCRIPTION:")]
            assert desc and all(re.fullmatch(
                r"DESCRIPTION:Reservation URL: https://www\.airbnb\.com/hosting/reservations/details/"
                r"[A-Z0-9]{10}\\nPhone Number \(Last 4 Digits\): \d{4}", l) for l in desc), fid
        if provider == "booking":
            assert re.search(rb"UID:[0-9a-f]{16}@booking.com\n", data)
    assert providers == {"airbnb": 20, "vrbo": 8, "booking": 8, "google": 4}, providers
    assert rrules and overrides and utc, (rrules, overrides, utc)
    rental_events = (FEEDS - providers["google"]) * EVENTS
    assert 0.15 < past / rental_events < 0.4, f"past share {past / rental_events:.2f}"

    with open(os.path.join(a, "feedsync.yml"), encoding="utf-8") as f:
        yml = f.read()
    for key in ("store: sqlite:feedsync.sqlite", "snapshots: snapshots", "timezone: UTC", "feeds:"):
        assert f"\n{key}\n" in yml, key
    ids = re.findall(r"(?m)^  - id: (\S+)\n    url: feeds/\1\.ics\n    property: .+$", yml)
    assert sorted(ids) == [fid for fid, _, _ in feeds(a)], "feedsync.yml does not list every feed"


def test_mutate(tmp):
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    n = 40
    run("--out", a, "--feeds", str(n), "--events", str(EVENTS), "--seed", SEED)
    before = dict((fid, data) for fid, _, data in feeds(a))
    shutil.copytree(a, b)
    msg = run("--out", a, "--mutate", "25")
    run("--out", b, "--mutate", "25", "--night", "1")
    assert tree_hashes(a) == tree_hashes(b), "mutation of night 1 is not deterministic"
    assert re.fullmatch(r"mutated 10 of 40 feeds: \d+ adds, \d+ edits, \d+ removals, \d+ past drops, "
                        r"\d+ past edits; DTSTAMP moved on all.*\n", msg), msg

    after = dict((fid, data) for fid, _, data in feeds(a))
    changed = [fid for fid in before if without_dtstamp(before[fid]) != without_dtstamp(after[fid])]
    assert len(changed) == 10, f"{len(changed)} feeds really changed, expected 10 (25% of 40)"
    for fid, data in after.items():
        assert dtstamps(data) == {b"20261124T020000Z"}, f"{fid}: DTSTAMP {dtstamps(data)}"
        assert dtstamps(before[fid]) == {b"20261123T020000Z"}
        check_feed(fid, fid.split("-")[0], data)

    # night 2: another choice, DTSTAMP moves again, still deterministic from the night-1 files
    shutil.rmtree(b)
    shutil.copytree(a, b)
    run("--out", a, "--mutate", "25")
    run("--out", b, "--mutate", "25", "--night", "2")
    assert tree_hashes(a) == tree_hashes(b), "mutation of night 2 is not deterministic"
    night2 = dict((fid, data) for fid, _, data in feeds(a))
    changed2 = [fid for fid in after if without_dtstamp(after[fid]) != without_dtstamp(night2[fid])]
    assert len(changed2) == 10 and set(changed2) != set(changed), (changed, changed2)
    for fid, data in night2.items():
        assert dtstamps(data) == {b"20261125T020000Z"}, fid
        check_feed(fid, fid.split("-")[0], data)

    # 0%: only DTSTAMP moves
    run("--out", a, "--mutate", "0", "--stamp", "2026-11-26T02:03:04Z")
    for fid, _, data in feeds(a):
        assert without_dtstamp(data) == without_dtstamp(night2[fid]), fid
        assert dtstamps(data) == {b"20261126T020304Z"}, fid


def main():
    tests = [test_generate_shapes_and_determinism, test_mutate]
    failed = 0
    for t in tests:
        with tempfile.TemporaryDirectory(prefix="gen-corpus-test-") as tmp:
            try:
                t(tmp)
                print(f"ok    {t.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL  {t.__name__}")
                traceback.print_exc(file=sys.stdout)
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
