"""Sections and charts of the metric grid."""

from __future__ import annotations

from studio.models.metric_groups import STAGE_SECTION, group_charts


def charts_of(names):
    return {(c.section, c.title): c.series for c in group_charts(names)}


def test_train_and_val_of_one_quantity_share_a_chart():
    charts = charts_of(["train_loss", "val_loss", "train/acc", "val/acc", "val_f1"])
    assert charts[(STAGE_SECTION, "loss")] == ["train_loss", "val_loss"]
    assert charts[(STAGE_SECTION, "acc")] == ["train/acc", "val/acc"]
    assert charts[(STAGE_SECTION, "val_f1")] == ["val_f1"]  # alone: titled by its own name


def test_sections_by_slash_then_underscore_prefix():
    names = ["grad_2.0_norm/enc.weight", "grad_2.0_norm/enc.weight_step", "grad_2.0_norm_total", "lr-SGD",
             "gpu_util", "gpu_mem"]
    charts = charts_of(names)
    assert charts[("grad_2.0_norm", "enc.weight")] == ["grad_2.0_norm/enc.weight", "grad_2.0_norm/enc.weight_step"]
    assert charts[("grad_2.0_norm", "grad_2.0_norm_total")] == ["grad_2.0_norm_total"]  # joins the "/" section
    assert ("gpu", "gpu_util") in charts and ("gpu", "gpu_mem") in charts
    assert charts[("other", "lr-SGD")] == ["lr-SGD"]


def test_train_val_section_comes_first_and_other_last():
    sections = [c.section for c in group_charts(["lr", "gpu_util", "val_loss"])]
    assert sections == [STAGE_SECTION, "gpu", "other"]


def test_a_chart_keeps_its_key_when_it_gains_a_series():
    (alone,) = group_charts(["val_acc"])
    (pair,) = group_charts(["val_acc", "train_acc"])
    assert alone.key == pair.key and pair.series == ["train_acc", "val_acc"]


def test_key_labels_name_what_tells_the_series_apart_in_whole_words():
    from studio.models.metric_groups import short_labels

    assert short_labels(["grad_2.0_norm/enc.weight_step", "grad_2.0_norm/enc.weight_epoch"]) == ["step", "epoch"]
    assert short_labels(["grad/w", "grad/w_step", "grad/w_epoch"]) == ["as logged", "step", "epoch"]
    assert short_labels(["loss_a1", "loss_a2"]) == ["a1", "a2"]  # not "1" and "2"
    assert short_labels(["train_loss", "val_loss"]) == ["train_loss", "val_loss"]


def test_an_underscore_prefix_groups_but_the_chart_keeps_the_whole_name():
    """A GAN's g_loss and d_loss were two charts both titled "loss" (only the collapsed section said which)."""
    charts = charts_of(["g_loss", "d_loss", "g_loss_step"])
    assert charts[("g", "g_loss")] == ["g_loss", "g_loss_step"]
    assert charts[("d", "d_loss")] == ["d_loss"]
