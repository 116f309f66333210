#!/usr/bin/python3
"""A stand-in vLLM KV-event publisher for kvctl tail tests, written with pyzmq + msgpack only.

It encodes batches the way vLLM's msgspec does (not with our TypeScript encoder):
  * positional events with the class name first (vLLM v0.10 .. v0.2x, "era 2"), full length with nils;
  * the short v0.9 layout (5 fields for BlockStored);
  * map events tagged by "type" (vLLM v0.26+), defaults omitted;
  * block hashes as uint64 ints (incl. 2**64-1), negative ints, and 32-byte digests.
The batch is always positional [ts, events, dp_rank], frames [topic, seq as 8-byte BE, payload].

Usage: vllm_publisher.py TOPIC. Binds an XPUB on a random loopback port, prints the port, waits
until a subscriber has subscribed (XPUB delivers the subscription, so no sleep is needed), sends
the batches plus one undecodable payload, then exits.
"""
import struct
import sys

import msgpack
import zmq

DIGEST_A = bytes(range(32))           # last 8 bytes: 18..1f
DIGEST_B = bytes([0xFF] * 24) + bytes([0x80, 0, 0, 0, 0, 0, 0, 5])


def batches():
    positional = [
        "BlockStored", [2**64 - 1, 2**63 + 5, 7], None, list(range(1, 13)), 4, None, "GPU", None, None, 0,
        "full_attention", None,
    ]
    short_v09 = ["BlockStored", [-1], 7, [101, 102, 103, 104], 4]
    removed = ["BlockRemoved", [2**63 + 5], "GPU", 0]
    as_map = {
        "type": "BlockStored", "block_hashes": [DIGEST_A, DIGEST_B], "parent_block_hash": DIGEST_A,
        "token_ids": [9, 8, 7, 6, 5, 4, 3, 2], "block_size": 4, "lora_id": None, "medium": "CPU",
        "lora_name": "adapter-1", "group_idx": 0,
    }
    unknown = ["SomethingNew", 1, 2]
    cleared = ["AllBlocksCleared"]
    yield [1789095808.5, [positional, short_v09], 0]
    yield [1789095808.6, [removed, unknown, as_map], 0]
    yield [1789095808.7, [{"type": "AllBlocksCleared"}, cleared], None]


def main():
    topic = sys.argv[1].encode()
    ctx = zmq.Context()
    pub = ctx.socket(zmq.XPUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    print(port, flush=True)
    if not pub.poll(30_000):
        sys.exit("no subscriber within 30 s")
    pub.recv()  # the subscription message
    seq = 0
    for batch in batches():
        pub.send_multipart([topic, struct.pack(">Q", seq), msgpack.packb(batch, use_bin_type=True)])
        seq += 1
    pub.send_multipart([topic, struct.pack(">Q", seq), b"\xc1 not msgpack"])
    pub.send_multipart([topic, struct.pack(">Q", seq + 1), msgpack.packb([1.0, [["AllBlocksCleared"]], 0])])
    pub.close(linger=5_000)
    ctx.term()


if __name__ == "__main__":
    main()
