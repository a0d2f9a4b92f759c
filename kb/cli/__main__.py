"""``python -m kb.cli``: the same command line as the ``kb`` console script."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    main()
