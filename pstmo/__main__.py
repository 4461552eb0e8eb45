import sys

from pstmo.cli import main

sys.exit(main())
