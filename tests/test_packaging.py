"""A non-editable install (the wheel) finds its config, playbooks and templates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT


def uv() -> str:
    # `uv run` names itself in $UV; a plain pytest run finds uv on PATH.
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is needed to build the wheel (see the README's commands)"
    return found


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# Building a wheel, a venv and running the tour is several processes of work:
# on a loaded 2-core machine it has taken more than the suite's 60 s default.
@pytest.mark.timeout(300)
def test_wheel_runs_check_and_the_tour_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(uv(), "build", "--offline", "--wheel", "--out-dir", str(dist), str(ROOT), cwd=tmp_path)
    [wheel] = dist.glob("playcaller-*.whl")
    venv = tmp_path / "venv"
    run(uv(), "venv", "--offline", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        uv(),
        "pip",
        "install",
        "--offline",
        "--quiet",
        "--no-deps",
        "--python",
        str(python),
        str(wheel),
        cwd=tmp_path,
    )
    # Dependencies come from the locked environment running this test, without
    # its editable install of this checkout (a plain path entry skips its .pth files).
    site = run(
        str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    )
    Path(site.strip(), "locked-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = run(str(python), "-c", "import bot; print(bot.__file__)", cwd=tmp_path)
    assert where.startswith(str(venv))
    work = tmp_path / "elsewhere"
    work.mkdir()
    checked = run(str(venv / "bin" / "playcaller"), "check", cwd=work)
    assert f"ok: {venv}" in checked and "crisis playbooks" in checked and "guidelines" in checked
    tour = run(
        str(python),
        "-c",
        "from bot.resources import bundled; print(bundled('samples') / 'tour.txt')",
        cwd=work,
    )
    assert tour.startswith(str(venv))
    out = run(str(venv / "bin" / "playcaller"), "demo", "--script", tour.strip(), cwd=work)
    assert "EXPECTATION FAILED" not in out
    assert "expect Unclaimed in Customer Care (3) (ok)" in out
