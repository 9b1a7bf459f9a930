"""The Keras layers TL Studio's models contain, and the one safe loader of `.keras` files that knows them."""

from tlcore.layers.loading import BadModelFile

__all__ = ["BadModelFile"]
