"""The exact, event-stepped engine, vectorized over lanes and written once against ``xp``.

``core`` holds the pair ``init`` / ``step`` of the event-stepped engine; ``serial`` the exact
max-plus fast path for lines of single servers; ``rng`` the counter-based random numbers and
inverse-CDF samplers; ``loop`` picks the method and runs steps until every lane has reached its
horizon, growing buffers and checking for overload and deadlock between blocks of steps.
"""
