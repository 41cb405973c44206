"""Reference features for bench/features: writes <out>/<name>.<preset>.npy for each WAV given,
using the same reference code as the golden fixtures (test/fixtures/make-golden.py).
Usage: /usr/bin/python3 bench/reference_features.py OUT_DIR a.wav b.wav ..."""
import importlib.util
import os
import sys

import numpy as np

spec = importlib.util.spec_from_file_location('golden', os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'make-golden.py'))
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)

out = sys.argv[1]
for path in sys.argv[2:]:
    name = os.path.splitext(os.path.basename(path))[0]
    audio = golden.read_wav(path)
    np.save(f'{out}/{name}.whisper-80.npy', golden.whisper_log_mel(audio, 80))
    np.save(f'{out}/{name}.whisper-128.npy', golden.whisper_log_mel(audio, 128))
    np.save(f'{out}/{name}.kaldi-fbank-80.npy', golden.kaldi_fbank(audio))
    np.save(f'{out}/{name}.kaldi-fbank-80.f64.npy', golden.kaldi_fbank_f64(audio))
