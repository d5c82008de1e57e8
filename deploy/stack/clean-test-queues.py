#!/usr/bin/env python3
"""Deletes the queues earlier test runs left on the local RabbitMQ (names starting `test-`).

Test topologies expire five minutes after use, but RabbitMQ stops accepting new connections for
tens of seconds while it deletes many quorum queues at once; a test run that starts during such
a burst fails. `make test` therefore deletes the leftovers itself, before any test starts, one
by one through the management API. Without the management API it does nothing.
"""
import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

API = "http://127.0.0.1:15672/api"
AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()


def call(method, path):
    request = urllib.request.Request(API + path, method=method, headers={"Authorization": AUTH})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def main():
    try:
        queues = json.loads(call("GET", "/queues?columns=name,vhost"))
    except (urllib.error.URLError, OSError):
        return 0
    leftovers = [q for q in queues if q["name"].startswith("test-")]
    for queue in leftovers:
        path = "/queues/%s/%s" % (urllib.parse.quote(queue["vhost"], safe=""), urllib.parse.quote(queue["name"], safe=""))
        try:
            call("DELETE", path)
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise
    if leftovers:
        print("[stack] deleted %d queues left by earlier test runs" % len(leftovers), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
