import logging
import sys
import warnings

from studio.worker.streams import capture_output


def test_prints_warnings_and_logging_become_events():
    seen = []
    before = sys.stdout
    with capture_output(lambda level, stream, text: seen.append((level, stream, text))):
        print("hello")
        print("partial", end="")
        sys.stderr.write("oops\n")
        warnings.warn("careful", UserWarning, stacklevel=1)
        logging.getLogger("user").warning("logged")
    assert sys.stdout is before
    assert ("info", "stdout", "hello") in seen
    assert ("info", "stdout", "partial") in seen  # flushed on exit
    assert ("stderr", "stderr", "oops") in seen
    assert any(level == "warning" and "UserWarning: careful" in text for level, _, text in seen)
    assert ("warning", "logging", "user: logged") in seen
