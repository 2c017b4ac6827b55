"""Compares `feedsync parse --json` with Python icalendar + recurring-ical-events.

For every corpus file (*.ics) that icalendar reads and recurring-ical-events expands, and feedsync
reads too, per UID:
  * the occurrence list (start, end) in the window [WINDOW_FROM, WINDOW_TO): feedsync's are the union
    of the UID's records (a master lists the occurrences its overrides do not replace);
  * the future flag at each of NOWS: feedsync says future when a record of the UID that is not a
    cancelled override has `future`; the reference when the UID has an occurrence ending after now.
Every disagreement names file, UID and record keys. A disagreement passes only when
docs/differential-notes.md lists `file | uid` under "Accepted disagreements" with the reason.
Exit 0 when every disagreement is explained, 1 otherwise.
"""
import argparse, datetime as dt, json, os, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor

WINDOW_FROM = "2023-01-01T00:00:00Z"
WINDOW_TO = "2025-01-01T00:00:00Z"
NOWS = ["1998-01-01T00:00:00Z", "2024-06-01T00:00:00Z"]
UTC = dt.timezone.utc


def iso(x):
    if isinstance(x, dt.datetime):
        if x.tzinfo is None:
            x = x.replace(tzinfo=UTC)  # floating: feedsync reads it in X-WR-TIMEZONE, else UTC
        return x.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return x.isoformat()


def parse_iso(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def reference(path):
    import icalendar, recurring_ical_events as rie
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    occ = {}
    for c in rie.of(cal).between(parse_iso(WINDOW_FROM), parse_iso(WINDOW_TO)):
        uid = str(c.get("UID", ""))
        s = c.get("DTSTART").dt
        e = c.get("DTEND").dt if c.get("DTEND") is not None else s
        occ.setdefault(uid, []).append((iso(s), iso(e)))
    all_uids = set(str(c.get("UID", "")) for c in cal.walk("VEVENT"))
    future = {}
    for now in NOWS:
        uids = set()
        exhausted = True
        n = 0
        for c in rie.of(cal).after(parse_iso(now)):
            uids.add(str(c.get("UID", "")))
            n += 1
            if uids >= all_uids:
                break
            if n >= 2000:  # the UIDs not seen yet are undecided: not compared
                exhausted = False
                break
        future[now] = (uids, exhausted)
    return occ, future


def feedsync(binary, path, now, window):
    cmd = [binary, "parse", path, "--json", "--quiet", "--now", now]
    if window:
        cmd += ["--between", WINDOW_FROM, WINDOW_TO]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()], None


def compare(args):
    binary, path, rel = args
    import signal

    def alarm(*_):
        raise TimeoutError("reference took more than 30 s")
    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(30)
    try:
        ref_occ, ref_future = reference(path)
        signal.alarm(0)
    except Exception as e:
        signal.alarm(0)  # the reference does not read this file: not compared
        return rel, "skipped", [f"reference cannot read it: {type(e).__name__}: {str(e)[:120]}"]
    recs, err = feedsync(binary, path, NOWS[0], True)
    if recs is None:
        return rel, "feedsync-rejects", [err[:200]]
    out = []
    for rs in [recs]:
        for r in rs:
            if r["uid"].startswith("nouid-"):
                r["uid"] = ""  # the reference groups events without UID under ""
    by_uid = {}
    for r in recs:
        by_uid.setdefault(r["uid"], []).append(r)
    mine_occ = {}
    for uid, rs in by_uid.items():
        for r in rs:
            for o in r.get("occurrences") or []:
                mine_occ.setdefault(uid, []).append((o["start"], o["end"]))
    for uid in sorted(set(mine_occ) | set(ref_occ)):
        a, b = sorted(mine_occ.get(uid, [])), sorted(ref_occ.get(uid, []))
        if a != b:
            keys = ",".join(r["key"] for r in by_uid.get(uid, []))
            only_mine = [x for x in a if x not in b][:3]
            only_ref = [x for x in b if x not in a][:3]
            out.append(f"{rel} | {uid} | occurrences differ ({len(a)} vs {len(b)}; records {keys}); "
                       f"feedsync only {only_mine}, reference only {only_ref}")
    for now in NOWS:
        rs2 = recs if now == NOWS[0] else feedsync(binary, path, now, False)[0] or []
        for r in rs2:
            if r["uid"].startswith("nouid-"):
                r["uid"] = ""
        fut = set()
        for r in rs2:
            if r["recurrence_id"] is not None and r.get("status") == "CANCELLED":
                continue
            if r["future"]:
                fut.add(r["uid"])
        uids = set(r["uid"] for r in rs2)
        ref_uids, exhausted = ref_future[now]
        for uid in sorted(uids):
            if not exhausted and uid not in ref_uids:
                continue
            if (uid in fut) != (uid in ref_uids):
                keys = ",".join(r["key"] for r in by_uid.get(uid, []))
                out.append(f"{rel} | {uid} | future at {now}: feedsync {uid in fut}, reference {uid in ref_uids} (records {keys})")
    return rel, "compared", out


def accepted(notes_path):
    ok = set()
    if not os.path.exists(notes_path):
        return ok
    section = False
    for line in open(notes_path, encoding="utf-8"):
        if line.startswith("## "):
            section = line.strip().lower().startswith("## accepted disagreements")
            continue
        if section and line.startswith("| ") and not line.startswith("| file") and not line.startswith("|---"):
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if len(cells) >= 2:
                ok.add((cells[0], cells[1]))
    return ok


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--feedsync", default=os.path.join(root, ".build/debug/feedsync"))
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(root), "shared/corpus"))
    ap.add_argument("--notes", default=os.path.join(root, "docs/differential-notes.md"))
    ap.add_argument("--only", default="", help="only files whose path contains this")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    if not os.path.isdir(a.corpus):
        a.corpus = "/work/shared/corpus"
    files = []
    for d, _, fs in os.walk(a.corpus):
        for f in fs:
            if f.lower().endswith(".ics") and a.only in os.path.join(d, f):
                p = os.path.join(d, f)
                files.append((a.feedsync, p, os.path.relpath(p, a.corpus)))
    files.sort(key=lambda x: x[2])
    t0 = time.time()
    counts = {"compared": 0, "skipped": 0, "feedsync-rejects": 0}
    problems, explained = [], []
    ok = accepted(a.notes)
    with ProcessPoolExecutor(a.jobs) as ex:
        for rel, status, msgs in ex.map(compare, files, chunksize=4):
            counts[status] += 1
            if status == "feedsync-rejects":
                print(f"note: {rel}: the reference reads it, feedsync rejects it: {msgs[0]}")
            for m in msgs if status == "compared" else []:
                f, uid = [c.strip() for c in m.split("|")[:2]]
                (explained if (f, uid) in ok else problems).append(m)
    print(f"differential: {len(files)} files, {counts['compared']} compared, {counts['skipped']} not read by the reference, "
          f"{counts['feedsync-rejects']} read by the reference but rejected by feedsync; "
          f"{len(explained)} explained disagreements, {len(problems)} unexplained; {time.time() - t0:.1f} s")
    for m in explained:
        print("explained: " + m)
    for m in problems:
        print("DISAGREEMENT: " + m)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
