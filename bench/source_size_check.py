#!/usr/bin/env python3
"""Lists C++ files (.cc/.h/.cu) over 800 lines and functions over 150 lines
(the house limits: one concept per file; a longer function says why).
   bench/source_size_check.py [folder]   (exit 1 when something is listed)

Scopes are tracked by braces (comments, strings and char literals
stripped): a '{' directly inside a namespace or class whose preceding text
has a parameter list opens a function; its length runs from the first line
of that text (the signature) to the closing '}'. A long function passes
when a comment in the 8 lines above it says why ("long:" or "is long")."""
import os, re, sys

def strip(text):
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(')' + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:end])); i = end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (j - i - 1) + c); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)

def check(path, bad):
    raw = open(path, errors='replace').read()
    lines = raw.split('\n')
    if len(lines) - 1 > 800:
        print(f'{path}: {len(lines) - 1} lines'); bad.append(path)
    text = strip(raw)
    stack = []  # (kind, start_line)
    last = 0    # offset after the last ; { } at any level
    for i, c in enumerate(text):
        if c == '{':
            head = text[last:i]
            enclosing = stack[-1][0] if stack else 'namespace'
            kind = 'other'
            h = ' '.join(' '.join(l for l in head.split('\n')
                                  if not l.lstrip().startswith('#')).split())
            if enclosing in ('namespace', 'class'):
                if re.match(r'^(inline )?namespace\b', h) or h.startswith('extern "'):
                    kind = 'namespace'
                elif re.search(r'\b(class|struct|union|enum)\b', h) and '(' not in h.split('=')[0] and not re.search(r'\)\s*(const)?\s*$', h):
                    kind = 'class'
                elif '(' in h and not h.endswith('=') and not re.search(r'=\s*$', h):
                    kind = 'function'
            lead = len(head) - len(head.lstrip())
            body = head.lstrip().split('\n')
            while body and body[0].lstrip().startswith('#'):
                lead += len(body.pop(0)) + 1
                lead += len('\n'.join(body)) - len('\n'.join(body).lstrip())
                body = '\n'.join(body).lstrip().split('\n')
            first = text.count('\n', 0, last + lead)
            stack.append((kind, first))
            last = i + 1
        elif c == '}':
            kind, first = stack.pop() if stack else ('other', 0)
            if kind == 'function':
                end = text.count('\n', 0, i)
                n = end - first + 1
                if n > 150:
                    ctx = '\n'.join(lines[max(0, first - 8):first + 1])
                    ok = 'long:' in ctx or 'is long' in ctx
                    print(f'{path}:{first + 1}: function of {n} lines' +
                          (' (reason given)' if ok else ''))
                    if not ok: bad.append(path)
            last = i + 1
        elif c == ';':
            last = i + 1

root = sys.argv[1] if len(sys.argv) > 1 else '.'
bad = []
for d, dirs, files in os.walk(root):
    dirs[:] = sorted(x for x in dirs if not re.match(r'(build.*|\.git|third_party)$', x))
    for f in sorted(files):
        if f.endswith(('.cc', '.h', '.cu')):
            check(os.path.join(d, f), bad)
sys.exit(1 if bad else 0)
