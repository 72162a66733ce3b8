#!/usr/bin/env python3
"""Mutates every scalar of the bundled configs and checks each error names
its file and field (issue 16: "errors for configs must name file and field").

For each `name: value` line of data/clusters/*.txtpb, data/chips/{h100,a100}
and three models (dense, MoE, MLA), the value becomes nan, -1, 1e300 and
1e-300 (an enum becomes 99), one at a time, in a scratch copy of data/; the
built fleetsim then replays a 3-request trace on it (models: `catalog
models`). Prints each error none of whose lines names both the file and the
field, each absurd value (nan, -1, 1e300) accepted, and a summary.
Errors from protobuf's text-format parser ("Expected integer, got: nan")
name file:line:column instead of the field; they are counted, not listed.

Usage: bench/config_error_probe.py [BUILD_DIR]   (default build/; ~4 min)
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, 'build')
FLEETSIM = os.path.join(BUILD, 'fleetsim')
TRACE = os.path.join(REPO, 'data/traces/splitwise_test_trace.csv')
LINE = re.compile(r'^(\s*)(\w+)(\s*:\s*)([-+0-9.eE]+|[A-Z][A-Z0-9_]+)(\s*(#.*)?)$')
PARSER = re.compile(r':\d+:\d+: (Expected|Unknown enumeration|Integer out)')


def mutations(value):
    return ['99'] if value[0].isupper() else ['nan', '-1', '1e300', '1e-300']


def probe(scratch, relative, args):
    """Yields (file, line, field, value, rc, first error line)."""
    data = os.path.join(scratch, 'data')
    if os.path.exists(data):
        shutil.rmtree(data)
    shutil.copytree(os.path.join(REPO, 'data'), data,
                    ignore=shutil.ignore_patterns('calibration', 'traces'))
    target = os.path.join(data, relative)
    lines = open(target).read().split('\n')
    for i, line in enumerate(lines):
        m = LINE.match(line)
        if not m:
            continue
        for value in mutations(m.group(4)):
            mutated = lines[:]
            mutated[i] = m.group(1) + m.group(2) + m.group(3) + value + m.group(5)
            with open(target, 'w') as f:
                f.write('\n'.join(mutated))
            run = subprocess.run([FLEETSIM] + args(target) + ['--data-dir', data],
                                 capture_output=True, text=True, timeout=120)
            out = (run.stdout + run.stderr).strip().split('\n')
            yield relative, i + 1, m.group(2), value, run.returncode, out
    with open(target, 'w') as f:
        f.write('\n'.join(lines))


def main():
    def replay(extra):
        return lambda t: ['replay', '--cluster', t, '--model', 'llama-2-7b',
                          '--trace', TRACE, '--max-requests', '3'] + extra
    default = os.path.join(REPO, 'data/clusters/default.txtpb')
    jobs = []
    for path in sorted(glob.glob(os.path.join(REPO, 'data/clusters/*.txtpb'))):
        name = os.path.basename(path)
        # SPAD's chips are priced by die cost only.
        extra = ['--cost-basis', 'die'] if name == 'spad.txtpb' else []
        jobs.append(('clusters/' + name, replay(extra)))
    for chip in ['h100', 'a100']:
        jobs.append(('chips/%s.txtpb' % chip,
                     lambda t: replay([])(default)))
    for model in ['llama-2-7b', 'mixtral-8x7b', 'deepseek-v3']:
        jobs.append(('models/%s.txtpb' % model, lambda t: ['catalog', 'models']))
    counts = {'mutations': 0, 'errors': 0, 'parser errors': 0,
              'unnamed errors': 0, 'absurd values accepted': 0}
    with tempfile.TemporaryDirectory() as scratch:
        for relative, args in jobs:
            for f, line, field, value, rc, out in probe(scratch, relative, args):
                counts['mutations'] += 1
                where = '%s:%d %s=%s' % (f, line, field, value)
                if rc == 0:
                    if value in ('nan', '-1', '1e300'):
                        counts['absurd values accepted'] += 1
                        print('accepted  ', where)
                    continue
                counts['errors'] += 1
                if PARSER.search(out[0]):
                    counts['parser errors'] += 1
                elif not any(os.path.basename(f) in l and field in l
                             for l in out):
                    counts['unnamed errors'] += 1
                    print('unnamed   ', where, '::', out[0][:200])
    print(', '.join('%s %d' % kv for kv in counts.items()))


if __name__ == '__main__':
    main()
