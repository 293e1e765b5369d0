"""What a page or a dialog holds instead of the workstation: a desk that runs service calls
on it. The workstation carries the database; a view that held it could hand the engine
anywhere, run SQL, or act as nobody. A desk runs only functions of ``console.services``,
passing them the workstation (and, at a staff desk, the signed-in member of staff) — never
the workstation's own machinery (``writing``, ``lock_row``…) nor a private helper — and
shows the clock and the clinic's rules, which views may read.

    desk.act(revoke_access, account_id, reason=..., expected_version=...)

reads as the service call it is, and mypy checks its arguments against the service's own
signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from console.services.clock import Clock
from console.services.permissions import Actor
from console.services.workstation import ClinicRules, Workstation

_P = ParamSpec("_P")
_R = TypeVar("_R")
_SERVICES = "console.services."
#: What builds or opens the workstation's own machinery (a write transaction, a locked row,
#: the workstation itself): services use these, a desk never hands them out.
_MACHINERY = frozenset(
    {"console.services.workstation", "console.services.workstation_setup", __name__}
)


class Desk:
    """The workstation's service calls for whoever stands at it before signing in (the
    sign-in dialog) and for what a session does to itself (lock, unlock, sign out)."""

    def __init__(self, workstation: Workstation) -> None:
        self.__workstation = workstation

    @property
    def clock(self) -> Clock:
        """The workstation's clock."""
        return self.__workstation.clock

    @property
    def rules(self) -> ClinicRules:
        """The clinic's rules (portal name, policies, expiry) as the settings set them."""
        return self.__workstation.rules

    def run(
        self,
        service: Callable[Concatenate[Workstation, _P], _R],
        /,
        *args: _P.args,
        **kw: _P.kwargs,
    ) -> _R:
        """``service(workstation, *args, **kw)``, for a service function (or a method of a
        service object such as a staff session) that takes no acting staff user."""
        return _checked(service)(self.__workstation, *args, **kw)

    def for_staff(self, actor: Actor) -> StaffDesk:
        """The desk of ``actor``, once signed in."""
        return StaffDesk(self.__workstation, actor)


class StaffDesk(Desk):
    """The service calls of one signed-in member of staff (``actor``): every action and
    read of the pages and dialogs, with their role checks and audit events in the
    services."""

    def __init__(self, workstation: Workstation, actor: Actor) -> None:
        super().__init__(workstation)
        self.actor = actor
        self.__workstation = workstation

    def act(
        self,
        service: Callable[Concatenate[Workstation, Actor, _P], _R],
        /,
        *args: _P.args,
        **kw: _P.kwargs,
    ) -> _R:
        """``service(workstation, actor, *args, **kw)``: a staff action or read."""
        return _checked(service)(self.__workstation, self.actor, *args, **kw)


def _checked(service: Callable[..., _R]) -> Callable[..., _R]:
    module = getattr(service, "__module__", "") or ""
    name = getattr(service, "__name__", "") or ""
    if not module.startswith(_SERVICES) or module in _MACHINERY or name.startswith("_"):
        raise TypeError(f"A desk runs service functions only, not {service!r}.")
    return service


__all__ = ["Desk", "StaffDesk"]
