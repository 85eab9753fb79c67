"""Implant identification: a fixture detector and a system classifier, their files, and the predictor.

- ``spec``: what a model is (systems, input sizes) as plain data; ``identifier``: the network built from it
  (``detector``: CenterNet-style on EfficientNet-Lite0, ``classifier``: EfficientNet-Lite0 on fixture crops,
  ``backbones``: the offline ImageNet weights);
- ``preprocess``: radiograph -> 8-bit grey, detector input, fixture crops (training and prediction share it);
- ``card``: the model card (``ModelCard``, ``read_card``; torch-free, the registry reads it too);
  ``weights``: safetensors + card, hash-checked, no code executed on load;
- ``predictor``: ``Predictor.from_folder(folder).predict(radiograph, threshold)``; ``explain`` (Grad-CAM);
  ``graphs``: the networks as ONNX graphs, which the predictor runs on the CPU; ``decoding``: maps -> boxes;
- ``device``: CPU, CUDA or MPS; ``locate``: a version or folder name -> model folder.
See docs/adr/0004-model-design.md and 0009. ``spec``, ``card``, ``preprocess``, ``decoding``, ``graphs``, ``device``
and ``predictor`` import no torch (a CPU prediction never needs it); the networks, weights and explanations do.
"""
