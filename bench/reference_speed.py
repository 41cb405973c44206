"""Speed of the Python reference front ends on one WAV, for bench/features: openai/whisper's
log_mel_spectrogram algorithm (torch.stft, cached mel filters) and torchaudio.compliance.kaldi.fbank.
One thread; median of RUNS timed runs after 2 warm-ups. Prints JSON {name: seconds}.
Usage: /usr/bin/python3 bench/reference_speed.py audio.wav RUNS"""
import importlib.util
import json
import os
import statistics
import sys
import time

import torch
import torchaudio

spec = importlib.util.spec_from_file_location('golden', os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'make-golden.py'))
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)

torch.set_num_threads(1)
audio = golden.read_wav(sys.argv[1])
runs = int(sys.argv[2])
window = torch.hann_window(400)
filters = torch.from_numpy(golden.mel_librosa(16000, 400, 80))  # whisper caches these (lru_cache)


def whisper_log_mel():
    stft = torch.stft(audio, 400, 160, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    log_spec = torch.clamp(filters @ magnitudes, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def kaldi_fbank():
    return torchaudio.compliance.kaldi.fbank(audio.unsqueeze(0) * 32768, num_mel_bins=80, dither=0.0)


out = {}
for name, fn in [('whisper-80', whisper_log_mel), ('kaldi-fbank-80', kaldi_fbank)]:
    for _ in range(2):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    out[name] = statistics.median(ts)
print(json.dumps(out))
