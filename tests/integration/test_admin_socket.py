#!/usr/bin/python3
"""The admin socket (docs/operations.md, "Admin socket"): ops/admin_server behind a fake
handler (tests/tools/admin_fake_hub.cpp), driven by bschub-ctl and by raw clients.

    BSCHUB_CTL=build/bschub-ctl ADMIN_FAKE_HUB=build/tests/admin_fake_hub \\
        [BSCHUB=build/bschub] /usr/bin/python3 tests/integration/test_admin_socket.py -v

Runs as root: it creates the system user bschub-test-nobody and the group bschub-test-admin
when missing, and runs bschub-ctl as that user with setpriv. Every wait is bounded.
"""

import grp
import os
import pwd
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest

CTL = os.environ.get("BSCHUB_CTL", "build/bschub-ctl")
FAKE = os.environ.get("ADMIN_FAKE_HUB", "build/tests/admin_fake_hub")
BSCHUB = os.environ.get("BSCHUB", "")
USER = "bschub-test-nobody"
GROUP = "bschub-test-admin"
UUID = "12345678-1234-1234-1234-123456789abc"
IO = 5.0


def setUpModule():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (creates a user, switches to it)")
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        subprocess.run(["groupadd", "-r", GROUP], check=True)
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-r", "-s", "/usr/sbin/nologin", USER], check=True)


def ids():
    pw = pwd.getpwnam(USER)
    return pw.pw_uid, pw.pw_gid, grp.getgrnam(GROUP).gr_gid


