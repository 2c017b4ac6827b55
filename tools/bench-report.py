"""Prints tools/bench's tables from the hyperfine JSON files it left in OUT, and writes them to
OUT/results.md and OUT/results.json. Usage (by tools/bench): bench-report.py OUT FEEDS EVENTS
FEED_BYTES SNAP_BYTES LIBICAL_EVENTS FEEDSYNC_EVENTS RSS_FIRST RSS_NOCHANGE RSS_CHANGED RSS_FULL
(RSS in KB)."""
import json
import os
import sys

out = sys.argv[1]
feeds, events, feed_bytes, snap_bytes, libical_events, feedsync_events = map(int, sys.argv[2:8])
rss = dict(zip(("first-run", "no-change", "two-percent", "force-full"), (int(x) / 1024 for x in sys.argv[8:12])))


def group(name):
    path = os.path.join(out, f"{name}.json")
    if not os.path.exists(path):
        return {}
    return {r["command"]: r for r in json.load(open(path))["results"]}


first, nights, changed, peer_g, parse = (group(n) for n in ("first", "nights", "changed", "peer", "parse"))
med = lambda g, c: g[c]["median"] if c in g else None
runs = lambda g, c: len(g[c]["times"]) if c in g else 0
peer = med(peer_g, "peer")

# Each night is compared with the floor measured in the same hyperfine invocation.
rows = [
    ("no change (only DTSTAMP moved)", nights, "no-change"),
    ("2% of feeds changed", changed, "two-percent"),
    ("`--force-full-sync`", nights, "force-full"),
    ("first run (empty store)", first, "first-run"),
]
lines = []
say = lines.append
say(f"feedsync benchmark: {feeds:,} feeds × {events} events ({feed_bytes / 1e6:.1f} MB), "
    f"{os.cpu_count()} cores, hyperfine medians of {runs(nights, 'no-change')} runs"
    + (f" (peer: {runs(peer_g, 'peer')})" if peer else ""))
say("")
say("| night | median | × floor | peer ÷ feedsync | peak RSS |")
say("|---|---|---|---|---|")
say(f"| floor: `xxhsum -H2` over the feeds | {med(nights, 'floor'):.3f} s | 1 | — | — |")
result = {"feeds": feeds, "events": events, "feed_bytes": feed_bytes, "snapshot_bytes": snap_bytes, "nights": {}}
for label, g, cmd in rows:
    t, fl = med(g, cmd), med(g, "floor")
    vs = f"{peer / t:.1f}" if peer else "—"
    say(f"| {label} | {t:.3f} s | {t / fl:.1f} | {vs} | {rss[cmd]:.0f} MB |")
    result["nights"][cmd] = {"median_s": t, "floor_s": fl, "peak_rss_mb": rss[cmd]}
if peer:
    say(f"| peer: Python icalendar + sqlite3, every event | {peer:.2f} s | {peer / med(peer_g, 'floor'):.0f} | 1 | — |")
    result["nights"]["peer"] = {"median_s": peer}

lib_rate = libical_events / med(parse, "libical")
fs_rate = feedsync_events / med(parse, "feedsync-parse")
say("")
say(f"parse, same {feeds:,} files: feedsync {fs_rate:,.0f} events/s ({feedsync_events:,} records, "
    f"`feedsync parse --summary`, {os.cpu_count()} cores), libical {lib_rate:,.0f} events/s "
    f"({libical_events:,} events, one core: it has no parallel parse)")
result["parse"] = {"feedsync_events_per_s": fs_rate, "libical_events_per_s": lib_rate}

t = lambda c, g: med(g, c)
# tools/bench-memory's result (10,000 and 100,000 feeds of 10 events, feeds_file), when it ran.
memory = json.load(open(os.path.join(out, "memory.json"))) if os.path.exists(os.path.join(out, "memory.json")) else None
checks = [
    ("no change ≤ 3× the floor", f"{t('no-change', nights) / t('floor', nights):.1f}×",
     t("no-change", nights) <= 3 * t("floor", nights)),
    ("2% changed ≥ 100× faster than the peer", None, (100, t("two-percent", changed))),
    ("no change ≥ 500× faster than the peer", None, (500, t("no-change", nights))),
    ("first run ≥ 25× faster than the peer", None, (25, t("first-run", first))),
    ("`--force-full-sync` ≥ 25× faster than the peer", None, (25, t("force-full", nights))),
    ("parse ≥ 2× libical's events/s", f"{fs_rate / lib_rate:.2f}×", fs_rate >= 2 * lib_rate),
    ("peak RSS ≤ 200 MB, any night", f"{max(rss.values()):.0f} MB", max(rss.values()) <= 200),
    *([("no change at 100,000 feeds ≤ 1.5× the peak RSS at 10,000 (and ≤ 200 MB)",
        f"{memory['ratio']:.2f}× ({memory['large_rss_mb']:.0f} MB vs {memory['small_rss_mb']:.0f} MB)", memory["met"])]
      if memory else []),
    ("snapshots ≤ 20% of the feed bytes", f"{100 * snap_bytes / feed_bytes:.1f}% ({snap_bytes / 1e6:.1f} MB)",
     snap_bytes <= 0.2 * feed_bytes),
]
say("")
say("| target | measured | met |")
say("|---|---|---|")
result["targets"] = {}
for label, shown, ok in checks:
    if isinstance(ok, tuple):
        want, secs = ok
        if not peer:
            say(f"| {label} | (no peer run) | — |")
            continue
        shown, ok = f"{peer / secs:.0f}×", peer / secs >= want
    say(f"| {label} | {shown} | {'yes' if ok else '**no**'} |")
    result["targets"][label] = {"measured": shown, "met": ok}

text = "\n".join(lines) + "\n"
print("\n" + text)
open(os.path.join(out, "results.md"), "w").write(text)
json.dump(result, open(os.path.join(out, "results.json"), "w"), indent=2)
