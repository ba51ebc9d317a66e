"""Where Numba keeps credsim's compiled kernels: a per-user cache folder, never the package.

Numba's ``cache=True`` writes next to the source file by default, that is into
``site-packages/credsim/...``. pip does not remove those files on uninstall, and the
folder they leave is then imported as an empty namespace package that hides a later
install; a read-only install cannot take them at all. credsim therefore points Numba at
``NUMBA_CACHE_DIR`` when the user set it, else at the per-user cache folder
(``platformdirs.user_cache_dir("credsim")/numba``), else at a folder in the temporary
directory; when none is writable, kernels are compiled afresh in each process.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError:
        return False
    return True


def cache_dir() -> Path | None:
    """The writable folder for compiled kernels, or None when there is none."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen:
        return Path(chosen) if _writable(Path(chosen)) else None
    import platformdirs

    user = os.getuid() if hasattr(os, "getuid") else 0
    candidates = [
        Path(platformdirs.user_cache_dir("credsim", appauthor=False)) / "numba",
        Path(tempfile.gettempdir()) / f"credsim-numba-{user}",
    ]
    for path in candidates:
        if _writable(path):
            return path
    return None


_DIR = cache_dir()

import numba  # noqa: E402

if _DIR is not None:
    # Read by Numba's cache locator when a kernel is first compiled, so this holds even
    # when numba was imported before credsim.
    numba.config.CACHE_DIR = str(_DIR)


def njit(*args, cache: bool = True, **kwargs):
    """``numba.njit`` with the kernel cached in the per-user folder (never in the package)."""
    return numba.njit(*args, cache=cache and _DIR is not None, **kwargs)
