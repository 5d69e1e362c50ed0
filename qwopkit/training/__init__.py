"""qwopkit.training: the learners put to work. Floor: applications.

- finetune.py, finetune_cli.py: a fine-tuning run (`qwop-finetune`), its run folder, resuming;
- pretrain_cli.py: `qwop-pretrain` (behaviour cloning is qwopkit.imitation.pretrain);
- eval_cli.py, watch.py: `qwop-eval`, and its runs replayed in Chromium;
- checkpoints.py, report.py: what a run leaves behind;
- ray_rollouts.py: ACER's rollouts on Ray workers (a qwopkit.rl.acer.SegmentSource).

It may import the algorithms (qwopkit.rl, qwopkit.imitation) and the library; nothing below
imports it. Commands print and exit here, never below.
"""
