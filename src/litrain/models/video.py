"""torchvision's video classifiers (``torchvision.models.video``): which input they take and
the one change litrain makes to them.

They read clips ``(N, C, T, H, W)``. r3d_18, mc3_18 and r2plus1d_18 pool globally and take
any clip from 1 frame of 16x16 up; s3d ends in a fixed (2, 7, 7) average pool (made for
16x224x224 clips), replaced here by a global one, which is the same at that size and lets
s3d take clips from 5 frames of 24x24; MViT's position embeddings fix its input at
16x224x224 (checked before building, so a wrong size is one clear error).
"""

from __future__ import annotations

from torch import nn

from litrain.errors import ConfigError

VIDEO_MODELS = (
    "r3d_18",
    "mc3_18",
    "r2plus1d_18",
    "s3d",
    "mvit_v1_b",
    "mvit_v2_s",
    "swin3d_t",
    "swin3d_s",
    "swin3d_b",
)

# Clip sizes (frames, height, width) a model is built for and takes no other.
FIXED_SIZE = {"mvit_v1_b": (16, 224, 224), "mvit_v2_s": (16, 224, 224)}


def is_video(arch: str) -> bool:
    return arch in VIDEO_MODELS


def check_video_input(arch: str, input_shape: tuple[int, ...]) -> None:
    """A ConfigError unless ``input_shape`` is one (C, T, H, W) clip ``arch`` takes."""
    if not input_shape:
        return  # a user's data module: nothing known to check
    if len(input_shape) != 4:
        raise ConfigError(
            f"torchvision:{arch} is a video model and takes clips (C, T, H, W), but the samples "
            f"are {tuple(input_shape)}: use a video source (video_arrays, video_files)"
        )
    fixed = FIXED_SIZE.get(arch)
    if fixed and tuple(input_shape[1:]) != fixed:
        raise ClipSizeError(arch, fixed, tuple(input_shape))


class ClipSizeError(ConfigError):
    """A fixed-size video model and clips of another size. How to change the clips depends
    on the data source (``for_source``, called where the data config is known)."""

    def __init__(
        self, arch: str, fixed: tuple[int, int, int], shape: tuple[int, ...], source: str = ""
    ) -> None:
        self.arch, self.fixed, self.shape = arch, fixed, shape
        t, h, w = fixed
        if source == "video_arrays":
            fix = f"write the clips in x.npy as (N, C, {t}, {h}, {w})"
        elif source == "video_files":
            fix = f"set data.frames_per_clip={t} data.img_height={h} data.img_width={w}"
        else:
            fix = f"give it clips of {t} frames of {h}x{w}"
        super().__init__(
            f"torchvision:{arch} takes only clips of {t} frames of {h}x{w} (C, {t}, {h}, {w}); the "
            f"data's are {shape}: {fix}, or pick r2plus1d_18, r3d_18, mc3_18 or s3d"
        )

    def for_source(self, source: str) -> ClipSizeError:
        return ClipSizeError(self.arch, self.fixed, self.shape, source)


def adapt_video_model(model: nn.Module, arch: str) -> None:
    """s3d: global average pooling instead of its fixed 2x7x7 window (identical on the
    16x224x224 clips it was trained on; defined for smaller ones)."""
    if arch == "s3d":
        model.avgpool = nn.AdaptiveAvgPool3d(1)
