"""Executes one notebook headless and exports it; the report runner (runner.ts) drives this.

usage: python execute_notebook.py IN.ipynb OUT.ipynb OUT.html --kernel NAME --timeout SECONDS

The timeout bounds the whole notebook: each cell may run for whatever time is left.

Prints one JSON object per line on stdout: {"event": "start", "cells": n}, {"event": "cell",
"index": i, "seconds": s} after each code cell, and last {"event": "done", "status": "ok" | "error",
...}. tslab reports a failing cell only through the execute reply's status (its message goes to
stderr), so a failed cell also gets an explicit error output that the HTML shows.
"""
import argparse
import json
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")


def has_math(nb):
    """Whether any markdown cell has TeX ($...$, $$...$$, \\(...\\), \\[...\\]) that needs MathJax."""
    pattern = re.compile(r"\$[^$\n]+\$|\\\(|\\\[")
    return any(c.cell_type == "markdown" and pattern.search(c.source) for c in nb.cells)


def emit(**event):
    print(json.dumps(event), flush=True)


def write_atomic(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def summary_line(stderr, err, kind):
    """The line that says what went wrong: tslab prints errors and type errors ("3:7 - ...") to stderr."""
    for line in stderr.splitlines():
        if re.match(r"^(\w*(Error|Exception)\b.*|\d+:\d+ - .*)$", line.strip()):
            return line.strip()
    if kind == "timeout":
        return str(err).strip().splitlines()[0]
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines[-1].strip() if lines else kind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("out_ipynb")
    ap.add_argument("out_html")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--timeout", type=int, required=True, help="seconds for the whole notebook")
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    emit(event="start", cells=len(code_cells))
    started = {}

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.monotonic()

    def on_cell_executed(cell, cell_index, execute_reply):
        seconds = time.monotonic() - started.get(cell_index, time.monotonic())
        emit(event="cell", index=code_cells.index(cell_index) + 1, seconds=round(seconds, 3))

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        allow_errors=False,
        record_timing=True,
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    result = {"status": "ok"}
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        failed = next((i for i in reversed(range(len(nb.cells))) if i in started), None)
        kind = {CellTimeoutError: "timeout", DeadKernelError: "dead kernel"}.get(type(err), "error")
        result = {"status": "error", "kind": kind}
        if failed is not None:
            cell = nb.cells[failed]
            result["cell"] = code_cells.index(failed) + 1
            result["source"] = cell.source
            result["stderr"] = "".join(
                o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr"
            )[-4000:]
            cell.outputs.append(
                nbformat.v4.new_output(
                    "error",
                    ename="CellFailed",
                    evalue=f"code cell {result['cell']} failed ({kind}); execution stopped here",
                    traceback=[],
                )
            )
        result["message"] = summary_line(result.get("stderr", ""), err, kind)
    result["seconds"] = round(time.monotonic() - t0, 3)

    write_atomic(args.out_ipynb, nbformat.writes(nb))
    html, _ = HTMLExporter(extra_template_basedirs=[TEMPLATES], template_name="convnext").from_notebook_node(
        nb,
        resources={
            "convnext_math": has_math(nb),
            "convnext_mode": os.environ.get("CONVNEXT_MODE", ""),
            "convnext_name": os.path.splitext(os.path.basename(args.out_ipynb))[0],
        },
    )
    write_atomic(args.out_html, html)
    emit(event="done", **result)


if __name__ == "__main__":
    sys.exit(main())
