import sys

from implant_desk.cli import main

sys.exit(main())
