"""calmly: a declarative workflow engine for social-media complaints and incidents."""

from engine import _compiled

__version__ = "0.1.0"

_compiled.install()  # before any module of the runtime is imported: it runs compiled where built and current
