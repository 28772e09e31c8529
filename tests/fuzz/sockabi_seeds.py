#!/usr/bin/env python3
"""sockabi_seeds.py DIR - writes seed inputs for wb-fuzz-sockabi: a few
well-formed call sequences (getaddrinfo with a whole chain, a TCP listener
and its addresses, a UDP round trip on 127.0.0.1, socket options), from
which the fuzzer mutates pointers, lengths and flags.

Input format (fuzz_sockabi.c): u16 image length, the memory image, then
calls of one function byte and eight little-endian u32 arguments."""
import os
import struct
import sys

F = dict(open=0, bind=1, connect=2, listen=3, accept=4, accept_v1=5, recv=6,
         recv_from_v1=7, recv_from_v2=8, send=9, send_to=10, shutdown=11,
         local_v1=12, local_v2=13, peer_v1=14, peer_v2=15, getsockopt=16,
         setsockopt=17, getaddrinfo=18, close=19, fdstat=20)


def seed(image, calls):
    out = struct.pack("<H", len(image)) + bytes(image)
    for name, *args in calls:
        args = list(args) + [0] * (8 - len(args))
        out += bytes([F[name]]) + struct.pack("<8I", *args)
    return out


def put(mem, at, data):
    mem[at:at + len(data)] = data


def gai_seed():
    mem = bytearray(4096)
    put(mem, 16, b"127.0.0.1\0")
    put(mem, 32, b"8080\0")
    # hints at 64: flags 0, family INET4, STREAM
    put(mem, 64, struct.pack("<HBB", 0, 1, 2))
    # chain of 2 nodes at 256 and 300; sockaddrs at 400, 420; data 512, 544;
    # canonname 600 (16 bytes)
    put(mem, 256, struct.pack("<HBBB3xIIIII", 0, 0, 0, 0, 0, 400, 600, 16, 300))
    put(mem, 300, struct.pack("<HBBB3xIIIII", 0, 0, 0, 0, 0, 420, 600, 0, 0))
    put(mem, 400, struct.pack("<B3xII", 0, 26, 512))
    put(mem, 420, struct.pack("<B3xII", 0, 14, 544))
    put(mem, 700, struct.pack("<I", 256))  # res -> first node
    return seed(mem, [("getaddrinfo", 16, 10, 32, 5, 64, 700, 2, 704)])


def gai_canon_seed():
    """The same with AI_CANONNAME, one node, its buffers next to it."""
    mem = bytearray(1024)
    put(mem, 16, b"10.1.2.3\0")
    put(mem, 32, b"http\0")
    put(mem, 64, struct.pack("<HBB", 2, 1, 2))
    put(mem, 256, struct.pack("<HBBB3xIIIII", 0, 0, 0, 0, 0, 284, 320, 32, 0))
    put(mem, 284, struct.pack("<B3xII", 0, 14, 296))
    put(mem, 700, struct.pack("<I", 256))
    return seed(mem, [("getaddrinfo", 16, 9, 32, 5, 64, 700, 1, 704)])


def tcp_seed():
    mem = bytearray(512)
    put(mem, 0, bytes([127, 0, 0, 1]))
    put(mem, 8, struct.pack("<II", 0, 4))        # address struct -> 4 bytes
    put(mem, 16, struct.pack("<II", 128, 128))   # 128-byte buffer at 128
    put(mem, 24, struct.pack("<II", 300, 16))    # 16-byte buffer at 300
    put(mem, 92, struct.pack("<I", 4))           # getsockopt length
    return seed(mem, [
        ("open", 1, 2, 64),                      # fd -> [64]
        ("bind", 3, 8, 0),                       # fd 3 (after the 3 std slots)
        ("listen", 3, 8),
        ("local_v2", 3, 16, 68),
        ("local_v1", 3, 24, 72, 76),
        ("open", 1, 2, 80),
        ("connect", 4, 8, 0),
        ("accept_v1", 3, 84),
        ("peer_v1", 5, 24, 72, 76),
        ("getsockopt", 4, 0, 2, 88, 92),
        ("shutdown", 4, 3),
        ("close", 4),
    ])


def udp_seed():
    mem = bytearray(512)
    put(mem, 0, bytes([127, 0, 0, 1]))
    put(mem, 8, struct.pack("<II", 0, 4))
    put(mem, 16, struct.pack("<II", 128, 128))
    put(mem, 40, b"hello")
    put(mem, 48, struct.pack("<II", 40, 5))      # ciovec
    put(mem, 56, struct.pack("<II", 300, 64))    # iovec
    put(mem, 88, struct.pack("<i", 65536))       # SO_RCVBUF value
    put(mem, 92, struct.pack("<I", 16))          # getsockopt length (timeval)
    return seed(mem, [
        ("open", 1, 1, 64),
        ("bind", 3, 8, 0),
        ("open", 1, 1, 68),
        ("send_to", 4, 48, 1, 8, 0, 0, 72),
        ("recv_from_v2", 3, 56, 1, 16, 0, 76, 80, 84),
        ("recv_from_v1", 3, 56, 1, 8, 0, 80, 84),
        ("setsockopt", 3, 0, 6, 88, 4),
        ("getsockopt", 3, 0, 11, 96, 92),
    ])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in (("gai", gai_seed()), ("gai-canon", gai_canon_seed()),
                       ("tcp", tcp_seed()), ("udp", udp_seed())):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


main()
