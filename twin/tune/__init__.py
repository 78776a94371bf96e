"""Layout tuning: Optuna searches a plant's `tune` variables, evaluating each batch of K
candidates as K x M lanes of one engine run (see docs/tuning.md).

>>> from twin.tune import Settings, Tuner, finish
>>> tuner = Tuner("configs/houston-tune.yaml", Settings(trials=32, batch=8))  # doctest: +SKIP
>>> tuner.run()                                                             # doctest: +SKIP
>>> report = finish(tuner)  # re-runs the best, writes the result files  # doctest: +SKIP
"""

from twin.tune.results import finish, print_report
from twin.tune.study import Outcome, Settings, Tuner

__all__ = ["Outcome", "Settings", "Tuner", "finish", "print_report"]
