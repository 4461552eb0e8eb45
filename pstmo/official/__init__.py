"""The official P-STMO code, as facts (no code of it is copied here):

- :mod:`~pstmo.official.weights`  official checkpoints <-> pstmo models (names, layouts)
- :mod:`~pstmo.official.recipes`  the official README's training commands, as data
- :mod:`~pstmo.official.verify`   equivalence with an official fixture (forward pass, training step)
- :mod:`~pstmo.official.code`     the bridge to a user's own clone of the official code, by path
"""
