"""Whether a folder is on a network file system (issue 14, point 3): SQLite's locking is not
reliable over NFS or SMB/CIFS, where two workstations can both believe they hold the write
lock and damage the file, so an embedded database there is refused with the way out
(PostgreSQL). Linux tells through ``/proc/self/mountinfo``; elsewhere nothing is refused.
"""

from __future__ import annotations

from pathlib import Path

#: File systems shared over a network, on which SQLite's locks cannot be trusted.
NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "ncpfs", "fuse.sshfs", "davfs", "9p"}
)
MOUNT_INFO = Path("/proc/self/mountinfo")


def network_file_system(folder: Path, mount_info: str | None = None) -> str | None:
    """The network file system ``folder`` is on (``nfs4``, ``cifs``…), or None: on a local
    one, or where the system does not tell. ``mount_info`` is the text of
    ``/proc/self/mountinfo`` (read when not given)."""
    if mount_info is None:
        try:
            mount_info = MOUNT_INFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    where = str(folder.resolve())
    best, kind = "", ""
    for line in mount_info.splitlines():
        fields, _, after = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not after:
            continue
        mount_point = parts[4].replace("\\040", " ")
        inside = where == mount_point or where.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, kind = mount_point, after.split()[0]
    return kind if kind in NETWORK_FILE_SYSTEMS else None


__all__ = ["NETWORK_FILE_SYSTEMS", "network_file_system"]
