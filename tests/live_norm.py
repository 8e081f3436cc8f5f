#!/usr/bin/env python3
"""The records and findings of a hopscope run as a sorted set of JSON lines, with what depends on when the
capture happened taken out, so that a live capture of a replayed trace can be compared with the offline run
of the trace (tests/test_live.sh).

Capture-dependent, removed:
  - `ts` of every record (the replay's clock, not the trace's);
  - in a finding's explanation, the seconds between two messages ("N s later"): a replay at top speed
    shortens them.
Frame numbers are kept: the test's veth carries nothing but the replay (IPv6 is off, no addresses), so frame
N live is frame N of the file. The `stats` record is left out (the live one counts the capture's own figures
and says `interrupted`); the test checks its packet count separately.

  live_norm.py FILE [--no-ids]     prints the set, one line each
  --no-ids also drops record ids, the ids that refer to records (a `use` record's `auth` among them) and frame
  numbers (for the second part of a
  run that saw other packets and records first)
"""
import json
import re
import sys

ID_REFS = ("id", "auth", "auth_record", "carrier", "records", "frames", "frame", "server_frame", "issued_frame")


def strip_ids(o):
    if isinstance(o, dict):
        return {k: strip_ids(v) for k, v in o.items() if k not in ID_REFS}
    if isinstance(o, list):
        return [strip_ids(v) for v in o]
    return o


def normalise(path, no_ids=False):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                out.append("UNPARSABLE " + line.rstrip("\n"))
                continue
            if r.get("type") == "stats":
                continue
            r.pop("ts", None)
            if r.get("type") == "finding" and "explanation" in r:
                r["explanation"] = re.sub(r"\b\d+ s later", "N s later", r["explanation"])
            if no_ids:
                r = strip_ids(r)
            out.append(json.dumps(r, sort_keys=True))
    return sorted(out)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    for l in normalise(args[0], "--no-ids" in sys.argv):
        print(l)
