"""How each staff role is named on screen. Qt-free, so that the staff table and the staff
presenter (which must not import Qt) name a role alike."""

from __future__ import annotations

from console.models.states import StaffRole

#: How each role is named on screen.
ROLE_LABELS: dict[str, str] = {
    StaffRole.FRONT_DESK.value: "Front desk",
    StaffRole.MANAGER.value: "Manager",
    StaffRole.ADMIN.value: "Administrator",
}


__all__ = ["ROLE_LABELS"]
