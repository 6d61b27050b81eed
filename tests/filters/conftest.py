"""Make ``h5swmr`` resolve to this tree's ``src`` while the branch lacks ``src/h5swmr/__init__.py``.

An editable install of another checkout puts its ``src`` on ``sys.path``; its regular package would
shadow this tree's namespace package even with ``PYTHONPATH=src``. Putting this tree first in the
package's ``__path__`` makes every ``h5swmr.*`` submodule load from here. Once this tree has its own
``__init__.py`` (and ``PYTHONPATH=src``), ``h5swmr`` already comes from here and this does nothing.
"""

from __future__ import annotations

from pathlib import Path

import h5swmr

_PACKAGE = str(Path(__file__).resolve().parents[2] / "src" / "h5swmr")

if _PACKAGE not in h5swmr.__path__:
    h5swmr.__path__.insert(0, _PACKAGE)
