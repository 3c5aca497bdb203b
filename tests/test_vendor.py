"""The vendored front-end files (static/vendor/) are exactly what package-lock.json pins.

Without a network: package.json pins exact versions equal to the lockfile's, the manifest names the
lockfile's versions and integrity, every vendored file is in the manifest with its sha256, every
package carries its licence, and nothing else lies in static/vendor/. Where npm and the registry
are reachable, scripts/vendor-frontend --check fetches each pinned tarball (`npm pack`), checks it
against the lockfile's integrity, rebuilds the vendored files from it and compares them byte for byte.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from tests.paths import REPO

VENDOR = REPO / "static" / "vendor"


def _lock() -> dict:
    return json.loads((REPO / "package-lock.json").read_text())


def _manifest() -> dict:
    return json.loads((VENDOR / "manifest.json").read_text())


def test_package_json_pins_exact_versions_of_the_lockfile() -> None:
    pkg = json.loads((REPO / "package.json").read_text())
    lock = _lock()
    assert lock["lockfileVersion"] >= 2
    assert set(pkg["dependencies"]) == {"@noble/hashes", "simple-icons", "sortablejs"}
    for name, spec in pkg["dependencies"].items():
        assert spec == lock["packages"][f"node_modules/{name}"]["version"], name
        assert spec[0].isdigit(), f"{name} must be pinned to one version, not {spec!r}"
    assert lock["packages"][""]["dependencies"] == pkg["dependencies"]
    assert pkg["vendor"].keys() == pkg["dependencies"].keys()
    assert lock["packages"]["node_modules/@noble/hashes"]["version"].startswith("2.")


def test_manifest_names_the_lockfile_versions_and_integrity() -> None:
    lock, manifest = _lock(), _manifest()
    assert set(manifest["packages"]) == {k.removeprefix("node_modules/") for k in lock["packages"] if k}
    for name, info in manifest["packages"].items():
        locked = lock["packages"][f"node_modules/{name}"]
        assert (info["version"], info["integrity"]) == (locked["version"], locked["integrity"]), name
        assert info["licence"], f"{name} has no licence file"
        for path in info["licence"]:
            assert (VENDOR / path).stat().st_size > 500, path
        version_note = (VENDOR / info["dir"] / "VERSION").read_text().splitlines()
        assert version_note[:2] == [f"{name} {locked['version']}", locked["integrity"]]
    for entry in manifest["files"]:
        assert entry["version"] == manifest["packages"][entry["package"]]["version"], entry["path"]


def test_every_vendored_file_matches_its_manifest_hash_and_nothing_else_is_there() -> None:
    manifest = _manifest()
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert len(listed) == len(manifest["files"]), "a path is listed twice"
    for path, sha in listed.items():
        assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == sha, f"static/vendor/{path} was changed"
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()} - {"manifest.json"}
    assert on_disk == set(listed), "files in static/vendor/ that the manifest does not list (or the reverse)"


def test_the_pages_modules_are_all_vendored() -> None:
    """Every relative import of a vendored ES module resolves to a vendored file."""
    import re
    noble = VENDOR / "noble-hashes"
    for js in noble.glob("*.js"):
        for rel in re.findall(r"""from\s*["'](\./[^"']+)["']""", js.read_text()):
            assert (noble / rel).is_file(), f"{js.name} imports {rel}, which is not vendored"
    sprite = (VENDOR / "simple-icons" / "icons.svg").read_text()
    icons = json.loads((VENDOR / "simple-icons" / "icons.json").read_text())
    slugs = [s.split("#")[0].strip() for s in (VENDOR / "simple-icons" / "slugs.txt").read_text().splitlines()]
    slugs = [s for s in slugs if s]
    assert len(slugs) >= 100 and set(slugs) == set(icons)
    for slug in ("google", "github", "steam", "apple", "discord", "dropbox", "x"):
        assert f'<symbol id="si-{slug}" ' in sprite, slug


@pytest.mark.slow
def test_vendored_files_equal_the_pinned_tarballs() -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the tarball comparison needs it (the hash checks above still ran)")
    proc = subprocess.run([str(REPO / "scripts" / "vendor-frontend"), "--check"], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode == 3:
        pytest.skip(f"the npm registry is not reachable: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr + proc.stdout
