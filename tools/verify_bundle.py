#!/usr/bin/env python3
"""Check a kameng evidence bundle offline, with nothing but Python's standard library.

    python3 tools/verify_bundle.py kameng-case-12-evidence.zip

It checks that every file the manifest lists is there with the SHA-256 digest and size the manifest
gives, that nothing was added, that no name tries to escape the folder it is unpacked into, and that
the case's events (timeline.json) still form the hash chain kameng wrote, ending at the chain head the
manifest names. It prints one line per problem naming what was changed, then a verdict, and exits 0
when the bundle is intact, 1 when it is not, 2 when the file is not a bundle at all.

The chain head (stream, seq, hash) printed at the end is what kameng's own check confirms: ask the
platform (or anyone holding a copy) whether that head is the case's, and every event before it is
then proven by the chain.
"""

import hashlib
import json
import sys
import zipfile
from pathlib import PurePosixPath

FORMAT = "kameng-evidence-bundle/1"


def canonical(value) -> bytes:
    # The same form kameng hashes its events in (kameng.evidence.models.Event.compute_hash).
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def event_hash(event: dict) -> str:
    body = {
        key: event.get(key)
        for key in ("stream", "seq", "kind", "actor", "actor_label", "data", "clause", "at", "prev")
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def check_chain(events: list, head) -> list[str]:
    problems = []
    prev, expected = "", 1
    for event in events:
        seq = event.get("seq")
        if seq != expected:
            problems.append(f"timeline.json: event #{expected} missing or out of order (found #{seq})")
        if event.get("prev") != prev:
            problems.append(f"timeline.json: event #{seq} does not follow the event before it")
        if event_hash(event) != event.get("hash"):
            problems.append(f"timeline.json: event #{seq} ({event.get('kind')}) was changed")
        prev, expected = event.get("hash"), (seq or 0) + 1
    if head:
        last = events[-1] if events else None
        if last is None or last.get("seq") != head.get("seq") or last.get("hash") != head.get("hash"):
            problems.append(
                f"timeline.json: does not end at the chain head #{head.get('seq')} named in manifest.json"
            )
    return problems


def verify(path: str) -> tuple[list[str], dict]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"not a ZIP file: {e}") from None
    with archive:
        names = archive.namelist()
        problems = [
            f"{name}: unsafe name (would be written outside the folder)" for name in names if unsafe(name)
        ]
        if "manifest.json" not in names:
            raise ValueError("no manifest.json: not a kameng evidence bundle")
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except ValueError:
            raise ValueError("manifest.json is not valid JSON") from None
        if manifest.get("format") != FORMAT:
            raise ValueError(f"unknown bundle format {manifest.get('format')!r}")
        listed = {}
        for entry in manifest.get("files", []):
            listed[entry["path"]] = entry
        for name, entry in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: missing")
                continue
            data = archive.read(name)
            if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                problems.append(f"{name}: changed (its SHA-256 is not the one in manifest.json)")
        for name in names:
            if name != "manifest.json" and name not in listed and not name.endswith("/"):
                problems.append(f"{name}: added (not in manifest.json)")
        if "timeline.json" in names:
            try:
                events = json.loads(archive.read("timeline.json"))
            except ValueError:
                problems.append("timeline.json: not valid JSON")
            else:
                problems += check_chain(events, manifest.get("chain_head"))
    return problems, manifest


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: verify_bundle.py BUNDLE.zip", file=sys.stderr)
        return 2
    try:
        problems, manifest = verify(argv[1])
    except ValueError as e:
        print(f"NOT VERIFIED: {e}")
        return 2
    for problem in problems:
        print(problem)
    head = manifest.get("chain_head") or {}
    files = len(manifest.get("files", []))
    if problems:
        print(f"NOT VERIFIED: {len(problems)} problem(s) in case {manifest.get('case')}")
        return 1
    print(
        f"OK: case {manifest.get('case')}, {files} files intact; chain head "
        f"{head.get('stream')} #{head.get('seq')} {head.get('hash')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
