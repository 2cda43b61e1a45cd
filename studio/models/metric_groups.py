"""How the metric grid groups logged names into sections and charts (pure rules, no Qt).

- A *section* is the part before the first ``/`` (``grad_2.0_norm/layer.weight`` -> ``grad_2.0_norm``, chart
  ``layer.weight``), else the part before the first ``_`` (``g_loss`` -> ``g``, chart ``g_loss``: an ``_`` prefix
  only groups, the chart keeps the whole name); a name that starts with a ``/`` section's name plus ``_`` joins that
  section (``grad_2.0_norm_total`` sits with the per-layer norms). Names without a separator go to ``other``.
- Stage prefixes (``train``, ``val``, ``test``, ...) are one section, ``train / val``: the same quantity logged for
  two stages (``train_loss`` and ``val_loss``, or ``train/acc`` and ``val/acc``) shares one chart, as users
  compare them.
- ``_step``/``_epoch`` suffixes (one value logged both per step and per epoch) share the chart of their quantity.

Examples:
    >>> [(c.section, c.title, c.series) for c in group_charts(["train_loss", "val_loss", "lr"])]
    [('train / val', 'loss', ['train_loss', 'val_loss']), ('other', 'lr', ['lr'])]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["STAGE_SECTION", "Chart", "chart_key", "follows_a_schedule", "group_charts", "sections_of", "short_labels"]

STAGES = ("train", "training", "val", "valid", "validation", "test", "predict")
STAGE_SECTION = "train / val"
OTHER_SECTION = "other"
_SUFFIXES = ("_step", "_epoch")


@dataclass
class Chart:
    """One chart of the grid: its section, quantity and the series it draws (train before val before test)."""

    section: str
    quantity: str
    series: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """A stable id (section and quantity) that does not change when a chart gains a series."""
        return f"{self.section}\x00{self.quantity}"

    @property
    def title(self) -> str:
        """The chart's heading: the quantity, or a lone train/val series under its own name (``val_acc``)."""
        if len(self.series) == 1 and self.section == STAGE_SECTION:
            return self.series[0]
        return self.quantity


_SCHEDULE_NAMES = ("lr", "learning_rate", "momentum")


def follows_a_schedule(name: str) -> bool:
    """True for a learning rate or momentum the trainer set (LearningRateMonitor's ``lr-Adam``, ``lr-SGD/pg1``,
    ``momentum-Adam``; a logged ``lr`` or ``train/learning_rate``): drawn as it is, since an EMA of a schedule lags it
    (10x at the end of a decaying one) and reads as a different schedule.

    Examples:
        >>> [follows_a_schedule(n) for n in ("lr-AdamW", "lr-SGD/pg1", "train/lr", "val_loss", "lr_finder_loss")]
        [True, True, True, False, False]
    """
    leaf = name.rsplit("/", 1)[-1] if not name.startswith(("lr-", "momentum-")) else name
    return leaf in _SCHEDULE_NAMES or leaf.startswith(("lr-", "momentum-"))


def _strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def chart_key(name: str, slash_sections: set[str] | frozenset[str] = frozenset()) -> tuple[str, str]:
    """The (section, chart title) of metric ``name``; ``slash_sections`` are the ``/`` prefixes seen in the run."""
    base = _strip_suffix(name)
    if "/" in base:
        head, _, rest = base.partition("/")
    else:
        owner = max((s for s in slash_sections if base.startswith(s + "_") and s.lower() not in STAGES),
                    key=len, default=None)
        if owner is not None:
            return owner, base
        head, sep, rest = base.partition("_")
        if not sep or not rest:
            return OTHER_SECTION, base
        if head.lower() not in STAGES:
            # An ``_`` prefix only groups; the chart keeps the whole name (a GAN's ``g_loss`` and ``d_loss`` are
            # not two charts titled "loss"), as TensorBoard and W&B title a chart by its full tag.
            return head, base
    if head.lower() in STAGES:
        return STAGE_SECTION, rest
    return head, rest


def _stage_rank(name: str) -> int:
    head = name.replace("/", "_").split("_", 1)[0].lower()
    return STAGES.index(head) if head in STAGES else len(STAGES)


def group_charts(names: list[str]) -> list[Chart]:
    """Charts for ``names`` (first-seen order of sections and charts; the train/val section first)."""
    slash = {_strip_suffix(n).partition("/")[0] for n in names if "/" in n}
    charts: dict[tuple[str, str], Chart] = {}
    for name in names:
        section, title = chart_key(name, slash)
        chart = charts.get((section, title))
        if chart is None:
            chart = charts[(section, title)] = Chart(section, title)
        chart.series.append(name)
    out = list(charts.values())
    for chart in out:
        chart.series.sort(key=_stage_rank)
    order = sections_of(out)
    out.sort(key=lambda c: order.index(c.section))
    return out


def short_labels(series: list[str]) -> list[str]:
    """Key labels for a chart's series: what tells them apart (``_step``/``_epoch``), the full names otherwise.

    The shared start is dropped up to its last ``_`` or ``/``, so the labels stay whole words.

    Examples:
        >>> short_labels(["grad/w", "grad/w_step", "grad/w_epoch"])
        ['as logged', 'step', 'epoch']
        >>> short_labels(["grad/w_step", "grad/w_epoch"])
        ['step', 'epoch']
        >>> short_labels(["train_loss", "val_loss"])
        ['train_loss', 'val_loss']
        >>> short_labels(["loss_a1", "loss_a2"])
        ['a1', 'a2']
    """
    if len(series) < 2:
        return list(series)
    common = os.path.commonprefix(series)
    if common and any(name == common for name in series):
        return [name[len(common):].lstrip("_/") or "as logged" for name in series]
    cut = max(common.rfind("_"), common.rfind("/")) + 1
    if cut == 0:
        return list(series)
    return [name[cut:] for name in series]


def sections_of(charts: list[Chart]) -> list[str]:
    """Section names in display order: train / val first, other last, the rest as first seen."""
    seen: list[str] = []
    for chart in charts:
        if chart.section not in seen:
            seen.append(chart.section)
    return sorted(seen, key=lambda s: (s != STAGE_SECTION, s == OTHER_SECTION, seen.index(s)))
