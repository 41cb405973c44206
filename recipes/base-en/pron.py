"""cmudict pronunciations for phone-CTC targets (Debian's pocketsphinx-en-us ships the dictionary).

Words map to ARPAbet phones without stress marks; alternative pronunciations (`word(2)`) are kept in
order, the first is the training target.
"""
import os

CMUDICT = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict'


def load_cmudict(path=CMUDICT):
    if not os.path.exists(path):
        raise SystemExit(f'{path}: not found (apt-get install pocketsphinx-en-us)')
    lex = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            word = parts[0].split('(')[0]
            phones = [''.join(c for c in p if not c.isdigit()) for p in parts[1:]]
            lex.setdefault(word, []).append(phones)
    return lex


def phone_targets(text, lex):
    """'the cat' -> ['DH', 'AH', ' ', 'K', 'AE', 'T'], or None when a word has no pronunciation."""
    out = []
    for w in text.split():
        prons = lex.get(w)
        if not prons:
            return None
        if out:
            out.append(' ')
        out.extend(prons[0])
    return out
