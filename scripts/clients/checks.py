"""Shared by the official-client checks: finding a client, and failing loudly.

A client is found under $GADGET_CLIENTS_DIR either as a checkout of its
repository (GADGET_CLIENTS_DIR/<name>/<package>/) or installed flat
(GADGET_CLIENTS_DIR/<package>/, as `pip install --target` leaves it).
"""
import os
import sys


def add_client(checkout, package):
    """Puts the client's package on sys.path, or exits 2 saying where it looked."""
    root = os.environ.get("GADGET_CLIENTS_DIR", "")
    if not root:
        sys.exit("GADGET_CLIENTS_DIR is not set: point it at the directory holding the official clients")
    for d in (os.path.join(root, checkout), root):
        if os.path.isdir(os.path.join(d, package)):
            sys.path.insert(0, d)
            return
    sys.exit("no %s package under %s (looked in %s/%s/%s and %s/%s)" % (package, root, root, checkout, package, root, package))


class Check:
    """Counts the checks made and stops at the first that fails."""

    def __init__(self, name):
        self.name = name
        self.passed = 0

    def that(self, ok, what, got=None):
        if not ok:
            print("%s: FAILED: %s (got %r)" % (self.name, what, got), file=sys.stderr)
            sys.exit(1)
        self.passed += 1
        print("%s: ok: %s" % (self.name, what))

    def raises(self, exc, what, fn, *args, **kwargs):
        """Checks that fn(*args, **kwargs) raises exc and returns the exception."""
        try:
            got = fn(*args, **kwargs)
        except exc as e:
            self.that(True, what)
            return e
        self.that(False, what + ": raises " + exc.__name__, got)

    def done(self):
        print("%s: all %d checks passed" % (self.name, self.passed))
