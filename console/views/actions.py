"""Every action of the main window, declared once: its id, text, shortcut, icon, menu, whether
it is on the toolbar, and the permission it needs (SPEC §6). Menus, toolbar and shortcuts are
built from this table, and an action the signed-in role may not use is disabled with the
reason the service would give as its tooltip — so the window and the services never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from console.services.permissions import Actor, Permission, refusal
from console.views.theme import load_icon


@dataclass(frozen=True)
class ActionSpec:
    """One action of the window."""

    id: str
    text: str
    menu: str
    shortcut: str | QKeySequence.StandardKey | None = None
    icon: str | None = None
    permission: Permission | None = None
    toolbar: bool = False
    #: Needs a selected account (disabled while none is selected).
    needs_account: bool = False
    tip: str = ""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("refresh", "&Refresh", "&File", QKeySequence.StandardKey.Refresh),
    ActionSpec(
        "import",
        "&Import records…",
        "&File",
        permission=Permission.IMPORT_RECORDS,
        tip="Bring charts and portal accounts in from the EHR's or the portal's export",
    ),
    ActionSpec("lock", "&Lock console", "&File", "Ctrl+L", tip="Lock now; your password opens it"),
    ActionSpec("sign_out", "Sign &out", "&File"),
    ActionSpec("quit", "&Quit", "&File", "Ctrl+Q"),  # StandardKey.Quit is empty on some systems
    ActionSpec("find", "&Find account…", "&Edit", QKeySequence.StandardKey.Find),
    ActionSpec(
        "revoke",
        "&Revoke access…",
        "&Account",
        "Ctrl+Shift+R",
        "revoke.svg",
        Permission.REVOKE_ACCESS,
        toolbar=True,
        needs_account=True,
        tip="End this account's access (the patient keeps their chart)",
    ),
    ActionSpec(
        "reissue",
        "Re-&issue invitation…",
        "&Account",
        "Ctrl+Shift+I",
        "invite.svg",
        Permission.REISSUE_INVITATION,
        toolbar=True,
        needs_account=True,
        tip="Invite the patient's chart to a new account with an e-mail of their own",
    ),
    ActionSpec(
        "link",
        "&Link to an account…",
        "&Account",
        "Ctrl+Shift+L",
        permission=Permission.LINK_CHART,
        needs_account=True,
        tip="Let a guardian's or proxy's account see this chart",
    ),
    ActionSpec(
        "resend_reset",
        "Resend reset e-&mail…",
        "&Account",
        permission=Permission.RESEND_EMAIL,
        needs_account=True,
    ),
    ActionSpec(
        "edit_contact",
        "Edit &contact…",
        "&Account",
        permission=Permission.EDIT_CONTACT,
        needs_account=True,
    ),
    ActionSpec(
        "deactivate",
        "&Deactivate…",
        "&Account",
        permission=Permission.DEACTIVATE_ACCOUNT,
        needs_account=True,
        tip="Close the account at the patient's request",
    ),
    ActionSpec("staff", "&Staff users…", "A&dministration", permission=Permission.MANAGE_STAFF),
    ActionSpec("settings", "S&ettings…", "A&dministration", permission=Permission.CHANGE_SETTINGS),
)


def build_actions(parent: QWidget, actor: Actor | None) -> dict[str, QAction]:
    """A QAction for every declared action, owned by ``parent``, enabled only for what
    ``actor`` may do (no actor: nothing that needs a permission)."""
    built = {}
    for spec in ACTIONS:
        action = QAction(spec.text, parent)
        action.setObjectName(f"{spec.id}Action")
        if spec.shortcut is not None:
            action.setShortcut(QKeySequence(spec.shortcut))
        if spec.icon is not None:
            action.setIcon(load_icon(spec.icon))
        reason = _refused(spec, actor)
        action.setEnabled(reason is None)
        tip = reason or spec.tip
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.setProperty("refused", reason is not None)
        built[spec.id] = action
    return built


def _refused(spec: ActionSpec, actor: Actor | None) -> str | None:
    if spec.permission is None:
        return None
    if actor is None:
        return "Sign in first."
    return refusal(actor.role, spec.permission)


__all__ = ["ACTIONS", "ActionSpec", "build_actions"]
