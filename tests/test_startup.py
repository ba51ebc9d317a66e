"""Start-up: the light commands import none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numba", "numpy", "pyarrow", "pandas", "duckdb", "plotly", "pydantic", "dask", "fastapi")
# typer reads pydantic when it builds a command's help: the help may load it, nothing else
HELP_MAY = {"pydantic"}


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('', ' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.splitlines()[-1].split()) if out.stdout.strip() else set()


def test_import_credsim_is_light():
    assert imported_after("import credsim") == set()


def test_the_command_line_module_is_light():
    assert imported_after("import credsim.cli") == set()


def test_version_and_help_import_nothing_heavy():
    for argv in (["--version"], ["--help"], ["run", "--help"]):
        code = (
            "import sys, credsim.cli\n"
            f"sys.argv = ['credsim', *{argv!r}]\n"
            "try:\n    credsim.cli.main()\nexcept SystemExit:\n    pass"
        )
        assert imported_after(code) <= HELP_MAY, argv


def test_the_public_names_still_load():
    import credsim

    assert credsim.Sim.__name__ == "Sim"
    assert callable(credsim.load_regime)
    assert "press" in credsim.presets()


def test_a_run_writes_its_tables_without_pandas(tmp_path):
    code = (
        "import sys, credsim.cli\n"
        "sys.argv = ['credsim', 'run', 'press', '-n', '300', '-d', '20', '--no-report',\n"
        f"            '-o', {str(tmp_path / 'run')!r}]\n"
        "try:\n    credsim.cli.main()\nexcept SystemExit:\n    pass"
    )
    assert "pandas" not in imported_after(code)
    assert (tmp_path / "run" / "metrics.parquet").is_file()
    assert list((tmp_path / "run" / "ledger").glob("*.parquet"))
