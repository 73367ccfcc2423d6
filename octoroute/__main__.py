"""``python -m octoroute``."""

from octoroute.cli import main

raise SystemExit(main())
