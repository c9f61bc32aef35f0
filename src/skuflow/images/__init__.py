"""Image data and models: safe decoding, image sources (class folders, Fashion-MNIST idx files) and a
torch classifier that carries its own preprocessing. Importing this package does not import torch."""
