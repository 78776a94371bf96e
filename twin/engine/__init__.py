"""The engine: one exact event loop per lane, compiled from one Python source for the CPU
(Numba, a ``prange`` over lanes on every core) and for NVIDIA GPUs (numba-cuda, a thread per
lane).

Its contract is small: ``lane.init`` builds a lane at time 0 and ``lane.advance`` applies its
events due by a time, stopping early with a flag when the host must act (grow a ring buffer or
the store of cycle times, take trace rows) or when it deadlocks. ``layout`` declares every field
of the state and the parameters, ``codes`` every status, stream and column code; the handlers
are by feature: ``flow`` (arrivals, starts, completions, moves, blocking), ``servers`` (status
changes, processing, failures and repairs, profile steps, power grants), ``power`` (draws,
heat, demand bins, the cap's queue), ``pools`` (units and shifts), ``vehicles`` (fleets,
batteries, chargers), ``clock`` (the event tree), ``rng`` (random numbers), ``recorder`` (the
trace). ``kernels`` and ``gpu`` are the compiled entry points; ``jit`` the decorator of one
source, two targets.
"""
