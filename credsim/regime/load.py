"""Loading regimes: TOML files and presets, ``--set`` overrides, one-line errors."""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from credsim.regime.schema import Regime

os.environ.setdefault("PYDANTIC_ERRORS_INCLUDE_URL", "0")

MAX_FILE_BYTES = 1_000_000
_PATH_TOKEN = re.compile(r"(?:^|\.)([^.\[\]=]+)|\[([^.\[\]=]+)\]")
_PROBLEM = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*): (.*)$")


class RegimeError(ValueError):
    """A regime that cannot be used; ``lines`` holds one message per problem."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


def presets() -> dict[str, str]:
    """Shipped presets: name -> first line of the description."""
    out = {}
    for entry in sorted(
        resources.files("credsim.regime").joinpath("presets").iterdir(), key=lambda e: e.name
    ):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text("utf-8"))
            out[entry.name[:-5]] = data.get("regime", {}).get("description", "").strip()
    return out


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-") or part in ("dict[str,float]", "[key]"):
            continue
        else:
            out += ("." if out else "") + (part if part.isprintable() else repr(part))
    return out or "(top level)"


def _messages(where: str, err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors(include_url=False):
        msg = e["msg"].removeprefix("Value error, ")
        path = _path(tuple(e["loc"]))
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        for part in msg.split("\n"):
            m = _PROBLEM.match(part)
            if m:
                lines.append(f"{where}: {m.group(1)}: {m.group(2)}")
            else:
                lines.append(f"{where}: {path}: {part}")
    return lines


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a one-line RegimeError."""
    from credsim.files import FileProblem, read_bounded

    where = str(path)
    try:
        raw = read_bounded(path, MAX_FILE_BYTES, "regime file")
    except FileProblem as e:
        raise RegimeError([str(e)]) from None
    if not raw.strip():
        raise RegimeError([f"{where}: file is empty"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RegimeError([f"{where}: not UTF-8 text (byte {e.start})"]) from None
    if "\x00" in text:
        raise RegimeError([f"{where}: binary data, not a TOML file"])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RegimeError([f"{where}: TOML syntax: {e}"]) from None
    except RecursionError:
        raise RegimeError([f"{where}: nested too deeply"]) from None


def _resolve_source(regime: str | Path) -> tuple[str, dict[str, Any]]:
    p = Path(regime)
    if p.suffix == ".toml" or p.is_file() or os.sep in str(regime):
        return str(p), read_toml(p)
    names = presets()
    if str(regime) not in names:
        raise RegimeError(
            [f"{regime}: no such preset or file (presets: {', '.join(sorted(names))})"]
        )
    entry = resources.files("credsim.regime").joinpath("presets").joinpath(f"{regime}.toml")
    return f"preset {regime}", tomllib.loads(entry.read_text("utf-8"))


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply ``path=value`` to raw regime data; list items by index or by name."""
    if not assignment.isprintable():
        raise RegimeError([f"--set {assignment!r}: control characters are not allowed"])
    if "=" not in assignment:
        raise RegimeError([f"--set {assignment}: expected PATH=VALUE"])
    path, text = assignment.split("=", 1)
    path = path.strip()
    parts: list[str | int] = []
    end = 0
    for m in _PATH_TOKEN.finditer(path):
        if m.start() != end or (end == 0 and (m.group(1) is None or m.group(0)[0] == ".")):
            break
        token = m.group(1) or m.group(2)
        parts.append(int(token) if token.isascii() and token.isdigit() else token)
        end = m.end()
    if not path or end != len(path):
        raise RegimeError(
            [
                f"--set {assignment}: malformed path {path!r} "
                "(expected names and [index] joined by dots, e.g. sanctions[0].duration)"
            ]
        )
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(str(p) for p in parts[: i + 1])
        if isinstance(node, list):
            if isinstance(part, str):
                match = [
                    k
                    for k, item in enumerate(node)
                    if isinstance(item, dict)
                    and (item.get("name") == part or item.get("behaviour") == part)
                ]
                if not match:
                    raise RegimeError([f"--set {assignment}: no item named {part!r} at {where}"])
                part = match[0]
            if not 0 <= part < len(node):
                raise RegimeError([f"--set {assignment}: index {part} out of range at {where}"])
        elif isinstance(node, dict):
            if not last and part not in node:
                node[part] = {}
        else:
            raise RegimeError([f"--set {assignment}: {where} is not a table or list"])
        if last:
            node[part] = _parse_value(text.strip())
        else:
            node = node[part]


def load_regime(
    regime: str | Path | Regime | dict = "press", overrides: list[str] | tuple[str, ...] = ()
) -> Regime:
    """Load a preset name, a TOML file, a dict or a Regime, then apply ``--set`` overrides."""
    if isinstance(regime, Regime):
        if not overrides:
            return regime
        where, data = "regime", regime.model_dump(mode="json", exclude_none=True)
    elif isinstance(regime, dict):
        where, data = "regime", regime
    else:
        where, data = _resolve_source(regime)
    for assignment in overrides:
        apply_override(data, assignment)
    if not isinstance(data, dict):
        raise RegimeError([f"{where}: a regime is a table"])
    try:
        return Regime.model_validate(data)
    except ValidationError as e:
        raise RegimeError(_messages(where, e)) from None
    except RecursionError:
        raise RegimeError([f"{where}: nested too deeply"]) from None


def dump_regime(regime: Regime) -> str:
    """The resolved regime as TOML text, loadable as it is."""
    return tomli_w.dumps(regime.model_dump(mode="json", exclude_none=True))


def regime_hash(regime: Regime) -> str:
    """A short content hash of the resolved regime."""
    return hashlib.sha256(dump_regime(regime).encode()).hexdigest()[:16]
