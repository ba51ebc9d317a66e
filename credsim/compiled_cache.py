"""Where Numba keeps credsim's compiled kernels: a per-user cache folder, never the package.

Numba's ``cache=True`` writes next to the source file by default, that is into
``site-packages/credsim/...``. pip does not remove those files on uninstall, and the
folder they leave is then imported as an empty namespace package that hides a later
install; a read-only install cannot take them at all. credsim therefore points Numba at
``NUMBA_CACHE_DIR`` when the user set it, else at the per-user cache folder
(``platformdirs.user_cache_dir("credsim")/numba``), else at a folder in the temporary
directory; when none is writable, kernels are compiled afresh in each process.

Loading a cached kernel: Numba's ``Cache.load_overload`` first refreshes the whole CPU
target context (``BaseContext.refresh``), importing and registering every implementation
Numba has (its NumPy, linear-algebra and random modules; the linear-algebra one imports
SciPy to look for BLAS): about 0.25 s of CPU here, more than half the start-up of a small
run, and none of it used by a kernel rebuilt from its cached machine code. ``light_loading``
replaces that refresh, on cache loads only, by what rebuilding a cached kernel needs: Numba's
runtime (``rtsys.initialize``). A kernel not in the cache is compiled as usual, and Numba's
compiler refreshes the full context itself (``numba.core.compiler.compile_extra``). It relies
on Numba internals seen in 0.59 to 0.68 and checks them: with another layout it changes
nothing. ``CREDSIM_NUMBA_FULL_REFRESH=1`` turns it off.
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


def light_loading() -> bool:
    """Load cached kernels without refreshing Numba's whole target context (see the module's
    docstring); True when in effect."""
    from numba.core import caching

    if os.environ.get("CREDSIM_NUMBA_FULL_REFRESH") == "1":
        return False
    cache = caching.Cache
    if getattr(cache.load_overload, "_credsim_light", False):
        return True
    if not all(hasattr(cache, a) for a in ("_load_overload", "_guard_against_spurious_io_errors")):
        return False
    try:
        from numba.core.runtime import rtsys
    except ImportError:
        return False
    if not callable(getattr(rtsys, "initialize", None)):
        return False

    def load_overload(self, sig, target_context):
        rtsys.initialize(target_context)  # what a rebuilt kernel calls: allocation, refcounts
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)

    load_overload._credsim_light = True  # type: ignore[attr-defined]
    load_overload.__doc__ = cache.load_overload.__doc__
    cache.load_overload = load_overload
    return True


LIGHT = _DIR is not None and light_loading()


def njit(*args, cache: bool = True, **kwargs):
    """``numba.njit`` with the kernel cached in the per-user folder (never in the package)."""
    return numba.njit(*args, cache=cache and _DIR is not None, **kwargs)
