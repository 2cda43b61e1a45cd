"""The weights summary table: Lightning 1.5's numbers, human-readable counts, in/out sizes and layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainer_core.utilities.model_summary import get_human_readable_count, precision_to_bits, summarize


def _reference_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(256, 512), nn.BatchNorm1d(512))


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0  "),
        (123, "123  "),
        (999, "999  "),
        (1000, "1.0 K"),
        (1234, "1.2 K"),
        (1024, "1.0 K"),
        (99_000, "99.0 K"),
        (131_584, "131 K"),
        (132_608, "132 K"),
        (2_000_000, "2.0 M"),
        (123_456_789, "123 M"),
        (3_500_000_000, "3.5 B"),
        (400 * 10**12, "400 T"),
        (5000 * 10**12, "5,000 T"),
        (12_345 * 10**12, "12,345 T"),
    ],
)
def test_human_readable_counts(count: int, text: str) -> None:
    assert get_human_readable_count(count) == text


def test_human_readable_rejects_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        get_human_readable_count(-1)


def test_reference_example_numbers() -> None:
    table = summarize(_reference_net())
    assert table.total_parameters == 132_608
    assert table.trainable_parameters == 132_608
    assert table.non_trainable_parameters == 0
    assert round(table.model_size_mb, 3) == 0.530
    rows = table.rows()
    assert [(r["name"], r["type"], r["params"]) for r in rows] == [("0", "Linear", 131_584), ("1", "BatchNorm1d", 1024)]
    assert rows[0]["in_sizes"] is None  # no example_input_array


def test_reference_example_text_exactly() -> None:
    text = str(summarize(_reference_net()))
    rule = "-" * 37  # widths 1 + 4 + 11 + 6 = 22, plus 3 x (4 + 1)
    assert text.splitlines() == [
        "  | Name | Type        | Params",
        rule,
        "0 | 0    | Linear      | 131 K ",
        "1 | 1    | BatchNorm1d | 1.0 K ",
        rule,
        "132 K     Trainable params",
        "0         Non-trainable params",
        "132 K     Total params",
        "0.530     Total estimated model params size (MB)",
    ]


def test_non_trainable_and_precision_size() -> None:
    net = _reference_net()
    for param in net[0].parameters():
        param.requires_grad_(False)
    table = summarize(net, precision="16-mixed")
    assert table.trainable_parameters == 1024
    assert table.non_trainable_parameters == 131_584
    assert table.precision_bits == 16
    assert f"{table.model_size_mb:.3f}" == "0.265"
    assert "131 K     Non-trainable params" in str(table)


@pytest.mark.parametrize(("precision", "bits"), [(None, 32), (32, 32), (16, 16), ("bf16", 16), ("64-true", 64),
                                                 ("bf16-mixed", 16), ("32-true", 32)])
def test_precision_bits(precision: object, bits: int) -> None:
    assert precision_to_bits(precision) == bits  # type: ignore[arg-type]


class _Nested(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.decoder = nn.Linear(8, 2)
        self.unused = nn.Linear(3, 3)
        self.example_input_array = torch.zeros(5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def test_depths_pick_rows() -> None:
    model = _Nested()
    assert [r["name"] for r in summarize(model, max_depth=1).rows()] == ["encoder", "decoder", "unused"]
    full = [r["name"] for r in summarize(model, max_depth=-1).rows()]
    assert full == ["encoder", "encoder.0", "encoder.1", "decoder", "unused"]
    assert [r["name"] for r in summarize(model, max_depth=2).rows()] == full
    assert summarize(model, max_depth=0).rows() == []
    with pytest.raises(ValueError, match="max_depth"):
        summarize(model, max_depth=-2)


def test_params_include_children() -> None:
    rows = {r["name"]: r for r in summarize(_Nested(), max_depth=-1).rows()}
    assert rows["encoder"]["params"] == 4 * 8 + 8
    assert rows["encoder.1"]["params"] == 0


def test_in_out_sizes_and_unused_layer() -> None:
    model = _Nested()
    model.train()
    table = summarize(model, max_depth=-1)
    rows = {r["name"]: r for r in table.rows()}
    assert rows["encoder"]["in_sizes"] == [5, 4]
    assert rows["encoder.0"]["out_sizes"] == [5, 8]
    assert rows["decoder"]["out_sizes"] == [5, 2]
    assert rows["unused"]["in_sizes"] == "?"
    assert rows["unused"]["out_sizes"] == "?"
    assert model.training, "the summary must restore train mode after its eval forward"
    lines = str(table).splitlines()
    assert lines[0].split(" | ")[-2:] == ["In sizes", "Out sizes"]
    assert lines[2].endswith("| [5, 4]   | [5, 8]   ")
    unused = next(line for line in lines if "unused" in line)
    assert unused.split("|")[-2:] == [" ?        ", " ?        "]
    # Every body line is as wide as the header; the rule is sum(widths) + 3 x (columns + 1).
    widths = [len(cell) for cell in lines[0].split(" | ")]
    widths[-1] = max(len(line.split(" | ")[-1]) for line in lines[2:7])
    assert len(lines[1]) == sum(widths) + 3 * (6 + 1)


class _TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mix = _Mixer()
        self.example_input_array = (torch.zeros(2, 3), torch.zeros(2, 3))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.mix(a, b, "label")


class _Mixer(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor, label: str) -> tuple[torch.Tensor, str]:
        return a + b, label


def test_tuple_example_and_non_tensor_values() -> None:
    row = summarize(_TwoInputs()).rows()[0]
    assert row["in_sizes"] == [[2, 3], [2, 3], "?"]
    assert row["out_sizes"] == [[2, 3], "?"]


def test_dict_example_and_double_model() -> None:
    class Keyword(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Linear(3, 1)
            self.example_input_array = {"x": torch.zeros(4, 3)}

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer(x)

    model = Keyword().double()  # the example (float32) is cast to the model's dtype, as precision=64 needs
    assert summarize(model).rows()[0]["out_sizes"] == [4, 1]


def test_lazy_parameters_count_zero_with_warning() -> None:
    model = nn.Sequential(nn.LazyLinear(4))
    with pytest.warns(UserWarning, match="lazy"):
        table = summarize(model)
    assert table.total_parameters == 0


def test_to_dict_is_plain_data() -> None:
    data = summarize(_Nested()).to_dict()
    assert data["total_params"] == 40 + 18 + 12
    assert data["rows"][0] == {"name": "encoder", "type": "Sequential", "params": 40, "in_sizes": [5, 4],
                               "out_sizes": [5, 8]}


def test_failing_example_forward_warns_and_shows_unknown_sizes() -> None:
    class Picky(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Linear(4, 4)
            self.second = nn.Linear(5, 1)  # wrong width: the example forward fails here
            self.example_input_array = torch.zeros(2, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.second(self.first(x))

    with pytest.warns(UserWarning, match="example_input_array"):
        rows = summarize(Picky()).rows()
    assert rows[0]["out_sizes"] == [2, 4]
    assert rows[1]["in_sizes"] == "?" and rows[1]["out_sizes"] == "?"


def test_1x_utility_name() -> None:
    from trainer_core.utilities.model_summary import ModelSummary

    assert ModelSummary(_reference_net(), max_depth=1).total_parameters == 132_608
