"""The Python test library of bschub's integration tests (Debian's /usr/bin/python3 3.11,
its standard library and python3-websockets 10.4; nothing from pip).

Test files import from here, never from another test file:

    from lib import bvlc, certs, hubproc

Users outside tests/integration (tests/interop, fuzz/make_seeds.py, bench/) put
tests/integration on sys.path first. The modules are listed in tests/integration/README.md.
"""
