"""Backward through a chain of 1e3, 1e4 and 1e5 ops: time per node must stay flat, memory linear.

y = x, then y = y * 1.0001 + 0.5 repeated (two nodes per step); backward from the end. The
engine walks the graph with an explicit stack, so depth is no problem; what is measured is
that the walk costs the same per node however long the chain, and what the graph holds.
"""

import gc
import statistics
import time
import tracemalloc

import harness  # first: pins BLAS threads before NumPy loads
import numpy as np

import tinygrad_es as tg

PER_NODE_FLATNESS = 1.5  # slowest time per node / fastest, across the chain lengths
LARGEST_UNDER_S = 1.0  # backward through the 1e5-node chain


def build(nodes):
    x = tg.Tensor(np.ones(8, np.float32), requires_grad=True)
    y = x
    for _ in range(nodes // 2):
        y = y * 1.0001 + 0.5
    return x, y


def backward_time(nodes, repeats):
    times = []
    for _ in range(repeats + 1):  # the first is a warm-up
        x, y = build(nodes)
        gc.collect()
        start = time.perf_counter()
        y.sum().backward()
        times.append(time.perf_counter() - start)
        expected = 1.0001 ** (nodes // 2)
        assert abs(x.grad.data[0] - expected) < 1e-3 * expected, (x.grad.data[0], expected)
    return statistics.median(times[1:])


def peak_graph_bytes(nodes):
    """Peak traced memory while building the chain and running backward through it."""
    gc.collect()
    tracemalloc.start()
    _, y = build(nodes)
    y.sum().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main(argv=None):
    args = harness.parse_args(__doc__.splitlines()[0], argv)
    sizes, repeats = ([1_000, 10_000], 1) if args.quick else ([1_000, 10_000, 100_000], 5)
    rows, per_node = [], []
    for nodes in sizes:
        seconds = backward_time(nodes, repeats)
        per_node.append(seconds / nodes)
        rows.append(harness.row("deep_chain", f"{nodes:,} nodes: backward time per node", seconds / nodes * 1e6, "us"))
        rows.append(
            harness.row(
                "deep_chain",
                f"{nodes:,} nodes: peak memory per node (tracemalloc)",
                peak_graph_bytes(nodes) / nodes,
                "B",
            )
        )
    rows.append(
        harness.ratio_row(
            "deep_chain", "time per node: slowest / fastest", max(per_node) / min(per_node), PER_NODE_FLATNESS
        )
    )
    largest = sizes[-1]
    total = per_node[-1] * largest
    rows.append(
        harness.row(
            "deep_chain",
            f"backward through {largest:,} nodes",
            total,
            "s",
            f"< {LARGEST_UNDER_S:g} s",
            total < LARGEST_UNDER_S,
        )
    )
    return harness.report(rows, args)


if __name__ == "__main__":
    main()
