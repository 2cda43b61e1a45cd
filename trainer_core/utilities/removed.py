"""Messages for 1.x names that Lightning itself removed before 1.5, so old scripts learn where they went."""

__all__ = ["METRICS_REMOVED"]

METRICS_REMOVED = (
    "pytorch_lightning.metrics was removed in Lightning 1.5 (deprecated since 1.3); its metrics live on in "
    "torchmetrics, which is installed: `import torchmetrics` and use e.g. "
    "`torchmetrics.Accuracy(task=\"multiclass\", num_classes=N)` instead of `pl.metrics.Accuracy()` "
    "(torchmetrics 0.11 and later need `task=`); `self.log` takes torchmetrics objects as 1.5 did."
)
