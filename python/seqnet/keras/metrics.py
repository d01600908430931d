"""Keras metric names seqnet computes (pass them to compile(metrics=[...]))."""

NAMES = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy", "mse",
         "mean_squared_error", "mae", "mean_absolute_error")


def serialize(metric):
    if isinstance(metric, str):
        if metric not in NAMES:
            raise ValueError(f"unknown metric '{metric}'; expected one of {', '.join(NAMES)}")
        return metric
    raise TypeError(f"a metric must be a name, got {type(metric).__name__}")
