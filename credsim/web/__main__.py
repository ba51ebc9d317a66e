"""``python -m credsim.web``: the dashboard without the main command line."""

from credsim.web.cli import main

main()
