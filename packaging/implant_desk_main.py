"""The packaged executable's entry point: ``implant-desk``'s command line, plus what a frozen program needs.

The fine-tune child is started with multiprocessing's "spawn", which in a frozen app re-runs this executable with
``--multiprocessing-fork``; ``freeze_support`` (PyInstaller's version, installed by its runtime hook) turns that run
into the child before the command line is read, instead of opening a second window.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from implant_desk.cli import main

    sys.exit(main())
