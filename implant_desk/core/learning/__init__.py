"""From annotated folders to a registered model: dataset and patient splits, augmentation, the fit loop,
self-supervised pre-training, metrics, multi-process training, the orchestrator and its child process."""
