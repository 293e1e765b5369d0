"""python -m console: the same as the portal-console command."""

from console.cli import main

raise SystemExit(main())
