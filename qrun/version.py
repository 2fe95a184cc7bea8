"""qrun's version, apart from the package's facade so that any module may read it without importing the rest."""

__version__ = "0.1.0"
