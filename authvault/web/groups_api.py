"""Account groups (the list's filter chips): list, create, rename, delete.

Groups live in the encrypted vault as Aegis groups (`{"uuid", "name"}` in the db's group list,
referenced by each entry's "groups"), so they travel with backups, sends and Aegis exports. The API
names a group by its uuid (`id`); deleting a group keeps its accounts, ungrouped.
"""
from __future__ import annotations

import uuid as _uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..errors import N_
from ..model import Account
from ..vault import store as accts
from . import context
from .http import ApiError, body, group_name
from .views import groups_view

bp = Blueprint("groups_api", __name__, url_prefix="/api/groups")

MAX_GROUPS = 200


def _change(fn: Callable[[list[Account], list[dict[str, str]]], accts.Library]) -> accts.Library:
    """Change accounts and groups in one vault write, then back up if backup is on."""
    written = context.device_backup().change_library(fn)  # one decryption, one vault write, then the backup
    return written.accounts, written.groups


def _counts(accounts: list[Account], groups: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"id": g["id"], "name": g["name"], "count": sum(1 for a in accounts if a.group == g["name"])}
            for g in groups_view(groups)]


def _find(groups: list[dict[str, str]], group_id: str) -> dict[str, str]:
    for g in groups:
        if g["uuid"] == group_id:
            return g
    raise ApiError(404, "group_not_found", N_("That group does not exist (it may have been deleted)."))


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

    def apply(accounts: list[Account], groups: list[dict[str, str]]) -> accts.Library:
        if any(g["name"].casefold() == name.casefold() for g in groups):
            raise ApiError(409, "group_exists", N_("There is already a group called %(name)s."), name=name)
        if len(groups) >= MAX_GROUPS:
            raise ApiError(400, "too_many_groups", N_("At most %(max)s groups."), max=MAX_GROUPS)
        return accounts, groups + [{"uuid": str(_uuid.uuid4()), "name": name}]

    accounts, groups = _change(apply)
    created = next(g for g in groups if g["name"] == name)
    return jsonify({"id": created["uuid"], "name": name, "groups": _counts(accounts, groups)}), 201


@bp.patch("/<group_id>")
@login_required
def rename_group(group_id: str) -> ResponseReturnValue:
    """Rename a group: its accounts move with it, its uuid stays."""
    name = group_name(body())

    def apply(accounts: list[Account], groups: list[dict[str, str]]) -> accts.Library:
        group = _find(groups, group_id)
        if any(g is not group and g["name"].casefold() == name.casefold() for g in groups):
            raise ApiError(409, "group_exists", N_("There is already a group called %(name)s."), name=name)
        old = group["name"]
        for acc in accounts:
            if acc.group == old:
                acc.group = name
        group["name"] = name
        return accounts, groups

    accounts, groups = _change(apply)
    return jsonify({"id": group_id, "name": name, "groups": _counts(accounts, groups)})


@bp.delete("/<group_id>")
@login_required
def delete_group(group_id: str) -> ResponseReturnValue:
    """Delete a group; its accounts stay, in no group."""

    def apply(accounts: list[Account], groups: list[dict[str, str]]) -> accts.Library:
        group = _find(groups, group_id)
        for acc in accounts:
            if acc.group == group["name"]:
                acc.group = ""
        return accounts, [g for g in groups if g is not group]

    accounts, groups = _change(apply)
    return jsonify({"deleted": group_id, "groups": _counts(accounts, groups)})
