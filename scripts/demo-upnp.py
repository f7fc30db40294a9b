#!/usr/bin/env python3
"""What the demo prints of a UPnP control point's answers (upnp-client's JSON on stdin).

usage: upnp-client search ... | demo-upnp.py found
       upnp-client call-action ... ContentDirectory/Browse ... | demo-upnp.py listing
"""

import html
import json
import re
import sys


def found():
    seen = set()
    for line in sys.stdin:
        if line.startswith("{"):
            answer = json.loads(line)
            if answer["LOCATION"] not in seen:
                seen.add(answer["LOCATION"])
                print(f"  found {answer['LOCATION']}  ({answer['SERVER']})")


def listing():
    out = json.load(sys.stdin)["out_parameters"]
    print(f"  {out['NumberReturned']} of {out['TotalMatches']}:")
    for kind, attributes, body in re.findall(r"<(container|item)\b([^>]*)>(.*?)</\1>", out["Result"], re.S):
        title = html.unescape(re.search(r"<dc:title>(.*?)</dc:title>", body).group(1))
        if kind == "container":
            ident = re.search(r'\bid="([^"]*)"', attributes).group(1)
            count = re.search(r'childCount="(\d+)"', attributes)
            print(f"    [{ident}] {title}  ({count.group(1) if count else '?'} entries)")
        else:
            res = re.search(r"<res[^>]*>([^<]*)</res>", body)
            print(f"    {title}  {html.unescape(res.group(1)) if res else ''}")


{"found": found, "listing": listing}[sys.argv[1]]()
