"""Triplets for training and evaluation: embedded clips, standard datasets, synthetic motion."""

from rife_core.data.augment import AugmentConfig, augment
from rife_core.data.frames import DataError
from rife_core.data.spec import DataSpec, MixedTriplets, load, parse_spec
from rife_core.data.triplets import SPLITS, Triplet

__all__ = [
    "SPLITS",
    "AugmentConfig",
    "DataError",
    "DataSpec",
    "MixedTriplets",
    "Triplet",
    "augment",
    "load",
    "parse_spec",
]
