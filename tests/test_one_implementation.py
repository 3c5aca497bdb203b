"""One implementation of each concept (issue 10): a second copy of one of them fails here.

Each rule names the code that does a thing (a call, an import, a definition, a comparison) and
the one module allowed to hold it; the scan reads every module of authvault/ as a syntax tree,
so comments and docstrings that talk about the thing do not count. Each rule is also run on a
planted copy, so the scan itself can fail.
"""
from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.paths import REPO

ROOT = REPO / "authvault"


def _dotted(node: ast.AST) -> str:
    """`base64.b32decode` for that attribute chain, `flock` for a bare name, else ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


def _calls(*names: str) -> Callable[[ast.AST], bool]:
    """A call of one of `names` (`os.replace`), or of an attribute ending so (`.rename`)."""
    def match(node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        called = _dotted(node.func)
        return any(called == n or (n.startswith(".") and called.endswith(n)) for n in names)
    return match


def _uses(*names: str) -> Callable[[ast.AST], bool]:
    """Any mention of one of `names` as a name, an attribute or an imported name."""
    def match(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in names
        if isinstance(node, ast.Attribute):
            return node.attr in names
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            return module in names or any(a.name in names for a in node.names)
        return False
    return match


def _defines_class(word: str) -> Callable[[ast.AST], bool]:
    return lambda node: isinstance(node, ast.ClassDef) and word in node.name


def _assigns(*names: str) -> Callable[[ast.AST], bool]:
    def match(node: ast.AST) -> bool:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        return any(isinstance(t, ast.Name) and t.id in names for t in targets)
    return match


def _is_secret(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and _dotted(node.func) == "bytes" and node.args:
        node = node.args[0]
    return isinstance(node, ast.Attribute) and node.attr == "secret"


def _compares_secrets(node: ast.AST) -> bool:
    """A hand-made "same account": `a.secret == b.secret`, `bytes(a.secret) != x`, `acc.secret in
    seen`, or a key made of the secret and more, `(bytes(acc.secret), acc.type)`."""
    if isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load):  # not `acc.secret, x = ...`
        return any(_is_secret(n) for n in node.elts)
    return isinstance(node, ast.Compare) and any(_is_secret(n) for n in [node.left, *node.comparators]) \
        and all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops)


def _is_ip_literal_check(node: ast.AST) -> bool:
    """`try: ipaddress.ip_address(host) except ValueError: return False`: "is this an IP literal"."""
    return isinstance(node, ast.Try) \
        and any(_calls("ipaddress.ip_address")(n) for stmt in node.body for n in ast.walk(stmt)) \
        and any(ast.unparse(h.type or ast.Name("")) == "ValueError" and len(h.body) == 1
                and isinstance(h.body[0], ast.Return) and ast.unparse(h.body[0]) == "return False"
                for h in node.handlers)


@dataclass(frozen=True)
class Rule:
    concept: str
    home: tuple[str, ...]  # the modules (paths under authvault/) allowed to hold it
    match: Callable[[ast.AST], bool]
    planted: str  # a second copy the rule must find


RULES = [
    Rule("base32 decoding (otp.decode_base32 / otp.decode_secret)", ("otp.py",),
         _uses("b32decode", "b32hexdecode"), "import base64\nraw = base64.b32decode(text + '====')\n"),
    Rule("base32 encoding of a secret (otp.encode_secret)", ("otp.py",),
         _uses("b32encode"), "from base64 import b32encode\n"),
    Rule("the atomic write (files.atomic_write)", ("files.py",),
         _calls("os.replace", "os.rename", "shutil.move", ".rename"), "import os\nos.replace(tmp, path)\n"),
    Rule("the fsync of a write or a folder (files.atomic_write, files.fsync_dir)", ("files.py",),
         _calls("os.fsync", "os.fdatasync"), "import os\nos.fsync(fd)\n"),
    Rule("the file lock (files.file_lock, files.try_lock)", ("files.py",),
         _uses("fcntl", "flock", "lockf"), "import fcntl\nfcntl.flock(fd, fcntl.LOCK_EX)\n"),
    Rule("a skipped entry (model.Skipped)", ("model.py",),
         _defines_class("Skip"), "class SkippedEntry:\n    reason: str\n"),
    Rule("the same account (model.account_key, model.same_account)", ("model.py",),
         _compares_secrets, "same = a.issuer == b.issuer and bytes(a.secret) == bytes(b.secret)\n"),
    Rule("the writer of a vault's accounts and private part (vault/store.py)", ("vault/store.py",),
         _calls(".replace_db", "replace_db"), "env = envelope.replace_db(env, master_key, db)\n"),
    Rule("the bounds of backup HTTP (backup/http.py)", ("backup/http.py",),
         _assigns("MAX_ANSWER_BYTES", "OPERATION_SECONDS", "TIMEOUT", "CONNECT_SECONDS", "READ_SECONDS"),
         "OPERATION_SECONDS = 8.0\n"),
    Rule("what a bounded backup request's failure means (backup/http.as_backup_errors)", ("backup/http.py",),
         _uses("RefusedPeer", "OutOfTime", "AnswerTooLarge"),
         "try:\n    resp = session.request('GET', url)\nexcept http.OutOfTime as exc:\n    raise BackupUnreachable(where) from exc\n"),
    Rule("whether a host is an IP literal (config.is_ip_address)", ("config.py",), _is_ip_literal_check,
         "def _is_ip(host):\n    try:\n        ipaddress.ip_address(host)\n    except ValueError:\n"
         "        return False\n    return True\n"),
    Rule("opening another app's SQLite file (importers/support/sqlite.py)",
         ("interop/importers/support/sqlite.py",), _calls(".deserialize"), "conn.deserialize(data)\n"),
]


def _copies(rule: Rule, tree: ast.AST) -> list[int]:
    return sorted({getattr(n, "lineno", 0) for n in ast.walk(tree) if rule.match(n)})


def _modules() -> dict[str, ast.AST]:
    return {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(), str(p)) for p in sorted(ROOT.rglob("*.py"))}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.concept.split(" (")[0])
def test_each_concept_has_one_implementation(rule: Rule) -> None:
    modules = _modules()
    assert len(modules) > 50 and all(h in modules for h in rule.home), "the module scan is broken"
    elsewhere = {path: lines for path, tree in modules.items() if path not in rule.home
                 and (lines := _copies(rule, tree))}
    assert elsewhere == {}, f"a second copy of {rule.concept} (use the one in {', '.join(rule.home)})"
    assert any(_copies(rule, modules[h]) for h in rule.home), f"{rule.concept} is no longer where it was"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.concept.split(" (")[0])
def test_a_planted_second_copy_is_found(rule: Rule) -> None:
    assert _copies(rule, ast.parse(rule.planted)) != []


def test_ordinary_code_is_not_taken_for_a_copy() -> None:
    ordinary = ast.parse("name = label.replace(':', ' ')\nsame = a.issuer == b.issuer\n"
                         "secret = acc.secret\nacc.secret, acc.type = key, 'steam'\n"
                         "with open(path, 'rb') as fh:\n    data = fh.read()\n")
    assert [r.concept for r in RULES if _copies(r, ordinary)] == []


def test_scan_reads_the_tree_not_the_words() -> None:
    # A docstring or comment that names the thing is not a copy of it.
    words = ast.parse('"""Written with os.replace under fcntl.flock, b32decode, replace_db."""\n# os.fsync\n')
    assert [r.concept for r in RULES if _copies(r, words)] == []
