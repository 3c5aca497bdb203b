"""Account groups (the list's filter chips): list, create, rename, delete.

Groups live in the encrypted vault as Aegis groups (vault/groups.py has their rules), so they travel
with backups, sends and Aegis exports. The API names a group by its uuid (`id`); deleting a group
keeps its accounts, ungrouped.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..model import Account
from ..vault import groups as vault_groups
from ..vault import store as accts
from . import context
from .http import body, group_name
from .views import groups_view

bp = Blueprint("groups_api", __name__, url_prefix="/api/groups")


def _change(fn: Callable[[list[Account], list[dict[str, str]]], accts.Library]) -> accts.Library:
    """Change accounts and groups in one vault write, then back up if backup is on."""
    written = context.device_backup().change_library(fn)  # one decryption, one vault write, then the backup
    return written.accounts, written.groups


def _counts(accounts: list[Account], groups: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"id": g["id"], "name": g["name"], "count": sum(1 for a in accounts if a.group == g["name"])}
            for g in groups_view(groups)]


@bp.get("")
@login_required
def list_groups() -> ResponseReturnValue:
    """The groups in order, each with how many accounts it holds."""
    accounts, groups = accts.load_library(context.db(), current_user.device.id, current_user.master_key)
    return jsonify({"groups": _counts(accounts, groups)})


@bp.post("")
@login_required
def create_group() -> ResponseReturnValue:
    """Create an empty group at the end of the list (201); a name in use is a 409."""
    name = group_name(body())
    accounts, groups = _change(lambda accounts, groups: vault_groups.create(accounts, groups, name))
    created = next(g for g in groups if g["name"] == name)
    return jsonify({"id": created["uuid"], "name": name, "groups": _counts(accounts, groups)}), 201


@bp.patch("/<group_id>")
@login_required
def rename_group(group_id: str) -> ResponseReturnValue:
    """Rename a group: its accounts move with it, its uuid stays."""
    name = group_name(body())
    accounts, groups = _change(lambda accounts, groups: vault_groups.change_name(accounts, groups, group_id, name))
    return jsonify({"id": group_id, "name": name, "groups": _counts(accounts, groups)})


@bp.delete("/<group_id>")
@login_required
def delete_group(group_id: str) -> ResponseReturnValue:
    """Delete a group; its accounts stay, in no group."""
    accounts, groups = _change(lambda accounts, groups: vault_groups.delete(accounts, groups, group_id))
    return jsonify({"deleted": group_id, "groups": _counts(accounts, groups)})
