import sys

from subnet.cli import main

sys.exit(main())
