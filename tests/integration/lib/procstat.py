"""What /proc says about a running process (the hub): memory, descriptors, CPU time. Shared
by the suites that bound the hub's resources and by the benches. Stdlib only."""

import os


def status_kb(pid, key):
    """A kB field of /proc/PID/status (VmRSS, VmHWM, ...); 0 if it is absent or the process
    is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    """Resident memory now (VmRSS), KiB."""
    return status_kb(pid, "VmRSS")


def peak_rss_kb(pid):
    """Peak resident memory so far (VmHWM), KiB."""
    return status_kb(pid, "VmHWM")


def fd_count(pid):
    """Open file descriptors."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid):
    """User + system CPU time so far (/proc/PID/stat utime + stime), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sanitized(pid):
    """True if the process runs with ASan or TSan (their runtimes are mapped)."""
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read()
    return any(name in maps for name in ("libasan", "libtsan"))
