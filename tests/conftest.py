import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One intra-op thread per test process: tiny models gain nothing from more, and on a shared 2-core machine extra
# threads only fight each other (an LSTM loop took 48 s with the default threads and 1.5 s with one).
os.environ.setdefault("OMP_NUM_THREADS", "1")
