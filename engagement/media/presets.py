"""The only sizes the resize endpoint serves: a signed URL names one of these, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

FITS = ("cover", "inside")
FORMATS = {"jpg": "image/jpeg", "webp": "image/webp", "png": "image/png"}


@dataclass(frozen=True)
class Preset:
    """A variant's box: ``cover`` crops to fill width x height, ``inside`` keeps the ratio within it."""

    name: str
    width: int
    height: int | None
    fit: str
    quality: int = 70

    def params(self) -> dict[str, str]:
        """The query parameters naming this preset (``h`` left out when the height is free)."""
        params = {"w": str(self.width), "fit": self.fit, "q": str(self.quality)}
        if self.height is not None:
            params["h"] = str(self.height)
        return params


PRESETS: dict[str, Preset] = {preset.name: preset for preset in (
    Preset("thumbnail", 160, 160, "cover"),
    Preset("card", 400, 225, "cover"),
    Preset("card_2x", 800, 450, "cover"),
    Preset("hero_small", 640, 360, "cover"),
    Preset("hero", 1200, 675, "cover"),
    Preset("og", 1200, 630, "cover"),  # Open Graph: the picture of a shared link
    Preset("placeholder", 20, None, "inside", quality=50),
)}

#: The widths a ``srcset`` offers, smallest first.
FAMILIES: dict[str, tuple[str, ...]] = {
    "card": ("card", "card_2x"),
    "hero": ("hero_small", "hero"),
    "thumbnail": ("thumbnail",),
}


def find(params: dict[str, str]) -> Preset | None:
    """The preset ``params`` (w, h, fit, q) name exactly, or None."""
    for preset in PRESETS.values():
        if preset.params() == params:
            return preset
    return None


def box(preset: Preset, width: int, height: int) -> tuple[int, int]:
    """The size of ``preset``'s variant of a ``width`` x ``height`` image: never larger than the image.

    A cover variant of a smaller image keeps the preset's ratio (the largest such crop the image holds)."""
    if preset.fit == "cover":
        assert preset.height is not None
        scale = min(width / preset.width, height / preset.height, 1.0)
        return max(1, round(preset.width * scale)), max(1, round(preset.height * scale))
    scale = min(preset.width / width, (preset.height or height) / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))
