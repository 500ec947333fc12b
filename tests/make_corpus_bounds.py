#!/usr/bin/python3
# Inputs at the bounds of two readers' length fields, for tests/corpus/ (replayed
# by test_corpus, whose tests/corpus/expected.txt gives each one's status and
# whole message). safetensors: an 8-byte header length against the file size
# (exactly the size, 1 and 8 past it, 1 short of it, a file of 7 and of 8 bytes);
# .npy: the 2- or 4-byte header length against the file size (exact, 1 past,
# and files that end inside the length field).
# Run: /usr/bin/python3 tests/make_corpus_bounds.py
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(folder, name, data):
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


def st(header, hlen=None, tail=b""):
    h = header.encode()
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + tail


one = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
put("safetensors", "bound_7_bytes.bin", b"\x00" * 7)
put("safetensors", "bound_8_bytes.bin", struct.pack("<Q", 0))
put("safetensors", "bound_hlen_exact.safetensors", st('{"__metadata__":{"a":"b"}}'))
put("safetensors", "bound_hlen_1_past.safetensors", st('{"__metadata__":{"a":"b"}}', hlen=27))
put("safetensors", "bound_hlen_8_past.safetensors", st('{"__metadata__":{"a":"b"}}', hlen=34))
put("safetensors", "bound_data_1_short.safetensors", st(one, tail=b"\x00" * 3))
put("safetensors", "bound_data_exact.safetensors", st(one, tail=b"\x00\x00\x80\x3f"))
put("safetensors", "bound_data_1_over.safetensors", st(one, tail=b"\x00" * 5))


def npy(version, header, hl=None, data=b""):
    h = header.encode()
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h) if hl is None else hl) + h + data
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(h) if hl is None else hl) + h + data


d = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n"
put("npy", "bound_exact.npy", npy(1, d, data=struct.pack("<2d", 1.5, -2.0)))
put("npy", "bound_data_1_short.npy", npy(1, d, data=struct.pack("<2d", 1.5, -2.0)[:-1]))
put("npy", "bound_hlen_exact_no_data.npy", npy(1, d))
put("npy", "bound_hlen_1_past.npy", npy(1, d, hl=len(d) + 1))
put("npy", "bound_v1_9_bytes.npy", b"\x93NUMPY\x01\x00\x05")
put("npy", "bound_v2_11_bytes.npy", b"\x93NUMPY\x02\x00\x05\x00\x00")
put("npy", "bound_v2_hlen_exact.npy", npy(2, d, data=struct.pack("<2d", 1.5, -2.0)))
print("wrote the bound_* inputs into tests/corpus/safetensors and tests/corpus/npy")
