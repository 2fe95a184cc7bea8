"""python -m qrun"""

from .cli import main

raise SystemExit(main())
