"""Draws docs/bench.png from bench/results.json (run by bench/run.py under target/bench-venv).

    python chart.py RESULTS_JSON OUT_PNG
"""

from __future__ import annotations

import json
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SDK_COLOR = "#9aa5b1"
ODP_COLOR = "#2f6fdf"


def label_bars(ax: Any, bars: Any, fmt: str) -> None:
    for b in bars:
        h = b.get_height()
        ax.annotate(format(h, fmt), (b.get_x() + b.get_width() / 2, h), ha="center", va="bottom",
                    fontsize=8, xytext=(0, 2), textcoords="offset points")


def main() -> None:
    results: dict[str, Any] = json.load(open(sys.argv[1]))
    s, m = results["summary"], results["machine"]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 5.2))

    # 1. Per call, peers: p50 bars, p99 as a marker.
    groups = ["Python", "Go"]
    sdk_p50 = [s["python"]["p50_us"]["sdk"], s["go"]["p50_ns"]["sdk"] / 1e3]
    odp_p50 = [s["python"]["p50_us"]["libodp"], s["go"]["p50_ns"]["libodp"] / 1e3]
    sdk_p99 = [s["python"]["p99_us"]["sdk"], s["go"]["p99_ns"]["sdk"] / 1e3]
    odp_p99 = [s["python"]["p99_us"]["libodp"], s["go"]["p99_ns"]["libodp"] / 1e3]
    x = range(len(groups))
    w = 0.38
    b1 = ax1.bar([i - w / 2 for i in x], sdk_p50, w, color=SDK_COLOR, label="Optimizely SDK p50")
    b2 = ax1.bar([i + w / 2 for i in x], odp_p50, w, color=ODP_COLOR, label="libodp binding p50")
    ax1.scatter([i - w / 2 for i in x], sdk_p99, marker="_", s=400, color="black", label="p99")
    ax1.scatter([i + w / 2 for i in x], odp_p99, marker="_", s=400, color="black")
    label_bars(ax1, b1, ".2f")
    label_bars(ax1, b2, ".2f")
    ax1.set_yscale("log")
    ax1.set_xticks(list(x), groups)
    ax1.set_ylabel("µs per send call (log)")
    ax1.set_title("Per call: SendOdpEvent / send_odp_event")
    ax1.legend(fontsize=8, loc="upper right")

    # 2. Delivered events/s.
    names = ["Python", "Go"]
    sdk_rate = [s["python"]["events_per_s"]["sdk"], s["go"]["events_per_s"]["sdk"]]
    odp_rate = [s["python"]["events_per_s"]["libodp"], s["go"]["events_per_s"]["libodp"]]
    x2 = list(range(len(names)))
    b3 = ax2.bar([i - w / 2 for i in x2], sdk_rate, w, color=SDK_COLOR, label="Optimizely SDK")
    b4 = ax2.bar([i + w / 2 for i in x2], odp_rate, w, color=ODP_COLOR, label="libodp binding")
    c_names = [f"C batch {b}" for b in (10, 100)]
    c_rate = [s["c"]["throughput_batch_10"]["events_per_s"], s["c"]["throughput_batch_100"]["events_per_s"]]
    b5 = ax2.bar([len(names) + i for i in range(2)], c_rate, w * 1.4, color=ODP_COLOR)
    for bars in (b3, b4, b5):
        label_bars(ax2, bars, ",.0f")
    ax2.set_yscale("log")
    ax2.set_xticks(x2 + [len(names) + i for i in range(2)], names + c_names)
    ax2.set_ylabel("events/s delivered to the collector (log)")
    ax2.set_title("Delivered events/s (batch 10 unless noted)")
    ax2.legend(fontsize=8, loc="upper left")

    # 3. C enqueue latency, 1 and 2 threads.
    c1, c2 = s["c"]["enqueue_1_thread"], s["c"]["enqueue_2_thread"]
    keys = ["p50_ns", "p99_ns", "mean_ns"]
    x3 = list(range(len(keys)))
    b6 = ax3.bar([i - w / 2 for i in x3], [c1[k] for k in keys], w, color=ODP_COLOR, label="1 thread")
    b7 = ax3.bar([i + w / 2 for i in x3], [c2[k] for k in keys], w, color="#7fa8ef", label="2 threads")
    label_bars(ax3, b6, ",.0f")
    label_bars(ax3, b7, ",.0f")
    ax3.axhline(1000, color="#c33", lw=0.8, ls="--")
    ax3.axhline(10000, color="#c33", lw=0.8, ls=":")
    ax3.set_yscale("log")
    ax3.set_xticks(x3, ["p50", "p99", "mean"])
    ax3.set_ylabel("ns per odp_send_event (log)")
    mem = s["c"]["memory"]
    ax3.set_title("C enqueue (targets: p50 ≤ 1 µs, p99 ≤ 10 µs)")
    ax3.legend(fontsize=8, loc="upper left")
    ax3.text(0.02, -0.16, f"memory: {mem['bytes_per_queued_event']:.0f} B per queued event; idle "
             f"client +{mem['idle_client_delta_bytes'] / 1024:.0f} KiB", transform=ax3.transAxes,
             fontsize=8)

    fig.suptitle(f"libodp vs the Optimizely SDKs — medians of {results['runs']} runs; {m['cpu']}, "
                 f"{m['cores']} cores, {m['kernel']}; {m['date'][:10]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
