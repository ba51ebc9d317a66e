"""``python -m credsim``: the command line."""

from credsim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
