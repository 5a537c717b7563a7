#!/usr/bin/env python3
"""Inline a Chrome trace into tools/trace_view.html, giving one self-contained page that any
browser opens from disk (no file:// fetch needed).

Usage: tools/trace_html.py trace.json out.html
"""
import html
import json
import os
import sys


def main():
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return
    if len(sys.argv) != 3 or any(a.startswith("-") for a in sys.argv[1:]):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    trace_path, out_path = sys.argv[1], sys.argv[2]
    with open(trace_path) as f:
        data = json.load(f)  # validates it, and re-serialises compactly
    viewer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trace_view.html")
    with open(viewer) as f:
        page = f.read()
    slot = '<script id="trace-data" type="application/json"></script>'
    if slot not in page:
        sys.exit("trace_html.py: the data slot is missing from " + viewer)
    # "</" would end the script element early; "<\/" is the same JSON string.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = page.replace(slot, slot.replace("></", ">" + payload + "</"))
    name = html.escape(os.path.basename(trace_path))
    page = page.replace("<title>Magpie trace</title>", "<title>Magpie trace: " + name + "</title>")
    with open(out_path, "w") as f:
        f.write(page)


if __name__ == "__main__":
    main()
