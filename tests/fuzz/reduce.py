#!/usr/bin/python3
"""reduce.py -- shrink a failing generated program while it still fails.

  reduce.py IN.nn OUT.nn CMD...

CMD FILE.nn must exit 0 when FILE.nn still shows the failure (programs.sh
--fails ORACLE does).  The reducer works on the shape of gen_program.py's
output: a model statement `hK = EXPR    # [shape] from SRC` is removed and
later uses of hK read SRC instead (a candidate that no longer type-checks
simply does not fail the same way, so it is dropped); then parameters and
functions nothing reads, and train-block extras (schedule, test source,
optimizer, epochs), go.  Greedy, one line at a time, until nothing more
can go or the budget of CMD runs is spent.  Exit 0 with OUT.nn written
when the input failed to begin with, 1 otherwise."""
import os
import re
import subprocess
import sys
import tempfile

BUDGET = 150
STMT = re.compile(r'^    (h\d+) = (.*?)    # \[.*\] from (\w+)$')


class Reducer:
    def __init__(self, cmd, workdir):
        self.cmd = cmd
        self.path = os.path.join(workdir, 'candidate.nn')
        self.runs = 0

    def fails(self, lines):
        if self.runs >= BUDGET:
            return False
        self.runs += 1
        with open(self.path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return subprocess.call(self.cmd + [self.path], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) == 0


def drop_statement(lines, i):
    """lines without statement i, its later uses renamed to its source."""
    m = STMT.match(lines[i])
    name, src = m.group(1), m.group(3)
    word = re.compile(r'\b%s\b' % name)
    out = lines[:i]
    for line in lines[i + 1:]:
        code, sep, note = line.partition('    # ')
        out.append(word.sub(src, code) + sep + word.sub(src, note))
    return out


def unused(lines, i):
    """Line i declares a parameter or function no other line names."""
    m = re.match(r'^\s*param (\w+):', lines[i]) or re.match(r'^fn (\w+)\(', lines[i])
    if not m:
        return False
    word = re.compile(r'\b%s\b' % m.group(1))
    return not any(word.search(l.partition('#')[0]) for j, l in enumerate(lines) if j != i)


def fn_span(lines, i):
    j = i
    while lines[j] != '}':
        j += 1
    return j + 1


def simplifications(lines):
    """Candidates, each a whole program, most promising first."""
    for i in reversed(range(len(lines))):
        if STMT.match(lines[i]):
            yield drop_statement(lines, i)
    for i in range(len(lines)):
        if unused(lines, i):
            end = fn_span(lines, i) + 1 if lines[i].startswith('fn ') else i + 1
            yield lines[:i] + lines[end:]
    train_edits = [
        (r'^    schedule = ', None), (r'^    data test = ', None), (r'^    report ', None),
        (r'^    optimizer = (?!sgd\(lr: 0.02\))', '    optimizer = sgd(lr: 0.02)'),
        (r'^    epochs [2-9]', '    epochs 1'),
        (r'^import layers$', None),
    ]
    for pat, repl in train_edits:
        for i, line in enumerate(lines):
            if re.match(pat, line):
                yield lines[:i] + ([repl] if repl else []) + lines[i + 1:]


def reduce(lines, r):
    changed = True
    while changed and r.runs < BUDGET:
        changed = False
        for cand in simplifications(lines):
            if cand != lines and r.fails(cand):
                lines, changed = cand, True
                break
    return lines


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    lines = open(argv[1]).read().splitlines()
    with tempfile.TemporaryDirectory() as d:
        r = Reducer(argv[3:], d)
        if not r.fails(lines):
            sys.stderr.write('reduce.py: %s does not fail to begin with\n' % argv[1])
            return 1
        lines = reduce(lines, r)
    with open(argv[2], 'w') as f:
        f.write('# reduced by reduce.py from %s (%d runs)\n' % (os.path.basename(argv[1]), r.runs))
        f.write('\n'.join(lines) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
