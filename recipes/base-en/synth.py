"""Stage 2 of the base-en recipe: execute $WORK/jobs.jsonl (written by prepare.ts). Each job becomes
$WORK/audio/<split>/<id>.wav (16-bit, the engine's own rate): TTS with the job's voice, rate and
pitch, or a Kathleen recording (sox speed perturbation), then gain and optional noise at the job's
SNR. Resumable: finished files are skipped; each is written to a temporary name and renamed.
At the end writes NeMo-style manifests $WORK/manifests/<source>-<split>.jsonl
({"audio_filepath", "text", "duration", "speaker", "accent"}) and train.jsonl (all training sources).
Usage: /usr/bin/python3 recipes/base-en/synth.py --work DIR [--workers 2]
Needs: apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k sox python3-numpy
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from multiprocessing import Pool

import numpy as np


def read_wav(path):
    with wave.open(path, 'rb') as w:
        assert w.getsampwidth() == 2, path
        rate, ch = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float32) / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, rate


def write_wav(path, x, rate):
    tmp = f'{path}.tmp{os.getpid()}'
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype('<i2')
    with wave.open(tmp, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def noise(kind, n, rate, rng):
    if kind == 'white':
        return rng.standard_normal(n)
    if kind == 'pink':  # 1/f power: shape white noise by 1/sqrt(f)
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / rate)
        spec[1:] /= np.sqrt(f[1:] / f[1])
        return np.fft.irfft(spec, n)
    if kind == 'brown':
        x = np.cumsum(rng.standard_normal(n))
        return x - np.convolve(x, np.ones(801) / 801, mode='same')  # remove the drift
    base = rng.choice([50.0, 60.0])  # mains hum with harmonics and a little hiss
    t = np.arange(n) / rate
    return sum(np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 8)) + 0.05 * rng.standard_normal(n)


def tts(job, out_wav):
    e, v, text = job['engine'], job['voice'], job['text']
    if e == 'espeak':
        subprocess.run(['espeak-ng', '-v', v, '-s', str(job['rate']), '-p', str(job['pitch']), '-w', out_wav, text], check=True, capture_output=True)
    elif e == 'flite':
        subprocess.run(['flite', '-voice', v, '--setf', f"duration_stretch={job['rate']:.3f}", '-t', text, '-o', out_wav], check=True, capture_output=True)
    else:
        subprocess.run(['text2wave', '-eval', f'(voice_{v})', '-eval', f"(Parameter.set 'Duration_Stretch {job['rate']:.3f})", '-o', out_wav],
                       input=text.encode(), check=True, capture_output=True)


def run_job(args):
    job, work = args
    out = os.path.join(work, 'audio', job['split'], job['id'] + '.wav')
    if os.path.exists(out):
        return job['id'], None
    seed = int.from_bytes(job['id'].encode()[-8:].rjust(8, b'\0'), 'little') & 0xFFFFFFFF
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, 'raw.wav')
        try:
            if job['source'] == 'tts':
                tts(job, raw)
            elif job['speed'] != 1:
                subprocess.run(['sox', job['file'], raw, 'speed', str(job['speed'])], check=True, capture_output=True)
            else:
                raw = job['file']
            x, rate = read_wav(raw)
        except (subprocess.CalledProcessError, AssertionError, wave.Error) as err:
            return job['id'], f'{type(err).__name__}: {getattr(err, "stderr", b"") or err}'
    if x.size < rate * 0.3:
        return job['id'], f'too short ({x.size} samples)'
    peak = np.abs(x).max() or 1.0
    x = x / peak * 0.7 * 10 ** (job['gainDb'] / 20)
    if job.get('noise'):
        n = noise(job['noise']['type'], x.size, rate, rng)
        p_sig = np.mean(x[np.abs(x) > 0.02 * np.abs(x).max()] ** 2)
        n *= np.sqrt(p_sig / 10 ** (job['noise']['snrDb'] / 10) / (np.mean(n ** 2) + 1e-12))
        x = x + n
    peak = np.abs(x).max()
    if peak > 0.99:
        x *= 0.99 / peak
    write_wav(out, x.astype(np.float32), rate)
    return job['id'], None


def manifests(work, jobs):
    out_dir = os.path.join(work, 'manifests')
    os.makedirs(out_dir, exist_ok=True)
    groups = {}
    for job in jobs:
        path = os.path.join(work, 'audio', job['split'], job['id'] + '.wav')
        if not os.path.exists(path):
            continue
        with wave.open(path, 'rb') as w:
            dur = w.getnframes() / w.getframerate()
        line = {'audio_filepath': os.path.relpath(path, out_dir), 'text': job['label'], 'duration': round(dur, 3),
                'speaker': job['speaker'], 'accent': job['accent']}
        groups.setdefault(f"{job['source']}-{job['split']}", []).append(line)
        if job['split'] == 'train':
            groups.setdefault('train', []).append(line)
    for name, lines in groups.items():
        with open(os.path.join(out_dir, name + '.jsonl'), 'w') as f:
            f.writelines(json.dumps(l) + '\n' for l in lines)
        print(f'{name}: {len(lines)} utterances, {sum(l["duration"] for l in lines) / 3600:.2f} h', flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--work', required=True)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--splits', default='train,dev,test',
                   help='comma-separated splits to synthesise (dev,test is enough to evaluate or tune a shipped model)')
    a = p.parse_args()
    wanted = set(a.splits.split(','))
    jobs = [j for j in (json.loads(l) for l in open(os.path.join(a.work, 'jobs.jsonl'))) if j['split'] in wanted]
    for split in ('train', 'dev', 'test'):
        os.makedirs(os.path.join(a.work, 'audio', split), exist_ok=True)
    t0, failed = time.time(), []
    with Pool(a.workers) as pool:
        for i, (jid, err) in enumerate(pool.imap_unordered(run_job, [(j, a.work) for j in jobs], chunksize=16)):
            if err:
                failed.append((jid, err))
            if (i + 1) % 1000 == 0:
                el = time.time() - t0
                print(f'{i + 1}/{len(jobs)} jobs, {el:.0f} s, ETA {el / (i + 1) * (len(jobs) - i - 1):.0f} s', flush=True)
    for jid, err in failed[:10]:
        print(f'failed: {jid}: {err}', file=sys.stderr)
    print(f'{len(failed)} jobs failed', flush=True)
    manifests(a.work, jobs)


if __name__ == '__main__':
    main()
