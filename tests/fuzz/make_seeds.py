#!/usr/bin/env python3
"""Regenerates the seed corpora in tests/fuzz/corpus/<target>/ from tests/data and a few
handmade inputs. Each seed starts with the selector byte its fuzzer dispatches on (see the
comment at the top of each fuzz_*.cpp). Run from anywhere: python3 tests/fuzz/make_seeds.py"""

import glob
import hashlib
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data')
CORPUS = os.path.join(HERE, 'corpus')
MAX_SEED = 4096  # keep seeds small

WIRE_SELECTOR = {
    'IntrospectToken': 0, 'ListKernels': 1, 'GetKernelSessionStatus': 2,
    'ListKernelSessionOutput': 3, 'GetKernel': 4, 'SaveKernel': 5,
    'GetAcceleratorQuotaStatistics': 6, 'StartBlobUpload': 7, 'CreateDataset': 8,
    'GetDatasetStatus': 9, 'errorFromResponse': 10,
}


def sel(n):
    return bytes([ord('0') + n])


def write(target, name, data):
    if len(data) > MAX_SEED:
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def wire():
    for path in sorted(glob.glob(os.path.join(DATA, 'wire', '*.json'))):
        case = json.load(open(path, encoding='utf-8'))
        if 'bodyText' in case:
            body = case['bodyText'].encode('utf-8')
        elif 'body' in case:
            body = json.dumps(case['body'], separators=(',', ':')).encode('utf-8')
        else:
            body = b''
        name = os.path.splitext(os.path.basename(path))[0]
        s = WIRE_SELECTOR[case['call']]
        if s == 10:
            head = struct.pack('>H', int(case.get('httpStatus', 500)))
            ct = (case.get('contentType') or '').encode()
            ra = (case.get('retryAfter') or '').encode()
            write('fuzz_wire', name, sel(10) + head + ct + b'\n' + ra + b'\n' + body)
        else:
            write('fuzz_wire', name, sel(s) + body)
    # Scalar parsers.
    for i, text in enumerate([b'KERNEL_WORKER_STATUS_COMPLETE', b'cancelAcknowledged',
                              b'151.500s', b'3600s', b'2026-11-27T21:25:00.123456789Z',
                              b'2024-01-01T00:00:00+02:00', b'Wed, 21 Oct 2015 07:28:00 GMT',
                              b'120', b'-5', b'99999999999999999999']):
        write('fuzz_wire', 'scalar_%d' % i, sel(11) + text)


