#!/usr/bin/env python3
"""The config file, run through the real binary: `--check-config FILE` exit codes and
messages, and a hub started with `--config FILE` that takes its listen address, TLS files,
VMAC/UUID, connection limit and log level from the file, with command-line flags winning.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_config.py -v
"""
import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from lib import bvlc, hubproc, nodes
from lib.nodes import HUB_UUID, HUB_VMAC

RUN_TIMEOUT = 30  # seconds for one --check-config run; it should take milliseconds


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfigFileCase:
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bschub-it-config-")

    def tearDown(self):
        shutil.rmtree(self.dir)  # files, and a state directory a check may have made

    def write(self, text, name="bschub.toml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def site_config(self, **extra):
        """A complete TLS config for the test PKI, plus `extra` keys (TOML text values)."""
        pki = nodes.PKI
        lines = [
            "# hub for the config-file test",
            'listen = "127.0.0.1:0"',
            f"cert = {toml_str(pki.hub_cert)}",
            f"key = {toml_str(pki.hub_key)}",
            f"ca = {toml_str(pki.ca_cert)}",
            f'vmac = "{bvlc.vmac_str(HUB_VMAC)}"',
            f'uuid = "{bvlc.uuid_str(HUB_UUID)}"',
        ]
        lines += [f"{k.replace('_', '-')} = {v}" for k, v in extra.items()]
        return "\n".join(lines) + "\n"

    def check(self, path, *args):
        return subprocess.run([hubproc.find_binary(), "--check-config", path, *args],
                              capture_output=True, text=True, timeout=RUN_TIMEOUT)


class CheckConfigTest(ConfigFileCase, unittest.TestCase):
    def test_good_file_prints_ok_and_exits_0(self):
        path = self.write(self.site_config(max_connections="5000", workers="2"))
        r = self.check(path)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, f"{path}: OK\n", ""))

    def test_unknown_key_exits_2_naming_key_and_line(self):
        path = self.write(self.site_config(max_conections="5000"))
        r = self.check(path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, f"bschub: {path}:8: unknown key 'max-conections'\n")
        self.assertEqual(r.stdout, "")

    def test_syntax_error_exits_2_with_line(self):
        path = self.write('listen = "127.0.0.1:0"\nworkers = \n')
        r = self.check(path)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(f"bschub: {path}:2: "), r.stderr)

    def test_wrong_type_exits_2_naming_the_type(self):
        path = self.write(self.site_config(max_connections='"many"'))
        r = self.check(path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, f"bschub: {path}:8: 'max-connections' must be a "
                                   "non-negative integer, not a string\n")

    def test_out_of_range_exits_2_with_the_command_line_message(self):
        path = self.write(self.site_config(connect_wait="0.5"))
        r = self.check(path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, f"bschub: {path}:8: --connect-wait must be 1..300 s\n")
        # The same value on the command line gives the same sentence, without a file line.
        r = self.check(self.write(self.site_config(), "plain.toml"), "--connect-wait", "0.5")
        self.assertEqual((r.returncode, r.stderr), (2, "bschub: --connect-wait must be 1..300 s\n"))

    def test_lasting_state_keys_are_checked(self):
        good = self.site_config(state_dir=toml_str(os.path.join(self.dir, "state")),
                                audit_max_age="86400", audit_max_rows="5000",
                                audit_queue="1024")
        path = self.write(good)
        r = self.check(path)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        for key, value, message in [
                ("audit_max_age", "10", "--audit-max-age must be 60..315360000 s (ten years)"),
                ("audit_max_rows", "0", "--audit-max-rows must be 1..1000000000"),
                ("audit_queue", "8", "--audit-queue must be 16..16777216")]:
            path = self.write(self.site_config(**{key: value}), f"{key}.toml")
            r = self.check(path)
            self.assertEqual((r.returncode, r.stderr), (2, f"bschub: {path}:8: {message}\n"))

    def test_key_that_does_not_match_the_certificate_exits_2(self):
        node_cert, node_key = nodes.PKI.node(0)
        path = self.write(self.site_config().replace(toml_str(nodes.PKI.hub_key),
                                                     toml_str(node_key)))
        r = self.check(path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not match", r.stderr)

    def test_command_line_value_is_checked_with_the_file(self):
        path = self.write(self.site_config())
        r = self.check(path, "--listen", "nonsense")
        self.assertEqual((r.returncode, r.stderr),
                         (2, "bschub: --listen wants HOST:PORT, not 'nonsense'\n"))


class HubFromFileTest(ConfigFileCase, unittest.IsolatedAsyncioTestCase):
    def start(self, path, *cli):
        pki = nodes.PKI
        hub = hubproc.HubProcess(hubproc.find_binary(), pki.hub_cert, pki.hub_key, pki.ca_cert)
        hub.argv = [hub.binary, "--config", path, *cli]  # everything else from the file
        return hub.start(timeout=15.0)

    async def test_file_configures_the_hub_and_the_command_line_overrides_it(self):
        path = self.write(self.site_config(workers="1", max_connections="1",
                                           log_level='"error"'))
        hub = self.start(path, "--workers", "2", "--log-level", "info")
        try:
            # --workers from the command line beats the file's 1; VMAC and UUID from the file.
            self.assertIn("workers=2,", hub.listen_line)
            self.assertIn("hub vmac " + bvlc.vmac_str(HUB_VMAC), hub.listen_line)
            # TLS files and VMAC/UUID from the file: a node gets the exact Connect-Accept.
            node = await nodes.connect_node(hub)
            try:
                # max-connections = 1 from the file: a second TCP connection is refused,
                # and logged (warn passes the command line's info level, not the file's error).
                since = hub.mark()
                loop = asyncio.get_running_loop()
                with socket.socket() as s:
                    s.setblocking(False)
                    await loop.sock_connect(s, hub.address)
                    data = await asyncio.wait_for(loop.sock_recv(s, 100), 10.0)
                self.assertEqual(data, b"")
                line = hub.wait_for_log(r"event=connection_refused", since, timeout=10.0)
                self.assertIsNotNone(line, hub.stderr_tail())
                self.assertIn("max connections (1)", line)
            finally:
                await node.close()
        finally:
            hub.stop(timeout=15.0)
        self.assertTrue(hub.logs_since(0, r"event=stopped"), "info level from the command line")

    async def test_file_log_level_applies_when_the_command_line_is_silent(self):
        path = self.write(self.site_config(workers="1", log_level='"error"'))
        hub = self.start(path)
        self.assertIn("workers=1,", hub.listen_line)
        hub.stop(timeout=15.0)
        self.assertEqual(hub.logs_since(0, r"level=(info|debug)"), [],
                         "log-level = \"error\" in the file was not applied")


if __name__ == "__main__":
    hubproc.main()