class FakeHub:
    """admin_fake_hub on PATH; .commands() are the request lines its handler got."""

    def __init__(self, path, *extra, as_user=None):
        self.path = path
        self.err = tempfile.TemporaryFile()
        cmd = [FAKE, "--socket", path, *extra]
        if as_user is not None:
            cmd = ["setpriv", "--reuid=%d" % as_user[0], "--regid=%d" % as_user[1],
                   "--clear-groups"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.proc.stdout.readline()
        if line != "ready\n":
            self.proc.wait(IO)
            why = self.stderr()
            self.proc.stdout.close()
            self.err.close()
            raise AssertionError("admin_fake_hub did not start: %r %r" % (line, why))
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def commands(self, want=0, timeout=IO):
        """The commands so far, waiting (bounded) until there are at least `want`."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.lines) >= want, timeout)
            return list(self.lines)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(IO)
        self.reader.join(IO)  # it ends at the process's end of output
        self.proc.stdout.close()
        self.err.close()
        return self.proc.returncode


def ctl(path, *args, user=None, regid=None, groups=None):
    cmd = [CTL, "--admin-socket", path, *args]
    if user is not None:
        prefix = ["setpriv", "--reuid=%d" % user, "--regid=%d" % regid]
        prefix += ["--groups=%d" % groups] if groups is not None else ["--clear-groups"]
        cmd = prefix + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def raw(path, data, timeout=IO):
    """Sends `data` and returns all the hub answers until it closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        if data:
            s.sendall(data)
        try:
            s.shutdown(socket.SHUT_WR)  # the end of the stream may end the line
        except OSError:
            pass  # it has answered and closed already
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:  # it closed with our surplus unread: after its reply
                chunk = b""
            if not chunk:
                return got.decode(errors="replace")
            got += chunk


class AdminSocketTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bschub-admin-")
        os.chmod(self.dir, 0o755)  # the test user must reach the socket to be refused by it
        self.path = os.path.join(self.dir, "admin.sock")
        self.hubs = []

    def tearDown(self):
        for h in self.hubs:
            h.stop()
        subprocess.run(["rm", "-rf", self.dir], check=False)

    def start(self, *extra, as_user=None):
        h = FakeHub(self.path, *extra, as_user=as_user)
        self.hubs.append(h)
        return h

    def test_socket_is_owner_only_and_every_verb_reaches_the_handler(self):
        hub = self.start()
        st = os.lstat(self.path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, os.geteuid())

        fp = "AB" * 32
        cases = [
            (["disconnect", "02a1b2c3d4e5"], "disconnect 02:A1:B2:C3:D4:E5"),
            (["disconnect", UUID.upper()], "disconnect " + UUID),
            (["deny", "add", "certificate", fp, "lost", "laptop"],
             "deny add certificate " + "ab" * 32 + " lost laptop"),
            (["deny", "add", "key", ":".join(["AB"] * 32)], "deny add key " + "ab" * 32),
            (["deny", "remove", "uuid", UUID], "deny remove uuid " + UUID),
            (["pin", "list"], "pin list"),
            (["pin", "clear", UUID], "pin clear " + UUID),
            (["reload"], "reload"),
        ]
        for args, line in cases:
            r = ctl(self.path, *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "done " + line + "\n")
            self.assertEqual(r.stderr, "")
        r = ctl(self.path, "deny", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ["certificate " + "a" * 64 + " lost laptop", "uuid " + UUID])
        r = ctl(self.path, "history", "--vmac", "02:00:00:00:00:01", "--since",
                "2026-12-02T10:00:00Z", "--limit", "7")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "vmac=02:00:00:00:00:01 uuid= since=1796205600000 limit=7\n")
        r = ctl(self.path, "history", "--uuid", UUID, "--since", "1764669600")  # 2025-12-02
        self.assertEqual(r.stdout, "vmac= uuid=%s since=1764669600000 limit=100\n" % UUID)

        got = [l.split(" uid=")[0] for l in hub.commands(len(cases) + 3)]
        self.assertEqual(got[:len(cases)], ["command " + line for _, line in cases])
        self.assertIn(" uid=0 gid=0 pid=", hub.commands()[0])
        self.assertIn('admin_command', hub.stderr())
        self.assertIn('verb="deny add"', hub.stderr())
        self.assertNotIn("lost laptop", hub.stderr())  # notes are not logged

    def test_hub_errors_and_usage_errors_have_their_exit_codes(self):
        hub = self.start()
        r = ctl(self.path, "disconnect", "02:00:00:00:00:EE")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "bschub-ctl: no node with VMAC 02:00:00:00:00:EE\n")
        before = len(hub.commands(1))
        # Rejected by bschub-ctl itself with the hub's own sentence; never sent.
        for args, err in [
                (["deny", "add", "certificate", "zz"],
                 "deny add: 'zz' is not a SHA-256 fingerprint (64 hex digits)"),
                (["deny", "add", "card", UUID],
                 "deny add: unknown kind 'card'; expected certificate, key or uuid"),
                (["pin", "clear", "02:00:00:00:00:01"],
                 "pin clear: '02:00:00:00:00:01' is not a device UUID (8-4-4-4-12 hex digits)"),
                (["history", "--limit", "0"], "history: limit='0' is not a number 1..10000"),
                (["history", "--since", "yesterday"],
                 "--since wants unix seconds or 2026-12-02T10:00:00Z, not 'yesterday'"),
                (["history", "--since", "2026-02-30T00:00:00Z"],
                 "--since wants unix seconds or 2026-12-02T10:00:00Z, not '2026-02-30T00:00:00Z'")]:
            r = ctl(self.path, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stderr, "bschub-ctl: " + err + "\n")
        r = ctl(self.path, "deny")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(hub.commands(before, timeout=0.5)), before)
        r = ctl(os.path.join(self.dir, "missing.sock"), "reload")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "bschub-ctl: cannot connect to %s: No such file or directory\n"
                         % os.path.join(self.dir, "missing.sock"))

    def test_other_users_are_refused(self):
        uid, gid, _ = ids()
        hub = self.start()
        # The file mode alone keeps them out ...
        r = ctl(self.path, "reload", user=uid, regid=gid)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr, "bschub-ctl: cannot connect to %s: Permission denied\n"
                         % self.path)
        # ... and the peer check refuses them even where the file would let them connect.
        os.chmod(self.path, 0o666)
        r = ctl(self.path, "reload", user=uid, regid=gid)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr, "bschub-ctl: permission denied: uid %d is not allowed\n" % uid)
        self.assertEqual(hub.commands(timeout=0.5), [])
        self.assertIn("admin_refused", hub.stderr())
        self.assertIn("uid=%d" % uid, hub.stderr())
        self.assertEqual(ctl(self.path, "reload").returncode, 0)  # root still is

    def test_the_hubs_own_user_is_allowed(self):
        uid, gid, _ = ids()
        os.chown(self.dir, uid, gid)
        hub = self.start(as_user=(uid, gid))
        self.assertEqual(os.lstat(self.path).st_uid, uid)
        r = ctl(self.path, "reload", user=uid, regid=gid)
        self.assertEqual((r.returncode, r.stdout), (0, "done reload\n"), r.stderr)
        self.assertEqual(ctl(self.path, "pin", "list").returncode, 0)  # and root
        self.assertIn(" uid=%d " % uid, hub.commands(2)[0])
        self.assertIn(" uid=0 ", hub.commands(2)[1])

    def test_admin_group_members_are_allowed(self):
        uid, gid, admin_gid = ids()
        hub = self.start("--group", GROUP)
        st = os.lstat(self.path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, admin_gid)
        # As the primary group, and as a supplementary group.
        r = ctl(self.path, "pin", "list", user=uid, regid=admin_gid)
        self.assertEqual((r.returncode, r.stdout), (0, "done pin list\n"), r.stderr)
        r = ctl(self.path, "reload", user=uid, regid=gid, groups=admin_gid)
        self.assertEqual((r.returncode, r.stdout), (0, "done reload\n"), r.stderr)
        self.assertEqual(len(hub.commands(2)), 2)
        self.assertIn(" uid=%d gid=%d " % (uid, admin_gid), hub.commands()[0])
        # Without the group: refused by the mode, and by the peer check.
        r = ctl(self.path, "reload", user=uid, regid=gid)
        self.assertEqual(r.returncode, 2)
        os.chmod(self.path, 0o666)
        r = ctl(self.path, "reload", user=uid, regid=gid)
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied: uid %d is not allowed" % uid, r.stderr)

    def test_malformed_and_oversized_requests_get_errors_and_the_server_goes_on(self):
        hub = self.start()
        self.assertEqual(raw(self.path, b"bogus now\n"),
                         "error unknown command 'bogus'; expected one of: disconnect, deny, pin,"
                         " reload, history\n\n")
        self.assertEqual(raw(self.path, b"\n"),
                         "error empty request; expected one of: disconnect, deny, pin, reload,"
                         " history\n\n")
        self.assertEqual(raw(self.path, b"reload\x00\n"),
                         "error the request contains a control character\n\n")
        self.assertEqual(raw(self.path, b"a" * 5000),
                         "error request too long (the limit is 4096 octets)\n\n")
        self.assertEqual(raw(self.path, b"deny add uuid " + b"x" * 10000 + b"\n"),
                         "error request too long (the limit is 4096 octets)\n\n")
        # The line may end with the stream; one request per connection, the rest ignored.
        self.assertEqual(raw(self.path, b"pin list"), "ok\ndone pin list\n\n")
        self.assertEqual(raw(self.path, b"reload\r\nreload\n"), "ok\ndone reload\n\n")
        self.assertEqual(len(hub.commands(2)), 2)
        self.assertEqual(ctl(self.path, "reload").returncode, 0)
        self.assertIsNone(hub.proc.poll())

    def test_a_silent_client_is_dropped_and_others_are_served_meanwhile(self):
        self.start("--timeout-ms", "1500")
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.settimeout(IO + 1.5)
        silent.connect(self.path)
        t0 = time.monotonic()
        r = ctl(self.path, "reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(time.monotonic() - t0, 1.5)  # not behind the silent one
        got = b""
        while True:
            chunk = silent.recv(4096)
            if not chunk:
                break
            got += chunk
        waited = time.monotonic() - t0
        silent.close()
        self.assertEqual(got, b"error no request within 1500 ms\n\n")
        self.assertGreater(waited, 1.2)
        self.assertLess(waited, IO)

    def test_commands_run_one_at_a_time(self):
        hub = self.start("--slow-ms", "800")
        slow_uuid = "00000000-0000-0000-0000-0000000000ff"
        slow = subprocess.Popen([CTL, "--admin-socket", self.path, "pin", "clear", slow_uuid],
                                stdout=subprocess.PIPE, text=True)
        hub.commands(1)  # the slow one is in the handler
        r = ctl(self.path, "reload")  # waits its turn, then is served
        self.assertEqual((r.returncode, r.stdout), (0, "done reload\n"), r.stderr)
        out, _ = slow.communicate(timeout=IO)
        self.assertEqual((slow.returncode, out), (0, "done pin clear %s\n" % slow_uuid))
        self.assertEqual([l.split(" uid=")[0] for l in hub.commands(2)],
                         ["command pin clear " + slow_uuid, "command reload"])

    def test_at_most_16_clients_at_once(self):
        self.start("--timeout-ms", "3000")
        silent = []
        try:
            for _ in range(16):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(self.path)
                silent.append(c)
            self.assertEqual(raw(self.path, b"reload\n"),
                             "error too many admin clients at once; try again\n\n")
        finally:
            for c in silent:
                c.close()
        # Their places are free again once they are gone.
        deadline = time.monotonic() + IO
        while raw(self.path, b"reload\n") != "ok\ndone reload\n\n":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_socket_file_safety(self):
        # A file that is not a socket is never replaced.
        with open(self.path, "w") as f:
            f.write("precious")
        p = subprocess.run([FAKE, "--socket", self.path], capture_output=True, text=True,
                           timeout=IO)
        self.assertEqual(p.returncode, 2)
        self.assertIn("exists and is not a socket; refusing to replace it", p.stderr)
        with open(self.path) as f:
            self.assertEqual(f.read(), "precious")
        os.unlink(self.path)
        # A live socket is not taken over; a stale one (its hub killed) is replaced.
        hub = self.start()
        p = subprocess.run([FAKE, "--socket", self.path], capture_output=True, text=True,
                           timeout=IO)
        self.assertEqual(p.returncode, 2)
        self.assertIn("is in use by another process", p.stderr)
        hub.proc.kill()
        hub.proc.wait(IO)
        self.assertTrue(os.path.exists(self.path))
        self.start()
        self.assertEqual(ctl(self.path, "reload").returncode, 0)
        # A clean stop removes the socket.
        self.assertEqual(self.hubs[-1].stop(), 0)
        self.assertFalse(os.path.exists(self.path))
        # Relative and too-long paths are refused.
        for bad, err in [("admin.sock", "must be an absolute path"),
                         ("/" + "x" * 107, "must be at most 107 octets")]:
            p = subprocess.run([FAKE, "--socket", bad], capture_output=True, text=True,
                               timeout=IO)
            self.assertEqual(p.returncode, 2)
            self.assertIn(err, p.stderr)

    @unittest.skipUnless(BSCHUB, "BSCHUB not set")
    def test_bschub_options_are_validated(self):
        conf = os.path.join(self.dir, "hub.toml")
        with open(conf, "w") as f:
            f.write('admin-socket = "%s"\nadmin-group = "%s"\n' % (self.path, GROUP))
        p = subprocess.run([BSCHUB, "--no-tls", "--check-config", conf], capture_output=True,
                           text=True, timeout=IO)
        self.assertEqual((p.returncode, p.stdout), (0, conf + ": OK\n"), p.stderr)
        for args, err in [
                (["--admin-socket", "rel.sock"],
                 "--admin-socket must be an absolute path, not 'rel.sock'"),
                (["--admin-socket", "/" + "x" * 107],
                 "--admin-socket must be at most 107 octets (a Unix socket address)"),
                (["--admin-group", GROUP], "--admin-group needs --admin-socket"),
                (["--admin-socket", self.path, "--admin-group", "no-such-group-x"],
                 "--admin-group: no group named 'no-such-group-x'")]:
            empty = os.path.join(self.dir, "empty.toml")
            open(empty, "w").close()
            p = subprocess.run([BSCHUB, "--no-tls", "--check-config", empty, *args],
                               capture_output=True, text=True, timeout=IO)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(p.stderr, "bschub: " + err + "\n")


if __name__ == "__main__":
    unittest.main()
