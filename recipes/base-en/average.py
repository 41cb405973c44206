"""Average the weights of several checkpoints of one run into one checkpoint (for export.py).

The checkpoints come from `train.py --keep-weights` (runs/<run>/weights/step-*.pt); --last N takes the
run's N latest. Late checkpoints of an annealed run sit near one minimum, and their mean is usually a
little better than any one of them. The conv model has LayerNorms only (no batch statistics), so
the mean of the weights is all there is to it. The result keeps the newest checkpoint's config, vocab
and state, plus `state['averaged']` (which steps went in).
Usage: /usr/bin/python3 recipes/base-en/average.py --run RUN_DIR --last 5 --out RUN_DIR/averaged.pt
       /usr/bin/python3 recipes/base-en/average.py --out OUT.pt A.pt B.pt ...
"""
import argparse
import glob
import os
import sys

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    p.add_argument('--run', help='a run folder: average the latest --last checkpoints of its weights/')
    p.add_argument('--last', type=int, default=5)
    p.add_argument('ckpts', nargs='*')
    a = p.parse_args()
    paths = list(a.ckpts)
    if a.run:
        kept = sorted(glob.glob(os.path.join(a.run, 'weights', 'step-*.pt')))
        if not kept:
            sys.exit(f'{a.run}: no weights/step-*.pt (train with --keep-weights)')
        paths += kept[-a.last:]
    if len(paths) < 2:
        sys.exit('average.py: needs at least 2 checkpoints')
    cks = [torch.load(path, map_location='cpu') for path in paths]
    for path, ck in zip(paths, cks):
        if ck['config'] != cks[0]['config'] or ck.get('vocab') != cks[0].get('vocab'):
            sys.exit(f'{path}: another model ({ck["config"]}) than {paths[0]} ({cks[0]["config"]})')
    mean = {k: sum(ck['model'][k].double() for ck in cks).div(len(cks)).to(v.dtype) for k, v in cks[0]['model'].items()}
    newest = max(cks, key=lambda ck: ck['state']['step'])
    state = dict(newest['state'])
    state['averaged'] = [{'step': ck['state']['step'], 'minutes': round(ck['state']['elapsed'] / 60, 1), **({'dev': ck['dev']} if 'dev' in ck else {})} for ck in cks]
    out = {'model': mean, 'state': state, 'config': newest['config'], 'vocab': newest.get('vocab')}
    torch.save(out, a.out + '.tmp')
    os.replace(a.out + '.tmp', a.out)
    print(f'averaged {len(cks)} checkpoints (steps {", ".join(str(x["step"]) for x in state["averaged"])}) -> {a.out}')


if __name__ == '__main__':
    main()
