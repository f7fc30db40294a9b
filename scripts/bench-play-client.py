#!/usr/bin/env python3
"""The player side of scripts/bench-play: the same client code against mediapeerd and MiniDLNA.

usage: bench-play-client.py ttfb URL                   first byte of a whole-title GET (seconds)
       bench-play-client.py seek URL OFFSET LENGTH     a ranged GET at OFFSET: first byte and whole range (seconds)
       bench-play-client.py paced URL MBIT PREROLL_S   plays URL at MBIT Mbit/s after PREROLL_S of buffering;
                                                       counts stalls (the buffer ran dry before the bytes were due)
       bench-play-client.py browse DESC_URL PATH PAGE  pages through the container at PATH (titles separated by
                                                       '/', from the root) PAGE items at a time, as a TV does
Each prints one JSON object.
"""

import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse
from xml.sax.saxutils import escape


def connect(url):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
    path = parts.path + ("?" + parts.query if parts.query else "")
    return connection, path


def ttfb(url):
    connection, path = connect(url)
    start = time.monotonic()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read(1)
    first = time.monotonic() - start
    connection.close()
    return {"status": response.status, "first_byte_s": first}


def seek(url, offset, length):
    connection, path = connect(url)
    start = time.monotonic()
    connection.request("GET", path, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
    response = connection.getresponse()
    response.read(1)
    first = time.monotonic() - start
    body = response.read()
    whole = time.monotonic() - start
    connection.close()
    return {"status": response.status, "first_byte_s": first, "range_s": whole, "bytes": len(body) + 1}


def paced(url, mbit, preroll):
    """A player that consumes at a constant bitrate: it starts after `preroll` seconds of data have arrived, then
    needs byte b by start + b / rate; every time the stream is behind that schedule counts as one stall (then the
    schedule restarts after another preroll, as a player rebuffers)."""
    rate = mbit * 1e6 / 8
    connection, path = connect(url)
    start = time.monotonic()
    connection.request("GET", path)
    response = connection.getresponse()
    received = 0
    stalls = 0
    stalled_s = 0.0
    play_start = None
    played_from = 0
    preroll_bytes = preroll * rate
    while True:
        block = response.read(65536)
        if not block:
            break
        received += len(block)
        now = time.monotonic()
        if play_start is None:
            if received - played_from >= preroll_bytes:
                play_start = now
            continue
        # Bytes the player has consumed by now; being behind them means the picture froze.
        due = played_from + (now - play_start) * rate
        if received < due:
            stalls += 1
            stalled_s += (due - received) / rate
            play_start = None
            played_from = received
        # Pace the reads like a player's buffer would: never more than preroll ahead of the playhead.
        if play_start is not None:
            ahead = received - (played_from + (time.monotonic() - play_start) * rate)
            if ahead > preroll_bytes:
                time.sleep((ahead - preroll_bytes) / rate)
    total = time.monotonic() - start
    connection.close()
    return {"status": response.status, "bytes": received, "seconds": total, "stalls": stalls,
            "stalled_s": round(stalled_s, 3)}


SOAP = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
<s:Body><u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">
<ObjectID>{object_id}</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter>
<StartingIndex>{start}</StartingIndex><RequestedCount>{count}</RequestedCount><SortCriteria></SortCriteria>
</u:Browse></s:Body></s:Envelope>"""


def control_url(description_url):
    connection, path = connect(description_url)
    connection.request("GET", path)
    text = connection.getresponse().read().decode()
    connection.close()
    for service in re.findall(r"<service>(.*?)</service>", text, re.S):
        if "ContentDirectory" in service:
            control = re.search(r"<controlURL>(.*?)</controlURL>", service).group(1).strip()
            return urllib.parse.urljoin(description_url, control)
    raise SystemExit("no ContentDirectory in " + description_url)


def browse_page(connection, path, object_id, start, count):
    body = SOAP.format(object_id=escape(object_id), start=start, count=count).encode()
    connection.request("POST", path, body=body, headers={
        "Content-Type": 'text/xml; charset="utf-8"',
        "SOAPACTION": '"urn:schemas-upnp-org:service:ContentDirectory:1#Browse"'})
    response = connection.getresponse()
    text = response.read().decode()
    if response.status != 200:
        raise SystemExit(f"Browse {object_id} answered {response.status}: {text[:300]}")
    result = re.search(r"<Result>(.*?)</Result>", text, re.S).group(1)
    didl = result.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    total = int(re.search(r"<TotalMatches>(\d+)</TotalMatches>", text).group(1))
    returned = int(re.search(r"<NumberReturned>(\d+)</NumberReturned>", text).group(1))
    return didl, total, returned


def browse(description_url, container_path, page):
    connection, path = connect(control_url(description_url))
    object_id = "0"
    for title in [t for t in container_path.split("/") if t]:
        didl, _, _ = browse_page(connection, path, object_id, 0, 500)
        match = None
        for attributes, inner in re.findall(r"<container([^>]*)>(.*?)</container>", didl, re.S):
            found = re.search(r"<dc:title>(.*?)</dc:title>", inner)
            if found and found.group(1) == title:
                match = re.search(r'\bid="([^"]*)"', attributes).group(1)
        if match is None:
            raise SystemExit(f"no container titled {title!r} under {object_id}")
        object_id = match
    times = []
    start = 0
    total = None
    items = 0
    while total is None or start < total:
        began = time.monotonic()
        _, total, returned = browse_page(connection, path, object_id, start, page)
        times.append(time.monotonic() - began)
        if returned == 0:
            break
        items += returned
        start += returned
    connection.close()
    times.sort()
    return {"container": object_id, "total": total, "items": items, "pages": len(times),
            "page_median_ms": round(statistics.median(times) * 1000, 2),
            "page_p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 2) if len(times) > 1 else None,
            "all_pages_s": round(sum(times), 3)}


def main():
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "ttfb":
        result = ttfb(arguments[0])
    elif command == "seek":
        result = seek(arguments[0], int(arguments[1]), int(arguments[2]))
    elif command == "paced":
        result = paced(arguments[0], float(arguments[1]), float(arguments[2]))
    elif command == "browse":
        result = browse(arguments[0], arguments[1], int(arguments[2]))
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
