# Copyright (c) mmrdd contributors. All rights reserved.
"""The summary figure of the toy main job (``work_dirs/demo/summary.png``).

Four panels: mIoU per run, IoU per class and run (both on the held-out test
split), RDD's share of TSE-selected pixels (``rdd/tse_selected``) and every
run's task loss (the student's decode-head cross entropy) over the training
iterations, with the TFE -> TSE switch marked. The curves are read from the
runs' MMEngine ``scalars.json``.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np

from .train_runs import read_scalars

#: task-loss keys of a plain student run and of a distillation run
TASK_LOSS_KEYS = ('decode.loss_ce', 'student.decode.loss_ce')


def _series(records: Sequence[Dict], key: str):
    """(steps, values) of ``key`` in MMEngine scalar records."""
    steps = [r['step'] for r in records if key in r]
    values = [r[key] for r in records if key in r]
    return np.asarray(steps), np.asarray(values, np.float64)


def task_loss_series(records: Sequence[Dict]):
    """(steps, values) of the student's decode-head task loss."""
    for key in TASK_LOSS_KEYS:
        steps, values = _series(records, key)
        if len(steps):
            return steps, values
    return np.zeros(0), np.zeros(0)


def plot_demo_summary(rows: List[Dict],
                      classes: Sequence[str],
                      run_dirs: Dict[str, str],
                      out_path: str,
                      switch_iter: Optional[int] = None,
                      rdd_name: str = 'RDD + pixel KD',
                      title: str = '') -> str:
    """Draw the summary figure and save it.

    Args:
        rows (list[dict]): Table rows: ``name``, ``mIoU``, ``per_class``.
        classes (Sequence[str]): Class names, in table order.
        run_dirs (dict[str, str]): Run name -> its MMEngine work directory
            (for the curves; runs without ``scalars.json`` are skipped).
        out_path (str): The PNG to write.
        switch_iter (int, optional): The TFE -> TSE switch, marked on the
            curves. Defaults to None.
        rdd_name (str): Run whose ``rdd/tse_selected`` is drawn.
        title (str): Figure title. Defaults to ''.

    Returns:
        str: ``out_path``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    names = [r['name'] for r in rows]
    colour = {n: colours[i % len(colours)] for i, n in enumerate(names)}

    ax = axes[0, 0]
    miou = [r['mIoU'] for r in rows]
    bars = ax.bar(range(len(rows)), miou, color=[colour[n] for n in names])
    for bar, value in zip(bars, miou):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            value + 0.5,
            f'{value:.2f}',
            ha='center',
            va='bottom',
            fontsize=9)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, fontsize=9)
    ax.set_ylabel('mIoU (%), test split')
    ax.set_ylim(0, max(100.0, max(miou) + 8))
    ax.set_title('mIoU per run')

    ax = axes[0, 1]
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(classes))
    for i, row in enumerate(rows):
        values = [row['per_class'][c] for c in classes]
        ax.bar(
            x + (i - (len(rows) - 1) / 2) * width,
            np.nan_to_num(values),
            width,
            label=row['name'],
            color=colour[row['name']])
    ax.set_xticks(x)
    ax.set_xticklabels(classes, rotation=30, fontsize=9)
    ax.set_ylabel('IoU (%), test split')
    ax.set_ylim(0, 100)
    ax.set_title('IoU per class')
    ax.legend(fontsize=8, ncol=2)

    ax = axes[1, 0]
    rdd_dir = run_dirs.get(rdd_name)
    records = read_scalars(rdd_dir) if rdd_dir else []
    steps, values = _series(records, 'rdd/tse_selected')
    if len(steps):
        ax.plot(
            steps,
            100 * values,
            color=colour.get(rdd_name, 'C3'),
            label=f'{rdd_name}: TSE-selected share')
    ax.set_xlabel('iteration')
    ax.set_ylabel('selected pixels (% of valid)')
    ax.set_title('RDD: pixels TSE selects (hard for exactly one model)')
    ax.set_ylim(bottom=0)

    ax_loss = axes[1, 1]
    for name in names:
        if name not in run_dirs:
            continue
        steps_l, loss = task_loss_series(read_scalars(run_dirs[name]))
        if len(steps_l):
            ax_loss.plot(
                steps_l, loss, label=name, color=colour[name], linewidth=1)
    ax_loss.set_xlabel('iteration')
    ax_loss.set_ylabel('student decode-head CE (as trained)')
    ax_loss.set_yscale('log')
    ax_loss.set_title(
        'task loss (RDD: TFE-weighted, then mean over the '
        'selected pixels)',
        fontsize=10)
    for axis in (ax, ax_loss):
        if switch_iter is not None:
            axis.axvline(
                switch_iter,
                color='k',
                linestyle='--',
                linewidth=1,
                label=f'TFE -> TSE at {switch_iter}')
        axis.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
    return out_path
