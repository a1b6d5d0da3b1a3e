"""Interactive explorers, one per chapter (matplotlib + ipywidgets; imported only on demand).

Each is one call in its notebook, e.g. ``loss_surface_explorer()``; see :mod:`dlcore.explorers.base`.
"""