def logformat():
    logs = os.path.join(DATA, 'logs')
    layout = open(os.path.join(logs, 'kaggle_layout.log'), 'rb').read()
    sse = open(os.path.join(logs, 'sse_stream.txt'), 'rb').read()
    write('fuzz_logformat', 'array_layout', b'0' + layout)
    write('fuzz_logformat', 'array_truncated', b'0' + layout[:len(layout) * 2 // 3])
    write('fuzz_logformat', 'array_empty', b'0')
    write('fuzz_logformat', 'array_garbage', b'0[1,"x",{"stream_name":"stdout"},{"data":}\n,'
          b'{"stream_name":"stdout","time":1e400,"data":"\\ud800"}]')
    write('fuzz_logformat', 'array_bom', b'0\xef\xbb\xbf[{"stream_name":"stdout","time":0,'
          b'"data":"a\\u0000b"}]')
    write('fuzz_logformat', 'sse_chunk1', b'1' + sse)    # '1' = 49: chunks of 25 bytes
    write('fuzz_logformat', 'sse_chunk_small', b'\x01' + sse)  # chunks of 1 byte
    write('fuzz_logformat', 'sse_crlf', b'\x07data: {"stream_name":"stdout","time":1,'
          b'"data":"x"}\r\n\r\ndata: not json\r\ndata:END_OF_LOG\r\n')


def metrics():
    tqdm = open(os.path.join(DATA, 'logs', 'terminal_tqdm_nested.stderr'), 'rb').read()
    write('fuzz_metrics', 'tqdm_nested', b'\x03' + tqdm)  # odd: through TerminalLog, 1 char
    write('fuzz_metrics', 'tqdm_nested_chunks', b'\x7f' + tqdm)  # 32-char chunks, 2 streams
    lines = '\n'.join([
        "{'loss': 0.41, 'grad_norm': 1.2, 'learning_rate': 2e-05, 'epoch': 1.0}",
        "{'loss': nan, 'note': 'skip, me', 'grad_norm': inf, 'epoch': 0.5}",
        '{"train/loss": 0.7, "global_step": 30}',
        ' 12/500 [>.............................] - ETA: 1:02 - loss: 2.3026 - accuracy: 0.1016',
        'Epoch 2/10',
        '500/500 [==============================] - 12s 24ms/step - loss: 0.1234 - val_loss: 0.2',
        ' 45%|\u2588\u2588\u2588\u2588\u258c     | 450/1000 [00:30<00:37, 14.90it/s, loss=0.412]',
        'epoch=2 step=10/100 loss=0.4321 lr=2.00e-05',
        'Step 100 | train/loss: 0.35 | val/acc: 0.8',
        '2024-05-01 12:30:01,123 INFO trainer: epoch: 3, loss: 1.25e-1',
        '  Total optimization steps = 1,500',
    ]).encode('utf-8')
    write('fuzz_metrics', 'lines', b'\x00' + lines)
    write('fuzz_metrics', 'lines_terminal', b'\x05' + lines)
    write('fuzz_metrics', 'ansi', b'\x09\x1b[1;31mred\x1b[0m loss=1\r\x1b[2K\x1b[38;5;200mx'
          b'\x1b[38;2;1;2;3my\x1b]0;title\x07z\x08\x08 q\n\x1b[3A\x1b[B up\n')


def metadata():
    md = os.path.join(DATA, 'metadata')
    script = json.load(open(os.path.join(md, 'script_kernel', 'kernel-metadata.json')))
    script['code_file'] = 'code.py'
    code = open(os.path.join(md, 'script_kernel', 'train.py'), 'rb').read()
    write('fuzz_metadata', 'kernel_script', b'0' + json.dumps(script, indent=1).encode() +
          b'\0' + code)
    nb = json.load(open(os.path.join(md, 'notebook_kernel', 'kernel-metadata.json')))
    nb['code_file'] = 'code.ipynb'
    notebook = open(os.path.join(md, 'notebook_kernel', 'analysis.ipynb'), 'rb').read()
    write('fuzz_metadata', 'kernel_notebook', b'0' + json.dumps(nb, indent=1).encode() + b'\0' +
          notebook)
    write('fuzz_metadata', 'kernel_notebook_small', b'0' + json.dumps(nb).encode() + b'\0' +
          b'{"cells":[{"cell_type":"code","source":["print(1)\\n","x"],"outputs":[1],'
          b'"execution_count":3},{"cell_type":"markdown","source":"# t"}],"metadata":{},'
          b'"nbformat":4,"nbformat_minor":5}')
    write('fuzz_metadata', 'kernel_bad_bool', b'0{"id":"a/bbbbbb","code_file":"code.py",'
          b'"language":"python","kernel_type":"script","is_private":"maybe"}\0x')
    write('fuzz_metadata', 'dataset', b'1' +
          open(os.path.join(md, 'dataset', 'dataset-metadata.json'), 'rb').read())
    write('fuzz_metadata', 'dataset_placeholder', b'1{"title":"INSERT_TITLE_HERE","id":'
          b'"me/INSERT_SLUG_HERE","licenses":[{"name":"CC0-1.0"}]}')
    write('fuzz_metadata', 'dataset_legacy', b'2' +
          open(os.path.join(md, 'dataset_legacy', 'datapackage.json'), 'rb').read())


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    wire()
    logformat()
    metrics()
    metadata()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print('%-16s %3d seeds, %6d bytes' % (t, len(files), size))


if __name__ == '__main__':
    main()
