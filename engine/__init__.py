"""calmly: a declarative workflow engine for social-media complaints and incidents."""

__version__ = "0.1.0"
