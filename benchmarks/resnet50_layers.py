"""The distinct convolutions of torchvision's ResNet-50 (v1.5: stride on the 3x3), with how
often each occurs, at a given input size. Shared by the benchmark drivers."""


def conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def resnet50_convolutions(height, width, batch=1):
    """[(name, N, C, H, W, K, R, stride, padding, count)] for an input of height x width."""
    layers = []
    h, w = height, width
    layers.append(("conv1", batch, 3, h, w, 64, 7, 2, 3, 1))
    h, w = conv_out(h, 7, 2, 3), conv_out(w, 7, 2, 3)
    h, w = conv_out(h, 3, 2, 1), conv_out(w, 3, 2, 1)  # max pool
    in_channels = 64
    for stage, (width_c, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
        out_channels = width_c * 4
        hs, ws = conv_out(h, 3, stride, 1), conv_out(w, 3, stride, 1)
        name = f"layer{stage}"
        layers += [
            (f"{name}.0.conv1", batch, in_channels, h, w, width_c, 1, 1, 0, 1),
            (f"{name}.0.conv2", batch, width_c, h, w, width_c, 3, stride, 1, 1),
            (f"{name}.*.conv3", batch, width_c, hs, ws, out_channels, 1, 1, 0, blocks),
            (f"{name}.0.downsample", batch, in_channels, h, w, out_channels, 1, stride, 0, 1),
            (f"{name}.*.conv1", batch, out_channels, hs, ws, width_c, 1, 1, 0, blocks - 1),
        ]
        if stride != 1:
            layers.append((f"{name}.*.conv2", batch, width_c, hs, ws, width_c, 3, 1, 1, blocks - 1))
        else:
            # Stage 1: every conv2 has the same shape as block 0's.
            layers = [l if l[0] != f"{name}.0.conv2" else l[:9] + (blocks,) for l in layers]
        in_channels, h, w = out_channels, hs, ws
    return layers


def flops(layer):
    _, n, c, h, w, k, r, stride, padding, _ = layer
    p, q = conv_out(h, r, stride, padding), conv_out(w, r, stride, padding)
    return 2.0 * n * k * p * q * c * r * r
