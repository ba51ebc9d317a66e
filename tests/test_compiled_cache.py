"""Compiled kernels are cached in a per-user folder, never inside the installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import credsim
from credsim import compiled_cache

PACKAGE = Path(credsim.__file__).resolve().parent


def kernel_files() -> set[Path]:
    return {p for p in PACKAGE.rglob("*") if p.suffix in {".nbi", ".nbc"}}


def test_the_user_cache_folder_is_chosen_and_given_to_numba(tmp_path, monkeypatch):
    import numba

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    chosen = compiled_cache.cache_dir()
    assert chosen is not None and chosen.is_dir()
    if sys.platform.startswith("linux"):  # platformdirs follows XDG there
        assert chosen == tmp_path / "cache" / "credsim" / "numba"
    # the folder numba was given at import is the one chosen for this user then
    assert numba.config.CACHE_DIR == str(compiled_cache._DIR)
    assert PACKAGE not in Path(numba.config.CACHE_DIR).parents


def test_the_users_own_numba_cache_dir_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert compiled_cache.cache_dir() == tmp_path / "mine"


def test_no_writable_folder_means_no_cache_not_the_package(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "numba"))
    assert compiled_cache.cache_dir() is None


def test_a_run_writes_no_compiled_file_into_the_package(tmp_path):
    before = kernel_files()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    code = (
        "from credsim.sim import Sim\n"
        f"Sim('press', 200, 5, 1, out={str(tmp_path / 'run')!r}).run()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    assert kernel_files() == before
    if sys.platform.startswith("linux"):
        assert list((tmp_path / "cache" / "credsim" / "numba").rglob("*.nbi"))


def test_an_unwritable_cache_still_runs(tmp_path):
    before = kernel_files()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(blocker / "numba")}
    code = (
        "from credsim.sim import Sim\n"
        f"Sim('press', 200, 5, 1, out={str(tmp_path / 'run')!r}).run()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    assert kernel_files() == before
    assert (tmp_path / "run" / "manifest.json").exists()


def test_cached_kernels_load_without_numbas_full_registry(tmp_path):
    """A cold cache compiles every kernel (Numba's full context); a warm one loads them
    without importing Numba's NumPy and linear-algebra implementations; the three give the
    same run, and so does the full refresh when asked for."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    code = (
        "import sys, json\n"
        "from credsim.sim import Sim\n"
        "from credsim import compiled_cache\n"
        "out = sys.argv[1]\n"
        "run = Sim('press', 300, 40, 3, out=out, ledger='none').run()\n"
        "print(json.dumps([compiled_cache.LIGHT, 'numba.np.arraymath' in sys.modules,\n"
        "                  run.summary]))\n"
    )

    def run(name: str, **extra: str) -> list:
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / name)],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return json.loads(done.stdout.splitlines()[-1])

    cold = run("cold")
    warm = run("warm")
    full = run("full", CREDSIM_NUMBA_FULL_REFRESH="1")
    assert cold[1] is True  # compiling needs every implementation
    assert warm[:2] == [True, False]  # loading from the cache does not
    assert full[:2] == [False, True]
    assert cold[2] == warm[2] == full[2]
    assert cold[2]["citizens"] == 300
