import sys

from generate.cli import main

sys.exit(main())
