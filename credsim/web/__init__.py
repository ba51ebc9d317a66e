"""The local web dashboard: pick a regime, change its main parameters, run, read the results.

``create_app(runs_dir)`` builds the FastAPI application; ``credsim.web.cli.serve`` runs it.
FastAPI and uvicorn (the ``web`` extra) are imported only when the application is built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from credsim.web.app import create_app

        return create_app
    raise AttributeError(name)
