"""PyInstaller runtime hook: the packaged app computes on the CPU only.

Torch's PyPI wheels link the CUDA libraries, so they stay in the build, but the libraries torch opens only when a
GPU computes (cuDNN's engines, cuSOLVER, NVRTC's builtins...) are left out to save about 1.1 GB; hiding the GPUs
makes ``device="auto"`` choose the CPU instead of failing on a missing library.
"""

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""
