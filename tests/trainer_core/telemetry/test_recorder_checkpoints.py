"""checkpoint_saved events carry the checkpoint callback's own state (the studio's Checkpoints tab reads it)."""

from types import SimpleNamespace

from trainer_core.telemetry import EventRecorder


def test_checkpoint_events_name_mode_best_file_and_a_rewritten_last_file_again(tmp_path):
    seen = []
    recorder = EventRecorder(sink=seen.append, run_id="r1", mode="fit", write_file=False)
    callback = SimpleNamespace(monitor="val_acc", mode="max", current_score=0.9,
                               best_model_path=str(tmp_path / "epoch=2.ckpt"))
    trainer = SimpleNamespace(checkpoint_callbacks=[callback], current_epoch=2, global_step=30)
    recorder.on_checkpoint_saved(trainer, None, str(tmp_path / "epoch=2.ckpt"))
    recorder.on_checkpoint_saved(trainer, None, str(tmp_path / "last.ckpt"))
    trainer.current_epoch, trainer.global_step = 7, 80
    recorder.on_checkpoint_saved(trainer, None, str(tmp_path / "last.ckpt"))  # rewritten: reported again
    recorder.on_checkpoint_saved(trainer, None, str(tmp_path / "epoch=2.ckpt"))  # same file: once is enough
    saved = [e for e in seen if e["type"] == "checkpoint_saved"]
    assert [(e["kind"], e["epoch"], e["step"]) for e in saved] == [("checkpoint", 2, 30), ("last", 2, 30),
                                                                   ("last", 7, 80)]
    assert all(e["mode"] == "max" and e["monitor"] == "val_acc" for e in saved)
    assert saved[-1]["best_path"] == str(tmp_path / "epoch=2.ckpt")
