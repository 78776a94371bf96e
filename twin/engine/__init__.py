"""The exact, event-stepped engine, vectorized over lanes and written once against ``xp``.

``core`` holds the pure pair ``init(xp, params) -> state`` and ``step(xp, params, state)``;
``loop`` runs steps until every lane has reached its horizon, growing buffers and checking
invariants between blocks of steps.
"""
