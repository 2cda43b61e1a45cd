"""`self.log` of a per-step scalar takes a short path on repeated calls; what it records is the full path's.

The short path is checked against a ResultCollection that always takes the full path, over call sequences that
change an option, the value's form or the dataloader between calls.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from trainer_core import MisconfigurationError
from trainer_core.trainer import results as results_module
from trainer_core.trainer.results import ResultCollection


class _FullPathOnly(ResultCollection):
    """The reference: forgets every remembered per-step name before each call."""

    def log(self, *args: Any, **kwargs: Any) -> None:
        self._step_only.clear()
        super().log(*args, **kwargs)


def _collection(cls: type[ResultCollection] = ResultCollection) -> ResultCollection:
    results = cls("train")
    results.callback_metrics, results.progress_bar_tensors = {}, {}
    return results


def _log(results: ResultCollection, name: str, value: Any, fx: str = "training_step", **options: Any) -> None:
    kwargs: dict[str, Any] = dict(prog_bar=False, logger=True, on_step=None, on_epoch=None, reduce_fx="mean",
                                  enable_graph=False, sync_dist=False, add_dataloader_idx=True, batch_size=None)
    kwargs.update(options)
    results.log(fx, name, value, **kwargs)


def _state(results: ResultCollection) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return (value.item(), value.requires_grad)
        if isinstance(value, dict):
            return {key: plain(entry) for key, entry in value.items()}
        if isinstance(value, list):
            return [plain(entry) for entry in value]
        return value

    return {
        "callback": plain(results.callback_metrics),
        "bar": plain(results.progress_bar_tensors),
        "fresh": plain(results.fresh_step_metrics()),
        "metrics": {key: (m.name, m.on_step, m.on_epoch, m.prog_bar, plain(m.step_value), m.step_serial,
                          plain(m.values), m.sizes, sorted(m.dataloaders)) for key, m in results.metrics.items()},
        "epoch": [(m.name, plain(v)) for m, v in results.epoch_metrics()],
    }


def _loss(value: float) -> torch.Tensor:
    return torch.tensor(float(value), requires_grad=True) * 1.0


# Each step: (batch number, name, value, hook, options, dataloader_idx).
_SEQUENCES: dict[str, list[tuple[int, str, Any, str, dict[str, Any], int | None]]] = {
    "same options every step": [(i, "loss", _loss(i), "training_step", {}, None) for i in range(4)],
    "prog_bar and graph kept": [(i, "loss", _loss(i), "training_step", {"prog_bar": True, "enable_graph": True},
                                 None) for i in range(3)],
    "on_epoch switched on later": [(0, "loss", _loss(1), "training_step", {}, None),
                                   (1, "loss", _loss(2), "training_step", {}, None),
                                   (2, "loss", _loss(3), "training_step", {"on_epoch": True}, None),
                                   (3, "loss", _loss(4), "training_step", {}, None)],
    "forked first, then step only": [(0, "acc", torch.tensor(0.5), "training_step", {"on_epoch": True}, None),
                                     (1, "acc", torch.tensor(0.7), "training_step", {"on_epoch": False}, None),
                                     (2, "acc", torch.tensor(0.9), "training_step", {"on_epoch": False}, None)],
    "values change form": [(0, "x", torch.tensor(1.0), "training_step", {}, None),
                           (1, "x", torch.tensor([2.0]), "training_step", {}, None),
                           (2, "x", 3.0, "training_step", {}, None),
                           (3, "x", torch.tensor(4.0), "training_step", {}, None),
                           (4, "x", torch.nn.Parameter(torch.tensor(5.0)), "training_step", {}, None)],
    "another hook, same name": [(0, "m", torch.tensor(1.0), "training_step", {}, None),
                                (0, "m", torch.tensor(2.0), "on_train_batch_end", {}, None),
                                (1, "m", torch.tensor(3.0), "training_step", {}, None),
                                (1, "m", torch.tensor(4.0), "on_train_batch_end", {}, None)],
    "reduce name spelled differently": [(0, "s", torch.tensor(1.0), "training_step", {"reduce_fx": "mean"}, None),
                                        (1, "s", torch.tensor(2.0), "training_step", {"reduce_fx": torch.mean},
                                         None),
                                        (2, "s", torch.tensor(3.0), "training_step", {"reduce_fx": "avg"}, None)],
    "dataloader index appears": [(0, "v", torch.tensor(1.0), "validation_step", {"on_step": True, "on_epoch": False},
                                  None),
                                 (1, "v", torch.tensor(2.0), "validation_step", {"on_step": True, "on_epoch": False},
                                  0),
                                 (2, "v", torch.tensor(3.0), "validation_step", {"on_step": True, "on_epoch": False},
                                  1)],
}


@pytest.mark.parametrize("sequence", list(_SEQUENCES), ids=list(_SEQUENCES))
def test_repeated_step_logs_record_what_the_full_path_records(sequence: str) -> None:
    fast, reference = _collection(), _collection(_FullPathOnly)
    for results in (fast, reference):
        results.num_dataloaders = 2
        for batch, name, value, fx, options, dl_idx in _SEQUENCES[sequence]:
            results.batch_serial = batch + 1
            results.dataloader_idx = dl_idx
            _log(results, name, value, fx, **options)
    assert _state(fast) == _state(reference)


def test_a_repeated_step_log_skips_resolving_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = []
    original = results_module.hook_log_defaults
    monkeypatch.setattr(results_module, "hook_log_defaults", lambda *a: resolved.append(a) or original(*a))
    results = _collection()
    for batch in range(5):
        results.batch_serial = batch + 1
        _log(results, "loss", _loss(batch), prog_bar=True)
    assert len(resolved) == 1  # the first call only
    latest = results.callback_metrics["loss"]
    assert latest.item() == 4.0 and not latest.requires_grad
    assert results.progress_bar_tensors["loss"] is latest
    assert results.fresh_step_metrics() == {"loss": latest}


def test_a_bad_option_on_a_later_call_is_still_an_error() -> None:
    results = _collection()
    _log(results, "loss", _loss(1.0))
    with pytest.raises(MisconfigurationError, match="reduce_fx"):
        _log(results, "loss", _loss(2.0), reduce_fx="median")
    with pytest.raises(MisconfigurationError, match="on_step=False, on_epoch=False"):
        _log(results, "loss", _loss(2.0), on_step=False, on_epoch=False)


def test_reset_forgets_the_remembered_names() -> None:
    results = _collection()
    _log(results, "loss", _loss(1.0))
    results.reset()
    results.batch_serial = 2
    _log(results, "loss", _loss(2.0))
    assert list(results.metrics) == ["training_step.loss"]
    assert results.fresh_step_metrics()["loss"].item() == 2.0
