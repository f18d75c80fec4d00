#!/usr/bin/env python3
"""Drives Inspector Gadget's TAXII 2.1 server with the official client, taxii2-client.

Server (discovery) → ApiRoot → collections → Collection: get_objects with
filters, as_pages over objects and manifest, get_object, get_manifest; HTTP
Basic with a per-user API key as password. Exits non-zero at the first
mismatch. Needs GADGET_CLIENTS_DIR (see checks.py) and the client's own
dependencies: requests, six and pytz.

    taxii2_check.py --url http://127.0.0.1:8080/taxii2/ --user alice --key igk_… --ip 203.0.113.45 --min-objects 30
"""
import argparse
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Check, add_client  # noqa: E402

STIX21 = "application/stix+json;version=2.1"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="the discovery URL: <gadget>/taxii2/")
    p.add_argument("--user", required=True, help="the key owner's user name")
    p.add_argument("--key", required=True, help="an Inspector Gadget API key with the tasks scope")
    p.add_argument("--ip", required=True, help="an IPv4 address published to the malicious-verdicts collection")
    p.add_argument("--min-objects", type=int, default=1, help="at least this many objects in the malicious collection")
    p.add_argument("--page", type=int, default=10, help="objects per page for as_pages")
    a = p.parse_args()

    add_client("taxii2client", "taxii2client")
    import requests
    from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
    from taxii2client import v20

    c = Check("taxii2-client")
    server = Server(a.url, user=a.user, password=a.key)
    c.that(server.title, "Server: title %r" % server.title)
    c.that(len(server.api_roots) == 1 and server.default is server.api_roots[0], "one API root, the default", [r.url for r in server.api_roots])
    root = server.default
    c.that(root.title and "application/taxii+json;version=2.1" in root.versions and root.max_content_length > 0,
           "ApiRoot %s: title, versions, max_content_length" % root.url, root._raw)

    cols = root.collections
    for col in cols:
        print("taxii2-client: collection %s %r can_read=%s can_write=%s" % (col.id, col.title, col.can_read, col.can_write))
    c.that(len(cols) >= 2 and all(x.can_read and not x.can_write and STIX21 in x.media_types for x in cols),
           "%d collections, readable, not writable, of STIX 2.1" % len(cols), [x._raw for x in cols])
    malicious = next((x for x in cols if "malicious" in x.title.lower()), None)
    c.that(malicious is not None, "a malicious-verdicts collection", [x.title for x in cols])

    # a Collection made from its URL alone loads its information itself
    direct = Collection(malicious.url, user=a.user, password=a.key)
    c.that(direct.id == malicious.id and direct.title == malicious.title, "Collection(%s) loads itself" % malicious.url, direct._raw)

    # the indicator for the IP (the publisher writes in the background)
    pattern = "[ipv4-addr:value = '%s']" % a.ip
    indicator = None
    for _ in range(100):
        env = malicious.get_objects(type="indicator")
        indicator = next((o for o in env.get("objects", []) if o.get("pattern") == pattern), None)
        if indicator:
            break
        time.sleep(0.1)
    c.that(indicator and indicator.get("spec_version") == "2.1" and env.headers["Content-Type"] == "application/taxii+json;version=2.1",
           "get_objects(type='indicator') has %s" % pattern, env.json())
    c.that(all(o["type"] == "indicator" for o in env["objects"]), "match[type] keeps indicators only", [o["type"] for o in env["objects"]])

    # every object, page by page, as a poller does
    whole = malicious.get_objects()
    pages = list(as_pages(malicious.get_objects, per_request=a.page))
    c.that(len(list(as_pages(malicious.get_objects))) == 1, "as_pages(get_objects) with no limit: the server's page, one here")
    paged = [o["id"] for pg in pages for o in pg.get("objects", [])]
    c.that(len(paged) == len(set(paged)) and len(paged) >= a.min_objects, "as_pages(get_objects, per_request=%d): %d objects in %d pages, none twice" % (a.page, len(paged), len(pages)), len(paged))
    c.that(all(len(pg.get("objects", [])) <= a.page for pg in pages) and not pages[-1].get("more") and all(pg.get("more") for pg in pages[:-1]),
           "each page holds at most %d; more on all but the last" % a.page, [(len(pg.get("objects", [])), pg.get("more")) for pg in pages])
    c.that(not whole.get("more") and sorted(o["id"] for o in whole["objects"]) == sorted(paged), "one get_objects() has what the pages had", len(whole["objects"]))
    c.that(pages[0].headers.get("X-TAXII-Date-Added-First") and pages[0].headers.get("X-TAXII-Date-Added-Last"), "X-TAXII-Date-Added-First/Last headers", dict(pages[0].headers))

    # added_after: strict, given as a datetime the client formats
    last = datetime.datetime.strptime(pages[0].headers["X-TAXII-Date-Added-Last"], "%Y-%m-%dT%H:%M:%S.%fZ")
    after = malicious.get_objects(added_after=last)
    rest = [o["id"] for o in after.get("objects", [])]
    c.that(rest == paged[a.page:] if len(paged) > a.page else rest == [], "get_objects(added_after=the first page's last date): the rest", len(rest))

    # one object, several by id, versions
    one = malicious.get_object(indicator["id"])
    c.that([o["id"] for o in one["objects"]] == [indicator["id"]], "get_object(%s)" % indicator["id"], one.json())
    two = malicious.get_objects(id=[paged[0], paged[-1]])
    c.that(sorted(o["id"] for o in two["objects"]) == sorted({paged[0], paged[-1]}), "get_objects(id=[first, last])", two.json())
    latest = malicious.get_objects(id=indicator["id"], version="last")
    c.that([o["id"] for o in latest["objects"]] == [indicator["id"]], "get_objects(id=…, version='last')", latest.json())
    versions = malicious.object_versions(indicator["id"])
    c.that(versions.get("versions") == [indicator["modified"]] and versions.get("more") is False,
           "object_versions(%s): its one version, its modified" % indicator["id"], versions.json())
    at = malicious.get_objects(version=indicator["modified"], type="indicator")
    c.that(indicator["id"] in [o["id"] for o in at.get("objects", [])] and all(o["modified"] == indicator["modified"] for o in at["objects"]),
           "get_objects(version=%s): the objects at that version" % indicator["modified"], at.json())
    other = malicious.get_objects(id=indicator["id"], version="2001-01-01T00:00:00.000Z")
    c.that(not other.get("objects"), "get_objects(id=…, version=another time): none", other.json())

    # the manifest, whole and paged
    manifest = malicious.get_manifest()
    entries = manifest.get("objects", [])
    c.that(sorted(m["id"] for m in entries) == sorted(paged) and all(m.get("date_added") and m.get("version") and m.get("media_type") == STIX21 for m in entries),
           "get_manifest(): an entry per object with date_added, version, media_type", entries[:3])
    mpages = list(as_pages(malicious.get_manifest, per_request=a.page))
    c.that([m["id"] for pg in mpages for m in pg.get("objects", [])] == [m["id"] for m in entries], "as_pages(get_manifest, per_request=%d): %d pages" % (a.page, len(mpages)), len(mpages))

    # errors: a wrong key, an object that is not there, a TAXII 2.0 client
    e = c.raises(requests.HTTPError, "a wrong key: HTTP 401", lambda: Server(a.url, user=a.user, password="igk_wrong").title)
    c.that(e.response.status_code == 401 and e.response.headers.get("WWW-Authenticate", "").startswith("Basic"), "401 with WWW-Authenticate: Basic", dict(e.response.headers))
    e = c.raises(requests.HTTPError, "an object not there: HTTP 404", malicious.get_object, "indicator--00000000-0000-4000-8000-00000000dead")
    c.that(e.response.status_code == 404, "404 for an object not there", e.response.status_code)
    e = c.raises(requests.HTTPError, "a TAXII 2.0 client: HTTP 406", lambda: v20.Server(a.url, user=a.user, password=a.key).title)
    c.that(e.response.status_code == 406, "406 for TAXII 2.0", e.response.status_code)
    c.done()


if __name__ == "__main__":
    main()
