"""An embedded database on a network file system is refused (issue 14, point 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.models import file_systems
from console.models.database import DatabaseUnavailable, open_database, resolve_database_url
from console.models.file_systems import network_file_system

MOUNTS = """\
22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw - proc proc rw
40 22 0:35 / /mnt/clinic rw,relatime - nfs4 server:/export rw,vers=4.2
41 40 8:2 / /mnt/clinic/local rw - ext4 /dev/sdb1 rw
42 22 0:36 / /srv/share\\040drive rw - cifs //nas/share rw
"""


def test_the_folder_is_on_the_file_system_of_its_deepest_mount() -> None:
    assert network_file_system(Path("/mnt/clinic/db"), MOUNTS) == "nfs4"
    assert network_file_system(Path("/mnt/clinic"), MOUNTS) == "nfs4"
    assert network_file_system(Path("/mnt/clinic/local/db"), MOUNTS) is None
    assert network_file_system(Path("/mnt/clinical"), MOUNTS) is None
    assert network_file_system(Path("/srv/share drive/x"), MOUNTS) == "cifs"
    assert network_file_system(Path("/home/clinic"), MOUNTS) is None


def test_this_machines_temporary_folder_is_local(tmp_path: Path) -> None:
    assert network_file_system(tmp_path) is None


def test_a_database_on_a_network_share_is_refused_with_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's mount table is outside the product: one that says tmp_path is a share.
    table = tmp_path / "mountinfo"
    table.write_text(
        f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:35 / {tmp_path} rw - cifs //nas/x rw\n"
    )
    monkeypatch.setattr(file_systems, "MOUNT_INFO", table)
    with pytest.raises(DatabaseUnavailable, match=r"network file system \(cifs\).*PostgreSQL"):
        open_database(resolve_database_url(str(tmp_path / "clinic.db"), {}))
    assert not (tmp_path / "clinic.db").exists()
