"""scripts/test's install step, run by bash for real, as root, with sudo, and with neither.

apt-get, sudo and id are stand-ins on a PATH of their own (a test must not install packages on
the machine): they record how they were called. What runs is the real script: the bug this
catches ("DEBIAN_FRONTEND=noninteractive: command not found", exit 127 as root) was in how the
script builds the command, before apt-get is ever reached. .ci/run is checked to be the README's
commands and nothing else.
"""
from __future__ import annotations

import functools
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO

BASH = "/bin/bash"
RECORDER = """#!/bin/bash
echo "$(basename "$0") DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset} $*" >> "$RECORD"
"""
SUDO = """#!/bin/bash
echo "sudo $*" >> "$RECORD"
[ "$1" = "-n" ] && shift
exec "$@"
"""


def _exe(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def run_install(tmp_path: Path, *, uid: int, sudo: bool = True, present: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Source scripts/_system_packages.sh and run install_system_packages on a PATH of stand-ins."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("env", "tr", "basename", "cat", "test"):
        real = next(Path(d, tool) for d in ("/usr/bin", "/bin") if Path(d, tool).exists())
        (bin_dir / tool).symlink_to(real)
    _exe(bin_dir / "id", f"#!/bin/bash\necho {uid}\n")
    _exe(bin_dir / "apt-get", RECORDER)
    if sudo:
        _exe(bin_dir / "sudo", SUDO)
    for tool in present:  # a command that the script looks for, "installed"
        _exe(bin_dir / tool, "#!/bin/bash\n")
    record = tmp_path / "record"
    record.touch()
    env = {"PATH": str(bin_dir), "RECORD": str(record), "HOME": str(tmp_path)}
    script = "set -euo pipefail; source scripts/_apt.sh; source scripts/_system_packages.sh; install_system_packages"
    proc = subprocess.run([BASH, "-c", script],
                          cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    return proc.returncode, proc.stderr, record.read_text()


def test_as_root_apt_get_runs_directly_and_noninteractively(tmp_path: Path) -> None:
    code, err, record = run_install(tmp_path, uid=0)
    assert code == 0, err
    lines = record.splitlines()
    assert lines[0] == "apt-get DEBIAN_FRONTEND=noninteractive update -qq"
    assert re.fullmatch(r"apt-get DEBIAN_FRONTEND=noninteractive install -y -qq chromium libnss3-tools( apache2-bin)? webkit2gtk-driver xvfb",
                        lines[1]), lines
    assert not any(line.startswith("sudo") for line in lines)
    assert "the tests need Debian packages: chromium libnss3-tools" in err
    assert "installing Debian packages: chromium libnss3-tools" in err


def test_as_a_user_apt_get_runs_through_sudo_without_waiting_for_a_password(tmp_path: Path) -> None:
    code, err, record = run_install(tmp_path, uid=1000)
    assert code == 0, err
    lines = record.splitlines()
    # stdin is not a terminal here, so sudo must not prompt (-n); the variable reaches apt-get through env
    assert lines[0] == "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq"
    assert lines[1] == "apt-get DEBIAN_FRONTEND=noninteractive update -qq"
    assert lines[2].startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libnss3-tools")
    assert lines[3].startswith("apt-get DEBIAN_FRONTEND=noninteractive install -y -qq chromium libnss3-tools")


def test_without_root_or_sudo_it_says_what_to_install_and_goes_on(tmp_path: Path) -> None:
    code, err, record = run_install(tmp_path, uid=1000, sudo=False)
    assert code == 0
    assert record == ""
    assert "not root and no sudo; as root run: apt-get install -y chromium libnss3-tools" in err


FAKE_PYTHON = """#!/bin/bash
# Debian's python3 without its venv module's pip (package python3-venv missing)
case "$*" in
  *"import ensurepip"*) exit 1 ;;
  "-m venv .venv") mkdir -p .venv/bin && printf '#!/bin/bash\\nexit 0\\n' > .venv/bin/python
                   chmod +x .venv/bin/python; echo "venv made" >> "$RECORD" ;;
  *) exit 0 ;;
esac
"""


def test_python_without_its_venv_module_gets_python3_venv_then_a_new_venv(tmp_path: Path) -> None:
    """scripts/_venv.sh in a copy of the scripts, with a python3 that lacks ensurepip and a
    half-made .venv (a python without pip) left by an earlier failed try."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("_apt.sh", "_venv.sh"):
        (repo / "scripts" / name).write_text((REPO / "scripts" / name).read_text())
    _exe(repo / "scripts" / "probe", '#!/bin/bash\nsource "$(dirname "$0")/_venv.sh"\necho ready\n')
    (repo / ".venv" / "bin").mkdir(parents=True)
    _exe(repo / ".venv" / "bin" / "python", "#!/bin/bash\nexit 1\n")  # no pip in it
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("env", "rm", "mkdir", "chmod", "dirname", "cat", "sha256sum", "cut", "basename"):
        real = next(Path(d, tool) for d in ("/usr/bin", "/bin") if Path(d, tool).exists())
        (bin_dir / tool).symlink_to(real)
    _exe(bin_dir / "id", "#!/bin/bash\necho 0\n")
    _exe(bin_dir / "apt-get", RECORDER)
    _exe(bin_dir / "python3", FAKE_PYTHON)
    record = tmp_path / "record"
    record.touch()
    proc = subprocess.run([BASH, str(repo / "scripts" / "probe")], env={"PATH": str(bin_dir), "RECORD": str(record)},
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert proc.returncode == 0 and proc.stdout.strip() == "ready", proc.stderr
    assert record.read_text().splitlines() == [
        "apt-get DEBIAN_FRONTEND=noninteractive update -qq",
        "apt-get DEBIAN_FRONTEND=noninteractive install -y -qq python3-venv",
        "venv made",
    ]


def test_nothing_is_installed_when_nothing_is_missing(tmp_path: Path) -> None:
    if not (Path("/usr/sbin/apache2").exists() and Path("/usr/lib/apache2/modules/mod_dav_fs.so").exists()):
        pytest.skip("apache2-bin is not installed here, so it would be missing")
    code, err, record = run_install(tmp_path, uid=0, present=("chromium", "certutil", "WebKitWebDriver", "Xvfb"))
    assert code == 0, err
    assert record == "" and err == ""


def test_ci_runs_the_readme_commands_and_nothing_cleverer() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "export CI=true",
                        "./scripts/lint", "./scripts/test"]
    readme = (REPO / "README.md").read_text()
    for command in ("./scripts/lint", "./scripts/test"):
        assert f"    {command}\n" in readme, command


def test_scripts_are_executable() -> None:
    for name in ("run", "test", "lint", "update-translations"):
        assert os.access(REPO / "scripts" / name, os.X_OK), name
    assert os.access(REPO / ".ci" / "run", os.X_OK)


@pytest.mark.parametrize(("cores", "workers"), [("2", ["-n", "2", "--dist", "loadfile"]), ("1", [])])
def test_quick_runs_the_quick_loop_on_every_core(tmp_path: Path, cores: str, workers: list[str]) -> None:
    """scripts/test --quick, with its helpers stubbed: what pytest is given (one argument a line)."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "scripts" / "test").write_text((REPO / "scripts" / "test").read_text())
    (repo / "scripts" / "_venv.sh").write_text(
        'cd "$(dirname "${BASH_SOURCE[0]}")/.."\ninstall_reqs() { :; }\ncompile_translations() { :; }\n')
    (repo / "scripts" / "_system_packages.sh").write_text("install_system_packages() { :; }\n")
    (repo / ".venv" / "bin").mkdir(parents=True)
    _exe(repo / ".venv" / "bin" / "python", '#!/bin/bash\nprintf "%s\\n" "$@"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _exe(bin_dir / "nproc", f"#!/bin/bash\necho {cores}\n")
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=30,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    quick = run([BASH, str(repo / "scripts" / "test"), "--quick", "-x"])
    assert quick.returncode == 0, quick.stderr
    assert quick.stdout.splitlines() == ["-m", "pytest", "-m", "not browser and not slow", *workers, "-x"]
    plain = run([BASH, str(repo / "scripts" / "test"), "tests/test_otp.py"])
    assert plain.stdout.splitlines() == ["-m", "pytest", "tests/test_otp.py"]
