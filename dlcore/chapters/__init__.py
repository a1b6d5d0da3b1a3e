"""The chapter layer: the numbers each chapter shows, computed with numpy and nothing else.

One module per chapter (``dlcore.chapters.ch01`` … ``ch08``) holds the chapter's tables, runs
and sweeps, built on the numpy core (:mod:`dlcore.nn`, :mod:`dlcore.train`, :mod:`dlcore.optim`,
…). The claims tests (``tests/test_chNN_claims.py``) import these modules and no plotting library.
Figures and controls live one layer up in :mod:`dlcore.explorers`, which import from here;
nothing here imports an explorer, and no chapter module imports another chapter's module (what
two chapters share lives in :mod:`dlcore.chapters._shared`).

Shipped data files and the commands that rebuild them:

* ``dlcore/data/ch06_sweep.npz``: ``python -m dlcore.chapters.ch06 --rebuild-sweep`` (``make data``).
"""
